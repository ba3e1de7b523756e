// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the storage backends (psync, uring) on real files: O_DIRECT on
 * the ext4 of /tmp and buffered on a tmpfs mounted here; write, sync and read
 * back, file slots, the write loop over injected faults, and a real ENOSPC;
 * writes started and finished later (klog_backend_start/finish), with the
 * buffer's other half staged meanwhile, short, failing and lagging; the uring
 * backend refusing to open where seccomp denies io_uring_setup or _enter.
 * Loop tests run every case with each backend (_i % 2) and, where both apply,
 * on each file system (_i / 2).  Needs root, for the mounts.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "check_run.h"
#include "scratch.h"
#include "seccomp.h"

#define BLK 4096

static const struct klog_backend_ops *const backends[] = {
	&klog_backend_psync,
	&klog_backend_uring,
};

enum fs { FS_EXT4, FS_TMPFS };

struct file {
	int fd;
	char path[PATH_MAX];
};

static const struct klog_backend_ops *backend_of(int i)
{
	return backends[i % 2];
}

static enum fs fs_of(int i)
{
	return (enum fs)(i / 2);
}

/* Once, in the runner process: a fresh directory on the ext4 of /tmp and a tmpfs in it. */
static void setup(void)
{
	scratch_setup("/tmp/klog-test-backend", "64m");
}

/* A new empty file in dir; O_DIRECT if direct. */
static void new_file_in(struct file *f, const char *dir, bool direct)
{
	static unsigned int n;

	snprintf(f->path, sizeof(f->path), "%s/f-%d-%u", dir, (int)getpid(), n++);
	f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | (direct ? O_DIRECT : 0), 0600);
	ck_assert_msg(f->fd >= 0, "open %s: %s", f->path, strerror(errno));
}

/*
 * The writer opens segments with O_DIRECT and goes without where that fails.
 * tmpfs accepts O_DIRECT since Linux 6.6, so its files are opened buffered
 * here outright: the path a file system without O_DIRECT takes.
 */
static void new_file(struct file *f, enum fs fs)
{
	new_file_in(f, fs == FS_TMPFS ? scratch_tmpfs() : scratch_dir(), fs == FS_EXT4);
}

static struct klog_backend *open_backend(const struct klog_backend_ops *ops, size_t blocks)
{
	/* A small ring, so that the many-writes case wraps it many times. */
	struct klog_backend_opts opts = { .queue_depth = 4, .buf_size = blocks * BLK };
	struct klog_backend *b = NULL;

	ck_assert_int_eq(ops->open(&b, &opts), 0);
	ck_assert_ptr_eq(b->ops, ops);
	ck_assert_ptr_nonnull(b->buf);
	ck_assert_uint_eq(b->buf_size, opts.buf_size);
	return b;
}

static struct klog_backend *open_fault(const struct klog_backend_ops *ops, size_t blocks,
				       const struct klog_fault_rule *rules, unsigned int n)
{
	struct klog_backend *in = open_backend(ops, blocks), *f = NULL;

	ck_assert_int_eq(klog_backend_fault_open(&f, in, rules, n), 0);
	ck_assert_ptr_eq(f->buf, in->buf);
	ck_assert_uint_eq(f->buf_size, in->buf_size);
	return f;
}

static void assert_counts(struct klog_backend *f, unsigned int submits, unsigned int syncs)
{
	unsigned int su, sy;

	klog_backend_fault_counts(f, &su, &sy);
	ck_assert_uint_eq(su, submits);
	ck_assert_uint_eq(sy, syncs);
}

/*
 * Fill len bytes of the staging buffer from buf_off with a pattern that
 * differs by seed and block, and put the same bytes at off of image, the
 * file as it should be.
 */
static void stage(struct klog_backend *b, uint8_t *image, size_t buf_off, size_t off, size_t len,
		  unsigned int seed)
{
	uint8_t *p = (uint8_t *)b->buf + buf_off;

	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)(seed * 97 + k * 31 + (k >> 12));
	memcpy(image + off, p, len);
}

/* path holds exactly the len bytes of want. */
static void check_file(const char *path, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len + 1);
	int fd = open(path, O_RDONLY);

	ck_assert_ptr_nonnull(got);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, got, len + 1, 0), (ssize_t)len);
	ck_assert_mem_eq(got, want, len);
	close(fd);
	free(got);
}

static off_t file_size(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return st.st_size;
}

