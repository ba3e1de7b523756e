// SPDX-License-Identifier: GPL-2.0-only
/*
 * rdir.c - a reader's records from a log directory by LSN (klog.h; the
 * directory source of rsrc.h).
 *
 * The index names only durable records (klogd writes an entry after the
 * datasync that covers it), so its length is the durable point and nothing
 * past it is ever returned.  Each segment is read through rseg.c: mapped,
 * with the index entries read so far kept, within a memory budget.
 *
 * A reader is never silent about what it cannot read: a segment or index
 * that does not open, a hole between segments, a damaged record are each an
 * error with its own code, and klog_reader_strerror() names the file, the
 * offset and the LSNs.  Segments are opened when first read and at most
 * KLOG_READER_MAX_OPEN are open at once, so a log of thousands of segments
 * needs a few dozen descriptors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <klog/klog.h>

#include "format.h"
#include "rseg.h"
#include "rsrc.h"
#include "segdir.h"

/*
 * Bytes of index entries a reader keeps, all segments together (8 per
 * record: 64 MiB covers 8M records); the segments read least recently give
 * theirs up first.  Tests build the reader with a small one.
 */
#ifndef KLOG_READER_IX_CACHE
#define KLOG_READER_IX_CACHE (64u << 20)
#endif

/* Segments open at once (two descriptors and a mapping each); the least recently used shuts. */
#ifndef KLOG_READER_MAX_OPEN
#define KLOG_READER_MAX_OPEN 16
#endif

struct klog_rdir {
	int dirfd;
	int ifd;               /* inotify on the directory, for klog_reader_wait(); -1 until then */
	char *dir;             /* as given, for messages */
	struct klog_rseg *seg; /* sorted by first LSN */
	size_t nseg;
	size_t nopen;          /* segments open */
	uint8_t *buf;          /* one record of the largest size */
	size_t buf_size;
	uint64_t clock;        /* segment uses so far: what "least recently" counts in */
	size_t ix_bytes;       /* index entries kept, all segments */
	char *msg;             /* the reader's: the last error's detail */
};

/* Set the detail of err in the reader's message, and return err. */
#define failf(r, err, ...) klog_rsrc_fail((r)->msg, err, __VA_ARGS__)

/* LSNs s holds, for messages: "LSNs 51..100", "LSNs from 101" for the last segment. */
static void span_of(const struct klog_rdir *r, size_t i, char *out, size_t n)
{
	if (i + 1 < r->nseg)
		snprintf(out, n, "LSNs %" PRIu64 "..%" PRIu64, r->seg[i].first,
			 r->seg[i + 1].first - 1);
	else
		snprintf(out, n, "LSNs from %" PRIu64, r->seg[i].first);
}

/* The detail of an error of segment i: its file, offset and what was wrong, and its LSNs. */
static int seg_fail(struct klog_rdir *r, size_t i, int err, const struct klog_rseg_err *e)
{
	char span[64], off[32] = ":";

	span_of(r, i, span, sizeof(span));
	if (e->off != UINT64_MAX)
		snprintf(off, sizeof(off), " offset %" PRIu64, e->off);
	return failf(r, err, "%s/%s%s %s (segment of %s)", r->dir, e->file, off, e->why, span);
}

/* The first LSNs of the segments in the directory now, sorted: *firsts malloc'd. */
static int list_segments(struct klog_rdir *r, uint64_t **firsts, size_t *n)
{
	int err = klog_seg_list(r->dirfd, false, firsts, n);

	return err && err != -ENOMEM ?
		       failf(r, err, "%s: cannot list: %s", r->dir, strerror(-err)) : err;
}

static void seg_forget(struct klog_rdir *r, struct klog_rseg *s)
{
	if (s->fd >= 0)
		r->nopen--;
	r->ix_bytes -= s->ix_bytes;
	klog_rseg_close(s);
}

/*
 * Take the directory's segments as they are now: new ones klogd created
 * since the last look, without the ones retired; what is known of those
 * that stay is kept.
 */
static int refresh(struct klog_rdir *r)
{
	struct klog_rseg *seg = NULL;
	uint64_t *firsts;
	size_t n, j = 0;
	int err = list_segments(r, &firsts, &n);

	if (err)
		return err;
	if (n && !(seg = calloc(n, sizeof(*seg)))) {
		free(firsts);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		while (j < r->nseg && r->seg[j].first < firsts[i])
			seg_forget(r, &r->seg[j++]);
		if (j < r->nseg && r->seg[j].first == firsts[i])
			seg[i] = r->seg[j++];
		else
			klog_rseg_init(&seg[i], r->dirfd, firsts[i]);
	}
	while (j < r->nseg)
		seg_forget(r, &r->seg[j++]);
	free(r->seg);
	free(firsts);
	r->seg = seg;
	r->nseg = n;
	return 0;
}

