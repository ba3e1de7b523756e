// SPDX-License-Identifier: GPL-2.0-only
/*
 * rseg.c - one segment as libklog's reader sees it (see rseg.h).
 *
 * A read costs no system call once the segment is mapped and the index
 * chunk read: the index entries are kept (they do not change once durable),
 * and the record's exact bytes are copied out of the mapping and checked in
 * that copy, so what the reader returns is what it checked.
 *
 * A mapping never reaches past the file's size as fstat saw it (the pages
 * past the end of a file raise SIGBUS), and it grows when an index entry
 * names a record past it.  klogd never shrinks a segment (its recovery
 * zeroes a torn tail in place), so only a segment truncated by hand under a
 * live reader can fault.  The index, which klogd's recovery does truncate,
 * is read with pread, never mapped.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <klog/klog.h>

#include "explain.h"
#include "rseg.h"
#include "segdir.h"

#define IX_CHUNK 512 /* entries read and kept together: 4 KiB of index */

/* Index entries [base, base + n) of a segment, base a multiple of IX_CHUNK. */
struct klog_ix_chunk {
	uint32_t n;
	uint64_t off[IX_CHUNK]; /* host order */
};

static int fail(struct klog_rseg_err *e, int err, uint64_t first, bool idx, uint64_t off,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(struct klog_rseg_err *e, int err, uint64_t first, bool idx, uint64_t off,
		const char *fmt, ...)
{
	va_list ap;

	klog_seg_name(e->file, first, idx);
	e->off = off;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return err;
}

void klog_rseg_init(struct klog_rseg *s, int dirfd, uint64_t first)
{
	*s = (struct klog_rseg){ .first = first, .dirfd = dirfd, .fd = -1, .idx_fd = -1 };
}

/* The index of s, if it was not open; a missing one is left for klog_rseg_count(). */
static int open_index(struct klog_rseg *s, struct klog_rseg_err *e)
{
	char name[KLOG_SEG_NAME_MAX], why[sizeof(e->why)];
	int fd;

	if (s->idx_fd >= 0)
		return 0;
	klog_seg_name(name, s->first, true);
	fd = klog_open_regular(s->dirfd, name, why, sizeof(why));
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fail(e, fd, s->first, true, UINT64_MAX, "%s", why);
	s->idx_fd = fd;
	return 0;
}

/* A damaged header is kept, so its records read as corrupt, not as missing. */
static int read_header(struct klog_rseg *s, struct klog_rseg_err *e)
{
	uint8_t hdr[KLOG_SEG_HDR_SIZE]; /* decoding checks the whole header block */
	struct klog_seg_hdr h;
	char why[sizeof(e->why)];
	ssize_t n = pread(s->fd, hdr, sizeof(hdr), 0);

	if (n < 0)
		return fail(e, -ENOLINK, s->first, false, 0, "cannot read: %s", strerror(errno));
	free(s->bad);
	s->bad = NULL;
	if (klog_seg_hdr_explain(hdr, (size_t)n, s->first, &h, why, sizeof(why))) {
		if (!(s->bad = strdup(why)))
			return -ENOMEM;
		s->salt = s->seg_size = 0;
		return 0;
	}
	s->salt = h.salt;
	s->log_id = h.log_id;
	s->seg_size = h.seg_size;
	return 0;
}

int klog_rseg_open(struct klog_rseg *s, bool last, struct klog_rseg_err *e)
{
	char name[KLOG_SEG_NAME_MAX], why[sizeof(e->why)];
	int err;

	if (s->fd >= 0)
		return 0;
	klog_seg_name(name, s->first, false);
	s->fd = klog_open_regular(s->dirfd, name, why, sizeof(why));
	if (s->fd < 0) {
		err = s->fd == -ENOENT ? -ENOLINK : s->fd;
		s->fd = -1;
		return fail(e, err, s->first, false, UINT64_MAX, "%s", why);
	}
	if ((err = read_header(s, e)) || (err = open_index(s, e)))
		klog_rseg_shut(s);
	return err;
}

void klog_rseg_drop_index(struct klog_rseg *s)
{
	for (size_t c = 0; c < s->nchunk; c++)
		free(s->ix[c]);
	free(s->ix);
	s->ix = NULL;
	s->nchunk = 0;
	s->ix_bytes = 0;
}

void klog_rseg_shut(struct klog_rseg *s)
{
	if (s->map)
		munmap((void *)s->map, s->map_len);
	s->map = NULL;
	s->map_len = 0;
	if (s->fd >= 0)
		close(s->fd);
	if (s->idx_fd >= 0)
		close(s->idx_fd);
	s->fd = s->idx_fd = -1;
}

void klog_rseg_close(struct klog_rseg *s)
{
	klog_rseg_shut(s);
	klog_rseg_drop_index(s);
	free(s->bad);
	s->bad = NULL;
}

static int index_entry(const struct klog_rseg *s, uint64_t i, uint64_t *off)
{
	if (pread(s->idx_fd, off, 8, (off_t)(i * 8)) != 8)
		return -ENOLINK;
	*off = le64toh(*off);
	return 0;
}

/* Whether s holds its first record yet: until then its index need not exist. */
static bool holds_record(const struct klog_rseg *s)
{
	uint8_t hdr[sizeof(struct klog_rec_hdr)];
	ssize_t n = pread(s->fd, hdr, sizeof(hdr), KLOG_SEG_HDR_SIZE);

	return n > 0 && (hdr[0] || memcmp(hdr, hdr + 1, (size_t)n - 1));
}

/*
 * How many index entries are valid: a crash can leave a zeroed tail, and the
 * index ends at its last entry that grows (doc/format.md).  Only the tail is
 * looked at, so the common case costs one fstat and two 8-byte reads.
 */
int klog_rseg_count(struct klog_rseg *s, bool last, struct klog_rseg_err *e)
{
	struct stat st;
	uint64_t n, end, prev;
	int err;

	if ((err = open_index(s, e)))
		return err;
	if (s->idx_fd < 0) {
		if (last && !holds_record(s)) {
			s->count = 0;
			s->counted = true;
			return 0;
		}
		return fail(e, -ENOLINK, s->first, true, UINT64_MAX, "cannot open: %s%s",
			    strerror(ENOENT), last ? " (and the segment holds records)" : "");
	}
	if (fstat(s->idx_fd, &st))
		return fail(e, -ENOLINK, s->first, true, UINT64_MAX, "%s", strerror(errno));
	for (n = (uint64_t)st.st_size / 8; n; n--) {
		if (index_entry(s, n - 1, &end))
			return fail(e, -ENOLINK, s->first, true, (n - 1) * 8, "cannot read: %s",
				    strerror(errno));
		if (n == 1 || index_entry(s, n - 2, &prev))
			prev = 0;
		if (end >= KLOG_SEG_HDR_SIZE && end > prev)
			break;
	}
	s->count = n;
	s->counted = true;
	return 0;
}

/* The chunk of s that holds entry i, allocated (empty) if it is new. */
static struct klog_ix_chunk *ix_chunk_of(struct klog_rseg *s, uint64_t i)
{
	size_t c = i / IX_CHUNK;

	if (c >= s->nchunk) {
		size_t n = c + 1 > 2 * s->nchunk ? c + 1 : 2 * s->nchunk;
		struct klog_ix_chunk **p = realloc(s->ix, n * sizeof(*p));

		if (!p)
			return NULL;
		memset(p + s->nchunk, 0, (n - s->nchunk) * sizeof(*p));
		s->ix = p;
		s->nchunk = n;
	}
	if (!s->ix[c]) {
		if (!(s->ix[c] = malloc(sizeof(*s->ix[c]))))
			return NULL;
		s->ix[c]->n = 0;
		s->ix_bytes += sizeof(*s->ix[c]);
	}
	return s->ix[c];
}

/*
 * Index entry i (below s->count) of s, read with its neighbours the first
 * time and kept: durable entries do not change (but see klog_rseg_read()).
 */
static int ix_get(struct klog_rseg *s, uint64_t i, uint64_t **entry, struct klog_rseg_err *e)
{
	struct klog_ix_chunk *ch = ix_chunk_of(s, i);
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
		if (n < 8) /* the index shrank (klogd is recovering it), or does not read */
			return fail(e, -ENOLINK, s->first, true, (base + ch->n) * 8, "%s",
				    n < 0 ? strerror(errno) : "shorter than when counted");
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
static int seg_map(struct klog_rseg *s)
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
static size_t rec_span(const struct klog_rseg *s, uint64_t off, bool *whole)
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

/* The record lsn at off, copied into buf and decoded there. */
static int read_rec(struct klog_rseg *s, uint64_t off, uint64_t lsn, uint8_t *buf,
		    struct klog_rec *rec, struct klog_rseg_err *e)
{
	bool whole;
	size_t n = rec_span(s, off, &whole);
	int err;

	/* Past the mapping: the file may have grown since (or it is not mapped yet). */
	if (!whole) {
		if ((err = seg_map(s)))
			return fail(e, err == -ENOMEM ? err : -ENOLINK, s->first, false, off,
				    "LSN %" PRIu64 ": cannot map: %s", lsn, strerror(-err));
		n = rec_span(s, off, &whole);
	}
	if (!n)
		return fail(e, -EBADMSG, s->first, false, off,
			    "LSN %" PRIu64 ": the index names a record past the %s (%zu bytes)",
			    lsn, s->map_len == s->seg_size ? "segment size" : "end of the file",
			    s->map_len);
	memcpy(buf, s->map + off, n);
	/* A damaged index entry lands on the wrong bytes: the LSN check catches it. */
	err = klog_rec_explain(buf, n, s->salt, lsn, KLOG_MAX_RECORD, rec, e->why, sizeof(e->why));
	if (err) {
		char why[sizeof(e->why)];

		memcpy(why, e->why, sizeof(why));
		return fail(e, -EBADMSG, s->first, false, off, "LSN %" PRIu64 ": %s", lsn, why);
	}
	return 0;
}

int klog_rseg_read(struct klog_rseg *s, uint64_t lsn, uint8_t *buf, struct klog_rec *rec,
		   struct klog_rseg_err *e)
{
	uint64_t i = lsn - s->first, *entry = NULL, off;
	int err;

	if (s->bad)
		return fail(e, -EBADMSG, s->first, false, 0, "LSN %" PRIu64 ": %s", lsn, s->bad);
	if ((err = ix_get(s, i, &entry, e)))
		return err;
	err = read_rec(s, *entry, lsn, buf, rec, e);
	/* klogd's recovery may have rewritten a damaged index since it was read. */
	if (err == -EBADMSG && !index_entry(s, i, &off) && off != *entry) {
		*entry = off;
		err = read_rec(s, off, lsn, buf, rec, e);
	}
	return err;
}