START_TEST(find_names)
{
	ck_assert_ptr_eq(klog_backend_find("uring"), &klog_backend_uring);
	ck_assert_ptr_eq(klog_backend_find("psync"), &klog_backend_psync);
	ck_assert_str_eq(klog_backend_uring.name, "uring");
	ck_assert_str_eq(klog_backend_psync.name, "psync");
	ck_assert_ptr_null(klog_backend_find("fault"));
	ck_assert_ptr_null(klog_backend_find("URING"));
	ck_assert_ptr_null(klog_backend_find(""));
	ck_assert_ptr_null(klog_backend_find(NULL));
}
END_TEST

START_TEST(buf_sizes)
{
	static const size_t bad[] = { 0, 1, 512, BLK - 1, BLK + 1, 2 * BLK - 512 };
	struct klog_backend b = { 0 };

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		ck_assert_int_eq(klog_backend_buf_alloc(&b, bad[k]), -EINVAL);
		ck_assert_ptr_null(b.buf);
	}
	ck_assert_int_eq(klog_backend_buf_alloc(&b, 3 * BLK), 0);
	ck_assert_uint_eq((uintptr_t)b.buf % BLK, 0);
	ck_assert_uint_eq(b.buf_size, 3 * BLK);
	klog_backend_buf_free(&b);
	ck_assert_ptr_null(b.buf);
	ck_assert_uint_eq(b.buf_size, 0);
	klog_backend_buf_free(&b);
}
END_TEST

START_TEST(refuses)
{
	const struct klog_backend_ops *ops = backend_of(_i);
	struct klog_backend_opts opts = { .buf_size = BLK - 1 };
	struct klog_backend *b = NULL;
	struct file f;
	int closed;

	ck_assert_int_eq(ops->open(&b, &opts), -EINVAL);
	opts.buf_size = 0;
	ck_assert_int_eq(ops->open(&b, &opts), -EINVAL);
	b = open_backend(ops, 2);
	closed = open("/dev/null", O_RDONLY); /* a number no fd has, once closed */
	ck_assert_int_ge(closed, 0);
	close(closed);
	ck_assert_int_eq(b->ops->set_file(b, KLOG_BACKEND_FILES, 0), -EINVAL);
	ck_assert_int_eq(b->ops->set_file(b, 0, -2), -EBADF);
	ck_assert_int_eq(b->ops->set_file(b, 0, closed), -EBADF);
	ck_assert_int_eq(b->ops->submit(b, 0, 0, BLK, 0, true), -EBADF);
	ck_assert_int_eq(b->ops->sync(b, 0), -EBADF);

	new_file(&f, FS_EXT4);
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	ck_assert_int_eq(b->ops->submit(b, KLOG_BACKEND_FILES, 0, BLK, 0, true), -EINVAL);
	ck_assert_int_eq(b->ops->submit(b, 0, 2 * BLK, BLK, 0, true), -EINVAL);
	ck_assert_int_eq(b->ops->submit(b, 0, BLK, 2 * BLK, 0, true), -EINVAL);
	ck_assert_int_eq(b->ops->submit(b, 0, 0, 3 * BLK, 0, true), -EINVAL);
	ck_assert_int_eq(file_size(f.fd), 0);
	b->ops->close(b);
	close(f.fd);
}
END_TEST

/*
 * Where a seccomp profile lets io_uring_setup through but denies
 * io_uring_enter (_i: which), the uring backend must fail to open, with
 * -EPERM, so that klogd falls back to psync; not open and fail at the first
 * write.  In a child: the filter cannot be lifted.
 */
START_TEST(uring_denied)
{
	static const int calls[] = { __NR_io_uring_setup, __NR_io_uring_enter };
	struct klog_backend_opts opts = { .buf_size = BLK };
	struct klog_backend *b = NULL;
	pid_t child = fork();
	int status;

	ck_assert_int_ge(child, 0);
	if (!child) {
		if (seccomp_deny_syscall(calls[_i]))
			_exit(2);
		if (klog_backend_uring.open(&b, &opts) != -EPERM)
			_exit(1);
		/* psync needs neither */
		_exit(klog_backend_psync.open(&b, &opts) ? 3 : 0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "denied %s: child status %#x (1: open did not fail with -EPERM)",
		      _i ? "io_uring_enter" : "io_uring_setup", status);
}
END_TEST

START_TEST(read_back)
{
	struct klog_backend *b = open_backend(backend_of(_i), 4);
	uint8_t image[4 * BLK];
	struct file f;

	new_file(&f, fs_of(_i));
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	stage(b, image, 0, 0, sizeof(image), 1);
	ck_assert_int_eq(b->ops->submit(b, 0, 0, sizeof(image), 0, true), (ssize_t)sizeof(image));
	check_file(f.path, image, sizeof(image));

	/* Overwritten in place, through the write loop this time. */
	stage(b, image, 0, 0, sizeof(image), 2);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, sizeof(image), 0, true), 0);
	check_file(f.path, image, sizeof(image));
	b->ops->close(b);
	close(f.fd);
}
END_TEST

