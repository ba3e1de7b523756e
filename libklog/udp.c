// SPDX-License-Identifier: GPL-2.0-only
/* udp.c - see udp.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parse.h"
#include "udp.h"

/* The last name this thread could not resolve, and why: klog_strerror(-ENXIO). */
static __thread char resolve_error[160];

const char *klog_udp_resolve_error(void)
{
	return *resolve_error ? resolve_error : "cannot resolve the server's name";
}

int klog_udp_connect(const char *host, const char *port, int *out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV }, *ai, *a;
	uint16_t p;
	int fd = -1, err;

	/* getaddrinfo() takes "70000" as port 4464: only 1..65535, in decimal. */
	if (port && klog_parse_port(port, &p))
		return -EINVAL;
	err = getaddrinfo(host, port ? port : "7070", &hints, &ai);
	if (err == EAI_SYSTEM)
		return -errno;
	if (err) {
		snprintf(resolve_error, sizeof(resolve_error), "cannot resolve %s: %s", host,
			 gai_strerror(err));
		return -ENXIO;
	}
	for (a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen)) {
			close(fd);
			fd = -1;
		}
	}
	err = -errno;
	freeaddrinfo(ai);
	if (fd < 0)
		return err;
	*out = fd;
	return 0;
}

/*
 * A datagram dropped on a full buffer costs a resend after the whole
 * timeout.  The kernel doubles the value asked (for its bookkeeping, which
 * truesize already counts) and caps it at net.core.[rw]mem_max unless the
 * caller may force it.  Never shrinks a larger default.
 */
int klog_udp_size_buffer(int fd, int opt, int force, int need)
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
		"the datagrams in flight: raise net.core.%s, or datagrams dropped on a full "
		"buffer are resent only after the timeout\n",
		opt == SO_RCVBUF ? "receive" : "send", have, need,
		opt == SO_RCVBUF ? "rmem_max" : "wmem_max");
	return -ENOBUFS;
}

bool klog_udp_lost(int err)
{
	switch (err) {
	case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case EHOSTDOWN:
	case ENETDOWN: case EAGAIN: case ENOBUFS: case EINTR:
		return true;
	default:
		return false;
	}
}

uint64_t klog_udp_first_request(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
