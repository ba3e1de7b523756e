// SPDX-License-Identifier: GPL-2.0-only
/*
 * verify.c - klog_verify(): a whole log directory against doc/format.md.
 *
 * Unlike the reader, which trusts the index and checks only the record it
 * is asked for, this walks every segment record by record and holds the
 * index against the walk, so an entry naming the wrong offset is found even
 * where the record it should name is intact.  One segment is mapped at a
 * time.
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
#include "format.h"
#include "rseg.h"
#include "segdir.h"
#include "segtrim.h"
#include "vrep.h"

/* A problem of the check v (vrep.h). */
#define report(v, ...) klog_vreport(&(v)->rep, __VA_ARGS__)

struct verify {
	struct klog_vrep rep; /* the problems to the caller */
	int dirfd;
	char id_from[KLOG_SEG_NAME_MAX]; /* the segment the log id was taken from */
	bool have_end;
	uint64_t end;         /* LSN after the previous segment's records */
	char prev[KLOG_SEG_NAME_MAX];
};

/* One segment being checked: its files, header and index. */
struct vseg {
	uint64_t first;
	bool last;
	char name[KLOG_SEG_NAME_MAX], idx_name[KLOG_SEG_NAME_MAX];
	const uint8_t *map;
	size_t map_len;       /* the file's size */
	size_t size;          /* the bytes of it that are the segment: at most seg_size */
	struct klog_seg_hdr h;
	uint64_t *ix;         /* host order */
	uint64_t nix;         /* valid entries */
	bool no_index;        /* missing or unreadable: reported once, not entry by entry */
};

/* The segment file mapped, its header decoded; false if it cannot be checked further. */
static bool open_segment(struct verify *v, struct vseg *s, uint64_t next_first)
{
	char why[160], span[64];
	struct stat st;
	int fd = klog_open_regular(v->dirfd, s->name, why, sizeof(why));

	if (s->last)
		snprintf(span, sizeof(span), "LSNs from %" PRIu64, s->first);
	else
		snprintf(span, sizeof(span), "LSNs %" PRIu64 "..%" PRIu64, s->first,
			 next_first - 1);
	if (fd >= 0 && fstat(fd, &st)) {
		snprintf(why, sizeof(why), "cannot stat: %s", strerror(errno));
		close(fd);
		fd = -ENOLINK;
	}
	if (fd < 0) {
		report(v, fd == -ENOENT ? -ENOLINK : fd, s->name, UINT64_MAX, s->first,
		       "%s (%s unreadable)", why, span);
		return false;
	}
	s->size = s->map_len = (size_t)st.st_size;
	s->map = s->size ? mmap(NULL, s->size, PROT_READ, MAP_SHARED, fd, 0) : NULL;
	close(fd);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		report(v, -ENOLINK, s->name, UINT64_MAX, s->first, "cannot map: %s (%s unreadable)",
		       strerror(errno), span);
		return false;
	}
	if (klog_seg_hdr_explain(s->map, s->size, s->first, &s->h, why, sizeof(why))) {
		report(v, -EBADMSG, s->name, 0, s->first, "%s (%s unreadable)", why, span);
		return false;
	}
	if (s->h.seg_size < s->size)
		s->size = (size_t)s->h.seg_size; /* bytes past seg_size are not part of it */
	return true;
}

/* Every segment carries the log id of the first. */
static bool check_log_id(struct verify *v, const struct vseg *s)
{
	if (!v->id_from[0]) {
		v->rep.sum->log_id = s->h.log_id;
		memcpy(v->id_from, s->name, sizeof(v->id_from));
		return false;
	}
	if (s->h.log_id == v->rep.sum->log_id)
		return false;
	return report(v, -EBADMSG, s->name, offsetof(struct klog_seg_hdr, log_id), s->first,
		      "log id 0x%016" PRIx64 " expected 0x%016" PRIx64 " (of %s)", s->h.log_id,
		      v->rep.sum->log_id, v->id_from);
}

/* The segment starts where the one before it ended. */
static bool check_sequence(struct verify *v, const struct vseg *s)
{
	if (!v->have_end || s->first == v->end)
		return false;
	if (s->first > v->end)
		return report(v, -ENOLINK, s->name, UINT64_MAX, v->end,
			      "gap: no segment holds LSNs %" PRIu64 "..%" PRIu64
			      " (%s ends at LSN %" PRIu64 ")", v->end, s->first - 1, v->prev,
			      v->end - 1);
	return report(v, -EBADMSG, s->name, UINT64_MAX, s->first,
		      "overlap: starts at LSN %" PRIu64 ", %s ends at LSN %" PRIu64, s->first,
		      v->prev, v->end - 1);
}

/* Whether s holds no record at all: nothing but zeroes (or nothing) after the header. */
static bool holds_no_record(const struct vseg *s)
{
	struct klog_rec rec;

	return klog_rec_decode(s->map + KLOG_SEG_HDR_SIZE, s->size - KLOG_SEG_HDR_SIZE, s->h.salt,
			       s->first, KLOG_MAX_RECORD, &rec) == -ENODATA;
}

/*
 * The index's valid entries (doc/format.md, "Index": it ends at its last
 * entry that grows), or none if it is missing.
 */
