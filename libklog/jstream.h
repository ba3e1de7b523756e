/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * jstream.h - what klogd's jetstream store and libklog's stream reader share
 * about a log kept in a NATS JetStream stream (doc/design.md, "Replication"):
 * the connection, the stream's subject and description, and its settings.
 *
 *   - stream sequence == LSN: message n of the stream is the record of LSN n
 *     (KLOG_FIRST_LSN is 1, and so is a stream's first sequence);
 *   - each message's data is the record as a segment holds it (format.h:
 *     header, payload, padding), sealed with the log id as its salt;
 *   - the stream's description names the log id ("klog log <16 hex digits>").
 *
 * Internal to klog.  Functions return 0 or a negative errno value and, where
 * they take one, write what went wrong into err (errn bytes).
 */
#ifndef KLOG_JSTREAM_H
#define KLOG_JSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#define KLOG_JS_STREAM_MAX 64  /* longest stream name klog accepts */
#define KLOG_JS_SUBJECT_MAX (KLOG_JS_STREAM_MAX + 8)

/* A connection to the cluster and its JetStream context. */
struct klog_js {
	natsConnection *nc;
	jsCtx *js;
	char stream[KLOG_JS_STREAM_MAX + 1];
	char subject[KLOG_JS_SUBJECT_MAX]; /* "klog.<stream>" */
};

/*
 * Is name a stream name klog accepts (1..64 of [A-Za-z0-9_-])?
 * RETURN VALUE: 0 or -EINVAL, with why in err.
 */
int klog_js_check_name(const char *name, char *err, size_t errn);

/*
 * Connect to the servers in urls ("nats://h:p,nats://h2:p2"; "h:p" is
 * enough) for stream; each publish or request is written at once.
 * Reconnection is automatic and endless after that; a publish made while
 * disconnected is buffered (reconnect_buf bytes; 0: the library's
 * default).  timeout_ms bounds the first connection and each
 * request.
 * RETURN VALUE: 0; -EINVAL for a bad URL or stream name; -ECONNREFUSED,
 * -ETIMEDOUT (no server reachable); -ENOMEM; -EIO otherwise.
 */
int klog_js_connect(struct klog_js *c, const char *urls, const char *stream,
		    int64_t timeout_ms, int reconnect_buf, char *err, size_t errn);

/*
 * klog_js_connect, but what is published is buffered until a flush
 * (natsConnection_FlushTimeout: a PING) or the library's flusher (about
 * 1 ms later): for many publishes at once, one write instead of one each.
 */
int klog_js_connect_buffered(struct klog_js *c, const char *urls, const char *stream,
			     int64_t timeout_ms, int reconnect_buf, char *err, size_t errn);
void klog_js_close(struct klog_js *c);

/* A negative errno value for a NATS status (with the JetStream error code, 0 if none). */
int klog_js_errno(natsStatus s, jsErrCode jerr);

/* Write what s (and jerr) mean into err, after what: "what: text (code N)". */
void klog_js_strerror(natsStatus s, jsErrCode jerr, const char *what, char *err, size_t errn);

/* The stream description for log_id. */
void klog_js_describe(char *buf, size_t n, uint64_t log_id);
/* The log id in a stream description. RETURN VALUE: 0; -EPROTO if it is not a klog stream's. */
int klog_js_parse_description(const char *desc, uint64_t *log_id);

/*
 * The stream's state: its first and last sequence (LSN), and its log id
 * from the description.  RETURN VALUE: 0; -ENOENT if there is no such
 * stream; -EPROTO if it is not a klog stream; else as klog_js_errno.
 */
struct klog_js_state {
	uint64_t first, last; /* last 0: empty */
	uint64_t msgs;
	uint64_t log_id;
	int64_t replicas;
};
int klog_js_state(struct klog_js *c, struct klog_js_state *st, char *err, size_t errn);

/*
 * Get the message of stream sequence lsn (its data: a sealed record) from
 * the stream's leader, so a sequence it acknowledged is always found.
 * RETURN VALUE: 0 with *msg set (natsMsg_Destroy it); -ENOENT if the
 * stream has no message there; else as klog_js_errno.
 */
int klog_js_get(struct klog_js *c, uint64_t lsn, natsMsg **msg, char *err, size_t errn);

/*
 * Decode the data of a message (n bytes) as the record of lsn sealed with
 * log_id: all of it, no byte more or less (klog_rec_size() of its length).
 * RETURN VALUE: 0 with rec (its payload points into data); -EBADMSG with why
 * in why (wn bytes).
 */
struct klog_rec;
int klog_js_decode(const void *data, size_t n, uint64_t log_id, uint64_t lsn,
		   struct klog_rec *rec, char *why, size_t wn);

#endif /* KLOG_JSTREAM_H */
