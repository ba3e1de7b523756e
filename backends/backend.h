/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backend.h - the storage backend klogd writes its log through: one ops
 * table per backend (uring, psync), a shared write loop that resubmits short
 * writes, and a fault injector that wraps any backend for tests.  Every
 * function returns 0 (or a byte count) or a negative errno value.
 */
#ifndef KLOG_BACKEND_H
#define KLOG_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KLOG_BACKEND_FILES 8 /* file slots */

struct klog_backend_opts {
	unsigned int queue_depth; /* io_uring entries; 0 means 64 */
	size_t buf_size;          /* bytes of the staging buffer, a multiple of 4096 */
};

struct klog_backend;

struct klog_backend_ops {
	const char *name;
	/*
	 * Set up a backend.  The uring backend fails with -ENOSYS or -EPERM
	 * where io_uring is unavailable (it submits a NOP, so a denied
	 * io_uring_enter fails here, not at the first write); callers then
	 * fall back to psync.
	 */
	int (*open)(struct klog_backend **out, const struct klog_backend_opts *opts);
	void (*close)(struct klog_backend *b);
	/* Register fd as file slot (0..KLOG_BACKEND_FILES-1); fd -1 clears it. */
	int (*set_file)(struct klog_backend *b, unsigned int slot, int fd);
	/*
	 * Write up to len bytes of the staging buffer from buf_off to the file in
	 * slot at offset off.  If all len bytes were written and datasync is set,
	 * make them durable too (fdatasync semantics).  RETURN VALUE: bytes
	 * written (fewer than len means short, and nothing was synced), or -errno.
	 */
	ssize_t (*submit)(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
			  off_t off, bool datasync);
	/* fdatasync the file in slot. */
	int (*sync)(struct klog_backend *b, unsigned int slot);
	/*
	 * Optional (NULL: klog_backend_start makes the write at once, with
	 * submit): start the write submit would make and return without
	 * waiting for it.  One at a time: no other call until it is reaped.
	 * RETURN VALUE: 0, or -errno when nothing was started.
	 */
	int (*start)(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
		     off_t off, bool datasync);
	/* The started write's result, as submit's; -EAGAIN if !wait and it is not done. */
	ssize_t (*reap)(struct klog_backend *b, bool wait);
};

/* The write klog_backend_start began: what it asked for, and (without ops->start) its result. */
struct klog_backend_io {
	bool busy;
	bool datasync;
	unsigned int slot;
	size_t buf_off, len;
	off_t off;
	ssize_t res;
};

/* Every backend's state begins with this. */
struct klog_backend {
	const struct klog_backend_ops *ops;
	void *buf;       /* staging buffer: buf_size bytes, 4096-aligned */
	size_t buf_size;
	struct klog_backend_io io; /* klog_backend_start's, for klog_backend_finish */
};

extern const struct klog_backend_ops klog_backend_psync;
extern const struct klog_backend_ops klog_backend_uring;

/* The backend called name ("uring", "psync"), or NULL. */
const struct klog_backend_ops *klog_backend_find(const char *name);

/* Allocate/free the 4096-aligned staging buffer of b (for backends' open/close). */
int klog_backend_buf_alloc(struct klog_backend *b, size_t size);
void klog_backend_buf_free(struct klog_backend *b);

/*
 * Write all len bytes (resubmitting the rest after a short write) and, if
 * datasync, make them durable.  RETURN VALUE: 0 only when every byte was
 * written and synced as asked; the first error otherwise (-EIO, -ENOSPC, ...;
 * a write that makes no progress is -EIO).  Errors are never retried.
 */
int klog_backend_write(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
		       off_t off, bool datasync);

/*
 * klog_backend_write in two halves, so the caller can go on (staging the
 * next bytes elsewhere in the buffer) while the disk works: start the write,
 * then finish it.  Backends without ops->start write at start; the result
 * waits for finish all the same.  One write at a time; the bytes from
 * buf_off must stay untouched until finish has returned something other
 * than -EAGAIN.  RETURN VALUE of start: 0 or -errno (nothing started).
 * RETURN VALUE of finish: 0 (or nothing was started) once every byte was
 * written and synced as asked, the rest of a short write written (and
 * synced) synchronously; -EAGAIN if !wait and the write is not done; the
 * first error otherwise, as klog_backend_write.  After an error the write
 * is over: nothing is retried.
 */
int klog_backend_start(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
		       off_t off, bool datasync);
int klog_backend_finish(struct klog_backend *b, bool wait);

/* Fault injection for tests: calls are counted per kind from 1. */
enum klog_fault_kind { KLOG_FAULT_SUBMIT, KLOG_FAULT_SYNC };

struct klog_fault_rule {
	enum klog_fault_kind kind;
	unsigned int nth;  /* the nth call of that kind fails ... */
	bool and_after;    /* ... and so does every later one */
	int err;           /* -EIO, -ENOSPC; 0 with short_write */
	bool short_write;  /* submit: write only half the bytes, sync nothing */
};

/*
 * Wrap the open backend inner (which the wrapper then owns and closes) so
 * that the calls the rules pick fail; *out shares inner's staging buffer.
 */
int klog_backend_fault_open(struct klog_backend **out, struct klog_backend *inner,
			    const struct klog_fault_rule *rules, unsigned int n);

/*
 * Make a fault wrapper's started writes look slow: the first look without
 * waiting (klog_backend_finish(b, false)) at each finds it not done yet.
 */
void klog_backend_fault_set_lag(struct klog_backend *b, bool lag);

/* How many submit and sync calls a fault wrapper has seen. */
void klog_backend_fault_counts(struct klog_backend *b, unsigned int *submits,
			       unsigned int *syncs);

#endif /* KLOG_BACKEND_H */
