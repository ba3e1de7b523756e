// SPDX-License-Identifier: GPL-2.0-only
/*
 * client.c - append records to a klog server over UDP (see klog.h).
 *
 * A fixed table of max_outstanding slots holds the requests in flight; the
 * request with id r lives in slot r % max_outstanding, so the ids in flight
 * always span fewer than KLOG_DEDUP_WINDOW and a reply finds its request
 * without a search.  Each slot keeps a copy of its datagram for resends and
 * one deadline (CLOCK_MONOTONIC) for whatever it waits for next:
 *
 *   SENT     the APPEND is on the wire; at the deadline, resend it
 *   BACKOFF  FULL, BUSY or NOTREADY came back; at the deadline, resend it
 *   PENDING  a durable append got ACK+PENDING; at the deadline, QUERY its LSN
 *
 * Every resend, retry and QUERY uses one of opts.retries; the retries start
 * over when a durable append enters PENDING.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <klog/klog.h>
#include "format.h"

#include "udp.h"

#define DEFAULT_TIMEOUT_MS 200
#define DEFAULT_RETRIES 10
/*
 * Per request in flight: its reply and one more, the DURABLE notice after
 * ACK+PENDING, or the answer to a resend crossing the first.
 */
#define BUF_PER_REQUEST (2 * KLOG_UDP_TRUESIZE)

enum slot_state { SLOT_FREE, SLOT_SENT, SLOT_BACKOFF, SLOT_PENDING };

struct slot {
	uint64_t request_id;
	uint64_t txid;
	uint64_t lsn;       /* PENDING: the LSN of the ACK+PENDING */
	uint64_t deadline;  /* ns, CLOCK_MONOTONIC: the next resend, retry or QUERY */
	klog_append_cb cb;
	void *arg;
	unsigned int tries; /* resends, retries or QUERYs used */
	uint16_t dlen;      /* bytes in dgram */
	uint8_t state;      /* enum slot_state */
	bool durable;
	uint8_t dgram[sizeof(struct klog_hdr) + KLOG_MAX_RECORD];
};

struct klog_client {
	int fd;
	struct klog_client_opts opts;
	unsigned int outstanding;
	int in_cb;              /* a callback is running */
	uint64_t next_request;
	struct slot slots[];    /* opts.max_outstanding */
};

int klog_client_open(struct klog_client **out, const char *host, const char *port,
		     const struct klog_client_opts *opts)
{
	struct klog_client_opts o = opts ? *opts : (struct klog_client_opts){
		.retries = DEFAULT_RETRIES,
	};
	struct klog_client *c;
	int err;

	if (o.max_outstanding > KLOG_DEDUP_WINDOW)
		return -EINVAL;
	if (!o.max_outstanding)
		o.max_outstanding = KLOG_DEDUP_WINDOW;
	if (!o.timeout_ms)
		o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (o.timeout_ms > INT32_MAX / 2)
		o.timeout_ms = INT32_MAX / 2;
	if (!o.client_id && getrandom(&o.client_id, sizeof(o.client_id), 0) < 0)
		return -errno;
	c = calloc(1, sizeof(*c) + o.max_outstanding * sizeof(c->slots[0]));
	if (!c)
		return -ENOMEM;
	c->opts = o;
	c->next_request = klog_udp_first_request();
	if ((err = klog_udp_connect(host, port, &c->fd))) {
		free(c);
		return err;
	}
	klog_udp_size_buffer(c->fd, SO_RCVBUF, SO_RCVBUFFORCE,
			     (int)(o.max_outstanding * BUF_PER_REQUEST));
	klog_udp_size_buffer(c->fd, SO_SNDBUF, SO_SNDBUFFORCE,
			     (int)(o.max_outstanding * BUF_PER_REQUEST));
	*out = c;
	return 0;
}

