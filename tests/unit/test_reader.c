// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: libklog's reader (libklog/reader.c) against files that change
 * under it: a segment growing past what the reader mapped, the klogd writer
 * appending (O_DIRECT on the ext4 of /var/tmp, and a tmpfs) to a segment the
 * reader has mapped, a torn record at the end of the file and the same
 * record once whole, a record running past the segment size, an index entry
 * rewritten after the reader kept it, segments deleted under the reader, and
 * reads across more segments than the reader keeps indexes of.  What it
 * cannot read is an error, never skipped: a missing index, a hole where a
 * segment was, a directory or FIFO in place of a file, a segment cut below
 * its index, EMFILE; each with klog_reader_strerror() naming the file, and
 * klog_read's four answers (trimmed, not durable, missing, corrupt) told
 * apart.  2,000 segments read under RLIMIT_NOFILE 64.  The reader is built
 * into this program with a 16 KiB index budget (KLOG_READER_IX_CACHE: three
 * chunks of 512 entries) and at most 4 segments open
 * (KLOG_READER_MAX_OPEN), so the cases evict and read indexes again and
 * close and reopen segments.
 * Needs root (mounts).
 */
#define _GNU_SOURCE
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <klog/klog.h>

#include "backend.h"
#include "check_run.h"
#include "format.h"
#include "logbuild.h"
#include "scratch.h"
#include "segfiles.h"
#include "writer.h"

#define MAXR KLOG_MAX_RECORD
#define SALT 0x5a17c0ffee123457ull

/* ------------------------------------------------------------------ */
/* What every LSN holds                                                 */

static uint32_t len_of(uint64_t lsn)
{
	uint64_t h = lsn * 0x9e3779b97f4a7c15ull;

	return h >> 61 == 0 ? MAXR : h >> 61 == 1 ? 0 : (uint32_t)((h >> 20) % (MAXR + 1));
}

static uint64_t txid_of(uint64_t lsn)
{
	return lsn ^ 0x7e57000000000000ull;
}

static void fill(uint8_t *p, uint64_t lsn)
{
	for (uint32_t k = 0; k < len_of(lsn); k++)
		p[k] = (uint8_t)(lsn * 131 + k * 7 + (lsn >> 8));
}

/* klog_read of lsn through r gives exactly what fill() wrote, with its txid. */
static void read_ok(struct klog_reader *r, uint64_t lsn)
{
	static uint8_t got[MAXR], want[MAXR];
	struct klog_record rec = { 0 };
	int n = klog_read(r, lsn, got, sizeof(got), &rec);

	ck_assert_msg(n == (int)len_of(lsn), "read lsn %llu: %d (%s), want %u bytes",
		      (unsigned long long)lsn, n, n < 0 ? strerror(-n) : "", len_of(lsn));
	ck_assert_uint_eq(rec.lsn, lsn);
	ck_assert_uint_eq(rec.txid, txid_of(lsn));
	fill(want, lsn);
	ck_assert_msg(!memcmp(got, want, (size_t)n), "lsn %llu: payload differs",
		      (unsigned long long)lsn);
}

/* klog_read of lsn through r fails with err and writes nothing. */
static void read_fails(struct klog_reader *r, uint64_t lsn, int err)
{
	uint8_t buf[MAXR];
	int n;

	memset(buf, 0xee, sizeof(buf));
	n = klog_read(r, lsn, buf, sizeof(buf), NULL);
	ck_assert_msg(n == err, "read lsn %llu: %d, want %d (%s)", (unsigned long long)lsn, n,
		      err, strerror(-err));
	for (size_t k = 0; k < sizeof(buf); k++)
		ck_assert_msg(buf[k] == 0xee, "a failed read wrote byte %zu", k);
}

static void bounds_are(struct klog_reader *r, uint64_t first, uint64_t last)
{
	uint64_t f = 0, l = 0;

	ck_assert_int_eq(klog_reader_bounds(r, &f, &l), 0);
	ck_assert_uint_eq(f, first);
	ck_assert_uint_eq(l, last);
}

/* ------------------------------------------------------------------ */
/* A log made by hand with the format's codec, one segment at a time    */

