// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the segment writer (klogd/writer.h) and the public reader
 * (klog_reader_*, klog_read, klog_iterate) on real files: O_DIRECT on the
 * ext4 of /var/tmp, and a tmpfs mounted here in a private mount namespace.
 * A fresh log, reopening, rotation across small segments, records staged but
 * not committed, a torn tail cut and zeroed, damage in the durable part, an
 * index with a zeroed tail, a stale NAME.tmp, and every reader error.  Loop
 * tests run each case with each backend (_i % 2: psync, uring) and, where
 * noted, in each mode (_i / 2).  Every log is checked on disk against the
 * format (doc/format.md) as well as through the reader.  Needs root (mounts).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <klog/klog.h>

#include "backend.h"
#include "check_run.h"
#include "format.h"
#include "frame.h"
#include "scratch.h"
#include "segfiles.h"
#include "wlog.h"
#include "writer.h"

/* ------------------------------------------------------------------ */
/* Fixture                                                              */

/* Once, in the runner process: a fresh directory on the ext4 of /var/tmp and a tmpfs in it. */
static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-writer", "64m");
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */

/* A directory that does not exist yet: created, one segment, records read back. */
START_TEST(fresh)
{
	struct log l;
	char path[PATH_MAX];
	struct klog_seg_hdr h;
	struct klog_reader *r;
	uint64_t first = 0, last = 0;
	uint8_t *seg;
	size_t n;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	l.o.first_lsn = 1000;
	log_open(&l);
	ck_assert_uint_eq(l.rec.segments, 0);
	ck_assert_uint_eq(l.rec.next_lsn, 1000);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 0);
	ck_assert(l.rec.direct); /* ext4 */

	/* The segment is named by its first LSN, preallocated, with a durable header. */
	path_of(path, l.dir, 1000, false);
	seg = slurp(path, &n);
	ck_assert_uint_eq(n, 1 << 20);
	ck_assert_int_eq(klog_seg_hdr_decode(seg, n, &h), 0);
	ck_assert_uint_eq(h.first_lsn, 1000);
	ck_assert_uint_eq(h.seg_size, 1 << 20);
	free(seg);
	path_of(path, l.dir, 1000, true);
	ck_assert_uint_eq(size_of(path), 0);

	/* Nothing durable yet, and nothing staged is visible. */
	ck_assert_int_eq(klog_reader_open(&r, l.dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENODATA);
	put_n(&l, 100, 0, 0);
	ck_assert_uint_eq(klog_writer_durable(l.w), 1000);
	ck_assert_int_eq(klog_read(r, 1000, NULL, 0, NULL), -EAGAIN);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENODATA);

	commit(&l);
	ck_assert_uint_eq(klog_writer_durable(l.w), 1100);
	/* The same reader sees the commit. */
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(first, 1000);
	ck_assert_uint_eq(last, 1099);
	for (uint64_t lsn = 1000; lsn < 1100; lsn++)
		check_one(r, lsn);
	ck_assert_int_eq(klog_read(r, 1100, NULL, 0, NULL), -EAGAIN);
	ck_assert_int_eq(klog_read(r, 999, NULL, 0, NULL), -ENOENT);
	klog_reader_close(r);
	ck_assert_uint_eq(size_of(path), 100 * 8);
	ck_assert_uint_eq(check_files(l.dir, 1000), 1100);
	log_close(&l);
}
END_TEST

/* Reopening a clean log continues at the next LSN; appending goes on from there. */
START_TEST(reopen)
{
	struct log l;
	int err;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 50, 0, 10);
	log_close(&l);

	log_open(&l);
	ck_assert_uint_eq(l.rec.segments, 1);
	ck_assert_uint_eq(l.rec.next_lsn, 51);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 0);
	ck_assert(l.rec.direct);
	/* Only the next LSN may be appended. */
	ck_assert_ptr_nonnull(klog_writer_reserve(l.w, 10, &err));
	ck_assert_int_eq(klog_writer_append(l.w, 50, 1, 10), -EINVAL);
	ck_assert_int_eq(klog_writer_append(l.w, 52, 1, 10), -EINVAL);
	put_n(&l, 50, 1, 0);
	commit(&l);
	log_close(&l);

	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 101);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 0);
	log_close(&l);
	check_read(l.dir, 1, 101);
	bounds_are(l.dir, 1, 100);
	ck_assert_uint_eq(check_files(l.dir, 1), 101);
}
END_TEST

/*
 * 1 MiB segments, records up to the largest, reserved as the drain does:
 * several segments, read across their boundaries by a reader opened before
 * they existed.
 */
