/* SPDX-License-Identifier: GPL-2.0-only */
/* check_run.h - run a Check suite the way every klog test program does. */
#ifndef KLOG_TEST_CHECK_RUN_H
#define KLOG_TEST_CHECK_RUN_H

#include <check.h>

/*
 * Run every case of s, each in its own process, reporting through TAP
 * (CK_TAP_LOG_FILE_NAME=- in the test environment); returns the exit status.
 */
int run_suite(Suite *s);

#endif
