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
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

#define DEFAULT_TIMEOUT_MS 200
#define DEFAULT_RETRIES 10
#define NS_PER_MS 1000000ull

/*
 * What the kernel charges a socket for one datagram of ours (skb truesize).
 * A reply is a 40-byte header, but XDP_TX builds it in the request's frame,
 * and the receiving veth charges that whole frame: measured on Linux 6.18,
 * 4352 bytes for the reply to a 1400-byte record, 2304 for a 1350-byte one,
 * 1088 for a small one.  So a frame for the largest request (headers,
 * 256 bytes of XDP headroom, 320 of skb_shared_info), rounded up to a power
 * of two, at least a page, and 512 bytes of struct sk_buff and slack.
 */
#define FRAME_BYTES (sizeof(struct klog_hdr) + KLOG_MAX_RECORD + 14 + 40 + 8 + 256 + 320)
#define DGRAM_TRUESIZE (FRAME_BYTES <= 4096 ? 4096 + 512 :			\
			FRAME_BYTES <= 8192 ? 8192 + 512 : 16384 + 512)
/*
 * Per request in flight: its reply and one more, the DURABLE notice after
 * ACK+PENDING, or the answer to a resend crossing the first.
 */
#define BUF_PER_REQUEST (2 * DGRAM_TRUESIZE)

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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Make the socket's buffer (SO_RCVBUF or SO_SNDBUF) at least need bytes: a
 * reply dropped on a full buffer costs a resend after the whole timeout.
 * The kernel doubles the value asked (for its bookkeeping, which truesize
 * already counts) and caps it at net.core.[rw]mem_max unless the caller
 * may force it.  Never shrinks a larger default.  RETURN VALUE: 0, or
 * -ENOBUFS when the buffer stays smaller (the client still works).
 */
static int size_buffer(int fd, int opt, int force, int need)
{
	int have, ask = need / 2 + 1;
	socklen_t len = sizeof(have);

	if (getsockopt(fd, SOL_SOCKET, opt, &have, &len))
		return -errno;
	if (have >= need)
		return 0;
	setsockopt(fd, SOL_SOCKET, opt, &ask, sizeof(ask));
	len = sizeof(have);
	if (!getsockopt(fd, SOL_SOCKET, opt, &have, &len) && have >= need)
		return 0;
	setsockopt(fd, SOL_SOCKET, force, &ask, sizeof(ask)); /* CAP_NET_ADMIN */
	len = sizeof(have);
	if (getsockopt(fd, SOL_SOCKET, opt, &have, &len))
		return -errno;
	if (have >= need)
		return 0;
	fprintf(stderr, "libklog: warning: the socket's %s buffer is %d bytes, %d wanted for "
		"the requests in flight: raise net.core.%s, or datagrams dropped on a full "
		"buffer are resent only after the timeout\n",
		opt == SO_RCVBUF ? "receive" : "send", have, need,
		opt == SO_RCVBUF ? "rmem_max" : "wmem_max");
	return -ENOBUFS;
}

int klog_client_open(struct klog_client **out, const char *host, const char *port,
		     const struct klog_client_opts *opts)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai, *a;
	struct klog_client_opts o = opts ? *opts : (struct klog_client_opts){
		.retries = DEFAULT_RETRIES,
	};
	struct klog_client *c;
	struct timespec ts;
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
	/* Ids grow across restarts too, unless the last run sent more than 1/ns. */
	clock_gettime(CLOCK_REALTIME, &ts);
	c->next_request = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	err = getaddrinfo(host, port ? port : "7070", &hints, &ai);
	if (err) {
		free(c);
		return err == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	c->fd = -1;
	/* connect(): replies then come only from the server, and ICMP errors surface. */
	for (a = ai; a && c->fd < 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen)) {
			close(c->fd);
			c->fd = -1;
		}
	}
	err = -errno;
	freeaddrinfo(ai);
	if (c->fd < 0) {
		free(c);
		return err;
	}
	size_buffer(c->fd, SO_RCVBUF, SO_RCVBUFFORCE, (int)(o.max_outstanding * BUF_PER_REQUEST));
	size_buffer(c->fd, SO_SNDBUF, SO_SNDBUFFORCE, (int)(o.max_outstanding * BUF_PER_REQUEST));
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
	default: return -EPROTO; /* VERSION, OPCODE, FLAGS, unknown */
	}
}

