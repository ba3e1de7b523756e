// SPDX-License-Identifier: GPL-2.0-only
/* notify.c - DURABLE notices (see notify.h). */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

/* One queued notice: the datagram, where it goes, and from which address. */
struct notice {
	struct klog_hdr hdr;
	struct sockaddr_in6 to; /* or a sockaddr_in */
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		size_t align; /* cmsghdr alignment */
	} ctl;
	struct iovec iov;
};

struct klogd_notify {
	int fd4, fd6;
	uint32_t cap, n4, n6;
	struct notice *q4, *q6;       /* queued per family */
	struct mmsghdr *m;            /* sendmmsg vector, cap entries */
	uint64_t dropped;
};

/* Bytes of send buffer: a READ answer's 256 datagrams, and notices besides. */
#define SEND_BUFFER (4 << 20)

static int bound_socket(int family, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, err;
	int sndbuf = SEND_BUFFER;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (fd < 0)
		return -errno;
	/* Room for a whole READ answer beside a batch of notices (serve.h); root may exceed wmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* The programs answer appends: this socket sends notices and serves reads (serve.h). */
	if (family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
			       : bind(fd, (struct sockaddr *)&a4, sizeof(a4))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int klogd_notify_open(struct klogd_notify **out, uint16_t port, uint32_t cap)
{
	struct klogd_notify *n = calloc(1, sizeof(*n));
	int err = -ENOMEM;

	if (n) {
		n->fd4 = n->fd6 = -1;
		/* A batch being staged while the one before is written: twice a batch queued. */
		n->cap = cap = 2 * cap;
		n->q4 = calloc(cap, sizeof(*n->q4));
		n->q6 = calloc(cap, sizeof(*n->q6));
		n->m = calloc(cap, sizeof(*n->m));
	}
	if (!n || !n->q4 || !n->q6 || !n->m) {
		klogd_err("cannot allocate the DURABLE notice queues: %s", strerror(-err));
		goto fail;
	}
	/*
	 * A client that asked for a durable ack and never hears it falls back
	 * to QUERY every timeout: slow, and silent.  So a port we cannot bind
	 * is a start-up error; only a host without IPv6 at all (its clients
	 * cannot reach us over IPv6 either) runs IPv4-only, and says so.
	 */
	n->fd4 = bound_socket(AF_INET, port);
	if (n->fd4 < 0) {
		err = n->fd4;
		klogd_err("cannot bind UDP port %u (IPv4) for DURABLE notices: %s", port,
			  strerror(-err));
		goto fail;
	}
	n->fd6 = bound_socket(AF_INET6, port);
	if (n->fd6 == -EAFNOSUPPORT) {
		klogd_warn("IPv6 is unavailable on this host: DURABLE notices over IPv4 only");
	} else if (n->fd6 < 0) {
		err = n->fd6;
		klogd_err("cannot bind UDP port %u (IPv6) for DURABLE notices: %s", port,
			  strerror(-err));
		goto fail;
	}
	*out = n;
	return 0;
fail:
	klogd_notify_close(n);
	return err;
}

void klogd_notify_close(struct klogd_notify *n)
{
	if (!n)
		return;
	if (n->fd4 >= 0)
		close(n->fd4);
	if (n->fd6 >= 0)
		close(n->fd6);
	free(n->q4);
	free(n->q6);
	free(n->m);
	free(n);
}

void klogd_notify_fds(const struct klogd_notify *n, int *fd4, int *fd6)
{
	*fd4 = n->fd4;
	*fd6 = n->fd6;
}

void klogd_notify_add(struct klogd_notify *n, const struct klog_waiter *w, uint64_t lsn,
		      uint32_t client_id, uint64_t request_id, uint64_t txid, uint16_t status)
{
	uint32_t *count = w->ipv6 ? &n->n6 : &n->n4;
	struct notice *q = (w->ipv6 ? n->q6 : n->q4) + *count;

	if (*count == n->cap) {
		n->dropped++; /* the client will ask with QUERY */
		return;
	}
	(*count)++;
	q->hdr = (struct klog_hdr){
		.magic = htobe32(KLOG_MAGIC), .version = KLOG_VERSION_1,
		.opcode = status == KLOG_ST_OK ? KLOG_OP_DURABLE : KLOG_OP_NACK,
		.client_id = htobe32(client_id),
		.status = htobe16(status), .request_id = htobe64(request_id),
		.txid = htobe64(txid), .lsn = htobe64(lsn),
	};
	memset(&q->to, 0, sizeof(q->to));
	memset(&q->ctl, 0, sizeof(q->ctl));
	if (w->ipv6) {
		struct in6_pktinfo pi = { 0 };

		q->to.sin6_family = AF_INET6;
		q->to.sin6_port = w->client_port;
		memcpy(&q->to.sin6_addr, w->client_addr, 16);
		memcpy(&pi.ipi6_addr, w->server_addr, 16);
		memcpy(q->ctl.buf + CMSG_LEN(0), &pi, sizeof(pi));
	} else {
		struct sockaddr_in *to = (struct sockaddr_in *)&q->to;
		struct in_pktinfo pi = { 0 };

		to->sin_family = AF_INET;
		to->sin_port = w->client_port;
		memcpy(&to->sin_addr, w->client_addr, 4);
		memcpy(&pi.ipi_spec_dst, w->server_addr, 4);
		memcpy(q->ctl.buf + CMSG_LEN(0), &pi, sizeof(pi));
	}
}

/* Send n queued notices of one family from fd, the source address set per notice. */
static int send_all(struct klogd_notify *n, int fd, struct notice *q, uint32_t count, bool v6)
{
	int sent = 0;

	for (uint32_t i = 0; i < count; i++) {
		struct cmsghdr *c = (struct cmsghdr *)q[i].ctl.buf;

		q[i].iov = (struct iovec){ .iov_base = &q[i].hdr, .iov_len = sizeof(q[i].hdr) };
		c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
		c->cmsg_type = v6 ? IPV6_PKTINFO : IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(v6 ? sizeof(struct in6_pktinfo) : sizeof(struct in_pktinfo));
		n->m[i].msg_hdr = (struct msghdr){
			.msg_name = &q[i].to,
			.msg_namelen = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
			.msg_iov = &q[i].iov, .msg_iovlen = 1,
			.msg_control = c, .msg_controllen = c->cmsg_len,
		};
	}
	while ((uint32_t)sent < count) {
		int r = sendmmsg(fd, n->m + sent, count - sent, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* A lost notice is not lost durability: the client asks with QUERY. */
			n->dropped += count - sent;
			break;
		}
		sent += r;
	}
	return sent;
}

/* Send the notices of one queue (in LSN order) for records below durable, keep the rest. */
static int flush_queue(struct klogd_notify *n, int fd, struct notice *q, uint32_t *count,
		       bool v6, uint64_t durable)
{
	uint32_t k = 0;
	int sent = 0;

	while (k < *count && be64toh(q[k].hdr.lsn) < durable)
		k++;
	if (k && fd >= 0)
		sent = send_all(n, fd, q, k, v6);
	memmove(q, q + k, (*count - k) * sizeof(*q));
	*count -= k;
	return sent;
}

int klogd_notify_flush(struct klogd_notify *n, uint64_t durable)
{
	return flush_queue(n, n->fd4, n->q4, &n->n4, false, durable) +
	       flush_queue(n, n->fd6, n->q6, &n->n6, true, durable);
}
