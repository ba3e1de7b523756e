// SPDX-License-Identifier: GPL-2.0-only
/* serve.c - the read thread: receive READ and INFO, park long polls (see serve.h). */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kern.h"
#include "log.h"
#include "parse.h"
#include "serve.h"
#include "serve_int.h"

/* Long polls held at once; one more is answered NOTYET at once and polls again. */
#define MAX_WAITERS 1024
/* A parked READ whose LSN the kernel calls durable but the log does not show yet. */
#define RECHECK_MS 2

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Receive one datagram on fd with the address it was sent to; false if none is waiting. */
static bool recv_one(int fd, bool v6, struct serve_req *q, void *buf, size_t cap, size_t *n)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr m = { .msg_name = &q->peer.addr, .msg_namelen = sizeof(q->peer.addr),
			    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	ssize_t r = recvmsg(fd, &m, MSG_DONTWAIT | MSG_TRUNC);

	if (r < 0)
		return false;
	*n = (size_t)r > cap ? cap + 1 : (size_t)r; /* a truncated datagram is too long */
	q->peer.fd = fd;
	q->peer.v6 = v6;
	q->peer.addr_len = m.msg_namelen;
	memset(&q->peer.dst, 0, sizeof(q->peer.dst));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (!v6 && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			memcpy(&q->peer.dst.v4.ipi_spec_dst,
			       &((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr, 4);
		else if (v6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
			memcpy(&q->peer.dst.v6.ipi6_addr,
			       &((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_addr, 16);
	}
	return true;
}

/* An address of a socket or a pktinfo, as the access maps hold it (IPv4 mapped). */
static void peer_addr(const struct serve_peer *p, bool dst, struct klog_addr *a)
{
	if (!p->v6)
		klog_addr_v4(a, dst ? (const void *)&p->dst.v4.ipi_spec_dst
				    : (const void *)&((const struct sockaddr_in *)&p->addr)->sin_addr);
	else
		klog_addr_v6(a, dst ? (const void *)&p->dst.v6.ipi6_addr
				    : (const void *)&((const struct sockaddr_in6 *)&p->addr)->sin6_addr);
}

static uint16_t peer_port(const struct serve_peer *p)
{
	return be16toh(p->v6 ? ((const struct sockaddr_in6 *)&p->addr)->sin6_port
			     : ((const struct sockaddr_in *)&p->addr)->sin_port);
}

/*
 * Whether to look at a klog request at all, by the programs' rules
 * (bpf/access.bpf.h): sent to one of this server's addresses, from an
 * allowed source, not a reply nor from the service port.  Counts what it
 * turns away.
 */
static bool admit(struct klogd_serve *s, const struct serve_req *q)
{
	struct klog_addr a;

	if (klog_hdr_is_reply(&q->hdr) || peer_port(&q->peer) == s->cfg.port) {
		s->replies++;
		return false;
	}
	peer_addr(&q->peer, true, &a);
	if (!klog_kern_is_local(s->cfg.k, &a)) {
		s->foreign++;
		return false;
	}
	peer_addr(&q->peer, false, &a);
	if (!klog_kern_allowed(s->cfg.k, &a)) {
		s->refused++;
		return false;
	}
	return true;
}

/* The operator hears of the first APPEND the programs left to the stack; the rest are counted. */
static void first_toobig(const struct serve_req *q)
{
	char src[KLOG_CIDR_STRLEN];
	struct klog_addr a;

	peer_addr(&q->peer, false, &a);
	klogd_warn("an APPEND from %s reached klogd's socket (fragmented, or headers the programs "
		  "do not parse): answered TOOBIG, not appended; further ones are only counted",
		  klog_format_addr(&a, src, sizeof(src)));
}

int serve_header(const void *buf, size_t n, struct serve_req *q)
{
	const struct klog_hdr *h = buf;

	if (n < sizeof(*h) || h->magic != htobe32(KLOG_MAGIC) || h->version != KLOG_VERSION_1)
		return -1;
	q->hdr = *h;
	return 0;
}

int serve_decode(const void *buf, size_t n, struct serve_req *q)
{
	const struct klog_hdr *h = &q->hdr;
	struct klog_read_req rr;
	uint32_t len;

	if (h->opcode != KLOG_OP_READ && h->opcode != KLOG_OP_INFO)
		return -1;
	len = be16toh(h->len);
	if (h->flags)
		return KLOG_ST_FLAGS;
	if (n != sizeof(*h) + len || (h->opcode == KLOG_OP_INFO ? len != 0
								: len != 0 && len != sizeof(rr)))
		return KLOG_ST_BADLEN;
	q->from = be64toh(h->lsn);
	q->to = q->from;
	q->budget = 0;
	q->deadline = 0;
	if (len) {
		memcpy(&rr, (const char *)buf + sizeof(*h), sizeof(rr));
		q->to = rr.to_lsn ? be64toh(rr.to_lsn) : UINT64_MAX;
		q->budget = be32toh(rr.max_bytes);
		if (!q->budget)
			q->to = q->from;
		else if (q->budget > KLOG_READ_MAX_BYTES)
			q->budget = KLOG_READ_MAX_BYTES;
		if (rr.wait_ms) {
			uint32_t ms = be32toh(rr.wait_ms);

			q->deadline = now_ms() + (ms < KLOG_READ_MAX_WAIT_MS ? ms
								 : KLOG_READ_MAX_WAIT_MS);
		}
	}
	if (q->to < q->from)
		q->to = q->from;
	return 0;
}

/*
 * Decode a request into q.  RETURN VALUE: 0 to answer it; a status to
 * NACK it with; -1 to ignore it (not klog, another version, a reply, or
 * not a request); -2 if turned away by admit().
 */
static int parse(struct klogd_serve *s, const void *buf, size_t n, struct serve_req *q)
{
	if (serve_header(buf, n, q))
		return -1;
	if (!admit(s, q))
		return -2;
	/*
	 * The programs take every APPEND and QUERY they can parse: one here came
	 * fragmented, too big for the hook, or with headers they do not follow.
	 * It was not appended and never will be: the client hears so at once.
	 */
	if (q->hdr.opcode == KLOG_OP_APPEND) {
		if (!s->appends++)
			first_toobig(q);
		return KLOG_ST_TOOBIG;
	}
	if (q->hdr.opcode == KLOG_OP_QUERY) {
		s->queries++;
		return KLOG_ST_OPCODE;
	}
	return serve_decode(buf, n, q);
}

/* Answer q, or park it while it waits for its LSN. */
static void serve_req(struct klogd_serve *s, const struct serve_req *q)
{
	if (q->hdr.opcode == KLOG_OP_INFO) {
		serve_info(s, q);
		return;
	}
	if (serve_read(s, q, q->deadline != 0) != -EAGAIN)
		return;
	if (s->nwait == MAX_WAITERS) {
		serve_read(s, q, false); /* NOTYET now: the client polls again */
		return;
	}
	s->wait[s->nwait] = *q;
	__atomic_store_n(&s->nwait, s->nwait + 1, __ATOMIC_RELEASE);
	s->long_polls++;
}

static void drain_socket(struct klogd_serve *s, int fd, bool v6)
{
	static char buf[sizeof(struct klog_hdr) + sizeof(struct klog_read_req)];
	struct serve_req q;
	size_t n;
	int st;

	while (recv_one(fd, v6, &q, buf, sizeof(buf), &n)) {
		st = parse(s, buf, n, &q);
		if (st == -1)
			s->ignored++;
		else if (st < 0)
			continue; /* counted by admit() */
		else if (st > 0)
			serve_nack(s, &q, (uint16_t)st, be64toh(q.hdr.lsn));
		else
			serve_req(s, &q);
	}
}

/*
 * Answer the parked READs whose LSN became durable or whose wait is over.
 * RETURN VALUE: how long to sleep before looking again (-1: until woken).
 */
static int sweep_waiters(struct klogd_serve *s)
{
	uint64_t now = now_ms(), durable = __atomic_load_n(&s->cfg.ctl->durable_lsn,
							    __ATOMIC_ACQUIRE);
	int sleep = -1;
	uint32_t k = 0;

	for (uint32_t i = 0; i < s->nwait; i++) {
		struct serve_req *q = &s->wait[i];
		bool due = now >= q->deadline;
		int ms;

		if ((q->from < durable || due) && serve_read(s, q, !due) != -EAGAIN)
			continue; /* answered */
		ms = q->from < durable ? RECHECK_MS : (int)(q->deadline - now);
		if (sleep < 0 || ms < sleep)
			sleep = ms;
		s->wait[k++] = *q;
	}
	__atomic_store_n(&s->nwait, k, __ATOMIC_RELEASE);
	return sleep;
}

static void *serve_thread(void *arg)
{
	struct klogd_serve *s = arg;
	struct pollfd p[3] = {
		{ .fd = s->efd, .events = POLLIN },
		{ .fd = s->cfg.fd4, .events = POLLIN },
		{ .fd = s->cfg.fd6, .events = POLLIN },
	};
	int sleep = -1;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint64_t v;

		if (poll(p, 3, sleep) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN && read(s->efd, &v, sizeof(v)) < 0)
			continue;
		if (p[1].revents & POLLIN)
			drain_socket(s, s->cfg.fd4, false);
		if (p[2].revents & POLLIN)
			drain_socket(s, s->cfg.fd6, true);
		sleep = sweep_waiters(s);
	}
	return NULL;
}

/* Ask for the address each request was sent to: answers leave from it. */
static int want_pktinfo(int fd, bool v6)
{
	int one = 1;

	if (fd < 0)
		return 0;
	if (v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))
	       : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)))
		return -errno;
	return 0;
}

