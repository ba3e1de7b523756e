// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the on-disk log format (libklog/format.c, doc/format.md).
 * CRC-32C against known vectors and a bitwise reference, on both code paths;
 * segment header and record bytes, round trips and every refusal; the scan of
 * whole, truncated, bit-flipped, zero-filled and stale segment images (each
 * image ends where an unmapped page begins, so reading past it crashes the
 * test); the search for whole records after damage; klog.meta; segment file
 * names.
 */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_run.h"
#include "format.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FIRST_LSN 0x100000007ull
#define SALT 0x5a17c0ffee123457ull
#define LOG_ID 0x10c1d0000000001ull
#define MAX_LEN 9000u
#define MAX_RECS 8
#define IMG_CAP (64u << 10) /* a multiple of the page size */
#define HDR KLOG_SEG_HDR_SIZE
#define REC_HDR sizeof(struct klog_rec_hdr)

/* xorshift64*: reproducible test data. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint8_t *random_buf(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n);

	ck_assert_ptr_nonnull(p);
	rng_state = seed | 1;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 56);
	return p;
}

/* Bit by bit, from the definition: the oracle for both implementations. */
static uint32_t ref_crc(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* The CRC of buf, after checking that klog_crc32c, the table code and the oracle agree. */
static uint32_t crc_all(uint32_t crc, const void *buf, size_t n)
{
	uint32_t want = ref_crc(crc, buf, n);

	ck_assert_uint_eq(klog_crc32c(crc, buf, n), want);
	ck_assert_uint_eq(klog_crc32c_sw(crc, buf, n), want);
	return want;
}

/* A copy of n bytes of src that ends where an unmapped page begins. */
static uint8_t *guard_copy(const void *src, size_t n)
{
	static uint8_t *base;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!base) {
		base = mmap(NULL, IMG_CAP + page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ck_assert_ptr_ne(base, MAP_FAILED);
		ck_assert_int_eq(mprotect(base + IMG_CAP, page, PROT_NONE), 0);
	}
	ck_assert_uint_le(n, IMG_CAP);
	return memcpy(base + IMG_CAP - n, src, n);
}

/* A segment image: header, records FIRST_LSN..., zeroes up to IMG_CAP. */
struct seg {
	uint8_t *buf;
	size_t n;                 /* end of the last record */
	size_t off[MAX_RECS + 1]; /* off[i]: record i; off[nrec] == n */
};

/* The payload of record lsn, so that any record can be checked after a scan. */
static void fill_payload(uint8_t *p, uint32_t len, uint64_t lsn)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(lsn * 37 + i * 11 + 1);
}

/* Write a segment over whatever s->buf holds; what lies past the records stays. */
static void seg_write(struct seg *s, uint64_t salt, uint64_t seg_size, const uint32_t *lens,
		      unsigned int nrec)
{
	static uint8_t payload[MAX_LEN];
	struct klog_seg_hdr h;

	ck_assert_uint_le(nrec, MAX_RECS);
	klog_seg_hdr_init(&h, FIRST_LSN, salt, seg_size, LOG_ID);
	memcpy(s->buf, &h, sizeof(h));
	memset(s->buf + sizeof(h), 0, HDR - sizeof(h));
	s->n = HDR;
	for (unsigned int i = 0; i < nrec; i++) {
		s->off[i] = s->n;
		fill_payload(payload, lens[i], FIRST_LSN + i);
		s->n += klog_rec_encode(s->buf + s->n, FIRST_LSN + i, 100 + i, 0, salt, payload,
					lens[i]);
	}
	s->off[nrec] = s->n;
}

static void seg_new(struct seg *s, const uint32_t *lens, unsigned int nrec)
{
	s->buf = calloc(1, IMG_CAP);
	ck_assert_ptr_nonnull(s->buf);
	seg_write(s, SALT, KLOG_DEFAULT_SEG_SIZE, lens, nrec);
}

static int scan(const void *img, size_t n, size_t durable_end)
{
	struct klog_scan sc;

	return klog_seg_scan(img, n, durable_end, MAX_LEN, &sc);
}

/* The scan must succeed and end after the first k records of s. */
static void expect_scan(const void *img, size_t n, size_t durable_end, const struct seg *s,
			unsigned int k, bool cut)
{
	struct klog_scan sc;

	ck_assert_int_eq(klog_seg_scan(img, n, durable_end, MAX_LEN, &sc), 0);
	ck_assert_uint_eq(sc.end, s->off[k]);
	ck_assert_uint_eq(sc.next_lsn, FIRST_LSN + k);
	ck_assert_int_eq(sc.cut, cut);
}

/* CRC-32C */

START_TEST(crc_text)
{
	ck_assert_uint_eq(crc_all(0, "", 0), 0);
	ck_assert_uint_eq(crc_all(0x12345678, "", 0), 0x12345678);
	ck_assert_uint_eq(crc_all(0, "a", 1), 0xc1d04330);
	ck_assert_uint_eq(crc_all(0, "123456789", 9), 0xe3069283);
}
END_TEST

/* RFC 3720 (iSCSI) B.4: 32 bytes from start, adding step each byte. */
static const struct {
	uint8_t start, step;
	uint32_t crc;
} iscsi[] = {
	{ 0x00, 0, 0x8a9136aa },
	{ 0xff, 0, 0x62a8ab43 },
	{ 0x00, 1, 0x46dd794e },
	{ 0x1f, 0xff, 0x113fdb5c },
};

