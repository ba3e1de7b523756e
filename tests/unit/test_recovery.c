// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: what klog_writer_open (klogd/writer.h) refuses and repairs
 * (issue 9): index entries that do not name their records (shifted,
 * swapped, torn; in the last segment and in a sealed one) are rebuilt and
 * every record reads back; damage with whole records after it is refused
 * with its file, offset and LSN, never cut, whether the index names it or
 * not; segments and klog.meta of another log; a directory whose newest
 * segment is gone; a directory that ends below what the kernel log
 * acknowledged; and a commit into a segment or directory that is no longer
 * where the log is read, which fails with nothing claimed durable.  Loop
 * tests run each case with each backend (_i % 2: psync, uring) and, where
 * noted, in each mode (_i / 2).  Needs root (scratch mounts).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "logdir.h"
#include "scratch.h"
#include "segfiles.h"
#include "wlog.h"

/* A log of n records in one 1 MiB segment, committed and closed; its offsets in offs. */
static void one_segment(struct log *l, int i, unsigned int n, uint64_t *offs)
{
	log_init(l, i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(l);
	put_n(l, n, 0, 0);
	commit(l);
	log_close(l);
	ck_assert_uint_eq(read_idx(l->dir, 1, offs, 64), n);
}

/* A log of 300 records over several 64 KiB segments, closed; their first LSNs in firsts. */
static size_t segments(struct log *l, int i, uint64_t *firsts)
{
	size_t nseg;

	log_init(l, i, scratch_dir(), 64 << 10, 64 << 10);
	log_open(l);
	put_n(l, 300, 0, 7);
	commit(l);
	log_close(l);
	nseg = list_segs(l->dir, firsts, MAX_SEGS, NULL);
	ck_assert_uint_ge(nseg, 3);
	return nseg;
}

static void write_entry(const char *idx, size_t i, uint64_t off)
{
	int fd = open(idx, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, &off, 8, (off_t)(i * 8)), 8);
	close(fd);
}

/* Open must fail with err, its fault naming file, offset, LSN, and saying each of says. */
static void refused(struct log *l, int err, const char *file, uint64_t off, uint64_t lsn,
		    const char *const *says)
{
	ck_assert_int_eq(log_try_open(l), err);
	ck_assert_str_eq(l->rec.fault.file, file);
	ck_assert_uint_eq(l->rec.fault.off, off);
	ck_assert_uint_eq(l->rec.fault.lsn, lsn);
	for (; *says; says++)
		ck_assert_msg(strstr(l->rec.fault.msg, *says), "'%s' does not say '%s'",
			      l->rec.fault.msg, *says);
}

/*
 * An index entry of the last segment moved (mode 0: entry 20 shifted 8
 * bytes forward, still increasing; mode 1: entries 10 and 11 swapped;
 * mode 2: entry 25 shifted 8 bytes back, into the record before; mode 3:
 * the file cut in the middle of entry 30): the index is rebuilt from the
 * first wrong entry on, and every record reads back.
 */
START_TEST(index_moved)
{
	const int mode = _i / 2;
	const size_t at[] = { 20, 10, 25, 30 };
	uint64_t offs[64], now[64];
	char idx[PATH_MAX];
	struct log l;

	one_segment(&l, _i, 40, offs);
	path_of(idx, l.dir, 1, true);
	if (mode == 1) {
		write_entry(idx, 10, offs[11]);
		write_entry(idx, 11, offs[10]);
	} else if (mode == 3) {
		truncate_to(idx, 30 * 8 + 5);
	} else {
		write_entry(idx, at[mode], offs[at[mode]] + (mode ? -8 : 8));
	}
	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 41);
	ck_assert_uint_eq(l.rec.cut_bytes, 0);
	ck_assert_uint_eq(l.rec.reindexed, 40 - at[mode]);
	log_close(&l);
	ck_assert_uint_eq(read_idx(l.dir, 1, now, 64), 40);
	ck_assert_mem_eq(now, offs, 40 * sizeof(*offs));
	check_read(l.dir, 1, 41);
	ck_assert_uint_eq(check_files(l.dir, 1), 41);
}
END_TEST

/* The same in a sealed segment, whose index is otherwise whole: rebuilt, every record read. */
START_TEST(index_moved_sealed)
{
	static uint64_t firsts[MAX_SEGS];
	uint64_t offs[256];
	char idx[PATH_MAX];
	struct log l;

	segments(&l, _i, firsts);
	path_of(idx, l.dir, firsts[0], true);
	ck_assert_uint_eq(read_idx(l.dir, firsts[0], offs, 256), firsts[1] - firsts[0]);
	write_entry(idx, 3, offs[3] + 8);
	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, 301);
	ck_assert_uint_eq(l.rec.reindexed, firsts[1] - firsts[0] - 3);
	log_close(&l);
	check_read(l.dir, 1, 301);
}
END_TEST

