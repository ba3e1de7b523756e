// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: libklog's reader and verify on a log in a NATS JetStream
 * stream (libklog/rstream.c, jsverify.c), against a real nats-server this
 * program starts (needs nats-server in PATH) on a free port and stops at
 * the end, even when cases fail.  Streams are written by hand as klogd
 * writes them (tests/lib/jstest.h), each case its own, never re-created:
 * records read back byte for byte, the bounds, -EAGAIN past the end,
 * -ENOENT below a purged head, -EBADMSG for a flipped byte and for another
 * salt (klog_reader_strerror() naming the stream and the sequence),
 * -ENOLINK for a deleted message and a missing stream, -EPROTO for a
 * stream that is not a klog log, -EHOSTUNREACH where no server listens and
 * once the server a reader used is gone;
 * a range of thousands of records iterated once each, in order, and
 * stopped at a corrupt one; klog_reader_wait() woken by a record published
 * while it waits, timing out on one never published; klog_verify_nats()
 * on clean and damaged streams.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

#include "check_run.h"
#include "format.h"
#include "jstest.h"
#include "logbuild.h"

#define LOG_ID 0x10c1d5eedull
#define OTHER_SALT 0x5eedull
#define PAYLOAD_AT ((long)sizeof(struct klog_rec_hdr)) /* a flip there breaks the CRC */

static struct jsserver server;

/* A connection for writing the stream name of this case (the pid keeps names unique). */
static void writer(struct klog_js *c, const char *name, char *stream)
{
	char err[256];

	snprintf(stream, KLOG_JS_STREAM_MAX, "%s-%d", name, (int)getpid());
	ck_assert_msg(!klog_js_connect(c, server.url, stream, 5000, 0, err, sizeof(err)), "%s",
		      err);
}

/* A klog stream name-PID holding records 1..n (klog_rec_size of lengths by lens). */
static void log_of(struct klog_js *c, const char *name, char *stream, uint64_t n)
{
	writer(c, name, stream);
	ck_assert_int_eq(jstest_create_log(c, LOG_ID), 0);
	ck_assert_int_eq(jstest_publish_range(c, 1, n, LOG_ID), 0);
}

static struct klog_reader *reader(const char *stream)
{
	struct klog_reader *r = NULL;

	ck_assert_int_eq(klog_reader_open_nats(&r, server.url, stream), 0);
	return r;
}

/* Record lsn reads back as published: len bytes of jstest_fill(), txid lsn + 1000. */
static void read_ok(struct klog_reader *r, uint64_t lsn, uint32_t len)
{
	static uint8_t got[KLOG_MAX_RECORD], want[KLOG_MAX_RECORD];
	struct klog_record rec = { 0 };
	int n = klog_read(r, lsn, got, sizeof(got), &rec);

	ck_assert_msg(n == (int)len, "LSN %llu: %d (%s), want %u bytes", (unsigned long long)lsn,
		      n, klog_reader_strerror(r), len);
	ck_assert_uint_eq(rec.lsn, lsn);
	ck_assert_uint_eq(rec.txid, lsn + 1000);
	ck_assert_uint_eq(rec.len, len);
	jstest_fill(want, lsn, len);
	ck_assert_msg(!memcmp(got, want, len), "LSN %llu: payload differs",
		      (unsigned long long)lsn);
	ck_assert_str_eq(klog_reader_strerror(r), "");
}

/* klog_read of lsn fails with err, and klog_reader_strerror() holds each word (NULL ends). */
static void read_fails(struct klog_reader *r, uint64_t lsn, int err, ...)
{
	uint8_t buf[64];
	const char *word;
	va_list ap;
	int n = klog_read(r, lsn, buf, sizeof(buf), NULL);

	ck_assert_msg(n == err, "LSN %llu: %d, want %d (%s)", (unsigned long long)lsn, n, err,
		      klog_reader_strerror(r));
	va_start(ap, err);
	while ((word = va_arg(ap, const char *)))
		ck_assert_msg(strstr(klog_reader_strerror(r), word), "'%s' lacks '%s'",
			      klog_reader_strerror(r), word);
	va_end(ap);
}

static void bounds_are(struct klog_reader *r, uint64_t first, uint64_t last)
{
	uint64_t f = 0, l = 0;

	ck_assert_msg(!klog_reader_bounds(r, &f, &l), "%s", klog_reader_strerror(r));
	ck_assert_uint_eq(f, first);
	ck_assert_uint_eq(l, last);
}