START_TEST(crc_iscsi)
{
	uint8_t buf[32];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(iscsi[_i].start + i * iscsi[_i].step);
	ck_assert_uint_eq(crc_all(0, buf, sizeof(buf)), iscsi[_i].crc);
}
END_TEST

START_TEST(crc_mib)
{
	size_t n = 1u << 20;
	uint8_t *buf = random_buf(n, 1);

	crc_all(0, buf, n);
	free(buf);
}
END_TEST

/* Lengths 0..300 from each alignment: the word loops and the byte tails. */
START_TEST(crc_lengths)
{
	uint8_t *buf = random_buf(8 + 300, 2);

	for (size_t len = 0; len <= 300; len++)
		crc_all(0, buf + _i, len);
	free(buf);
}
END_TEST

/* Longer lengths, up to past the largest record: the three-lane loop and its joins. */
START_TEST(crc_long)
{
	uint8_t *buf = random_buf(8 + 9100, 4);

	for (size_t len = 301; len <= 9100; len += 11)
		crc_all(0x5a5a5a5a, buf + _i * 5, len);
	free(buf);
}
END_TEST

START_TEST(crc_chaining)
{
	uint8_t *buf = random_buf(300, 3);
	uint32_t whole = crc_all(0, buf, 300);

	for (size_t cut = 0; cut <= 300; cut++) {
		ck_assert_uint_eq(klog_crc32c(klog_crc32c(0, buf, cut), buf + cut, 300 - cut), whole);
		ck_assert_uint_eq(klog_crc32c_sw(klog_crc32c_sw(0, buf, cut), buf + cut, 300 - cut),
				  whole);
	}
	free(buf);
}
END_TEST

/* Segment header */

START_TEST(hdr_bytes)
{
	static const uint8_t want[44] = {
		'K', 'S', 'E', 'G', 2, 0, 0x00, 0x10,                   /* magic, version, hdr_size */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,         /* first_lsn */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,         /* salt */
		0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,         /* seg_size */
		0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31,         /* log_id */
		0, 0, 0, 0,                                             /* flags */
	};
	uint8_t img[sizeof(struct klog_seg_hdr)];
	struct klog_seg_hdr h;

	ck_assert_uint_eq(offsetof(struct klog_seg_hdr, first_lsn), 8);
	ck_assert_uint_eq(offsetof(struct klog_seg_hdr, salt), 16);
	ck_assert_uint_eq(offsetof(struct klog_seg_hdr, seg_size), 24);
	ck_assert_uint_eq(offsetof(struct klog_seg_hdr, log_id), 32);
	ck_assert_uint_eq(offsetof(struct klog_seg_hdr, flags), 40);
	ck_assert_uint_eq(offsetof(struct klog_seg_hdr, crc), 44);
	ck_assert_uint_eq(sizeof(h), 48);
	klog_seg_hdr_init(&h, 0x0102030405060708ull, 0x1112131415161718ull, 0x2122232425262728ull,
			  0x3132333435363738ull);
	memcpy(img, &h, sizeof(img));
	ck_assert_mem_eq(img, want, sizeof(want));
	memset(img + 44, 0, 4);
	ck_assert_uint_eq(le32toh(h.crc), ref_crc(0, img, sizeof(img)));
}
END_TEST

static const struct {
	uint64_t first_lsn, salt, seg_size, log_id;
} hdr_values[] = {
	{ 0, 0, HDR, 0 },
	{ FIRST_LSN, SALT, KLOG_DEFAULT_SEG_SIZE, LOG_ID },
	{ UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX },
};

START_TEST(hdr_round_trip)
{
	uint8_t blk[HDR + 1] = { 0 };
	struct klog_seg_hdr h, d;

	klog_seg_hdr_init(&h, hdr_values[_i].first_lsn, hdr_values[_i].salt,
			  hdr_values[_i].seg_size, hdr_values[_i].log_id);
	memcpy(blk, &h, sizeof(h));
	blk[HDR] = 0xff; /* past the header block: records, not the header's business */
	ck_assert_int_eq(klog_seg_hdr_decode(blk, sizeof(blk), &d), 0);
	ck_assert_uint_eq(d.magic, KLOG_SEG_MAGIC);
	ck_assert_uint_eq(d.version, KLOG_FORMAT_VERSION);
	ck_assert_uint_eq(d.hdr_size, HDR);
	ck_assert_uint_eq(d.first_lsn, hdr_values[_i].first_lsn);
	ck_assert_uint_eq(d.salt, hdr_values[_i].salt);
	ck_assert_uint_eq(d.seg_size, hdr_values[_i].seg_size);
	ck_assert_uint_eq(d.log_id, hdr_values[_i].log_id);
	ck_assert_uint_eq(d.flags, 0);
	ck_assert_uint_eq(d.crc, le32toh(h.crc));
}
END_TEST

