// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: deleting a log directory's oldest segments (libklog/segtrim.c,
 * klogd --retain-* and klogctl trim): which segments each limit (bytes, age,
 * count, --before) takes, never the newest nor one holding an LSN at or
 * above the durable one; on disk, whole segments and their indexes go oldest
 * first, an index a crash left behind goes too, a held lock makes a deletion
 * wait or refuse; and after a trim a reader answers -ENOENT ("trimmed") below
 * the first LSN kept while reading on what it has, klog_verify() calls the
 * log clean from its new start, and klogd's writer opens the trimmed log and
 * appends to it.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

#include "check_run.h"
#include "logbuild.h"
#include "scratch.h"
#include "segfiles.h"
#include "segtrim.h"
#include "wlog.h"

#define SEGS 5
#define PER 20 /* segment s (from 0) holds LSNs 1 + 20 s .. 20 (s + 1) */

/* Five segments as the policy sees them: 100 bytes each, written at 100, 200, ... 500. */
static void five(struct klog_trim_seg *s)
{
	for (int i = 0; i < SEGS; i++)
		s[i] = (struct klog_trim_seg){ .first = 1 + PER * i, .bytes = 100,
					       .mtime = 100 * (i + 1) };
}

static size_t count(const struct klog_trim_seg *s, size_t n, struct klog_trim_policy p)
{
	return klog_trim_count(s, n, &p);
}

START_TEST(policy_limits)
{
	struct klog_trim_seg s[SEGS];

	five(s);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ 0 }), 0);
	/* --retain-segments: the newest N stay. */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .segments = 3 }), 2);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .segments = 5 }), 0);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .segments = 9 }), 0);
	/* --retain-bytes: the oldest go until the rest fits. */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .bytes = 300 }), 2);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .bytes = 250 }), 3);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .bytes = 500 }), 0);
	/* --retain-age: last written longer ago than age_s. */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .age_s = 650, .now = 1000 }),
			  3);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .age_s = 700, .now = 1000 }),
			  2); /* 700 s ago is not older than 700 s */
	/* A young one stops it: what is left stays contiguous. */
	s[1].mtime = 990;
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .age_s = 650, .now = 1000 }),
			  1);
	five(s);
	/* --before: segments whose every LSN is below it. */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .below = 1 }), 0);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .below = 40 }), 1);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .below = 41 }), 2);
	/* Limits together: the one that takes most. */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .below = 21, .segments = 3,
								    .bytes = 450 }), 2);
}
END_TEST

START_TEST(policy_never_newest_nor_durable)
{
	struct klog_trim_seg s[SEGS];

	five(s);
	/* The newest (being written) never goes, whatever the limit. */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .segments = 1 }), 4);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .bytes = 1 }), 4);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .below = UINT64_MAX }), 4);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .age_s = 1, .now = 1 << 30 }),
			  4);
	ck_assert_uint_eq(count(s, 1, (struct klog_trim_policy){ .segments = 1, .bytes = 1 }), 0);
	ck_assert_uint_eq(count(s, 0, (struct klog_trim_policy){ .segments = 1 }), 0);
	/* Nor one holding an LSN at or above the durable one. */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .segments = 1, .durable = 41 }),
			  2); /* 21..40 are all below 41 */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .segments = 1, .durable = 40 }),
			  1); /* 40 is not durable: 21..40 stays */
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .bytes = 1, .durable = 20 }),
			  0);
	ck_assert_uint_eq(count(s, SEGS, (struct klog_trim_policy){ .below = 81, .durable = 61 }),
			  3);
}
END_TEST

static char dir[PATH_MAX];
static int dirfd_ = -1;

/* A fresh clean log of five segments in dir, opened in dirfd_. */
static void build(void)
{
	static unsigned int n;
	struct logbuild b = { .segments = SEGS, .per_seg = PER, .log_id = 0x7e1a1ull };

	snprintf(dir, sizeof(dir), "%s/log-%d-%u", scratch_dir(), (int)getpid(), n++);
	ck_assert_int_eq(logbuild_write(dir, &b), 0);
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dirfd_, 0);
}

