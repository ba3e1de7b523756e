/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scratch.h - a test program's scratch directory, made and removed by an
 * unchecked Check fixture (once, in the runner process), with tmpfs mounts
 * in it where a test wants them.  Failures are Check assertions.
 */
#ifndef KLOG_TEST_SCRATCH_H
#define KLOG_TEST_SCRATCH_H

/*
 * Make a fresh directory prefix-XXXXXX (prefix: e.g. "/var/tmp/klog-test-x").
 * With tmpfs_size (mount's size=, e.g. "64m"), enter a private mount
 * namespace first, so mounts a failed case leaves go away with this process,
 * and mount a tmpfs of that size at scratch_tmpfs().  Call it from the
 * fixture's setup function.
 */
void scratch_setup(const char *prefix, const char *tmpfs_size);

/* The directory scratch_setup() made. */
const char *scratch_dir(void);

/* The tmpfs scratch_setup() mounted in it (NULL without one). */
const char *scratch_tmpfs(void);

/*
 * Mount a tmpfs of size (as for scratch_setup()) on a new directory of the
 * scratch directory, named by fmt; its path into path (PATH_MAX bytes).
 * Needs the mount namespace of a scratch_setup() with a tmpfs_size.
 */
void scratch_mount_tmpfs(char *path, const char *size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Remove the scratch directory and all in it, unmounting what is mounted there. */
void scratch_teardown(void);

#endif
