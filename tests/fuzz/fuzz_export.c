// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_export - the export format (doc/format.md, "Export files"): the
 * input is an export file, read with klog_reader_open_file() (bounds, the
 * whole range iterated, single reads) and checked with klog_verify_file().
 * A finding: a crash, a leak, a record handed out that is not exactly a
 * whole frame of the file (the frame rebuilt with its CRC must be there),
 * or a file klog_verify_file() passes that the reader cannot read in full.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <klog/klog.h>

#include "fuzz.h"
#include "xformat.h"

struct ctx {
	const uint8_t *data;
	size_t size;
	uint64_t next; /* the LSN the next record must have */
	uint64_t count;
};

/* Record rec with payload must be a frame of the file, byte for byte. */
static void check_frame(const struct ctx *c, const struct klog_record *rec, const void *payload)
{
	size_t n = klog_xframe_size(rec->len);
	uint8_t *f = calloc(1, n);
	bool found = false;

	FUZZ_CHECK(f, "out of memory");
	memcpy(f + KLOG_XFRAME_HDR_SIZE, payload, rec->len);
	klog_xframe_seal(f, rec->lsn, rec->txid, rec->crc, rec->flags & KLOG_RECORD_CORRUPT, rec->len);
	for (size_t off = KLOG_XHDR_SIZE; !found && off + n <= c->size; off += KLOG_REC_ALIGN)
		found = !memcmp(c->data + off, f, n);
	free(f);
	FUZZ_CHECK(found, "LSN %" PRIu64 " (%" PRIu32 " bytes) is not a frame of the file",
		   rec->lsn, rec->len);
}

static int each(const struct klog_record *rec, const void *payload, void *arg)
{
	struct ctx *c = arg;

	FUZZ_CHECK(rec->lsn == c->next, "LSN %" PRIu64 " after %" PRIu64, rec->lsn, c->next - 1);
	check_frame(c, rec, payload);
	c->next++;
	c->count++;
	return 0;
}

static int problem(const struct klog_verify_problem *p, void *arg)
{
	FUZZ_CHECK(p->err < 0 && p->what, "a problem without an error or words");
	return 0;
}

/* klog_read of lsn: a record it hands out is a frame of the file. */
static void read_one(struct klog_reader *r, struct ctx *c, uint64_t lsn)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_record rec;
	int n = klog_read(r, lsn, buf, sizeof(buf), &rec);

	FUZZ_CHECK(klog_reader_strerror(r) != NULL, "no message");
	if (n < 0)
		return;
	FUZZ_CHECK((uint32_t)n == rec.len && rec.lsn == lsn, "read LSN %" PRIu64, lsn);
	check_frame(c, &rec, buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct klog_verify_summary sum;
	struct ctx c = { .data = data, .size = size };
	struct klog_reader *r;
	uint64_t first, last;
	char path[4096];
	int clean, err;

	fuzz_clear();
	fuzz_write("x.kx", data, size);
	fuzz_path(path, "x.kx");
	clean = klog_verify_file(path, KLOG_VERIFY_KEEP_GOING, problem, NULL, &sum);
	FUZZ_CHECK((clean == 0) == (sum.problems == 0), "verify %d with %" PRIu64 " problems",
		   clean, sum.problems);
	FUZZ_CHECK(klog_verify_file(path, 0, problem, NULL, NULL) == clean,
		   "verify stops at the first problem with another verdict");
	if (klog_reader_open_file(&r, path))
		return 0;
	err = klog_reader_bounds(r, &first, &last);
	if (!err) {
		c.next = first;
		err = klog_iterate(r, first, last, each, &c);
		read_one(r, &c, first);
		read_one(r, &c, last);
		read_one(r, &c, first + (last - first) / 2);
	}
	if (clean == 0) {
		FUZZ_CHECK(!err || (err == -ENODATA && sum.records == 0),
			   "verify passed, the reader failed: %d %s", err, klog_reader_strerror(r));
		FUZZ_CHECK(c.count == sum.records, "verify counted %" PRIu64 ", the reader read %"
			   PRIu64, sum.records, c.count);
	}
	klog_reader_close(r);
	return 0;
}
