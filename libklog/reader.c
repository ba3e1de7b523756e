// SPDX-License-Identifier: GPL-2.0-only
/*
 * reader.c - records back from a log directory by LSN (see klog.h).
 *
 * The index names only durable records (klogd writes an entry after the
 * datasync that covers it), so its length is the durable point and nothing
 * past it is ever returned.  A read costs no system call on a warm log: the
 * reader keeps the index entries it has read (they never change once
 * durable) and maps each segment read-only, then copies exactly the
 * record's bytes out of the mapping and checks that copy, so what it returns
 * is what it checked.
 *
 * A mapping never reaches past the file's size as fstat saw it (the pages
 * past the end of a file raise SIGBUS), and it grows when an index entry
 * names a record past it.  klogd never shrinks a segment (recovery zeroes a
 * torn tail in place), so only a segment truncated by hand under a live
 * reader can fault.  The index, which klogd's recovery does truncate, is
 * read with pread, never mapped.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <klog/klog.h>

#include "format.h"

/*
 * Bytes of index entries a reader keeps, all segments together (8 per
 * record: 64 MiB covers 8M records); the least recently read go first.
 * Tests build the reader with a small one.
 */
#ifndef KLOG_READER_IX_CACHE
#define KLOG_READER_IX_CACHE (64u << 20)
#endif
#define IX_CHUNK 512 /* entries read and kept together: 4 KiB of index */

/* Index entries [base, base + n) of a segment, base a multiple of IX_CHUNK. */
struct ix_chunk {
	uint32_t n;
	uint64_t off[IX_CHUNK]; /* host order */
};

struct segment {
	uint64_t first;     /* LSN of its first record */
	uint64_t count;     /* durable records: valid entries in its index */
	uint64_t salt;
	uint64_t seg_size;  /* from the header: no record runs past it */
	bool bad;           /* its header is damaged: every read of it is -EBADMSG */
	int fd, idx_fd;
	const uint8_t *map; /* its first map_len bytes, read-only; NULL until first read */
	size_t map_len;
	struct ix_chunk **ix; /* its index by entry / IX_CHUNK; NULL: not read yet */
	size_t nchunk;        /* slots in ix */
	uint64_t used;        /* the reader's clock when it was last read */
};

struct klog_reader {
	int dirfd;
	struct segment *seg; /* sorted by first LSN */
	size_t nseg;
	uint8_t *buf;        /* one record of the largest size */
	size_t buf_size;
	uint64_t clock;      /* segment reads so far: what "least recently" counts in */
	size_t ix_bytes;     /* index entries kept, all segments */
};

static int seg_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static void ix_free(struct klog_reader *r, struct segment *s)
{
	for (size_t c = 0; c < s->nchunk; c++) {
		if (s->ix[c])
			r->ix_bytes -= sizeof(*s->ix[c]);
		free(s->ix[c]);
	}
	free(s->ix);
	s->ix = NULL;
	s->nchunk = 0;
}

static void seg_close(struct klog_reader *r, struct segment *s)
{
	ix_free(r, s);
	if (s->map)
		munmap((void *)s->map, s->map_len);
	if (s->fd >= 0)
		close(s->fd);
	if (s->idx_fd >= 0)
		close(s->idx_fd);
}

static int seg_open(struct klog_reader *r, struct segment *s, uint64_t first)
{
	char name[KLOG_SEG_NAME_MAX];
	uint8_t hdr[KLOG_SEG_HDR_SIZE]; /* decoding checks the whole header block */
	struct klog_seg_hdr h;
	int err;

	*s = (struct segment){ .first = first, .fd = -1, .idx_fd = -1 };
	klog_seg_name(name, first, false);
	s->fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC);
	klog_seg_name(name, first, true);
	s->idx_fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0 || s->idx_fd < 0) {
		err = -errno;
		seg_close(r, s);
		return err;
	}
	/* A damaged header is kept, so its records read as corrupt, not as missing. */
	s->bad = pread(s->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
		 klog_seg_hdr_decode(hdr, sizeof(hdr), &h) || h.first_lsn != first;
	s->salt = s->bad ? 0 : h.salt;
	s->seg_size = s->bad ? 0 : h.seg_size;
	return 0;
}

