// SPDX-License-Identifier: GPL-2.0-only
/*
 * uring.c - the io_uring backend: a write of the registered staging buffer to
 * a registered file, linked to an fdatasync, is one submission, and the
 * caller may go on while the disk works (start, reap).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/uio.h>

#include <liburing.h>

#include "backend.h"

#define DEFAULT_DEPTH 64
/* Bytes one SQE may ask for: its length is 32 bits, and the kernel caps I/O there anyway. */
#define MAX_SQE_BYTES ((size_t)INT_MAX & ~(size_t)4095)

/* user_data of the two SQEs a submit may make, and indexes of their results. */
enum { UD_WRITE, UD_SYNC, UD_MAX };

struct uring {
	struct klog_backend b; /* first: the ops see a struct klog_backend */
	struct io_uring ring;
	int fds[KLOG_BACKEND_FILES];
	bool fixed_buf;   /* the staging buffer is registered as buffer 0 */
	bool fixed_files; /* fds are registered, and SQEs name slots instead */
	int broken;       /* -errno once SQEs may be stuck in the ring: it is unusable */
	unsigned int owed; /* CQEs of submitted SQEs not taken yet */
	int res[UD_MAX];  /* their results, by user_data */
	size_t len;       /* the started write's length, and whether a fsync follows */
	bool datasync;
};

static struct uring *to_uring(struct klog_backend *b)
{
	return (struct uring *)b;
}

/*
 * A NOP submitted and waited for: io_uring_setup can succeed where
 * io_uring_enter is denied (a seccomp filter, an LSM), and then the first
 * write would fail instead of the open, past the point where the caller
 * can fall back to psync.  RETURN VALUE: 0 or -errno.
 */
static int uring_probe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	io_uring_prep_nop(sqe);
	do
		ret = io_uring_submit_and_wait(ring, 1);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	if ((ret = io_uring_wait_cqe(ring, &cqe)))
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret < 0 ? ret : 0;
}

static int uring_open(struct klog_backend **out, const struct klog_backend_opts *opts)
{
	unsigned int depth;
	int files[KLOG_BACKEND_FILES];
	struct iovec iov;
	struct uring *u;
	int err;

	if (!opts)
		return -EINVAL;
	depth = opts->queue_depth ? opts->queue_depth : DEFAULT_DEPTH;
	if (depth < UD_MAX)
		depth = UD_MAX; /* room for a write and its linked fsync */
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->b.ops = &klog_backend_uring;
	/*
	 * -ENOSYS, -EPERM (io_uring_disabled, seccomp on setup or on enter),
	 * -ENOMEM: the caller falls back.
	 */
	err = io_uring_queue_init(depth, &u->ring, 0);
	if (err)
		goto err_free;
	err = uring_probe(&u->ring);
	if (err)
		goto err_exit;
	err = klog_backend_buf_alloc(&u->b, opts->buf_size);
	if (err)
		goto err_exit;

	/*
	 * Registering pins the buffer and files once instead of at every I/O.
	 * Either can fail where it is merely slower to go without (the buffer
	 * counts against RLIMIT_MEMLOCK on old kernels and may not exceed
	 * 1 GiB; old kernels refuse sparse file tables): then plain writes
	 * with the user address, and plain fds, are used instead.
	 */
	iov.iov_base = u->b.buf;
	iov.iov_len = u->b.buf_size;
	u->fixed_buf = !io_uring_register_buffers(&u->ring, &iov, 1);
	for (unsigned int i = 0; i < KLOG_BACKEND_FILES; i++)
		files[i] = u->fds[i] = -1;
	u->fixed_files = !io_uring_register_files(&u->ring, files, KLOG_BACKEND_FILES);
	*out = &u->b;
	return 0;

err_exit:
	io_uring_queue_exit(&u->ring);
err_free:
	free(u);
	return err;
}

static void uring_close(struct klog_backend *b)
{
	if (!b)
		return;
	/* Unregisters the buffer and files with the ring; the fds stay the caller's. */
	io_uring_queue_exit(&to_uring(b)->ring);
	klog_backend_buf_free(b);
	free(to_uring(b));
}

static int uring_set_file(struct klog_backend *b, unsigned int slot, int fd)
{
	struct uring *u = to_uring(b);

	if (slot >= KLOG_BACKEND_FILES)
		return -EINVAL;
	if (fd < -1 || (fd >= 0 && fcntl(fd, F_GETFD) < 0))
		return -EBADF;
	if (u->fixed_files) {
		int ret = io_uring_register_files_update(&u->ring, slot, &fd, 1);

		if (ret < 0)
			return ret;
	}
	u->fds[slot] = fd;
	return 0;
}

/* 0 if slot may take I/O now, or -errno. */
static int uring_check(struct uring *u, unsigned int slot)
{
	if (u->broken)
		return u->broken;
	if (slot >= KLOG_BACKEND_FILES)
		return -EINVAL;
	return u->fds[slot] < 0 ? -EBADF : 0;
}

/*
 * SQEs are prepared for slot's file with uring_fd() then uring_tag().
 * io_uring_get_sqe() cannot run out: the ring is empty between a reap and
 * the next start (or broken) and holds at least UD_MAX entries.
 */
