// SPDX-License-Identifier: GPL-2.0-only
/*
 * jetstream.c - the drain's store in a JetStream stream (see jetstream.h).
 *
 * The records not yet acknowledged are kept here, in a ring indexed by LSN,
 * until the stream acknowledges them (the kernel keeps them too: it is
 * truncated only up to what is durable).  Publishes go out as records are
 * appended, each with the header Nats-Expected-Last-Sequence: LSN - 1, so
 * the stream stores LSN n at sequence n or not at all.
 *
 * Records are published when the drain commits (or looks at the commit),
 * on one of two connections to the same servers: a lone record (nothing
 * else in flight) on one that writes each publish at once, a batch on one
 * that buffers them and is flushed once.  The connection changes only when
 * nothing is in flight, so publishes never overtake each other.
 *
 * Everything happens on the drain's thread: the acknowledgements come to a
 * synchronous subscription on an inbox of the store's, which commit_wait
 * reads, many at a time; the reply subject of each publish names its LSN
 * and the resync it belongs to.  (libnats's asynchronous JetStream publish
 * would hand each acknowledgement through its own thread, hash table and
 * JSON parser: several times the CPU per record of this.)  Anything that
 * goes wrong (a refused publish, one never acknowledged, a lost
 * connection) makes the store resync: ask the stream where it ends, take
 * what it holds as durable, and publish the rest again in order.  No LSN is
 * stored twice or skipped, however often that happens and however long
 * after JetStream's duplicate window.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "jsopen.h"
#include "jsstore.h"
#include "log.h"
#include "stats.h"

#define WAIT_MS 100           /* commit_wait(wait): longest wait for an acknowledgement */
#define FLUSH_MS 100          /* longest wait for the PONG of a batch's flush */
#define EXPECT_HDR "Nats-Expected-Last-Sequence"

void js_need_resync(struct js_store *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->resync) {
		va_start(ap, fmt);
		vsnprintf(s->why, sizeof(s->why), fmt, ap);
		va_end(ap);
	}
	s->resync = true;
}

/* Publish record lsn (staged in its slot), expecting lsn - 1 as the stream's last sequence. */
static int publish_one(struct js_store *s, uint64_t lsn)
{
	struct slot *e = slot_of(s, lsn);
	char expect[24], reply[sizeof(s->inbox) + 48];
	natsMsg *m = NULL;
	natsStatus st;

	snprintf(expect, sizeof(expect), "%" PRIu64, lsn - 1);
	snprintf(reply, sizeof(reply), "%s.%" PRIu64 ".%" PRIu64, s->inbox, s->epoch, lsn);
	if ((st = natsMsg_Create(&m, s->c.subject, reply, (const char *)e->data,
				 (int)e->size)) == NATS_OK &&
	    (st = natsMsgHeader_Set(m, EXPECT_HDR, expect)) == NATS_OK)
		st = natsConnection_PublishMsg(s->on_bulk ? s->bulk.nc : s->c.nc, m);
	natsMsg_Destroy(m);
	e->sent_ns = now_ns();
	if (st == NATS_OK) {
		klogd_count(&klogd_stats.publishes, 1);
		return 0;
	}
	js_need_resync(s, "publishing LSN %" PRIu64 ": %s", lsn, natsStatus_GetText(st));
	return -EIO;
}

/* On bulk (and flush it) if more than one goes, or some are in flight there already. */
int js_publish(struct js_store *s)
{
	natsStatus st;

	if (s->unsent == s->next)
		return 0;
	if (s->durable == s->unsent) /* nothing in flight: either connection keeps the order */
		s->on_bulk = s->next - s->unsent > 1;
	for (; s->unsent < s->next; s->unsent++)
		if (publish_one(s, s->unsent))
			return -EIO;
	/*
	 * The PING is written after the publishes, so they are on their way
	 * once it is; a PONG slow to come (a busy server) is no failure, and a
	 * lost publish is found by its missing acknowledgement.
	 */
	st = s->on_bulk ? natsConnection_FlushTimeout(s->bulk.nc, FLUSH_MS) : NATS_OK;
	if (st != NATS_OK && st != NATS_TIMEOUT) {
		js_need_resync(s, "publishing up to LSN %" PRIu64 ": %s", s->next - 1,
			       natsStatus_GetText(st));
		return -EIO;
	}
	return 0;
}

