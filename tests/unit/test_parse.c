// SPDX-License-Identifier: GPL-2.0-only
/* Description: command-line numbers (klog_parse_u64): bases, suffixes, refusals. */
#include <check.h>
#include <errno.h>
#include <stdint.h>

#include "check_run.h"
#include "parse.h"

START_TEST(numbers)
{
	uint64_t v;

	ck_assert_int_eq(klog_parse_u64("0", &v, false), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(klog_parse_u64("7070", &v, false), 0);
	ck_assert_uint_eq(v, 7070);
	ck_assert_int_eq(klog_parse_u64("0x10", &v, false), 0);
	ck_assert_uint_eq(v, 16);
	ck_assert_int_eq(klog_parse_u64("18446744073709551615", &v, false), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(suffixes)
{
	uint64_t v;

	ck_assert_int_eq(klog_parse_u64("4k", &v, true), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(klog_parse_u64("64M", &v, true), 0);
	ck_assert_uint_eq(v, 64ull << 20);
	ck_assert_int_eq(klog_parse_u64("2G", &v, true), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	/* Without suffixes allowed, a suffix is trailing garbage. */
	ck_assert_int_eq(klog_parse_u64("4k", &v, false), -EINVAL);
}
END_TEST

START_TEST(refusals)
{
	static const char *const bad[] = { "", "-1", "+-1", "12x", "x12", "1kk", "1T", " ",
					   "18446744073709551616", "17179869184G" };
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(klog_parse_u64(bad[i], &v, true) == -EINVAL, "'%s' accepted", bad[i]);
	ck_assert_uint_eq(v, 42); /* untouched */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, numbers);
	tcase_add_test(tc, suffixes);
	tcase_add_test(tc, refusals);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
