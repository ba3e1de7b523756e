/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rsrc.h - where a reader's records come from: a log directory (rdir.c), a
 * NATS JetStream stream (rstream.c), a klog server over UDP (rremote.c) or
 * an export file (rfile.c).  reader.c holds the public calls and hands each
 * to its reader's source through this small table, so the sources share one
 * API and one set of error meanings (klog.h) without an if/else on the kind
 * of source.  Internal to libklog.
 */
#ifndef KLOG_RSRC_H
#define KLOG_RSRC_H

#include <stdint.h>

#include <klog/klog.h>

#include "format.h"

_Static_assert(KLOG_REC_F_TOMBSTONE == KLOG_RECORD_CORRUPT, "one bit marks a tombstone");

/* A tombstone's payload, as fn sees it: NULL. */
static inline const void *klog_rec_payload(const struct klog_rec *rec)
{
	return (rec->flags & KLOG_REC_F_TOMBSTONE) ? NULL : rec->payload;
}

#define KLOG_READER_MSG 512 /* bytes of klog_reader_strerror()'s detail */

/*
 * A source's calls.  Each writes the detail of an error it returns into the
 * msg it was opened with (KLOG_READER_MSG bytes), and clears it first.
 */
struct klog_rsrc_ops {
	/*
	 * Start a source on where (a directory; URLs; a server) and arg: for a
	 * stream its name, for a server its struct klog_remote_opts (may be NULL).
	 */
	int (*open)(void **src, const char *where, const void *arg, char *msg);
	void (*close)(void *src);
	int (*bounds)(void *src, uint64_t *first, uint64_t *last);
	/* Record lsn decoded into rec; its payload stays valid until the next call on src. */
	int (*lookup)(void *src, uint64_t lsn, struct klog_rec *rec);
	/* klog_iterate() on src; NULL: one lookup per LSN (reader.c). */
	int (*iterate)(void *src, uint64_t from, uint64_t to, klog_iter_fn fn, void *ctx);
	/* The log's id (klog_reader_log_id()); NULL: the source cannot tell (-EOPNOTSUPP). */
	int (*log_id)(void *src, uint64_t *id);
	/* klog_reader_wait() on src: timeout_ms -1 waits for ever. */
	int (*wait)(void *src, uint64_t lsn, int timeout_ms);
};

extern const struct klog_rsrc_ops klog_rdir_ops;
extern const struct klog_rsrc_ops klog_rfile_ops;

/* Write the detail of err into msg (KLOG_READER_MSG bytes) and return err. */
int klog_rsrc_fail(char *msg, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A reader of ops's source on where and arg (klog_reader_open*()). */
int klog_reader_start(struct klog_reader **r, const struct klog_rsrc_ops *ops, const char *where,
		      const void *arg);

/* The CLOCK_MONOTONIC ns at which a wait of timeout_ms ends; UINT64_MAX for -1 (none). */
uint64_t klog_rsrc_deadline(int timeout_ms);

/* ms left until deadline, rounded up: 0 once it has passed, -1 if it is UINT64_MAX. */
int klog_rsrc_left_ms(uint64_t deadline);

/*
 * A wait for a source that tells no one of a new record: lookup of lsn on
 * src every every_ms until it is not -EAGAIN, or -ETIMEDOUT (no detail
 * written: the caller says what it waited for).
 */
int klog_rsrc_poll(int (*lookup)(void *src, uint64_t lsn, struct klog_rec *rec), void *src,
		   uint64_t lsn, int timeout_ms, int every_ms);

/* The public metadata of a decoded record. */
static inline struct klog_record klog_rec_meta(const struct klog_rec *rec, uint64_t lsn)
{
	return (struct klog_record){ .lsn = lsn, .txid = rec->txid, .len = rec->len,
				     .crc = rec->crc, .flags = rec->flags & KLOG_RECORD_CORRUPT };
}

#endif /* KLOG_RSRC_H */