static bool exists(uint64_t first, bool idx)
{
	char p[PATH_MAX];

	path_of(p, dir, first, idx);
	return !access(p, F_OK);
}

static uint64_t file_bytes(uint64_t first, bool idx)
{
	char p[PATH_MAX];
	struct stat st;

	path_of(p, dir, first, idx);
	ck_assert_int_eq(stat(p, &st), 0);
	return (uint64_t)st.st_size;
}

static void verify_clean(uint64_t first, uint64_t last, uint64_t segments)
{
	struct klog_verify_summary sum;

	ck_assert_int_eq(klog_verify(dir, 0, NULL, NULL, &sum), 0);
	ck_assert_uint_eq(sum.problems, 0);
	ck_assert_uint_eq(sum.first_lsn, first);
	ck_assert_uint_eq(sum.last_lsn, last);
	ck_assert_uint_eq(sum.segments, segments);
}

static void reads(struct klog_reader *r, uint64_t lsn, int want)
{
	uint8_t buf[128];
	int n = klog_read(r, lsn, buf, sizeof(buf), NULL);

	if (!want)
		ck_assert_msg(n == (int)logbuild_len(lsn), "LSN %llu: %d (%s)",
			      (unsigned long long)lsn, n, klog_reader_strerror(r));
	else
		ck_assert_msg(n == want, "LSN %llu: %d, want %d (%s)", (unsigned long long)lsn, n,
			      want, klog_reader_strerror(r));
}

START_TEST(trim_before_on_disk)
{
	struct klog_trim_result res;
	struct klog_reader *r;
	uint64_t gone = 0, first, last;

	build();
	for (int s = 0; s < 2; s++)
		gone += file_bytes(1 + PER * s, false) + file_bytes(1 + PER * s, true);
	/* A reader opened before, that has read from the first segment. */
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	reads(r, 5, 0);
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .below = 45 }, &res), 0);
	ck_assert_uint_eq(res.segments, 2);
	ck_assert_uint_eq(res.bytes, gone);
	ck_assert_uint_eq(res.first, 1);
	ck_assert_uint_eq(res.first_kept, 41);
	ck_assert_uint_eq(res.kept, 3);
	ck_assert(!exists(1, false) && !exists(1, true) && !exists(21, false) && !exists(21, true));
	ck_assert(exists(41, false) && exists(41, true));
	/* What it has mapped it still reads; a segment it never opened is trimmed. */
	reads(r, 6, 0);
	reads(r, 25, -ENOENT);
	ck_assert_ptr_nonnull(strstr(klog_reader_strerror(r), "LSN 25 was trimmed"));
	ck_assert_ptr_nonnull(strstr(klog_reader_strerror(r), "first segment kept starts at LSN 41"));
	/* Having looked again, below the first kept is trimmed, and newer records read on. */
	reads(r, 5, -ENOENT);
	reads(r, 41, 0);
	reads(r, 100, 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(first, 41);
	ck_assert_uint_eq(last, 100);
	klog_reader_close(r);
	/* A reader opened after starts at the first kept. */
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(first, 41);
	reads(r, 40, -ENOENT);
	klog_reader_close(r);
	/* A trimmed start is not a gap. */
	verify_clean(41, 100, 3);
	/* Again with the same bound: nothing more goes. */
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .below = 45 }, &res), 0);
	ck_assert_uint_eq(res.segments, 0);
	ck_assert_uint_eq(res.first_kept, 41);
	close(dirfd_);
}
END_TEST

