// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: klog_reader_wait() on a log directory written by klogd's
 * writer: a record committed by another thread while the reader waits
 * wakes it (in the same segment, and in a new one), without the waiting
 * thread spending CPU meanwhile (inotify, not polling); a record appended
 * but not committed is not durable, so the wait times out after the time
 * asked and says so; an LSN already durable returns at once; a trimmed one
 * is -ENOENT.  Loop tests run each case with each backend (_i % 2: psync,
 * uring).  Needs root (scratch mounts).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check_run.h"
#include "scratch.h"
#include "wlog.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the calling thread, ms. */
static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* What the writer thread does: after delay_ms, put n records and commit them. */
struct later {
	struct log *l;
	unsigned int delay_ms, n;
};

static void *write_later(void *arg)
{
	struct later *w = arg;

	usleep(w->delay_ms * 1000u);
	put_n(w->l, w->n, 0, 0);
	commit(w->l);
	return NULL;
}

/* A log of 10 durable records in segments of seg_size, open for writing, and a reader of it. */
static struct klog_reader *ten(struct log *l, int i, uint64_t seg_size)
{
	struct klog_reader *r;

	log_init(l, i, scratch_dir(), seg_size, 256 << 10);
	log_open(l);
	put_n(l, 10, 0, 0);
	commit(l);
	ck_assert_int_eq(klog_reader_open(&r, l->dir), 0);
	return r;
}

/* Wait for LSN lsn while the writer commits n records after 300 ms: it wakes then. */
static void woken(struct log *l, struct klog_reader *r, uint64_t lsn, unsigned int n)
{
	struct later w = { .l = l, .delay_ms = 300, .n = n };
	struct klog_record rec;
	double t0, cpu0, took;
	uint8_t buf[MAXR];
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, write_later, &w), 0);
	t0 = now_ms();
	cpu0 = cpu_ms();
	ck_assert_int_eq(klog_reader_wait(r, lsn, 10000), 0);
	took = now_ms() - t0;
	ck_assert_msg(took >= 250 && took < 5000, "woke after %.0f ms, the commit was at 300",
		      took);
	ck_assert_msg(cpu_ms() - cpu0 < 50, "the wait spent %.0f ms of CPU in %.0f ms",
		      cpu_ms() - cpu0, took);
	pthread_join(t, NULL);
	ck_assert_int_ge(klog_read(r, lsn, buf, sizeof(buf), &rec), 0);
	assert_appended(&rec, buf);
}

START_TEST(wakes_same_segment)
{
	struct klog_reader *r;
	struct log l;

	r = ten(&l, _i, 1 << 20);
	ck_assert_int_eq(klog_reader_wait(r, 10, 0), 0); /* durable already: at once */
	woken(&l, r, 11, 1);
	klog_reader_close(r);
	log_close(&l);
}
END_TEST

/* LSN 400 is in a segment that does not exist yet when the wait starts. */
START_TEST(wakes_new_segment)
{
	struct klog_reader *r;
	uint64_t first, last;
	struct log l;

	r = ten(&l, _i, 64 << 10);
	woken(&l, r, 400, 390);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(last, 400);
	klog_reader_close(r);
	log_close(&l);
}
END_TEST

START_TEST(not_durable_times_out)
{
	struct klog_reader *r;
	struct log l;
	double t0, took;

	r = ten(&l, _i, 1 << 20);
	put(&l, 0); /* LSN 11, in the segment but not in the index: not durable */
	t0 = now_ms();
	ck_assert_int_eq(klog_reader_wait(r, 11, 400), -ETIMEDOUT);
	took = now_ms() - t0;
	ck_assert_msg(took >= 400 && took < 2000, "timed out after %.0f ms, 400 asked", took);
	ck_assert_msg(strstr(klog_reader_strerror(r), "LSN 11 not durable after 400 ms"), "%s",
		      klog_reader_strerror(r));
	commit(&l);
	ck_assert_int_eq(klog_reader_wait(r, 11, 1000), 0);
	klog_reader_close(r);
	log_close(&l);
}
END_TEST

START_TEST(trimmed)
{
	struct klog_reader *r;
	struct log l;

	log_init(&l, _i, scratch_dir(), 1 << 20, 256 << 10);
	l.o.first_lsn = 50; /* the log starts at LSN 50: 1..49 are gone */
	log_open(&l);
	put_n(&l, 5, 0, 0);
	commit(&l);
	ck_assert_int_eq(klog_reader_open(&r, l.dir), 0);
	ck_assert_int_eq(klog_reader_wait(r, 10, 1000), -ENOENT);
	ck_assert_int_eq(klog_reader_wait(r, 54, 1000), 0);
	klog_reader_close(r);
	log_close(&l);
}
END_TEST

static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-wait", "64m");
}

int main(void)
{
	Suite *s = suite_create("wait");
	TCase *tc = tcase_create("wait");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, wakes_same_segment, 0, 2);
	tcase_add_loop_test(tc, wakes_new_segment, 0, 2);
	tcase_add_loop_test(tc, not_durable_times_out, 0, 2);
	tcase_add_loop_test(tc, trimmed, 0, 2);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