START_TEST(rotation)
{
	enum { N = 5000 };
	static uint64_t firsts[MAX_SEGS];
	struct log l;
	struct klog_reader *r;
	uint64_t first = 0, last = 0;
	size_t nseg;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	l.loose = true;
	log_open(&l);
	put_n(&l, 100, 0, 0);
	commit(&l);
	ck_assert_int_eq(klog_reader_open(&r, l.dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(last, 100);

	put_n(&l, N - 100, 0, 61);
	commit(&l);
	nseg = list_segs(l.dir, firsts, MAX_SEGS, NULL);
	ck_assert_uint_ge(nseg, 3);
	for (size_t s = 0; s < nseg; s++) {
		char path[PATH_MAX];

		path_of(path, l.dir, firsts[s], false);
		ck_assert_uint_eq(size_of(path), 1 << 20);
	}
	ck_assert_uint_eq(check_files(l.dir, 1), N + 1);

	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(first, 1);
	ck_assert_uint_eq(last, N);
	for (uint64_t lsn = 1; lsn <= N; lsn++)
		check_one(r, lsn);
	/* Around each boundary once more, out of order. */
	for (size_t s = nseg; s-- > 1;) {
		check_one(r, firsts[s]);
		check_one(r, firsts[s] - 1);
	}
	ck_assert_int_eq(klog_read(r, N + 1, NULL, 0, NULL), -EAGAIN);
	klog_reader_close(r);
	log_close(&l);

	log_open(&l);
	ck_assert_uint_eq(l.rec.segments, nseg);
	ck_assert_uint_eq(l.rec.next_lsn, N + 1);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 0);
	put(&l, 1);
	commit(&l);
	log_close(&l);
	check_read(l.dir, N - 2, N + 2);
	ck_assert_uint_eq(check_files(l.dir, 1), N + 2);
}
END_TEST

/* Segments of exactly 8 largest records, not a multiple of 4096: each filled to the byte. */
START_TEST(exact_fit)
{
	const uint64_t seg_size = KLOG_SEG_HDR_SIZE + 8 * klog_rec_size(MAXR);
	static uint64_t firsts[MAX_SEGS];
	struct log l;

	ck_assert_uint_ne(seg_size % BLK, 0);
	log_init(&l, _i, scratch_dir(), seg_size, 64 << 10);
	log_open(&l);
	for (int k = 1; k <= 20; k++) {
		put_len(&l, 0, MAXR);
		if (k % 3 == 0)
			commit(&l);
	}
	commit(&l);
	ck_assert_uint_eq(list_segs(l.dir, firsts, MAX_SEGS, NULL), 3);
	ck_assert_uint_eq(firsts[0], 1);
	ck_assert_uint_eq(firsts[1], 9);
	ck_assert_uint_eq(firsts[2], 17);
	for (int s = 0; s < 2; s++) {
		uint64_t offs[8];

		ck_assert_uint_eq(read_idx(l.dir, firsts[s], offs, 8), 8);
		ck_assert_uint_eq(offs[7] + klog_rec_size(MAXR), seg_size);
	}
	ck_assert_uint_eq(check_files(l.dir, 1), 21);
	log_close(&l);
	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 21);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	log_close(&l);
	check_read(l.dir, 1, 21);
}
END_TEST

/* Appended, never committed, never written: invisible, and gone after a reopen. */
START_TEST(uncommitted_lost)
{
	struct log l;

	log_init(&l, _i, scratch_dir(), 1 << 20, 1 << 20);
	log_open(&l);
	put_n(&l, 10, 0, 0);
	commit(&l);
	put_n(&l, 20, 0, 0);
	ck_assert_uint_eq(klog_writer_durable(l.w), 11);
	ck_assert_uint_eq(klog_writer_next(l.w), 31);
	for (uint64_t lsn = 11; lsn <= 30; lsn++)
		read_fails(l.dir, lsn, -EAGAIN);
	bounds_are(l.dir, 1, 10);
	log_close(&l);

	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 11);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 0);
	read_fails(l.dir, 11, -EAGAIN);
	/* New records take the LSNs; the reader returns them, not the lost ones. */
	put_n(&l, 10, 1, 0);
	commit(&l);
	log_close(&l);
	check_read(l.dir, 1, 21);
	ck_assert_uint_eq(check_files(l.dir, 1), 21);
}
END_TEST

/*
 * A small staging buffer: records appended past it are written before any
 * commit.  Still invisible; after a reopen the ones whole on disk are
 * recovered and indexed, the rest are gone, none is half there.
 */
START_TEST(uncommitted_written)
{
	struct log l;
	uint64_t k;

	log_init(&l, _i, scratch_dir(), 1 << 20, 16 << 10);
	log_open(&l);
	put_n(&l, 10, 0, 0);
	commit(&l);
	put_n(&l, 100, 0, 0);
	for (uint64_t lsn = 11; lsn <= 110; lsn += 11)
		read_fails(l.dir, lsn, -EAGAIN);
	bounds_are(l.dir, 1, 10);
	log_close(&l);

	log_open(&l);
	k = l.rec.next_lsn;
	ck_assert_uint_gt(k, 11);  /* 100 records never fit 16 KiB: some were written */
	ck_assert_uint_lt(k, 111); /* the last one was only staged */
	ck_assert_uint_eq(l.rec.reindexed, k - 11);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	check_read(l.dir, 1, k);
	read_fails(l.dir, k, -EAGAIN);
	bounds_are(l.dir, 1, k - 1);
	ck_assert_uint_eq(check_files(l.dir, 1), k);
	put_n(&l, 5, 1, 0);
	commit(&l);
	log_close(&l);
	check_read(l.dir, 1, k + 5);
	ck_assert_uint_eq(check_files(l.dir, 1), k + 5);
}
END_TEST

/*
 * A torn tail among records past the index: the index lost its last 10
 * entries (LSNs 31..40) and the last record, 40, is garbled (mode 0), or
 * record 35 is cut short by a truncation of the file, which drops 36..40
 * (mode 1).  Reopening keeps 31 up to the victim (indexed now), cuts from
 * it on and zeroes the tail; records appended after it then survive another
 * reopen, clean.  (A garbled record with whole ones after it is not a torn
 * tail: see damage_before_tail.)
 */