START_TEST(read_back)
{
	static const uint32_t lens[] = { 0, 1, 7, 8, 9, KLOG_MAX_RECORD, 100, KLOG_MAX_RECORD - 1 };
	char stream[KLOG_JS_STREAM_MAX], seq[64];
	struct klog_reader *r;
	struct klog_record rec;
	struct klog_js c;
	uint8_t small[4];

	writer(&c, "read-back", stream);
	ck_assert_int_eq(jstest_create_log(&c, LOG_ID), 0);
	r = reader(stream);
	ck_assert_int_eq(klog_reader_bounds(r, &(uint64_t){ 0 }, &(uint64_t){ 0 }), -ENODATA);
	read_fails(r, 1, -EAGAIN, stream, NULL);
	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		ck_assert_int_eq(jstest_publish(&c, i + 1, lens[i], LOG_ID, -1), 0);
	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		read_ok(r, i + 1, lens[i]);
	bounds_are(r, 1, 8);
	snprintf(seq, sizeof(seq), "last sequence is 8");
	read_fails(r, 9, -EAGAIN, stream, seq, NULL);
	read_fails(r, 0, -ENOENT, stream, NULL);
	/* Published after the reader last looked: found, and one get is all it takes. */
	ck_assert_int_eq(jstest_publish(&c, 9, 33, LOG_ID, -1), 0);
	read_ok(r, 9, 33);
	ck_assert_int_eq(klog_read(r, 6, small, sizeof(small), &rec), -ENOSPC);
	ck_assert_uint_eq(rec.len, KLOG_MAX_RECORD);
	klog_reader_close(r);
	klog_js_close(&c);
}
END_TEST

START_TEST(trimmed)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klog_reader *r;
	struct klog_js c;

	log_of(&c, "trimmed", stream, 10);
	ck_assert_int_eq(jstest_purge(&c, 6), 0);
	r = reader(stream);
	bounds_are(r, 6, 10);
	read_fails(r, 5, -ENOENT, stream, "sequence 5", "first, 6", NULL);
	read_fails(r, 1, -ENOENT, stream, NULL);
	read_ok(r, 6, logbuild_len(6));
	read_fails(r, 11, -EAGAIN, NULL);
	/* All purged: nothing durable, everything below is trimmed. */
	ck_assert_int_eq(jstest_purge(&c, 11), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &(uint64_t){ 0 }, &(uint64_t){ 0 }), -ENODATA);
	read_fails(r, 10, -ENOENT, NULL);
	klog_reader_close(r);
	klog_js_close(&c);
}
END_TEST

START_TEST(corrupt)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klog_reader *r;
	struct klog_js c;

	log_of(&c, "corrupt", stream, 3);
	ck_assert_int_eq(jstest_publish(&c, 4, 50, LOG_ID, PAYLOAD_AT + 2), 0);
	ck_assert_int_eq(jstest_publish(&c, 5, 50, OTHER_SALT, -1), 0);
	ck_assert_int_eq(jstest_publish(&c, 6, 50, LOG_ID, 8), 0); /* its LSN */
	ck_assert_int_eq(jstest_publish(&c, 7, 50, LOG_ID, -1), 0);
	r = reader(stream);
	read_fails(r, 4, -EBADMSG, stream, "sequence 4", "CRC", NULL);
	read_fails(r, 5, -EBADMSG, stream, "sequence 5", "salt", NULL);
	read_fails(r, 6, -EBADMSG, stream, "sequence 6", "LSN", NULL);
	read_ok(r, 3, logbuild_len(3));
	read_ok(r, 7, 50);
	klog_reader_close(r);
	klog_js_close(&c);
}
END_TEST

START_TEST(deleted)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klog_reader *r;
	struct klog_js c;

	log_of(&c, "deleted", stream, 10);
	ck_assert_int_eq(js_DeleteMsg(c.js, stream, 4, NULL, NULL), NATS_OK);
	r = reader(stream);
	read_fails(r, 4, -ENOLINK, stream, "sequence 4", NULL);
	read_ok(r, 5, logbuild_len(5));
	klog_reader_close(r);
	r = reader("no-such-stream");
	read_fails(r, 1, -ENOLINK, "no-such-stream", NULL);
	ck_assert_int_eq(klog_reader_bounds(r, &(uint64_t){ 0 }, &(uint64_t){ 0 }), -ENOLINK);
	klog_reader_close(r);
	klog_js_close(&c);
}
END_TEST