void klog_client_close(struct klog_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

int klog_client_fd(struct klog_client *c)
{
	return c->fd;
}

/* The error a NACK's status stands for. */
static int status_err(unsigned int status)
{
	switch (status) {
	case KLOG_ST_FULL: return -ENOSPC;
	case KLOG_ST_BUSY: return -EBUSY;
	case KLOG_ST_NOTREADY: return -EAGAIN;
	case KLOG_ST_TOOBIG: return -EMSGSIZE;
	case KLOG_ST_BADLEN: return -EINVAL;
	case KLOG_ST_CONFLICT: return -EEXIST;
	case KLOG_ST_STALE: return -ESTALE;
	case KLOG_ST_NOLSN: return -ENOENT;
	case KLOG_ST_CORRUPT: return -EILSEQ;
	default: return -EPROTO; /* VERSION, OPCODE, FLAGS, unknown */
	}
}

static bool transient_status(unsigned int status)
{
	return status == KLOG_ST_FULL || status == KLOG_ST_BUSY || status == KLOG_ST_NOTREADY;
}

/* 0, or -errno if the datagram could not be sent for a reason other than a loss. */
static int transmit(struct klog_client *c, const void *buf, size_t n)
{
	if (send(c->fd, buf, n, MSG_NOSIGNAL) >= 0 || klog_udp_lost(errno))
		return 0;
	return -errno;
}

static int send_query(struct klog_client *c, const struct slot *s)
{
	struct klog_msg m = {
		.opcode = KLOG_OP_QUERY,
		.client_id = c->opts.client_id,
		.request_id = s->request_id,
		.txid = s->txid,
		.lsn = s->lsn,
	};
	uint8_t buf[sizeof(struct klog_hdr)];
	int n = klog_encode(buf, sizeof(buf), &m, NULL);

	return n < 0 ? n : transmit(c, buf, (size_t)n);
}

/* Free the slot, then tell the caller (who may submit into it again). */
static void complete(struct klog_client *c, struct slot *s, int err, uint64_t lsn)
{
	klog_append_cb cb = s->cb;
	void *arg = s->arg;

	s->state = SLOT_FREE;
	c->outstanding--;
	if (cb) {
		c->in_cb++;
		cb(arg, err, lsn);
		c->in_cb--;
	}
}

/* FULL, BUSY or NOTREADY: 1 ms, doubling with each try, at most the timeout. */
static uint64_t backoff_ns(const struct klog_client *c, unsigned int tries)
{
	uint64_t ms = 1ull << (tries < 16 ? tries : 16);

	return (ms < c->opts.timeout_ms ? ms : c->opts.timeout_ms) * KLOG_NS_PER_MS;
}

/* One reply; returns 1 if it completed a request. */
static int handle_reply(struct klog_client *c, const struct klog_msg *m, uint64_t now)
{
	struct slot *s = &c->slots[m->request_id % c->opts.max_outstanding];
	uint64_t timeout = c->opts.timeout_ms * KLOG_NS_PER_MS;
	int err;

	if (m->client_id != c->opts.client_id || s->state == SLOT_FREE ||
	    s->request_id != m->request_id)
		return 0; /* another client's, or a duplicate of a completed one */
	switch (m->opcode) {
	case KLOG_OP_DURABLE:
		if (s->state == SLOT_PENDING && m->lsn != s->lsn)
			return 0;
		complete(c, s, 0, m->lsn);
		return 1;
	case KLOG_OP_ACK:
		if (!s->durable) {
			complete(c, s, 0, m->lsn);
			return 1;
		}
		/* Appended, not durable yet (also an answer to a QUERY): wait on. */
		if (s->state != SLOT_PENDING) {
			s->state = SLOT_PENDING;
			s->lsn = m->lsn;
			s->tries = 0;
			s->deadline = now + timeout;
		}
		return 0;
	case KLOG_OP_NACK:
		err = status_err(m->status);
		if (m->status == KLOG_ST_CORRUPT) {
			/* The record's LSN holds a tombstone: the answer names it. */
			if (s->state == SLOT_PENDING && m->lsn != s->lsn)
				return 0;
			complete(c, s, err, m->lsn);
			return 1;
		}
		if (transient_status(m->status)) {
			/*
			 * PENDING: the record has its LSN; a late answer to an
			 * earlier resend, or a QUERY refused for now: the next
			 * QUERY asks again.  BACKOFF: a retry is already due.
			 */
			if (s->state != SLOT_SENT)
				return 0;
			if (s->tries >= c->opts.retries) {
				complete(c, s, err, 0);
				return 1;
			}
			s->tries++;
			s->state = SLOT_BACKOFF;
			s->deadline = now + backoff_ns(c, s->tries - 1);
			return 0;
		}
		complete(c, s, err, s->state == SLOT_PENDING ? s->lsn : 0);
		return 1;
	default:
		return 0; /* a request, not a reply */
	}
}

/* Read every reply waiting on the socket; returns completions or -errno. */
static int receive(struct klog_client *c)
{
	int done = 0;

	/* Bounded, so that a flood of strays cannot keep poll from its timers. */
	for (unsigned int i = 0; i < 4 * KLOG_DEDUP_WINDOW + 64; i++) {
		struct klog_hdr h;
		struct klog_msg m;
		ssize_t n = recv(c->fd, &h, sizeof(h), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			if (klog_udp_lost(errno))
				continue;
			return -errno;
		}
		if (n > (ssize_t)sizeof(h))
			n = sizeof(h); /* a reply is a header; ignore anything after it */
		if (!klog_decode(&h, (size_t)n, &m))
			done += handle_reply(c, &m, klog_now_ns());
	}
	return done;
}

/* Act on every slot whose deadline has passed; returns completions. */
static int run_timers(struct klog_client *c, uint64_t now)
{
	uint64_t timeout = c->opts.timeout_ms * KLOG_NS_PER_MS;
	int done = 0, err;

	for (unsigned int i = 0; i < c->opts.max_outstanding; i++) {
		struct slot *s = &c->slots[i];

		if (s->state == SLOT_FREE || s->deadline > now)
			continue;
		if (s->state != SLOT_BACKOFF && s->tries >= c->opts.retries) {
			complete(c, s, -ETIMEDOUT, s->state == SLOT_PENDING ? s->lsn : 0);
			done++;
			continue;
		}
		if (s->state == SLOT_PENDING) {
			s->tries++;
			err = send_query(c, s);
		} else {
			if (s->state == SLOT_SENT)
				s->tries++;
			s->state = SLOT_SENT;
			err = transmit(c, s->dgram, s->dlen);
		}
		if (err) {
			complete(c, s, err, s->state == SLOT_PENDING ? s->lsn : 0);
			done++;
			continue;
		}
		s->deadline = now + timeout;
	}
	return done;
}

/* ms until the first deadline (rounded up), 0 if one has passed, -1 if none. */
static int next_timeout(const struct klog_client *c, uint64_t now)
{
	uint64_t first = UINT64_MAX;

	for (unsigned int i = 0; i < c->opts.max_outstanding; i++)
		if (c->slots[i].state != SLOT_FREE && c->slots[i].deadline < first)
			first = c->slots[i].deadline;
	if (first == UINT64_MAX)
		return -1;
	if (first <= now)
		return 0;
	return (int)((first - now + KLOG_NS_PER_MS - 1) / KLOG_NS_PER_MS);
}

int klog_client_outstanding(struct klog_client *c, int *timeout_ms)
{
	if (timeout_ms)
		*timeout_ms = next_timeout(c, klog_now_ns());
	return (int)c->outstanding;
}

int klog_client_submit(struct klog_client *c, const void *payload, size_t len, uint64_t txid,
		       unsigned int flags, klog_append_cb cb, void *arg)
{
	uint64_t request_id = c->next_request;
	struct slot *s = &c->slots[request_id % c->opts.max_outstanding];
	struct klog_msg m = {
		.opcode = KLOG_OP_APPEND,
		.flags = KLOG_F_CRC | (flags & KLOG_APPEND_DURABLE ? KLOG_F_DURABLE : 0),
		.client_id = c->opts.client_id,
		.len = (uint16_t)len,
		.request_id = request_id,
		.txid = txid,
	};
	int n, err;

	if ((flags & ~KLOG_APPEND_DURABLE) || !len || !payload)
		return -EINVAL;
	if (len > KLOG_MAX_RECORD)
		return -EMSGSIZE;
	/* The server checks the bytes against it before they may be durable. */
	m.lsn = klog_crc32c(0, payload, len);
	if (s->state != SLOT_FREE)
		return -EAGAIN;
	n = klog_encode(s->dgram, sizeof(s->dgram), &m, payload);
	if (n < 0)
		return n;
	/* Never reuse an id, even one whose datagram could not be sent. */
	c->next_request++;
	if ((err = transmit(c, s->dgram, (size_t)n)))
		return err;
	s->request_id = request_id;
	s->txid = txid;
	s->lsn = 0;
	s->deadline = klog_now_ns() + c->opts.timeout_ms * KLOG_NS_PER_MS;
	s->cb = cb;
	s->arg = arg;
	s->tries = 0;
	s->dlen = (uint16_t)n;
	s->durable = flags & KLOG_APPEND_DURABLE;
	s->state = SLOT_SENT;
	c->outstanding++;
	return 0;
}

/* klog_client_poll without the reentrancy check. */
static int poll_client(struct klog_client *c, int timeout_ms)
{
	uint64_t start = klog_now_ns();
	uint64_t end = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * KLOG_NS_PER_MS;
	int done = 0;

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int n = receive(c), wait;
		uint64_t now;

		if (n < 0)
			return n;
		now = klog_now_ns();
		done += n + run_timers(c, now);
		if (done || !c->outstanding || now >= end)
			return done;
		wait = next_timeout(c, now);
		if (end != UINT64_MAX) {
			int left = (int)((end - now + KLOG_NS_PER_MS - 1) / KLOG_NS_PER_MS);

			if (wait < 0 || left < wait)
				wait = left;
		}
		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			return -errno;
	}
}

