// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_segdir - a log directory (doc/format.md) as the reader, klog_verify()
 * and klogd's recovery meet it.  The input is a list of files: chunks of
 * one tag byte (tag % 3: 0 a segment, 1 its index, 2 klog.meta; tag / 3 % 4:
 * which of four segments) and fuzz_chunk()'s length and bytes.  A segment
 * is named by the first LSN its header's bytes carry (offset 8), its index
 * after it.  The directory is verified, read in full (klog_iterate over the
 * bounds and single reads), then opened by klog_writer_open(), klogd's
 * recovery; a log recovery accepts is verified and read again.
 * A finding: a crash, a leak, a record handed out that is not exactly a
 * sealed record of one of the segments (rebuilt with its CRC, it must be
 * there byte for byte), LSNs out of order, or a log that recovery accepted
 * but klog_verify() or the reader then refuse.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klog/klog.h>

#include "backend.h"
#include "format.h"
#include "fuzz.h"
#include "writer.h"

#define SLOTS 4

struct files {
	const uint8_t *seg[SLOTS], *idx[SLOTS], *meta;
	size_t seg_len[SLOTS], idx_len[SLOTS], meta_len;
	uint64_t first[SLOTS];
};

struct ctx {
	const struct files *f;
	uint64_t next; /* the LSN the next record must have */
	uint64_t count;
};

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* Whether rec and payload are, sealed again, the record at off of segment image s. */
static bool sealed_at(const uint8_t *s, size_t n, size_t off, const struct klog_record *rec,
		      const void *payload)
{
	size_t size = klog_rec_size(rec->len);
	struct klog_rec_hdr h;
	uint8_t *r;
	bool same;

	if (off + size > n)
		return false;
	memcpy(&h, s + off, sizeof(h));
	if (le32toh(h.magic) != KLOG_REC_MAGIC || le64toh(h.lsn) != rec->lsn ||
	    le32toh(h.crc) != rec->crc || !(r = malloc(size)))
		return false;
	klog_rec_encode(r, rec->lsn, rec->txid, le32toh(h.flags), le64toh(h.salt), payload,
			rec->len);
	same = !memcmp(r, s + off, size);
	free(r);
	return same;
}

static void check_record(const struct files *f, const struct klog_record *rec, const void *payload)
{
	for (int i = 0; i < SLOTS; i++)
		for (size_t off = KLOG_SEG_HDR_SIZE; f->seg[i] && off < f->seg_len[i];
		     off += KLOG_REC_ALIGN)
			if (sealed_at(f->seg[i], f->seg_len[i], off, rec, payload))
				return;
	FUZZ_CHECK(0, "LSN %" PRIu64 " (%" PRIu32 " bytes) is not a sealed record of a segment",
		   rec->lsn, rec->len);
}

static int each(const struct klog_record *rec, const void *payload, void *arg)
{
	struct ctx *c = arg;

	FUZZ_CHECK(rec->lsn == c->next, "LSN %" PRIu64 " after %" PRIu64, rec->lsn, c->next - 1);
	check_record(c->f, rec, payload);
	c->next++;
	c->count++;
	return 0;
}

static void read_one(struct klog_reader *r, const struct files *f, uint64_t lsn)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_record rec;
	int n = klog_read(r, lsn, buf, sizeof(buf), &rec);

	FUZZ_CHECK(klog_reader_strerror(r) != NULL, "no message");
	if (n < 0)
		return;
	FUZZ_CHECK((uint32_t)n == rec.len && rec.lsn == lsn, "read LSN %" PRIu64, lsn);
	check_record(f, &rec, buf);
}

/*
 * Read the log in full; RETURN VALUE: the error of bounds or of the
 * iteration, 0 if every record from the first to the last was read.
 */