START_TEST(not_klog)
{
	char stream[KLOG_JS_STREAM_MAX], other[KLOG_JS_STREAM_MAX];
	struct klog_reader *r;
	struct klog_js c, d;

	writer(&c, "plain", stream);
	ck_assert_int_eq(jstest_create(&c, NULL), 0);
	ck_assert_int_eq(jstest_publish(&c, 1, 10, LOG_ID, -1), 0);
	r = reader(stream);
	read_fails(r, 1, -EPROTO, stream, "not a klog log", NULL);
	ck_assert_int_eq(klog_reader_bounds(r, &(uint64_t){ 0 }, &(uint64_t){ 0 }), -EPROTO);
	klog_reader_close(r);
	writer(&d, "other-desc", other);
	ck_assert_int_eq(jstest_create(&d, "klog log 12345"), 0);
	r = reader(other);
	read_fails(r, 1, -EPROTO, other, "klog log 12345", NULL);
	klog_reader_close(r);
	ck_assert_int_eq(klog_reader_open_nats(&r, server.url, "bad.name"), -EINVAL);
	klog_js_close(&c);
	klog_js_close(&d);
}
END_TEST

START_TEST(unreachable)
{
	struct klog_reader *r;
	struct jsserver gone;
	char url[64];

	/* A server that was there and is gone: its port answers nothing now. */
	ck_assert_int_eq(jsserver_start(&gone), 0);
	snprintf(url, sizeof(url), "%s", gone.url);
	jsserver_stop(&gone);
	ck_assert_int_eq(klog_reader_open_nats(&r, url, "anything"), 0);
	read_fails(r, 1, -EHOSTUNREACH, url, "anything", NULL);
	ck_assert_int_eq(klog_reader_bounds(r, &(uint64_t){ 0 }, &(uint64_t){ 0 }), -EHOSTUNREACH);
	ck_assert_int_eq(klog_iterate(r, 1, 10, NULL, NULL), -EHOSTUNREACH);
	klog_reader_close(r);
	ck_assert_int_eq(klog_verify_nats(url, "anything", 0, NULL, NULL, NULL), -EHOSTUNREACH);
}
END_TEST

START_TEST(server_gone)
{
	struct klog_reader *r;
	struct jsserver gone;
	struct klog_js c;
	char err[256];

	/* Read while the server is up, then after it went away: not "not durable yet". */
	ck_assert_int_eq(jsserver_start(&gone), 0);
	ck_assert_msg(!klog_js_connect(&c, gone.url, "gone", 5000, 0, err, sizeof(err)), "%s", err);
	ck_assert_int_eq(jstest_create_log(&c, LOG_ID), 0);
	ck_assert_int_eq(jstest_publish_range(&c, 1, 10, LOG_ID), 0);
	ck_assert_int_eq(klog_reader_open_nats(&r, gone.url, "gone"), 0);
	read_ok(r, 3, logbuild_len(3));
	jsserver_stop(&gone);
	read_fails(r, 4, -EHOSTUNREACH, "stream gone", gone.url, NULL);
	ck_assert_int_eq(klog_iterate(r, 1, 10, NULL, NULL), -EHOSTUNREACH);
	klog_reader_close(r);
	klog_js_close(&c);
}
END_TEST

struct walk {
	uint64_t next, n;
	int stop_at; /* return 1 from the callback at this LSN (0: never) */
};

/* Each record once, in order, as published. */
static int check_rec(const struct klog_record *rec, const void *payload, void *ctx)
{
	static uint8_t want[KLOG_MAX_RECORD];
	struct walk *w = ctx;

	ck_assert_uint_eq(rec->lsn, w->next);
	ck_assert_uint_eq(rec->txid, rec->lsn + 1000);
	ck_assert_uint_eq(rec->len, logbuild_len(rec->lsn));
	jstest_fill(want, rec->lsn, rec->len);
	ck_assert(!memcmp(payload, want, rec->len));
	w->next++;
	w->n++;
	return w->stop_at && rec->lsn == (uint64_t)w->stop_at;
}

#define RANGE 3000