/* The epoch and LSN an acknowledgement's subject names. RETURN VALUE: 0 or -EINVAL. */
static int reply_of(const struct js_store *s, const char *subj, uint64_t *epoch, uint64_t *lsn)
{
	size_t n = strlen(s->inbox);
	char *end;

	if (strncmp(subj, s->inbox, n) || subj[n] != '.')
		return -EINVAL;
	*epoch = strtoull(subj + n + 1, &end, 10);
	if (*end != '.')
		return -EINVAL;
	*lsn = strtoull(end + 1, &end, 10);
	return *end ? -EINVAL : 0;
}

/*
 * The sequence a JetStream publish acknowledgement gives ({"stream":"S",
 * "seq":N}), or 0 with what it says instead (an error, no responders).
 */
static uint64_t ack_seq(natsMsg *m, char *what, size_t n)
{
	const char *d = natsMsg_GetData(m), *p;
	int len = natsMsg_GetDataLength(m);
	char buf[512];

	if (natsMsg_IsNoResponders(m)) {
		snprintf(what, n, "no stream leader answered (no responders)");
		return 0;
	}
	snprintf(buf, sizeof(buf), "%.*s", len < 0 ? 0 : len, d ? d : "");
	if (!strstr(buf, "\"error\"") && (p = strstr(buf, "\"seq\":")))
		return strtoull(p + 6, NULL, 10);
	if ((p = strstr(buf, "\"description\":\"")))
		snprintf(what, n, "%.*s", (int)strcspn(p + 15, "\""), p + 15);
	else
		snprintf(what, n, "%.200s", buf);
	return 0;
}

/*
 * Does a refusal of lsn say its sequence is taken already ("wrong last
 * sequence: S", S >= lsn)?  Then an earlier copy of it (a resync's race
 * with the publish before) stored it, and that copy's acknowledgement, or
 * its missing one, settles it: no resync on that account.
 */
static bool taken(const char *what, uint64_t lsn)
{
	static const char wrong[] = "wrong last sequence: ";
	const char *p = strstr(what, wrong);

	return p && strtoull(p + sizeof(wrong) - 1, NULL, 10) >= lsn;
}

/*
 * One acknowledgement.  A success is the truth whenever it comes: the
 * stream holds that LSN at that sequence, and (expected-last-sequence) all
 * before it; a failure counts only for the current epoch's publishes.
 */
static void take_ack(struct js_store *s, natsMsg *m)
{
	uint64_t epoch, lsn, seq;
	struct slot *e;
	char what[256];

	if (reply_of(s, natsMsg_GetSubject(m), &epoch, &lsn) || lsn < s->durable ||
	    lsn >= s->next)
		return; /* not ours, or a resync found it durable already */
	e = slot_of(s, lsn);
	seq = ack_seq(m, what, sizeof(what));
	if (seq == lsn) {
		e->acked = true;
	} else if (seq) {
		s->fatal = -EPROTO;
		snprintf(s->error, sizeof(s->error), "stream %s stored LSN %" PRIu64 " at sequence "
			 "%" PRIu64 ": something else publishes to %s", s->c.stream, lsn, seq,
			 s->c.subject);
	} else if (epoch == s->epoch && !taken(what, lsn)) {
		js_need_resync(s, "publishing LSN %" PRIu64 ": %s", lsn, what);
	}
	while (s->durable < s->next && slot_of(s, s->durable)->acked)
		slot_of(s, s->durable++)->acked = false;
}

/*
 * Take the acknowledgements that came: wait up to wait_ms for the first,
 * then every one queued (a batch's come together: one truncation and one
 * sendmmsg of DURABLE notices then serve them all).  RETURN VALUE: how many.
 */
static int take_acks(struct js_store *s, int64_t wait_ms)
{
	natsStatus st = NATS_OK;
	natsMsg *m;
	int n = 0;

	while (!s->fatal && s->durable < s->next &&
	       (st = natsSubscription_NextMsg(&m, s->acks, n ? 0 : wait_ms)) == NATS_OK) {
		take_ack(s, m);
		natsMsg_Destroy(m);
		n++;
	}
	/* A closed connection answers at once: the wait is still a wait, not a spin. */
	if (!n && wait_ms && st != NATS_OK && st != NATS_TIMEOUT)
		usleep((useconds_t)wait_ms * 1000);
	return n;
}

