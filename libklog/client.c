// SPDX-License-Identifier: GPL-2.0-only
/* client.c - append records to a klog server over UDP (see klog.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

struct klog_client {
	int fd;
	struct klog_client_opts opts;
	uint64_t next_request;
	uint8_t buf[sizeof(struct klog_hdr) + KLOG_MAX_RECORD];
};

int klog_client_open(struct klog_client **out, const char *host, const char *port,
		     const struct klog_client_opts *opts)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai, *a;
	struct klog_client *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->opts = opts ? *opts : (struct klog_client_opts){ 0 };
	if (!c->opts.timeout_ms)
		c->opts.timeout_ms = 200;
	if (!opts)
		c->opts.retries = 10;
	if (!c->opts.client_id &&
	    getrandom(&c->opts.client_id, sizeof(c->opts.client_id), 0) < 0) {
		free(c);
		return -errno;
	}
	if (getrandom(&c->next_request, sizeof(c->next_request), 0) < 0) {
		free(c);
		return -errno;
	}
	err = getaddrinfo(host, port ? port : "7070", &hints, &ai);
	if (err) {
		free(c);
		return err == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	c->fd = -1;
	/* connect(): replies then come only from the server, and ICMP errors surface. */
	for (a = ai; a && c->fd < 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
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

static int status_err(unsigned int status)
{
	switch (status) {
	case KLOG_ST_FULL: return -ENOSPC;
	case KLOG_ST_BUSY: return -EBUSY;
	case KLOG_ST_NOTREADY: return -EAGAIN;
	case KLOG_ST_TOOBIG: return -EMSGSIZE;
	case KLOG_ST_BADLEN: return -EINVAL;
	default: return -EPROTO;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait up to timeout_ms for the reply to request_id.  Returns 0 with *m set,
 * -ETIMEDOUT, or -errno (ECONNREFUSED: nothing listens, the program is not
 * attached).
 */
static int wait_reply(struct klog_client *c, uint64_t request_id, struct klog_msg *m)
{
	int64_t deadline = now_ms() + c->opts.timeout_ms;
	struct klog_hdr reply;

	for (int64_t left; (left = deadline - now_ms()) > 0;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int n = poll(&p, 1, (int)left);
		ssize_t got;

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		got = recv(c->fd, &reply, sizeof(reply), 0);
		if (got < 0)
			return -errno;
		/* Stray replies (to an earlier, resent request) are skipped. */
		if (!klog_decode(&reply, (size_t)got, m) && m->request_id == request_id &&
		    m->client_id == c->opts.client_id &&
		    (m->opcode == KLOG_OP_ACK || m->opcode == KLOG_OP_NACK))
			return 0;
	}
	return -ETIMEDOUT;
}

int klog_client_append(struct klog_client *c, const void *payload, size_t len, uint64_t txid,
		       uint64_t *lsn)
{
	uint64_t request_id = c->next_request++;
	int n = klog_encode_append(c->buf, sizeof(c->buf), c->opts.client_id, request_id, txid,
				   payload, len);
	int err = -ETIMEDOUT;

	if (n < 0)
		return n == -EINVAL ? -EMSGSIZE : n;
	for (unsigned int attempt = 0; attempt <= c->opts.retries; attempt++) {
		struct klog_msg m;

		if (send(c->fd, c->buf, (size_t)n, 0) < 0 && errno != ECONNREFUSED)
			return -errno;
		err = wait_reply(c, request_id, &m);
		if (err == -ETIMEDOUT || err == -ECONNREFUSED)
			continue; /* lost, or the server was restarting: send it again */
		if (err)
			return err;
		if (m.opcode == KLOG_OP_ACK) {
			*lsn = m.lsn;
			return 0;
		}
		err = status_err(m.status);
		if (err != -ENOSPC && err != -EBUSY && err != -EAGAIN)
			return err;
		/* Full or busy: give the daemon time to drain, a little longer each try. */
		usleep(1000u * (attempt + 1));
	}
	return err;
}