struct hlog {
	char dir[PATH_MAX];
	uint64_t first, next; /* the open segment's first LSN; the next record's */
	uint64_t seg_size;
	size_t end;           /* offset after the open segment's last record */
	int seg, idx;
};

static void path_in(char *out, const struct hlog *h, uint64_t first, bool idx)
{
	char name[KLOG_SEG_NAME_MAX];

	klog_seg_name(name, first, idx);
	ck_assert_int_lt(snprintf(out, PATH_MAX, "%s/%s", h->dir, name), PATH_MAX);
}

/* A new segment from LSN h->next: its header, then nothing (prealloc 0) or zeroes up to prealloc. */
static void hl_segment(struct hlog *h, uint64_t seg_size, size_t prealloc)
{
	static uint8_t block[KLOG_SEG_HDR_SIZE];
	struct klog_seg_hdr hdr;
	char path[PATH_MAX];

	if (h->seg >= 0) {
		close(h->seg);
		close(h->idx);
	}
	h->first = h->next;
	h->seg_size = seg_size;
	h->end = KLOG_SEG_HDR_SIZE;
	klog_seg_hdr_init(&hdr, h->first, SALT ^ h->first, seg_size, 0x10c1d);
	memcpy(block, &hdr, sizeof(hdr));
	path_in(path, h, h->first, false);
	h->seg = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(h->seg, 0);
	ck_assert_int_eq(pwrite(h->seg, block, sizeof(block), 0), (ssize_t)sizeof(block));
	if (prealloc)
		ck_assert_int_eq(ftruncate(h->seg, (off_t)prealloc), 0);
	path_in(path, h, h->first, true);
	h->idx = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(h->idx, 0);
}

/* A log in parent, its first segment from LSN 1 as hl_segment() makes it. */
static void hl_init(struct hlog *h, const char *parent, uint64_t seg_size, size_t prealloc)
{
	static unsigned int n;

	h->seg = h->idx = -1;
	h->next = 1;
	ck_assert_int_lt(snprintf(h->dir, sizeof(h->dir), "%s/log-%d-%u", parent, (int)getpid(),
				  n++),
			 (int)sizeof(h->dir));
	ck_assert_int_eq(mkdir(h->dir, 0755), 0);
	hl_segment(h, seg_size, prealloc);
}

static void hl_close(struct hlog *h)
{
	close(h->seg);
	close(h->idx);
}

/* Index entry lsn of the open segment: off. */
static void hl_index(struct hlog *h, uint64_t lsn, uint64_t off)
{
	uint64_t le = htole64(off);

	ck_assert_int_eq(pwrite(h->idx, &le, 8, (off_t)((lsn - h->first) * 8)), 8);
}

/* Append the next record to the open segment, and index it; returns its offset. */
static size_t hl_put(struct hlog *h)
{
	static uint8_t rec[sizeof(struct klog_rec_hdr) + MAXR + KLOG_REC_ALIGN];
	static uint8_t payload[MAXR];
	uint64_t lsn = h->next++;
	size_t off = h->end, n;

	fill(payload, lsn);
	n = klog_rec_encode(rec, lsn, txid_of(lsn), 0, SALT ^ h->first, payload, len_of(lsn));
	ck_assert_int_eq(pwrite(h->seg, rec, n, (off_t)off), (ssize_t)n);
	h->end += n;
	hl_index(h, lsn, off);
	return off;
}

static void hl_put_n(struct hlog *h, unsigned int n)
{
	while (n--)
		hl_put(h);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                              */

static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-reader", "64m");
}

