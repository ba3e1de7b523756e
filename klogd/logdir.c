// SPDX-License-Identifier: GPL-2.0-only
/* logdir.c - klog.meta and the directory's identity (see logdir.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logdir.h"

#define META_TMP KLOG_META_NAME ".tmp"

int klogd_meta_read(int dirfd, struct klog_meta *m)
{
	uint8_t buf[KLOG_META_SIZE + 1];
	int fd = openat(dirfd, KLOG_META_NAME, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* One byte more than the file may hold: a longer file is not klog.meta. */
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0)
		return -errno;
	return klog_meta_decode(buf, (size_t)n, m);
}

int klogd_meta_write(int dirfd, const struct klog_meta *m)
{
	uint8_t buf[KLOG_META_SIZE];
	int fd = openat(dirfd, META_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err = 0;

	if (fd < 0)
		return -errno;
	klog_meta_encode(buf, m);
	if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		err = errno ? -errno : -EIO;
	else if (fsync(fd))
		err = -errno;
	close(fd);
	if (!err && renameat(dirfd, META_TMP, dirfd, KLOG_META_NAME))
		err = -errno;
	if (err) {
		unlinkat(dirfd, META_TMP, 0);
		return err;
	}
	return fsync(dirfd) ? -errno : 0;
}

int klogd_dirid_init(struct klogd_dirid *d, const char *path, int dirfd)
{
	struct stat st;

	if (fstat(dirfd, &st))
		return -errno;
	*d = (struct klogd_dirid){ .path = path, .dev = st.st_dev, .ino = st.st_ino };
	return 0;
}

/*
 * A datasync makes the file's bytes durable, not its name: records in a file
 * unlinked, or in a directory the path no longer leads to, are lost to
 * anyone who looks for them by path.
 */
int klogd_dirid_check(const struct klogd_dirid *d, int dirfd, int fd, const char *name,
		      const char **what)
{
	struct stat f, n, p;

	if (fstat(fd, &f))
		return -errno;
	if (!f.st_nlink || fstatat(dirfd, name, &n, AT_SYMLINK_NOFOLLOW)) {
		*what = "was unlinked";
		return -ESTALE;
	}
	if (n.st_dev != f.st_dev || n.st_ino != f.st_ino) {
		*what = "was replaced by another file";
		return -ESTALE;
	}
	if (stat(d->path, &p) || p.st_dev != d->dev || p.st_ino != d->ino) {
		*what = "is no longer in the directory the path names (removed or renamed)";
		return -ESTALE;
	}
	return 0;
}
