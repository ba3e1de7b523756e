// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: export files (libklog/export.c, rfile.c, xverify.c; format
 * in doc/format.md, "Export files").  A log of five segments exported
 * whole and as a sub-range, then read back through klog_reader_open_file():
 * every record byte for byte as the directory holds it, bounds, log id,
 * the answers below and past the range.  An open-ended export read (and
 * waited on) while it grows, an empty one, the writer refusing a record out of sequence and a
 * trailer for a range not all added.  Then each kind of damage, found by
 * klog_verify_file() as one problem with the right error, offset and LSN,
 * and by the reader with the same error and offset in its detail: a
 * payload byte, the export header, a frame header, a frame's magic (the
 * check finds the next frame and goes on), the file cut in the middle of a
 * frame, at a frame's end, just before the trailer (no trailer), an LSN gap
 * (built by hand with the codec), another magic, bytes after the trailer.
 */
#define _GNU_SOURCE
#include <check.h>
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
#include "logbuild.h"
#include "scratch.h"
#include "segfiles.h"
#include "xformat.h"

#define SEGS 5
#define PER 20 /* the log holds LSNs 1..100 */
#define LAST (SEGS * PER)
#define LOG_ID 0x10c1dull

static char dir[PATH_MAX], path[PATH_MAX];

struct seen {
	unsigned int n;
	int err;
	uint64_t offset, lsn;
	char what[256];
};

/* Keep the first problem, count them all. */
static int collect(const struct klog_verify_problem *p, void *ctx)
{
	struct seen *s = ctx;

	if (!s->n++) {
		s->err = p->err;
		s->offset = p->offset;
		s->lsn = p->lsn;
		snprintf(s->what, sizeof(s->what), "%s", p->what);
	}
	ck_assert_ptr_null(p->file);
	return 0;
}

/* A fresh clean log in dir, and path a name for its export. */
static void build(void)
{
	static unsigned int n;
	struct logbuild b = { .segments = SEGS, .per_seg = PER, .log_id = LOG_ID };

	snprintf(dir, sizeof(dir), "%s/log-%d-%u", scratch_dir(), (int)getpid(), n);
	snprintf(path, sizeof(path), "%s/export-%d-%u.kx", scratch_dir(), (int)getpid(), n++);
	ck_assert_int_eq(logbuild_write(dir, &b), 0);
}

