// SPDX-License-Identifier: GPL-2.0-only
/*
 * rstream.c - a reader's records from a NATS JetStream stream (klog.h; the
 * stream source of rsrc.h; the stream's format is jstream.h's).
 *
 * A read by LSN is one request, JetStream's get from the stream's leader,
 * so a sequence the stream acknowledged to klogd is always found: only the
 * ack made it durable.  Only a miss asks the stream's state, to tell a
 * trimmed LSN from one not durable yet.  A range goes through one ordered
 * consumer (jscursor.c).  The connection is made at the first call that
 * needs it, not at open, so that every failure to reach the cluster comes
 * with klog_reader_strerror()'s detail; a call after one that failed tries
 * again.  klog_reader_wait() polls (rstream_wait()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jscursor.h"
#include "jstream.h"
#include "rsrc.h"
#include "rstream.h"

struct klog_rstream {
	struct klog_js c;
	char *urls;
	char stream[KLOG_JS_STREAM_MAX + 1];
	uint64_t log_id; /* from the description; 0 until read */
	natsMsg *held;   /* the message of the last lookup: its record's payload */
	char *msg;       /* the reader's: the last error's detail */
};

int klog_rstream_errno(int err)
{
	switch (err) {
	case -ECONNREFUSED:
	case -ETIMEDOUT:
	case -ENOTCONN:
	case -EAGAIN: /* JetStream's "cluster not available": no leader for now */
		return -EHOSTUNREACH;
	case -ENOENT:
		return -ENOLINK;
	default:
		return err;
	}
}

/* Set the detail of err in the reader's message, and return err. */
#define failf(s, err, ...) klog_rsrc_fail((s)->msg, err, __VA_ARGS__)

/* A failure of a jstream.h call, why its words: the reader's error, its detail with the URLs. */
static int js_fail(struct klog_rstream *s, int err, const char *why)
{
	return failf(s, klog_rstream_errno(err), "stream %s at %s: %s", s->stream, s->urls, why);
}

/* The stream's state now; the log id is taken from the first look. */
static int state(struct klog_rstream *s, struct klog_js_state *st)
{
	char why[KLOG_READER_MSG - 128];
	int err;

	if (!s->c.nc && (err = klog_js_connect(&s->c, s->urls, s->stream, KLOG_RSTREAM_TIMEOUT_MS,
					       0, why, sizeof(why)))) {
		size_t n = strlen(s->urls);
		bool named = !strncmp(why, s->urls, n) && why[n] == ':';

		/* klog_js_connect() starts with the URLs, which js_fail() gives already. */
		return js_fail(s, err, named ? why + n + 2 : why);
	}
	if ((err = klog_js_state(&s->c, st, why, sizeof(why))))
		return err == -EPROTO ? failf(s, err, "%s", why) : js_fail(s, err, why);
	s->log_id = st->log_id;
	return 0;
}

static void release(struct klog_rstream *s)
{
	if (s->held)
		natsMsg_Destroy(s->held);
	s->held = NULL;
}

static void rstream_close(void *src)
{
	struct klog_rstream *s = src;

	release(s);
	klog_js_close(&s->c);
	free(s->urls);
	free(s);
}

static int rstream_open(void **out, const char *urls, const void *name, char *msg)
{
	const char *stream = name;
	struct klog_rstream *s;
	int err;

	if ((err = klog_js_check_name(stream, msg, KLOG_READER_MSG)))
		return err;
	if (!(s = calloc(1, sizeof(*s))) || !(s->urls = strdup(urls))) {
		free(s);
		return -ENOMEM;
	}
	snprintf(s->stream, sizeof(s->stream), "%s", stream);
	s->msg = msg;
	*out = s;
	return 0;
}

static int rstream_bounds(void *src, uint64_t *first, uint64_t *last)
{
	struct klog_rstream *s = src;
	struct klog_js_state st;
	int err;

	s->msg[0] = 0;
	if ((err = state(s, &st)))
		return err;
	if (!st.msgs)
		return failf(s, -ENODATA, "stream %s: no durable record%s", s->stream,
			     st.first > 1 ? " (all purged)" : " yet");
	*first = st.first;
	*last = st.last;
	return 0;
}

/* Where lsn is in the stream of state st: -ENOENT trimmed, -EAGAIN not durable, -EEXIST in it. */
static int placed(struct klog_rstream *s, const struct klog_js_state *st, uint64_t lsn)
{
	if (lsn < st->first || !lsn)
		return failf(s, -ENOENT, "stream %s: sequence %" PRIu64
			     " is below its first, %" PRIu64, s->stream, lsn, st->first);
	if (lsn > st->last)
		return failf(s, -EAGAIN, "stream %s: its last sequence is %" PRIu64, s->stream,
			     st->last);
	return -EEXIST;
}

/* Why the stream has no message at lsn, as placed() tells from its state now. */
static int missing(struct klog_rstream *s, uint64_t lsn)
{
	struct klog_js_state st;
	int err = state(s, &st);

	return err ? err : placed(s, &st, lsn);
}

/* Decode msg as lsn's record; the reader's error for one that does not. */
static int decode(struct klog_rstream *s, natsMsg *m, uint64_t lsn, struct klog_rec *rec)
{
	char why[256];

	if (!klog_js_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), s->log_id, lsn,
			    rec, why, sizeof(why)))
		return 0;
	return failf(s, -EBADMSG, "stream %s sequence %" PRIu64 ": %s", s->stream, lsn, why);
}

