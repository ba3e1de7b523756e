/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * writer_int.h - what writer.c (appending, committing, segments) and
 * recover.c (opening a log directory: its identity, strict recovery) share.
 * Not part of writer.h's API.  Functions return 0 or -errno.
 */
#ifndef KLOGD_WRITER_INT_H
#define KLOGD_WRITER_INT_H

#include "logdir.h"
#include "writer.h"

#define BLK 4096u
#define SLOT_SEG 0

/*
 * The write started last: busy until finished; failed until made again.  A
 * failed write's bytes stay in their region (staging goes on in the other)
 * and it is made again, synchronously, before anything else is written.
 */
struct started {
	bool busy, failed, datasync;
	size_t buf_off, len;
	uint64_t off;
	uint64_t end;  /* LSN after its last record */
	size_t nrec;   /* records of w->pend it makes durable (with datasync) */
};

struct klog_writer {
	struct klogd_store store; /* first: the drain's view of it (store.h) */
	struct klog_backend *b;
	uint8_t *buf;         /* the region records are staged in */
	size_t region;        /* bytes per region: the whole buffer, or half of it */
	unsigned int cur;     /* which region buf is */
	struct started io;
	int dirfd, seg_fd, idx_fd;
	struct klogd_dirid dirid;   /* the directory opened, checked at each commit */
	char seg_name[KLOG_SEG_NAME_MAX];
	char error[512];            /* klog_writer_error */
	const struct klog_writer_opts *o;       /* while opening */
	struct klog_writer_recovery *rec;       /* while opening: the fault goes here */
	bool direct;
	uint64_t seg_first, seg_size, salt;
	uint64_t log_id;      /* for new segments' headers */
	uint64_t new_seg_size; /* for segments created from now on */
	uint32_t max_record;
	uint64_t base;        /* segment offset of buf[0], a multiple of BLK */
	size_t fill;          /* bytes staged in buf */
	uint64_t next;        /* LSN of the next record */
	uint64_t durable;     /* every LSN below is durable and indexed */
	uint64_t *pend;       /* offsets of records staged since the last commit */
	size_t npend, pend_cap;
	uint64_t idx_count;   /* entries in the index file */
	uint32_t reserved;    /* payload length of the reserved record, + 1; 0: none */
};

/* Open name in the log directory, with O_DIRECT where the file system allows it. */
int writer_open_file(struct klog_writer *w, const char *name, int flags);
void writer_close_fd(int *fd);
/* Append n entries to the open index (w->pend is used as the buffer). */
int writer_write_index(struct klog_writer *w, const uint64_t *offs, size_t n);
/* Queue the offset of a record to be indexed once durable. */
int writer_push_pend(struct klog_writer *w, uint64_t off);
/* Zero the segment from end to len, durably, the staged bytes rewritten. */
int writer_zero_tail(struct klog_writer *w, uint64_t end, uint64_t len);
/* Create the segment whose first record is first (doc/format.md), and name it in klog.meta. */
int writer_new_segment(struct klog_writer *w, uint64_t first);

/*
 * Open the log in w->dirfd (recover.c): which log it is, every segment
 * checked, the last one's tail found (or a new log begun), before anything
 * is written; w->o and w->rec are set, and rec->fault says why on a refusal.
 */
int writer_recover(struct klog_writer *w, struct klog_writer_recovery *rec);

#endif