/* One damage each to a good header block; fix_crc lets the check under test fire alone. */
static const struct {
	const char *what;
	size_t n;          /* bytes given, 0 for the whole block */
	size_t off;        /* byte to flip with x (x = 0: none) */
	uint8_t x;
	bool fix_crc;
	uint64_t seg_size; /* 0 for the default */
	int want;
} hdr_bad[] = {
	{ "short by one", .n = HDR - 1, .want = -EBADMSG },
	{ "struct alone", .n = sizeof(struct klog_seg_hdr), .want = -EBADMSG },
	{ "magic", .off = 0, .x = 0x01, .want = -EBADMSG },
	{ "magic, crc fixed", .off = 3, .x = 0x80, .fix_crc = true, .want = -EBADMSG },
	{ "version 1", .off = 4, .x = 0x03, .want = -EPROTO },
	{ "version 0, crc fixed", .off = 4, .x = 0x02, .fix_crc = true, .want = -EPROTO },
	{ "version 258, crc fixed", .off = 5, .x = 0x01, .fix_crc = true, .want = -EPROTO },
	{ "hdr_size, crc fixed", .off = 6, .x = 0x01, .fix_crc = true, .want = -EBADMSG },
	{ "first_lsn", .off = 8, .x = 0x01, .want = -EBADMSG },
	{ "salt", .off = 23, .x = 0x80, .want = -EBADMSG },
	{ "seg_size", .off = 24, .x = 0x10, .want = -EBADMSG },
	{ "seg_size below the header", .seg_size = HDR - 1, .want = -EBADMSG },
	{ "log_id", .off = 39, .x = 0x04, .want = -EBADMSG },
	{ "flags", .off = 40, .x = 0x01, .want = -EBADMSG },
	{ "flags, crc fixed", .off = 43, .x = 0x80, .fix_crc = true, .want = -EPROTO },
	{ "crc", .off = 44, .x = 0x01, .want = -EBADMSG },
	{ "first byte after the struct", .off = 48, .x = 0x01, .want = -EBADMSG },
	{ "last byte of the block", .off = HDR - 1, .x = 0x80, .want = -EBADMSG },
};

START_TEST(hdr_refuses)
{
	uint8_t blk[HDR] = { 0 };
	struct klog_seg_hdr h;
	uint32_t crc;

	klog_seg_hdr_init(&h, FIRST_LSN, SALT, hdr_bad[_i].seg_size ? hdr_bad[_i].seg_size
								     : KLOG_DEFAULT_SEG_SIZE, LOG_ID);
	memcpy(blk, &h, sizeof(h));
	blk[hdr_bad[_i].off] ^= hdr_bad[_i].x;
	if (hdr_bad[_i].fix_crc) {
		memset(blk + 44, 0, 4);
		crc = htole32(ref_crc(0, blk, sizeof(h)));
		memcpy(blk + 44, &crc, 4);
	}
	ck_assert_msg(klog_seg_hdr_decode(blk, hdr_bad[_i].n ? hdr_bad[_i].n : HDR, &h) ==
		      hdr_bad[_i].want, "%s", hdr_bad[_i].what);
}
END_TEST

/* Records */

START_TEST(rec_size)
{
	static const uint32_t len[] = { 0, 1, 7, 8, 9, 1400, 9000, UINT32_MAX - 7 };
	static const size_t want[] = { 40, 48, 48, 48, 56, 1440, 9040, 40 + (size_t)UINT32_MAX - 7 };

	for (size_t i = 0; i < ARRAY_SIZE(len); i++)
		ck_assert_uint_eq(klog_rec_size(len[i]), want[i]);
	for (uint32_t l = 0; l < 64; l++) {
		ck_assert_uint_eq(klog_rec_size(l) % KLOG_REC_ALIGN, 0);
		ck_assert_uint_lt(klog_rec_size(l) - REC_HDR - l, KLOG_REC_ALIGN);
	}
}
END_TEST

START_TEST(rec_bytes)
{
	static const uint8_t want[36] = {
		'K', 'R', 'E', 'C', 3, 0, 0, 0,                         /* magic, len */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,         /* lsn */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,         /* txid */
		0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,         /* salt */
		0x04, 0x03, 0x02, 0x01,                                 /* flags */
	};
	uint8_t buf[48];
	uint32_t crc;

	ck_assert_uint_eq(offsetof(struct klog_rec_hdr, lsn), 8);
	ck_assert_uint_eq(offsetof(struct klog_rec_hdr, txid), 16);
	ck_assert_uint_eq(offsetof(struct klog_rec_hdr, salt), 24);
	ck_assert_uint_eq(offsetof(struct klog_rec_hdr, flags), 32);
	ck_assert_uint_eq(offsetof(struct klog_rec_hdr, crc), 36);
	ck_assert_uint_eq(REC_HDR, 40);
	ck_assert_uint_eq(klog_rec_encode(buf, 0x0102030405060708ull, 0x1112131415161718ull,
					  0x01020304, 0x2122232425262728ull, "abc", 3), 48);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_mem_eq(buf + 40, "abc\0\0\0\0\0", 8);
	memcpy(&crc, buf + 36, 4);
	memset(buf + 36, 0, 4);
	ck_assert_uint_eq(le32toh(crc), ref_crc(ref_crc(0, buf, 40), "abc", 3));
}
END_TEST

static const uint32_t rt_lens[] = { 0, 1, 7, 8, 9, 1400, 9000 };

