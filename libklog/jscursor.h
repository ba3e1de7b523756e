/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * jscursor.h - a stream's messages in sequence order from a start sequence,
 * through an ordered consumer: one subscription delivers a range, where a
 * get per sequence would cost a round trip per record.  The stream sequence
 * of each message is checked against the one expected, so that a gap (a
 * message deleted, or purged while being read) is seen, never skipped.
 * Internal to libklog; functions return 0 or a negative errno value (as
 * klog_js_errno) with why in err.
 */
#ifndef KLOG_JSCURSOR_H
#define KLOG_JSCURSOR_H

#include "jstream.h"

struct klog_jscur {
	natsSubscription *sub;
	uint64_t next; /* the stream sequence expected next */
};

/* Start delivering c's stream from sequence from. */
int klog_jscur_open(struct klog_jscur *cur, struct klog_js *c, uint64_t from, char *err,
		    size_t errn);

/*
 * The next message, waiting up to timeout_ms: *msg (natsMsg_Destroy it) and
 * its stream sequence *seq, which is cur->next before the call unless
 * messages are missing (*seq above it).  RETURN VALUE: 0; -ETIMEDOUT if none
 * came; -EPROTO if one came out of order (below cur->next); else as
 * klog_js_errno.
 */
int klog_jscur_next(struct klog_jscur *cur, natsMsg **msg, uint64_t *seq, int64_t timeout_ms,
		    char *err, size_t errn);

void klog_jscur_close(struct klog_jscur *cur);

#endif /* KLOG_JSCURSOR_H */