/*
 * Damage before the end (mode 0: a payload bit of record 20, which the
 * index names; mode 1: the index lost its last 10 entries, and record 35,
 * past it, has a bad CRC; records after it are whole): refused, never cut,
 * naming the segment, the record's offset and LSN, both CRCs and the whole
 * record after it; nothing on disk changes.
 */
START_TEST(damage_before_tail)
{
	const bool lost_tail = _i / 2;
	const uint64_t victim = lost_tail ? 35 : 20;
	const char *const says[] = { ": CRC 0x", " expected 0x", "a whole record with LSN",
				     NULL };
	char seg[PATH_MAX], idx[PATH_MAX], name[KLOG_SEG_NAME_MAX];
	uint64_t offs[64];
	size_t at, seg_size, idx_size;
	struct log l;
	uint8_t now;

	one_segment(&l, _i, 40, offs);
	path_of(seg, l.dir, 1, false);
	path_of(idx, l.dir, 1, true);
	klog_seg_name(name, 1, false);
	if (lost_tail)
		truncate_to(idx, 30 * 8);
	at = offs[victim - 1] + 16; /* the txid: the header still reads, the CRC fails */
	now = poke(seg, at, 0x40);
	seg_size = size_of(seg);
	idx_size = size_of(idx);

	refused(&l, -EBADMSG, name, offs[victim - 1], victim, says);
	ck_assert_uint_eq(size_of(seg), seg_size);
	ck_assert_uint_eq(size_of(idx), idx_size);
	ck_assert_uint_eq(byte_at(seg, at), now);
	for (uint64_t lsn = victim + 1; lsn <= 40; lsn++)
		ck_assert_uint_ne(byte_at(seg, offs[lsn - 1]), 0);
}
END_TEST

/* A sealed segment's damage is refused the same way, naming that segment. */
START_TEST(damage_sealed)
{
	static uint64_t firsts[MAX_SEGS];
	const char *const says[] = { ": CRC 0x", " expected 0x", NULL };
	char seg[PATH_MAX], name[KLOG_SEG_NAME_MAX];
	uint64_t offs[256];
	struct log l;

	segments(&l, _i, firsts);
	path_of(seg, l.dir, firsts[1], false);
	klog_seg_name(name, firsts[1], false);
	read_idx(l.dir, firsts[1], offs, 256);
	poke(seg, offs[2] + 16, 0x01);
	refused(&l, -EBADMSG, name, offs[2], firsts[1] + 2, says);
}
END_TEST

/* Rewrite the header of dir's segment first with log id id (a good CRC). */
static void set_seg_id(const char *dir, uint64_t first, uint64_t id)
{
	char seg[PATH_MAX];
	struct klog_seg_hdr h;
	size_t n;
	uint8_t *p;

	path_of(seg, dir, first, false);
	p = slurp(seg, &n);
	ck_assert_int_eq(klog_seg_hdr_decode(p, n, &h), 0);
	klog_seg_hdr_init(&h, first, h.salt, h.seg_size, id);
	memcpy(p, &h, sizeof(h));
	write_file(seg, p, n);
	free(p);
}

/*
 * Another log's id: in the newest segment's header (mode 0), in a sealed
 * one's (mode 1), or the directory's id is not the pinned kernel log's
 * (mode 2): refused with -EXDEV, naming both ids in hex.
 */
START_TEST(other_log)
{
	static uint64_t firsts[MAX_SEGS];
	const int mode = _i / 2;
	char name[KLOG_SEG_NAME_MAX], want[64], found[64];
	const char *const says[] = { want, found, NULL };
	uint64_t id;
	size_t nseg;
	struct log l;

	nseg = segments(&l, _i, firsts);
	log_open(&l);
	id = l.rec.log_id;
	ck_assert_uint_ne(id, 0);
	log_close(&l);
	snprintf(want, sizeof(want), "%016" PRIx64, id);
	snprintf(found, sizeof(found), "%016" PRIx64, id ^ 0x5a5a);
	if (mode == 2) {
		l.o.log_id = id ^ 0x5a5a;
		refused(&l, -EXDEV, KLOG_META_NAME, 0, firsts[nseg - 1], says);
		return;
	}
	set_seg_id(l.dir, firsts[mode ? 0 : nseg - 1], id ^ 0x5a5a);
	klog_seg_name(name, firsts[mode ? 0 : nseg - 1], false);
	refused(&l, -EXDEV, name, 0, firsts[mode ? 0 : nseg - 1], says);
}
END_TEST