START_TEST(offsets)
{
	/* {buffer block, file block, blocks}: out of order, overlapping, past a hole. */
	static const size_t w[][3] = { { 0, 5, 1 }, { 1, 0, 2 }, { 3, 7, 1 }, { 0, 1, 3 } };
	struct klog_backend *b = open_backend(backend_of(_i), 4);
	uint8_t image[8 * BLK] = { 0 };
	struct file f;

	new_file(&f, fs_of(_i));
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	for (unsigned int k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
		stage(b, image, w[k][0] * BLK, w[k][1] * BLK, w[k][2] * BLK, 10 + k);
		ck_assert_int_eq(klog_backend_write(b, 0, w[k][0] * BLK, w[k][2] * BLK,
						    (off_t)(w[k][1] * BLK), k % 2), 0);
	}
	ck_assert_int_eq(b->ops->sync(b, 0), 0);
	check_file(f.path, image, sizeof(image));
	b->ops->close(b);
	close(f.fd);
}
END_TEST

START_TEST(many_writes)
{
	enum { N = 300 };
	struct klog_backend *b = open_backend(backend_of(_i), 2);
	uint8_t *image = malloc(N * BLK);
	struct file f;

	ck_assert_ptr_nonnull(image);
	new_file(&f, fs_of(_i));
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	for (unsigned int k = 0; k < N; k++) {
		size_t buf_off = (k % 2) * BLK;

		stage(b, image, buf_off, (size_t)k * BLK, BLK, k);
		ck_assert_int_eq(klog_backend_write(b, 0, buf_off, BLK, (off_t)k * BLK,
						    k % 50 == 49), 0);
	}
	check_file(f.path, image, N * BLK);
	b->ops->close(b);
	close(f.fd);
	free(image);
}
END_TEST

START_TEST(two_slots)
{
	const unsigned int last = KLOG_BACKEND_FILES - 1;
	struct klog_backend *b = open_backend(backend_of(_i), 1);
	uint8_t a_img[3 * BLK] = { 0 }, b_img[2 * BLK] = { 0 }, c_img[BLK];
	struct file fa, fb, fc;

	new_file(&fa, fs_of(_i));
	new_file(&fb, fs_of(_i));
	new_file(&fc, fs_of(_i));
	ck_assert_int_eq(b->ops->set_file(b, 0, fa.fd), 0);
	ck_assert_int_eq(b->ops->set_file(b, last, fb.fd), 0);
	stage(b, a_img, 0, 0, BLK, 1);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, BLK, 0, true), 0);
	stage(b, b_img, 0, 0, BLK, 2);
	ck_assert_int_eq(klog_backend_write(b, last, 0, BLK, 0, true), 0);

	/* A cleared slot takes no I/O; the other one is untouched. */
	ck_assert_int_eq(b->ops->set_file(b, 0, -1), 0);
	ck_assert_int_eq(b->ops->submit(b, 0, 0, BLK, 0, false), -EBADF);
	ck_assert_int_eq(b->ops->sync(b, 0), -EBADF);
	stage(b, b_img, 0, BLK, BLK, 3);
	ck_assert_int_eq(klog_backend_write(b, last, 0, BLK, BLK, true), 0);

	/* A slot reused, and one moved to another file without clearing it. */
	ck_assert_int_eq(b->ops->set_file(b, 0, fc.fd), 0);
	stage(b, c_img, 0, 0, BLK, 4);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, BLK, 0, true), 0);
	ck_assert_int_eq(b->ops->set_file(b, last, fa.fd), 0);
	stage(b, a_img, 0, 2 * BLK, BLK, 5);
	ck_assert_int_eq(klog_backend_write(b, last, 0, BLK, 2 * BLK, true), 0);

	check_file(fa.path, a_img, sizeof(a_img));
	check_file(fb.path, b_img, sizeof(b_img));
	check_file(fc.path, c_img, sizeof(c_img));
	b->ops->close(b);
	close(fa.fd);
	close(fb.fd);
	close(fc.fd);
}
END_TEST