START_TEST(trim_limits_on_disk)
{
	struct klog_trim_result res;
	struct timespec old[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };
	char p[PATH_MAX];

	build();
	/* The durable bound holds against a count that wants more. */
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .segments = 1,
									   .durable = 30 },
				       &res), 0);
	ck_assert_uint_eq(res.segments, 1);
	ck_assert_uint_eq(res.first_kept, 21);
	/* Age: the two oldest left were written long ago. */
	for (uint64_t f = 21; f <= 41; f += PER) {
		path_of(p, dir, f, false);
		ck_assert_int_eq(utimensat(AT_FDCWD, p, old, 0), 0);
	}
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .age_s = 3600,
									   .now = time(NULL) },
				       &res), 0);
	ck_assert_uint_eq(res.segments, 2);
	ck_assert_uint_eq(res.first_kept, 61);
	/* Bytes: one segment's worth keeps the newest only. */
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .bytes = 1 }, &res), 0);
	ck_assert_uint_eq(res.segments, 1);
	ck_assert_uint_eq(res.first_kept, 81);
	ck_assert_uint_eq(res.kept, 1);
	ck_assert_uint_eq(res.kept_bytes, file_bytes(81, false) + file_bytes(81, true));
	verify_clean(81, 100, 1);
	close(dirfd_);
}
END_TEST

START_TEST(trim_crash_leftover_and_lock)
{
	struct klog_trim_result res;
	char p[PATH_MAX];
	int lock;

	build();
	/* A crash between a segment's unlink and its index's: the index is left. */
	path_of(p, dir, 1, false);
	ck_assert_int_eq(unlink(p), 0);
	verify_clean(21, 100, 4);
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .below = 1 }, &res), 0);
	ck_assert_uint_eq(res.segments, 0);
	ck_assert(!exists(1, true));
	ck_assert(exists(21, true));
	/* Another deletion (or a check) holds the lock: refused without waiting, nothing gone. */
	lock = klog_trim_lock(dirfd_, true, true);
	ck_assert_int_ge(lock, 0);
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .segments = 1 }, &res),
			 -EWOULDBLOCK);
	ck_assert_uint_eq(res.segments, 0);
	ck_assert(exists(21, false));
	close(lock);
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .segments = 1 }, &res),
			 0);
	ck_assert_uint_eq(res.segments, 3);
	close(dirfd_);
	/* A directory with no segment is not a log. */
	snprintf(p, sizeof(p), "%s/empty-%d", scratch_dir(), (int)getpid());
	ck_assert_int_eq(mkdir(p, 0755), 0);
	dirfd_ = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(klog_seg_trim(dirfd_, &(struct klog_trim_policy){ .segments = 1 }, &res),
			 -ENOENT);
	close(dirfd_);
}
END_TEST

/* klogd's writer opens a trimmed log, finds its end and appends on. */
START_TEST(writer_opens_trimmed)
{
	static uint64_t firsts[MAX_SEGS];
	struct klog_trim_result res;
	struct log l;
	uint64_t end;
	int fd;

	log_init(&l, _i, scratch_dir(), 64 << 10, 64 << 10);
	log_open(&l);
	put_n(&l, 200, 0, 20);
	commit(&l);
	end = klog_writer_next(l.w);
	log_close(&l);
	fd = open(l.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(klog_seg_trim(fd, &(struct klog_trim_policy){ .segments = 2 }, &res), 0);
	close(fd);
	ck_assert_uint_ge(res.segments, 1);
	ck_assert_uint_gt(res.first_kept, 1);
	log_open(&l);
	ck_assert_uint_eq(l.rec.next_lsn, end);
	ck_assert_uint_eq(l.rec.segments, 2);
	put_n(&l, 50, 0, 10);
	commit(&l);
	check_read(l.dir, res.first_kept, end + 50);
	read_fails(l.dir, res.first_kept - 1, -ENOENT);
	bounds_are(l.dir, res.first_kept, end + 49);
	log_close(&l);
	snprintf(dir, sizeof(dir), "%s", l.dir);
	verify_clean(res.first_kept, end + 49, list_segs(l.dir, firsts, MAX_SEGS, NULL));
	ck_assert_uint_eq(firsts[0], res.first_kept);
}
END_TEST

static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-trim", NULL);
}

int main(void)
{
	Suite *s = suite_create("trim");
	TCase *tc = tcase_create("trim");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_add_test(tc, policy_limits);
	tcase_add_test(tc, policy_never_newest_nor_durable);
	tcase_add_test(tc, trim_before_on_disk);
	tcase_add_test(tc, trim_limits_on_disk);
	tcase_add_test(tc, trim_crash_leftover_and_lock);
	tcase_add_loop_test(tc, writer_opens_trimmed, 0, 2);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
