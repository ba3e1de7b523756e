// SPDX-License-Identifier: GPL-2.0-only
/* segfiles.c - see segfiles.h. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <klog/klog.h>

#include "format.h"
#include "segfiles.h"

#define MAX_SEGS 1024 /* what check_seg_files() looks at */

void path_of(char *out, const char *dir, uint64_t first, bool idx)
{
	char name[KLOG_SEG_NAME_MAX];

	klog_seg_name(name, first, idx);
	ck_assert_int_lt(snprintf(out, PATH_MAX, "%s/%s", dir, name), PATH_MAX);
}

size_t size_of(const char *path)
{
	struct stat st;

	ck_assert_msg(!stat(path, &st), "stat %s: %s", path, strerror(errno));
	return (size_t)st.st_size;
}

uint8_t *slurp(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	uint8_t *p;

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	*n = size_of(path);
	p = malloc(*n + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pread(fd, p, *n, 0), (ssize_t)*n);
	close(fd);
	return p;
}

/* Index entry k of the index file's bytes p. */
static uint64_t idx_entry(const uint8_t *p, size_t k)
{
	uint64_t v;

	memcpy(&v, p + 8 * k, 8);
	return le64toh(v);
}

size_t read_idx(const char *dir, uint64_t first, uint64_t *offs, size_t cap)
{
	char path[PATH_MAX];
	size_t n;
	uint8_t *p;

	path_of(path, dir, first, true);
	p = slurp(path, &n);
	ck_assert_uint_le(n / 8, cap);
	for (size_t k = 0; k < n / 8; k++)
		offs[k] = idx_entry(p, k);
	free(p);
	return n / 8;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t list_segs(const char *dir, uint64_t *firsts, size_t cap, size_t *tmps)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, t = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		uint64_t first;

		if (len > 4 && !strcmp(de->d_name + len - 4, ".tmp"))
			t++;
		if (klog_seg_parse_name(de->d_name, &first))
			continue;
		ck_assert_uint_lt(n, cap);
		firsts[n++] = first;
	}
	closedir(d);
	qsort(firsts, n, sizeof(*firsts), cmp_u64);
	if (tmps)
		*tmps = t;
	return n;
}

uint64_t check_seg_files(const char *dir, uint64_t first, seg_expect_fn *expect)
{
	static uint64_t firsts[MAX_SEGS];
	size_t tmps, nseg = list_segs(dir, firsts, MAX_SEGS, &tmps);
	uint64_t next = first;

	ck_assert_uint_eq(tmps, 0);
	ck_assert_uint_gt(nseg, 0);
	for (size_t s = 0; s < nseg; s++) {
		char path[PATH_MAX];
		struct klog_seg_hdr h;
		struct klog_scan scan;
		size_t n, ni, nidx, off = KLOG_SEG_HDR_SIZE;
		uint8_t *seg, *idx;

		ck_assert_msg(firsts[s] == next, "segment %zu starts at LSN %llu, want %llu", s,
			      (unsigned long long)firsts[s], (unsigned long long)next);
		path_of(path, dir, firsts[s], false);
		seg = slurp(path, &n);
		ck_assert_int_eq(klog_seg_hdr_decode(seg, n, &h), 0);
		ck_assert_uint_eq(h.first_lsn, firsts[s]);
		path_of(path, dir, firsts[s], true);
		idx = slurp(path, &ni);
		ck_assert_uint_eq(ni % 8, 0);
		nidx = ni / 8;
		ck_assert_int_eq(klog_seg_scan(seg, n, nidx ? idx_entry(idx, nidx - 1) + 1 : 0,
					       KLOG_MAX_RECORD, &scan), 0);
		ck_assert_msg(!scan.cut, "segment %llu: bytes after its last record",
			      (unsigned long long)firsts[s]);
		ck_assert_msg(scan.next_lsn == firsts[s] + nidx,
			      "segment %llu: %zu index entries for %llu records",
			      (unsigned long long)firsts[s], nidx,
			      (unsigned long long)(scan.next_lsn - firsts[s]));
		ck_assert_uint_le(scan.end, h.seg_size);
		for (size_t k = 0; k < nidx; k++) {
			struct klog_rec r;
			uint64_t txid;
			uint32_t len;

			ck_assert_uint_eq(idx_entry(idx, k), off);
			ck_assert_int_eq(klog_rec_decode(seg + off, n - off, h.salt, firsts[s] + k,
							 KLOG_MAX_RECORD, &r), 0);
			expect(firsts[s] + k, &txid, &len);
			ck_assert_uint_eq(r.len, len);
			ck_assert_uint_eq(r.txid, txid);
			off += klog_rec_size(r.len);
		}
		free(seg);
		free(idx);
		next = scan.next_lsn;
	}
	return next;
}
