/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store.h - where the drain puts records: one ops table, two kinds.
 *
 *   - a log directory (writer.h), written through a file backend (uring,
 *     psync: backend.h), made durable by a datasync;
 *   - a NATS JetStream stream (jetstream.h), made durable by the stream's
 *     acknowledgement (a quorum of replicas stored it).
 *
 * The file backends move bytes to file offsets; a stream takes whole
 * records, so this is the seam both share (doc/design.md, "Replication").
 * The drain stages records in LSN order, starts commits and publishes what
 * the store calls durable: only then is the kernel log truncated and a
 * DURABLE notice sent.  Functions return 0 or -errno.
 */
#ifndef KLOGD_STORE_H
#define KLOGD_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct klogd_store;

struct klogd_store_ops {
	const char *name;
	/*
	 * Where up to max_len payload bytes of the next record go, or NULL
	 * with *err: -EAGAIN when the store holds as many records not yet
	 * durable as it can (the drain stops staging until some are), or a
	 * failure.
	 */
	void *(*reserve)(struct klogd_store *s, uint32_t max_len, int *err);
	/*
	 * Seal the reserved record lsn (the store's next LSN) of len bytes,
	 * with record flags (format.h: KLOG_REC_F_TOMBSTONE, len 0, for a
	 * record whose bytes were damaged; else 0).
	 */
	int (*append)(struct klogd_store *s, uint64_t lsn, uint64_t txid, uint32_t len,
		      uint32_t flags);
	/* Start making every record appended so far durable. */
	int (*commit_start)(struct klogd_store *s);
	/*
	 * Look at (wait: wait for) what was started: 0 once every record
	 * appended is durable; -EAGAIN if some are not yet (with wait, the
	 * store waited a while, up to about 100 ms, and they are still not:
	 * the drain should look elsewhere before it comes back); -errno if the
	 * store failed for good.  durable() may have moved meanwhile.
	 */
	int (*commit_wait)(struct klogd_store *s, bool wait);
	uint64_t (*durable)(const struct klogd_store *s); /* every LSN below is durable */
	uint64_t (*next)(const struct klogd_store *s);    /* the next record's LSN */
	/* What went wrong with the last failure, as a line; "" if nothing more to say. */
	const char *(*error)(const struct klogd_store *s);
	/*
	 * What the store waits for while it cannot take records (a stream's
	 * cluster unreachable or without quorum), as a line; NULL while it
	 * takes them.  May be NULL: a store that never waits.
	 */
	const char *(*waiting)(const struct klogd_store *s);
	void (*close)(struct klogd_store *s);
};

/* Every store's state begins with this. */
struct klogd_store {
	const struct klogd_store_ops *ops;
};

/* What opening a store found: where the log ends, and which log it is. */
struct klogd_store_info {
	uint64_t next_lsn;
	uint64_t log_id;
	bool created;  /* it was empty (or missing): a new log */
	bool direct;   /* a directory written with O_DIRECT */
};

static inline void *klogd_store_reserve(struct klogd_store *s, uint32_t max_len, int *err)
{
	return s->ops->reserve(s, max_len, err);
}

static inline int klogd_store_append(struct klogd_store *s, uint64_t lsn, uint64_t txid,
				     uint32_t len, uint32_t flags)
{
	return s->ops->append(s, lsn, txid, len, flags);
}

static inline int klogd_store_commit_start(struct klogd_store *s)
{
	return s->ops->commit_start(s);
}

static inline int klogd_store_commit_wait(struct klogd_store *s, bool wait)
{
	return s->ops->commit_wait(s, wait);
}

static inline uint64_t klogd_store_durable(const struct klogd_store *s)
{
	return s->ops->durable(s);
}

static inline uint64_t klogd_store_next(const struct klogd_store *s)
{
	return s->ops->next(s);
}

static inline const char *klogd_store_error(const struct klogd_store *s)
{
	return s->ops->error(s);
}

static inline const char *klogd_store_waiting(const struct klogd_store *s)
{
	return s->ops->waiting ? s->ops->waiting(s) : NULL;
}

static inline void klogd_store_close(struct klogd_store *s)
{
	if (s)
		s->ops->close(s);
}

#endif