/* _i: 0 the ext4 of /var/tmp, 1 the tmpfs. */
static const char *parent_of(int i)
{
	return i ? scratch_tmpfs() : scratch_dir();
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */

/*
 * A segment written without preallocation grows page by page after the
 * reader mapped it: the same reader reads every record appended since.
 */
START_TEST(grows)
{
	struct klog_reader *r;
	struct hlog h;

	hl_init(&h, parent_of(_i), 64 << 20, 0);
	hl_put_n(&h, 3);
	ck_assert_int_eq(klog_reader_open(&r, h.dir), 0);
	for (uint64_t lsn = 1; lsn <= 3; lsn++)
		read_ok(r, lsn);
	for (int round = 0; round < 20; round++) {
		hl_put_n(&h, 37);
		read_ok(r, h.next - 1);
		read_fails(r, h.next, -EAGAIN);
	}
	ck_assert_uint_gt(h.end, 64 << 10);
	bounds_are(r, 1, h.next - 1);
	for (uint64_t lsn = 1; lsn < h.next; lsn++)
		read_ok(r, lsn);
	klog_reader_close(r);
	hl_close(&h);
}
END_TEST

struct wlog {
	struct klog_backend *b;
	struct klog_writer *w;
	struct klog_writer_recovery rec;
};

static void wlog_open(struct wlog *l, const char *dir, uint64_t seg_size)
{
	struct klog_backend_opts bo = { .queue_depth = 8, .buf_size = 256 << 10 };
	struct klog_writer_opts wo = { .dir = dir, .seg_size = seg_size, .max_record = MAXR,
				       .first_lsn = 1 };

	ck_assert_int_eq(klog_backend_psync.open(&l->b, &bo), 0);
	ck_assert_int_eq(klog_writer_open(&l->w, &wo, l->b, &l->rec), 0);
}

static void wlog_put(struct wlog *l, unsigned int n)
{
	int err;

	while (n--) {
		uint64_t lsn = klog_writer_next(l->w);
		uint8_t *p = klog_writer_reserve(l->w, len_of(lsn), &err);

		ck_assert_ptr_nonnull(p);
		fill(p, lsn);
		ck_assert_int_eq(klog_writer_append(l->w, lsn, txid_of(lsn), len_of(lsn)), 0);
	}
	ck_assert_int_eq(klog_writer_commit(l->w), 0);
}

/*
 * klogd's writer commits into the segment the reader has mapped (each commit
 * rewrites the last, partial block; with O_DIRECT on ext4), then rotates to
 * new segments: after every commit the same reader reads what it added, the
 * records around the partial block, and nothing past it.
 */
START_TEST(writer_appends)
{
	struct klog_reader *r;
	struct wlog l;
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/w-%d", parent_of(_i), (int)getpid());
	wlog_open(&l, dir, 256 << 10);
	ck_assert(_i || l.rec.direct); /* tmpfs has O_DIRECT too since Linux 6.6 */
	wlog_put(&l, 1);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	read_ok(r, 1);
	for (uint64_t done = 1; done < 1500;) {
		unsigned int n = 1 + (unsigned int)(done * 7 % 13);

		wlog_put(&l, n);
		for (uint64_t lsn = done + 1; lsn <= done + n; lsn++)
			read_ok(r, lsn);
		read_ok(r, done);
		done += n;
		read_fails(r, done + 1, -EAGAIN);
	}
	bounds_are(r, 1, klog_writer_next(l.w) - 1);
	for (uint64_t lsn = 1; lsn < klog_writer_next(l.w); lsn++)
		read_ok(r, lsn);
	klog_reader_close(r);
	klog_writer_close(l.w);
	l.b->ops->close(l.b);
}
END_TEST

/*
 * The index names a record the file holds only part of (cut at a page
 * boundary, so a mapping past the end of the file would fault), and one
 * whose payload is garbled: -EBADMSG, never a fault or their bytes.  Once
 * the cut record is whole, the same reader returns it.
 */
START_TEST(torn_record)
{
	static uint8_t whole[sizeof(struct klog_rec_hdr) + MAXR + KLOG_REC_ALIGN];
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct klog_reader *r;
	struct hlog h;
	size_t off9, off_cut, cut;
	uint8_t c;

	hl_init(&h, parent_of(_i), 64 << 20, 0);
	hl_put_n(&h, 8);
	off9 = hl_put(&h);
	/* A record whose header is before a page boundary and whose payload crosses it. */
	do {
		off_cut = hl_put(&h);
		cut = (off_cut / page + 1) * page;
	} while (cut - off_cut < sizeof(struct klog_rec_hdr) || cut >= h.end);
	/* The payload of the record at off9, if it has one, else its txid. */
	ck_assert_int_eq(pread(h.seg, &c, 1, (off_t)off9 + 40 - 16 * !len_of(9)), 1);
	c ^= 0x20;
	ck_assert_int_eq(pwrite(h.seg, &c, 1, (off_t)off9 + 40 - 16 * !len_of(9)), 1);
	ck_assert_int_eq(pread(h.seg, whole, h.end - off_cut, (off_t)off_cut),
			 (ssize_t)(h.end - off_cut));
	ck_assert_int_eq(ftruncate(h.seg, (off_t)cut), 0);

	ck_assert_int_eq(klog_reader_open(&r, h.dir), 0);
	for (uint64_t lsn = 1; lsn <= 8; lsn++)
		read_ok(r, lsn);
	read_fails(r, 9, -EBADMSG);
	read_fails(r, h.next - 1, -EBADMSG);
	read_fails(r, h.next, -EAGAIN);
	bounds_are(r, 1, h.next - 1);
	/* The rest of the record arrives: the mapping grows to it. */
	ck_assert_int_eq(pwrite(h.seg, whole, h.end - off_cut, (off_t)off_cut),
			 (ssize_t)(h.end - off_cut));
	read_ok(r, h.next - 1);
	read_fails(r, 9, -EBADMSG);
	klog_reader_close(r);
	hl_close(&h);
}
END_TEST

/* A record that runs past the header's seg_size is not part of the segment, whatever follows. */
START_TEST(past_seg_size)
{
	const size_t size = klog_rec_size(len_of(1)) + klog_rec_size(len_of(2));
	struct klog_reader *r;
	struct hlog h;

	hl_init(&h, parent_of(_i), KLOG_SEG_HDR_SIZE + size + 8, 1 << 20);
	hl_put_n(&h, 3);
	ck_assert_uint_gt(klog_rec_size(len_of(3)), 8);
	ck_assert_int_eq(klog_reader_open(&r, h.dir), 0);
	read_ok(r, 1);
	read_ok(r, 2);
	read_fails(r, 3, -EBADMSG);
	klog_reader_close(r);
	hl_close(&h);
}
END_TEST

/*
 * An index entry the reader kept, then rewritten in the file (klogd's
 * recovery rewrites an index with a damaged middle): the reader reads the
 * record at the new entry, and a damaged one is still -EBADMSG.
 */
START_TEST(index_rewritten)
{
	struct klog_reader *r;
	struct hlog h;
	size_t off_cut0;

	hl_init(&h, parent_of(_i), 64 << 20, 0);
	hl_put_n(&h, 99);
	off_cut0 = hl_put(&h);
	hl_put_n(&h, 200);
	hl_index(&h, 100, 0);
	ck_assert_int_eq(klog_reader_open(&r, h.dir), 0);
	read_ok(r, 101); /* keeps the whole index, the zero entry of 100 with it */
	read_fails(r, 100, -EBADMSG);
	hl_index(&h, 100, off_cut0);
	read_ok(r, 100);
	hl_index(&h, 100, off_cut0 + 8);
	read_ok(r, 100); /* what it has checked stays */
	bounds_are(r, 1, 300);
	klog_reader_close(r);
	ck_assert_int_eq(klog_reader_open(&r, h.dir), 0);
	read_fails(r, 100, -EBADMSG);
	read_ok(r, 99);
	klog_reader_close(r);
	hl_close(&h);
}
END_TEST

/*
 * Segments deleted (retired) under a reader that has them mapped: it goes on
 * reading them, without a fault; a new reader starts after them.
 */
START_TEST(deleted)
{
	char path[PATH_MAX];
	struct klog_reader *r, *r2;
	struct hlog h;

	hl_init(&h, parent_of(_i), 64 << 20, 1 << 20);
	hl_put_n(&h, 50);
	hl_segment(&h, 64 << 20, 1 << 20);
	hl_put_n(&h, 50);
	ck_assert_int_eq(klog_reader_open(&r, h.dir), 0);
	read_ok(r, 10);
	for (int idx = 0; idx < 2; idx++) {
		path_in(path, &h, 1, idx);
		ck_assert_int_eq(unlink(path), 0);
	}
	for (uint64_t lsn = 1; lsn <= 100; lsn++)
		read_ok(r, lsn);
	ck_assert_int_eq(klog_reader_open(&r2, h.dir), 0);
	bounds_are(r2, 51, 100);
	read_fails(r2, 50, -ENOENT);
	read_ok(r2, 51);
	klog_reader_close(r2);
	klog_reader_close(r);
	hl_close(&h);
}
END_TEST

/*
 * Ten segments of 520 records, two chunks of index each, when the reader
 * keeps three: random reads across them evict indexes and read them again,
 * and every record still reads back; then the reader follows new records
 * into a new segment.
 */
START_TEST(many_segments)
{
	uint64_t s = 0x5eed;
	struct klog_reader *r;
	struct hlog h;

	hl_init(&h, parent_of(_i), 64 << 20, 0);
	for (int seg = 0; seg < 10; seg++) {
		if (seg)
			hl_segment(&h, 64 << 20, 0);
		hl_put_n(&h, 520);
	}
	ck_assert_int_eq(klog_reader_open(&r, h.dir), 0);
	bounds_are(r, 1, h.next - 1);
	for (int k = 0; k < 20000; k++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		read_ok(r, 1 + (s >> 33) % (h.next - 1));
	}
	for (uint64_t lsn = 1; lsn < h.next; lsn++)
		read_ok(r, lsn);
	hl_segment(&h, 64 << 20, 0);
	hl_put_n(&h, 10);
	read_ok(r, h.next - 1);
	read_ok(r, 1);
	klog_reader_close(r);
	hl_close(&h);
}
END_TEST


/* ------------------------------------------------------------------ */
/* What cannot be read                                                  */

#define LB_PER 20 /* records per segment of the logs built below: LSNs 1-20, 21-40, ... */

/* A clean log of segs segments of LB_PER records (tests/lib/logbuild.h) in a new directory. */
static void lb_build(char *dir, unsigned int segs, unsigned int per)
{
	static unsigned int n;
	struct logbuild b = { .segments = segs, .per_seg = per, .log_id = 0x10c1d };

	ck_assert_int_lt(snprintf(dir, PATH_MAX, "%s/lb-%d-%u", scratch_dir(), (int)getpid(), n++),
			 PATH_MAX);
	ck_assert_int_eq(logbuild_write(dir, &b), 0);
}

/* Record lsn of a logbuild log reads back whole. */
static void lb_read_ok(struct klog_reader *r, uint64_t lsn)
{
	uint8_t got[128], want[128];
	struct klog_record rec;
	int n = klog_read(r, lsn, got, sizeof(got), &rec);

	ck_assert_msg(n == (int)logbuild_len(lsn), "read lsn %llu: %d: %s",
		      (unsigned long long)lsn, n, klog_reader_strerror(r));
	ck_assert_uint_eq(rec.txid, lsn + 1000);
	logbuild_fill(want, lsn);
	ck_assert(!memcmp(got, want, (size_t)n));
}

/* klog_read of lsn fails with err, and the detail holds each of the words given. */
static void fails_saying(struct klog_reader *r, uint64_t lsn, int err, const char *w1,
			 const char *w2)
{
	uint8_t buf[128];
	int n = klog_read(r, lsn, buf, sizeof(buf), NULL);
	const char *msg = klog_reader_strerror(r);

	ck_assert_msg(n == err, "read lsn %llu: %d, want %d (%s): %s", (unsigned long long)lsn, n,
		      err, strerror(-err), msg);
	ck_assert_msg(strstr(msg, w1) && (!w2 || strstr(msg, w2)), "'%s' lacks '%s' or '%s'", msg,
		      w1, w2 ? w2 : "");
}

static void lb_unlink(const char *dir, uint64_t first, bool idx)
{
	char path[PATH_MAX];

	path_of(path, dir, first, idx);
	ck_assert_int_eq(unlink(path), 0);
}

static int count_calls(const struct klog_record *rec, const void *payload, void *ctx)
{
	(*(unsigned int *)ctx)++;
	return 0;
}

/*
 * The index of a middle segment missing: its LSNs are -ENOLINK naming the
 * index (not "not durable yet"), the others read, and an iteration stops
 * there with the error.
 */
START_TEST(missing_index)
{
	char dir[PATH_MAX];
	struct klog_reader *r;
	unsigned int calls = 0;
	uint64_t first, last;

	lb_build(dir, 5, LB_PER);
	lb_unlink(dir, 21, true);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(last, 100);
	lb_read_ok(r, 20);
	fails_saying(r, 25, -ENOLINK, "00000000000000000021.idx", "LSNs 21..40");
	lb_read_ok(r, 41);
	ck_assert_int_eq(klog_iterate(r, 1, 100, count_calls, &calls), -ENOLINK);
	ck_assert_uint_eq(calls, 20);
	ck_assert_ptr_nonnull(strstr(klog_reader_strerror(r), "00000000000000000021.idx"));
	klog_reader_close(r);
}
END_TEST

/* A middle segment gone, both files: a hole, -ENOLINK, the LSNs it held named. */
START_TEST(hole)
{
	char dir[PATH_MAX];
	struct klog_reader *r;
	unsigned int calls = 0;

	lb_build(dir, 5, LB_PER);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	lb_read_ok(r, 70); /* the reader knew the segment before it went */
	lb_unlink(dir, 41, false);
	lb_unlink(dir, 41, true);
	fails_saying(r, 50, -ENOLINK, "LSNs 41..60", "00000000000000000021.klog");
	lb_read_ok(r, 61);
	klog_reader_close(r);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	fails_saying(r, 41, -ENOLINK, "LSNs 41..60", NULL);
	ck_assert_int_eq(klog_iterate(r, 1, 100, count_calls, &calls), -ENOLINK);
	ck_assert_uint_eq(calls, 40);
	klog_reader_close(r);
}
END_TEST

/*
 * The newest segment without its index: an empty index while the segment
 * holds no record (klogd creates the index just after it), else -ENOLINK,
 * never "not durable yet" for records on disk.
 */
START_TEST(last_index_missing)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct klog_reader *r;
	uint64_t first, last;

	lb_build(dir, 3, LB_PER);
	lb_unlink(dir, 41, true);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENOLINK);
	ck_assert_ptr_nonnull(strstr(klog_reader_strerror(r), "00000000000000000041.idx"));
	fails_saying(r, 45, -ENOLINK, "00000000000000000041.idx", "LSNs from 41");
	klog_reader_close(r);
	/* Cut to its header: a segment just created. */
	path_of(path, dir, 41, false);
	ck_assert_int_eq(truncate(path, KLOG_SEG_HDR_SIZE), 0);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	bounds_are(r, 1, 40);
	fails_saying(r, 41, -EAGAIN, "before LSN 41", NULL);
	klog_reader_close(r);
}
END_TEST

