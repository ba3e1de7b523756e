// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: klog_verify() (libklog/verify.c) on a clean log of five
 * segments and on each kind of damage: a record's CRC, an index entry
 * shifted or two swapped, a gap between segments, another log id in one
 * header, a missing index, a directory or FIFO in place of a file, a
 * segment truncated below what its index names, a sealed segment's records
 * past its index; each reported once with the right file, offset and LSN;
 * the first problem only, or all of them with KLOG_VERIFY_KEEP_GOING; files
 * that are not segments ignored.
 */
#define _GNU_SOURCE
#include <check.h>
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

#include "check_run.h"
#include "format.h"
#include "logbuild.h"
#include "scratch.h"
#include "segfiles.h"

#define SEGS 5
#define PER 20 /* segment s (from 0) holds LSNs 1 + 20 s .. 20 (s + 1) */
#define LOG_ID 0x10c1dull

struct seen {
	int err;
	char file[64];
	uint64_t offset, lsn;
	char what[256];
};

struct problems {
	unsigned int n;
	struct seen p[16];
	int stop_with; /* the callback's return */
};

static int collect(const struct klog_verify_problem *p, void *ctx)
{
	struct problems *ps = ctx;
	struct seen *s = &ps->p[ps->n < 16 ? ps->n : 15];

	ps->n++;
	*s = (struct seen){ .err = p->err, .offset = p->offset, .lsn = p->lsn };
	snprintf(s->file, sizeof(s->file), "%s", p->file ? p->file : "");
	snprintf(s->what, sizeof(s->what), "%s", p->what);
	return ps->stop_with;
}

static char dir[PATH_MAX];

/* A fresh clean log in dir. */
static void build(void)
{
	static unsigned int n;
	struct logbuild b = { .segments = SEGS, .per_seg = PER, .log_id = LOG_ID };

	snprintf(dir, sizeof(dir), "%s/log-%d-%u", scratch_dir(), (int)getpid(), n++);
	ck_assert_int_eq(logbuild_write(dir, &b), 0);
}

static void path_in(char *out, uint64_t first, bool idx)
{
	path_of(out, dir, first, idx);
}

static uint64_t entry_of(uint64_t lsn)
{
	uint64_t offs[PER], first = lsn - (lsn - 1) % PER;

	ck_assert_uint_eq(read_idx(dir, first, offs, PER), PER);
	return offs[lsn - first];
}

