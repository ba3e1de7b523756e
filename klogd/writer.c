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
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "log.h"
#include "writer_int.h"

static size_t round_blk(size_t n)
{
	return (n + BLK - 1) & ~(size_t)(BLK - 1);
}

/* Open name in the log directory, with O_DIRECT where the file system allows it. */
int writer_open_file(struct klog_writer *w, const char *name, int flags)
{
	int fd = openat(w->dirfd, name, flags | O_DIRECT | O_CLOEXEC, 0644);

	if (fd < 0 && errno == EINVAL) {
		if (w->direct)
			klogd_warn("%s does not support O_DIRECT (tmpfs?): writing through the "
				  "page cache", name);
		w->direct = false;
		fd = openat(w->dirfd, name, flags | O_CLOEXEC, 0644);
	}
	return fd < 0 ? -errno : fd;
}

void writer_close_fd(int *fd)
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

int writer_write_index(struct klog_writer *w, const uint64_t *offs, size_t n)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++)
		w->pend[i] = htole64(offs[i]);
	while (done < n * 8) {
		ssize_t r = pwrite(w->idx_fd, (char *)w->pend + done, n * 8 - done,
				   (off_t)(w->idx_count * 8 + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int err = r < 0 ? -errno : -EIO;

			/* offs is w->pend, converted in place: host order again for the next try. */
			for (size_t i = 0; i < n; i++)
				w->pend[i] = le64toh(w->pend[i]);
			return err;
		}
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
	int err = writer_write_index(w, w->pend, n);

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
int writer_new_segment(struct klog_writer *w, uint64_t first)
{
	char name[KLOG_SEG_NAME_MAX], tmp[KLOG_SEG_NAME_MAX + 4], idx[KLOG_SEG_NAME_MAX];
	struct klog_seg_hdr h;
	int fd, err;

	klog_seg_name(name, first, false);
	klog_seg_name(idx, first, true);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (getrandom(&w->salt, sizeof(w->salt), 0) != sizeof(w->salt))
		return -errno;
	fd = writer_open_file(w, tmp, O_RDWR | O_CREAT | O_TRUNC);
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
	writer_close_fd(&w->seg_fd);
	writer_close_fd(&w->idx_fd);
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

int writer_push_pend(struct klog_writer *w, uint64_t off)
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
int writer_zero_tail(struct klog_writer *w, uint64_t end, uint64_t len)
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

static const struct klogd_store_ops writer_store_ops;

int klog_writer_open(struct klog_writer **out, const struct klog_writer_opts *o,
		     struct klog_backend *b, struct klog_writer_recovery *rec)
{
	struct klog_writer *w = calloc(1, sizeof(*w));
	size_t min_buf;
	int err;

	if (!w)
		return -ENOMEM;
	memset(rec, 0, sizeof(*rec));
	*w = (struct klog_writer){ .store = { &writer_store_ops }, .b = b, .buf = b->buf,
				   .region = b->buf_size, .dirfd = -1,
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
	    (err = writer_recover(w, rec)))
		goto fail;
	rec->log_id = w->log_id;
	rec->direct = w->direct;
	w->o = NULL;
	w->rec = NULL;
	*out = w;
	return 0;
fail:
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
	writer_close_fd(&w->seg_fd);
	writer_close_fd(&w->idx_fd);
	writer_close_fd(&w->dirfd);
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
		if ((*err = klog_writer_commit(w)) || (*err = writer_new_segment(w, w->next)))
			return NULL;
	}
	if (w->fill + need > w->region && (*err = flush(w, false)))
		return NULL;
	w->reserved = len + 1;
	return w->buf + w->fill + sizeof(struct klog_rec_hdr);
}

int klog_writer_seal(struct klog_writer *w, uint64_t lsn, uint64_t txid, uint32_t len,
		     uint32_t flags)
{
	int err;

	if (len >= w->reserved || lsn != w->next || !klog_rec_flags_ok(flags, len))
		return -EINVAL;
	if ((err = writer_push_pend(w, w->base + w->fill)))
		return err;
	w->fill += klog_rec_seal(w->buf + w->fill, lsn, txid, flags, w->salt, len);
	w->reserved = 0;
	w->next++;
	return 0;
}

int klog_writer_append(struct klog_writer *w, uint64_t lsn, uint64_t txid, uint32_t len)
{
	return klog_writer_seal(w, lsn, txid, len, 0);
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

/* The store ops (store.h): the writer's own functions, through the embedded store. */
#define W(s) ((struct klog_writer *)(s))
#define CW(s) ((const struct klog_writer *)(s))

static void *store_reserve(struct klogd_store *s, uint32_t max_len, int *err)
{
	return klog_writer_reserve(W(s), max_len, err);
}

static int store_append(struct klogd_store *s, uint64_t lsn, uint64_t txid, uint32_t len,
			uint32_t flags)
{
	return klog_writer_seal(W(s), lsn, txid, len, flags);
}

static int store_commit_start(struct klogd_store *s)
{
	return klog_writer_commit_start(W(s));
}

static int store_commit_wait(struct klogd_store *s, bool wait)
{
	return klog_writer_commit_wait(W(s), wait);
}

static uint64_t store_durable(const struct klogd_store *s)
{
	return klog_writer_durable(CW(s));
}

static uint64_t store_next(const struct klogd_store *s)
{
	return klog_writer_next(CW(s));
}

static const char *store_error(const struct klogd_store *s)
{
	return klog_writer_error(CW(s));
}

static void store_close(struct klogd_store *s)
{
	klog_writer_close(W(s));
}

static const struct klogd_store_ops writer_store_ops = {
	.name = "dir", .reserve = store_reserve, .append = store_append,
	.commit_start = store_commit_start, .commit_wait = store_commit_wait,
	.durable = store_durable, .next = store_next, .error = store_error, .close = store_close,
};

struct klogd_store *klog_writer_store(struct klog_writer *w)
{
	return &w->store;
}
