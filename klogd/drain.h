/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * drain.h - move committed records from the kernel log to disk in LSN order:
 * stage a batch, make it durable with one datasync, then truncate the kernel
 * log and publish the durable LSN.
 */
#ifndef KLOGD_DRAIN_H
#define KLOGD_DRAIN_H

#include <stdint.h>

#include "kern.h"
#include "notify.h"
#include "writer.h"

struct klogd_drain {
	struct klog_kern *k;
	struct klog_writer *w;
	struct klogd_notify *notify; /* DURABLE notices; NULL: none are sent */
	uint32_t batch;      /* most records per datasync */
	uint64_t records;    /* totals since start */
	uint64_t bytes;
	uint64_t commits;
};

/*
 * Bring the kernel log and the disk to the same point after a start: records
 * the disk already holds are truncated from the kernel.
 * RETURN VALUE: 0; -ESTALE if the disk is behind what the kernel dropped.
 */
int klogd_drain_reconcile(struct klogd_drain *d);

/*
 * Drain up to d->batch committed records, then send the DURABLE notices of
 * those whose clients asked for one.  RETURN VALUE: records made durable
 * (0 when none was ready), or -errno from the disk, after which nothing new
 * is claimed durable and the kernel keeps every record not on disk.
 */
int klogd_drain_once(struct klogd_drain *d);

#endif