static int uring_fd(struct uring *u, unsigned int slot)
{
	return u->fixed_files ? (int)slot : u->fds[slot];
}

/* After the prep helper (which clears flags): mark the file as a slot, tag the SQE. */
static void uring_tag(struct uring *u, struct io_uring_sqe *sqe, unsigned int flags, __u64 ud)
{
	sqe->flags |= flags | (u->fixed_files ? IOSQE_FIXED_FILE : 0);
	io_uring_sqe_set_data64(sqe, ud);
}

static void uring_prep_sync(struct uring *u, unsigned int slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	io_uring_prep_fsync(sqe, uring_fd(u, slot), IORING_FSYNC_DATASYNC);
	uring_tag(u, sqe, 0, UD_SYNC);
}

/* Submit the n prepared SQEs without waiting; their CQEs are owed from now on. */
static int uring_push(struct uring *u, unsigned int n)
{
	int ret;

	for (unsigned int i = 0; i < UD_MAX; i++)
		u->res[i] = -EIO; /* a CQE that never came */
	do
		ret = io_uring_submit(&u->ring);
	while (ret == -EINTR);
	u->owed = ret < 0 ? 0 : (unsigned int)ret;
	if (ret >= 0 && (unsigned int)ret == n)
		return 0;
	/*
	 * SQEs the kernel did not take stay queued, and would go with the next
	 * submit, writing whatever the buffer holds by then.  Refuse all
	 * further I/O instead (once the CQEs owed are in, see uring_collect).
	 */
	u->broken = ret < 0 ? ret : -EAGAIN;
	return u->broken;
}

/*
 * Take the CQEs owed, each result into res[user_data].  RETURN VALUE: 0;
 * -EAGAIN if !wait and some are not in yet; -errno if the ring failed.
 */
static int uring_collect(struct uring *u, bool wait)
{
	struct io_uring_cqe *cqe;
	int ret = 0;

	while (u->owed) {
		do
			ret = wait ? io_uring_wait_cqe(&u->ring, &cqe) :
				     io_uring_peek_cqe(&u->ring, &cqe);
		while (ret == -EINTR);
		if (ret == -EAGAIN && !wait)
			return -EAGAIN;
		if (ret < 0)
			break;
		if (cqe->user_data < UD_MAX)
			u->res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		u->owed--;
	}
	/* CQEs not reaped would be taken for the next ones: the ring is unusable. */
	if (ret < 0 && !u->broken)
		u->broken = ret;
	return u->broken;
}

static int uring_start(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
		       off_t off, bool datasync)
{
	struct uring *u = to_uring(b);
	struct io_uring_sqe *sqe;
	int err = uring_check(u, slot);
	void *buf;

	if (err)
		return err;
	if (len > b->buf_size || buf_off > b->buf_size - len)
		return -EINVAL;
	if (len > MAX_SQE_BYTES) {
		len = MAX_SQE_BYTES; /* a short write, which syncs nothing */
		datasync = false;
	}
	buf = (char *)b->buf + buf_off;
	sqe = io_uring_get_sqe(&u->ring);
	if (u->fixed_buf)
		io_uring_prep_write_fixed(sqe, uring_fd(u, slot), buf, (unsigned int)len,
					  (__u64)off, 0);
	else
		io_uring_prep_write(sqe, uring_fd(u, slot), buf, (unsigned int)len, (__u64)off);
	/*
	 * The kernel starts the linked fsync only once the write completed in
	 * full; after a short write it completes with -ECANCELED, unsynced.
	 */
	uring_tag(u, sqe, datasync ? IOSQE_IO_LINK : 0, UD_WRITE);
	if (datasync)
		uring_prep_sync(u, slot);
	u->len = len;
	u->datasync = datasync;
	err = uring_push(u, datasync ? 2 : 1);
	if (err)
		uring_collect(u, true); /* what did go must be over before the buffer is reused */
	return err;
}

static ssize_t uring_reap(struct klog_backend *b, bool wait)
{
	struct uring *u = to_uring(b);
	int err = uring_collect(u, wait);

	if (err)
		return err;
	if (u->res[UD_WRITE] < 0 || !u->datasync || (size_t)u->res[UD_WRITE] < u->len)
		return u->res[UD_WRITE];
	return u->res[UD_SYNC] < 0 ? u->res[UD_SYNC] : u->res[UD_WRITE];
}

static ssize_t uring_submit(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
			    off_t off, bool datasync)
{
	int err = uring_start(b, slot, buf_off, len, off, datasync);

	return err ? err : uring_reap(b, true);
}

static int uring_sync(struct klog_backend *b, unsigned int slot)
{
	struct uring *u = to_uring(b);
	int err = uring_check(u, slot), lost;

	if (err)
		return err;
	uring_prep_sync(u, slot);
	err = uring_push(u, 1);
	/* Taken even after a failed push: what did go must be over. */
	lost = uring_collect(u, true);
	if (err || lost)
		return err ? err : lost;
	return u->res[UD_SYNC];
}

const struct klog_backend_ops klog_backend_uring = {
	.name = "uring",
	.open = uring_open,
	.close = uring_close,
	.set_file = uring_set_file,
	.submit = uring_submit,
	.sync = uring_sync,
	.start = uring_start,
	.reap = uring_reap,
};
