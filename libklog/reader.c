// SPDX-License-Identifier: GPL-2.0-only
/*
 * reader.c - records back from a log directory by LSN (see klog.h).
 *
 * The index names only durable records (klogd writes an entry after the
 * datasync that covers it), so its length is the durable point and nothing
 * past it is ever returned.  Each segment is read through rseg.c: mapped,
 * with the index entries read so far kept, within a memory budget.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "format.h"
#include "rseg.h"

/*
 * Bytes of index entries a reader keeps, all segments together (8 per
 * record: 64 MiB covers 8M records); the segments read least recently give
 * theirs up first.  Tests build the reader with a small one.
 */
#ifndef KLOG_READER_IX_CACHE
#define KLOG_READER_IX_CACHE (64u << 20)
#endif

struct klog_reader {
	int dirfd;
	struct klog_rseg *seg; /* sorted by first LSN */
	size_t nseg;
	uint8_t *buf;          /* one record of the largest size */
	size_t buf_size;
	uint64_t clock;        /* segment reads so far: what "least recently" counts in */
	size_t ix_bytes;       /* index entries kept, all segments */
};

static int seg_cmp(const void *a, const void *b)
{
	const struct klog_rseg *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Pick up segments klogd created since the last look, and the index's growth. */
static int refresh(struct klog_reader *r)
{
	int fd = dup(r->dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	int err = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		uint64_t first;
		bool known = false;

		if (klog_seg_parse_name(de->d_name, &first))
			continue;
		for (size_t i = 0; i < r->nseg && !known; i++)
			known = r->seg[i].first == first;
		if (known)
			continue;
		struct klog_rseg *n = realloc(r->seg, (r->nseg + 1) * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
			break;
		}
		r->seg = n;
		if (klog_rseg_open(&r->seg[r->nseg], r->dirfd, first) == 0)
			r->nseg++;
		/* else: a segment being created, or removed, between readdir and open */
	}
	closedir(d);
	qsort(r->seg, r->nseg, sizeof(*r->seg), seg_cmp);
	for (size_t i = 0; i < r->nseg && !err; i++)
		err = klog_rseg_count(&r->seg[i]);
	return err;
}

int klog_reader_open(struct klog_reader **out, const char *dir)
{
	struct klog_reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->buf_size = klog_rec_size(KLOG_MAX_RECORD);
	r->buf = malloc(r->buf_size);
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!r->buf || r->dirfd < 0) {
		err = r->buf ? -errno : -ENOMEM;
		klog_reader_close(r);
		return err;
	}
	if ((err = refresh(r))) {
		klog_reader_close(r);
		return err;
	}
	*out = r;
	return 0;
}

void klog_reader_close(struct klog_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nseg; i++)
		klog_rseg_close(&r->seg[i]);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->seg);
	free(r->buf);
	free(r);
}

/* The segment that holds lsn, or NULL. */
static struct klog_rseg *find(struct klog_reader *r, uint64_t lsn)
{
	size_t lo = 0, hi = r->nseg;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->seg[mid].first <= lsn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &r->seg[lo - 1] : NULL;
}

int klog_reader_bounds(struct klog_reader *r, uint64_t *first, uint64_t *last)
{
	int err = refresh(r);

	if (err)
		return err;
	/* The last segment may be new and still empty: look back for a durable record. */
	for (size_t i = r->nseg; i-- > 0;) {
		if (r->seg[i].count) {
			*first = r->seg[0].first;
			*last = r->seg[i].first + r->seg[i].count - 1;
			return 0;
		}
	}
	return -ENODATA;
}

/* Drop the index entries of the segments read least recently, but keep's, to the budget. */
static void ix_evict(struct klog_reader *r, const struct klog_rseg *keep)
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

static int read_at(struct klog_reader *r, struct klog_rseg *s, uint64_t lsn,
		   struct klog_rec *rec)
{
	size_t before = s->ix_bytes;
	int err = klog_rseg_read(s, lsn, r->buf, rec);

	s->used = ++r->clock;
	if (s->ix_bytes != before) {
		r->ix_bytes += s->ix_bytes - before;
		ix_evict(r, s);
	}
	return err;
}

/* Record lsn, decoded into r->buf: -ENOENT, -EAGAIN, -EBADMSG as klog_read says. */
static int lookup(struct klog_reader *r, uint64_t lsn, struct klog_rec *rec)
{
	struct klog_rseg *s = find(r, lsn);
	int err;

	if (!s || lsn >= s->first + s->count) {
		/* Not known durable yet: look again before saying so. */
		if ((err = refresh(r)))
			return err;
		s = find(r, lsn);
	}
	if (!s)
		return r->nseg ? -ENOENT : -EAGAIN;
	if (lsn >= s->first + s->count)
		return -EAGAIN;
	return read_at(r, s, lsn, rec);
}

static struct klog_record meta_of(const struct klog_rec *rec, uint64_t lsn)
{
	return (struct klog_record){ .lsn = lsn, .txid = rec->txid, .len = rec->len,
				     .crc = rec->crc };
}

int klog_read(struct klog_reader *r, uint64_t lsn, void *buf, size_t cap,
	      struct klog_record *out)
{
	struct klog_rec rec;
	int err = lookup(r, lsn, &rec);

	if (err)
		return err;
	if (out)
		*out = meta_of(&rec, lsn);
	if (cap < rec.len)
		return -ENOSPC;
	memcpy(buf, rec.payload, rec.len);
	return (int)rec.len;
}

int klog_iterate(struct klog_reader *r, uint64_t from, uint64_t to, klog_iter_fn fn, void *ctx)
{
	for (uint64_t lsn = from; lsn <= to && lsn >= from; lsn++) {
		struct klog_rec rec;
		struct klog_record meta;
		int ret = lookup(r, lsn, &rec);

		if (ret == -EAGAIN)
			return 0;
		if (ret)
			return ret;
		meta = meta_of(&rec, lsn);
		if ((ret = fn(&meta, rec.payload, ctx)))
			return ret;
	}
	return 0;
}