int klog_client_poll(struct klog_client *c, int timeout_ms)
{
	if (c->in_cb)
		return -EDEADLK;
	return poll_client(c, timeout_ms);
}

int klog_client_flush(struct klog_client *c, int timeout_ms)
{
	uint64_t end = timeout_ms < 0 ? UINT64_MAX : klog_now_ns() + (uint64_t)timeout_ms * KLOG_NS_PER_MS;

	if (c->in_cb)
		return -EDEADLK;
	for (;;) {
		uint64_t now = klog_now_ns();
		int n = poll_client(c, end == UINT64_MAX ? -1 : now >= end ? 0 :
				    (int)((end - now + KLOG_NS_PER_MS - 1) / KLOG_NS_PER_MS));

		if (n < 0)
			return n;
		if (!c->outstanding)
			return 0;
		if (klog_now_ns() >= end)
			return -ETIMEDOUT;
	}
}

struct waiter {
	bool done;
	int err;
	uint64_t lsn;
};

static void waiter_done(void *arg, int err, uint64_t lsn)
{
	struct waiter *w = arg;

	w->done = true;
	w->err = err;
	w->lsn = lsn;
}

static int append_wait(struct klog_client *c, const void *payload, size_t len, uint64_t txid,
		       unsigned int flags, uint64_t *lsn)
{
	struct waiter w = { 0 };
	int err;

	if (c->in_cb)
		return -EDEADLK;
	while ((err = klog_client_submit(c, payload, len, txid, flags, waiter_done, &w)) ==
	       -EAGAIN) {
		if ((err = poll_client(c, -1)) < 0)
			return err;
	}
	if (err)
		return err;
	while (!w.done) {
		if ((err = poll_client(c, -1)) < 0) {
			/* The socket failed: forget the request, w is about to go. */
			for (unsigned int i = 0; i < c->opts.max_outstanding; i++) {
				struct slot *s = &c->slots[i];

				if (s->state != SLOT_FREE && s->arg == &w && s->cb == waiter_done) {
					s->state = SLOT_FREE;
					c->outstanding--;
				}
			}
			return err;
		}
	}
	if (lsn)
		*lsn = w.lsn;
	return w.err;
}

int klog_client_append(struct klog_client *c, const void *payload, size_t len, uint64_t txid,
		       uint64_t *lsn)
{
	return append_wait(c, payload, len, txid, 0, lsn);
}

int klog_client_append_durable(struct klog_client *c, const void *payload, size_t len,
			       uint64_t txid, uint64_t *lsn)
{
	return append_wait(c, payload, len, txid, KLOG_APPEND_DURABLE, lsn);
}