START_TEST(iterate_range)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klog_reader *r;
	struct walk w = { .next = 1 };
	struct klog_js c;

	log_of(&c, "range", stream, RANGE);
	r = reader(stream);
	ck_assert_msg(!klog_iterate(r, 1, UINT64_MAX, check_rec, &w), "%s",
		      klog_reader_strerror(r));
	ck_assert_uint_eq(w.n, RANGE);
	w = (struct walk){ .next = 100 };
	ck_assert_int_eq(klog_iterate(r, 100, 2500, check_rec, &w), 0);
	ck_assert_uint_eq(w.n, 2401);
	w = (struct walk){ .next = 10, .stop_at = 20 };
	ck_assert_int_eq(klog_iterate(r, 10, 30, check_rec, &w), 1);
	ck_assert_uint_eq(w.n, 11);
	w = (struct walk){ .next = RANGE + 1 };
	ck_assert_int_eq(klog_iterate(r, RANGE + 1, UINT64_MAX, check_rec, &w), 0);
	ck_assert_uint_eq(w.n, 0);
	ck_assert_int_eq(jstest_purge(&c, 50), 0);
	ck_assert_int_eq(klog_iterate(r, 1, 100, check_rec, &w), -ENOENT);
	klog_reader_close(r);
	klog_js_close(&c);
}
END_TEST

START_TEST(iterate_stops)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klog_reader *r;
	struct walk w = { .next = 1 };
	struct klog_js c;

	log_of(&c, "stops", stream, 50);
	ck_assert_int_eq(jstest_publish(&c, 51, 20, LOG_ID, PAYLOAD_AT), 0);
	ck_assert_int_eq(jstest_publish_range(&c, 52, 60, LOG_ID), 0);
	r = reader(stream);
	ck_assert_int_eq(klog_iterate(r, 1, UINT64_MAX, check_rec, &w), -EBADMSG);
	ck_assert_uint_eq(w.n, 50);
	ck_assert_msg(strstr(klog_reader_strerror(r), "sequence 51"), "%s",
		      klog_reader_strerror(r));
	/* A deleted message is a gap, never skipped. */
	ck_assert_int_eq(js_DeleteMsg(c.js, stream, 55, NULL, NULL), NATS_OK);
	w = (struct walk){ .next = 52 };
	ck_assert_int_eq(klog_iterate(r, 52, 60, check_rec, &w), -ENOLINK);
	ck_assert_uint_eq(w.n, 3);
	ck_assert_msg(strstr(klog_reader_strerror(r), "sequence 55, the next is 56"), "%s",
		      klog_reader_strerror(r));
	klog_reader_close(r);
	klog_js_close(&c);
}
END_TEST

struct problems {
	unsigned int n;
	int err[8];
	uint64_t lsn[8];
};

static int collect(const struct klog_verify_problem *p, void *ctx)
{
	struct problems *ps = ctx;

	ck_assert_ptr_null(p->file);
	ck_assert_uint_eq(p->offset, UINT64_MAX);
	if (ps->n < 8) {
		ps->err[ps->n] = p->err;
		ps->lsn[ps->n] = p->lsn;
	}
	ps->n++;
	return 0;
}

START_TEST(verify_clean)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klog_verify_summary sum;
	struct problems ps = { 0 };
	struct klog_js c;

	log_of(&c, "vclean", stream, 500);
	ck_assert_int_eq(jstest_purge(&c, 21), 0);
	ck_assert_int_eq(klog_verify_nats(server.url, stream, 0, collect, &ps, &sum), 0);
	ck_assert_uint_eq(ps.n, 0);
	ck_assert_uint_eq(sum.records, 480);
	ck_assert_uint_eq(sum.first_lsn, 21);
	ck_assert_uint_eq(sum.last_lsn, 500);
	ck_assert_uint_eq(sum.log_id, LOG_ID);
	ck_assert_uint_eq(sum.problems, 0);
	ck_assert_int_eq(klog_verify_nats(server.url, "no-such-stream", 0, NULL, NULL, &sum),
			 -ENOLINK);
	klog_js_close(&c);
}
END_TEST

