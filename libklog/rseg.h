/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rseg.h - one segment of a log directory as libklog's reader sees it: its
 * header, a read-only mapping of the file, and the index entries read so
 * far.  Internal to libklog; functions return 0 or a negative errno value.
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
	uint64_t salt;
	uint64_t seg_size;  /* from the header: no record runs past it */
	bool bad;           /* its header is damaged: every read of it is -EBADMSG */
	int fd, idx_fd;
	const uint8_t *map; /* its first map_len bytes, read-only; NULL until first read */
	size_t map_len;
	struct klog_ix_chunk **ix; /* its index, by chunk; NULL: not read yet */
	size_t nchunk;      /* slots in ix */
	size_t ix_bytes;    /* memory the chunks read take */
	uint64_t used;      /* the reader's clock at its last read (for eviction) */
};

/*
 * Open segment first of the log directory dirfd, and its index; count is 0
 * until klog_rseg_count().  A damaged header is no error: bad is set.
 * RETURN VALUE: 0; -errno if a file does not open.
 */
int klog_rseg_open(struct klog_rseg *s, int dirfd, uint64_t first);
void klog_rseg_close(struct klog_rseg *s);

/* Set s->count from the index file as it is now (doc/format.md, "Index"). */
int klog_rseg_count(struct klog_rseg *s);

/* Free the index entries kept: they are read again when needed. */
void klog_rseg_drop_index(struct klog_rseg *s);

/*
 * Record lsn, which must be below first + count: its bytes copied into buf
 * (klog_rec_size(KLOG_MAX_RECORD) bytes), and decoded there (rec->payload
 * points into buf).
 * RETURN VALUE: 0; -EBADMSG if it is not there whole and intact; -EIO if
 * the index shrank under it; -ENOMEM; -errno of fstat or mmap.
 */
int klog_rseg_read(struct klog_rseg *s, uint64_t lsn, uint8_t *buf, struct klog_rec *rec);

#endif /* KLOG_RSEG_H */