START_TEST(sync_alone)
{
	struct klog_backend *b = open_fault(backend_of(_i), 2, NULL, 0);
	uint8_t image[2 * BLK];
	struct file f;

	new_file(&f, fs_of(_i));
	ck_assert_int_eq(b->ops->set_file(b, 3, f.fd), 0);
	stage(b, image, 0, 0, sizeof(image), 7);
	ck_assert_int_eq(klog_backend_write(b, 3, 0, sizeof(image), 0, false), 0);
	assert_counts(b, 1, 0);
	ck_assert_int_eq(b->ops->sync(b, 3), 0);
	assert_counts(b, 1, 1);
	/* Nothing to write but a sync asked for: the sync alone. */
	ck_assert_int_eq(klog_backend_write(b, 3, 0, 0, 0, true), 0);
	assert_counts(b, 1, 2);
	check_file(f.path, image, sizeof(image));
	b->ops->close(b);
	close(f.fd);
}
END_TEST

START_TEST(short_write)
{
	const struct klog_fault_rule rule = { KLOG_FAULT_SUBMIT, 1, false, 0, true };
	struct klog_backend *b = open_fault(backend_of(_i), 4, &rule, 1);
	uint8_t image[4 * BLK];
	struct file f;

	new_file(&f, fs_of(_i));
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	stage(b, image, 0, 0, sizeof(image), 3);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, sizeof(image), 0, true), 0);
	/* Half, then the rest, which alone is synced. */
	assert_counts(b, 2, 1);
	check_file(f.path, image, sizeof(image));
	b->ops->close(b);
	close(f.fd);
}
END_TEST

/* Every submit halved, down to the last byte: buffered files only (tmpfs). */
START_TEST(short_every_time)
{
	const struct klog_fault_rule rule = { KLOG_FAULT_SUBMIT, 1, true, 0, true };
	struct klog_backend *b = open_fault(backend_of(_i), 1, &rule, 1);
	uint8_t image[BLK];
	struct file f;

	new_file(&f, FS_TMPFS);
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	stage(b, image, 0, 0, sizeof(image), 4);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, sizeof(image), 0, true), 0);
	/* 2048, 1024, ... 1, then the last byte, which cannot be cut. */
	assert_counts(b, 13, 1);
	check_file(f.path, image, sizeof(image));
	b->ops->close(b);
	close(f.fd);
}
END_TEST

START_TEST(eio_stops)
{
	const struct klog_fault_rule rules[] = {
		{ KLOG_FAULT_SUBMIT, 1, false, 0, true },
		{ KLOG_FAULT_SUBMIT, 2, false, -EIO, false },
	};
	struct klog_backend *b = open_fault(backend_of(_i), 4, rules, 2);
	uint8_t image[4 * BLK];
	struct file f;

	new_file(&f, FS_EXT4);
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	stage(b, image, 0, 0, sizeof(image), 5);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, sizeof(image), 0, true), -EIO);
	/* No third submit for the rest, no sync. */
	assert_counts(b, 2, 0);
	check_file(f.path, image, 2 * BLK);
	b->ops->close(b);
	close(f.fd);
}
END_TEST

START_TEST(enospc_on_sync)
{
	const struct klog_fault_rule rule = { KLOG_FAULT_SYNC, 1, false, -ENOSPC, false };
	struct klog_backend *b = open_fault(backend_of(_i), 2, &rule, 1);
	uint8_t image[2 * BLK];
	struct file f;

	new_file(&f, FS_EXT4);
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	stage(b, image, 0, 0, sizeof(image), 6);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, sizeof(image), 0, true), -ENOSPC);
	assert_counts(b, 1, 1);
	/* Only the first sync was picked. */
	ck_assert_int_eq(klog_backend_write(b, 0, 0, sizeof(image), 0, true), 0);
	assert_counts(b, 2, 2);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, sizeof(image), 0, false), 0);
	assert_counts(b, 3, 2);
	check_file(f.path, image, sizeof(image));
	b->ops->close(b);
	close(f.fd);
}
END_TEST