START_TEST(torn_tail)
{
	const bool truncated = _i / 2;
	const uint64_t victim = truncated ? 35 : 40;
	char seg[PATH_MAX], idx[PATH_MAX];
	uint64_t offs[64];
	size_t off, size;
	struct log l;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 40, 0, 0);
	commit(&l);
	log_close(&l);
	path_of(seg, l.dir, 1, false);
	path_of(idx, l.dir, 1, true);
	ck_assert_uint_eq(read_idx(l.dir, 1, offs, 64), 40);
	truncate_to(idx, 30 * 8);
	off = offs[victim - 1];
	if (truncated)
		truncate_to(seg, off + klog_rec_size(len_at[victim]) / 2);
	else
		poke(seg, off + (len_at[victim] ? 40 + len_at[victim] / 2 : 36), 0x10);
	size = size_of(seg);

	log_open(&l);
	ck_assert_uint_eq(l.rec.segments, 1);
	ck_assert_uint_eq(l.rec.next_lsn, victim);
	ck_assert_uint_gt(l.rec.cut_bytes, 0);
	ck_assert_uint_le(l.rec.cut_bytes, size - off);
	ck_assert_uint_eq(l.rec.reindexed, victim - 31);
	ck_assert_uint_eq(size_of(idx), (victim - 1) * 8);
	assert_zero_from(seg, off);
	check_read(l.dir, 1, victim);
	for (uint64_t lsn = victim; lsn <= 41; lsn++)
		read_fails(l.dir, lsn, -EAGAIN);
	bounds_are(l.dir, 1, victim - 1);

	put_n(&l, 10, 1, 0);
	commit(&l);
	log_close(&l);
	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, victim + 10);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 0);
	log_close(&l);
	check_read(l.dir, 1, victim + 10);
	ck_assert_uint_eq(check_files(l.dir, 1), victim + 10);
}
END_TEST

/*
 * The same with the cut at a block boundary: records of 512 bytes, the 9th
 * and last (first of the second block) garbled, nothing of the block
 * before to keep.
 */
START_TEST(torn_tail_aligned)
{
	const uint32_t len = 512 - 40;
	char seg[PATH_MAX], idx[PATH_MAX];
	uint64_t offs[64];
	struct log l;

	ck_assert_uint_eq(klog_rec_size(len), 512);
	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	for (int k = 0; k < 9; k++)
		put_len(&l, 0, len);
	commit(&l);
	log_close(&l);
	path_of(seg, l.dir, 1, false);
	path_of(idx, l.dir, 1, true);
	ck_assert_uint_eq(read_idx(l.dir, 1, offs, 64), 9);
	ck_assert_uint_eq(offs[8], 2 * BLK);
	truncate_to(idx, 4 * 8);
	poke(seg, offs[8] + 40 + len - 1, 0xff);

	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 9);
	ck_assert_uint_gt(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 4);
	assert_zero_from(seg, 2 * BLK);
	check_read(l.dir, 1, 9);
	read_fails(l.dir, 9, -EAGAIN);
	put_n(&l, 10, 1, 0);
	commit(&l);
	log_close(&l);
	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 19);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	log_close(&l);
	check_read(l.dir, 1, 19);
	ck_assert_uint_eq(check_files(l.dir, 1), 19);
}
END_TEST

/* The last segment without its index: every record in it is found and indexed. */
START_TEST(missing_idx)
{
	char idx[PATH_MAX];
	struct log l;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 20, 0, 0);
	commit(&l);
	log_close(&l);
	path_of(idx, l.dir, 1, true);
	ck_assert_int_eq(unlink(idx), 0);
	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 21);
	ck_assert_uint_eq(l.rec.reindexed, 20);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(size_of(idx), 20 * 8);
	put_n(&l, 5, 1, 0);
	commit(&l);
	log_close(&l);
	check_read(l.dir, 1, 26);
	ck_assert_uint_eq(check_files(l.dir, 1), 26);
}
END_TEST

/*
 * A flipped bit in a record the index names (mode 0: a payload in the
 * middle; mode 1: the header of the last indexed record) is damage, never a
 * tail to cut: klog_writer_open refuses with -EBADMSG and touches nothing,
 * and the reader returns -EBADMSG for that record, never its bytes.
 */
START_TEST(durable_damage)
{
	const uint64_t victim = _i / 2 ? 40 : 20;
	char seg[PATH_MAX], idx[PATH_MAX];
	uint64_t offs[64];
	unsigned int calls;
	struct log l;
	size_t at, seg_size;
	uint8_t now;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 40, 0, 0);
	commit(&l);
	log_close(&l);
	path_of(seg, l.dir, 1, false);
	path_of(idx, l.dir, 1, true);
	ck_assert_uint_eq(read_idx(l.dir, 1, offs, 64), 40);
	if (_i / 2)
		at = offs[victim - 1] + 1; /* the magic */
	else
		at = offs[victim - 1] + (len_at[victim] ? 40 + len_at[victim] / 2 : 16);
	now = poke(seg, at, 0x04);
	seg_size = size_of(seg);

	ck_assert_int_eq(log_try_open(&l), -EBADMSG);
	ck_assert_uint_eq(size_of(idx), 40 * 8);
	ck_assert_uint_eq(size_of(seg), seg_size);
	ck_assert_uint_eq(byte_at(seg, at), now);

	read_fails(l.dir, victim, -EBADMSG);
	check_read(l.dir, victim - 1, victim);
	if (victim < 40)
		check_read(l.dir, victim + 1, 41);
	bounds_are(l.dir, 1, 40);
	ck_assert_int_eq(iterate(l.dir, 1, 40, &calls), -EBADMSG);
	ck_assert_uint_eq(calls, victim - 1);
}
END_TEST

/*
 * An index whose end a crash left as zeroes (with fewer real entries than
 * records, and a partial entry): it ends at its last increasing entry, the
 * records after it are indexed again, the zeroes dropped, and appending
 * writes the next entries where they belong.
 */
