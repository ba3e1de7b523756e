/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rseg.h - one segment of a log directory as libklog's reader sees it: its
 * header, a read-only mapping of the file, and the index entries read so
 * far.  Its files are open only between klog_rseg_open() and
 * klog_rseg_shut(): what it learnt (header, count, index entries) outlives
 * that, so a reader can keep a bounded number of segments open.  Internal to
 * libklog; functions return 0 or a negative errno value, and on failure
 * fill a struct klog_rseg_err.
 */
#ifndef KLOG_RSEG_H
#define KLOG_RSEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"

struct klog_ix_chunk;

struct klog_rseg {
	uint64_t first;     /* LSN of its first record */
	uint64_t count;     /* durable records: valid entries in its index */
	bool counted;       /* count was read from the index at least once */
	uint64_t salt;
	uint64_t log_id;    /* from the header */
	uint64_t seg_size;  /* from the header: no record runs past it */
	char *bad;          /* why its header is damaged (every read is -EBADMSG), or NULL */
	int dirfd;          /* the reader's, borrowed */
	int fd, idx_fd;     /* -1 while shut; idx_fd also while its index does not exist yet */
	const uint8_t *map; /* its first map_len bytes, read-only; NULL until first read */
	size_t map_len;
	struct klog_ix_chunk **ix; /* its index, by chunk; NULL: not read yet */
	size_t nchunk;      /* slots in ix */
	size_t ix_bytes;    /* memory the chunks read take */
	uint64_t used;      /* the reader's clock at its last use (for eviction) */
};

/* What went wrong, and where: the reader puts the directory and the LSNs around it. */
struct klog_rseg_err {
	char file[KLOG_SEG_NAME_MAX]; /* the segment's or the index's name */
	uint64_t off;                 /* offset in file; UINT64_MAX: none */
	char why[160];
};

/* Start s as segment first of dirfd, shut. */
void klog_rseg_init(struct klog_rseg *s, int dirfd, uint64_t first);

/*
 * Open s's files if they are shut, and read its header (a damaged header is
 * no error: s->bad says why).  klogd creates a segment's index just after
 * the segment, so if last (s is the newest segment) a missing index is an
 * empty one as long as the segment holds no record.
 * RETURN VALUE: 0; -ENOLINK if a file is missing, not a regular file or
 * cannot be read; -EMFILE, -ENFILE, -ENOMEM (out of resources); -errno of
 * open.
 */
int klog_rseg_open(struct klog_rseg *s, bool last, struct klog_rseg_err *e);

/* Close s's files and mapping, keeping what was read from them; s may be shut. */
void klog_rseg_shut(struct klog_rseg *s);

/* Shut s and free all it holds. */
void klog_rseg_close(struct klog_rseg *s);

/*
 * Set s->count from the index file as it is now (doc/format.md, "Index");
 * s must be open.  RETURN VALUE: 0; -ENOLINK as klog_rseg_open().
 */
int klog_rseg_count(struct klog_rseg *s, bool last, struct klog_rseg_err *e);

/* Free the index entries kept: they are read again when needed. */
void klog_rseg_drop_index(struct klog_rseg *s);

/*
 * Record lsn, which must be below first + count, of open s: its bytes copied
 * into buf (klog_rec_size(KLOG_MAX_RECORD) bytes), and decoded there
 * (rec->payload points into buf).
 * RETURN VALUE: 0; -EBADMSG if it is not there whole and intact; -ENOLINK if
 * the index cannot be read or shrank under it (klogd is recovering it);
 * -ENOMEM; -errno of fstat or mmap.
 */
int klog_rseg_read(struct klog_rseg *s, uint64_t lsn, uint8_t *buf, struct klog_rec *rec,
		   struct klog_rseg_err *e);

#endif /* KLOG_RSEG_H */
