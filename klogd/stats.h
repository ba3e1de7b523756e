/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stats.h - klogd's drain-side counters, beside the kernel's (klog_stats):
 * written by the drain thread, read by the metrics thread and the state
 * file, each with relaxed atomics (a figure may be a moment old, never torn).
 */
#ifndef KLOGD_STATS_H
#define KLOGD_STATS_H

#include <stdint.h>

/* Commit latency buckets, upper bounds in microseconds (Prometheus "le"). */
#define KLOGD_HIST_BOUNDS_US { 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, \
			       100000, 250000, 500000, 1000000 }
#define KLOGD_HIST_BUCKETS 13

struct klogd_hist {
	uint64_t bucket[KLOGD_HIST_BUCKETS]; /* observations <= bound i, not cumulative */
	uint64_t count;
	uint64_t sum_ns;
};

struct klogd_stats {
	uint64_t write_errors; /* the drain failed: a write, datasync, publish or kernel read */
	uint64_t publishes;    /* jetstream: records published (resyncs publish again) */
	struct klogd_hist commit; /* commit start until the drain saw it durable */
};

/* The process's one drain (klogd drains one log). */
extern struct klogd_stats klogd_stats;

static inline void klogd_count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline uint64_t klogd_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Count one observation of ns nanoseconds in h. */
void klogd_hist_observe(struct klogd_hist *h, uint64_t ns);

/* Bucket i's bound in seconds. */
double klogd_hist_bound(unsigned int i);

#endif