static bool read_index(struct verify *v, struct vseg *s)
{
	char why[160];
	struct stat st;
	int fd = klog_open_regular(v->dirfd, s->idx_name, why, sizeof(why));
	ssize_t n = 0;

	s->no_index = true;
	/* klogd creates the newest segment's index just after it: none yet is no problem. */
	if (fd == -ENOENT && s->last && holds_no_record(s))
		return false;
	if (fd < 0)
		return report(v, fd == -ENOENT ? -ENOLINK : fd, s->idx_name, UINT64_MAX, s->first,
			      "%s (the index of LSNs from %" PRIu64 ")", why, s->first);
	if (fstat(fd, &st) || !(s->ix = malloc((size_t)st.st_size + 8)) ||
	    (n = pread(fd, s->ix, (size_t)st.st_size, 0)) != st.st_size) {
		int err = n < 0 || !s->ix ? errno : EIO;

		close(fd);
		return report(v, -ENOLINK, s->idx_name, UINT64_MAX, s->first, "cannot read: %s",
			      strerror(err));
	}
	close(fd);
	s->no_index = false;
	s->nix = (uint64_t)st.st_size / 8;
	for (uint64_t k = 0; k < s->nix; k++)
		s->ix[k] = le64toh(s->ix[k]);
	while (s->nix && (s->ix[s->nix - 1] < KLOG_SEG_HDR_SIZE ||
			  (s->nix > 1 && s->ix[s->nix - 1] <= s->ix[s->nix - 2])))
		s->nix--;
	return false;
}

/*
 * Walk the records, holding each index entry against the offset the walk
 * found; a damaged record the index names is skipped to the next entry, so
 * one damage does not hide the next.  Returns the LSN after the last record
 * (indexed, or found past the index).
 */
static uint64_t walk(struct verify *v, const struct vseg *s)
{
	size_t off = KLOG_SEG_HDR_SIZE;
	uint64_t i;
	char why[160];

	for (i = 0; !v->rep.stop; i++) {
		uint64_t lsn = s->first + i;
		struct klog_rec rec;

		if (i < s->nix && s->ix[i] != off &&
		    report(v, -EBADMSG, s->idx_name, i * 8, lsn,
			   "entry %" PRIu64 " names offset %" PRIu64 ", the record of LSN %" PRIu64
			   " is at %zu", i, s->ix[i], lsn, off))
			break;
		if (off >= s->size) {
			if (i < s->nix)
				report(v, -EBADMSG, s->idx_name, i * 8, lsn,
				       "the index names %" PRIu64 " records, the segment holds %"
				       PRIu64 " (%zu bytes)", s->nix, i, s->size);
			break;
		}
		if (!klog_rec_explain(s->map + off, s->size - off, s->h.salt, lsn,
				      KLOG_MAX_RECORD, &rec, why, sizeof(why))) {
			if (i < s->nix && (rec.flags & KLOG_REC_F_TOMBSTONE) &&
			    klog_vtombstone(&v->rep, s->name, off, lsn))
				break;
			off += klog_rec_size(rec.len);
			continue;
		}
		if (i >= s->nix)
			break; /* the end of the log in this segment */
		if (report(v, -EBADMSG, s->name, off, lsn, "%s", why))
			break;
		if (i + 1 >= s->nix || s->ix[i + 1] <= off) {
			i++;
			break;
		}
		off = s->ix[i + 1];
	}
	return s->first + (i > s->nix ? i : s->nix);
}

static void check_segment(struct verify *v, uint64_t first, const uint64_t *next_first)
{
	struct vseg s = { .first = first, .last = !next_first };
	bool walked;
	uint64_t end = 0;

	klog_seg_name(s.name, first, false);
	klog_seg_name(s.idx_name, first, true);
	v->rep.sum->segments++;
	if (check_sequence(v, &s))
		return;
	walked = open_segment(v, &s, next_first ? *next_first : 0) && !check_log_id(v, &s) &&
		 !read_index(v, &s);
	if (walked) {
		end = walk(v, &s);
		v->rep.sum->records += s.nix;
		if (s.nix)
			v->rep.sum->last_lsn = s.first + s.nix - 1;
	}
	if (walked && !v->rep.stop && !s.last && !s.no_index && end > s.first + s.nix)
		report(v, -ENOLINK, s.idx_name, s.nix * 8, s.first + s.nix,
		       "records of LSNs %" PRIu64 "..%" PRIu64 " are not in the index",
		       s.first + s.nix, end - 1);
	/* The next segment is held against what this one holds, indexed or not, if known. */
	v->have_end = walked;
	v->end = end;
	memcpy(v->prev, s.name, sizeof(v->prev));
	free(s.ix);
	if (s.map)
		munmap((void *)s.map, s.map_len);
}

int klog_verify(const char *dir, unsigned int flags, klog_verify_fn fn, void *ctx,
		struct klog_verify_summary *sum)
{
	struct klog_verify_summary dummy;
	struct verify v = { .rep = { .flags = flags, .fn = fn, .ctx = ctx,
				     .sum = sum ? sum : &dummy } };
	uint64_t *firsts;
	size_t n;
	int err, lock;

	*v.rep.sum = (struct klog_verify_summary){ 0 };
	v.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v.dirfd < 0)
		return -errno;
	/*
	 * No segment deleted while the list is walked (retention, klogctl trim
	 * wait): a log trimmed meanwhile would show a missing segment.  A
	 * directory klogd never opened has no lock file; a check writes none.
	 */
	lock = klog_trim_lock(v.dirfd, true, true);
	if ((err = klog_seg_list(v.dirfd, false, &firsts, &n))) {
		if (lock >= 0)
			close(lock);
		close(v.dirfd);
		return err;
	}
	if (n) {
		v.rep.sum->first_lsn = firsts[0];
		v.rep.sum->last_lsn = firsts[0] - 1;
	}
	for (size_t i = 0; i < n && !v.rep.stop; i++)
		check_segment(&v, firsts[i], i + 1 < n ? &firsts[i + 1] : NULL);
	free(firsts);
	if (lock >= 0)
		close(lock);
	close(v.dirfd);
	return v.rep.ret;
}
