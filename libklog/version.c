// SPDX-License-Identifier: GPL-2.0-only
/*
 * version.c - what this build of libklog is (klog.h): a program linked
 * against another build's headers can check what it gets at run time.
 */
#include <klog/klog.h>

const char *klog_version(void)
{
	return KLOG_VERSION;
}

size_t klog_max_record(void)
{
	return KLOG_MAX_RECORD;
}