static void poke(const char *path, uint64_t off, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static void set_entry(uint64_t lsn, uint64_t off)
{
	char path[PATH_MAX];
	uint64_t le = htole64(off);

	path_in(path, lsn - (lsn - 1) % PER, true);
	poke(path, (lsn - 1) % PER * 8, &le, 8);
}

/* Flip a payload byte of record lsn (which has one). */
static void flip_payload(uint64_t lsn)
{
	char path[PATH_MAX];
	uint64_t off = entry_of(lsn) + sizeof(struct klog_rec_hdr);
	uint8_t c;
	int fd;

	ck_assert_uint_gt(logbuild_len(lsn), 0);
	path_in(path, lsn - (lsn - 1) % PER, false);
	fd = open(path, O_RDWR);
	ck_assert_int_eq(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

/* Rewrite segment first's header with log id id (a valid header). */
static void set_log_id(uint64_t first, uint64_t id)
{
	char path[PATH_MAX];
	struct klog_seg_hdr h;

	klog_seg_hdr_init(&h, first, logbuild_salt(first), LOGBUILD_SEG_SIZE, id);
	path_in(path, first, false);
	poke(path, 0, &h, sizeof(h));
}

/* An empty file name in dir. */
static void touch_in(const char *name)
{
	char path[PATH_MAX];
	int fd;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, name), (int)sizeof(path));
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void unlink_file(uint64_t first, bool idx)
{
	char path[PATH_MAX];

	path_in(path, first, idx);
	ck_assert_int_eq(unlink(path), 0);
}

static int verify(unsigned int flags, struct problems *ps, struct klog_verify_summary *sum)
{
	memset(ps, 0, sizeof(*ps));
	return klog_verify(dir, flags, collect, ps, sum);
}

/* Exactly one problem, as given; what contains word. */
static void one_problem(int err, uint64_t first, bool idx, uint64_t offset, uint64_t lsn,
			const char *word)
{
	struct klog_verify_summary sum;
	struct problems ps;
	char name[KLOG_SEG_NAME_MAX];

	klog_seg_name(name, first, idx);
	ck_assert_int_eq(verify(KLOG_VERIFY_KEEP_GOING, &ps, &sum), -EBADMSG);
	ck_assert_msg(ps.n == 1, "%u problems, the first: %s", ps.n, ps.p[0].what);
	ck_assert_uint_eq(sum.problems, 1);
	ck_assert_int_eq(ps.p[0].err, err);
	ck_assert_str_eq(ps.p[0].file, name);
	ck_assert_uint_eq(ps.p[0].offset, offset);
	ck_assert_uint_eq(ps.p[0].lsn, lsn);
	ck_assert_msg(strstr(ps.p[0].what, word), "'%s' lacks '%s'", ps.p[0].what, word);
}

START_TEST(clean)
{
	struct klog_verify_summary sum;
	struct problems ps;

	build();
	/* Not segments: the log's metadata (any format), klogd's lock, a segment being made. */
	touch_in("klog.meta");
	touch_in("klogd.lock");
	touch_in("00000000000000000101.klog.tmp");
	ck_assert_int_eq(verify(0, &ps, &sum), 0);
	ck_assert_uint_eq(ps.n, 0);
	ck_assert_uint_eq(sum.segments, SEGS);
	ck_assert_uint_eq(sum.records, SEGS * PER);
	ck_assert_uint_eq(sum.first_lsn, 1);
	ck_assert_uint_eq(sum.last_lsn, SEGS * PER);
	ck_assert_uint_eq(sum.log_id, LOG_ID);
	ck_assert_uint_eq(sum.problems, 0);
	ck_assert_int_eq(klog_verify(dir, 0, NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(empty_and_missing_dir)
{
	struct klog_verify_summary sum;
	struct problems ps;

	snprintf(dir, sizeof(dir), "%s/empty-%d", scratch_dir(), (int)getpid());
	ck_assert_int_eq(verify(0, &ps, &sum), -ENOENT);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(verify(0, &ps, &sum), 0);
	ck_assert_uint_eq(sum.segments, 0);
	ck_assert_uint_eq(sum.records, 0);
}
END_TEST

START_TEST(crc_flip)
{
	build();
	flip_payload(47);
	one_problem(-EBADMSG, 41, false, entry_of(47), 47, "CRC");
}
END_TEST

START_TEST(entry_shifted)
{
	build();
	set_entry(45, entry_of(45) + 8);
	one_problem(-EBADMSG, 41, true, 4 * 8, 45, "names offset");
}
END_TEST

/* Two entries swapped: the first only, then both with KLOG_VERIFY_KEEP_GOING. */
START_TEST(entries_swapped)
{
	struct klog_verify_summary sum;
	struct problems ps;
	uint64_t a, b;
	char name[KLOG_SEG_NAME_MAX];

	build();
	a = entry_of(45);
	b = entry_of(46);
	set_entry(45, b);
	set_entry(46, a);
	klog_seg_name(name, 41, true);
	ck_assert_int_eq(verify(0, &ps, &sum), -EBADMSG);
	ck_assert_uint_eq(ps.n, 1);
	ck_assert_str_eq(ps.p[0].file, name);
	ck_assert_uint_eq(ps.p[0].offset, 4 * 8);
	ck_assert_uint_eq(ps.p[0].lsn, 45);
	ck_assert_int_eq(verify(KLOG_VERIFY_KEEP_GOING, &ps, &sum), -EBADMSG);
	ck_assert_uint_eq(ps.n, 2);
	ck_assert_uint_eq(ps.p[1].offset, 5 * 8);
	ck_assert_uint_eq(ps.p[1].lsn, 46);
	ck_assert_uint_eq(sum.records, SEGS * PER);
}
END_TEST

/* A middle segment gone, both files: a gap named from the LSN after the one before. */
START_TEST(gap)
{
	build();
	unlink_file(41, false);
	unlink_file(41, true);
	one_problem(-ENOLINK, 61, false, UINT64_MAX, 41, "41..60");
}
END_TEST

START_TEST(other_log_id)
{
	build();
	set_log_id(61, 0xbad1d);
	one_problem(-EBADMSG, 61, false, offsetof(struct klog_seg_hdr, log_id), 61,
		    "0x00000000000bad1d");
}
END_TEST

START_TEST(missing_index)
{
	build();
	unlink_file(21, true);
	one_problem(-ENOLINK, 21, true, UINT64_MAX, 21, "No such file");
}
END_TEST

/*
 * The newest segment without an index: klogd creating it (no record yet) is
 * no problem; with records it is.
 */
START_TEST(last_index_missing)
{
	char path[PATH_MAX];
	struct klog_verify_summary sum;
	struct problems ps;

	build();
	unlink_file(81, true);
	one_problem(-ENOLINK, 81, true, UINT64_MAX, 81, "No such file");
	path_in(path, 81, false);
	ck_assert_int_eq(truncate(path, KLOG_SEG_HDR_SIZE), 0);
	ck_assert_int_eq(verify(0, &ps, &sum), 0);
	ck_assert_uint_eq(sum.segments, SEGS);
	ck_assert_uint_eq(sum.last_lsn, 80);
}
END_TEST

/* A directory in place of a segment, a FIFO in place of an index: never a hang. */
START_TEST(not_regular)
{
	char path[PATH_MAX];

	build();
	unlink_file(21, false);
	path_in(path, 21, false);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	one_problem(-ENOLINK, 21, false, UINT64_MAX, 21, "not a regular file");
	build();
	unlink_file(61, true);
	path_in(path, 61, true);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	one_problem(-ENOLINK, 61, true, UINT64_MAX, 61, "not a regular file");
}
END_TEST

/* The segment cut short below what its index names: more entries than records. */
START_TEST(truncated)
{
	char path[PATH_MAX];

	build();
	path_in(path, 41, false);
	ck_assert_int_eq(truncate(path, (off_t)entry_of(50)), 0);
	one_problem(-EBADMSG, 41, true, 9 * 8, 50, "names 20 records");
}
END_TEST

/* A sealed segment's index lost its last entries: the records past it are named. */
START_TEST(unindexed)
{
	char path[PATH_MAX];

	build();
	path_in(path, 21, true);
	ck_assert_int_eq(truncate(path, 15 * 8), 0);
	one_problem(-ENOLINK, 21, true, 15 * 8, 36, "LSNs 36..40 are not in the index");
}
END_TEST

/* Three kinds of damage in three segments: all listed, in order, with keep-going. */
START_TEST(keep_going)
{
	struct klog_verify_summary sum;
	struct problems ps;

	build();
	flip_payload(5);
	set_entry(45, entry_of(45) + 8);
	set_log_id(81, 0xbad1d);
	ck_assert_int_eq(verify(0, &ps, &sum), -EBADMSG);
	ck_assert_uint_eq(ps.n, 1);
	ck_assert_uint_eq(ps.p[0].lsn, 5);
	ck_assert_int_eq(verify(KLOG_VERIFY_KEEP_GOING, &ps, &sum), -EBADMSG);
	ck_assert_uint_eq(ps.n, 3);
	ck_assert_uint_eq(sum.problems, 3);
	ck_assert_uint_eq(ps.p[0].lsn, 5);
	ck_assert_uint_eq(ps.p[1].lsn, 45);
	ck_assert_uint_eq(ps.p[2].lsn, 81);
	ck_assert_uint_eq(sum.segments, SEGS);
	/* The callback's non-zero return stops the check and is returned. */
	memset(&ps, 0, sizeof(ps));
	ps.stop_with = 42;
	ck_assert_int_eq(klog_verify(dir, KLOG_VERIFY_KEEP_GOING, collect, &ps, &sum), 42);
	ck_assert_uint_eq(ps.n, 1);
}
END_TEST

static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-verify", NULL);
}

int main(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("verify");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_add_test(tc, clean);
	tcase_add_test(tc, empty_and_missing_dir);
	tcase_add_test(tc, crc_flip);
	tcase_add_test(tc, entry_shifted);
	tcase_add_test(tc, entries_swapped);
	tcase_add_test(tc, gap);
	tcase_add_test(tc, other_log_id);
	tcase_add_test(tc, missing_index);
	tcase_add_test(tc, last_index_missing);
	tcase_add_test(tc, not_regular);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, unindexed);
	tcase_add_test(tc, keep_going);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
