/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * segtrim.h - deleting a log directory's oldest whole segments: klogd's
 * retention (--retain-*) and klogctl trim run the same code (doc/klogd.md,
 * "Retention").  Internal to klog; functions return 0 or a negative errno.
 */
#ifndef KLOG_SEGTRIM_H
#define KLOG_SEGTRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The lock file a deletion holds, in the log directory. */
#define KLOG_TRIM_LOCK "trim.lock"

/* A segment as the policy sees it. */
struct klog_trim_seg {
	uint64_t first;  /* its first LSN */
	uint64_t bytes;  /* its file's and its index's sizes */
	int64_t mtime;   /* when it was last written (wall clock, seconds) */
};

/*
 * What goes; every limit of 0 is none.  A segment goes if any limit wants
 * it gone, and only if every segment older goes too: what is left is
 * always the newest segments, a contiguous end of the log.
 */
struct klog_trim_policy {
	uint64_t below;    /* segments whose every LSN is below this (klogctl trim --before) */
	uint64_t bytes;    /* keep at most this many bytes (--retain-bytes) */
	uint64_t age_s;    /* segments last written longer ago than this (--retain-age) */
	uint64_t segments; /* keep at most this many segments (--retain-segments) */
	/*
	 * Never a segment holding an LSN at or above this (klogd: the durable
	 * LSN); 0: no such bound (but the newest segment, the one klogd writes,
	 * never goes, and every older one is durable: klogd makes a segment's
	 * records durable before it creates the next).
	 */
	uint64_t durable;
	int64_t now;       /* wall clock, seconds, for age_s */
	bool wait;         /* wait for another deletion's lock (else -EWOULDBLOCK) */
};

/* What a deletion did. */
struct klog_trim_result {
	uint64_t first;           /* first LSN of the oldest segment before; 0 if none */
	uint64_t segments, bytes; /* deleted */
	uint64_t kept, kept_bytes; /* left */
	uint64_t first_kept;      /* first LSN of the oldest segment left; 0 if none */
};

/*
 * How many of the n segments s (oldest first) the policy p deletes: never
 * the newest, never one with an LSN at or above p->durable.  No I/O.
 */
size_t klog_trim_count(const struct klog_trim_seg *s, size_t n, const struct klog_trim_policy *p);

/*
 * Hold the directory's trim lock (KLOG_TRIM_LOCK, created if missing):
 * exclusive to delete, shared to read the whole list of segments without
 * one going meanwhile (klog_verify, klogd's recovery).  RETURN VALUE: the
 * descriptor, closed to release; -EWOULDBLOCK if held and !wait; -errno.
 */
int klog_trim_lock(int dirfd, bool shared, bool wait);

/*
 * Delete the segments of directory dirfd that p says go, oldest first,
 * each file then its index, then fsync the directory: a crash leaves the
 * newest segments and at most an index without its segment (removed by the
 * next deletion; no reader or recovery looks at it).  Under the exclusive
 * trim lock.  *r tells what was deleted and what is left.
 * RETURN VALUE: 0 (also when nothing goes); -ENOENT if the directory holds
 * no segment; -EWOULDBLOCK (the lock, !p->wait); -errno of listing,
 * unlinking or syncing (what was deleted before is in *r).
 */
int klog_seg_trim(int dirfd, const struct klog_trim_policy *p, struct klog_trim_result *r);

#endif /* KLOG_SEGTRIM_H */
