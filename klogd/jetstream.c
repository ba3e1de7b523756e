// SPDX-License-Identifier: GPL-2.0-only
/*
 * jetstream.c - the drain's store in a JetStream stream (see jetstream.h).
 *
 * The records not yet acknowledged are kept here, in a ring indexed by LSN,
 * until the stream acknowledges them (the kernel keeps them too: it is
 * truncated only up to what is durable).  Publishes go out as records are
 * appended, each with the header Nats-Expected-Last-Sequence: LSN - 1, so
 * the stream stores LSN n at sequence n or not at all.  Acknowledgements
 * come on the NATS library's thread; anything else (a refused publish, one
 * never acknowledged, a lost connection) makes the drain's thread resync:
 * ask the stream where it ends, take what it holds as durable, and publish
 * the rest again in order.  No LSN is stored twice or skipped, however
 * often that happens and however long after the duplicate window.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "format.h"
#include "jetstream.h"
#include "jsopen.h"
#include "jstream.h"
#include "log.h"

#define WAIT_MS 100           /* commit_wait(wait): longest wait for an acknowledgement */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define NAG_NS 10000000000ull /* repeat "waiting for" lines this often */
#define EXPECT_HDR "Nats-Expected-Last-Sequence"

struct slot {
	uint8_t *data;   /* the sealed record (format.h), klog_rec_size(max_record) bytes */
	uint32_t size;
	uint64_t lsn;
	const natsMsg *msg; /* its publish in flight (an identity, never followed) */
	uint64_t sent_ns;
	bool acked;
};

struct js_store {
	struct klogd_store store;
	struct klogd_js_opts o;  /* a copy: its strings must outlive the store */
	struct klog_js c;
	jsCtx *pub;            /* publishes, with on_ack as their handler */
	uint64_t log_id;
	struct slot *ring;     /* o->inflight slots: LSN n in ring[n & mask] */
	uint64_t mask;
	uint64_t reserved;     /* payload bytes + 1 of the reserved record; 0: none */
	uint64_t retry_ns;     /* resync not before */
	uint64_t backoff_ms;
	uint64_t nag_ns;       /* next "waiting for" line not before */
	bool waiting;          /* a "waiting for" line was printed: say when it is over */
	uint64_t seen;         /* durable when the drain last looked */
	char error[512];       /* klogd_store_error */

	pthread_mutex_t mu;    /* the rest is shared with on_ack */
	pthread_cond_t cv;
	uint64_t next;         /* the next record's LSN (written by the drain only) */
	uint64_t durable;      /* every LSN below is stored by the stream */
	bool resync;           /* something went wrong: ask the stream, publish again */
	const natsMsg *publishing; /* in js_PublishMsgAsync now */
	natsMsg *dead;         /* publishing, done with by on_ack: publish() destroys it */
	int fatal;             /* the store failed for good (error says why) */
	char why[256];         /* what made resync be set, for the log */
};

#define S(s) ((struct js_store *)(s))
#define CS(s) ((const struct js_store *)(s))

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct slot *slot_of(struct js_store *s, uint64_t lsn)
{
	return &s->ring[lsn & s->mask];
}

/* Under mu: the acknowledged slots from durable on are durable now. */
static void advance(struct js_store *s)
{
	uint64_t from = s->durable;

	while (s->durable < s->next && slot_of(s, s->durable)->acked)
		slot_of(s, s->durable++)->acked = false;
	if (s->durable != from)
		pthread_cond_broadcast(&s->cv);
}

/* Under mu: something went wrong with a publish; the drain resyncs. */
static void need_resync(struct js_store *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void need_resync(struct js_store *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->resync) {
		va_start(ap, fmt);
		vsnprintf(s->why, sizeof(s->why), fmt, ap);
		va_end(ap);
	}
	s->resync = true;
	pthread_cond_broadcast(&s->cv);
}

/* The LSN a published record carries (its header, format.h). */
static uint64_t lsn_of(const natsMsg *msg)
{
	const char *d = natsMsg_GetData((natsMsg *)msg);
	uint64_t lsn;

	if (natsMsg_GetDataLength((natsMsg *)msg) < (int)sizeof(struct klog_rec_hdr))
		return 0;
	memcpy(&lsn, d + offsetof(struct klog_rec_hdr, lsn), sizeof(lsn));
	return le64toh(lsn);
}

