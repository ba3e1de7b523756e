// SPDX-License-Identifier: GPL-2.0-only
/*
 * jsresync.c - after a failure, where the jetstream store's stream ends
 * (see jsstore.h): its last message checked against what klogd sent,
 * retries with a backoff, and what klogd waits for told, not too often.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jsstore.h"
#include "log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define NAG_NS 10000000000ull /* repeat "waiting for" lines this often */
#define RESYNC_GETS 256       /* messages compared per call */

/* May klogd say what it waits for now?  At once the first time, then every NAG_NS. */
static bool nag_now(struct js_store *s)
{
	uint64_t now = now_ns();

	if (now < s->nag_ns)
		return false;
	s->nag_ns = now + NAG_NS;
	s->waiting = true;
	return true;
}

void js_nag(struct js_store *s, const char *what)
{
	snprintf(s->wait_what, sizeof(s->wait_what), "stream %s: %s", s->c.stream, what);
	if (nag_now(s))
		klogd_warn("waiting for stream %s: %s; records stay in the kernel log, retrying",
			  s->c.stream, what);
}

void js_progress(struct js_store *s)
{
	s->backoff_ms = 0;
	if (s->waiting)
		klogd_log("stream %s takes records again: durable up to LSN %" PRIu64, s->c.stream,
			  s->durable - 1);
	s->waiting = false;
	s->nag_ns = 0;
}

int js_backoff(struct js_store *s)
{
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->retry_ns = now_ns() + s->backoff_ms * 1000000ull;
	return -EAGAIN;
}

int js_fail(struct js_store *s, int err)
{
	s->fatal = err;
	return err;
}

/*
 * Is the stream's message at lsn the record staged for it, byte for byte?
 * RETURN VALUE: 0; -EXDEV if not (error says so); else as klog_js_get.
 */
static int same_record(struct js_store *s, uint64_t lsn)
{
	const struct slot *e = slot_of(s, lsn);
	natsMsg *m;
	int err = klog_js_get(&s->c, lsn, &m, s->error, sizeof(s->error));

	if (err)
		return err;
	if ((uint32_t)natsMsg_GetDataLength(m) != e->size ||
	    memcmp(natsMsg_GetData(m), e->data, e->size)) {
		snprintf(s->error, sizeof(s->error), "stream %s holds at sequence %" PRIu64
			 " a message that is not the record klogd published there: something "
			 "else publishes to %s", s->c.stream, lsn, s->c.subject);
		err = -EXDEV;
	}
	natsMsg_Destroy(m);
	return err;
}

/* Where the stream ends, checked against what klogd published. RETURN VALUE: 0, or as resync. */
static int stream_end(struct js_store *s, uint64_t *last)
{
	struct klog_js_state st;
	int err = klog_js_state(&s->c, &st, s->error, sizeof(s->error));

	if (err == -ENOENT) {
		snprintf(s->error, sizeof(s->error), "stream %s was deleted: the records below LSN "
			 "%" PRIu64 " it held are gone; klogd never re-creates a stream it wrote to",
			 s->c.stream, s->durable);
		return js_fail(s, err);
	}
	if (err == -EPROTO)
		return js_fail(s, err);
	if (err) {
		js_nag(s, s->error);
		return js_backoff(s);
	}
	if (st.last >= s->next || st.last + 1 < s->durable) {
		snprintf(s->error, sizeof(s->error), "stream %s ends at sequence %" PRIu64 " but klogd "
			 "published LSNs up to %" PRIu64 ", %" PRIu64 " acknowledged: %s", s->c.stream,
			 st.last, s->next - 1, s->durable - 1, st.last >= s->next ?
			 "something else publishes to it" : "it lost acknowledged records");
		return js_fail(s, st.last >= s->next ? -EXDEV : -ESTALE);
	}
	/*
	 * Each message klogd has no acknowledgement of must be the record it
	 * sent there: an expectation says the sequence before it was taken,
	 * not by whom, so klogd's records may follow a foreign message.
	 */
	for (uint64_t lsn = s->durable, gets = 0; lsn <= st.last; lsn++) {
		struct slot *e = slot_of(s, lsn);

		/* Trimmed (purged) by an operator: stored first, so durable. */
		if (e->acked || lsn < st.first)
			continue;
		/* A few at a time, what was found kept: the drain looks at signals between. */
		if (gets++ == RESYNC_GETS)
			return -EAGAIN;
		if (!(err = same_record(s, lsn))) {
			e->acked = true;
			continue;
		}
		if (err == -ENOENT) {
			snprintf(s->error, sizeof(s->error), "stream %s has no message at sequence "
				 "%" PRIu64 ", inside %" PRIu64 "..%" PRIu64 ": it lost LSN %" PRIu64,
				 s->c.stream, lsn, st.first, st.last, lsn);
			return js_fail(s, -ESTALE);
		}
		if (err == -EXDEV)
			return js_fail(s, err);
		js_nag(s, s->error);
		return js_backoff(s);
	}
	*last = st.last;
	return 0;
}

int js_resync(struct js_store *s)
{
	uint64_t last, from;
	int err;

	if (now_ns() < s->retry_ns)
		return -EAGAIN;
	if ((err = stream_end(s, &last)))
		return err;
	while (s->durable <= last)
		slot_of(s, s->durable++)->acked = false;
	from = s->unsent = s->durable;
	s->epoch++;
	s->resync = false;
	js_publish(s);
	if (from < s->next && nag_now(s))
		klogd_log("stream %s: %s; it holds up to LSN %" PRIu64 ": publishing LSNs %" PRIu64
			  "..%" PRIu64 " again", s->c.stream, s->why, last, from, s->next - 1);
	/* Until the stream acknowledges something, the next resync waits its turn. */
	js_backoff(s);
	return 0;
}