int klogd_serve_start(struct klogd_serve **out, const struct klogd_serve_cfg *cfg)
{
	struct klogd_serve *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->efd = -1;
	s->wait = calloc(MAX_WAITERS, sizeof(*s->wait));
	if (!s->wait || (err = serve_answer_init(s)))
		goto fail;
	if ((err = want_pktinfo(cfg->fd4, false)) || (err = want_pktinfo(cfg->fd6, true)))
		goto fail;
	err = cfg->dir ? klog_reader_open(&s->r, cfg->dir)
		       : klog_reader_open_nats(&s->r, cfg->nats, cfg->stream);
	if (err)
		goto fail;
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0) {
		err = -errno;
		goto fail;
	}
	if ((err = -pthread_create(&s->thread, NULL, serve_thread, s)))
		goto fail;
	*out = s;
	return 0;
fail:
	klogd_err("cannot start answering reads: %s", strerror(-err));
	if (s->efd >= 0)
		close(s->efd);
	klog_reader_close(s->r);
	serve_answer_free(s);
	free(s->wait);
	free(s);
	return err;
}

void klogd_serve_kick(struct klogd_serve *s)
{
	if (s && __atomic_load_n(&s->nwait, __ATOMIC_ACQUIRE) &&
	    eventfd_write(s->efd, 1) < 0)
		return; /* the counter is saturated: the thread is awake anyway */
}

void klogd_serve_stop(struct klogd_serve *s)
{
	if (!s)
		return;
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	if (eventfd_write(s->efd, 1) == 0)
		pthread_join(s->thread, NULL);
	else
		pthread_cancel(s->thread), pthread_join(s->thread, NULL);
	if (s->reads || s->infos)
		klogd_log("served %llu reads (%llu records, %llu bytes; %llu long polls), "
			  "%llu infos, %llu refused",
			  (unsigned long long)s->reads, (unsigned long long)s->records,
			  (unsigned long long)s->bytes, (unsigned long long)s->long_polls,
			  (unsigned long long)s->infos, (unsigned long long)s->nacks);
	if (s->appends || s->queries || s->foreign || s->refused || s->replies)
		klogd_warn("on the service port: %llu appends answered TOOBIG (fragmented or too "
			  "big for the hook), %llu queries answered OPCODE; not answered: %llu to "
			  "another address, %llu from refused sources, %llu replies",
			  (unsigned long long)s->appends, (unsigned long long)s->queries,
			  (unsigned long long)s->foreign, (unsigned long long)s->refused,
			  (unsigned long long)s->replies);
	close(s->efd);
	klog_reader_close(s->r);
	serve_answer_free(s);
	free(s->wait);
	free(s);
}