START_TEST(and_after)
{
	const struct klog_fault_rule rules[] = {
		{ KLOG_FAULT_SUBMIT, 2, true, -EIO, false },
		{ KLOG_FAULT_SYNC, 1, true, -ENOSPC, false },
	};
	struct klog_backend *b = open_fault(backend_of(_i), 1, rules, 2);
	uint8_t image[BLK];
	struct file f;

	new_file(&f, FS_EXT4);
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	stage(b, image, 0, 0, BLK, 8);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, BLK, 0, false), 0);
	for (unsigned int k = 1; k <= 3; k++) {
		ck_assert_int_eq(klog_backend_write(b, 0, 0, BLK, (off_t)k * BLK, false), -EIO);
		ck_assert_int_eq(b->ops->sync(b, 0), -ENOSPC);
		assert_counts(b, 1 + k, k);
	}
	check_file(f.path, image, BLK);
	b->ops->close(b);
	close(f.fd);
}
END_TEST

/* A full file system: short first, then -ENOSPC, never 0 or endless short writes. */
START_TEST(real_enospc)
{
	struct klog_backend *b = open_backend(backend_of(_i), 32);
	char dir[PATH_MAX];
	struct file f;
	ssize_t n;

	scratch_mount_tmpfs(dir, "64k", "tiny-%d", _i);
	new_file_in(&f, dir, false);
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	memset(b->buf, 0xa5, b->buf_size);
	/* What fits, unsynced: uring's linked fsync is cancelled. */
	n = b->ops->submit(b, 0, 0, b->buf_size, 0, true);
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, 64 * 1024);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, b->buf_size, 0, true), -ENOSPC);
	ck_assert_int_eq(file_size(f.fd), n);
	b->ops->close(b);
	close(f.fd);
	ck_assert_int_eq(umount2(dir, MNT_DETACH), 0);
}
END_TEST

/*
 * Started writes, one at a time: each half of the buffer in turn, the other
 * staged while one is out (uring: really in flight); looked at without
 * waiting until done.  A second start while one is out is refused; an empty
 * slot fails at start (uring) or at finish (psync writes at start).
 */
START_TEST(start_finish)
{
	struct klog_backend *b = open_backend(backend_of(_i), 8);
	uint8_t image[16 * BLK];
	struct file f;
	int err;

	new_file(&f, fs_of(_i));
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	ck_assert_int_eq(klog_backend_finish(b, false), 0); /* nothing started */
	if (!(err = klog_backend_start(b, 1, 0, BLK, 0, false)))
		err = klog_backend_finish(b, true);
	ck_assert_int_eq(err, -EBADF);
	for (unsigned int k = 0; k < 4; k++) {
		size_t half = (k % 2) * 4 * BLK;

		stage(b, image, half, k * 4 * BLK, 4 * BLK, 10 + k);
		ck_assert_int_eq(klog_backend_start(b, 0, half, 4 * BLK, (off_t)(k * 4 * BLK),
						    k % 2), 0);
		ck_assert_int_eq(klog_backend_start(b, 0, 4 * BLK - half, BLK, 0, false), -EBUSY);
		for (int guard = 0; (err = klog_backend_finish(b, false)) == -EAGAIN; guard++)
			ck_assert_int_lt(guard, 100000000);
		ck_assert_int_eq(err, 0);
		ck_assert_int_eq(klog_backend_finish(b, true), 0); /* over already */
	}
	/* A datasync alone, started. */
	ck_assert_int_eq(klog_backend_start(b, 0, 0, 0, 0, true), 0);
	ck_assert_int_eq(klog_backend_finish(b, true), 0);
	check_file(f.path, image, sizeof(image));
	b->ops->close(b);
	close(f.fd);
}
END_TEST

/*
 * Through the fault wrapper: a short start is finished synchronously (the
 * rest written, then synced); with lag the first look finds it not done; an
 * error comes out of finish, once.
 */