static void *js_reserve(struct klogd_store *store, uint32_t max_len, int *err)
{
	struct js_store *s = S(store);
	struct slot *e = slot_of(s, s->next);

	*err = 0;
	if (!s->connected) {
		*err = -EAGAIN; /* where the stream ends, and so the next LSN, is not known yet */
		return NULL;
	}
	if (max_len > s->o.max_record) {
		*err = -EMSGSIZE;
		return NULL;
	}
	if (s->next - s->durable > s->mask) {
		*err = -EAGAIN; /* every slot holds a record not yet acknowledged */
		return NULL;
	}
	if (!e->data && !(e->data = malloc(klog_rec_size(s->o.max_record)))) {
		*err = -ENOMEM;
		return NULL;
	}
	s->reserved = (uint64_t)max_len + 1;
	return e->data + sizeof(struct klog_rec_hdr);
}

static int js_append(struct klogd_store *store, uint64_t lsn, uint64_t txid, uint32_t len,
		     uint32_t flags)
{
	struct js_store *s = S(store);
	struct slot *e = slot_of(s, lsn);

	if (len >= s->reserved || lsn != s->next || !klog_rec_flags_ok(flags, len))
		return -EINVAL;
	s->reserved = 0;
	e->size = (uint32_t)klog_rec_seal(e->data, lsn, txid, flags, s->log_id, len);
	e->lsn = lsn;
	e->acked = false;
	e->sent_ns = 0;
	s->next = lsn + 1;
	return 0;
}

static int js_commit_start(struct klogd_store *store)
{
	struct js_store *s = S(store);

	if (!s->resync)
		js_publish(s); /* a failure sets resync, which publishes them again */
	return 0;
}

static int connect_later(struct js_store *s);

static int js_commit_wait(struct klogd_store *store, bool wait)
{
	struct js_store *s = S(store);
	uint64_t from = s->durable, sent;
	int err;

	if (s->fatal)
		return s->fatal;
	if (!s->connected) {
		if ((err = connect_later(s)) == -EAGAIN && wait)
			usleep(WAIT_MS * 1000); /* pace the drain: it has nothing else to do */
		return err ? err : -EAGAIN;
	}
	/* The drain looks in while it stages a long batch: what is staged goes. */
	if (!s->resync)
		js_publish(s);
	take_acks(s, s->resync ? 0 : wait ? WAIT_MS : 0);
	if (s->durable != from)
		js_progress(s);
	/* A publish never acknowledged: lost with a connection or a leader. */
	sent = s->durable < s->next ? slot_of(s, s->durable)->sent_ns : 0;
	if (!s->resync && sent && now_ns() - sent > (uint64_t)s->o.ack_wait_ms * 1000000ull)
		js_need_resync(s, "no acknowledgement of LSN %" PRIu64 " in %" PRIu64 " ms",
			       s->durable, (now_ns() - sent) / 1000000);
	if (s->resync && !s->fatal && (err = js_resync(s)) && err != -EAGAIN)
		return err;
	if (s->fatal)
		return s->fatal;
	if (s->resync && wait && s->durable == from)
		take_acks(s, WAIT_MS); /* pace the retries, but take what comes meanwhile */
	return s->durable < s->next ? -EAGAIN : 0;
}

static uint64_t js_durable(const struct klogd_store *store)
{
	return CS(store)->durable;
}

static uint64_t js_next(const struct klogd_store *store)
{
	return CS(store)->next;
}

static const char *js_error(const struct klogd_store *store)
{
	return CS(store)->error;
}

static const char *js_waiting(const struct klogd_store *store)
{
	return CS(store)->waiting ? CS(store)->wait_what : NULL;
}

static void js_close(struct klogd_store *store)
{
	struct js_store *s = S(store);

	if (!s)
		return;
	natsSubscription_Destroy(s->acks);
	klog_js_close(&s->bulk);
	klog_js_close(&s->c);
	for (uint64_t i = 0; s->ring && i <= s->mask; i++)
		free(s->ring[i].data);
	free(s->ring);
	free(s);
}

static const struct klogd_store_ops js_ops = {
	.name = "jetstream", .reserve = js_reserve, .append = js_append,
	.commit_start = js_commit_start, .commit_wait = js_commit_wait, .durable = js_durable,
	.next = js_next, .error = js_error, .waiting = js_waiting, .close = js_close,
};