/* A directory in place of a segment, a FIFO in place of an index: -ENOLINK, no hang. */
START_TEST(not_regular)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct klog_reader *r;

	lb_build(dir, 4, LB_PER);
	lb_unlink(dir, 21, false);
	path_of(path, dir, 21, false);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	lb_unlink(dir, 41, true);
	path_of(path, dir, 41, true);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	fails_saying(r, 30, -ENOLINK, "00000000000000000021.klog", "not a regular file");
	fails_saying(r, 50, -ENOLINK, "00000000000000000041.idx", "not a regular file");
	lb_read_ok(r, 61);
	klog_reader_close(r);
}
END_TEST

/* A segment cut below what its index names: -EBADMSG with the file, the offset and the LSN. */
START_TEST(cut_below_index)
{
	char dir[PATH_MAX], path[PATH_MAX], where[64];
	uint64_t offs[LB_PER];
	struct klog_reader *r;

	lb_build(dir, 3, LB_PER);
	ck_assert_uint_eq(read_idx(dir, 21, offs, LB_PER), LB_PER);
	path_of(path, dir, 21, false);
	ck_assert_int_eq(truncate(path, (off_t)offs[10]), 0);
	snprintf(where, sizeof(where), "offset %llu LSN 31", (unsigned long long)offs[10]);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	lb_read_ok(r, 30);
	fails_saying(r, 31, -EBADMSG, where, "end of the file");
	klog_reader_close(r);
}
END_TEST