START_TEST(idx_zero_tail)
{
	char idx[PATH_MAX];
	uint64_t before[64], after[64];
	struct log l;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 40, 0, 0);
	commit(&l);
	log_close(&l);
	path_of(idx, l.dir, 1, true);
	ck_assert_uint_eq(read_idx(l.dir, 1, before, 64), 40);
	truncate_to(idx, 30 * 8);
	grow_zeroes(idx, 3 * 8 + 4);

	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 41);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 10);
	ck_assert_uint_eq(size_of(idx), 40 * 8);
	ck_assert_uint_eq(read_idx(l.dir, 1, after, 64), 40);
	ck_assert_mem_eq(after, before, sizeof(uint64_t) * 40);
	check_read(l.dir, 1, 41);
	put_n(&l, 5, 1, 0);
	commit(&l);
	log_close(&l);
	ck_assert_uint_eq(size_of(idx), 45 * 8);
	check_read(l.dir, 1, 46);
	ck_assert_uint_eq(check_files(l.dir, 1), 46);
}
END_TEST

/*
 * The reader, before any klogd reopens the log, on an index whose tail is
 * zeroes: the format says the index ends at its last increasing entry, so
 * LSNs past it are not durable yet (-EAGAIN) and the bounds end there.
 */
START_TEST(idx_zero_tail_reader)
{
	char idx[PATH_MAX];
	unsigned int calls;
	struct log l;

	log_init(&l, 0, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 40, 0, 0);
	commit(&l);
	log_close(&l);
	path_of(idx, l.dir, 1, true);
	grow_zeroes(idx, 3 * 8);

	check_read(l.dir, 1, 41);
	bounds_are(l.dir, 1, 40);
	read_fails(l.dir, 41, -EAGAIN);
	read_fails(l.dir, 43, -EAGAIN);
	ck_assert_int_eq(iterate(l.dir, 1, 50, &calls), 0);
	ck_assert_uint_eq(calls, 40);
}
END_TEST

/*
 * A crash right after a rotation can lose the unsynced end of the previous
 * segment's index (the writer never fsyncs an index).  Its records are
 * durable (the segment was synced first) and were published as such: after
 * a reopen every one of them must be readable.
 */
START_TEST(old_segment_short_index)
{
	static uint64_t firsts[MAX_SEGS];
	char idx[PATH_MAX];
	uint64_t next;
	size_t nseg;
	struct log l;

	log_init(&l, _i, scratch_dir(), 64 << 10, 64 << 10);
	log_open(&l);
	put_n(&l, 300, 0, 7);
	commit(&l);
	log_close(&l);
	nseg = list_segs(l.dir, firsts, MAX_SEGS, NULL);
	ck_assert_uint_ge(nseg, 3);
	path_of(idx, l.dir, firsts[nseg - 2], true);
	ck_assert_uint_eq(size_of(idx) / 8, firsts[nseg - 1] - firsts[nseg - 2]);
	truncate_to(idx, size_of(idx) - 5 * 8);

	log_open(&l);
	next = l.rec.next_lsn;
	log_close(&l);
	ck_assert_uint_eq(next, 301);
	check_read(l.dir, 1, 301);
	ck_assert_uint_eq(check_files(l.dir, 1), 301);
}
END_TEST

/*
 * klog_writer_open when the disk fails under it, and a healthy open after:
 * mode 0, a new log whose first header does not sync: no segment, no
 * NAME.tmp; mode 1, records past the index that do not sync: not indexed;
 * mode 2, a torn tail (the last record) whose zeroing write fails: cut on
 * the next open.
 */
START_TEST(open_faults)
{
	const int mode = _i / 2;
	const struct klog_fault_rule sync1 = { KLOG_FAULT_SYNC, 1, false, -EIO, false };
	const struct klog_fault_rule submit1 = { KLOG_FAULT_SUBMIT, 1, false, -EIO, false };
	char seg[PATH_MAX], idx[PATH_MAX];
	uint64_t offs[64], firsts[4];
	size_t tmps, off = 0;
	struct log l;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	path_of(seg, l.dir, 1, false);
	path_of(idx, l.dir, 1, true);
	if (mode == 0) {
		ck_assert_int_eq(log_try_open_faulty(&l, &sync1, 1), -EIO);
		ck_assert_uint_eq(list_segs(l.dir, firsts, 4, &tmps), 0);
		ck_assert_uint_eq(tmps, 0);
		log_open(&l);
		ck_assert_uint_eq(l.rec.segments, 0);
		put_n(&l, 10, 0, 0);
		commit(&l);
		log_close(&l);
		check_read(l.dir, 1, 11);
		ck_assert_uint_eq(check_files(l.dir, 1), 11);
		return;
	}
	log_open(&l);
	put_n(&l, 40, 0, 0);
	commit(&l);
	log_close(&l);
	ck_assert_uint_eq(read_idx(l.dir, 1, offs, 64), 40);
	truncate_to(idx, 30 * 8);
	if (mode == 2) {
		off = offs[39];
		ck_assert_uint_ne(off % BLK, 0); /* the zeroing rewrites a staged block */
		poke(seg, off + 8, 0x02);
	}
	ck_assert_int_eq(log_try_open_faulty(&l, mode == 1 ? &sync1 : &submit1, 1), -EIO);
	ck_assert_uint_eq(size_of(idx), 30 * 8);
	bounds_are(l.dir, 1, 30);
	read_fails(l.dir, 31, -EAGAIN);

	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, mode == 1 ? 41 : 40);
	ck_assert_uint_eq(l.rec.reindexed, mode == 1 ? 10 : 9);
	if (mode == 2) {
		ck_assert_uint_gt(l.rec.cut_bytes, 0);
		assert_zero_from(seg, off);
	} else {
		ck_assert_uint_eq(l.rec.cut_bytes, 0);
	}
	put_n(&l, 5, 1, 0);
	commit(&l);
	log_close(&l);
	check_read(l.dir, 1, (mode == 1 ? 41 : 40) + 5);
	ck_assert_uint_eq(check_files(l.dir, 1), (mode == 1 ? 41 : 40) + 5);
}
END_TEST

