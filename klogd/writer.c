// SPDX-License-Identifier: GPL-2.0-only
/*
 * writer.c - the segment writer (see writer.h and doc/format.md).
 *
 * Records are staged in a region of the backend's buffer, which always
 * starts at a 4096-byte boundary of the segment: with O_DIRECT every write is
 * of whole blocks, so the last, partial block is kept and written again,
 * fuller, by the next write.  A buffer big enough is split in two regions:
 * once a region's write is started, its partial last block is copied to the
 * other and staging goes on there while the disk works.  One write is out
 * at a time: the next one starts when it is over, so the partial block is
 * always written in order, and a datasync covers every write before it.
 */
#define _GNU_SOURCE
#include <dirent.h>
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

#include "format.h"
#include "log.h"
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

static size_t round_blk(size_t n)
{
	return (n + BLK - 1) & ~(size_t)(BLK - 1);
}

/* Open name in the log directory, with O_DIRECT where the file system allows it. */
static int open_seg_file(struct klog_writer *w, const char *name, int flags)
{
	int fd = openat(w->dirfd, name, flags | O_DIRECT | O_CLOEXEC, 0644);

	if (fd < 0 && errno == EINVAL) {
		if (w->direct)
			klogd_log("%s does not support O_DIRECT (tmpfs?): writing through the "
				  "page cache", name);
		w->direct = false;
		fd = openat(w->dirfd, name, flags | O_CLOEXEC, 0644);
	}
	return fd < 0 ? -errno : fd;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Offset of the staging region in the backend's buffer. */
static size_t buf_off(const struct klog_writer *w)
{
	return (size_t)w->cur * w->region;
}

/* Zero the staged bytes up to the next block boundary; the length to write. */
static size_t pad_staged(struct klog_writer *w)
{
	size_t len = round_blk(w->fill);

	memset(w->buf + w->fill, 0, len - w->fill);
	return len;
}

static int write_index(struct klog_writer *w, const uint64_t *offs, size_t n)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++)
		w->pend[i] = htole64(offs[i]);
	while (done < n * 8) {
		ssize_t r = pwrite(w->idx_fd, (char *)w->pend + done, n * 8 - done,
				   (off_t)(w->idx_count * 8 + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += r;
	}
	w->idx_count += n;
	return 0;
}

/* The started write and its datasync are over: its records are durable. */
static int made_durable(struct klog_writer *w)
{
	size_t n = w->io.nrec;
	/* Only now are the records durable, so only now does the index name them. */
	int err = write_index(w, w->pend, n);

	if (err)
		return err;
	memmove(w->pend, w->pend + n, (w->npend - n) * sizeof(*w->pend));
	w->npend -= n;
	w->durable = w->io.end;
	return 0;
}

/*
 * Synced bytes are durable only if they can be found: the segment must
 * still be linked under its name in the directory opened, and the path
 * still lead to it.  Checked after each datasync, before the records are
 * indexed or claimed durable (a couple of syscalls per commit).
 */
static int check_linked(struct klog_writer *w)
{
	const char *what;
	int err = klogd_dirid_check(&w->dirid, w->dirfd, w->seg_fd, w->seg_name, &what);

	if (err == -ESTALE)
		snprintf(w->error, sizeof(w->error), "the segment %s/%s %s: its records from "
			 "LSN %llu on are not where the log is read; refusing to confirm "
			 "durability", w->dirid.path, w->seg_name, what,
			 (unsigned long long)w->durable);
	return err;
}

/*
 * Finish the started write (made again first if it failed): RETURN VALUE 0,
 * its records durable if it synced; -EAGAIN if !wait and it is not over (or
 * failed: it is made again only when waited for); else the write failed.
 */
static int settle(struct klog_writer *w, bool wait)
{
	struct started *io = &w->io;
	int err;

	if (io->failed) {
		if (!wait)
			return -EAGAIN;
		err = klog_backend_write(w->b, SLOT_SEG, io->buf_off, io->len, (off_t)io->off,
					 io->datasync);
	} else if (io->busy) {
		if ((err = klog_backend_finish(w->b, wait)) == -EAGAIN)
			return err;
	} else {
		return 0;
	}
	if (!err && io->datasync && !(err = check_linked(w)))
		err = made_durable(w);
	io->busy = false;
	io->failed = err != 0;
	return err;
}

/*
 * Start writing the staged bytes (whole blocks, the partial last one
 * padded), after the write before them is over.  With two regions the
 * partial block goes on in the other one while the disk works; with one,
 * the write is waited for, and after a failure everything stays staged to
 * be written again.
 */
static int flush(struct klog_writer *w, bool datasync)
{
	size_t full = w->fill & ~(size_t)(BLK - 1), len;
	int err;

	if ((err = settle(w, true)))
		return err;
	len = pad_staged(w);
	if ((err = klog_backend_start(w->b, SLOT_SEG, buf_off(w), len, (off_t)w->base, datasync)))
		return err;
	w->io = (struct started){ .busy = true, .datasync = datasync, .buf_off = buf_off(w),
				  .len = len, .off = w->base, .end = w->next, .nrec = w->npend };
	if (w->region == w->b->buf_size) {
		if ((err = settle(w, true))) {
			w->io.failed = false; /* it is all still staged */
			return err;
		}
		memmove(w->buf, w->buf + full, w->fill - full);
	} else {
		w->cur ^= 1;
		w->buf = (uint8_t *)w->b->buf + buf_off(w);
		memcpy(w->buf, (uint8_t *)w->b->buf + w->io.buf_off + full, w->fill - full);
	}
	w->base += full;
	w->fill -= full;
	return 0;
}

int klog_writer_commit_start(struct klog_writer *w)
{
	const struct started *io = &w->io;

	if (!w->npend)
		return 0;
	/* The write out already syncs every record staged. */
	if ((io->busy || io->failed) && io->datasync && io->nrec == w->npend)
		return 0;
	return flush(w, true);
}

int klog_writer_commit_wait(struct klog_writer *w, bool wait)
{
	return settle(w, wait);
}

int klog_writer_commit(struct klog_writer *w)
{
	int err = klog_writer_commit_start(w);

	return err ? err : settle(w, true);
}

/* Create the segment whose first record is first: NAME.tmp, header, sync, rename. */
static int new_segment(struct klog_writer *w, uint64_t first)
{
	char name[KLOG_SEG_NAME_MAX], tmp[KLOG_SEG_NAME_MAX + 4], idx[KLOG_SEG_NAME_MAX];
	struct klog_seg_hdr h;
	int fd, err;

	klog_seg_name(name, first, false);
	klog_seg_name(idx, first, true);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (getrandom(&w->salt, sizeof(w->salt), 0) != sizeof(w->salt))
		return -errno;
	fd = open_seg_file(w, tmp, O_RDWR | O_CREAT | O_TRUNC);
	if (fd < 0)
		return fd;
	w->seg_size = w->new_seg_size;
	/* Preallocate, so a datasync need not also commit block allocations. */
	if (fallocate(fd, 0, 0, (off_t)w->seg_size) && errno != EOPNOTSUPP) {
		err = -errno;
		goto fail;
	}
	/* The sealed segment's index must survive a crash: nothing rescans it later. */
	if (w->idx_fd >= 0 && fsync(w->idx_fd)) {
		err = -errno;
		goto fail;
	}
	close_fd(&w->seg_fd);
	close_fd(&w->idx_fd);
	w->seg_fd = fd;
	if ((err = w->b->ops->set_file(w->b, SLOT_SEG, fd)))
		goto fail_unlink;
	klog_seg_hdr_init(&h, first, w->salt, w->seg_size, w->log_id);
	memset(w->buf, 0, BLK);
	memcpy(w->buf, &h, sizeof(h));
	if ((err = klog_backend_write(w->b, SLOT_SEG, buf_off(w), BLK, 0, true)))
		goto fail_unlink;
	if (renameat(w->dirfd, tmp, w->dirfd, name)) {
		err = -errno;
		goto fail_unlink;
	}
	w->idx_fd = openat(w->dirfd, idx, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->idx_fd < 0)
		return -errno;
	if (fsync(w->dirfd))
		return -errno;
	memcpy(w->seg_name, name, sizeof(name));
	/* After the segment: a crash between them leaves a newer segment, never a missing one. */
	if ((err = klogd_meta_write(w->dirfd, &(struct klog_meta){ w->log_id, first })))
		return err;
	w->seg_first = first;
	w->base = BLK;
	w->fill = 0;
	w->idx_count = 0;
	return 0;
fail_unlink:
	unlinkat(w->dirfd, tmp, 0);
	return err;
fail:
	close(fd);
	unlinkat(w->dirfd, tmp, 0);
	return err;
}

static int push_pend(struct klog_writer *w, uint64_t off)
{
	if (w->npend == w->pend_cap) {
		size_t cap = w->pend_cap ? 2 * w->pend_cap : 1024;
		uint64_t *p = realloc(w->pend, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		w->pend = p;
		w->pend_cap = cap;
	}
	w->pend[w->npend++] = off;
	return 0;
}

/*
 * A torn tail carries this segment's salt, so a record of it could pass for
 * a later LSN once new records are written in front of it: zero it, durably,
 * before writing anything.
 */
static int zero_tail(struct klog_writer *w, uint64_t end, uint64_t len)
{
	uint64_t from = round_blk(end);

	if (len > from && fallocate(w->seg_fd, FALLOC_FL_ZERO_RANGE, (off_t)from,
				    (off_t)(len - from))) {
		static const uint8_t zero[BLK] __attribute__((aligned(BLK)));

		for (uint64_t off = from; off < len; off += BLK)
			if (pwrite(w->seg_fd, zero, BLK, (off_t)off) != BLK)
				return -errno;
	}
	/* The block the tail starts in: the staged bytes, zeroes after them. */
	return klog_backend_write(w->b, SLOT_SEG, buf_off(w), pad_staged(w), (off_t)w->base, true);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The segments' first LSNs, in order (*firsts malloc'd); stale .tmp files go. */
static int list_segments(struct klog_writer *w, uint64_t **firsts, uint64_t *count)
{
	int fd = dup(w->dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	size_t cap = 0;

	*firsts = NULL;
	*count = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		uint64_t first, *p;

		if (n > 4 && !strcmp(de->d_name + n - 4, ".tmp")) {
			unlinkat(w->dirfd, de->d_name, 0); /* a segment that was never born */
			continue;
		}
		if (klog_seg_parse_name(de->d_name, &first))
			continue;
		if (*count == cap) {
			cap = cap ? 2 * cap : 64;
			if (!(p = realloc(*firsts, cap * sizeof(*p)))) {
				closedir(d);
				return -ENOMEM;
			}
			*firsts = p;
		}
		(*firsts)[(*count)++] = first;
	}
	closedir(d);
	if (*count)
		qsort(*firsts, *count, sizeof(**firsts), u64_cmp);
	return 0;
}

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
	struct klog_rec_fault f;
	char crcs[64] = "", after[128] = "";

	klog_rec_explain((char *)v->seg + off, v->seg_len - off, v->h.salt, lsn, w->max_record, &f);
	if (f.crc)
		snprintf(crcs, sizeof(crcs), " (expected CRC 0x%08x, found 0x%08x)",
			 f.crc_computed, f.crc_stored);
	if (!klog_seg_find_later(v->seg, v->seg_len, off, lsn - 1, w->max_record, &later_off,
				 &later))
		snprintf(after, sizeof(after), "; a whole record with LSN %llu follows at offset %zu",
			 (unsigned long long)later, later_off);
	return refuse(w, -EBADMSG, v->name, off, lsn, "%s/%s: offset %zu, LSN %llu: %s%s%s: %s",
		      w->o->dir, v->name, off, (unsigned long long)lsn, f.why ? f.why : "?", crcs,
		      after, what);
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
		if (nrec >= v->nidx && (err = push_pend(w, off)))
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
		err = write_index(w, w->pend, w->npend);
	if (!err && fsync(w->idx_fd))
		err = -errno;
	w->rec->reindexed += w->npend;
	w->npend = 0;
	close_fd(&w->idx_fd);
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

	if ((w->seg_fd = open_seg_file(w, v.name, O_RDWR)) < 0) {
		err = w->seg_fd;
		goto out;
	}
	if ((err = w->b->ops->set_file(w->b, SLOT_SEG, w->seg_fd)) ||
	    (err = w->b->ops->sync(w->b, SLOT_SEG)))
		goto out;
	if ((err = reindex(w, &v)))
		goto out;
	if (v.scan.cut && (err = zero_tail(w, v.scan.end, v.seg_len)))
		goto out;
	rec->reindexed += w->npend;
	if (w->npend && (err = write_index(w, w->pend, w->npend)))
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
	return new_segment(w, o->first_lsn);
}

int klog_writer_open(struct klog_writer **out, const struct klog_writer_opts *o,
		     struct klog_backend *b, struct klog_writer_recovery *rec)
{
	struct klog_writer *w = calloc(1, sizeof(*w));
	uint64_t *firsts = NULL;
	bool meta_ok = false;
	size_t min_buf;
	int err;

	if (!w)
		return -ENOMEM;
	memset(rec, 0, sizeof(*rec));
	*w = (struct klog_writer){ .b = b, .buf = b->buf, .region = b->buf_size, .dirfd = -1,
				   .seg_fd = -1, .idx_fd = -1, .direct = true,
				   .new_seg_size = o->seg_size, .max_record = o->max_record,
				   .o = o, .rec = rec };
	min_buf = 2 * round_blk(klog_rec_size(o->max_record)) + BLK;
	if ((b->buf_size / 2 & ~(size_t)(BLK - 1)) >= min_buf)
		w->region = b->buf_size / 2 & ~(size_t)(BLK - 1);
	if (b->buf_size < min_buf ||
	    o->seg_size < KLOG_SEG_HDR_SIZE + 2 * klog_rec_size(o->max_record)) {
		err = -EINVAL;
		goto fail;
	}
	if (mkdir(o->dir, 0755) && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	w->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		err = -errno;
		goto fail;
	}
	if ((err = klogd_dirid_init(&w->dirid, o->dir, w->dirfd)) ||
	    (err = list_segments(w, &firsts, &rec->segments)))
		goto fail;
	if ((err = identify(w, firsts, rec->segments, &meta_ok)))
		goto fail;
	for (uint64_t i = 0; i + 1 < rec->segments; i++)
		if ((err = repair_sealed(w, firsts[i], firsts[i + 1])))
			goto fail;
	if (rec->segments)
		err = recover(w, firsts[rec->segments - 1], rec);
	else
		err = create_log(w, rec);
	/* A crash after a rotation left klog.meta naming the segment before. */
	if (!err && !meta_ok && !rec->created)
		err = klogd_meta_write(w->dirfd,
				       &(struct klog_meta){ w->log_id, firsts[rec->segments - 1] });
	if (err)
		goto fail;
	rec->log_id = w->log_id;
	rec->direct = w->direct;
	w->o = NULL;
	w->rec = NULL;
	free(firsts);
	*out = w;
	return 0;
fail:
	free(firsts);
	klog_writer_close(w);
	return err;
}

void klog_writer_close(struct klog_writer *w)
{
	if (!w)
		return;
	/* The disk may still be reading the buffer: wait (what it made is the recovery's). */
	if (w->io.busy)
		klog_backend_finish(w->b, true);
	if (w->b && w->seg_fd >= 0)
		w->b->ops->set_file(w->b, SLOT_SEG, -1);
	close_fd(&w->seg_fd);
	close_fd(&w->idx_fd);
	close_fd(&w->dirfd);
	free(w->pend);
	free(w);
}

void *klog_writer_reserve(struct klog_writer *w, uint32_t max_len, int *err)
{
	uint32_t len = max_len;
	size_t need = klog_rec_size(len);

	*err = 0;
	if (len > w->max_record) {
		*err = -EMSGSIZE;
		return NULL;
	}
	if (w->base + w->fill + need > w->seg_size) {
		/* The segment is full: seal it durable and start the next one. */
		if ((*err = klog_writer_commit(w)) || (*err = new_segment(w, w->next)))
			return NULL;
	}
	if (w->fill + need > w->region && (*err = flush(w, false)))
		return NULL;
	w->reserved = len + 1;
	return w->buf + w->fill + sizeof(struct klog_rec_hdr);
}

int klog_writer_append(struct klog_writer *w, uint64_t lsn, uint64_t txid, uint32_t len)
{
	int err;

	if (len >= w->reserved || lsn != w->next)
		return -EINVAL;
	if ((err = push_pend(w, w->base + w->fill)))
		return err;
	w->fill += klog_rec_seal(w->buf + w->fill, lsn, txid, 0, w->salt, len);
	w->reserved = 0;
	w->next++;
	return 0;
}

const char *klog_writer_error(const struct klog_writer *w)
{
	return w->error;
}

uint64_t klog_writer_durable(const struct klog_writer *w)
{
	return w->durable;
}

uint64_t klog_writer_next(const struct klog_writer *w)
{
	return w->next;
}
