// SPDX-License-Identifier: GPL-2.0-only
/*
 * backend.c - what every backend shares (see backend.h): lookup by name, the
 * staging buffer, the write loop that finishes short writes, and started
 * writes on backends that can only write synchronously.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#define BUF_ALIGN 4096 /* O_DIRECT wants buffers, offsets and lengths in blocks */

static const struct klog_backend_ops *const backends[] = {
	&klog_backend_uring,
	&klog_backend_psync,
};

const struct klog_backend_ops *klog_backend_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

int klog_backend_buf_alloc(struct klog_backend *b, size_t size)
{
	void *buf;
	int err;

	if (!size || size % BUF_ALIGN)
		return -EINVAL;
	err = posix_memalign(&buf, BUF_ALIGN, size);
	if (err)
		return -err;
	/* Nothing stale from the heap can reach the disk through padding. */
	memset(buf, 0, size);
	b->buf = buf;
	b->buf_size = size;
	return 0;
}

void klog_backend_buf_free(struct klog_backend *b)
{
	free(b->buf);
	b->buf = NULL;
	b->buf_size = 0;
}

int klog_backend_write(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
		       off_t off, bool datasync)
{
	size_t done = 0;

	if (!len)
		return datasync ? b->ops->sync(b, slot) : 0;
	/*
	 * Every submit covers all the bytes still to write, so asking each for
	 * the datasync makes exactly one sync happen: in the submit that
	 * writes the last bytes.  A short submit syncs nothing.
	 */
	while (done < len) {
		ssize_t n = b->ops->submit(b, slot, buf_off + done, len - done,
					   off + (off_t)done, datasync);

		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > len - done)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int klog_backend_start(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
		       off_t off, bool datasync)
{
	int err = 0;

	if (b->io.busy)
		return -EBUSY;
	b->io = (struct klog_backend_io){ .datasync = datasync, .slot = slot, .buf_off = buf_off,
					  .len = len, .off = off };
	if (!len)
		b->io.res = datasync ? b->ops->sync(b, slot) : 0;
	else if (b->ops->start)
		err = b->ops->start(b, slot, buf_off, len, off, datasync);
	else
		b->io.res = b->ops->submit(b, slot, buf_off, len, off, datasync);
	b->io.busy = !err;
	return err;
}

int klog_backend_finish(struct klog_backend *b, bool wait)
{
	struct klog_backend_io io = b->io;
	ssize_t n = io.res;

	if (!io.busy)
		return 0;
	if (io.len && b->ops->start && (n = b->ops->reap(b, wait)) == -EAGAIN && !wait)
		return -EAGAIN;
	b->io.busy = false;
	if (!io.len || n < 0)
		return (int)n;
	if (n == 0 || (size_t)n > io.len)
		return -EIO;
	if ((size_t)n == io.len)
		return 0;
	/* Short: the rest as klog_backend_write does it. */
	return klog_backend_write(b, io.slot, io.buf_off + (size_t)n, io.len - (size_t)n,
				  io.off + (off_t)n, io.datasync);
}