/*
 * The NATS library's thread: a publish was acknowledged, or failed.  A
 * success is the truth whenever it comes; a failure counts only for the
 * publish still in flight for that LSN (an older one's is stale).
 */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct js_store *s = closure;
	uint64_t lsn = lsn_of(msg);
	struct slot *e;
	bool later;

	pthread_mutex_lock(&s->mu);
	e = slot_of(s, lsn);
	if (lsn < s->durable || lsn >= s->next || e->lsn != lsn) {
		/* Already durable (a resync found it), or not ours. */
	} else if (pa && pa->Sequence != lsn) {
		s->fatal = -EPROTO;
		snprintf(s->error, sizeof(s->error), "stream %s stored LSN %" PRIu64 " at sequence "
			 "%" PRIu64 ": something else publishes to %s", s->c.stream, lsn,
			 pa->Sequence, s->c.subject);
		pthread_cond_broadcast(&s->cv);
	} else if (pa) {
		e->acked = true;
		advance(s);
	} else if (pae && e->msg == msg) {
		need_resync(s, "publishing LSN %" PRIu64 ": %s (JetStream error %d)", lsn,
			    pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err),
			    (int)pae->ErrCode);
	}
	/* A publish may time out before js_PublishMsgAsync is done with it (libnats 3.4). */
	later = msg == s->publishing;
	if (later)
		s->dead = msg;
	pthread_mutex_unlock(&s->mu);
	if (!later)
		natsMsg_Destroy(msg);
}

/* Publish record lsn (staged in its slot), expecting lsn - 1 as the stream's last sequence. */
static int publish(struct js_store *s, uint64_t lsn)
{
	struct slot *e = slot_of(s, lsn);
	jsPubOptions po;
	natsMsg *m = NULL, *dead;
	char expect[24];
	natsStatus st;

	snprintf(expect, sizeof(expect), "%" PRIu64, lsn - 1);
	jsPubOptions_Init(&po);
	po.MaxWait = s->o.ack_wait_ms; /* the library fails it after that */
	if ((st = natsMsg_Create(&m, s->c.subject, NULL, (const char *)e->data,
				 (int)e->size)) != NATS_OK ||
	    (st = natsMsgHeader_Set(m, EXPECT_HDR, expect)) != NATS_OK)
		goto fail;
	/* Before the publish: its acknowledgement may come before js_PublishMsgAsync returns. */
	pthread_mutex_lock(&s->mu);
	e->msg = m;
	e->sent_ns = now_ns();
	s->publishing = m;
	pthread_mutex_unlock(&s->mu);
	st = js_PublishMsgAsync(s->pub, &m, &po);
	pthread_mutex_lock(&s->mu);
	dead = s->dead;
	s->dead = NULL;
	s->publishing = NULL;
	pthread_mutex_unlock(&s->mu);
	natsMsg_Destroy(dead);
	if (st == NATS_OK)
		return 0;
fail:
	pthread_mutex_lock(&s->mu);
	e->msg = NULL;
	need_resync(s, "publishing LSN %" PRIu64 ": %s", lsn, natsStatus_GetText(st));
	pthread_mutex_unlock(&s->mu);
	natsMsg_Destroy(m); /* still ours: the library did not take it */
	return -EIO;
}

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

static void nag(struct js_store *s, const char *what)
{
	if (nag_now(s))
		klogd_log("waiting for stream %s: %s; records stay in the kernel log, retrying",
			  s->c.stream, what);
}

/*
 * The stream acknowledged records since the drain last looked: retries
 * start from the shortest backoff again, and a wait that was told is over.
 */
static void progress(struct js_store *s, uint64_t durable)
{
	if (durable == s->seen)
		return;
	s->seen = durable;
	s->backoff_ms = 0;
	if (s->waiting)
		klogd_log("stream %s takes records again: durable up to LSN %" PRIu64, s->c.stream,
			  durable - 1);
	s->waiting = false;
	s->nag_ns = 0;
}

static int backoff(struct js_store *s)
{
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->retry_ns = now_ns() + s->backoff_ms * 1000000ull;
	return -EAGAIN;
}