bool klogd_js_retryable(int err)
{
	return err == -ECONNREFUSED || err == -ETIMEDOUT || err == -EHOSTUNREACH ||
	       err == -ENOTCONN || err == -EAGAIN || err == -EIO;
}

/* Subscribe to the store's acknowledgements: INBOX.<epoch>.<lsn>. */
static int listen_acks(struct js_store *s, char *err, size_t errn)
{
	natsInbox *inbox = NULL;
	char subj[sizeof(s->inbox) + 4];
	natsStatus st;

	if ((st = natsInbox_Create(&inbox)) == NATS_OK) {
		snprintf(s->inbox, sizeof(s->inbox), "%s", (const char *)inbox);
		snprintf(subj, sizeof(subj), "%s.>", s->inbox);
		if ((st = natsConnection_SubscribeSync(&s->acks, s->c.nc, subj)) == NATS_OK)
			/* Never dropped as a slow consumer: each is a record's durability. */
			st = natsSubscription_SetPendingLimits(s->acks, -1, -1);
	}
	natsInbox_Destroy(inbox);
	if (st == NATS_OK)
		return 0;
	klog_js_strerror(st, 0, "subscribing to acknowledgements", err, errn);
	return klog_js_errno(st, 0);
}

/* Connect, find the stream and where it ends, and listen for acknowledgements. */
static int js_connect(struct js_store *s, struct klogd_store_info *info, char *err, size_t errn)
{
	const struct klogd_js_opts *o = &s->o;
	int ret;

	if ((ret = klog_js_connect(&s->c, o->urls, o->stream, 2000, 32 << 20, err, errn)) ||
	    (ret = klog_js_connect_buffered(&s->bulk, o->urls, o->stream, 2000, 32 << 20, err,
					    errn)) ||
	    (ret = js_find_stream(&s->c, o, info, err, errn)) ||
	    (ret = listen_acks(s, err, errn))) {
		natsSubscription_Destroy(s->acks);
		s->acks = NULL;
		klog_js_close(&s->bulk);
		klog_js_close(&s->c);
		return ret;
	}
	s->log_id = info->log_id;
	s->next = s->durable = s->unsent = info->next_lsn;
	s->connected = true;
	return 0;
}

/*
 * A store opened before the stream answered (klogd_js_open_later): try to
 * reach it, and once it answers go on from where it ends.  RETURN VALUE: 0
 * once connected; -EAGAIN (after a backoff) until then; a fatal error.
 */
static int connect_later(struct js_store *s)
{
	struct klogd_store_info info;
	int err;

	if (now_ns() < s->retry_ns)
		return -EAGAIN;
	if (!(err = js_connect(s, &info, s->error, sizeof(s->error)))) {
		klogd_log("stream %s answers: it holds up to LSN %" PRIu64 ", publishing from there",
			  s->c.stream, info.next_lsn - 1);
		s->waiting = false;
		s->nag_ns = 0;
		s->backoff_ms = 0;
		s->error[0] = 0;
		return 0; /* js_find_stream made sure it holds every LSN acknowledged durable */
	}
	if (!klogd_js_retryable(err))
		return js_fail(s, err);
	js_nag(s, s->error);
	return js_backoff(s);
}

static struct js_store *js_alloc(const struct klogd_js_opts *o)
{
	struct js_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->store.ops = &js_ops;
	s->o = *o;
	s->mask = o->inflight - 1;
	if (!(s->ring = calloc(o->inflight, sizeof(*s->ring)))) {
		free(s);
		return NULL;
	}
	return s;
}

int klogd_js_open(struct klogd_store **out, const struct klogd_js_opts *o,
		  struct klogd_store_info *info, char *err, size_t errn)
{
	struct js_store *s = js_alloc(o);
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	if ((ret = js_connect(s, info, err, errn))) {
		js_close(&s->store);
		return ret;
	}
	*out = &s->store;
	return 0;
}

int klogd_js_open_later(struct klogd_store **out, const struct klogd_js_opts *o)
{
	struct js_store *s = js_alloc(o);

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->log_id = o->log_id;
	s->next = s->durable = s->unsent = o->acked_lsn;
	snprintf(s->c.stream, sizeof(s->c.stream), "%s", o->stream);
	*out = &s->store;
	return 0;
}
