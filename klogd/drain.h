/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * drain.h - move committed records from the kernel log to disk in LSN order:
 * stage a batch (while the one before is written), make it durable (one
 * datasync, or the stream's acknowledgements), then truncate the kernel log
 * and publish the durable LSN.
 */
#ifndef KLOGD_DRAIN_H
#define KLOGD_DRAIN_H

#include <stdint.h>

#include "health.h"
#include "kern.h"
#include "notify.h"
#include "prefetch.h"
#include "serve.h"
#include "store.h"

struct klogd_drain {
	struct klog_kern *k;
	struct klogd_store *s;       /* a log directory's writer, or a stream */
	struct klogd_notify *notify; /* DURABLE notices; NULL: none are sent */
	struct klogd_prefetch *prefetch; /* fetches entries ahead; NULL: this thread does */
	struct klogd_serve *serve;   /* told when durable_lsn moves; NULL: none */
	uint32_t batch;      /* most records per datasync */
	uint64_t records;    /* totals since start (relaxed atomics: stats.h): made durable, */
	uint64_t bytes;      /* payload bytes staged, */
	uint64_t commits;    /* batches made durable */
	uint64_t tombstones; /* records stored as tombstones: their bytes were damaged */
	uint64_t tomb_logged; /* tombstones logged in the current second, */
	uint64_t tomb_sec;    /* which began at this CLOCK_MONOTONIC second */
	uint64_t commit_end; /* LSN after the batch in flight (0: none), for commits */
	uint64_t commit_start_ns; /* CLOCK_MONOTONIC when it started: commit latency */
	int err;             /* found after records were published: for the next call */
	bool stalled;        /* the store waited and still has records pending */
	struct klogd_health health; /* kept by the drain loop; read by status and metrics */
	uint64_t nospace_logged; /* CLOCK_MONOTONIC ns of the last disk-full line (nospace.h) */
};

/*
 * Bring the kernel log and the disk to the same point after a start: records
 * the disk already holds are truncated from the kernel.
 * RETURN VALUE: 0; -ESTALE if the disk is behind what the kernel dropped.
 */
int klogd_drain_reconcile(struct klogd_drain *d);

/*
 * Stage up to d->batch committed records and commit them; with a backend
 * that writes asynchronously (uring), the previous batch's write and
 * datasync go on meanwhile, and a batch is left in flight at return when
 * more records are ready.  Records are published (truncated from the kernel
 * log, durable_lsn, DURABLE notices) only once their write and datasync are
 * over.  RETURN VALUE: records made durable by this call (0 when none was
 * ready and none in flight), or -errno from the disk or the kernel log,
 * after which the kernel keeps every record not on disk; records staged
 * stay staged for the next call.  A call that fails has published nothing:
 * an error found after records were published is returned by the next call.
 */
int klogd_drain_once(struct klogd_drain *d);

/*
 * After a klogd_drain_once that did not fail: health STORE_WAIT while the
 * store waits (klogd_store_waiting: a stream that cannot take records, which
 * stay in the kernel), OK again once it takes them.
 */
void klogd_drain_store_health(struct klogd_drain *d, uint64_t now_ns);

#endif
