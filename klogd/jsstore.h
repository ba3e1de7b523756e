/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * jsstore.h - the jetstream store's state (jetstream.h), shared by
 * jetstream.c (publishing, acknowledgements, the store's ops) and
 * jsresync.c (finding where the stream ends after a failure).  Internal.
 */
#ifndef KLOGD_JSSTORE_H
#define KLOGD_JSSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "jetstream.h"
#include "jstream.h"

struct slot {
	uint8_t *data;    /* the sealed record (format.h), klog_rec_size(max_record) bytes */
	uint32_t size;
	uint64_t lsn;
	uint64_t sent_ns; /* its last publish; 0: not published since the last resync */
	bool acked;
};

struct js_store {
	struct klogd_store store;
	struct klogd_js_opts o;  /* a copy: its strings must outlive the store */
	struct klog_js c;        /* each publish written at once; requests */
	struct klog_js bulk;     /* publishes buffered, flushed once per batch */
	bool on_bulk;            /* the records in flight went on bulk */
	bool connected;          /* the stream answered once: next is where it ended */
	natsSubscription *acks;  /* the acknowledgements: INBOX.<epoch>.<lsn> */
	char inbox[64];
	uint64_t epoch;          /* resyncs so far: a failure of an older publish is stale */
	uint64_t log_id;
	struct slot *ring;       /* o.inflight slots: LSN n in ring[n & mask] */
	uint64_t mask;
	uint64_t next;           /* the next record's LSN */
	uint64_t unsent;         /* the first LSN appended and not published yet */
	uint64_t durable;        /* every LSN below is stored by the stream */
	uint64_t reserved;       /* payload bytes + 1 of the reserved record; 0: none */
	bool resync;             /* something went wrong: ask the stream, publish again */
	int fatal;               /* the store failed for good (error says why) */
	char why[256];           /* what made resync be set, for the log */
	uint64_t retry_ns;       /* resync not before */
	uint64_t backoff_ms;
	uint64_t nag_ns;         /* next "waiting for" line not before */
	bool waiting;            /* a "waiting for" line was printed: say when it is over */
	char wait_what[160];     /* what it waits for, while waiting (klogd_store_waiting) */
	char error[512];         /* klogd_store_error */
};

#define S(s) ((struct js_store *)(s))
#define CS(s) ((const struct js_store *)(s))

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline struct slot *slot_of(struct js_store *s, uint64_t lsn)
{
	return &s->ring[lsn & s->mask];
}

/* Something went wrong with a publish: resync (the first reason is the one told). */
__attribute__((format(printf, 2, 3))) void js_need_resync(struct js_store *s, const char *fmt,
							   ...);

/*
 * Publish the records from s->unsent on (jetstream.c).  RETURN VALUE: 0, or
 * -EIO (resync is set).
 */
int js_publish(struct js_store *s);

/*
 * Ask the stream where it ends, take every LSN up to there as durable, and
 * publish the rest again in order, in a new epoch (jsresync.c).  RETURN
 * VALUE: 0; -EAGAIN to be tried again later (after a backoff); a fatal
 * error (s->fatal, s->error).
 */
int js_resync(struct js_store *s);

/* The stream acknowledged records: the backoff restarts, a wait told is over. */
void js_progress(struct js_store *s);

/* Say what klogd waits for (at most every 10 s); wait the next backoff. */
void js_nag(struct js_store *s, const char *what);
int js_backoff(struct js_store *s);
int js_fail(struct js_store *s, int err);

#endif
