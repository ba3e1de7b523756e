/* SPDX-License-Identifier: GPL-2.0-only */
/* stats.h - the figures the benchmarks report over their rounds. */
#ifndef KLOG_BENCH_STATS_H
#define KLOG_BENCH_STATS_H

/* The most rounds a benchmark runs (--rounds). */
#define BENCH_MAX_ROUNDS 64

struct bench_stat {
	double median, min, max;
};

/* Median, min and max of v[0..n), 1 <= n <= BENCH_MAX_ROUNDS; v is left as it is. */
struct bench_stat bench_stat_of(const double *v, int n);

#endif