START_TEST(rec_round_trip)
{
	/* The empty record is a tombstone: no record of bytes is empty. */
	uint32_t len = rt_lens[_i], flags = len ? 0 : KLOG_REC_F_TOMBSTONE;
	size_t size = klog_rec_size(len);
	uint8_t *payload = random_buf(len + 1, len), *buf = malloc(size + 16);
	struct klog_rec rec;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0xa5, size + 16);
	ck_assert_uint_eq(klog_rec_encode(buf, FIRST_LSN, 42, flags, SALT, payload, len), size);
	for (size_t i = REC_HDR + len; i < size; i++)
		ck_assert_uint_eq(buf[i], 0);
	for (size_t i = size; i < size + 16; i++)
		ck_assert_uint_eq(buf[i], 0xa5);
	ck_assert_int_eq(klog_rec_decode(guard_copy(buf, size), size, SALT, FIRST_LSN, len, &rec),
			 0);
	ck_assert_uint_eq(rec.lsn, FIRST_LSN);
	ck_assert_uint_eq(rec.txid, 42);
	ck_assert_uint_eq(rec.len, len);
	ck_assert_uint_eq(rec.flags, flags);
	ck_assert_mem_eq(&(uint32_t){ htole32(rec.crc) }, buf + 36, 4);
	ck_assert_mem_eq(rec.payload, payload, len);
	/* Decoding more bytes than the record finds the same record. */
	ck_assert_int_eq(klog_rec_decode(buf, size + 16, SALT, FIRST_LSN, MAX_LEN, &rec), 0);
	ck_assert_ptr_eq(rec.payload, buf + REC_HDR);
	free(payload);
	free(buf);
}
END_TEST

/*
 * A record flag this version does not know, or a tombstone with bytes, under
 * a good CRC, is not a record to return: refused, and said why.
 */
START_TEST(rec_flags)
{
	static const struct { uint32_t flags, len; const char *why; } bad[] = {
		{ 0x2, 8, "unknown flags" },
		{ 0x80000000u | KLOG_REC_F_TOMBSTONE, 0, "unknown flags" },
		{ KLOG_REC_F_TOMBSTONE, 1, "tombstone with a payload" },
	};
	uint8_t buf[128] = { 0 }, payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct klog_rec_fault f;
	struct klog_rec rec;

	ck_assert(klog_rec_flags_ok(0, 8));
	ck_assert(klog_rec_flags_ok(KLOG_REC_F_TOMBSTONE, 0));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t size = klog_rec_encode(buf, FIRST_LSN, 1, bad[i].flags, SALT, payload,
					      bad[i].len);

		ck_assert(!klog_rec_flags_ok(bad[i].flags, bad[i].len));
		ck_assert_int_eq(klog_rec_decode(buf, size, SALT, FIRST_LSN, MAX_LEN, &rec),
				 -EBADMSG);
		klog_rec_diagnose(buf, size, SALT, FIRST_LSN, MAX_LEN, &f);
		ck_assert_str_eq(f.why, bad[i].why);
	}
	/* The tombstone decodes, flag and all, and its CRC covers the flag. */
	ck_assert_uint_eq(klog_rec_encode(buf, FIRST_LSN, 9, KLOG_REC_F_TOMBSTONE, SALT, NULL, 0),
			  klog_rec_size(0));
	ck_assert_int_eq(klog_rec_decode(buf, klog_rec_size(0), SALT, FIRST_LSN, MAX_LEN, &rec), 0);
	ck_assert_uint_eq(rec.flags, KLOG_REC_F_TOMBSTONE);
	ck_assert_uint_eq(rec.len, 0);
	ck_assert_uint_eq(rec.txid, 9);
	buf[32] = 0; /* the flag cleared: an empty record of bytes that fails its CRC */
	ck_assert_int_eq(klog_rec_decode(buf, klog_rec_size(0), SALT, FIRST_LSN, MAX_LEN, &rec),
			 -EBADMSG);
}
END_TEST

/* Sealing a payload staged in place gives the bytes encoding it would, whatever was there. */
START_TEST(rec_seal)
{
	uint32_t len = rt_lens[_i];
	size_t size = klog_rec_size(len);
	uint8_t *payload = random_buf(len + 1, len), *enc = malloc(size), *seal = malloc(size);

	ck_assert_ptr_nonnull(enc);
	ck_assert_ptr_nonnull(seal);
	ck_assert_uint_eq(klog_rec_encode(enc, FIRST_LSN, 42, 3, SALT, payload, len), size);
	memset(seal, 0xa5, size);
	memcpy(seal + REC_HDR, payload, len);
	ck_assert_uint_eq(klog_rec_seal(seal, FIRST_LSN, 42, 3, SALT, len), size);
	ck_assert_mem_eq(seal, enc, size);
	free(payload);
	free(enc);
	free(seal);
}
END_TEST

START_TEST(rec_end_of_log)
{
	uint8_t buf[64] = { 0 };
	struct klog_rec rec;

	ck_assert_int_eq(klog_rec_decode(buf, 0, SALT, FIRST_LSN, MAX_LEN, &rec), -ENODATA);
	ck_assert_int_eq(klog_rec_decode(buf, sizeof(buf), SALT, FIRST_LSN, MAX_LEN, &rec),
			 -ENODATA);
	klog_rec_encode(buf, FIRST_LSN, 1, 0, SALT, "0123456789abcdefghijklmn", 24);
	/* A header not (yet) written ends the log, whatever follows it. */
	memset(buf, 0, REC_HDR);
	ck_assert_int_eq(klog_rec_decode(buf, sizeof(buf), SALT, FIRST_LSN, MAX_LEN, &rec),
			 -ENODATA);
	/* Any non-zero header byte is a record that is not whole. */
	buf[REC_HDR - 1] = 1;
	ck_assert_int_eq(klog_rec_decode(buf, sizeof(buf), SALT, FIRST_LSN, MAX_LEN, &rec),
			 -EBADMSG);
	klog_rec_encode(buf, FIRST_LSN, 1, 0, SALT, "x", 1);
	ck_assert_int_eq(klog_rec_decode(buf, REC_HDR - 1, SALT, FIRST_LSN, MAX_LEN, &rec),
			 -ENODATA);
}
END_TEST

