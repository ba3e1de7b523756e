// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: libklog says what it is: klog_version() is the meson
 * project's version (given to this test by the build, not through
 * klog_config.h) and klog_max_record() the max_record option it was built
 * with.
 */
#include <check.h>
#include <string.h>

#include <klog/klog.h>

#include "check_run.h"

START_TEST(version)
{
	ck_assert_str_eq(klog_version(), TEST_PROJECT_VERSION);
}
END_TEST

START_TEST(max_record)
{
	ck_assert_uint_eq(klog_max_record(), TEST_MAX_RECORD);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("version");
	TCase *tc = tcase_create("version");

	tcase_add_test(tc, version);
	tcase_add_test(tc, max_record);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
