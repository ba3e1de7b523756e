/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nospace.h - the drain on a full disk.  A write, datasync, preallocation or
 * index write that finds no room is not the end of klogd: it confirms no
 * more durability, the records wait in the kernel log (clients get FULL once
 * the window fills, never an overwrite: the kernel only reuses what was
 * truncated, and only durable records are), and the drain loop tries again
 * every second.  The health says so (status, metrics, sd_notify STATUS=);
 * the log says so once when it starts, once per NOSPACE_LOG_S while it
 * lasts, and once when the disk takes records again.
 */
#ifndef KLOGD_NOSPACE_H
#define KLOGD_NOSPACE_H

#include <stdbool.h>

#include "drain.h"

#define NOSPACE_RETRY_MS 1000
#define NOSPACE_LOG_S 60

/* Whether err, from klogd_drain_once on a log directory, is a full disk (ENOSPC, EDQUOT). */
bool klogd_nospace_err(int err);

/* klogd_drain_once failed with err, a full disk: health NOSPACE, logged as above. */
void klogd_nospace_failed(struct klogd_drain *d, int err, uint64_t now_ns);

/* klogd_drain_once succeeded: a full disk that was is over (health OK, one line). */
void klogd_nospace_over(struct klogd_drain *d, uint64_t now_ns);

#endif