/* One damage each to a good record of 13 bytes (56 on disk); all are -EBADMSG. */
static const struct {
	const char *what;
	size_t off;         /* byte to flip with x (x = 0: none) */
	uint8_t x;
	size_t short_by;    /* avail = 56 - short_by */
	uint64_t salt_x;    /* salt expected: SALT ^ salt_x */
	int64_t lsn_d;      /* lsn expected: FIRST_LSN + lsn_d */
	bool tight;         /* max_len = 12 */
} rec_bad[] = {
	{ "magic", .off = 0, .x = 0x01 },
	{ "len beyond max_len", .tight = true },
	{ "len of 2^31", .off = 7, .x = 0x80 },
	{ "len + 8", .off = 4, .x = 0x08 },
	{ "lsn field", .off = 8, .x = 0x01 },
	{ "txid", .off = 16, .x = 0x01 },
	{ "salt field", .off = 31, .x = 0x80 },
	{ "flags", .off = 32, .x = 0x01 },
	{ "crc", .off = 39, .x = 0x80 },
	{ "first payload byte", .off = 40, .x = 0x01 },
	{ "last payload byte", .off = 52, .x = 0x80 },
	{ "first padding byte", .off = 53, .x = 0x01 },
	{ "last padding byte", .off = 55, .x = 0x80 },
	{ "padding not there", .short_by = 1 },
	{ "payload not all there", .short_by = 4 },
	{ "header alone", .short_by = 16 },
	{ "another segment's salt", .salt_x = 1 },
	{ "the next lsn", .lsn_d = 1 },
	{ "the previous lsn", .lsn_d = -1 },
};

START_TEST(rec_refuses)
{
	uint8_t buf[56];
	struct klog_rec rec;
	int err;

	ck_assert_uint_eq(klog_rec_encode(buf, FIRST_LSN, 7, 0, SALT, "hello, world!", 13), 56);
	buf[rec_bad[_i].off] ^= rec_bad[_i].x;
	err = klog_rec_decode(guard_copy(buf, sizeof(buf) - rec_bad[_i].short_by),
			      sizeof(buf) - rec_bad[_i].short_by, SALT ^ rec_bad[_i].salt_x,
			      FIRST_LSN + (uint64_t)rec_bad[_i].lsn_d,
			      rec_bad[_i].tight ? 12 : MAX_LEN, &rec);
	ck_assert_msg(err == -EBADMSG, "%s: %d", rec_bad[_i].what, err);
}
END_TEST

/* Scan */

static const uint32_t all_lens[] = { 0, 1, 7, 8, 9, 1400, 9000 };

START_TEST(scan_whole)
{
	unsigned int nrec = ARRAY_SIZE(all_lens);
	uint8_t payload[MAX_LEN], *img;
	struct klog_rec rec;
	struct seg s;

	seg_new(&s, all_lens, nrec);
	img = guard_copy(s.buf, s.n);
	expect_scan(img, s.n, 0, &s, nrec, false);
	expect_scan(img, s.n, HDR, &s, nrec, false);
	expect_scan(img, s.n, s.n, &s, nrec, false);
	for (unsigned int i = 0; i < nrec; i++) {
		ck_assert_int_eq(klog_rec_decode(img + s.off[i], s.n - s.off[i], SALT, FIRST_LSN + i,
						 MAX_LEN, &rec), 0);
		ck_assert_uint_eq(rec.len, all_lens[i]);
		ck_assert_uint_eq(rec.txid, 100 + i);
		fill_payload(payload, rec.len, rec.lsn);
		ck_assert_mem_eq(rec.payload, payload, rec.len);
	}
	free(s.buf);
}
END_TEST

START_TEST(scan_empty)
{
	struct seg s;

	seg_new(&s, NULL, 0);
	expect_scan(guard_copy(s.buf, HDR), HDR, HDR, &s, 0, false);
	ck_assert_int_eq(scan(guard_copy(s.buf, HDR), HDR, HDR + 1), -EBADMSG);
	expect_scan(s.buf, IMG_CAP, HDR, &s, 0, false);
	free(s.buf);
}
END_TEST

START_TEST(scan_bad_header)
{
	struct seg s;

	seg_new(&s, all_lens, 2);
	ck_assert_int_eq(scan(guard_copy(s.buf, HDR - 1), HDR - 1, 0), -EBADMSG);
	s.buf[4] = 3; /* version: the scan knows no other format */
	ck_assert_int_eq(scan(s.buf, s.n, 0), -EBADMSG);
	s.buf[4] = 2;
	s.buf[8] ^= 1;
	ck_assert_int_eq(scan(s.buf, s.n, 0), -EBADMSG);
	free(s.buf);
}
END_TEST

