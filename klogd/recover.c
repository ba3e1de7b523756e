// SPDX-License-Identifier: GPL-2.0-only
/*
 * recover.c - opening a log directory (see writer_int.h, doc/format.md):
 * which log it is (klog.meta, the id in every segment header, the pinned
 * kernel log's id and durable end), every segment walked with its index
 * checked against the records, damage refused with its place, a real torn
 * tail cut.  Nothing is written before the directory is known good.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "explain.h"
#include "format.h"
#include "log.h"
#include "segdir.h"
#include "segtrim.h"
#include "writer_int.h"

/* Map the whole of file name read-only (for recovery); *len its size. */
static int map_file(struct klog_writer *w, const char *name, void **p, size_t *len)
{
	int fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;

	*p = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	*len = st.st_size;
	if (*len)
		*p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (*p == MAP_FAILED) {
		*p = NULL;
		return -errno;
	}
	return 0;
}

/* A segment and its index as found on disk. */
struct seg_view {
	uint64_t first;
	char name[KLOG_SEG_NAME_MAX];
	void *seg, *ix;
	size_t seg_len, idx_len;
	size_t nidx;             /* index entries that name the right records */
	struct klog_seg_hdr h;
	struct klog_scan scan;
};

static void view_close(struct seg_view *v)
{
	if (v->seg)
		munmap(v->seg, v->seg_len);
	if (v->ix)
		munmap(v->ix, v->idx_len);
}

/* Record the refusal in the recovery's fault: file (may be ""), offset, LSN, the line. */
static int __attribute__((format(printf, 6, 7)))
refuse(struct klog_writer *w, int err, const char *file, uint64_t off, uint64_t lsn,
       const char *fmt, ...)
{
	struct klog_writer_fault *f = &w->rec->fault;
	va_list ap;

	snprintf(f->file, sizeof(f->file), "%s", file);
	f->off = off;
	f->lsn = lsn;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return err;
}

/* The record v's scan stopped at does not decode: say why, where, and what follows. */
static int refuse_damage(struct klog_writer *w, const struct seg_view *v, const char *what)
{
	size_t off = v->scan.end, later_off;
	uint64_t lsn = v->scan.next_lsn, later;
	struct klog_rec rec;
	char why[128], after[128] = "";

	klog_rec_explain((char *)v->seg + off, v->seg_len - off, v->h.salt, lsn, w->max_record,
			 &rec, why, sizeof(why));
	if (!klog_seg_find_later(v->seg, v->seg_len, off, lsn - 1, w->max_record, &later_off,
				 &later))
		snprintf(after, sizeof(after), "; a whole record with LSN %llu follows at offset %zu",
			 (unsigned long long)later, later_off);
	return refuse(w, -EBADMSG, v->name, off, lsn, "%s/%s: offset %zu, LSN %llu: %s%s: %s",
		      w->o->dir, v->name, off, (unsigned long long)lsn, why, after, what);
}

/*
 * The index is a hint: keep only the entries that name the record the walk
 * from the header finds at their position, so a shifted, swapped or torn
 * entry is rebuilt from the records and never leads a reader astray.
 */
static void check_index(struct seg_view *v)
{
	size_t off = KLOG_SEG_HDR_SIZE;

	for (size_t i = 0; i < v->nidx; i++) {
		uint64_t ent;
		uint32_t len;

		memcpy(&ent, (char *)v->ix + i * 8, 8);
		if (le64toh(ent) != off) {
			v->nidx = i;
			return;
		}
		/* The scan decoded every record up to here: its length field holds. */
		memcpy(&len, (char *)v->seg + off + offsetof(struct klog_rec_hdr, len), 4);
		off += klog_rec_size(le32toh(len));
	}
}

/*
 * Map segment first and its index, and find where its records end.  The
 * index's entries name durable records, which must all be whole; past them
 * the first record that is not whole ends the segment only if nothing of
 * the segment follows it (a torn tail is the end of what was written;
 * damage with whole records after it is not).  The index ends at a partial
 * entry or at one that does not grow (a zeroed tail), and keeps only
 * entries that agree with the records.
 */
