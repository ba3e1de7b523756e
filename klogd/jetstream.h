/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * jetstream.h - the drain's store kept in a NATS JetStream stream
 * (store.h; the format in libklog/jstream.h; doc/design.md, "Replication").
 * Records are published in LSN order, many in flight, each expecting the
 * one before it as the stream's last sequence, so the stream holds every
 * LSN once, in order, whatever was sent twice.  A record is durable once
 * the stream acknowledged it: stored by a quorum of its replicas.
 */
#ifndef KLOGD_JETSTREAM_H
#define KLOGD_JETSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct klogd_js_opts {
	const char *urls;      /* "nats://h:p,nats://h2:p2" */
	const char *stream;
	int replicas;          /* 1, 3 or 5: of a stream created; an existing one must agree */
	uint32_t max_record;
	/* As klog_writer_opts (writer.h): the pinned log's id and durable end. */
	uint64_t log_id;
	uint64_t acked_lsn;
	bool refuse_empty;
	uint32_t inflight;     /* records held until acknowledged, a power of two */
	int64_t ack_wait_ms;   /* a publish not acknowledged in this time is made again */
};

/*
 * Connect, then find the stream (or create it, if missing and allowed) and
 * where it ends.  Nothing is published before the stream is known to be
 * opts's log with opts's settings.
 * RETURN VALUE: 0 with *s and info set; with err (errn bytes) saying why:
 * -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, -ENOTCONN, -EAGAIN when the
 * cluster or the stream cannot be reached or has no leader now (worth
 * retrying); -EINVAL if the stream exists with other settings; -EPROTO if
 * it is not a klog stream or its last message is not a record of its log;
 * -EXDEV if it is another log than opts->log_id; -ESTALE if it ends below
 * opts->acked_lsn, or is missing or empty with refuse_empty; -ENOMEM.
 */
int klogd_js_open(struct klogd_store **s, const struct klogd_js_opts *opts,
		  struct klogd_store_info *info, char *err, size_t errn);

/*
 * A store for a pinned kernel log while its stream cannot be reached: the
 * programs can be attached at once, and the kernel holds the records.
 * The store tries to reach the stream from commit_wait on (with a backoff,
 * saying what it waits for), stages nothing until it does, and then goes
 * on from where the stream ends, which must be opts->acked_lsn or later.
 * RETURN VALUE: 0 or -ENOMEM.
 */
int klogd_js_open_later(struct klogd_store **s, const struct klogd_js_opts *opts);

/* Is err one klogd_js_open may get past by trying again later? */
bool klogd_js_retryable(int err);

#endif