/*
 * The newest segment deleted (mode 0), with its index, or every segment
 * (mode 1): klog.meta still names it, so the directory ends early and is
 * refused, never continued at its LSNs; klog.meta itself deleted with
 * several segments left (mode 2) is refused too.
 */
START_TEST(newest_missing)
{
	static uint64_t firsts[MAX_SEGS];
	const int mode = _i / 2;
	const char *const says[] = { mode == 2 ? "is missing" : "ends early", NULL };
	char path[PATH_MAX], name[KLOG_SEG_NAME_MAX];
	size_t nseg;
	struct log l;

	nseg = segments(&l, _i, firsts);
	klog_seg_name(name, firsts[nseg - 1], false);
	if (mode == 2) {
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", l.dir, KLOG_META_NAME),
				 (int)sizeof(path));
		ck_assert_int_eq(unlink(path), 0);
		refused(&l, -ENOENT, KLOG_META_NAME, 0, 0, says);
		return;
	}
	for (size_t k = mode ? 0 : nseg - 1; k < nseg; k++) {
		path_of(path, l.dir, firsts[k], false);
		ck_assert_int_eq(unlink(path), 0);
		path_of(path, l.dir, firsts[k], true);
		ck_assert_int_eq(unlink(path), 0);
	}
	refused(&l, -ENOENT, name, 0, firsts[nseg - 1], says);
	ck_assert_uint_eq(list_segs(l.dir, firsts, MAX_SEGS, NULL), mode ? 0 : nseg - 1);
}
END_TEST

/*
 * What a crash can leave of klog.meta is repaired: gone with one segment
 * (mode 0: the crash came between the first segment and klog.meta), or
 * naming the segment before the newest (mode 1: between a rotation and
 * klog.meta).  The id stays the log's.
 */
START_TEST(meta_behind)
{
	static uint64_t firsts[MAX_SEGS];
	const int mode = _i / 2;
	char path[PATH_MAX];
	struct klog_meta m;
	uint64_t id, offs[64];
	size_t nseg = 1;
	struct log l;
	int dirfd;

	if (mode)
		nseg = segments(&l, _i, firsts);
	else
		one_segment(&l, _i, 20, offs);
	firsts[0] = mode ? firsts[0] : 1;
	dirfd = open(l.dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dirfd, 0);
	ck_assert_int_eq(klogd_meta_read(dirfd, &m), 0);
	id = m.log_id;
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", l.dir, KLOG_META_NAME),
			 (int)sizeof(path));
	if (mode) {
		m.last_first = firsts[nseg - 2];
		ck_assert_int_eq(klogd_meta_write(dirfd, &m), 0);
	} else {
		ck_assert_int_eq(unlink(path), 0);
	}
	log_open(&l);
	ck_assert_uint_eq(l.rec.log_id, id);
	log_close(&l);
	ck_assert_int_eq(klogd_meta_read(dirfd, &m), 0);
	ck_assert_uint_eq(m.log_id, id);
	ck_assert_uint_eq(m.last_first, firsts[nseg - 1]);
	close(dirfd);
}
END_TEST

/*
 * A pinned kernel log and the directory: an empty directory takes the
 * log's id; a directory that ends below what the kernel acknowledged is
 * refused before its torn tail is cut; an empty one is refused when the
 * kernel made records durable elsewhere.
 */