static int view_open(struct klog_writer *w, uint64_t first, struct seg_view *v)
{
	char idx[KLOG_SEG_NAME_MAX];
	size_t prev = 0, later_off;
	uint64_t later;
	int err;

	*v = (struct seg_view){ .first = first };
	klog_seg_name(v->name, first, false);
	if ((err = map_file(w, v->name, &v->seg, &v->seg_len)))
		return refuse(w, err, v->name, 0, first, "%s/%s: %s", w->o->dir, v->name,
			      strerror(-err));
	klog_seg_name(idx, first, true);
	err = map_file(w, idx, &v->ix, &v->idx_len);
	if (err && err != -ENOENT)
		return err;
	for (; v->nidx < v->idx_len / 8; v->nidx++) {
		uint64_t off;

		memcpy(&off, (char *)v->ix + v->nidx * 8, 8);
		off = le64toh(off);
		if (off <= prev || off < KLOG_SEG_HDR_SIZE)
			break;
		prev = off;
	}
	if ((err = klog_seg_hdr_decode(v->seg, v->seg_len, &v->h)) || v->h.first_lsn != first)
		return refuse(w, err ? err : -EBADMSG, v->name, 0, first,
			      "%s/%s: the segment header is damaged or names another first LSN",
			      w->o->dir, v->name);
	if (!w->log_id)
		w->log_id = v->h.log_id;
	if (v->h.log_id != w->log_id)
		return refuse(w, -EXDEV, v->name, 0, first,
			      "%s/%s belongs to log %016llx, but the log is %016llx: segments of "
			      "another log in the directory; refusing", w->o->dir, v->name,
			      (unsigned long long)v->h.log_id, (unsigned long long)w->log_id);
	klog_seg_scan(v->seg, v->seg_len, 0, w->max_record, &v->scan);
	if (v->nidx > v->scan.next_lsn - first)
		return refuse_damage(w, v, "a record the index names as durable is damaged; "
				     "refusing to continue");
	check_index(v);
	/* Any LSN from the one that failed on: a whole one there means more was written. */
	if (v->scan.cut && !klog_seg_find_later(v->seg, v->seg_len, v->scan.end,
						v->scan.next_lsn - 1, w->max_record, &later_off,
						&later))
		return refuse_damage(w, v, "damage before the end of the segment, not a torn "
				     "tail; refusing to cut acknowledged records");
	return 0;
}

/* Queue index entries for the records of v past its valid index prefix. */
static int queue_unindexed(struct klog_writer *w, const struct seg_view *v)
{
	uint64_t nrec = 0;
	int err;

	for (size_t off = KLOG_SEG_HDR_SIZE; off < v->scan.end; nrec++) {
		struct klog_rec r;

		if ((err = klog_rec_decode((char *)v->seg + off, v->scan.end - off, v->h.salt,
					   v->first + nrec, w->max_record, &r)))
			return err;
		if (nrec >= v->nidx && (err = writer_push_pend(w, off)))
			return err;
		off += klog_rec_size(r.len);
	}
	return 0;
}