static int rstream_lookup(void *src, uint64_t lsn, struct klog_rec *rec)
{
	struct klog_rstream *s = src;
	char why[KLOG_READER_MSG - 128];
	struct klog_js_state st;
	int err;

	s->msg[0] = 0;
	release(s);
	if (!s->log_id && (err = state(s, &st)))
		return err;
	/* A miss then a state that holds lsn: it was published in between; get it again. */
	for (int look = 0; look < 2; look++) {
		err = lsn ? klog_js_get(&s->c, lsn, &s->held, why, sizeof(why)) : -ENOENT;
		if (!err)
			return decode(s, s->held, lsn, rec);
		if (err != -ENOENT)
			return js_fail(s, err, why);
		if ((err = missing(s, lsn)) != -EEXIST)
			return err;
	}
	return failf(s, -ENOLINK, "stream %s: no message at sequence %" PRIu64
		     " inside its range (deleted)", s->stream, lsn);
}

/* Iterating: the consumer and the end of the range as far as the stream holds it. */
struct iter {
	struct klog_jscur cur;
	uint64_t end;
};

/* lsn's message from the consumer into *m; a gap before it is the reader's error. */
static int next_msg(struct klog_rstream *s, struct iter *it, uint64_t lsn, natsMsg **m)
{
	char why[KLOG_READER_MSG - 128];
	uint64_t seq = 0;
	int err = klog_jscur_next(&it->cur, m, &seq, KLOG_RSTREAM_TIMEOUT_MS, why, sizeof(why));

	if (err)
		return js_fail(s, err, why);
	if (seq == lsn)
		return 0;
	natsMsg_Destroy(*m);
	*m = NULL;
	if ((err = missing(s, lsn)) != -EEXIST && err != -EAGAIN)
		return err; /* trimmed under the consumer, or the cluster went away */
	return failf(s, -ENOLINK, "stream %s: no message at sequence %" PRIu64 ", the next is %"
		     PRIu64, s->stream, lsn, seq);
}

/* 1 if lsn is within the range and the stream as known, or as it is now (durable since); else 0. */
static int within(struct klog_rstream *s, struct iter *it, uint64_t lsn, uint64_t to)
{
	struct klog_js_state st;
	int err;

	if (lsn <= it->end)
		return 1;
	if ((err = state(s, &st)))
		return err;
	it->end = st.last < to ? st.last : to;
	return lsn <= it->end;
}

static int rstream_iterate(void *src, uint64_t from, uint64_t to, klog_iter_fn fn, void *ctx)
{
	struct klog_rstream *s = src;
	char why[KLOG_READER_MSG - 128];
	struct klog_js_state st;
	struct iter it;
	natsMsg *m = NULL;
	uint64_t lsn;
	int ret;

	s->msg[0] = 0;
	release(s);
	if (from > to)
		return 0;
	if ((ret = state(s, &st)))
		return ret;
	/* As klog_read of from would answer: trimmed is an error, not durable yet the end. */
	if ((ret = placed(s, &st, from)) != -EEXIST) {
		if (ret == -EAGAIN)
			s->msg[0] = 0;
		return ret == -EAGAIN ? 0 : ret;
	}
	it.end = st.last < to ? st.last : to;
	if ((ret = klog_jscur_open(&it.cur, &s->c, from, why, sizeof(why))))
		return js_fail(s, ret, why);
	for (lsn = from; (ret = within(s, &it, lsn, to)) > 0; lsn++) {
		struct klog_record meta;
		struct klog_rec rec;

		if ((ret = next_msg(s, &it, lsn, &m)) || (ret = decode(s, m, lsn, &rec)))
			break;
		meta = klog_rec_meta(&rec, lsn);
		ret = fn(&meta, klog_rec_payload(&rec), ctx);
		natsMsg_Destroy(m);
		m = NULL;
		if (ret || lsn == to)
			break;
	}
	if (m)
		natsMsg_Destroy(m);
	klog_jscur_close(&it.cur);
	return ret;
}

/* The id the stream's description names (read at the first look, else now). */
static int rstream_log_id(void *src, uint64_t *id)
{
	struct klog_rstream *s = src;
	struct klog_js_state st;
	int err;

	if (!s->log_id && (err = state(s, &st)))
		return err;
	*id = s->log_id;
	return 0;
}

/*
 * JetStream tells no one waiting on a stream when a message is stored, short
 * of a consumer per waiter: look every KLOG_RSTREAM_WAIT_MS instead (a get,
 * and on a miss the stream's state).
 */
static int rstream_wait(void *src, uint64_t lsn, int timeout_ms)
{
	struct klog_rstream *s = src;
	int err = klog_rsrc_poll(rstream_lookup, s, lsn, timeout_ms, KLOG_RSTREAM_WAIT_MS);

	release(s);
	if (err == -ETIMEDOUT)
		return failf(s, -ETIMEDOUT, "stream %s: LSN %" PRIu64 " not durable after %d ms",
			     s->stream, lsn, timeout_ms);
	return err;
}

static const struct klog_rsrc_ops rstream_ops = {
	.open = rstream_open,
	.close = rstream_close,
	.bounds = rstream_bounds,
	.lookup = rstream_lookup,
	.iterate = rstream_iterate,
	.log_id = rstream_log_id,
	.wait = rstream_wait,
};

int klog_reader_open_nats(struct klog_reader **r, const char *urls, const char *stream)
{
	return klog_reader_start(r, &rstream_ops, urls, stream);
}