/*
 * A full disk for a while, as klogd's drain meets it (klogd/nospace.h): the
 * writes (_i / 2 == 0) or the datasyncs (1) of three commits in a row fail
 * with -ENOSPC.  Nothing is claimed durable meanwhile, the records stay
 * staged and more are staged behind them; the next commit makes every one
 * durable, and they read back as appended.
 */
START_TEST(enospc_resume)
{
	const enum klog_fault_kind kind = _i / 2 ? KLOG_FAULT_SYNC : KLOG_FAULT_SUBMIT;
	const struct klog_fault_rule never = { KLOG_FAULT_SUBMIT, 1u << 30, false, -EIO, false };
	struct klog_fault_rule full[3];
	unsigned int calls[2];
	uint64_t durable;
	struct log l;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 20, 0, 0);
	commit(&l);
	log_close(&l);
	/* The calls opening this log makes, to aim at the ones after. */
	ck_assert_int_eq(log_try_open_faulty(&l, &never, 1), 0);
	klog_backend_fault_counts(l.b, &calls[KLOG_FAULT_SUBMIT], &calls[KLOG_FAULT_SYNC]);
	log_close(&l);
	for (unsigned int k = 0; k < 3; k++)
		full[k] = (struct klog_fault_rule){ kind, calls[kind] + 1 + k, false, -ENOSPC, false };

	ck_assert_int_eq(log_try_open_faulty(&l, full, 3), 0);
	durable = klog_writer_durable(l.w);
	ck_assert_uint_eq(durable, 21);
	put_n(&l, 30, 0, 0);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(klog_writer_commit(l.w), -ENOSPC);
		ck_assert_uint_eq(klog_writer_durable(l.w), durable);
		put_n(&l, 5, 0, 0);
	}
	bounds_are(l.dir, 1, 20);
	commit(&l);
	ck_assert_uint_eq(klog_writer_durable(l.w), 21 + 45);
	log_close(&l);
	check_read(l.dir, 1, 21 + 45);
	ck_assert_uint_eq(check_files(l.dir, 1), 21 + 45);
}
END_TEST

/* A NAME.tmp left by a crash while creating a segment goes: in a new log (0), an old one (1). */
START_TEST(stale_tmp)
{
	char tmp1[PATH_MAX], tmp2[PATH_MAX];
	uint8_t junk[3 * BLK];
	size_t tmps;
	uint64_t firsts[4];
	struct log l;

	memset(junk, 0x5a, sizeof(junk));
	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	if (_i) {
		log_open(&l);
		put_n(&l, 20, 0, 0);
		commit(&l);
		log_close(&l);
	} else {
		ck_assert_int_eq(mkdir(l.dir, 0755), 0);
	}
	ck_assert_int_lt(snprintf(tmp1, sizeof(tmp1), "%s/00000000000000000001.klog.tmp", l.dir),
			 (int)sizeof(tmp1));
	ck_assert_int_lt(snprintf(tmp2, sizeof(tmp2), "%s/00000000000000000021.klog.tmp", l.dir),
			 (int)sizeof(tmp2));
	write_file(tmp1, junk, sizeof(junk));
	write_file(tmp2, junk, sizeof(junk));
	if (_i) {
		/* The reader ignores them too. */
		bounds_are(l.dir, 1, 20);
		check_read(l.dir, 1, 21);
	}

	log_open(&l);
	ck_assert_uint_eq(l.rec.segments, _i ? 1 : 0);
	ck_assert_uint_eq(l.rec.next_lsn, _i ? 21 : 1);
	ck_assert_int_eq(access(tmp1, F_OK), -1);
	ck_assert_int_eq(access(tmp2, F_OK), -1);
	put_n(&l, 10, 1, 0);
	commit(&l);
	log_close(&l);
	ck_assert_uint_eq(list_segs(l.dir, firsts, 4, &tmps), 1);
	ck_assert_uint_eq(tmps, 0);
	check_read(l.dir, 1, _i ? 31 : 11);
	ck_assert_uint_eq(check_files(l.dir, 1), _i ? 31 : 11);
}
END_TEST

/* Settings klog_writer_open refuses, and directories it cannot use. */
START_TEST(refuses)
{
	const size_t min_buf = 2 * ((klog_rec_size(MAXR) + BLK - 1) & ~(size_t)(BLK - 1)) + BLK;
	const uint64_t min_seg = KLOG_SEG_HDR_SIZE + 2 * klog_rec_size(MAXR);
	char file[PATH_MAX];
	struct log l;

	log_init(&l, 0, scratch_dir(), min_seg - 1, 256 << 10);
	ck_assert_int_eq(log_try_open(&l), -EINVAL);
	log_init(&l, 0, scratch_dir(), 1 << 20, min_buf - BLK);
	ck_assert_int_eq(log_try_open(&l), -EINVAL);
	/* The smallest of each is fine. */
	log_init(&l, 0, scratch_dir(), min_seg, min_buf);
	log_open(&l);
	put_n(&l, 5, 0, 0);
	commit(&l);
	log_close(&l);
	check_read(l.dir, 1, 6);

	log_init(&l, 0, scratch_dir(), 1 << 20, 256 << 10);
	snprintf(l.dir, sizeof(l.dir), "%s/no/such/parent", scratch_dir());
	ck_assert_int_eq(log_try_open(&l), -ENOENT);
	snprintf(file, sizeof(file), "%s/a-file-%d", scratch_dir(), (int)getpid());
	write_file(file, "x", 1);
	log_init(&l, 0, scratch_dir(), 1 << 20, 256 << 10);
	l.o.dir = file;
	ck_assert_int_eq(log_try_open(&l), -ENOTDIR);
}
END_TEST