/*
 * Cut the image at every byte of its last two records.  The scan ends after
 * the whole records, or fails if that leaves out bytes named durable.
 */
static const uint32_t trunc_lens[] = { 3, 100, 9, 1400, 17 };
#define TRUNC_DURABLE_CHOICES 6

/* Nothing durable, the header, into the last two records, all of them. */
static size_t trunc_durable(const struct seg *s, unsigned int nrec, int i)
{
	size_t choice[TRUNC_DURABLE_CHOICES] = {
		0, HDR, s->off[nrec - 2], s->off[nrec - 2] + 1, s->off[nrec - 1], s->n,
	};

	return choice[i];
}

START_TEST(scan_truncated)
{
	unsigned int nrec = ARRAY_SIZE(trunc_lens), k;
	struct seg s;
	size_t durable;

	seg_new(&s, trunc_lens, nrec);
	durable = trunc_durable(&s, nrec, _i);
	for (size_t t = s.off[nrec - 2]; t <= s.n; t++) {
		for (k = nrec; s.off[k] > t; k--)
			;
		if (s.off[k] >= durable)
			expect_scan(guard_copy(s.buf, t), t, durable, &s, k, t != s.off[k]);
		else
			ck_assert_int_eq(scan(guard_copy(s.buf, t), t, durable), -EBADMSG);
	}
	free(s.buf);
}
END_TEST

/*
 * Flip bit _i of every byte of a header and three short records.  No damage
 * goes unseen: the header is refused, or the scan fails when the damaged
 * record was durable and otherwise stops right before it.
 */
static const uint32_t flip_lens[] = { 1, 5, 12 };

START_TEST(scan_bit_flip)
{
	struct klog_seg_hdr h;
	unsigned int k;
	uint8_t *img;
	struct seg s;

	seg_new(&s, flip_lens, ARRAY_SIZE(flip_lens));
	for (size_t b = 0; b < s.n; b++) {
		s.buf[b] ^= 1u << _i;
		img = guard_copy(s.buf, s.n);
		s.buf[b] ^= 1u << _i;
		if (b < HDR) {
			ck_assert_int_ne(klog_seg_hdr_decode(img, s.n, &h), 0);
			ck_assert_int_eq(scan(img, s.n, 0), -EBADMSG);
			continue;
		}
		for (k = 0; s.off[k + 1] <= b; k++)
			;
		ck_assert_int_eq(klog_seg_hdr_decode(img, s.n, &h), 0);
		ck_assert_int_eq(scan(img, s.n, s.n), -EBADMSG);
		ck_assert_int_eq(scan(img, s.n, s.off[k] + 1), -EBADMSG);
		expect_scan(img, s.n, HDR, &s, k, true);
		expect_scan(img, s.n, s.off[k], &s, k, true);
	}
	free(s.buf);
}
END_TEST

/*
 * Flip bit _i of every byte of the records: the search after the damaged
 * one finds the next whole record (any LSN from the damaged one's on), or
 * nothing after the last; klog_rec_diagnose says why the damaged one fails,
 * with both CRCs when it is the CRC.
 */
START_TEST(find_later_bit_flip)
{
	struct klog_rec_fault f;
	unsigned int k, nrec = ARRAY_SIZE(flip_lens);
	uint64_t lsn;
	uint8_t *img;
	struct seg s;
	size_t off;

	seg_new(&s, flip_lens, nrec);
	for (size_t b = HDR; b < s.n; b++) {
		s.buf[b] ^= 1u << _i;
		img = guard_copy(s.buf, s.n);
		s.buf[b] ^= 1u << _i;
		for (k = 0; s.off[k + 1] <= b; k++)
			;
		klog_rec_diagnose(img + s.off[k], s.n - s.off[k], SALT, FIRST_LSN + k, MAX_LEN, &f);
		ck_assert_ptr_nonnull(f.why);
		if (f.crc)
			ck_assert_uint_ne(f.crc_stored, f.crc_computed);
		if (k + 1 == nrec) {
			ck_assert_int_eq(klog_seg_find_later(img, s.n, s.off[k], FIRST_LSN + k - 1,
							     MAX_LEN, &off, &lsn), -ENOENT);
			continue;
		}
		ck_assert_int_eq(klog_seg_find_later(img, s.n, s.off[k], FIRST_LSN + k - 1, MAX_LEN,
						     &off, &lsn), 0);
		ck_assert_uint_eq(off, s.off[k + 1]);
		ck_assert_uint_eq(lsn, FIRST_LSN + k + 1);
	}
	free(s.buf);
}
END_TEST

/* Whole records of another segment (another salt), or of earlier LSNs, are not found. */
START_TEST(find_later_other_salt)
{
	struct klog_seg_hdr h;
	uint64_t lsn;
	struct seg s;
	size_t off;

	seg_new(&s, flip_lens, ARRAY_SIZE(flip_lens));
	ck_assert_int_eq(klog_seg_find_later(s.buf, s.n, HDR, FIRST_LSN + 2, MAX_LEN, &off, &lsn),
			 -ENOENT);
	klog_seg_hdr_init(&h, FIRST_LSN, SALT + 1, KLOG_DEFAULT_SEG_SIZE, LOG_ID);
	memcpy(s.buf, &h, sizeof(h));
	ck_assert_int_eq(klog_seg_find_later(s.buf, s.n, HDR, 0, MAX_LEN, &off, &lsn), -ENOENT);
	free(s.buf);
}
END_TEST