static bool transient_status(unsigned int status)
{
	return status == KLOG_ST_FULL || status == KLOG_ST_BUSY || status == KLOG_ST_NOTREADY;
}

/*
 * Errors of send() and recv() that mean a datagram was (or may have been)
 * lost, not that the socket is unusable: ICMP errors reported on the
 * connected socket (ECONNREFUSED while a server restarts) and full buffers.
 */
static bool lost_errno(int err)
{
	switch (err) {
	case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case EHOSTDOWN:
	case ENETDOWN: case EAGAIN: case ENOBUFS: case EINTR:
		return true;
	default:
		return false;
	}
}

/* 0, or -errno if the datagram could not be sent for a reason other than a loss. */
static int transmit(struct klog_client *c, const void *buf, size_t n)
{
	if (send(c->fd, buf, n, MSG_NOSIGNAL) >= 0 || lost_errno(errno))
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

	return (ms < c->opts.timeout_ms ? ms : c->opts.timeout_ms) * NS_PER_MS;
}

/* One reply; returns 1 if it completed a request. */
static int handle_reply(struct klog_client *c, const struct klog_msg *m, uint64_t now)
{
	struct slot *s = &c->slots[m->request_id % c->opts.max_outstanding];
	uint64_t timeout = c->opts.timeout_ms * NS_PER_MS;
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
			if (lost_errno(errno))
				continue;
			return -errno;
		}
		if (n > (ssize_t)sizeof(h))
			n = sizeof(h); /* a reply is a header; ignore anything after it */
		if (!klog_decode(&h, (size_t)n, &m))
			done += handle_reply(c, &m, now_ns());
	}
	return done;
}

/* Act on every slot whose deadline has passed; returns completions. */
static int run_timers(struct klog_client *c, uint64_t now)
{
	uint64_t timeout = c->opts.timeout_ms * NS_PER_MS;
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
	return (int)((first - now + NS_PER_MS - 1) / NS_PER_MS);
}

int klog_client_outstanding(struct klog_client *c, int *timeout_ms)
{
	if (timeout_ms)
		*timeout_ms = next_timeout(c, now_ns());
	return (int)c->outstanding;
}

int klog_client_submit(struct klog_client *c, const void *payload, size_t len, uint64_t txid,
		       unsigned int flags, klog_append_cb cb, void *arg)
{
	uint64_t request_id = c->next_request;
	struct slot *s = &c->slots[request_id % c->opts.max_outstanding];
	struct klog_msg m = {
		.opcode = KLOG_OP_APPEND,
		.flags = flags & KLOG_APPEND_DURABLE ? KLOG_F_DURABLE : 0,
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
	s->deadline = now_ns() + c->opts.timeout_ms * NS_PER_MS;
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
	uint64_t start = now_ns();
	uint64_t end = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * NS_PER_MS;
	int done = 0;

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int n = receive(c), wait;
		uint64_t now;

		if (n < 0)
			return n;
		now = now_ns();
		done += n + run_timers(c, now);
		if (done || !c->outstanding || now >= end)
			return done;
		wait = next_timeout(c, now);
		if (end != UINT64_MAX) {
			int left = (int)((end - now + NS_PER_MS - 1) / NS_PER_MS);

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
	uint64_t end = timeout_ms < 0 ? UINT64_MAX : now_ns() + (uint64_t)timeout_ms * NS_PER_MS;

	if (c->in_cb)
		return -EDEADLK;
	for (;;) {
		uint64_t now = now_ns();
		int n = poll_client(c, end == UINT64_MAX ? -1 : now >= end ? 0 :
				    (int)((end - now + NS_PER_MS - 1) / NS_PER_MS));

		if (n < 0)
			return n;
		if (!c->outstanding)
			return 0;
		if (now_ns() >= end)
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