/* build(), and path created empty for writing: its descriptor. */
static int build_output(void)
{
	int fd;

	build();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static int add_one(const struct klog_record *rec, const void *payload, void *ctx)
{
	return klog_export_add(ctx, rec, payload);
}

/* Export LSNs from..to of the log in dir to path (to 0: open-ended, up to the last). */
static void export_log(uint64_t from, uint64_t to)
{
	struct klog_reader *r;
	struct klog_export *x;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ck_assert_int_eq(klog_export_open(&x, fd, LOG_ID, from, to), 0);
	ck_assert_int_eq(klog_iterate(r, from, to ? to : LAST, add_one, x), 0);
	ck_assert_int_eq(klog_export_close(x), 0);
	klog_reader_close(r);
	ck_assert_int_eq(close(fd), 0);
}

/* The offset of the frame of lsn in an export from LSN from. */
static uint64_t frame_off(uint64_t from, uint64_t lsn)
{
	uint64_t off = KLOG_XHDR_SIZE;

	for (uint64_t l = from; l < lsn; l++)
		off += klog_xframe_size(logbuild_len(l));
	return off;
}

static uint64_t file_size(void)
{
	return size_of(path);
}

static void poke(uint64_t off, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static void flip(uint64_t off)
{
	size_t n;
	uint8_t *p = slurp(path, &n);

	ck_assert_uint_lt(off, n);
	p[off] ^= 0x40;
	poke(off, p + off, 1);
	free(p);
}

/* Every record from..to of the export at path is the directory's, byte for byte. */
static void same_as_log(uint64_t from, uint64_t to)
{
	static uint8_t a[KLOG_MAX_RECORD], b[KLOG_MAX_RECORD];
	struct klog_reader *rd, *rf;
	uint64_t first, last, id;

	ck_assert_int_eq(klog_reader_open(&rd, dir), 0);
	ck_assert_int_eq(klog_reader_open_file(&rf, path), 0);
	ck_assert_int_eq(klog_reader_bounds(rf, &first, &last), 0);
	ck_assert_uint_eq(first, from);
	ck_assert_uint_eq(last, to);
	ck_assert_int_eq(klog_reader_log_id(rf, &id), 0);
	ck_assert_uint_eq(id, LOG_ID);
	for (uint64_t lsn = from; lsn <= to; lsn++) {
		struct klog_record ma, mb;
		int na = klog_read(rd, lsn, a, sizeof(a), &ma);
		int nb = klog_read(rf, lsn, b, sizeof(b), &mb);

		ck_assert_int_eq(na, (int)logbuild_len(lsn));
		ck_assert_msg(nb == na, "LSN %llu: %d bytes, %s", (unsigned long long)lsn, nb,
			      klog_reader_strerror(rf));
		ck_assert_mem_eq(a, b, (size_t)na);
		ck_assert_uint_eq(mb.lsn, lsn);
		ck_assert_uint_eq(mb.txid, ma.txid);
		ck_assert_uint_eq(mb.len, ma.len);
		ck_assert_uint_eq(mb.crc, ma.crc);
	}
	ck_assert_int_eq(klog_read(rf, from - 1, b, sizeof(b), NULL), -ENOENT);
	ck_assert_int_eq(klog_read(rf, to + 1, b, sizeof(b), NULL), -EAGAIN);
	klog_reader_close(rd);
	klog_reader_close(rf);
}

/* klog_verify_file() of path finds exactly one problem, even keeping going: this one. */
static void one_problem(int err, uint64_t offset, uint64_t lsn, const char *word)
{
	struct klog_verify_summary sum;
	struct seen s = { 0 };

	ck_assert_int_eq(klog_verify_file(path, KLOG_VERIFY_KEEP_GOING, collect, &s, &sum),
			 -EBADMSG);
	ck_assert_msg(s.n == 1, "%u problems, the first: %s", s.n, s.what);
	ck_assert_uint_eq(sum.problems, 1);
	ck_assert_int_eq(s.err, err);
	ck_assert_uint_eq(s.offset, offset);
	ck_assert_uint_eq(s.lsn, lsn);
	ck_assert_msg(strstr(s.what, word), "'%s' lacks '%s'", s.what, word);
}

/*
 * The file reader answers err for lsn, its detail naming path, offset and
 * the LSN at it (UINT64_MAX: none, the header).
 */
static void read_fails(uint64_t lsn, int err, uint64_t offset, uint64_t at)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_reader *r;
	char want[PATH_MAX + 64];

	ck_assert_int_eq(klog_reader_open_file(&r, path), 0);
	ck_assert_int_eq(klog_read(r, lsn, buf, sizeof(buf), NULL), err);
	if (at != UINT64_MAX)
		snprintf(want, sizeof(want), "%s offset %llu LSN %llu: ", path,
			 (unsigned long long)offset, (unsigned long long)at);
	else
		snprintf(want, sizeof(want), "%s offset %llu: ", path, (unsigned long long)offset);
	ck_assert_msg(strstr(klog_reader_strerror(r), want), "'%s' lacks '%s'",
		      klog_reader_strerror(r), want);
	klog_reader_close(r);
}

static void reads_ok(uint64_t lsn)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_reader *r;

	ck_assert_int_eq(klog_reader_open_file(&r, path), 0);
	ck_assert_int_eq(klog_read(r, lsn, buf, sizeof(buf), NULL), (int)logbuild_len(lsn));
	klog_reader_close(r);
}

