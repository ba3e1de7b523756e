// SPDX-License-Identifier: GPL-2.0-only
/*
 * wlog.c - a log directory written through klogd's writer, for the tests
 * that write logs and read them back (see wlog.h).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "segfiles.h"
#include "wlog.h"

const struct klog_backend_ops *const backends[] = {
	&klog_backend_psync,
	&klog_backend_uring,
};

/*
 * What each LSN must hold: its generation (records written again after a
 * cut are a new generation, so an old one read back is caught) and length.
 */
uint8_t gen_at[MAX_LSN];
uint32_t len_at[MAX_LSN];

/* ------------------------------------------------------------------ */
/* Records                                                              */

uint64_t txid_of(uint64_t lsn, unsigned int gen)
{
	return (uint64_t)gen << 56 | lsn * 0x10001;
}

/* Empty, full, and everything between. */
uint32_t len_of(uint64_t txid)
{
	uint64_t h = mix64(txid);

	switch (h % 8) {
	case 0:
		return MAXR;
	case 1:
		return 0;
	default:
		return (uint32_t)((h >> 8) % (MAXR + 1));
	}
}

/* ------------------------------------------------------------------ */
/* A log directory and its writer                                       */

/* A log (not created yet) in parent; backend _i % 2. */
void log_init(struct log *l, int i, const char *parent, uint64_t seg_size,
		     size_t buf_size)
{
	static unsigned int n;

	memset(l, 0, sizeof(*l));
	memset(gen_at, 0, sizeof(gen_at));
	memset(len_at, 0, sizeof(len_at));
	snprintf(l->dir, sizeof(l->dir), "%s/log-%d-%u", parent, (int)getpid(), n++);
	l->ops = backends[i % 2];
	l->buf_size = buf_size;
	l->o = (struct klog_writer_opts){ .dir = l->dir, .seg_size = seg_size,
					  .max_record = MAXR, .first_lsn = KLOG_FIRST_LSN };
}

/* Open the writer; through a fault-injecting wrapper around the backend if rules. */
int log_try_open_faulty(struct log *l, const struct klog_fault_rule *rules,
			       unsigned int n)
{
	struct klog_backend_opts bo = { .queue_depth = 8, .buf_size = l->buf_size };
	struct klog_backend *in = NULL;
	int err;

	ck_assert_int_eq(l->ops->open(&in, &bo), 0);
	l->b = in;
	if (rules)
		ck_assert_int_eq(klog_backend_fault_open(&l->b, in, rules, n), 0);
	l->w = NULL;
	err = klog_writer_open(&l->w, &l->o, l->b, &l->rec);
	if (err) {
		l->b->ops->close(l->b);
		l->b = NULL;
		l->w = NULL;
	}
	return err;
}

int log_try_open(struct log *l)
{
	return log_try_open_faulty(l, NULL, 0);
}

void log_open(struct log *l)
{
	int err = log_try_open(l);

	ck_assert_msg(!err, "klog_writer_open %s: %s", l->dir, strerror(-err));
	ck_assert_uint_eq(klog_writer_next(l->w), l->rec.next_lsn);
	ck_assert_uint_eq(klog_writer_durable(l->w), l->rec.next_lsn);
}

/* Close without a commit: what is only staged is lost, as in a crash. */
void log_close(struct log *l)
{
	klog_writer_close(l->w);
	l->b->ops->close(l->b);
	l->w = NULL;
	l->b = NULL;
}

/* Append the next record with generation gen and length len; returns its LSN or 0 (*err). */
uint64_t try_put_len(struct log *l, unsigned int gen, uint32_t len, int *err)
{
	uint64_t lsn = klog_writer_next(l->w), txid = txid_of(lsn, gen);
	uint8_t *p;

	ck_assert_uint_lt(lsn, MAX_LSN);
	p = klog_writer_reserve(l->w, l->loose ? MAXR : len, err);
	if (!p)
		return 0;
	ck_assert_int_eq(*err, 0);
	fill_payload(p, len, txid);
	*err = klog_writer_append(l->w, lsn, txid, len);
	if (*err)
		return 0;
	gen_at[lsn] = (uint8_t)gen;
	len_at[lsn] = len;
	ck_assert_uint_eq(klog_writer_next(l->w), lsn + 1);
	return lsn;
}

uint64_t put_len(struct log *l, unsigned int gen, uint32_t len)
{
	int err;
	uint64_t lsn = try_put_len(l, gen, len, &err);

	ck_assert_msg(lsn, "append lsn %llu: %s", (unsigned long long)klog_writer_next(l->w),
		      strerror(-err));
	return lsn;
}

uint64_t put(struct log *l, unsigned int gen)
{
	return put_len(l, gen, len_of(txid_of(klog_writer_next(l->w), gen)));
}

void commit(struct log *l)
{
	int err = klog_writer_commit(l->w);

	ck_assert_msg(!err, "commit: %s", strerror(-err));
	ck_assert_uint_eq(klog_writer_durable(l->w), klog_writer_next(l->w));
}