START_TEST(start_faults)
{
	const struct klog_fault_rule rules[] = {
		{ KLOG_FAULT_SUBMIT, 1, false, 0, true },
		{ KLOG_FAULT_SUBMIT, 3, false, -EIO, false },
	};
	struct klog_backend *b = open_fault(backend_of(_i), 4, rules, 2);
	uint8_t image[4 * BLK];
	struct file f;

	new_file(&f, FS_EXT4);
	ck_assert_int_eq(b->ops->set_file(b, 0, f.fd), 0);
	stage(b, image, 0, 0, sizeof(image), 20);
	klog_backend_fault_set_lag(b, true);
	ck_assert_int_eq(klog_backend_start(b, 0, 0, sizeof(image), 0, true), 0);
	ck_assert_int_eq(klog_backend_finish(b, false), -EAGAIN);
	ck_assert_int_eq(klog_backend_finish(b, false), 0);
	/* Half, then the rest, which alone is synced. */
	assert_counts(b, 2, 1);
	check_file(f.path, image, sizeof(image));
	ck_assert_int_eq(klog_backend_start(b, 0, 0, BLK, 0, true), 0);
	ck_assert_int_eq(klog_backend_finish(b, true), -EIO);
	ck_assert_int_eq(klog_backend_finish(b, true), 0); /* the write is over */
	assert_counts(b, 3, 1);
	b->ops->close(b);
	close(f.fd);
}
END_TEST

/* A real failing fdatasync: /dev/null takes writes but has no fsync. */
START_TEST(sync_error)
{
	struct klog_backend *b = open_backend(backend_of(_i), 1);
	int fd = open("/dev/null", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(b->ops->set_file(b, 0, fd), 0);
	ck_assert_int_eq(b->ops->submit(b, 0, 0, BLK, 0, false), BLK);
	ck_assert_int_eq(b->ops->submit(b, 0, 0, BLK, 0, true), -EINVAL);
	ck_assert_int_eq(b->ops->sync(b, 0), -EINVAL);
	ck_assert_int_eq(klog_backend_write(b, 0, 0, BLK, 0, true), -EINVAL);
	b->ops->close(b);
	close(fd);
}
END_TEST

START_TEST(fault_rules)
{
	static const struct klog_fault_rule bad[] = {
		{ KLOG_FAULT_SUBMIT, 0, false, -EIO, false },   /* calls count from 1 */
		{ KLOG_FAULT_SUBMIT, 1, false, 0, false },      /* neither error nor short */
		{ KLOG_FAULT_SUBMIT, 1, false, EIO, false },    /* not -errno */
		{ KLOG_FAULT_SYNC, 1, false, 0, true },         /* a sync is never short */
		{ KLOG_FAULT_SUBMIT, 1, false, -EIO, true },    /* short or error, not both */
		{ (enum klog_fault_kind)2, 1, false, -EIO, false },
	};
	struct klog_backend *in = open_backend(&klog_backend_psync, 1), *f = NULL;
	unsigned int submits = 1, syncs = 1;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		ck_assert_int_eq(klog_backend_fault_open(&f, in, &bad[k], 1), -EINVAL);
	ck_assert_int_eq(klog_backend_fault_open(&f, in, NULL, 1), -EINVAL);
	ck_assert_int_eq(klog_backend_fault_open(&f, NULL, NULL, 0), -EINVAL);
	ck_assert_ptr_null(f);
	/* Not a wrapper: nothing counted. */
	klog_backend_fault_counts(in, &submits, &syncs);
	ck_assert_uint_eq(submits, 0);
	ck_assert_uint_eq(syncs, 0);
	in->ops->close(in);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("backend");
	TCase *tc = tcase_create("backend");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_add_test(tc, find_names);
	tcase_add_test(tc, buf_sizes);
	tcase_add_loop_test(tc, refuses, 0, 2);
	tcase_add_loop_test(tc, uring_denied, 0, 2);
	tcase_add_loop_test(tc, read_back, 0, 4);
	tcase_add_loop_test(tc, offsets, 0, 4);
	tcase_add_loop_test(tc, many_writes, 0, 4);
	tcase_add_loop_test(tc, two_slots, 0, 4);
	tcase_add_loop_test(tc, sync_alone, 0, 4);
	tcase_add_loop_test(tc, short_write, 0, 4);
	tcase_add_loop_test(tc, short_every_time, 0, 2);
	tcase_add_loop_test(tc, eio_stops, 0, 2);
	tcase_add_loop_test(tc, enospc_on_sync, 0, 2);
	tcase_add_loop_test(tc, and_after, 0, 2);
	tcase_add_loop_test(tc, real_enospc, 0, 2);
	tcase_add_loop_test(tc, sync_error, 0, 2);
	tcase_add_loop_test(tc, start_finish, 0, 4);
	tcase_add_loop_test(tc, start_faults, 0, 2);
	tcase_add_test(tc, fault_rules);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
