/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * notify.h - DURABLE notices: after a group commit, tell each client that
 * asked for a durable acknowledgement that its record is on disk.
 */
#ifndef KLOGD_NOTIFY_H
#define KLOGD_NOTIFY_H

#include <stdint.h>

#include <klog/klog_abi.h>

struct klogd_notify;

/*
 * Sockets bound to the service port (IPv4 and IPv6), so notices come from
 * the address and port the requests went to.  cap: records per batch; the
 * notices of two batches are queued at most (one being written, the next
 * being staged).  RETURN VALUE: 0, or -errno (logged): -ENOMEM, or the
 * error of either family's socket that cannot be bound (-EADDRINUSE:
 * another process holds the port).  A host without IPv6 (-EAFNOSUPPORT)
 * gets IPv4 only, and a log line.
 */
int klogd_notify_open(struct klogd_notify **n, uint16_t port, uint32_t cap);
void klogd_notify_close(struct klogd_notify *n);

/* The sockets, for the read thread (serve.h) to receive on; -1: that family has none. */
void klogd_notify_fds(const struct klogd_notify *n, int *fd4, int *fd6);

/*
 * Queue the notice for record lsn, to the client waiter w names: a DURABLE
 * for status KLOG_ST_OK; for KLOG_ST_CORRUPT (the LSN holds a tombstone) a
 * NACK CORRUPT with the LSN, the answer to the client's durable wait
 * (doc/protocol.md).
 */
void klogd_notify_add(struct klogd_notify *n, const struct klog_waiter *w, uint64_t lsn,
		      uint32_t client_id, uint64_t request_id, uint64_t txid, uint16_t status);

/*
 * Send the queued notices of records below durable (they are on disk now);
 * later ones stay queued.  RETURN VALUE: notices sent.
 */
int klogd_notify_flush(struct klogd_notify *n, uint64_t durable);

#endif
