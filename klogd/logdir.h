/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * logdir.h - the log directory as a whole (doc/format.md): its klog.meta
 * file, and the check that the directory and a segment are still the ones
 * klogd opened.  Functions return 0 or -errno.
 */
#ifndef KLOGD_LOGDIR_H
#define KLOGD_LOGDIR_H

#include <stdbool.h>
#include <sys/types.h>

#include "format.h"

/* RETURN VALUE: 0; -ENOENT if there is none; -EBADMSG or -EPROTO (klog_meta_decode). */
int klogd_meta_read(int dirfd, struct klog_meta *m);

/* Replace klog.meta atomically and durably: NAME.tmp, fsync, rename, fsync the directory. */
int klogd_meta_write(int dirfd, const struct klog_meta *m);

/* The directory klogd opened: its path, and what it was when opened. */
struct klogd_dirid {
	const char *path;
	dev_t dev;
	ino_t ino;
};

int klogd_dirid_init(struct klogd_dirid *d, const char *path, int dirfd);

/*
 * Is the file fd still linked in dirfd as name, and does d->path still name
 * that directory?  RETURN VALUE: 0; -ESTALE, with *what ("was unlinked",
 * "was replaced", "no longer names the directory klogd opened") if not.
 */
int klogd_dirid_check(const struct klogd_dirid *d, int dirfd, int fd, const char *name,
		      const char **what);

#endif
