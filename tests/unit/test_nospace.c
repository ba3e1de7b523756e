// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: klogd's drain loop on a full disk (klogd/nospace.h), with the
 * clock given: the health becomes NOSPACE with its time and reason at the
 * first failure, with one warning line; later failures log again at most
 * once per NOSPACE_LOG_S; the first success logs the recovery once and sets
 * the health back to OK; other errors are no full disk.  Also the level
 * of klogd's lines (klogd/log.h): words on a file, sd-daemon's <N> when
 * stderr is the journal (JOURNAL_STREAM names it), not when it names
 * another file.  The lines are read back
 * from stderr, redirected to a file.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "drain.h"
#include "log.h"
#include "nospace.h"

#define S 1000000000ull

static uint64_t durable_lsn = 101;

static uint64_t fake_durable(const struct klogd_store *s)
{
	return durable_lsn;
}

static const struct klogd_store_ops fake_ops = { .name = "fake", .durable = fake_durable };
static struct klogd_store fake_store = { &fake_ops };

static FILE *err_file;

/* stderr to a file, truncated: what klogd logs from now on. */
static void capture(void)
{
	fflush(stderr);
	err_file = tmpfile();
	ck_assert_ptr_nonnull(err_file);
	ck_assert_int_ge(dup2(fileno(err_file), STDERR_FILENO), 0);
}

/* The lines logged since capture() (and forgets them), in buf. */
static const char *logged(char *buf, size_t n)
{
	size_t len;

	fflush(stderr);
	rewind(err_file);
	len = fread(buf, 1, n - 1, err_file);
	buf[len] = 0;
	ck_assert_int_eq(ftruncate(fileno(err_file), 0), 0);
	rewind(err_file);
	return buf;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(full_then_room)
{
	struct klog_ctl ctl = { .next_lsn = 613 };
	struct klog_kern k = { .ctl = &ctl, .window = 512 };
	struct klogd_drain d = { .k = &k, .s = &fake_store };
	uint64_t t0 = 5 * S;
	char buf[4096];

	capture();
	ck_assert(klogd_nospace_err(-ENOSPC));
	ck_assert(klogd_nospace_err(-EDQUOT));
	ck_assert(!klogd_nospace_err(-EIO));
	ck_assert(!klogd_nospace_err(-ESTALE));

	/* Healthy and succeeding: nothing to say. */
	klogd_nospace_over(&d, t0);
	ck_assert_int_eq(d.health.state, KLOGD_HEALTH_OK);
	ck_assert_str_eq(logged(buf, sizeof(buf)), "");

	klogd_nospace_failed(&d, -ENOSPC, t0);
	ck_assert_int_eq(d.health.state, KLOGD_HEALTH_NOSPACE);
	ck_assert_uint_eq(d.health.since_ns, t0);
	ck_assert_str_eq(d.health.why, "disk full (No space left on device): durable LSN stays "
			 "below 101, later records wait in the kernel");
	logged(buf, sizeof(buf));
	ck_assert_int_eq(lines(buf), 1);
	ck_assert_ptr_nonnull(strstr(buf, "klogd: warning: disk full (No space left on device): "
				     "durable LSN stays below 101"));
	ck_assert_ptr_nonnull(strstr(buf, "the window of 512 fills"));

	/* Every second a try, for a minute: no line. */
	for (uint64_t t = 1; t < NOSPACE_LOG_S; t++)
		klogd_nospace_failed(&d, -ENOSPC, t0 + t * S);
	ck_assert_str_eq(logged(buf, sizeof(buf)), "");
	/* Then one line, which says for how long and how many records wait. */
	klogd_nospace_failed(&d, -ENOSPC, t0 + NOSPACE_LOG_S * S);
	logged(buf, sizeof(buf));
	ck_assert_int_eq(lines(buf), 1);
	ck_assert_ptr_nonnull(strstr(buf, "klogd: warning: disk still full after 60 s (No space "
				     "left on device): durable LSN stays below 101, 512 records "
				     "wait in the kernel"));
	klogd_nospace_failed(&d, -ENOSPC, t0 + (NOSPACE_LOG_S + 30) * S);
	ck_assert_str_eq(logged(buf, sizeof(buf)), "");
	/* The state and its start stay what they were. */
	ck_assert_int_eq(d.health.state, KLOGD_HEALTH_NOSPACE);
	ck_assert_uint_eq(d.health.since_ns, t0);

	/* Room again: one line, healthy; and then nothing more. */
	durable_lsn = 613;
	klogd_nospace_over(&d, t0 + 100 * S);
	logged(buf, sizeof(buf));
	ck_assert_int_eq(lines(buf), 1);
	ck_assert_ptr_nonnull(strstr(buf, "klogd: disk has room again after 100 s: durable up "
				     "to LSN 612, confirming durability again"));
	ck_assert_int_eq(d.health.state, KLOGD_HEALTH_OK);
	ck_assert_str_eq(d.health.why, "");
	klogd_nospace_over(&d, t0 + 101 * S);
	ck_assert_str_eq(logged(buf, sizeof(buf)), "");

	/* Full again later: a new episode, logged at once. */
	klogd_nospace_failed(&d, -EDQUOT, t0 + 200 * S);
	ck_assert_int_eq(lines(logged(buf, sizeof(buf))), 1);
	ck_assert_uint_eq(d.health.since_ns, t0 + 200 * S);
}
END_TEST

/* Off the journal, a line names its level for warnings and errors only. */
START_TEST(levels)
{
	char buf[1024];

	unsetenv("JOURNAL_STREAM");
	capture();
	klogd_log("an event %d", 1);
	klogd_warn("look at %s", "this");
	klogd_err("cannot go on");
	klogd_logl(LOG_NOTICE, "a notice");
	ck_assert_str_eq(logged(buf, sizeof(buf)), "klogd: an event 1\n"
			 "klogd: warning: look at this\n"
			 "klogd: error: cannot go on\n"
			 "klogd: a notice\n");
}
END_TEST

/* To the journal (JOURNAL_STREAM names stderr): sd-daemon's <N> prefix, no "klogd: ". */
START_TEST(journal)
{
	char buf[1024], stream[64];
	struct stat st;

	capture();
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", stream, 1);
	klogd_log("an event %d", 1);
	klogd_warn("look at %s", "this");
	klogd_err("cannot go on");
	ck_assert_str_eq(logged(buf, sizeof(buf)), "<6>an event 1\n<4>look at this\n"
			 "<3>cannot go on\n");
}
END_TEST

/* A JOURNAL_STREAM that names another file (stderr redirected since): not the journal. */
START_TEST(journal_elsewhere)
{
	char buf[1024];

	capture();
	setenv("JOURNAL_STREAM", "8:12345", 1);
	klogd_warn("look at %s", "this");
	ck_assert_str_eq(logged(buf, sizeof(buf)), "klogd: warning: look at this\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nospace");
	TCase *tc = tcase_create("nospace");

	tcase_add_test(tc, full_then_room);
	tcase_add_test(tc, levels);
	tcase_add_test(tc, journal);
	tcase_add_test(tc, journal_elsewhere);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
