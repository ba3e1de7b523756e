// SPDX-License-Identifier: GPL-2.0-only
/*
 * rfile.c - a reader's records from an export file by LSN (klog.h; the
 * file source of rsrc.h; the format is xformat.h's).
 *
 * An export has no index: opening it walks the frames once (xfile.c) and
 * keeps each one's offset, so a read is one pread of a frame that is
 * checked again as it is read.  The walk stops at the trailer, at the end
 * of the file, or at the first problem, and a reader never goes past that:
 * what follows a damaged frame or a gap is not returned, even if it looks
 * whole.  A file with no trailer may still be written to (klogctl export,
 * tail --raw): a read past the end walks on if the file has grown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rsrc.h"
#include "xfile.h"

struct klog_rfile {
	struct klog_xfile f;
	char *path;             /* as given, for messages */
	uint64_t *ix;           /* offset of the frame of LSN first_lsn + i */
	uint64_t n, cap;        /* frames walked, and room in ix */
	uint64_t at;            /* where the walk goes on: after the last frame walked */
	struct klog_xstep stop; /* what it stopped at: a trailer, the end, or a problem */
	off_t size;             /* the file's size then; -1: not walked yet */
	char *msg;              /* the reader's: the last error's detail */
};

#define failf(r, err, ...) klog_rsrc_fail((r)->msg, err, __VA_ARGS__)

/* err at offset off where LSN lsn is, with why. */
static int fail_at(struct klog_rfile *r, int err, uint64_t off, uint64_t lsn, const char *why)
{
	return failf(r, err, "%s offset %" PRIu64 " LSN %" PRIu64 ": %s", r->path, off, lsn, why);
}

/* A read that failed: the file is there but cannot be read (EIO), as a reader says -ENOLINK. */
static int io_fail(struct klog_rfile *r, int err, uint64_t off)
{
	return failf(r, err == -ENOMEM ? err : -ENOLINK, "%s offset %" PRIu64 ": cannot read: %s",
		     r->path, off, strerror(-err));
}

static void rfile_close(void *src)
{
	struct klog_rfile *r = src;

	klog_xfile_close(&r->f);
	free(r->ix);
	free(r->path);
	free(r);
}

static int rfile_open(void **out, const char *path, const void *arg, char *msg)
{
	struct klog_rfile *r = calloc(1, sizeof(*r));
	int err;

	(void)arg;
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return -ENOMEM;
	}
	if ((err = klog_xfile_open(&r->f, path))) {
		free(r->path);
		free(r);
		return err;
	}
	r->msg = msg;
	r->at = KLOG_XHDR_SIZE;
	r->size = -1;
	*out = r;
	return 0;
}

/* Walk on from where the last walk stopped, if the file may hold more now. */
static int walk(struct klog_rfile *r)
{
	struct stat st;
	int err;

	if (r->stop.kind == KLOG_XK_TRAILER && r->size >= 0)
		return 0; /* complete: nothing more will come */
	if (fstat(r->f.fd, &st))
		return io_fail(r, -errno, r->at);
	if (st.st_size == r->size)
		return 0;
	r->size = st.st_size;
	for (;;) {
		if ((err = klog_xfile_step(&r->f, r->at, r->f.h.first_lsn + r->n, &r->stop)))
			return io_fail(r, err, r->at);
		if (r->stop.kind != KLOG_XK_FRAME)
			return 0;
		if (r->n == r->cap) {
			uint64_t cap = r->cap ? 2 * r->cap : 1024, *ix = realloc(r->ix, cap * 8);

			if (!ix)
				return -ENOMEM;
			r->ix = ix;
			r->cap = cap;
		}
		r->ix[r->n++] = r->at;
		r->at = r->stop.next;
	}
}

/* The header decodes (if not, nothing in the file is read). */
static int header(struct klog_rfile *r)
{
	r->msg[0] = 0;
	return r->f.hdr_err ? failf(r, r->f.hdr_err, "%s offset 0: %s", r->path, r->f.hdr_why) : 0;
}