START_TEST(verify_problems)
{
	char stream[KLOG_JS_STREAM_MAX], plain[KLOG_JS_STREAM_MAX];
	struct klog_verify_summary sum;
	struct problems ps = { 0 };
	struct klog_js c, d;

	log_of(&c, "vbad", stream, 4);
	ck_assert_int_eq(jstest_publish(&c, 5, 30, LOG_ID, PAYLOAD_AT + 3), 0);
	ck_assert_int_eq(jstest_publish_range(&c, 6, 8, LOG_ID), 0);
	ck_assert_int_eq(jstest_publish(&c, 9, 30, OTHER_SALT, -1), 0);
	ck_assert_int_eq(jstest_publish_range(&c, 10, 20, LOG_ID), 0);
	ck_assert_int_eq(js_DeleteMsg(c.js, stream, 12, NULL, NULL), NATS_OK);
	ck_assert_int_eq(klog_verify_nats(server.url, stream, KLOG_VERIFY_KEEP_GOING, collect,
					  &ps, &sum), -EBADMSG);
	ck_assert_uint_eq(ps.n, 3);
	ck_assert_int_eq(ps.err[0], -EBADMSG);
	ck_assert_uint_eq(ps.lsn[0], 5);
	ck_assert_int_eq(ps.err[1], -EBADMSG);
	ck_assert_uint_eq(ps.lsn[1], 9);
	ck_assert_int_eq(ps.err[2], -ENOLINK);
	ck_assert_uint_eq(ps.lsn[2], 12);
	ck_assert_uint_eq(sum.problems, 3);
	ck_assert_uint_eq(sum.records, 19);
	ck_assert_uint_eq(sum.last_lsn, 20);
	ps = (struct problems){ 0 };
	ck_assert_int_eq(klog_verify_nats(server.url, stream, 0, collect, &ps, &sum), -EBADMSG);
	ck_assert_uint_eq(ps.n, 1);
	ck_assert_uint_eq(sum.problems, 1);
	ck_assert_uint_eq(ps.lsn[0], 5);
	writer(&d, "vplain", plain);
	ck_assert_int_eq(jstest_create(&d, "not klog"), 0);
	ps = (struct problems){ 0 };
	ck_assert_int_eq(klog_verify_nats(server.url, plain, 0, collect, &ps, &sum), -EBADMSG);
	ck_assert_uint_eq(ps.n, 1);
	ck_assert_int_eq(ps.err[0], -EPROTO);
	klog_js_close(&c);
	klog_js_close(&d);
}
END_TEST

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A record published 300 ms into the wait (by a child, on its own connection) wakes it. */
START_TEST(wait_woken)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klog_reader *r;
	struct klog_js c;
	double t0, took;
	int status, err;
	pid_t pid;

	log_of(&c, "wait", stream, 5);
	klog_js_close(&c);
	r = reader(stream);
	ck_assert_int_eq(klog_reader_wait(r, 5, 0), 0);
	t0 = now_ms();
	ck_assert_int_eq(klog_reader_wait(r, 6, 300), -ETIMEDOUT);
	took = now_ms() - t0;
	ck_assert_msg(took >= 300 && took < 1500, "timed out after %.0f ms, 300 asked", took);
	ck_assert_msg(strstr(klog_reader_strerror(r), "LSN 6 not durable after 300 ms"), "%s",
		      klog_reader_strerror(r));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		char why[256];

		usleep(300 * 1000);
		_exit(klog_js_connect(&c, server.url, stream, 5000, 0, why, sizeof(why)) ||
		      jstest_publish(&c, 6, logbuild_len(6), LOG_ID, -1) ? 1 : 0);
	}
	t0 = now_ms();
	err = klog_reader_wait(r, 6, 10000);
	took = now_ms() - t0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(status == 0, "the child did not publish LSN 6");
	ck_assert_msg(!err, "%s", klog_reader_strerror(r));
	ck_assert_msg(took >= 250 && took < 2000, "woke after %.0f ms, published at 300", took);
	read_ok(r, 6, logbuild_len(6));
	klog_reader_close(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsreader");
	TCase *tc = tcase_create("jsreader");
	int ret, err;

	/* One server for every case, started here so that it outlives each case's process. */
	if ((err = jsserver_start(&server))) {
		fprintf(stderr, "Bail out! nats-server does not start: %s\n", strerror(-err));
		jsserver_stop(&server);
		return 99;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, read_back);
	tcase_add_test(tc, trimmed);
	tcase_add_test(tc, corrupt);
	tcase_add_test(tc, deleted);
	tcase_add_test(tc, not_klog);
	tcase_add_test(tc, unreachable);
	tcase_add_test(tc, server_gone);
	tcase_add_test(tc, iterate_range);
	tcase_add_test(tc, iterate_stops);
	tcase_add_test(tc, wait_woken);
	tcase_add_test(tc, verify_clean);
	tcase_add_test(tc, verify_problems);
	suite_add_tcase(s, tc);
	ret = run_suite(s);
	jsserver_stop(&server);
	return ret;
}
