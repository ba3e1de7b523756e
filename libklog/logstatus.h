/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * logstatus.h - what a running log looks like, gathered once for klogctl
 * status, klogd's metrics endpoint and its stats line: the kernel side from
 * the maps (pinned under KLOG_PIN_ROOT/NAME, or klogd's own), the files of
 * a log directory, and what only klogd knows, which it publishes in the
 * state file /run/klog/NAME.status (doc/klogd.md, "The state file").
 * Internal to klog; functions return 0 or -errno.
 */
#ifndef KLOG_LOGSTATUS_H
#define KLOG_LOGSTATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kern.h"

#define KLOG_RUN_DIR "/run/klog"

/* The kernel side of a log, from its maps. */
struct klog_status_kern {
	uint64_t next_lsn, durable_lsn, truncated_lsn, log_id;
	uint32_t window;
	uint64_t pool_blocks, pool_used; /* blocks; used: held by records not yet truncated */
	uint32_t block_size;
	uint64_t lag_records; /* next - durable: reserved, not durable yet */
	uint64_t lag_bytes;   /* pool_used * block_size: the memory those records hold */
	double window_fill;   /* (next - truncated) / window, 0..1 */
	double pool_fill;     /* pool_used / pool_blocks, 0..1 */
	struct klog_stats stats; /* summed over CPUs */
};

/*
 * Open the maps klogd pinned for log name that status reads (klog_ctl,
 * klog_stats, kerby_index and the pool): enough of k for klog_status_read.
 * RETURN VALUE: 0; -ENOENT if there are no such pins.
 */
int klog_status_open(struct klog_kern *k, const char *name);
void klog_status_close(struct klog_kern *k);

/* Read the kernel side of the log of k (klogd's own maps, or klog_status_open's). */
int klog_status_read(struct klog_kern *k, struct klog_status_kern *out);

/* The segment files of log directory dir: how many, and their bytes on disk (st_blocks). */
int klog_status_dir(const char *dir, uint64_t *segments, uint64_t *bytes);

/* The names of a struct klog_stats field group, with its Prometheus label. */
enum klog_stat_kind { KLOG_STAT_KIND_OTHER, KLOG_STAT_KIND_NACK, KLOG_STAT_KIND_DROP };

/*
 * Which group counter id belongs to (NACK by reason, drop by reason, else
 * its own), and the reason: the name after "nack_" or "drop_".
 */
enum klog_stat_kind klog_stat_kind(unsigned int id, const char **reason);

/*
 * What klogd publishes in its state file.  Times are CLOCK_REALTIME
 * seconds, so that another process can compare them with its clock.
 */
struct klog_daemon_state {
	uint64_t pid;
	double started;    /* klogd started */
	double updated;    /* this state was written (about once a second) */
	char backend[16];  /* uring, psync or jetstream */
	char dir[512];     /* the log directory, "" with a stream */
	char stream[80];   /* the stream, "" with a directory */
	char health[16];   /* ok, nospace, store_wait, stopping */
	char why[160];     /* the reason, "" when ok */
	double health_since;
	uint64_t durable_lsn;
	double progress_at; /* durable_lsn last advanced, or nothing waited to be drained */
	uint64_t commits, records, bytes, tombstones, write_errors, publishes;
	uint64_t retain_bytes, retain_age_s, retain_segments; /* 0: no limit */
	uint64_t stats_interval_s;
	char metrics[64];  /* --metrics ADDR:PORT, "" if none */
};

/* /run/klog/NAME.status into path (n bytes). */
void klog_state_path(char *path, size_t n, const char *name);

/* Write st as the state file's key=value lines. */
int klog_state_write(FILE *f, const struct klog_daemon_state *st);

/*
 * Read state file path into st (keys it does not know are skipped).
 * RETURN VALUE: 0; -ENOENT if there is none; -EBADMSG if it has no pid.
 */
int klog_state_read(const char *path, struct klog_daemon_state *st);

#endif /* KLOG_LOGSTATUS_H */
