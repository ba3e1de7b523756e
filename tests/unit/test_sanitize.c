// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the sanitizer build's own check (built only with
 * -Db_sanitize=address,undefined): a leak, a heap overflow and a signed
 * overflow, each in a Check case of a child run of this program, must each
 * fail their case with a sanitizer report, and a clean case must pass.
 * Check runs every case in a forked process whose exit status decides it, so
 * this is what proves a finding anywhere in the suite fails a test rather than
 * scrolling by.  The child's reports go to its stderr, not to the report
 * directory of tools/test.sh --sanitize, which counts findings.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_run.h"

#define INNER "KLOG_SANITIZE_INNER"

/* The child's cases: each but the last has a bug the sanitizers must catch. */
START_TEST(bug_leak)
{
	char *volatile p = malloc(24);

	ck_assert_ptr_nonnull(p);
	memset(p, 1, 24);
	p = NULL;
}
END_TEST

START_TEST(bug_heap_overflow)
{
	char *p = malloc(10), dst[16];
	volatile size_t n = 11;

	ck_assert_ptr_nonnull(p);
	memset(p, 2, 10);
	memcpy(dst, p, n);
	free(p);
	ck_assert_int_eq(dst[0], 2);
}
END_TEST

START_TEST(bug_signed_overflow)
{
	volatile int big = 0x7fffffff, one = 1;
	int sum = big + one;

	ck_assert_int_ne(sum, 0);
}
END_TEST

START_TEST(clean)
{
	char *p = malloc(8);

	ck_assert_ptr_nonnull(p);
	free(p);
}
END_TEST

static int run_inner(void)
{
	Suite *s = suite_create("inner");
	TCase *tc = tcase_create("inner");

	tcase_add_test(tc, bug_leak);
	tcase_add_test(tc, bug_heap_overflow);
	tcase_add_test(tc, bug_signed_overflow);
	tcase_add_test(tc, clean);
	suite_add_tcase(s, tc);
	return run_suite(s);
}

/* The child's TAP output, its stderr and its exit status. */
static char tap[8192], err[65536];
static int status;

static void read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
}

/* Run this program again as the child, its reports on stderr (log_path=stderr). */
static void run_child(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int out[2], errp[2];
	pid_t pid;

	ck_assert_int_gt(n, 0);
	self[n] = 0;
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(errp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(errp[1], 2);
		setenv(INNER, "1", 1);
		setenv("CK_TAP_LOG_FILE_NAME", "-", 1);
		setenv("CK_VERBOSITY", "silent", 1);
		unsetenv("CK_FORK");
		unsetenv("CK_RUN_CASE");
		unsetenv("CK_RUN_SUITE");
		setenv("ASAN_OPTIONS", "detect_leaks=1:log_path=stderr", 1);
		setenv("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1:log_path=stderr", 1);
		execl(self, self, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(errp[1]);
	/* Little output each way: the TAP lines first, then the reports. */
	read_all(out[0], tap, sizeof(tap));
	read_all(errp[0], err, sizeof(err));
	close(out[0]);
	close(errp[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

/* case _i of the child: its TAP line's name, whether it must fail, and the report it must leave. */
static const struct {
	const char *name, *report;
	bool fails;
} cases[] = {
	{ "bug_leak", "ERROR: LeakSanitizer: detected memory leaks", true },
	{ "bug_heap_overflow", "ERROR: AddressSanitizer: heap-buffer-overflow", true },
	{ "bug_signed_overflow", "runtime error: signed integer overflow", true },
	{ "clean", NULL, false },
};

START_TEST(finding_fails_its_case)
{
	char want[128];

	run_child();
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0,
		      "the child run passed: status %#x", status);
	snprintf(want, sizeof(want), "%s:inner:%s: ", "test_sanitize.c", cases[_i].name);
	for (char *line = strtok(tap, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strstr(line, want))
			continue;
		ck_assert_msg(!strncmp(line, cases[_i].fails ? "not ok " : "ok ",
				       cases[_i].fails ? 7 : 3),
			      "case %s: %s", cases[_i].name, line);
		if (cases[_i].fails)
			ck_assert_msg(strstr(err, cases[_i].report), "case %s: no \"%s\" in:\n%s",
				      cases[_i].name, cases[_i].report, err);
		return;
	}
	ck_abort_msg("no TAP line for case %s in:\n%s", cases[_i].name, tap);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	if (getenv(INNER))
		return run_inner();
	s = suite_create("sanitize");
	tc = tcase_create("sanitize");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, finding_fails_its_case, 0, sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	return run_suite(s);
}