static void rdir_close(void *src)
{
	struct klog_rdir *r = src;

	if (!r)
		return;
	for (size_t i = 0; i < r->nseg; i++)
		klog_rseg_close(&r->seg[i]);
	if (r->dirfd >= 0)
		close(r->dirfd);
	if (r->ifd >= 0)
		close(r->ifd);
	free(r->seg);
	free(r->buf);
	free(r->dir);
	free(r);
}

static int rdir_open(void **out, const char *dir, const void *arg, char *msg)
{
	struct klog_rdir *r = calloc(1, sizeof(*r));
	int err;

	(void)arg;
	if (!r)
		return -ENOMEM;
	r->msg = msg;
	r->ifd = -1;
	r->buf_size = klog_rec_size(KLOG_MAX_RECORD);
	r->buf = malloc(r->buf_size);
	r->dir = strdup(dir);
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!r->buf || !r->dir || r->dirfd < 0) {
		err = r->buf && r->dir ? -errno : -ENOMEM;
		rdir_close(r);
		return err;
	}
	if ((err = refresh(r))) {
		rdir_close(r);
		return err;
	}
	*out = r;
	return 0;
}

/* Shut the segment used least recently but keep, if one is open; false if none. */
static bool shut_lru(struct klog_rdir *r, const struct klog_rseg *keep)
{
	struct klog_rseg *old = NULL;

	for (size_t i = 0; i < r->nseg; i++) {
		struct klog_rseg *s = &r->seg[i];

		if (s != keep && s->fd >= 0 && (!old || s->used < old->used))
			old = s;
	}
	if (old) {
		klog_rseg_shut(old);
		r->nopen--;
	}
	return old;
}

/*
 * Segment i open and counted (recounted if recount: the index may have
 * grown).  Out of descriptors, it shuts others and tries again; -EMFILE
 * once none is left to shut.
 */
static int seg_use(struct klog_rdir *r, size_t i, bool recount)
{
	struct klog_rseg *s = &r->seg[i];
	struct klog_rseg_err e;
	bool last = i + 1 == r->nseg;
	int err;

	s->used = ++r->clock;
	if (s->fd < 0) {
		while (r->nopen >= KLOG_READER_MAX_OPEN && shut_lru(r, s))
			;
		while ((err = klog_rseg_open(s, last, &e)) == -EMFILE || err == -ENFILE)
			if (!shut_lru(r, s))
				break;
		if (err)
			return seg_fail(r, i, err, &e);
		r->nopen++;
	}
	if ((recount || !s->counted) && (err = klog_rseg_count(s, last, &e)))
		return seg_fail(r, i, err, &e);
	return 0;
}

