// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: tombstones (doc/format.md, "Tombstones") from klogd's writer
 * to every reader of a directory and of an export file: the writer seals one
 * (and refuses a tombstone with bytes, or an unknown flag); klog_read() of
 * it is -EILSEQ with its metadata and no bytes; klog_iterate() hands it to
 * fn flagged and goes on; klog_verify() and klog_verify_file() count it and
 * report it (-EILSEQ) without calling the log damaged; an export keeps it.
 * Its neighbours read back as written.  Each case runs with each backend
 * (_i: psync, uring).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "check_run.h"
#include "format.h"
#include "scratch.h"
#include "wlog.h"
#include "writer.h"

#define TOMB_LSN 2
#define TOMB_TXID 777

static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-tombstone", NULL);
}

/* LSNs 1..3 in dir, 2 a tombstone; the writer's refusals checked on the way. */
static void write_log(struct log *l, int i)
{
	int err;

	log_init(l, i, scratch_dir(), 1 << 20, 256 << 10);
	log_open(l);
	ck_assert_uint_eq(put(l, 0), 1);
	ck_assert_ptr_nonnull(klog_writer_reserve(l->w, MAXR, &err));
	ck_assert_int_eq(klog_writer_seal(l->w, TOMB_LSN, TOMB_TXID, 1, KLOG_REC_F_TOMBSTONE),
			 -EINVAL);
	ck_assert_int_eq(klog_writer_seal(l->w, TOMB_LSN, TOMB_TXID, 0, 0x2), -EINVAL);
	ck_assert_int_eq(klog_writer_seal(l->w, TOMB_LSN, TOMB_TXID, 0, KLOG_REC_F_TOMBSTONE), 0);
	ck_assert_uint_eq(put(l, 0), 3);
	commit(l);
	log_close(l);
}

struct seen {
	unsigned int calls;
	uint64_t lsn[8];
	uint32_t flags[8];
	bool payload_null[8];
};

static int note(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct seen *s = ctx;

	ck_assert_uint_lt(s->calls, 8);
	s->lsn[s->calls] = rec->lsn;
	s->flags[s->calls] = rec->flags;
	s->payload_null[s->calls] = !payload;
	if (rec->flags & KLOG_RECORD_CORRUPT) {
		ck_assert_uint_eq(rec->len, 0);
		ck_assert_uint_eq(rec->txid, TOMB_TXID);
	} else {
		assert_appended(rec, payload);
	}
	s->calls++;
	return 0;
}

/* What a reader of the log (a directory or its export) must say of LSNs 1..3. */
static void check_reader(struct klog_reader *r)
{
	struct klog_record rec;
	struct seen s = { 0 };
	uint8_t buf[MAXR];

	memset(buf, 0xa5, sizeof(buf));
	ck_assert_int_eq(klog_read(r, TOMB_LSN, buf, sizeof(buf), &rec), -EILSEQ);
	ck_assert_uint_eq(rec.lsn, TOMB_LSN);
	ck_assert_uint_eq(rec.txid, TOMB_TXID);
	ck_assert_uint_eq(rec.len, 0);
	ck_assert_uint_eq(rec.flags, KLOG_RECORD_CORRUPT);
	ck_assert_uint_eq(buf[0], 0xa5); /* nothing copied */
	ck_assert_ptr_nonnull(strstr(klog_reader_strerror(r), "LSN 2: txid 777"));
	/* Without room or metadata, the same answer. */
	ck_assert_int_eq(klog_read(r, TOMB_LSN, NULL, 0, NULL), -EILSEQ);
	for (uint64_t lsn = 1; lsn <= 3; lsn += 2) {
		ck_assert_int_ge(klog_read(r, lsn, buf, sizeof(buf), &rec), 0);
		ck_assert_uint_eq(rec.flags, 0);
		assert_appended(&rec, buf);
	}
	ck_assert_int_eq(klog_iterate(r, 1, 3, note, &s), 0);
	ck_assert_uint_eq(s.calls, 3);
	for (unsigned int k = 0; k < 3; k++) {
		ck_assert_uint_eq(s.lsn[k], k + 1);
		ck_assert_uint_eq(s.flags[k], k + 1 == TOMB_LSN ? KLOG_RECORD_CORRUPT : 0);
		ck_assert(s.payload_null[k] == (k + 1 == TOMB_LSN));
	}
}

