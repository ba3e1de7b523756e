// SPDX-License-Identifier: GPL-2.0-only
/*
 * psync.c - the portable backend: pwrite then fdatasync, one system call at a
 * time.  klogd falls back to it where io_uring is unavailable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend.h"

struct psync {
	struct klog_backend b; /* first: the ops see a struct klog_backend */
	int fds[KLOG_BACKEND_FILES];
};

static struct psync *to_psync(struct klog_backend *b)
{
	return (struct psync *)b;
}

static int psync_open(struct klog_backend **out, const struct klog_backend_opts *opts)
{
	struct psync *p;
	int err;

	if (!opts)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->b.ops = &klog_backend_psync;
	for (unsigned int i = 0; i < KLOG_BACKEND_FILES; i++)
		p->fds[i] = -1;
	err = klog_backend_buf_alloc(&p->b, opts->buf_size);
	if (err) {
		free(p);
		return err;
	}
	*out = &p->b;
	return 0;
}

static void psync_close(struct klog_backend *b)
{
	if (!b)
		return;
	klog_backend_buf_free(b);
	free(to_psync(b));
}

static int psync_set_file(struct klog_backend *b, unsigned int slot, int fd)
{
	if (slot >= KLOG_BACKEND_FILES)
		return -EINVAL;
	if (fd < -1 || (fd >= 0 && fcntl(fd, F_GETFD) < 0))
		return -EBADF;
	to_psync(b)->fds[slot] = fd;
	return 0;
}

/* The slot's fd, or -errno for a bad or empty slot. */
static int psync_fd(struct klog_backend *b, unsigned int slot)
{
	if (slot >= KLOG_BACKEND_FILES)
		return -EINVAL;
	return to_psync(b)->fds[slot] < 0 ? -EBADF : to_psync(b)->fds[slot];
}

static int psync_sync(struct klog_backend *b, unsigned int slot)
{
	int fd = psync_fd(b, slot);

	if (fd < 0)
		return fd;
	return fdatasync(fd) ? -errno : 0;
}

static ssize_t psync_submit(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
			    off_t off, bool datasync)
{
	int fd = psync_fd(b, slot);
	ssize_t n;

	if (fd < 0)
		return fd;
	if (len > b->buf_size || buf_off > b->buf_size - len)
		return -EINVAL;
	do
		n = pwrite(fd, (char *)b->buf + buf_off, len, off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n == len && datasync) {
		int err = psync_sync(b, slot);

		if (err)
			return err;
	}
	return n;
}

const struct klog_backend_ops klog_backend_psync = {
	.name = "psync",
	.open = psync_open,
	.close = psync_close,
	.set_file = psync_set_file,
	.submit = psync_submit,
	.sync = psync_sync,
};
