/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * status.h - what klogd tells of itself while it runs: the state file
 * /run/klog/NAME.status (klogctl status reads it), the periodic stats line
 * (--stats-interval) and the metrics endpoint (--metrics, metrics.c).  The
 * drain loop calls klogd_status_tick; everything else happens here.
 */
#ifndef KLOGD_STATUS_H
#define KLOGD_STATUS_H

#include <stdint.h>

#include "drain.h"
#include "retain.h"
#include "logstatus.h"

struct klogd_status_cfg {
	const char *name;      /* --name */
	const char *backend;   /* the backend in use */
	const char *dir;       /* the log directory, or NULL */
	const char *stream;    /* the stream, or NULL */
	const struct klogd_retain_cfg *retain;
	uint64_t stats_interval_s; /* 0: no stats line */
	const char *metrics;   /* --metrics ADDR:PORT, or NULL */
};

struct klogd_status;

/*
 * Write the first state file and start the metrics endpoint, for the drain
 * d (its kernel log, counters and health).  RETURN VALUE: 0 or -errno
 * (logged).
 */
int klogd_status_start(struct klogd_status **st, const struct klogd_status_cfg *cfg,
		       const struct klogd_drain *d);

/*
 * From the drain loop, as often as it likes: about once a second (and at
 * once when the health changed) the state file is rewritten; each
 * stats_interval_s the stats line is logged.
 */
void klogd_status_tick(struct klogd_status *st);

/* Stop the metrics endpoint and remove the state file (a clean exit).  NULL: nothing. */
void klogd_status_stop(struct klogd_status *st);

/* What the state file says now (any thread), for the metrics endpoint. */
void klogd_status_daemon(struct klogd_status *st, struct klog_daemon_state *out);

/* The kernel side of the log, read now (any thread). */
int klogd_status_kern(struct klogd_status *st, struct klog_status_kern *out);

/* The log directory, or NULL with a stream. */
const char *klogd_status_dir(const struct klogd_status *st);

#endif