/*
 * klog_read's four answers told apart, each with its detail: trimmed
 * (below the first segment kept), not durable yet, missing, corrupt (the
 * CRC found and expected, at the record's file, offset and LSN).
 */
START_TEST(four_answers)
{
	char dir[PATH_MAX], path[PATH_MAX], where[PATH_MAX + 64];
	uint64_t offs[LB_PER];
	struct klog_reader *r;
	uint8_t c;
	int fd;

	lb_build(dir, 5, LB_PER);
	lb_unlink(dir, 1, false);
	lb_unlink(dir, 1, true);
	lb_unlink(dir, 61, true);
	ck_assert_uint_eq(read_idx(dir, 41, offs, LB_PER), LB_PER);
	path_of(path, dir, 41, false);
	fd = open(path, O_RDWR);
	ck_assert_int_eq(pread(fd, &c, 1, (off_t)offs[6] + 40), 1); /* LSN 47 has 11 bytes */
	c ^= 1;
	ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)offs[6] + 40), 1);
	close(fd);
	snprintf(where, sizeof(where), "%s offset %llu LSN 47: CRC 0x", path,
		 (unsigned long long)offs[6]);

	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	fails_saying(r, 5, -ENOENT, "first segment kept starts at LSN 21", NULL);
	fails_saying(r, 101, -EAGAIN, "before LSN 101", NULL);
	fails_saying(r, 65, -ENOLINK, "00000000000000000061.idx", "No such file");
	fails_saying(r, 47, -EBADMSG, where, "expected 0x");
	lb_read_ok(r, 46);
	lb_read_ok(r, 21);
	lb_read_ok(r, 100);
	klog_reader_close(r);
}
END_TEST