/* klog.meta: a round trip, the bytes, and every bit flip, size and version refused. */
START_TEST(meta_codec)
{
	const struct klog_meta m = { .log_id = LOG_ID, .last_first = FIRST_LSN };
	uint8_t buf[KLOG_META_SIZE + 1] = { 0 };
	struct klog_meta got;

	klog_meta_encode(buf, &m);
	ck_assert_int_eq(klog_meta_decode(buf, KLOG_META_SIZE, &got), 0);
	ck_assert_uint_eq(got.log_id, LOG_ID);
	ck_assert_uint_eq(got.last_first, FIRST_LSN);
	ck_assert_mem_eq(buf, "KMET\x02\x00\x20\x00", 8);
	ck_assert_int_eq(klog_meta_decode(buf, KLOG_META_SIZE - 1, &got), -EBADMSG);
	ck_assert_int_eq(klog_meta_decode(buf, KLOG_META_SIZE + 1, &got), -EBADMSG);
	for (size_t b = 0; b < KLOG_META_SIZE * 8; b++) {
		buf[b / 8] ^= (uint8_t)(1u << b % 8);
		ck_assert_int_ne(klog_meta_decode(buf, KLOG_META_SIZE, &got), 0);
		buf[b / 8] ^= (uint8_t)(1u << b % 8);
	}
	klog_meta_encode(buf, &(struct klog_meta){ 0, FIRST_LSN });
	ck_assert_int_eq(klog_meta_decode(buf, KLOG_META_SIZE, &got), -EBADMSG);
}
END_TEST

/* A preallocated file: zeroes after the last record end the log cleanly. */
START_TEST(scan_zero_tail)
{
	struct seg s;

	seg_new(&s, flip_lens, ARRAY_SIZE(flip_lens));
	expect_scan(s.buf, IMG_CAP, HDR, &s, 3, false);
	expect_scan(s.buf, IMG_CAP, s.n, &s, 3, false);
	/* A zero header followed by anything else is a torn tail all the same. */
	s.buf[IMG_CAP - 1] = 1;
	expect_scan(s.buf, IMG_CAP, s.n, &s, 3, true);
	s.buf[IMG_CAP - 1] = 0;
	s.buf[s.n + REC_HDR] = 1;
	expect_scan(s.buf, IMG_CAP, s.n, &s, 3, true);
	free(s.buf);
}
END_TEST

/*
 * A new segment written over an old file of the same size and first LSN:
 * the old records past the new ones sit at the very offsets and LSNs the scan
 * expects next, whole and with good CRCs.  Only the salt tells them apart.
 */
START_TEST(scan_stale_tail)
{
	static const uint32_t lens[] = { 8, 8, 8, 8, 8, 8 };
	struct klog_rec rec;
	struct seg s;
	size_t old_n;

	seg_new(&s, lens, 6);
	old_n = s.n;
	seg_write(&s, SALT ^ 0x100, KLOG_DEFAULT_SEG_SIZE, lens, 3);
	ck_assert_int_eq(klog_rec_decode(s.buf + s.n, old_n - s.n, SALT, FIRST_LSN + 3, MAX_LEN,
					 &rec), 0);
	expect_scan(guard_copy(s.buf, old_n), old_n, HDR, &s, 3, true);
	expect_scan(guard_copy(s.buf, old_n), old_n, s.n, &s, 3, true);
	expect_scan(s.buf, IMG_CAP, s.n, &s, 3, true);
	ck_assert_int_eq(scan(s.buf, old_n, s.n + 1), -EBADMSG);
	free(s.buf);
}
END_TEST

/* Bytes past the header's seg_size are not the segment's, whatever they hold. */
START_TEST(scan_seg_size)
{
	static const uint32_t lens[] = { 8, 8, 8, 8 };
	struct seg s;

	seg_new(&s, lens, 4);
	seg_write(&s, SALT, HDR + 2 * klog_rec_size(8), lens, 4);
	expect_scan(guard_copy(s.buf, s.n), s.n, HDR, &s, 2, false);
	expect_scan(s.buf, IMG_CAP, s.off[2], &s, 2, false);
	ck_assert_int_eq(scan(s.buf, s.n, s.off[3]), -EBADMSG);
	/* A record across seg_size was never written by a writer: garbage. */
	seg_write(&s, SALT, HDR + 2 * klog_rec_size(8) - 1, lens, 4);
	expect_scan(s.buf, s.n, HDR, &s, 1, true);
	free(s.buf);
}
END_TEST

START_TEST(scan_max_len)
{
	static const uint32_t lens[] = { 8, 100, 8 };
	struct klog_scan sc;
	struct seg s;

	seg_new(&s, lens, 3);
	ck_assert_int_eq(klog_seg_scan(s.buf, s.n, s.n, 99, &sc), -EBADMSG);
	ck_assert_int_eq(klog_seg_scan(s.buf, s.n, s.off[1], 99, &sc), 0);
	ck_assert_uint_eq(sc.end, s.off[1]);
	ck_assert_uint_eq(sc.next_lsn, FIRST_LSN + 1);
	ck_assert(sc.cut);
	ck_assert_int_eq(klog_seg_scan(s.buf, s.n, s.n, 100, &sc), 0);
	ck_assert_uint_eq(sc.end, s.n);
	free(s.buf);
}
END_TEST