static int fail(struct js_store *s, int err)
{
	pthread_mutex_lock(&s->mu);
	s->fatal = err;
	pthread_mutex_unlock(&s->mu);
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

/*
 * Are the stream's messages from..last the records klogd published there?
 * One it acknowledged is; any other is compared byte for byte.  The last
 * is not enough to vouch for the rest: an expected last sequence says the
 * sequence before was taken, not by whom, so klogd's records may follow a
 * foreign message in a gap (a publish of klogd's refused because of it).
 * RETURN VALUE: as same_record.
 */
static int ours(struct js_store *s, uint64_t from, uint64_t last)
{
	int err = 0;

	for (uint64_t lsn = last; lsn >= from && !err; lsn--) {
		bool acked;

		pthread_mutex_lock(&s->mu);
		acked = lsn < s->durable || slot_of(s, lsn)->acked;
		pthread_mutex_unlock(&s->mu);
		if (!acked)
			err = same_record(s, lsn);
	}
	return err;
}

/*
 * Ask the stream where it ends, take every LSN up to there as durable, and
 * publish the rest again in order.  RETURN VALUE: 0; -EAGAIN to be tried
 * again later (after a backoff); a fatal error.
 */
static int resync(struct js_store *s)
{
	struct klog_js_state st;
	uint64_t durable, next, from;
	char why[sizeof(s->why)];
	int err;

	if (now_ns() < s->retry_ns)
		return -EAGAIN;
	pthread_mutex_lock(&s->mu);
	memcpy(why, s->why, sizeof(why));
	durable = s->durable;
	next = s->next;
	pthread_mutex_unlock(&s->mu);
	if ((err = klog_js_state(&s->c, &st, s->error, sizeof(s->error)))) {
		if (err == -ENOENT) {
			snprintf(s->error, sizeof(s->error), "stream %s was deleted: the records "
				 "below LSN %" PRIu64 " it held are gone; klogd never re-creates a "
				 "stream it wrote to", s->c.stream, durable);
			return fail(s, -ENOENT);
		}
		if (err == -EPROTO)
			return fail(s, err);
		nag(s, s->error);
		return backoff(s);
	}
	if (st.last >= next) {
		snprintf(s->error, sizeof(s->error), "stream %s ends at sequence %" PRIu64 " but "
			 "klogd published only up to LSN %" PRIu64 ": something else publishes to "
			 "%s", s->c.stream, st.last, next - 1, s->c.subject);
		return fail(s, -EXDEV);
	}
	if (st.last < durable - 1) {
		snprintf(s->error, sizeof(s->error), "stream %s ends at sequence %" PRIu64 " but "
			 "acknowledged up to LSN %" PRIu64 ": it lost acknowledged records",
			 s->c.stream, st.last, durable - 1);
		return fail(s, -ESTALE);
	}
	/* Ours only if every message klogd has no acknowledgement of is what it sent there. */
	if (st.last >= durable && (err = ours(s, durable, st.last))) {
		if (err == -EXDEV)
			return fail(s, err);
		nag(s, s->error);
		return backoff(s);
	}
	pthread_mutex_lock(&s->mu);
	for (uint64_t lsn = durable; lsn <= st.last; lsn++)
		slot_of(s, lsn)->acked = true;
	advance(s);
	from = s->durable;
	/* What is still in flight is stale from here on: its failures are ignored. */
	for (uint64_t lsn = from; lsn < next; lsn++)
		slot_of(s, lsn)->msg = NULL;
	s->resync = false;
	pthread_mutex_unlock(&s->mu);
	for (uint64_t lsn = from; lsn < next; lsn++)
		if (publish(s, lsn))
			break;
	if (from < next && nag_now(s))
		klogd_log("stream %s: %s; it holds up to LSN %" PRIu64 ": publishing LSNs %" PRIu64
			  "..%" PRIu64 " again", s->c.stream, why, st.last, from, next - 1);
	/* Until the stream acknowledges something, the next resync waits its turn. */
	backoff(s);
	return 0;
}

static void *js_reserve(struct klogd_store *store, uint32_t max_len, int *err)
{
	struct js_store *s = S(store);
	struct slot *e;

	*err = 0;
	if (max_len > s->o.max_record) {
		*err = -EMSGSIZE;
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	if (s->next - s->durable > s->mask)
		*err = -EAGAIN; /* every slot holds a record not yet acknowledged */
	pthread_mutex_unlock(&s->mu);
	if (*err)
		return NULL;
	e = slot_of(s, s->next);
	if (!e->data && !(e->data = malloc(klog_rec_size(s->o.max_record)))) {
		*err = -ENOMEM;
		return NULL;
	}
	s->reserved = (uint64_t)max_len + 1;
	return e->data + sizeof(struct klog_rec_hdr);
}

static int js_append(struct klogd_store *store, uint64_t lsn, uint64_t txid, uint32_t len)
{
	struct js_store *s = S(store);
	struct slot *e = slot_of(s, lsn);
	bool later;

	if (len >= s->reserved || lsn != s->next)
		return -EINVAL;
	s->reserved = 0;
	e->size = (uint32_t)klog_rec_seal(e->data, lsn, txid, 0, s->log_id, len);
	pthread_mutex_lock(&s->mu);
	e->lsn = lsn;
	e->acked = false;
	e->msg = NULL;
	s->next = lsn + 1;
	later = s->resync; /* the resync publishes it, after the ones before */
	pthread_mutex_unlock(&s->mu);
	if (!later)
		publish(s, lsn); /* a failure sets resync */
	return 0;
}

static int js_commit_start(struct klogd_store *store)
{
	return 0; /* every record is published as it is appended */
}

static int js_commit_wait(struct klogd_store *store, bool wait)
{
	struct js_store *s = S(store);
	uint64_t from, now = now_ns();
	struct timespec until;
	bool again;
	int err;

	pthread_mutex_lock(&s->mu);
	if (!s->resync && s->durable < s->next) {
		const struct slot *e = slot_of(s, s->durable);

		/* The library times out each publish; this catches one it lost. */
		if (e->msg && now - e->sent_ns > 2 * (uint64_t)s->o.ack_wait_ms * 1000000ull)
			need_resync(s, "no acknowledgement of LSN %" PRIu64 " in %" PRIu64 " ms",
				    s->durable, (now - e->sent_ns) / 1000000);
	}
	again = s->resync;
	err = s->fatal;
	from = s->durable;
	pthread_mutex_unlock(&s->mu);
	if (err)
		return err;
	progress(s, from);
	if (again && (err = resync(s)) && err != -EAGAIN)
		return err;
	pthread_mutex_lock(&s->mu);
	from = s->durable;
	again = s->resync; /* one waiting for its backoff does not cut the wait short */
	if (wait) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WAIT_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (s->durable == from && s->durable < s->next && s->resync == again &&
		       !s->fatal && pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT)
			;
	}
	err = s->fatal ? s->fatal : s->durable < s->next ? -EAGAIN : 0;
	pthread_mutex_unlock(&s->mu);
	return err;
}

static uint64_t js_durable(const struct klogd_store *store)
{
	struct js_store *s = S((struct klogd_store *)store);
	uint64_t d;

	pthread_mutex_lock(&s->mu);
	d = s->durable;
	pthread_mutex_unlock(&s->mu);
	return d;
}

static uint64_t js_next(const struct klogd_store *store)
{
	return CS(store)->next;
}

static const char *js_error(const struct klogd_store *store)
{
	return CS(store)->error;
}

static void js_close(struct klogd_store *store)
{
	struct js_store *s = S(store);

	if (!s)
		return;
	/* No acknowledgement may run once the store is gone: the connection goes first. */
	if (s->c.nc)
		natsConnection_Close(s->c.nc);
	if (s->pub)
		jsCtx_Destroy(s->pub);
	klog_js_close(&s->c);
	for (uint64_t i = 0; s->ring && i <= s->mask; i++)
		free(s->ring[i].data);
	free(s->ring);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static const struct klogd_store_ops js_ops = {
	.name = "jetstream", .reserve = js_reserve, .append = js_append,
	.commit_start = js_commit_start, .commit_wait = js_commit_wait, .durable = js_durable,
	.next = js_next, .error = js_error, .close = js_close,
};

bool klogd_js_retryable(int err)
{
	return err == -ECONNREFUSED || err == -ETIMEDOUT || err == -EHOSTUNREACH ||
	       err == -ENOTCONN || err == -EAGAIN || err == -EIO;
}

int klogd_js_open(struct klogd_store **out, const struct klogd_js_opts *o,
		  struct klogd_store_info *info, char *err, size_t errn)
{
	struct js_store *s = calloc(1, sizeof(*s));
	jsOptions jo;
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->store.ops = &js_ops;
	s->o = *o;
	s->mask = o->inflight - 1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (!(s->ring = calloc(o->inflight, sizeof(*s->ring)))) {
		ret = -ENOMEM;
		goto fail;
	}
	if ((ret = klog_js_connect(&s->c, o->urls, o->stream, 2000, 32 << 20, err, errn)) ||
	    (ret = js_find_stream(&s->c, o, info, err, errn)))
		goto fail;
	s->log_id = info->log_id;
	s->next = s->durable = s->seen = info->next_lsn;
	jsOptions_Init(&jo);
	jo.Wait = 2000;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = s;
	/* Room for the ring and for stale publishes still waiting for their timeout. */
	jo.PublishAsync.MaxPending = 2 * (int64_t)o->inflight;
	if (natsConnection_JetStream(&s->pub, s->c.nc, &jo) != NATS_OK) {
		snprintf(err, errn, "JetStream context: %s", nats_GetLastError(NULL));
		ret = -ENOMEM;
		goto fail;
	}
	*out = &s->store;
	return 0;
fail:
	js_close(&s->store);
	return ret;
}