/* The header decodes and the walk is as far as the file goes now. */
static int ready(struct klog_rfile *r)
{
	int err = header(r);

	return err ? err : walk(r);
}

static int rfile_bounds(void *src, uint64_t *first, uint64_t *last)
{
	struct klog_rfile *r = src;
	int err = ready(r);

	if (err)
		return err;
	*first = r->f.h.first_lsn;
	/* A damaged frame is in the range, so that reading up to the end stops at it. */
	if (r->f.h.last_lsn)
		*last = r->f.h.last_lsn;
	else if (r->stop.kind == KLOG_XK_BAD)
		*last = *first + r->n;
	else if (r->n)
		*last = *first + r->n - 1;
	else
		return failf(r, -ENODATA, "%s: no record%s", r->path,
			     r->stop.kind == KLOG_XK_TRAILER ? " (complete, empty)" : " yet");
	return 0;
}

/* lsn, at or past the end of the walk: why it is not there. */
static int past(struct klog_rfile *r, uint64_t lsn)
{
	uint64_t end = r->f.h.first_lsn + r->n;

	if (r->f.h.last_lsn && lsn > r->f.h.last_lsn)
		return failf(r, -EAGAIN, "%s: the export ends at LSN %" PRIu64, r->path,
			     r->f.h.last_lsn);
	switch (r->stop.kind) {
	case KLOG_XK_TRAILER:
		return failf(r, -EAGAIN, "%s: the export ends at LSN %" PRIu64, r->path, end - 1);
	case KLOG_XK_END:
		/* Open-ended, ending at a frame's end: still written, or cut; only a check knows. */
		return fail_at(r, r->f.h.last_lsn ? -EBADMSG : -EAGAIN, r->at, end, r->stop.why);
	default:
		return fail_at(r, r->stop.err, r->stop.off, end, r->stop.why);
	}
}

static int rfile_lookup(void *src, uint64_t lsn, struct klog_rec *rec)
{
	struct klog_rfile *r = src;
	struct klog_xstep s;
	uint64_t first = r->f.h.first_lsn;
	int err = lsn >= first + r->n ? ready(r) : header(r);

	if (err)
		return err;
	if (lsn < first)
		return failf(r, -ENOENT, "%s: the export starts at LSN %" PRIu64, r->path, first);
	if (lsn >= first + r->n)
		return past(r, lsn);
	/* Checked again as it is read: the file may have changed since the walk. */
	if ((err = klog_xfile_step(&r->f, r->ix[lsn - first], lsn, &s)))
		return io_fail(r, err, r->ix[lsn - first]);
	if (s.kind != KLOG_XK_FRAME)
		return fail_at(r, s.kind == KLOG_XK_BAD ? s.err : -EBADMSG, r->ix[lsn - first], lsn,
			       s.kind == KLOG_XK_BAD ? s.why : "cut short since it was first read");
	*rec = s.rec;
	return 0;
}

static int rfile_log_id(void *src, uint64_t *id)
{
	struct klog_rfile *r = src;
	int err = header(r);

	if (!err)
		*id = r->f.h.log_id;
	return err;
}

/* A file tells no one it grew (tail --raw into it): look every 100 ms. */
static int rfile_wait(void *src, uint64_t lsn, int timeout_ms)
{
	struct klog_rfile *r = src;
	int err = klog_rsrc_poll(rfile_lookup, r, lsn, timeout_ms, 100);

	if (err == -ETIMEDOUT)
		return failf(r, err, "%s: LSN %" PRIu64 " not written after %d ms", r->path, lsn,
			     timeout_ms);
	return err;
}

const struct klog_rsrc_ops klog_rfile_ops = {
	.open = rfile_open,
	.close = rfile_close,
	.bounds = rfile_bounds,
	.lookup = rfile_lookup,
	.log_id = rfile_log_id,
	.wait = rfile_wait,
};