static int read_all(const struct files *f, const char *dir)
{
	struct ctx c = { .f = f };
	struct klog_reader *r;
	uint64_t first, last, id;
	int err;

	if ((err = klog_reader_open(&r, dir)))
		return err;
	klog_reader_log_id(r, &id);
	if (!(err = klog_reader_bounds(r, &first, &last))) {
		c.next = first;
		err = klog_iterate(r, first, last, each, &c);
		if (!err && c.count != last - first + 1)
			err = -EAGAIN; /* ended early; a log that must be whole is not */
		read_one(r, f, first);
		read_one(r, f, last);
		read_one(r, f, last + 1);
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "reader: %d %s; %" PRIu64 " records\n", err,
			klog_reader_strerror(r), c.count);
	klog_reader_close(r);
	return err;
}

static int problem(const struct klog_verify_problem *p, void *arg)
{
	FUZZ_CHECK(p->err < 0 && p->what, "a problem without an error or words");
	return 0;
}

static void write_files(struct files *f, struct fuzz_in *in)
{
	char name[KLOG_SEG_NAME_MAX];

	while (in->n) {
		uint8_t tag = fuzz_u8(in);
		unsigned int slot = tag / 3 % SLOTS;
		size_t len;
		const uint8_t *p = fuzz_chunk(in, &len);

		switch (tag % 3) {
		case 0:
			f->seg[slot] = p;
			f->seg_len[slot] = len;
			f->first[slot] = len >= 16 ? le64_at(p + 8) : 1;
			break;
		case 1:
			f->idx[slot] = p;
			f->idx_len[slot] = len;
			break;
		default:
			f->meta = p;
			f->meta_len = len;
		}
	}
	for (int i = 0; i < SLOTS; i++) {
		uint64_t first = f->seg[i] ? f->first[i] : 1;

		if (f->seg[i]) {
			klog_seg_name(name, first, false);
			fuzz_write(name, f->seg[i], f->seg_len[i]);
		}
		if (f->idx[i]) {
			klog_seg_name(name, first, true);
			fuzz_write(name, f->idx[i], f->idx_len[i]);
		}
	}
	if (f->meta)
		fuzz_write(KLOG_META_NAME, f->meta, f->meta_len);
}

/* klogd's recovery of the directory: 0 if it accepted the log. */
static int recover(const char *dir)
{
	struct klog_backend_opts bo = { .queue_depth = 8, .buf_size = 64 * 1024 };
	struct klog_writer_opts o = { .dir = dir, .seg_size = 1 << 20,
				      .max_record = KLOG_MAX_RECORD, .first_lsn = 1 };
	struct klog_writer_recovery rec = { 0 };
	struct klog_backend *b;
	struct klog_writer *w = NULL;
	int err;

	FUZZ_CHECK(!klog_backend_psync.open(&b, &bo), "psync backend");
	err = klog_writer_open(&w, &o, b, &rec);
	FUZZ_CHECK(!err || rec.fault.msg[0], "refused (%d) without saying why", err);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "recovery: %d %s; next LSN %" PRIu64 ", reindexed %" PRIu64
			", cut %" PRIu64 " bytes\n", err, rec.fault.msg, rec.next_lsn, rec.reindexed,
			rec.cut_bytes);
	klog_writer_close(w);
	b->ops->close(b);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct klog_verify_summary sum;
	struct files f = { 0 };
	const char *dir = fuzz_dir();
	int clean, err;

	fuzz_clear();
	write_files(&f, &in);
	clean = klog_verify(dir, KLOG_VERIFY_KEEP_GOING, problem, NULL, &sum);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "verify: %d, %" PRIu64 " problems\n", clean, sum.problems);
	FUZZ_CHECK((clean == 0) == (sum.problems == 0), "verify %d with %" PRIu64 " problems",
		   clean, sum.problems);
	err = read_all(&f, dir);
	if (recover(dir))
		return 0;
	/* What recovery accepted is a whole log: clean, and read to its end. */
	clean = klog_verify(dir, KLOG_VERIFY_KEEP_GOING, problem, NULL, &sum);
	FUZZ_CHECK(clean == 0, "recovery accepted a log klog_verify() finds %" PRIu64
		   " problems in", sum.problems);
	err = read_all(&f, dir);
	FUZZ_CHECK(err == 0 || err == -ENODATA, "recovery accepted a log the reader fails on: %d",
		   err);
	return 0;
}