/* The lowest descriptor free now: a limit of it leaves none to open. */
static rlim_t fds_in_use(void)
{
	int fd = dup(0);

	ck_assert_int_ge(fd, 0);
	close(fd);
	return (rlim_t)fd;
}

/* 2,000 segments under RLIMIT_NOFILE 64: read in order, at random, and bounded. */
START_TEST(many_segments_few_fds)
{
	struct rlimit rl;
	uint64_t s = 0x5eed, first, last;
	char dir[PATH_MAX];
	struct klog_reader *r;
	unsigned int calls = 0;

	lb_build(dir, 2000, 5);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = 64;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
	ck_assert_uint_eq(first, 1);
	ck_assert_uint_eq(last, 10000);
	ck_assert_int_eq(klog_iterate(r, 1, 10000, count_calls, &calls), 0);
	ck_assert_uint_eq(calls, 10000);
	for (int k = 0; k < 3000; k++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		lb_read_ok(r, 1 + (s >> 33) % 10000);
	}
	ck_assert_uint_le(fds_in_use(), 3 + 1 + 2 * 4 + 8);
	klog_reader_close(r);
}
END_TEST

/* Out of descriptors with none of its own to close: -EMFILE naming the segment, not a skip. */
START_TEST(emfile)
{
	struct rlimit rl;
	char dir[PATH_MAX];
	struct klog_reader *r;

	lb_build(dir, 3, LB_PER);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = fds_in_use();
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	fails_saying(r, 25, -EMFILE, "00000000000000000021.klog", "LSNs 21..40");
	rl.rlim_cur += 2;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	lb_read_ok(r, 25);
	/* The next segment needs the descriptors of the one open: it is closed for it. */
	lb_read_ok(r, 45);
	lb_read_ok(r, 5);
	klog_reader_close(r);
}
END_TEST

/* An empty directory: nothing durable, not even an error to list. */
START_TEST(empty_dir)
{
	char dir[PATH_MAX];
	struct klog_reader *r;
	uint64_t first, last;

	lb_build(dir, 0, LB_PER);
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENODATA);
	fails_saying(r, 1, -EAGAIN, "no segment yet", NULL);
	klog_reader_close(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("reader");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, grows, 0, 2);
	tcase_add_loop_test(tc, writer_appends, 0, 2);
	tcase_add_loop_test(tc, torn_record, 0, 2);
	tcase_add_loop_test(tc, past_seg_size, 0, 2);
	tcase_add_loop_test(tc, index_rewritten, 0, 2);
	tcase_add_loop_test(tc, deleted, 0, 2);
	tcase_add_loop_test(tc, many_segments, 0, 2);
	tcase_add_test(tc, missing_index);
	tcase_add_test(tc, hole);
	tcase_add_test(tc, last_index_missing);
	tcase_add_test(tc, not_regular);
	tcase_add_test(tc, cut_below_index);
	tcase_add_test(tc, four_answers);
	tcase_add_test(tc, many_segments_few_fds);
	tcase_add_test(tc, emfile);
	tcase_add_test(tc, empty_dir);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