/* n records, a commit after every commit_every (0: none). */
void put_n(struct log *l, unsigned int n, unsigned int gen, unsigned int commit_every)
{
	for (unsigned int k = 1; k <= n; k++) {
		put(l, gen);
		if (commit_every && k % commit_every == 0)
			commit(l);
	}
}

/* ------------------------------------------------------------------ */
/* Reading back                                                         */

/* rec, with payload, is exactly what LSN rec->lsn was appended with. */
void assert_appended(const struct klog_record *rec, const void *payload)
{
	static uint8_t want[MAXR];
	uint64_t txid = txid_of(rec->lsn, gen_at[rec->lsn]);

	ck_assert_uint_eq(rec->txid, txid);
	ck_assert_uint_eq(rec->len, len_at[rec->lsn]);
	fill_payload(want, rec->len, txid);
	ck_assert_msg(!memcmp(payload, want, rec->len), "lsn %llu: payload differs",
		      (unsigned long long)rec->lsn);
}

/* Record lsn through r: exactly the bytes, length and txid it was appended with. */
void check_one(struct klog_reader *r, uint64_t lsn)
{
	static uint8_t got[MAXR + 8];
	struct klog_record rec;
	int n;

	memset(&rec, 0xee, sizeof(rec));
	n = klog_read(r, lsn, got, sizeof(got), &rec);
	ck_assert_msg(n == (int)len_at[lsn], "read lsn %llu: %d (%s), want %u bytes",
		      (unsigned long long)lsn, n, n < 0 ? strerror(-n) : "", len_at[lsn]);
	ck_assert_uint_eq(rec.lsn, lsn);
	assert_appended(&rec, got);
}

/* [from, to) through a new reader. */
void check_read(const char *dir, uint64_t from, uint64_t to)
{
	struct klog_reader *r;

	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	for (uint64_t lsn = from; lsn < to; lsn++)
		check_one(r, lsn);
	klog_reader_close(r);
}

/* klog_read of lsn through a new reader, which must fail with err and write nothing. */
void read_fails(const char *dir, uint64_t lsn, int err)
{
	uint8_t buf[MAXR];
	struct klog_reader *r;
	int n;

	memset(buf, 0xee, sizeof(buf));
	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	n = klog_read(r, lsn, buf, sizeof(buf), NULL);
	ck_assert_msg(n == err, "read lsn %llu: %d, want %d (%s)", (unsigned long long)lsn, n,
		      err, strerror(-err));
	for (size_t k = 0; k < sizeof(buf); k++)
		ck_assert_msg(buf[k] == 0xee, "a failed read wrote byte %zu", k);
	klog_reader_close(r);
}

void bounds_are(const char *dir, uint64_t first, uint64_t last)
{
	struct klog_reader *r;
	uint64_t f = 0, t = 0;

	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ck_assert_int_eq(klog_reader_bounds(r, &f, &t), 0);
	ck_assert_uint_eq(f, first);
	ck_assert_uint_eq(t, last);
	klog_reader_close(r);
}

struct iter {
	uint64_t next; /* LSN the next call must carry */
	unsigned int calls;
};

static int iter_fn(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct iter *it = ctx;

	ck_assert_uint_eq(rec->lsn, it->next);
	assert_appended(rec, payload);
	it->next++;
	it->calls++;
	return 0;
}

/* klog_iterate over [from, to]: its return value, with *calls records seen. */
int iterate(const char *dir, uint64_t from, uint64_t to, unsigned int *calls)
{
	struct iter it = { .next = from };
	struct klog_reader *r;
	int ret;

	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	ret = klog_iterate(r, from, to, iter_fn, &it);
	klog_reader_close(r);
	*calls = it.calls;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Files                                                                */

/* XOR the byte at off of path with x; returns its new value. */
uint8_t poke(const char *path, size_t off, uint8_t x)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, (off_t)off), 1);
	c ^= x;
	ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)off), 1);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
	return c;
}

uint8_t byte_at(const char *path, size_t off)
{
	int fd = open(path, O_RDONLY);
	uint8_t c;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, (off_t)off), 1);
	close(fd);
	return c;
}

void truncate_to(const char *path, size_t size)
{
	ck_assert_msg(!truncate(path, (off_t)size), "truncate %s: %s", path, strerror(errno));
}

/* Append n zero bytes to path. */
void grow_zeroes(const char *path, size_t n)
{
	truncate_to(path, size_of(path) + n);
}

void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Nothing but zeroes from off to the end of path. */
void assert_zero_from(const char *path, size_t off)
{
	size_t n;
	uint8_t *p = slurp(path, &n);

	ck_assert_uint_ge(n, off);
	for (size_t k = off; k < n; k++)
		ck_assert_msg(!p[k], "%s: byte %zu is %#x, not zero (tail from %zu)", path, k,
			      p[k], off);
	free(p);
}

/* What LSN lsn must hold on disk. */
void expected(uint64_t lsn, uint64_t *txid, uint32_t *len)
{
	*txid = txid_of(lsn, gen_at[lsn]);
	*len = len_at[lsn];
}

/* dir as the format says, from LSN first on (check_seg_files()); returns the LSN after the last. */
uint64_t check_files(const char *dir, uint64_t first)
{
	return check_seg_files(dir, first, expected);
}

