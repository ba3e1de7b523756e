// SPDX-License-Identifier: GPL-2.0-only
/* scratch.c - see scratch.h. */
#define _GNU_SOURCE
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"

static char dir[PATH_MAX];
static char tmpfs[PATH_MAX];

/* Mount a tmpfs of size on the new directory path. */
static void mount_tmpfs(const char *path, const char *size)
{
	char opts[64];

	ck_assert_int_lt(snprintf(opts, sizeof(opts), "size=%s,mode=0700", size),
			 (int)sizeof(opts));
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(mount("klog-test", path, "tmpfs", 0, opts), 0);
}

void scratch_setup(const char *prefix, const char *tmpfs_size)
{
	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s-XXXXXX", prefix), (int)sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	if (!tmpfs_size)
		return;
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_lt(snprintf(tmpfs, sizeof(tmpfs), "%s/tmpfs", dir), (int)sizeof(tmpfs));
	mount_tmpfs(tmpfs, tmpfs_size);
}

const char *scratch_dir(void)
{
	return dir;
}

const char *scratch_tmpfs(void)
{
	return tmpfs[0] ? tmpfs : NULL;
}

void scratch_mount_tmpfs(char *path, const char *size, const char *fmt, ...)
{
	char name[NAME_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	ck_assert_int_lt(n, (int)sizeof(name));
	ck_assert_int_lt(snprintf(path, PATH_MAX, "%s/%s", dir, name), PATH_MAX);
	mount_tmpfs(path, size);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag != FTW_DP)
		return unlink(path);
	/*
	 * Lazily: a ring being torn down may hold a file a moment longer.
	 * Fails harmlessly where path is no mount point.
	 */
	umount2(path, MNT_DETACH);
	return rmdir(path);
}

void scratch_teardown(void)
{
	ck_assert_int_eq(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}