struct vseen {
	unsigned int tombs, others;
	uint64_t lsn;
};

static int vnote(const struct klog_verify_problem *p, void *ctx)
{
	struct vseen *v = ctx;

	if (p->err == -EILSEQ) {
		v->tombs++;
		v->lsn = p->lsn;
		ck_assert_ptr_nonnull(strstr(p->what, "tombstone"));
	} else {
		v->others++;
	}
	return 0;
}

START_TEST(directory)
{
	struct klog_verify_summary sum;
	struct vseen v = { 0 };
	struct klog_reader *r;
	struct log l;

	write_log(&l, _i);
	ck_assert_int_eq(klog_reader_open(&r, l.dir), 0);
	check_reader(r);
	klog_reader_close(r);
	ck_assert_int_eq(klog_verify(l.dir, KLOG_VERIFY_KEEP_GOING, vnote, &v, &sum), 0);
	ck_assert_uint_eq(v.tombs, 1);
	ck_assert_uint_eq(v.lsn, TOMB_LSN);
	ck_assert_uint_eq(v.others, 0);
	ck_assert_uint_eq(sum.tombstones, 1);
	ck_assert_uint_eq(sum.problems, 0);
	ck_assert_uint_eq(sum.records, 3);
	/* The writer, reopened, finds the tombstone whole and goes on after it. */
	log_open(&l);
	ck_assert_uint_eq(klog_writer_next(l.w), 4);
	log_close(&l);
}
END_TEST

static int add(const struct klog_record *rec, const void *payload, void *ctx)
{
	return klog_export_add(ctx, rec, payload);
}

START_TEST(export_file)
{
	struct klog_record bad = { .lsn = 1, .flags = KLOG_RECORD_CORRUPT, .len = 1 };
	struct klog_verify_summary sum;
	struct klog_reader *r, *x;
	struct klog_export *e;
	struct vseen v = { 0 };
	char path[PATH_MAX + 16];
	uint64_t id;
	struct log l;
	int fd;

	write_log(&l, _i);
	snprintf(path, sizeof(path), "%s.kexp", l.dir);
	ck_assert_int_eq(klog_reader_open(&r, l.dir), 0);
	ck_assert_int_eq(klog_reader_log_id(r, &id), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(klog_export_open(&e, fd, id, 1, 3), 0);
	/* A tombstone with bytes, or an unknown flag, is refused. */
	ck_assert_int_eq(klog_export_add(e, &bad, "x"), -EINVAL);
	bad = (struct klog_record){ .lsn = 1, .flags = 0x2, .len = 0 };
	ck_assert_int_eq(klog_export_add(e, &bad, NULL), -EINVAL);
	ck_assert_int_eq(klog_iterate(r, 1, 3, add, e), 0);
	ck_assert_int_eq(klog_export_close(e), 0);
	close(fd);
	klog_reader_close(r);
	ck_assert_int_eq(klog_reader_open_file(&x, path), 0);
	check_reader(x);
	klog_reader_close(x);
	ck_assert_int_eq(klog_verify_file(path, KLOG_VERIFY_KEEP_GOING, vnote, &v, &sum), 0);
	ck_assert_uint_eq(v.tombs, 1);
	ck_assert_uint_eq(v.lsn, TOMB_LSN);
	ck_assert_uint_eq(v.others, 0);
	ck_assert_uint_eq(sum.tombstones, 1);
	ck_assert_uint_eq(sum.problems, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tombstone");
	TCase *tc = tcase_create("tombstone");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_add_loop_test(tc, directory, 0, 2);
	tcase_add_loop_test(tc, export_file, 0, 2);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
