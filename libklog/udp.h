/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * udp.h - what the append client (client.c) and the remote reader
 * (rremote.c) share about talking to a server over UDP: resolving and
 * connecting, sizing the socket's buffers, and which errors are a lost
 * datagram.  Internal to libklog.
 */
#ifndef KLOG_UDP_H
#define KLOG_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <klog/klog.h>

/*
 * What the kernel charges a socket for one datagram of ours (skb truesize).
 * A reply is a 40-byte header, but XDP_TX builds it in the request's frame,
 * and the receiving veth charges that whole frame: measured on Linux 6.18,
 * 4352 bytes for the reply to a 1400-byte record, 2304 for a 1350-byte one,
 * 1088 for a small one.  So a frame for the largest request (headers,
 * 256 bytes of XDP headroom, 320 of skb_shared_info), rounded up to a power
 * of two, at least a page, and 512 bytes of struct sk_buff and slack.  A
 * RECORD answering a READ is no larger than that frame either.
 */
#define KLOG_UDP_FRAME_BYTES (sizeof(struct klog_hdr) + KLOG_MAX_RECORD + 14 + 40 + 8 + 256 + 320)
#define KLOG_UDP_TRUESIZE (KLOG_UDP_FRAME_BYTES <= 4096 ? 4096 + 512 :			\
			   KLOG_UDP_FRAME_BYTES <= 8192 ? 8192 + 512 : 16384 + 512)

#define KLOG_NS_PER_MS 1000000ull

static inline uint64_t klog_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A non-blocking UDP socket connected to host and port (NULL: 7070), into
 * *fd: replies then come only from the server, and ICMP errors surface.
 * RETURN VALUE: 0; -EINVAL if port is not a decimal 1..65535; -ENXIO if host
 * does not resolve (klog_udp_resolve_error() says why); -errno.
 */
int klog_udp_connect(const char *host, const char *port, int *fd);

/* "cannot resolve HOST: WHY" of this thread's last -ENXIO from klog_udp_connect(). */
const char *klog_udp_resolve_error(void);

/*
 * Make the socket's buffer (SO_RCVBUF or SO_SNDBUF, forced with force as
 * CAP_NET_ADMIN allows) at least need bytes, with a warning on stderr if it
 * stays smaller.  RETURN VALUE: 0; -ENOBUFS when it stays smaller (the
 * socket still works, with resends); -errno.
 */
int klog_udp_size_buffer(int fd, int opt, int force, int need);

/*
 * Errors of send() and recv() that mean a datagram was (or may have been)
 * lost, not that the socket is unusable: ICMP errors reported on the
 * connected socket (ECONNREFUSED while a server restarts) and full buffers.
 */
bool klog_udp_lost(int err);

/*
 * The first request id of a client: the wall clock in nanoseconds, so that
 * ids also grow across restarts of a program with a fixed client_id (unless
 * the last run sent more than one per ns).
 */
uint64_t klog_udp_first_request(void);

#endif /* KLOG_UDP_H */
