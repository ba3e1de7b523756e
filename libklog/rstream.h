/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rstream.h - what the stream reader (rstream.c) and the stream's verify
 * (jsverify.c) share: how long they wait for the cluster, and what a
 * failure of jstream.h's calls means to a reader (klog.h).  Internal.
 */
#ifndef KLOG_RSTREAM_H
#define KLOG_RSTREAM_H

/* The first connection, each request, and each message of a range wait this long. */
#define KLOG_RSTREAM_TIMEOUT_MS 5000

/* klog_reader_wait() on a stream looks this often. */
#define KLOG_RSTREAM_WAIT_MS 100

/*
 * The reader's error for err of a jstream.h call: -EHOSTUNREACH when no
 * server or stream leader answers (refused, timed out, disconnected, no
 * quorum), -ENOLINK when the stream does not exist (-ENOENT from
 * klog_js_connect() or klog_js_state()); others unchanged.
 */
int klog_rstream_errno(int err);

#endif /* KLOG_RSTREAM_H */