/* Open v's index, cut it to its entries that hold and queue the records after them. */
static int reindex(struct klog_writer *w, const struct seg_view *v)
{
	char name[KLOG_SEG_NAME_MAX];

	klog_seg_name(name, v->first, true);
	w->idx_fd = openat(w->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (w->idx_fd < 0)
		return -errno;
	w->idx_count = v->nidx;
	if (ftruncate(w->idx_fd, (off_t)(v->nidx * 8)))
		return -errno;
	return queue_unindexed(w, v);
}

/*
 * A sealed (not last) segment whose index lost entries in a crash, or has
 * entries that do not name its records: every one of its records was
 * durable before the next segment was created, so they must all be there;
 * index them again.
 */
static int repair_sealed(struct klog_writer *w, uint64_t first, uint64_t next_first)
{
	struct seg_view v;
	int err = view_open(w, first, &v);

	if (err || v.nidx >= next_first - first)
		goto out;
	if (v.scan.next_lsn != next_first) {
		/* Records the next segment's name says exist are missing. */
		err = refuse_damage(w, &v, "a sealed segment ends before the next one starts; "
				    "refusing to continue");
		goto out;
	}
	if (!(err = reindex(w, &v)))
		err = writer_write_index(w, w->pend, w->npend);
	if (!err && fsync(w->idx_fd))
		err = -errno;
	w->rec->reindexed += w->npend;
	w->npend = 0;
	writer_close_fd(&w->idx_fd);
out:
	view_close(&v);
	return err;
}

/*
 * Find the tail of the last segment (see view_open), make what is there
 * durable, index the records past the index, zero a torn tail, and stage the
 * last partial block for the next write.
 */
static int recover(struct klog_writer *w, uint64_t first, struct klog_writer_recovery *rec)
{
	struct seg_view v;
	int err = view_open(w, first, &v);

	if (err)
		goto out;
	/* Before anything is cut: acknowledged records must all be here. */
	if (v.scan.next_lsn < w->o->acked_lsn) {
		err = refuse(w, -ESTALE, v.name, v.scan.end, v.scan.next_lsn,
			     "%s ends at LSN %llu (%s offset %zu), but the kernel log %016llx made "
			     "LSNs below %llu durable: acknowledged records are missing from this "
			     "directory (wrong, truncated or restored --dir?); refusing",
			     w->o->dir, (unsigned long long)v.scan.next_lsn, v.name, v.scan.end,
			     (unsigned long long)w->o->log_id,
			     (unsigned long long)w->o->acked_lsn);
		goto out;
	}
	w->salt = v.h.salt;
	w->seg_size = v.h.seg_size;
	w->seg_first = first;
	memcpy(w->seg_name, v.name, sizeof(v.name));
	w->next = w->durable = rec->next_lsn = v.scan.next_lsn;
	w->base = v.scan.end & ~(uint64_t)(BLK - 1);
	w->fill = v.scan.end - w->base;
	memcpy(w->buf, (char *)v.seg + w->base, w->fill);
	rec->cut_bytes = v.scan.cut ? v.seg_len - v.scan.end : 0;

	if ((w->seg_fd = writer_open_file(w, v.name, O_RDWR)) < 0) {
		err = w->seg_fd;
		goto out;
	}
	if ((err = w->b->ops->set_file(w->b, SLOT_SEG, w->seg_fd)) ||
	    (err = w->b->ops->sync(w->b, SLOT_SEG)))
		goto out;
	if ((err = reindex(w, &v)))
		goto out;
	if (v.scan.cut && (err = writer_zero_tail(w, v.scan.end, v.seg_len)))
		goto out;
	rec->reindexed += w->npend;
	if (w->npend && (err = writer_write_index(w, w->pend, w->npend)))
		goto out;
	w->npend = 0;
out:
	view_close(&v);
	return err;
}

static bool has_segment(const uint64_t *firsts, uint64_t n, uint64_t first)
{
	for (uint64_t i = 0; i < n; i++)
		if (firsts[i] == first)
			return true;
	return false;
}

/*
 * Which log the directory is, before anything in it is changed: klog.meta
 * names its id and newest segment, so a directory that lost its last
 * segment (or holds another log) is refused rather than continued at an
 * LSN already handed out.  *meta_ok: klog.meta is present and current.
 */
static int identify(struct klog_writer *w, const uint64_t *firsts, uint64_t n, bool *meta_ok)
{
	const struct klog_writer_opts *o = w->o;
	struct klog_meta m;
	int err = klogd_meta_read(w->dirfd, &m);

	*meta_ok = false;
	if (err == -ENOENT) {
		/* A crash between the first segment and its klog.meta leaves one segment. */
		if (n > 1)
			return refuse(w, -ENOENT, KLOG_META_NAME, 0, 0, "%s/%s is missing, with %llu "
				      "segments present: the directory is not whole; refusing",
				      o->dir, KLOG_META_NAME, (unsigned long long)n);
		w->log_id = o->log_id; /* the one segment's header tells, and must agree */
		return 0;
	}
	if (err)
		return refuse(w, err, KLOG_META_NAME, 0, 0, "%s/%s is damaged (%s); refusing",
			      o->dir, KLOG_META_NAME, strerror(-err));
	if (o->log_id && m.log_id != o->log_id)
		return refuse(w, -EXDEV, KLOG_META_NAME, 0, m.last_first, "%s holds log %016llx "
			      "(newest segment from LSN %llu), but the pinned kernel log is %016llx "
			      "(durable below LSN %llu): wrong --dir for this --name; refusing",
			      o->dir, (unsigned long long)m.log_id,
			      (unsigned long long)m.last_first, (unsigned long long)o->log_id,
			      (unsigned long long)o->acked_lsn);
	/* With no segment at all too: it is the log's end that is gone, not a new log. */
	if (!has_segment(firsts, n, m.last_first)) {
		char name[KLOG_SEG_NAME_MAX];

		klog_seg_name(name, m.last_first, false);
		return refuse(w, -ENOENT, name, 0, m.last_first, "%s/%s names %s (LSN %llu on) as "
			      "the newest segment of log %016llx, but it is missing: the directory "
			      "ends early; refusing to hand out its LSNs again", o->dir,
			      KLOG_META_NAME, name, (unsigned long long)m.last_first,
			      (unsigned long long)m.log_id);
	}
	w->log_id = m.log_id;
	*meta_ok = firsts[n - 1] == m.last_first;
	return 0;
}

/* An empty directory: a new log, the pinned kernel log's or a new one. */
static int create_log(struct klog_writer *w, struct klog_writer_recovery *rec)
{
	const struct klog_writer_opts *o = w->o;

	if (o->refuse_empty)
		return refuse(w, -ESTALE, "", 0, o->first_lsn, "%s is empty, but the pinned kernel "
			      "log %016llx made LSNs below %llu durable: wrong --dir for this "
			      "--name; refusing", o->dir, (unsigned long long)o->log_id,
			      (unsigned long long)o->acked_lsn);
	w->log_id = o->log_id;
	while (!w->log_id)
		if (getrandom(&w->log_id, sizeof(w->log_id), 0) != sizeof(w->log_id))
			return -errno;
	rec->created = true;
	w->next = w->durable = rec->next_lsn = o->first_lsn;
	return writer_new_segment(w, o->first_lsn);
}

int writer_recover(struct klog_writer *w, struct klog_writer_recovery *rec)
{
	uint64_t *firsts = NULL;
	bool meta_ok = false;
	size_t n;
	/* klogctl trim may be deleting: the segments walked must stay while they are. */
	int lock = klog_trim_lock(w->dirfd, false, false), err;

	if (lock == -EWOULDBLOCK) {
		klogd_log("waiting for %s/%s: a klogctl trim or verify holds it", w->o->dir,
			  KLOG_TRIM_LOCK);
		lock = klog_trim_lock(w->dirfd, false, true);
	}
	if (lock < 0)
		return refuse(w, lock, KLOG_TRIM_LOCK, 0, 0, "%s/%s: cannot lock: %s", w->o->dir,
			      KLOG_TRIM_LOCK, strerror(-lock));
	err = klog_seg_list(w->dirfd, true, &firsts, &n);
	rec->segments = n;
	if (err ||
	    (err = identify(w, firsts, rec->segments, &meta_ok)))
		goto out;
	for (uint64_t i = 0; i + 1 < rec->segments; i++)
		if ((err = repair_sealed(w, firsts[i], firsts[i + 1])))
			goto out;
	if (rec->segments)
		err = recover(w, firsts[rec->segments - 1], rec);
	else
		err = create_log(w, rec);
	/* A crash after a rotation left klog.meta naming the segment before. */
	if (!err && !meta_ok && !rec->created)
		err = klogd_meta_write(w->dirfd,
				       &(struct klog_meta){ w->log_id, firsts[rec->segments - 1] });
out:
	free(firsts);
	close(lock);
	return err;
}
