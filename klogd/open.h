/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * open.h - open the store --backend names (store.h): a log directory
 * through the uring or psync file backend, or a JetStream stream, paired
 * with the pinned kernel log if there is one.  Functions return 0 or
 * -errno, and log why they failed.
 */
#ifndef KLOGD_OPEN_H
#define KLOGD_OPEN_H

#include <stdbool.h>
#include <stdint.h>

#include <klog/klog_abi.h>

#include "backend.h"
#include "store.h"

struct klogd_store_cfg {
	const char *backend;  /* uring, psync or jetstream */
	const char *dir;      /* uring, psync: the log directory */
	uint64_t seg_size;
	const char *nats;     /* jetstream: the servers, */
	const char *stream;   /* the stream, */
	int replicas;         /* and its replicas */
};

/* Is name a backend (uring, psync, jetstream)?  Does it write a directory? */
bool klogd_backend_known(const char *name);
bool klogd_backend_is_dir(const char *name);

/*
 * Open the store.  pinned (NULL: a new kernel log) names the log it must
 * be and what it acknowledged durable.  A stream that cannot be reached is
 * waited for, with a backoff, until it can or a signal comes on sfd
 * (-EINTR).  *b is the file backend of a directory store (NULL for a
 * stream), to be closed after the store.
 */
int klogd_store_open(const struct klogd_store_cfg *c, const struct klog_ctl *pinned, int sfd,
		     struct klogd_store **s, struct klogd_store_info *info,
		     struct klog_backend **b);

#endif