/* Damage at off where LSN lsn is, found alike by klog_verify_file() and the reader. */
static void damaged(int err, uint64_t off, uint64_t lsn, const char *word)
{
	one_problem(err, off, lsn, word);
	read_fails(lsn, err, off, lsn);
}

START_TEST(round_trip)
{
	struct klog_verify_summary sum;
	struct seen s = { 0 };

	build();
	export_log(1, LAST);
	same_as_log(1, LAST);
	ck_assert_int_eq(klog_verify_file(path, 0, collect, &s, &sum), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(sum.records, LAST);
	ck_assert_uint_eq(sum.first_lsn, 1);
	ck_assert_uint_eq(sum.last_lsn, LAST);
	ck_assert_uint_eq(sum.log_id, LOG_ID);
	ck_assert_uint_eq(sum.segments, 0);
	ck_assert_uint_eq(file_size(), frame_off(1, LAST + 1) + KLOG_XEND_SIZE);
}
END_TEST

/* A range across segment boundaries; iterate gives exactly it, in order. */
static int count_in_order(const struct klog_record *rec, const void *payload, void *ctx)
{
	uint64_t *next = ctx;

	(void)payload;
	ck_assert_uint_eq(rec->lsn, *next);
	(*next)++;
	return 0;
}

START_TEST(sub_range)
{
	struct klog_reader *r;
	uint64_t next = 25;

	build();
	export_log(25, 63);
	same_as_log(25, 63);
	ck_assert_int_eq(klog_reader_open_file(&r, path), 0);
	ck_assert_int_eq(klog_iterate(r, 1, UINT64_MAX, count_in_order, &next), -ENOENT);
	ck_assert_int_eq(klog_iterate(r, 25, UINT64_MAX, count_in_order, &next), 0);
	ck_assert_uint_eq(next, 64);
	klog_reader_close(r);
	ck_assert_int_eq(klog_verify_file(path, 0, NULL, NULL, NULL), 0);
}
END_TEST

/* Open-ended, read while it grows (tail --raw into a file); cut without a trailer. */
START_TEST(open_ended)
{
	static uint8_t p[KLOG_MAX_RECORD];
	struct klog_reader *r;
	struct klog_export *x;
	uint64_t first, last;
	int fd = build_output();

	ck_assert_int_eq(klog_export_open(&x, fd, LOG_ID, 7, 0), 0);
	ck_assert_int_eq(klog_reader_open_file(&r, path), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENODATA);
	for (uint64_t lsn = 7; lsn < 17; lsn++) {
		struct klog_record rec = { .lsn = lsn, .txid = lsn * 3, .len = logbuild_len(lsn),
					   .crc = (uint32_t)lsn };

		logbuild_fill(p, lsn);
		ck_assert_int_eq(klog_reader_wait(r, lsn, 0), -ETIMEDOUT);
		ck_assert_ptr_nonnull(strstr(klog_reader_strerror(r), "not written after 0 ms"));
		ck_assert_int_eq(klog_export_add(x, &rec, p), 0);
		ck_assert_int_eq(klog_reader_wait(r, lsn, 1000), 0);
		/* Every record is in the file once add returns. */
		ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
		ck_assert_uint_eq(first, 7);
		ck_assert_uint_eq(last, lsn);
		ck_assert_int_eq(klog_read(r, lsn, p, sizeof(p), &rec), (int)logbuild_len(lsn));
		ck_assert_uint_eq(rec.txid, lsn * 3);
		ck_assert_uint_eq(rec.crc, lsn);
		ck_assert_int_eq(klog_read(r, lsn + 1, p, sizeof(p), NULL), -EAGAIN);
	}
	/* Refused: an LSN out of sequence, a length above the limit. */
	ck_assert_int_eq(klog_export_add(x, &(struct klog_record){ .lsn = 18 }, p), -EINVAL);
	ck_assert_int_eq(klog_export_add(x, &(struct klog_record){ .lsn = 17,
								  .len = KLOG_MAX_RECORD + 1 }, p),
			 -EINVAL);
	klog_export_abort(x);
	klog_reader_close(r);
	close(fd);
	one_problem(-EPROTO, file_size(), 17, "no trailer: the export was cut short at LSN 17");
}
END_TEST

START_TEST(empty_and_refused)
{
	struct klog_verify_summary sum;
	struct klog_reader *r;
	struct klog_export *x;
	uint64_t first, last;
	int fd = build_output();

	ck_assert_int_eq(klog_export_open(&x, fd, LOG_ID, 0, 0), -EINVAL);
	ck_assert_int_eq(klog_export_open(&x, fd, LOG_ID, 5, 4), -EINVAL);
	ck_assert_int_eq(klog_export_open(&x, fd, LOG_ID, 5, 0), 0);
	ck_assert_int_eq(klog_export_close(x), 0);
	ck_assert_int_eq(klog_verify_file(path, 0, NULL, NULL, &sum), 0);
	ck_assert_uint_eq(sum.records, 0);
	ck_assert_uint_eq(sum.last_lsn, 4);
	ck_assert_int_eq(klog_reader_open_file(&r, path), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENODATA);
	klog_reader_close(r);
	/* A closed range not all added: no trailer is written, so the file says so. */
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(klog_export_open(&x, fd, LOG_ID, 5, 6), 0);
	ck_assert_int_eq(klog_export_add(x, &(struct klog_record){ .lsn = 5 }, NULL), 0);
	ck_assert_int_eq(klog_export_close(x), -EINVAL);
	ck_assert_uint_eq(file_size(), KLOG_XHDR_SIZE + klog_xframe_size(0));
	close(fd);
	ck_assert_int_eq(klog_reader_open(&r, "/nonexistent/klog"), -ENOENT);
	ck_assert_int_eq(klog_reader_open_file(&r, "/nonexistent/klog.kx"), -ENOENT);
	ck_assert_int_eq(klog_reader_open_file(&r, scratch_dir()), -EINVAL);
	ck_assert_int_eq(klog_verify_file("/nonexistent/klog.kx", 0, NULL, NULL, NULL), -ENOENT);
}
END_TEST

START_TEST(payload_flipped)
{
	uint64_t off;

	build();
	export_log(1, LAST);
	ck_assert_uint_gt(logbuild_len(47), 0);
	off = frame_off(1, 47);
	flip(off + KLOG_XFRAME_HDR_SIZE);
	/* One problem even keeping going: the frame after it is found, and in sequence. */
	damaged(-EBADMSG, off, 47, "CRC");
	reads_ok(46);

	/* Nothing past the damage is returned, though it is whole. */
	read_fails(48, -EBADMSG, off, 47);
}
END_TEST

START_TEST(frame_header_flipped)
{
	uint64_t off;

	build();
	export_log(1, LAST);
	off = frame_off(1, 30);
	flip(off + 17); /* its txid */
	damaged(-EBADMSG, off, 30, "CRC");

	/* Its magic: the check looks for the next frame, which carries LSN 31. */
	build();
	export_log(1, LAST);
	flip(off);
	damaged(-EBADMSG, off, 30, "bad magic");

}
END_TEST

START_TEST(header_flipped)
{
	struct klog_reader *r;
	uint64_t first, last;

	build();
	export_log(1, LAST);
	flip(16); /* first_lsn */
	one_problem(-EBADMSG, 0, UINT64_MAX, "header: CRC");
	read_fails(1, -EBADMSG, 0, UINT64_MAX);
	ck_assert_int_eq(klog_reader_open_file(&r, path), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -EBADMSG);
	ck_assert_int_eq(klog_reader_log_id(r, &first), -EBADMSG);
	klog_reader_close(r);
}
END_TEST

START_TEST(wrong_magic)
{

	build();
	export_log(1, LAST);
	poke(0, "KSEG", 4);
	one_problem(-EBADMSG, 0, UINT64_MAX, "not a klog export");
	read_fails(5, -EBADMSG, 0, UINT64_MAX);
}
END_TEST

START_TEST(truncated_mid_frame)
{
	uint64_t off;

	build();
	export_log(1, LAST);
	off = frame_off(1, 60);
	ck_assert_int_eq(truncate(path, (off_t)off + 10), 0);
	damaged(-EBADMSG, off, 60, "cut short");
	reads_ok(59);

	/* At a frame's end: no trailer, and the header promised up to LAST. */
	ck_assert_int_eq(truncate(path, (off_t)off), 0);
	one_problem(-EPROTO, off, 60, "no trailer: the export was cut short at LSN 60");
	read_fails(60, -EBADMSG, off, 60);
}
END_TEST

START_TEST(missing_trailer)
{
	uint64_t end;

	build();
	export_log(1, LAST);
	end = file_size() - KLOG_XEND_SIZE;
	ck_assert_int_eq(truncate(path, (off_t)end), 0);
	one_problem(-EPROTO, end, LAST + 1, "no trailer: the export was cut short at LSN 101");
	/* Every frame is whole: the reader returns them, and nothing past the header's range. */
	reads_ok(1);
	reads_ok(LAST);
	/* Bytes after the trailer are damage too. */
	export_log(1, LAST);
	end = file_size();
	poke(end, "trailing", 8);
	one_problem(-EBADMSG, end, LAST + 1, "8 bytes after the trailer");
}
END_TEST

/* LSNs 1..10 with no frame for 5, built with the codec: the writer would refuse it. */
START_TEST(lsn_gap)
{
	static uint8_t buf[KLOG_XFRAME_HDR_SIZE + KLOG_MAX_RECORD + 8];
	struct klog_xhdr h = { .log_id = LOG_ID, .first_lsn = 1, .last_lsn = 10 };
	struct klog_reader *r;
	uint64_t first, last, gap_off = 0;
	int fd = build_output();

	klog_xhdr_encode(buf, &h);
	ck_assert_int_eq(write(fd, buf, KLOG_XHDR_SIZE), KLOG_XHDR_SIZE);
	for (uint64_t lsn = 1; lsn <= 10; lsn++) {
		size_t n;

		if (lsn == 5) {
			gap_off = (uint64_t)lseek(fd, 0, SEEK_CUR);
			continue;
		}
		logbuild_fill(buf + KLOG_XFRAME_HDR_SIZE, lsn);
		n = klog_xframe_seal(buf, lsn, lsn, 0, 0, logbuild_len(lsn));
		ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	}
	klog_xend_encode(buf, &(struct klog_xend){ .count = 10, .last_lsn = 10, .hdr_crc = h.crc });
	ck_assert_int_eq(write(fd, buf, KLOG_XEND_SIZE), KLOG_XEND_SIZE);
	close(fd);
	damaged(-ENOLINK, gap_off, 5, "gap: no frame for LSNs 5..5");
	reads_ok(4);

	read_fails(6, -ENOLINK, gap_off, 5);
	ck_assert_int_eq(klog_reader_open_file(&r, path), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(last, 10);
	klog_reader_close(r);
}
END_TEST

static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-export", NULL);
}

int main(void)
{
	Suite *s = suite_create("export");
	TCase *tc = tcase_create("export");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, sub_range);
	tcase_add_test(tc, open_ended);
	tcase_add_test(tc, empty_and_refused);
	tcase_add_test(tc, payload_flipped);
	tcase_add_test(tc, frame_header_flipped);
	tcase_add_test(tc, header_flipped);
	tcase_add_test(tc, wrong_magic);
	tcase_add_test(tc, truncated_mid_frame);
	tcase_add_test(tc, missing_trailer);
	tcase_add_test(tc, lsn_gap);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