static int index_entry(const struct segment *s, uint64_t i, uint64_t *off)
{
	if (pread(s->idx_fd, off, 8, (off_t)(i * 8)) != 8)
		return -EIO;
	*off = le64toh(*off);
	return 0;
}

/*
 * How many index entries are valid: a crash can leave a zeroed tail, and the
 * index ends at its last entry that grows (doc/format.md).  Only the tail is
 * looked at, so the common case costs one fstat and two 8-byte reads.
 */
static int index_count(struct segment *s)
{
	struct stat st;
	uint64_t n, last, prev;

	if (fstat(s->idx_fd, &st))
		return -errno;
	for (n = st.st_size / 8; n; n--) {
		if (index_entry(s, n - 1, &last))
			return -EIO;
		if (n == 1 || index_entry(s, n - 2, &prev))
			prev = 0;
		if (last >= KLOG_SEG_HDR_SIZE && last > prev)
			break;
	}
	s->count = n;
	return 0;
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
		struct segment *n = realloc(r->seg, (r->nseg + 1) * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
			break;
		}
		r->seg = n;
		if (seg_open(r, &r->seg[r->nseg], first) == 0)
			r->nseg++;
		/* else: a segment being created, or removed, between readdir and open */
	}
	closedir(d);
	qsort(r->seg, r->nseg, sizeof(*r->seg), seg_cmp);
	for (size_t i = 0; i < r->nseg && !err; i++)
		err = index_count(&r->seg[i]);
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
		seg_close(r, &r->seg[i]);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->seg);
	free(r->buf);
	free(r);
}

/* The segment that holds lsn, or NULL. */
static struct segment *find(struct klog_reader *r, uint64_t lsn)
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

/* Drop the index entries of the segments read least recently (not keep's) until need more fit. */
static void ix_evict(struct klog_reader *r, const struct segment *keep, size_t need)
{
	while (r->ix_bytes + need > KLOG_READER_IX_CACHE) {
		struct segment *old = NULL;

		for (size_t i = 0; i < r->nseg; i++) {
			struct segment *s = &r->seg[i];

			if (s != keep && s->ix && (!old || s->used < old->used))
				old = s;
		}
		if (!old)
			return; /* what one segment has read may exceed the budget */
		ix_free(r, old);
	}
}

/* The chunk of s that holds entry i, allocated (empty) if it is new. */
static struct ix_chunk *ix_chunk_of(struct klog_reader *r, struct segment *s, uint64_t i)
{
	size_t c = i / IX_CHUNK;

	if (c >= s->nchunk) {
		size_t n = c + 1 > 2 * s->nchunk ? c + 1 : 2 * s->nchunk;
		struct ix_chunk **p = realloc(s->ix, n * sizeof(*p));

		if (!p)
			return NULL;
		memset(p + s->nchunk, 0, (n - s->nchunk) * sizeof(*p));
		s->ix = p;
		s->nchunk = n;
	}
	if (!s->ix[c]) {
		ix_evict(r, s, sizeof(struct ix_chunk));
		if (!(s->ix[c] = malloc(sizeof(struct ix_chunk))))
			return NULL;
		s->ix[c]->n = 0;
		r->ix_bytes += sizeof(struct ix_chunk);
	}
	return s->ix[c];
}

/*
 * Index entry i (below s->count) of s, read with its neighbours the first
 * time and kept: durable entries do not change (but see read_at()).
 */