START_TEST(pinned)
{
	const char *const below[] = { "ends at LSN 40", "below 45", NULL };
	const char *const empty[] = { "is empty", NULL };
	char seg[PATH_MAX], idx[PATH_MAX], name[KLOG_SEG_NAME_MAX];
	uint64_t offs[64], firsts[4];
	struct klog_seg_hdr h;
	size_t n, seg_size;
	struct log l;
	uint8_t *p, now;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	l.o.log_id = 0x1234abcd5678ef01ull;
	log_open(&l);
	ck_assert(l.rec.created);
	ck_assert_uint_eq(l.rec.log_id, 0x1234abcd5678ef01ull);
	put_n(&l, 40, 0, 0);
	commit(&l);
	log_close(&l);
	path_of(seg, l.dir, 1, false);
	p = slurp(seg, &n);
	ck_assert_int_eq(klog_seg_hdr_decode(p, n, &h), 0);
	ck_assert_uint_eq(h.log_id, 0x1234abcd5678ef01ull);
	free(p);

	/*
	 * The last record torn, past an index that lost its tail: it would be
	 * cut, but the kernel acknowledged up to 44.
	 */
	ck_assert_uint_eq(read_idx(l.dir, 1, offs, 64), 40);
	path_of(idx, l.dir, 1, true);
	truncate_to(idx, 30 * 8);
	truncate_to(seg, offs[39] + 20);
	seg_size = size_of(seg);
	now = byte_at(seg, offs[39]);
	l.o.acked_lsn = 45;
	klog_seg_name(name, 1, false);
	refused(&l, -ESTALE, name, offs[39], 40, below);
	ck_assert_uint_eq(size_of(seg), seg_size);
	ck_assert_uint_eq(byte_at(seg, offs[39]), now);
	l.o.acked_lsn = 40;
	log_open(&l);
	ck_assert(!l.rec.created);
	ck_assert_uint_eq(l.rec.next_lsn, 40);
	log_close(&l);

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	l.o = (struct klog_writer_opts){ .dir = l.dir, .seg_size = 1 << 20, .max_record = MAXR,
					 .first_lsn = 45, .log_id = 7, .acked_lsn = 45,
					 .refuse_empty = true };
	refused(&l, -ESTALE, "", 0, 45, empty);
	ck_assert_uint_eq(list_segs(l.dir, firsts, 4, NULL), 0);
}
END_TEST

/*
 * The directory is not where the log is read any more, while the writer
 * writes: the segment unlinked (mode 0), the directory renamed (mode 1),
 * renamed and replaced by an empty one (mode 2), or removed with its files
 * (mode 3).  The next commit fails with -ESTALE, its records are not
 * durable (nor indexed), and klog_writer_error names the segment.
 */
START_TEST(dir_gone)
{
	const int mode = _i / 2;
	char seg[PATH_MAX], idx[PATH_MAX], moved[PATH_MAX + 32], meta[PATH_MAX];
	struct log l;
	int err;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(&l);
	put_n(&l, 20, 0, 0);
	commit(&l);
	path_of(seg, l.dir, 1, false);
	path_of(idx, l.dir, 1, true);
	ck_assert_int_lt(snprintf(moved, sizeof(moved), "%s.moved", l.dir),
			 (int)sizeof(moved));
	ck_assert_int_lt(snprintf(meta, sizeof(meta), "%s/%s", l.dir, KLOG_META_NAME),
			 (int)sizeof(meta));
	if (mode == 0) {
		ck_assert_int_eq(unlink(seg), 0);
	} else if (mode == 3) {
		ck_assert_int_eq(unlink(seg), 0);
		ck_assert_int_eq(unlink(idx), 0);
		ck_assert_int_eq(unlink(meta), 0);
		ck_assert_int_lt(snprintf(meta, sizeof(meta), "%s/klogd.lock", l.dir),
				 (int)sizeof(meta));
		unlink(meta);
		ck_assert_int_lt(snprintf(meta, sizeof(meta), "%s/trim.lock", l.dir),
				 (int)sizeof(meta));
		unlink(meta);
		ck_assert_int_eq(rmdir(l.dir), 0);
	} else {
		ck_assert_int_eq(rename(l.dir, moved), 0);
		if (mode == 2)
			ck_assert_int_eq(mkdir(l.dir, 0755), 0);
	}
	put_n(&l, 5, 1, 0);
	err = klog_writer_commit(l.w);
	ck_assert_int_eq(err, -ESTALE);
	ck_assert_uint_eq(klog_writer_durable(l.w), 21);
	ck_assert_msg(strstr(klog_writer_error(l.w), "refusing to confirm durability") &&
		      strstr(klog_writer_error(l.w), "00000000000000000001.klog"),
		      "error: '%s'", klog_writer_error(l.w));
	log_close(&l);
	if (mode == 1)
		ck_assert_uint_eq(size_of(strcat(moved, "/00000000000000000001.idx")), 20 * 8);
}
END_TEST

static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-recovery", "64m");
}

int main(void)
{
	Suite *s = suite_create("recovery");
	TCase *tc = tcase_create("recovery");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, index_moved, 0, 8);
	tcase_add_loop_test(tc, index_moved_sealed, 0, 2);
	tcase_add_loop_test(tc, damage_before_tail, 0, 4);
	tcase_add_loop_test(tc, damage_sealed, 0, 2);
	tcase_add_loop_test(tc, other_log, 0, 6);
	tcase_add_loop_test(tc, newest_missing, 0, 6);
	tcase_add_loop_test(tc, meta_behind, 0, 4);
	tcase_add_loop_test(tc, pinned, 0, 2);
	tcase_add_loop_test(tc, dir_gone, 0, 8);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