/* Names */

START_TEST(name_encode)
{
	char name[KLOG_SEG_NAME_MAX];

	klog_seg_name(name, 1, false);
	ck_assert_str_eq(name, "00000000000000000001.klog");
	klog_seg_name(name, FIRST_LSN, true);
	ck_assert_str_eq(name, "00000000004294967303.idx");
	klog_seg_name(name, UINT64_MAX, false);
	ck_assert_str_eq(name, "18446744073709551615.klog");
	klog_seg_name(name, UINT64_MAX, true);
	ck_assert_str_eq(name, "18446744073709551615.idx");
}
END_TEST

static const uint64_t name_lsns[] = { 0, 1, 9, 10, FIRST_LSN, UINT64_MAX - 1, UINT64_MAX };

START_TEST(name_round_trip)
{
	char name[KLOG_SEG_NAME_MAX], next[KLOG_SEG_NAME_MAX];
	uint64_t lsn = 12345;

	klog_seg_name(name, name_lsns[_i], false);
	ck_assert_int_eq(klog_seg_parse_name(name, &lsn), 0);
	ck_assert_uint_eq(lsn, name_lsns[_i]);
	/* Names sort as their LSNs do, so a directory listing sorts the log. */
	if (name_lsns[_i] < UINT64_MAX) {
		klog_seg_name(next, name_lsns[_i] + 1, false);
		ck_assert_int_lt(strcmp(name, next), 0);
	}
}
END_TEST

/* Only what klog_seg_name() writes for a segment: 20 digits, ".klog". */
static const char *const bad_names[] = {
	"",
	".klog",
	"x.klog",
	"123.klog",
	"0000000000000000001.klog",
	"000000000000000000001.klog",
	"0000000000000000000a.klog",
	"0000000000000000000/.klog",
	"0000000000000000000:.klog",
	"-0000000000000000001.klog",
	"+0000000000000000001.klog",
	" 0000000000000000001.klog",
	"00000000000000000001",
	"00000000000000000001.",
	"00000000000000000001.idx",
	"00000000000000000001.klog.tmp",
	"00000000000000000001.klogx",
	"00000000000000000001.KLOG",
	"00000000000000000001xklog",
	"18446744073709551616.klog",
	"99999999999999999999.klog",
};

START_TEST(name_refuses)
{
	uint64_t lsn = 12345;

	ck_assert_msg(klog_seg_parse_name(bad_names[_i], &lsn) == -EINVAL, "\"%s\"",
		      bad_names[_i]);
	ck_assert_uint_eq(lsn, 12345);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format");
	TCase *crc = tcase_create("crc32c"), *hdr = tcase_create("header");
	TCase *rec = tcase_create("record"), *sc = tcase_create("scan");
	TCase *name = tcase_create("name");

	tcase_add_test(crc, crc_text);
	tcase_add_loop_test(crc, crc_iscsi, 0, ARRAY_SIZE(iscsi));
	tcase_add_test(crc, crc_mib);
	tcase_add_loop_test(crc, crc_lengths, 0, 8);
	tcase_add_loop_test(crc, crc_long, 0, 2);
	tcase_add_test(crc, crc_chaining);
	suite_add_tcase(s, crc);

	tcase_add_test(hdr, hdr_bytes);
	tcase_add_loop_test(hdr, hdr_round_trip, 0, ARRAY_SIZE(hdr_values));
	tcase_add_loop_test(hdr, hdr_refuses, 0, ARRAY_SIZE(hdr_bad));
	suite_add_tcase(s, hdr);

	tcase_add_test(rec, rec_size);
	tcase_add_test(rec, rec_bytes);
	tcase_add_loop_test(rec, rec_round_trip, 0, ARRAY_SIZE(rt_lens));
	tcase_add_loop_test(rec, rec_seal, 0, ARRAY_SIZE(rt_lens));
	tcase_add_test(rec, rec_end_of_log);
	tcase_add_test(rec, rec_flags);
	tcase_add_loop_test(rec, rec_refuses, 0, ARRAY_SIZE(rec_bad));
	suite_add_tcase(s, rec);

	tcase_add_test(sc, scan_whole);
	tcase_add_test(sc, scan_empty);
	tcase_add_test(sc, scan_bad_header);
	tcase_add_loop_test(sc, scan_truncated, 0, TRUNC_DURABLE_CHOICES);
	tcase_add_loop_test(sc, scan_bit_flip, 0, 8);
	tcase_add_test(sc, scan_zero_tail);
	tcase_add_test(sc, scan_stale_tail);
	tcase_add_test(sc, scan_seg_size);
	tcase_add_test(sc, scan_max_len);
	tcase_add_loop_test(sc, find_later_bit_flip, 0, 8);
	tcase_add_test(sc, find_later_other_salt);
	tcase_add_test(sc, meta_codec);
	suite_add_tcase(s, sc);

	tcase_add_test(name, name_encode);
	tcase_add_loop_test(name, name_round_trip, 0, ARRAY_SIZE(name_lsns));
	tcase_add_loop_test(name, name_refuses, 0, ARRAY_SIZE(bad_names));
	suite_add_tcase(s, name);
	return run_suite(s);
}