static int ix_get(struct klog_reader *r, struct segment *s, uint64_t i, uint64_t **entry)
{
	struct ix_chunk *ch = ix_chunk_of(r, s, i);
	uint64_t base = i - i % IX_CHUNK;
	uint32_t want;

	if (!ch)
		return -ENOMEM;
	want = s->count - base < IX_CHUNK ? (uint32_t)(s->count - base) : IX_CHUNK;
	while (ch->n <= i - base) {
		ssize_t n = pread(s->idx_fd, (uint8_t *)ch->off + ch->n * 8, (want - ch->n) * 8,
				  (off_t)((base + ch->n) * 8));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 8)
			return -EIO; /* the index shrank: klogd is recovering it */
		for (uint32_t end = ch->n + (uint32_t)n / 8; ch->n < end; ch->n++)
			ch->off[ch->n] = le64toh(ch->off[ch->n]);
	}
	*entry = &ch->off[i - base];
	return 0;
}

/*
 * Map s up to the size of its file now (at most seg_size), growing or
 * shrinking the mapping: never a page past the end of the file.
 */
static int seg_map(struct segment *s)
{
	struct stat st;
	size_t len;
	void *p;

	if (fstat(s->fd, &st))
		return -errno;
	len = (uint64_t)st.st_size < s->seg_size ? (size_t)st.st_size : s->seg_size;
	if (len == s->map_len)
		return 0;
	if (!len) {
		p = NULL;
		munmap((void *)s->map, s->map_len);
	} else if (s->map) {
		p = mremap((void *)s->map, s->map_len, len, MREMAP_MAYMOVE);
	} else {
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, s->fd, 0);
	}
	if (p == MAP_FAILED)
		return -errno;
	s->map = p;
	s->map_len = len;
	return 0;
}

/*
 * How many bytes of the record at off the mapping holds, up to the size its
 * header gives (at most the largest record's); *whole if that is all of it.
 */
static size_t rec_span(const struct segment *s, uint64_t off, bool *whole)
{
	uint32_t len = KLOG_MAX_RECORD;
	size_t size;

	*whole = false;
	if (off >= s->map_len)
		return 0;
	if (s->map_len - off >= sizeof(struct klog_rec_hdr)) {
		memcpy(&len, s->map + off + offsetof(struct klog_rec_hdr, len), sizeof(len));
		len = le32toh(len) < KLOG_MAX_RECORD ? le32toh(len) : KLOG_MAX_RECORD;
	}
	size = klog_rec_size(len);
	*whole = size <= s->map_len - off;
	return *whole ? size : s->map_len - off;
}

/* The record lsn at off, copied into r->buf and decoded there. */
static int read_rec(struct klog_reader *r, struct segment *s, uint64_t off, uint64_t lsn,
		    struct klog_rec *rec)
{
	bool whole;
	size_t n = rec_span(s, off, &whole);
	int err;

	/* Past the mapping: the file may have grown since (or it is not mapped yet). */
	if (!whole) {
		if ((err = seg_map(s)))
			return err;
		n = rec_span(s, off, &whole);
	}
	if (!n)
		return -EBADMSG; /* not in the file */
	memcpy(r->buf, s->map + off, n);
	/* A damaged index entry lands on the wrong bytes: the LSN check catches it. */
	return klog_rec_decode(r->buf, n, s->salt, lsn, KLOG_MAX_RECORD, rec) ? -EBADMSG : 0;
}

static int read_at(struct klog_reader *r, struct segment *s, uint64_t lsn, struct klog_rec *rec)
{
	uint64_t i = lsn - s->first, *entry, off;
	int err;

	if (s->bad)
		return -EBADMSG;
	if ((err = ix_get(r, s, i, &entry)))
		return err;
	s->used = ++r->clock;
	err = read_rec(r, s, *entry, lsn, rec);
	/* klogd's recovery may have rewritten a damaged index since it was read. */
	if (err == -EBADMSG && !index_entry(s, i, &off) && off != *entry) {
		*entry = off;
		err = read_rec(r, s, off, lsn, rec);
	}
	return err;
}

/* Record lsn, decoded into r->buf: -ENOENT, -EAGAIN, -EBADMSG as klog_read says. */
static int lookup(struct klog_reader *r, uint64_t lsn, struct klog_rec *rec)
{
	struct segment *s = find(r, lsn);
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
