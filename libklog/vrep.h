/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vrep.h - how klog_verify() (a directory, verify.c) and klog_verify_nats()
 * (a stream, jsverify.c) report a problem to the caller's callback, and
 * when they stop.  Internal to libklog.
 */
#ifndef KLOG_VREP_H
#define KLOG_VREP_H

#include <stdbool.h>
#include <stdint.h>

#include <klog/klog.h>

struct klog_vrep {
	unsigned int flags;
	klog_verify_fn fn;
	void *ctx;
	struct klog_verify_summary *sum;
	int ret;   /* what the verify returns so far */
	bool stop;
};

/*
 * Count a problem, set ret to -EBADMSG (or fn's non-zero return) and pass
 * it to fn: err, file (NULL: none), offset and LSN (UINT64_MAX: none), and
 * what is wrong.  RETURN VALUE: true when the check must stop.
 */
bool klog_vreport(struct klog_vrep *v, int err, const char *file, uint64_t off, uint64_t lsn,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Report the tombstone at lsn (file and offset as for a problem) to fn with
 * err -EILSEQ and count it in sum->tombstones: not a problem (the log is as
 * klogd meant to write it), but never passed over in silence.
 * RETURN VALUE: true when the check must stop (fn's non-zero return).
 */
bool klog_vtombstone(struct klog_vrep *v, const char *file, uint64_t off, uint64_t lsn);

#endif /* KLOG_VREP_H */
