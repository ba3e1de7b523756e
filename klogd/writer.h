/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * writer.h - appends records to the segment files of a log directory
 * (doc/format.md) through a storage backend, makes them durable in batches,
 * and indexes them.  Functions return 0 or -errno.
 */
#ifndef KLOGD_WRITER_H
#define KLOGD_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "store.h"

#define KLOG_WRITER_FILE_MAX 40

struct klog_writer_opts {
	const char *dir;
	uint64_t seg_size;    /* bytes per segment, header included */
	uint32_t max_record;  /* largest payload accepted */
	uint64_t first_lsn;   /* LSN of the first record of an empty directory */
	/*
	 * The pinned kernel log's id (0: none): the directory must be that log
	 * (or empty, and become it).  Without one, an empty directory is a new
	 * log with a new random id.
	 */
	uint64_t log_id;
	/* Every LSN below this was acknowledged durable: the directory must hold them. */
	uint64_t acked_lsn;
	/* An empty directory is refused (the pinned log made records durable elsewhere). */
	bool refuse_empty;
};

/* Why klog_writer_open refused a log: the place, and a line that says it all. */
struct klog_writer_fault {
	char file[KLOG_WRITER_FILE_MAX]; /* in the log directory; "" if not one file */
	uint64_t off;                    /* byte offset in file */
	uint64_t lsn;                    /* the LSN expected there */
	char msg[768];                   /* "" if open did not refuse */
};

/* What opening an existing log found. */
struct klog_writer_recovery {
	uint64_t segments;    /* segment files present */
	uint64_t next_lsn;    /* first LSN not on disk */
	uint64_t cut_bytes;   /* torn tail bytes that will be overwritten (0: clean) */
	uint64_t reindexed;   /* records indexed now: past the index, or whose entry was wrong */
	uint64_t log_id;      /* the log's id: the directory's, or new */
	bool created;         /* the directory was empty: a new log */
	bool direct;          /* segments are written with O_DIRECT */
	struct klog_writer_fault fault;
};

struct klog_writer;

/*
 * Open the log in opts->dir (created if missing) and find its tail: the last
 * segment is scanned, a torn tail is cut, records past the index are synced
 * and indexed.  b is an open backend whose staging buffer holds at least two
 * records of max_record bytes plus 4096 (with twice that, staging overlaps
 * writing: see klog_writer_commit_start); the writer uses its file slot 0.
 * Nothing is changed on disk before the directory is known to be opts's log
 * and whole.  RETURN VALUE: 0; else rec->fault says where and why:
 * -EBADMSG if the durable part of the log is damaged (a record the index
 * names, or one followed by a whole later record: never a torn tail);
 * -EXDEV if the directory belongs to another log than opts->log_id or its
 * segments disagree; -ENOENT if its newest segment (klog.meta) is missing;
 * -ESTALE if it ends below opts->acked_lsn or is empty with refuse_empty.
 */
int klog_writer_open(struct klog_writer **w, const struct klog_writer_opts *opts,
		     struct klog_backend *b, struct klog_writer_recovery *rec);
void klog_writer_close(struct klog_writer *w);

/*
 * Stage the record lsn (which must be the writer's next LSN) for the next
 * commit: klog_writer_reserve returns where up to max_len payload bytes go,
 * and klog_writer_append seals the len bytes put there (header, CRC);
 * klog_writer_seal does with record flags (KLOG_REC_F_TOMBSTONE: len 0).
 * Staged bytes may be written before the commit, but only a commit makes
 * them durable.  RETURN VALUE: 0; -EINVAL for another LSN, a length above
 * the reservation, an unknown flag or a tombstone with a length.
 */
void *klog_writer_reserve(struct klog_writer *w, uint32_t max_len, int *err);
int klog_writer_append(struct klog_writer *w, uint64_t lsn, uint64_t txid, uint32_t len);
int klog_writer_seal(struct klog_writer *w, uint64_t lsn, uint64_t txid, uint32_t len,
		     uint32_t flags);

/*
 * Write what is staged, make it durable (one datasync), then index it.
 * After 0, every appended LSN is durable; after an error none is claimed
 * that was not durable before the call.  -ESTALE: the segment was unlinked
 * or the directory is no longer the one opened (klog_writer_error says
 * which); the records are on a disk nobody will find them on.  Records staged stay staged after
 * an error, for the next commit.
 */
int klog_writer_commit(struct klog_writer *w);

/*
 * klog_writer_commit in two halves, so that the next records can be staged
 * while the disk writes and syncs these (with a backend that can start a
 * write, and a buffer of at least twice the minimum: it is split in two).
 * commit_start waits for the write before (any commit_start, or a reserve
 * that had to write a full buffer), then starts writing and syncing every
 * record appended so far.  commit_wait(w, wait) finishes it: 0 once those
 * records are durable and indexed (or nothing was started); -EAGAIN if
 * !wait and it is not over (a failed one is made again only when waited
 * for); -errno if it failed, and then the records stay staged and are
 * written again by the next commit_start, commit_wait(w, true) or reserve.
 * klog_writer_durable tells what is durable at any time.
 */
int klog_writer_commit_start(struct klog_writer *w);
int klog_writer_commit_wait(struct klog_writer *w, bool wait);

/* What went wrong with the last -ESTALE, as a line naming the file; "" if nothing. */
const char *klog_writer_error(const struct klog_writer *w);

/* Every LSN below this is durable. */
uint64_t klog_writer_durable(const struct klog_writer *w);
/* The LSN the next append must carry. */
uint64_t klog_writer_next(const struct klog_writer *w);

/*
 * The writer as the drain's store (store.h); closing the store closes the
 * writer, not its backend.
 */
struct klogd_store *klog_writer_store(struct klog_writer *w);

#endif
