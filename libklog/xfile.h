/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xfile.h - an export file read front to back with pread, one part at a
 * time: what the file reader (rfile.c) indexes and klog_verify_file()
 * (xverify.c) checks, so that both hold a file to the same rules: frames
 * in LSN order from the header's first, without a gap, none past its last,
 * then a trailer that counts them and ends the file.  Internal to libklog.
 */
#ifndef KLOG_XFILE_H
#define KLOG_XFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "xformat.h"

struct klog_xfile {
	int fd;
	struct klog_xhdr h;
	int hdr_err;         /* 0, or why the header does not decode (hdr_why): nothing reads */
	char hdr_why[160];
	uint8_t *buf;        /* one frame of the largest size */
};

/* What a step found at an offset. */
enum klog_xkind {
	KLOG_XK_FRAME,   /* the frame of the LSN expected, whole */
	KLOG_XK_TRAILER, /* the trailer, agreeing with the frames and the header, at the end */
	KLOG_XK_END,     /* the end of the file, with no trailer: cut short, or still written */
	KLOG_XK_BAD,     /* anything else: err and why */
};

struct klog_xstep {
	enum klog_xkind kind;
	uint64_t next;       /* the offset after it: of the next part (FRAME, or a whole BAD one) */
	struct klog_rec rec; /* FRAME, or a whole frame of the wrong LSN: payload in the buffer */
	int err;             /* BAD: -EBADMSG damage; -ENOLINK a gap (LSNs missing) */
	bool whole;          /* BAD: a whole frame of the wrong LSN (a gap): the walk may go on */
	bool final;          /* BAD: nothing can follow (cut short at the end, trailer, LSN past) */
	uint64_t off;        /* BAD: where the problem is */
	char why[192];       /* BAD, END: what is wrong */
};

/*
 * Open path and decode its header; a damaged header is no error here
 * (f->hdr_err says what).  A FIFO or directory is refused: a reader must
 * not block or read a non-file.
 * RETURN VALUE: 0; -ENOENT; -EINVAL if not a regular file; -ENOMEM;
 * -errno of open or read.
 */
int klog_xfile_open(struct klog_xfile *f, const char *path);
void klog_xfile_close(struct klog_xfile *f);

/*
 * What is at off, where the frame of LSN expect should be.
 * RETURN VALUE: 0 with s filled; -errno of fstat or pread.
 */
int klog_xfile_step(struct klog_xfile *f, uint64_t off, uint64_t expect, struct klog_xstep *s);

/*
 * The first 8-byte aligned offset after off where a whole frame (of any
 * LSN) or a good trailer starts: where a check goes on after a damaged
 * frame whose length cannot be trusted.
 * RETURN VALUE: 0 with *found; -ENOENT if there is none; -errno.
 */
int klog_xfile_resync(struct klog_xfile *f, uint64_t off, uint64_t *found);

#endif /* KLOG_XFILE_H */