/* Reserve and append used wrongly: refused, and the log stays right. */
START_TEST(misuse)
{
	struct log l;
	uint8_t *p;
	int err;

	log_init(&l, 0, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	ck_assert_ptr_null(klog_writer_reserve(l.w, MAXR + 1, &err));
	ck_assert_int_eq(err, -EMSGSIZE);
	/* Append without a reserve, beyond it, or twice for one. */
	ck_assert_int_eq(klog_writer_append(l.w, 1, 1, 0), -EINVAL);
	p = klog_writer_reserve(l.w, 10, &err);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(klog_writer_append(l.w, 1, 1, 11), -EINVAL);
	ck_assert_int_eq(klog_writer_append(l.w, 2, 1, 10), -EINVAL);
	ck_assert_uint_eq(klog_writer_next(l.w), 1);
	/* Nothing staged: a commit with nothing to do. */
	ck_assert_int_eq(klog_writer_commit(l.w), 0);
	fill_payload(p, 10, txid_of(1, 0));
	ck_assert_int_eq(klog_writer_append(l.w, 1, txid_of(1, 0), 10), 0);
	gen_at[1] = 0;
	len_at[1] = 10;
	ck_assert_int_eq(klog_writer_append(l.w, 2, 1, 0), -EINVAL);
	commit(&l);
	put_n(&l, 3, 0, 0);
	commit(&l);
	log_close(&l);
	check_read(l.dir, 1, 5);
	ck_assert_uint_eq(check_files(l.dir, 1), 5);
}
END_TEST

/* A length of UINT32_MAX must be refused like any other beyond the reserve. */
START_TEST(append_len_overflow)
{
	struct log l;
	int err;

	log_init(&l, 0, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	ck_assert_ptr_nonnull(klog_writer_reserve(l.w, 10, &err));
	ck_assert_int_eq(klog_writer_append(l.w, 1, 1, UINT32_MAX), -EINVAL);
	ck_assert_uint_eq(klog_writer_next(l.w), 1);
	log_close(&l);
}
END_TEST

/* Below the first segment kept (the first one deleted): -ENOENT; the rest reads. */
START_TEST(reader_enoent)
{
	static uint64_t firsts[MAX_SEGS];
	char path[PATH_MAX];
	unsigned int calls;
	struct log l;
	size_t nseg;

	log_init(&l, _i, scratch_dir(), 64 << 10, 64 << 10);
	log_open(&l);
	put_n(&l, 300, 0, 10);
	commit(&l);
	log_close(&l);
	nseg = list_segs(l.dir, firsts, MAX_SEGS, NULL);
	ck_assert_uint_ge(nseg, 3);
	path_of(path, l.dir, firsts[0], false);
	ck_assert_int_eq(unlink(path), 0);
	path_of(path, l.dir, firsts[0], true);
	ck_assert_int_eq(unlink(path), 0);

	bounds_are(l.dir, firsts[1], 300);
	read_fails(l.dir, 1, -ENOENT);
	read_fails(l.dir, firsts[1] - 1, -ENOENT);
	read_fails(l.dir, 0, -ENOENT);
	check_read(l.dir, firsts[1], 301);
	ck_assert_int_eq(iterate(l.dir, 1, 300, &calls), -ENOENT);
	ck_assert_uint_eq(calls, 0);
	ck_assert_int_eq(iterate(l.dir, firsts[1], 300, &calls), 0);
	ck_assert_uint_eq(calls, 301 - firsts[1]);

	/* The writer only needs the last segment. */
	log_open(&l);
	ck_assert_uint_eq(l.rec.segments, nseg - 1);
	ck_assert_uint_eq(l.rec.next_lsn, 301);
	log_close(&l);
	ck_assert_uint_eq(check_files(l.dir, firsts[1]), 301);
}
END_TEST

/* Not durable yet: -EAGAIN, in an empty directory, an empty log and past the end. */
START_TEST(reader_eagain)
{
	struct klog_reader *r;
	uint64_t first, last;
	char missing[PATH_MAX];
	unsigned int calls;
	struct log l;

	snprintf(missing, sizeof(missing), "%s/missing-%d", scratch_dir(), (int)getpid());
	ck_assert_int_eq(klog_reader_open(&r, missing), -ENOENT);

	log_init(&l, 0, scratch_dir(), 1 << 20, 256 << 10);
	ck_assert_int_eq(mkdir(l.dir, 0755), 0);
	ck_assert_int_eq(klog_reader_open(&r, l.dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENODATA);
	ck_assert_int_eq(klog_read(r, 1, NULL, 0, NULL), -EAGAIN);

	log_open(&l);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENODATA);
	ck_assert_int_eq(klog_read(r, 1, NULL, 0, NULL), -EAGAIN);
	put_n(&l, 5, 0, 0);
	commit(&l);
	log_close(&l);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(first, 1);
	ck_assert_uint_eq(last, 5);
	check_one(r, 5);
	ck_assert_int_eq(klog_read(r, 6, NULL, 0, NULL), -EAGAIN);
	ck_assert_int_eq(klog_read(r, UINT64_MAX, NULL, 0, NULL), -EAGAIN);
	klog_reader_close(r);
	read_fails(l.dir, 6, -EAGAIN);
	/* -EAGAIN only ends an iteration early. */
	ck_assert_int_eq(iterate(l.dir, 1, UINT64_MAX, &calls), 0);
	ck_assert_uint_eq(calls, 5);
	ck_assert_int_eq(iterate(l.dir, 3, 2, &calls), 0);
	ck_assert_uint_eq(calls, 0);
}
END_TEST

/* A buffer too small: -ENOSPC with the metadata (rec.len: what is needed) and no bytes. */
START_TEST(reader_enospc)
{
	static uint8_t buf[MAXR], want[MAXR];
	struct klog_reader *r;
	struct klog_record rec;
	struct log l;

	log_init(&l, 0, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_len(&l, 0, MAXR);
	put_len(&l, 0, 1);
	put_len(&l, 0, 0);
	put_len(&l, 0, 100);
	commit(&l);
	log_close(&l);

	ck_assert_int_eq(klog_reader_open(&r, l.dir), 0);
	memset(buf, 0xee, sizeof(buf));
	memset(&rec, 0, sizeof(rec));
	ck_assert_int_eq(klog_read(r, 1, buf, MAXR - 1, &rec), -ENOSPC);
	ck_assert_uint_eq(rec.len, MAXR);
	ck_assert_uint_eq(rec.lsn, 1);
	ck_assert_uint_eq(rec.txid, txid_of(1, 0));
	for (size_t k = 0; k < sizeof(buf); k++)
		ck_assert_uint_eq(buf[k], 0xee);
	ck_assert_int_eq(klog_read(r, 2, buf, 0, &rec), -ENOSPC);
	ck_assert_uint_eq(rec.len, 1);
	ck_assert_uint_eq(buf[0], 0xee);
	ck_assert_int_eq(klog_read(r, 4, buf, 99, &rec), -ENOSPC);
	ck_assert_uint_eq(rec.len, 100);
	/* Exactly enough is enough; an empty record fits nothing. */
	ck_assert_int_eq(klog_read(r, 1, buf, MAXR, &rec), MAXR);
	fill_payload(want, MAXR, txid_of(1, 0));
	ck_assert_mem_eq(buf, want, MAXR);
	ck_assert_int_eq(klog_read(r, 4, buf, 100, NULL), 100);
	ck_assert_int_eq(klog_read(r, 3, buf, 0, &rec), 0);
	ck_assert_uint_eq(rec.len, 0);
	ck_assert_uint_eq(rec.lsn, 3);
	klog_reader_close(r);
}
END_TEST

/* A flipped bit in an older segment: -EBADMSG for that record only. */
START_TEST(reader_ebadmsg)
{
	static uint64_t firsts[MAX_SEGS];
	char seg[PATH_MAX];
	uint64_t offs[MAX_LSN];
	unsigned int calls;
	size_t nidx;
	struct log l;
	uint64_t victim;

	log_init(&l, _i, scratch_dir(), 64 << 10, 64 << 10);
	log_open(&l);
	put_n(&l, 300, 0, 10);
	commit(&l);
	log_close(&l);
	ck_assert_uint_ge(list_segs(l.dir, firsts, MAX_SEGS, NULL), 3);
	nidx = read_idx(l.dir, firsts[1], offs, MAX_LSN);
	ck_assert_uint_gt(nidx, 4);
	victim = firsts[1] + 3;
	path_of(seg, l.dir, firsts[1], false);
	/* The CRC field itself: the record no longer matches it. */
	poke(seg, offs[3] + 36, 0x80);

	read_fails(l.dir, victim, -EBADMSG);
	check_read(l.dir, 1, victim);
	check_read(l.dir, victim + 1, 301);
	bounds_are(l.dir, 1, 300);
	ck_assert_int_eq(iterate(l.dir, 1, 300, &calls), -EBADMSG);
	ck_assert_uint_eq(calls, victim - 1);
}
END_TEST

/*
 * Damaged index entries land on the wrong bytes: one pointing at the record
 * before its own, one past the end of the file.  -EBADMSG, not those bytes.
 */
START_TEST(reader_bad_index_entry)
{
	char idx[PATH_MAX];
	uint64_t offs[64], v;
	struct log l;
	int fd;

	log_init(&l, 0, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 20, 0, 0);
	commit(&l);
	log_close(&l);
	ck_assert_uint_eq(read_idx(l.dir, 1, offs, 64), 20);
	path_of(idx, l.dir, 1, true);
	fd = open(idx, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	v = htole64(offs[4]);
	ck_assert_int_eq(pwrite(fd, &v, 8, 5 * 8), 8); /* LSN 6 -> the bytes of LSN 5 */
	v = htole64(64ull << 20);
	ck_assert_int_eq(pwrite(fd, &v, 8, 9 * 8), 8); /* LSN 10 -> past the end */
	close(fd);
	read_fails(l.dir, 6, -EBADMSG);
	read_fails(l.dir, 10, -EBADMSG);
	check_read(l.dir, 1, 6);
	check_read(l.dir, 7, 10);
	check_read(l.dir, 11, 21);
}
END_TEST

/*
 * A damaged header of an older segment (a bit of its salt flipped): its
 * records are corrupt on disk, not "not durable yet", though later
 * segments read; an iteration over them must not end early with success.
 */
START_TEST(reader_bad_segment_header)
{
	static uint64_t firsts[MAX_SEGS];
	char seg[PATH_MAX];
	unsigned int calls;
	struct log l;

	log_init(&l, 0, scratch_dir(), 64 << 10, 64 << 10);
	log_open(&l);
	put_n(&l, 300, 0, 10);
	commit(&l);
	log_close(&l);
	ck_assert_uint_ge(list_segs(l.dir, firsts, MAX_SEGS, NULL), 3);
	path_of(seg, l.dir, firsts[1], false);
	poke(seg, 16, 0x01);

	check_read(l.dir, 1, firsts[1]);
	check_read(l.dir, firsts[2], 301);
	read_fails(l.dir, firsts[1], -EBADMSG);
	read_fails(l.dir, firsts[2] - 1, -EBADMSG);
	ck_assert_int_eq(iterate(l.dir, 1, 300, &calls), -EBADMSG);
	ck_assert_uint_eq(calls, firsts[1] - 1);
}
END_TEST

/* On tmpfs: fresh, reopen, a garbled tail cut and zeroed, and on. */
START_TEST(tmpfs_cycle)
{
	char seg[PATH_MAX], idx[PATH_MAX];
	uint64_t offs[64];
	struct log l;

	log_init(&l, _i, scratch_tmpfs(), 1 << 20, 64 << 10);
	log_open(&l);
	ck_assert_uint_eq(l.rec.segments, 0);
	put_n(&l, 40, 0, 8);
	log_close(&l);
	check_read(l.dir, 1, 41);

	path_of(seg, l.dir, 1, false);
	path_of(idx, l.dir, 1, true);
	ck_assert_uint_eq(read_idx(l.dir, 1, offs, 64), 40);
	truncate_to(idx, 32 * 8);
	poke(seg, offs[39] + 8, 0x01); /* the LSN of record 40, the last */

	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 40);
	ck_assert_uint_gt(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 7);
	assert_zero_from(seg, offs[39]);
	read_fails(l.dir, 40, -EAGAIN);
	put_n(&l, 20, 1, 0);
	commit(&l);
	log_close(&l);

	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 60);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	log_close(&l);
	check_read(l.dir, 1, 60);
	ck_assert_uint_eq(check_files(l.dir, 1), 60);
}
END_TEST

/*
 * A tmpfs too small for a third segment: the rotation fails with -ENOSPC,
 * leaves no NAME.tmp, and everything appended before it is durable; once
 * the tmpfs grows, the same writer rotates and goes on.
 */
START_TEST(tmpfs_enospc)
{
	static uint64_t firsts[MAX_SEGS];
	char dir[PATH_MAX];
	uint64_t next = 0;
	size_t tmps;
	struct log l;
	int err = 0;

	scratch_mount_tmpfs(dir, "1m", "tiny-%d", _i);
	log_init(&l, _i, dir, 384 << 10, 64 << 10);
	l.loose = true;
	log_open(&l);
	for (int k = 0; k < 4000; k++) {
		uint64_t lsn = klog_writer_next(l.w);

		if (!try_put_len(&l, 0, len_of(txid_of(lsn, 0)), &err))
			break;
		if (k % 50 == 49)
			commit(&l);
	}
	ck_assert_int_eq(err, -ENOSPC);
	next = klog_writer_next(l.w);
	/* The full segment was committed before the new one was tried. */
	ck_assert_uint_eq(klog_writer_durable(l.w), next);
	ck_assert_uint_eq(list_segs(l.dir, firsts, MAX_SEGS, &tmps), 2);
	ck_assert_uint_eq(tmps, 0);
	/* Still full. */
	ck_assert_ptr_null(klog_writer_reserve(l.w, MAXR, &err));
	ck_assert_int_eq(err, -ENOSPC);
	/* Room again (klogd's drain tries again: klogd/nospace.h): the same writer goes on. */
	ck_assert_int_eq(mount(NULL, dir, NULL, MS_REMOUNT, "size=4m"), 0);
	put_n(&l, 100, 0, 50);
	commit(&l);
	next = klog_writer_next(l.w);
	ck_assert_uint_eq(klog_writer_durable(l.w), next);
	ck_assert_uint_eq(list_segs(l.dir, firsts, MAX_SEGS, &tmps), 3);
	ck_assert_uint_eq(tmps, 0);
	log_close(&l);
	check_read(l.dir, 1, next);
	ck_assert_uint_eq(check_files(l.dir, 1), next);

	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, next);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	log_close(&l);
	ck_assert_int_eq(umount2(dir, MNT_DETACH), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("writer");
	TCase *tc = tcase_create("writer");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, fresh, 0, 2);
	tcase_add_loop_test(tc, reopen, 0, 2);
	tcase_add_loop_test(tc, rotation, 0, 2);
	tcase_add_loop_test(tc, exact_fit, 0, 2);
	tcase_add_loop_test(tc, uncommitted_lost, 0, 2);
	tcase_add_loop_test(tc, uncommitted_written, 0, 2);
	tcase_add_loop_test(tc, torn_tail, 0, 4);
	tcase_add_loop_test(tc, torn_tail_aligned, 0, 2);
	tcase_add_loop_test(tc, missing_idx, 0, 2);
	tcase_add_loop_test(tc, durable_damage, 0, 4);
	tcase_add_loop_test(tc, idx_zero_tail, 0, 2);
	tcase_add_test(tc, idx_zero_tail_reader);
	tcase_add_loop_test(tc, old_segment_short_index, 0, 2);
	tcase_add_loop_test(tc, open_faults, 0, 6);
	tcase_add_loop_test(tc, enospc_resume, 0, 4);
	tcase_add_loop_test(tc, stale_tmp, 0, 2);
	tcase_add_test(tc, refuses);
	tcase_add_test(tc, misuse);
	tcase_add_test(tc, append_len_overflow);
	tcase_add_loop_test(tc, reader_enoent, 0, 2);
	tcase_add_test(tc, reader_eagain);
	tcase_add_test(tc, reader_enospc);
	tcase_add_loop_test(tc, reader_ebadmsg, 0, 2);
	tcase_add_test(tc, reader_bad_index_entry);
	tcase_add_test(tc, reader_bad_segment_header);
	tcase_add_loop_test(tc, tmpfs_cycle, 0, 2);
	tcase_add_loop_test(tc, tmpfs_enospc, 0, 2);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