/* How many segments start at or below lsn: the one holding it is that minus 1. */
static size_t find(const struct klog_rdir *r, uint64_t lsn)
{
	size_t lo = 0, hi = r->nseg;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->seg[mid].first <= lsn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int rdir_bounds(void *src, uint64_t *first, uint64_t *last)
{
	struct klog_rdir *r = src;
	int err;

	r->msg[0] = 0;
	if ((err = refresh(r)))
		return err;
	/* The last segment may be new and still empty: look back for a durable record. */
	for (size_t i = r->nseg; i-- > 0;) {
		if ((err = seg_use(r, i, true)))
			return err;
		if (r->seg[i].count) {
			*first = r->seg[0].first;
			*last = r->seg[i].first + r->seg[i].count - 1;
			return 0;
		}
	}
	return failf(r, -ENODATA, "%s: no durable record yet", r->dir);
}

/* Drop the index entries of the segments read least recently, but keep's, to the budget. */
static void ix_evict(struct klog_rdir *r, const struct klog_rseg *keep)
{
	while (r->ix_bytes > KLOG_READER_IX_CACHE) {
		struct klog_rseg *old = NULL;

		for (size_t i = 0; i < r->nseg; i++) {
			struct klog_rseg *s = &r->seg[i];

			if (s != keep && s->ix_bytes && (!old || s->used < old->used))
				old = s;
		}
		if (!old)
			return; /* what one segment has read may exceed the budget */
		r->ix_bytes -= old->ix_bytes;
		klog_rseg_drop_index(old);
	}
}

static int read_at(struct klog_rdir *r, size_t i, uint64_t lsn, struct klog_rec *rec)
{
	struct klog_rseg *s = &r->seg[i];
	size_t before = s->ix_bytes;
	struct klog_rseg_err e;
	int err = klog_rseg_read(s, lsn, r->buf, rec, &e);

	if (s->ix_bytes != before) {
		r->ix_bytes += s->ix_bytes - before;
		ix_evict(r, s);
	}
	return err ? seg_fail(r, i, err, &e) : 0;
}

/* lsn past segment i's durable records, with segment i + 1 after it: LSNs no file holds. */
static int hole(struct klog_rdir *r, size_t i, uint64_t lsn)
{
	const struct klog_rseg *s = &r->seg[i], *next = &r->seg[i + 1];
	char a[KLOG_SEG_NAME_MAX], b[KLOG_SEG_NAME_MAX];

	klog_seg_name(a, s->first, false);
	klog_seg_name(b, next->first, false);
	return failf(r, -ENOLINK,
		     "%s: LSN %" PRIu64 ": no segment holds LSNs %" PRIu64 "..%" PRIu64
		     " (%s ends at LSN %" PRIu64 ", %s starts at %" PRIu64 ")",
		     r->dir, lsn, s->first + s->count, next->first - 1, a,
		     s->first + s->count - 1, b, next->first);
}

/* Record lsn, decoded into r->buf: the errors klog_read documents. */
static int rdir_lookup(void *src, uint64_t lsn, struct klog_rec *rec)
{
	struct klog_rdir *r = src;
	int err;

	r->msg[0] = 0;
	/* What is known may be stale (new segments, a grown index): look again before failing. */
	for (int look = 0; look < 2; look++) {
		size_t i;

		if (look && (err = refresh(r)))
			return err;
		if (!(i = find(r, lsn))) {
			if (!r->nseg)
				continue;
			return failf(r, -ENOENT, "%s: LSN %" PRIu64 " was trimmed: the first "
				     "segment kept starts at LSN %" PRIu64, r->dir, lsn,
				     r->seg[0].first);
		}
		err = seg_use(r, --i, false);
		if (!err && lsn >= r->seg[i].first + r->seg[i].count)
			err = seg_use(r, i, true);
		if (err == -ENOLINK && !look)
			continue; /* retired since the last look, or missing: the next look tells */
		if (err)
			return err;
		if (lsn < r->seg[i].first + r->seg[i].count)
			return read_at(r, i, lsn, rec);
		if (i + 1 < r->nseg)
			return hole(r, i, lsn);
	}
	if (!r->nseg)
		return failf(r, -EAGAIN, "%s: no segment yet", r->dir);
	return failf(r, -EAGAIN, "%s: the durable log ends before LSN %" PRIu64, r->dir,
		     r->seg[r->nseg - 1].first + r->seg[r->nseg - 1].count);
}

/* The id in the first segment header that decodes: every segment carries the log's. */
static int rdir_log_id(void *src, uint64_t *id)
{
	struct klog_rdir *r = src;
	int err;

	if ((err = refresh(r)))
		return err;
	err = failf(r, -ENODATA, "%s: no segment yet", r->dir);
	for (size_t i = 0; i < r->nseg; i++) {
		struct klog_rseg_err e = { .off = 0 };

		if ((err = seg_use(r, i, false)))
			continue; /* its detail stays, should no later one do */
		if (!r->seg[i].bad) {
			*id = r->seg[i].log_id;
			r->msg[0] = 0;
			return 0;
		}
		klog_seg_name(e.file, r->seg[i].first, false);
		snprintf(e.why, sizeof(e.why), "%s", r->seg[i].bad);
		err = seg_fail(r, i, -EBADMSG, &e);
	}
	return err;
}

/* What changes in the directory when a record may have become durable, or trimmed. */
#define WAIT_EVENTS (IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

/*
 * klogd indexes a record only once it is durable, and creates, renames or
 * removes files for the rest: each is an inotify event on the directory, so
 * the wait sleeps until one and then looks again.  The watch is made before
 * the first look, so that nothing between the two is missed.
 */
static int rdir_wait(void *src, uint64_t lsn, int timeout_ms)
{
	uint64_t deadline = klog_rsrc_deadline(timeout_ms);
	struct klog_rdir *r = src;
	struct klog_rec rec;
	int err, left;

	if (r->ifd < 0) {
		r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (r->ifd < 0 || inotify_add_watch(r->ifd, r->dir, WAIT_EVENTS) < 0) {
			err = -errno;
			if (r->ifd >= 0)
				close(r->ifd);
			r->ifd = -1;
			return failf(r, err, "%s: cannot watch: %s", r->dir, strerror(-err));
		}
	}
	while ((err = rdir_lookup(r, lsn, &rec)) == -EAGAIN) {
		struct pollfd p = { .fd = r->ifd, .events = POLLIN };
		char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

		if (!(left = klog_rsrc_left_ms(deadline)))
			return failf(r, -ETIMEDOUT, "%s: LSN %" PRIu64 " not durable after %d ms",
				     r->dir, lsn, timeout_ms);
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return failf(r, -errno, "%s: waiting: %s", r->dir, strerror(errno));
		while (read(r->ifd, ev, sizeof(ev)) > 0)
			; /* which file changed does not matter: the lookup looks again */
	}
	return err;
}

const struct klog_rsrc_ops klog_rdir_ops = {
	.open = rdir_open,
	.close = rdir_close,
	.bounds = rdir_bounds,
	.lookup = rdir_lookup,
	.log_id = rdir_log_id,
	.wait = rdir_wait,
};
