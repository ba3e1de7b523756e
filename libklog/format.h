/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * format.h - the on-disk log format (doc/format.md): segment files named by
 * their first LSN, each with a header, framed records and a dense LSN index.
 * Shared by klogd (writer) and libklog (reader).  Everything on disk is
 * little-endian.  Functions return 0 or a negative errno value.
 */
#ifndef KLOG_FORMAT_H
#define KLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KLOG_SEG_MAGIC 0x4745534bu /* bytes "KSEG" */
#define KLOG_REC_MAGIC 0x4345524bu /* bytes "KREC" */
#define KLOG_FORMAT_VERSION 2
#define KLOG_SEG_HDR_SIZE 4096     /* the header fills the first block */
#define KLOG_REC_ALIGN 8
#define KLOG_SEG_SUFFIX ".klog"
#define KLOG_IDX_SUFFIX ".idx"
#define KLOG_SEG_NAME_MAX 32       /* "%020llu.klog" and NUL */
#define KLOG_DEFAULT_SEG_SIZE (64ull << 20)

/* At offset 0 of a segment, followed by zeroes up to KLOG_SEG_HDR_SIZE. */
struct klog_seg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_size;  /* KLOG_SEG_HDR_SIZE */
	uint64_t first_lsn; /* LSN of the segment's first record */
	uint64_t salt;      /* random per segment, repeated in every record */
	uint64_t seg_size;  /* bytes the segment may hold, header included */
	uint64_t log_id;    /* the log's identity, the same in every segment */
	uint32_t flags;     /* 0 */
	uint32_t crc;       /* CRC-32C of the bytes above, with crc = 0 */
};

/* Each record: this header, len payload bytes, zeroes up to KLOG_REC_ALIGN. */
struct klog_rec_hdr {
	uint32_t magic;
	uint32_t len;   /* payload bytes */
	uint64_t lsn;
	uint64_t txid;
	uint64_t salt;  /* the segment's salt: bytes left by an older file never match */
	uint32_t flags; /* KLOG_REC_F_*; 0 for a record of bytes */
	uint32_t crc;   /* CRC-32C of this header (crc = 0) followed by the payload */
};

/*
 * Record flag: a tombstone.  The LSN was taken, but the bytes the client
 * sent were damaged before they could be stored (their CRC-32C failed, or
 * the kernel saw the damage): the record keeps the LSN (the log stays
 * gap-free) with len 0 and no payload, and every reader reports it as
 * corrupt, never as data.  The same bit as klog.h's KLOG_RECORD_CORRUPT.
 */
#define KLOG_REC_F_TOMBSTONE 0x1u
/* Every record flag this version knows; a record with another is refused. */
#define KLOG_REC_FLAGS_KNOWN KLOG_REC_F_TOMBSTONE

/* Whether a writer may seal a record of len bytes with flags. */
static inline bool klog_rec_flags_ok(uint32_t flags, uint32_t len)
{
	return !(flags & ~KLOG_REC_FLAGS_KNOWN) && (!(flags & KLOG_REC_F_TOMBSTONE) || !len);
}

/* Whether the n bytes at p are all zero (padding, a header never written). */
static inline bool klog_all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	/* Each byte equals the next and the first is 0; memcmp is the fast loop. */
	return n == 0 || (b[0] == 0 && __builtin_memcmp(b, b + 1, n - 1) == 0);
}

/* A decoded record; payload points into the buffer it was decoded from. */
struct klog_rec {
	uint64_t lsn;
	uint64_t txid;
	uint32_t len;
	uint32_t flags;
	uint32_t crc;
	const void *payload;
};

/*
 * klog_crc32c - CRC-32C (Castagnoli) of buf, continuing from crc (0 to
 * start): klog_crc32c(0, "123456789", 9) == 0xe3069283.
 */
uint32_t klog_crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * For tests only: the same CRC from the portable table code, even where
 * klog_crc32c() uses the CPU's crc32 instruction.
 */
uint32_t klog_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* Fill h for a new segment, crc included. */
void klog_seg_hdr_init(struct klog_seg_hdr *h, uint64_t first_lsn, uint64_t salt,
		       uint64_t seg_size, uint64_t log_id);

/*
 * Check and decode the header at the start of buf (n bytes).
 * RETURN VALUE: 0; -EBADMSG if short, wrong magic, bad CRC or impossible
 * sizes; -EPROTO for another version.
 */
int klog_seg_hdr_decode(const void *buf, size_t n, struct klog_seg_hdr *h);

/* Bytes a record of len payload bytes takes on disk, padding included. */
size_t klog_rec_size(uint32_t len);

/*
 * Seal a record whose len payload bytes are already at rec + sizeof(struct
 * klog_rec_hdr): write its header and CRC and zero its padding, in place, so
 * a writer that stages payloads in its I/O buffer never copies them.
 * Returns klog_rec_size(len).
 */
size_t klog_rec_seal(void *rec, uint64_t lsn, uint64_t txid, uint32_t flags, uint64_t salt,
		     uint32_t len);

/* Write one record to dst (klog_rec_size(len) bytes, padding zeroed); returns that size. */
size_t klog_rec_encode(void *dst, uint64_t lsn, uint64_t txid, uint32_t flags, uint64_t salt,
		       const void *payload, uint32_t len);

/*
 * Decode the record at buf (avail bytes) that must carry lsn and salt.
 * RETURN VALUE: 0 with rec filled; -ENODATA where the log ends (avail is less
 * than a header, or the header's bytes are all zero); -EBADMSG when the bytes
 * are there but are not that record (magic, salt, LSN, length beyond
 * max_len or beyond avail, CRC, an unknown flag, a tombstone with a
 * payload).  A tombstone decodes (rec->flags says so).
 */
int klog_rec_decode(const void *buf, size_t avail, uint64_t salt, uint64_t lsn,
		    uint32_t max_len, struct klog_rec *rec);

/* Why a record did not decode (klog_rec_diagnose). */
struct klog_rec_fault {
	const char *why;        /* "CRC mismatch", "wrong LSN", ...; NULL: it decodes */
	bool crc;               /* the CRC is what failed: */
	uint32_t crc_stored;    /* the record's CRC field, */
	uint32_t crc_computed;  /* and the CRC of its bytes */
	bool values;            /* a field is wrong: the value found and the one */
	bool hex;               /* expected (or the limit), best printed in hex */
	uint64_t found, expected;
};

/*
 * Why klog_rec_decode() of the same arguments fails, for a message; the
 * one classification that klogd's recovery and libklog's reader explain.
 */
void klog_rec_diagnose(const void *buf, size_t avail, uint64_t salt, uint64_t lsn,
		       uint32_t max_len, struct klog_rec_fault *f);

/*
 * Look in the segment image seg (n bytes) from offset from on, at every
 * 8-byte aligned offset below min(n, seg_size), for a whole record of this
 * segment (its salt, a good CRC) with an LSN above after_lsn: if one is
 * there, a record that failed to decode before it was not the end of the
 * log but damage in it.
 * RETURN VALUE: 0 with *off and *lsn; -ENOENT if there is none; -EBADMSG
 * if the header is bad.
 */
int klog_seg_find_later(const void *seg, size_t n, size_t from, uint64_t after_lsn,
			uint32_t max_len, size_t *off, uint64_t *lsn);

/* What a scan of a segment's records found. */
struct klog_scan {
	uint64_t next_lsn; /* LSN after the last valid record */
	size_t end;        /* offset (from the segment start) after that record */
	bool cut;          /* bytes after end were not a valid record (torn tail) */
};

/*
 * Walk the records of a segment image seg (n bytes, header included) from
 * its first LSN.  Records before offset durable_end (the end of the records
 * the index names, which were durable) must all be valid; after it, the
 * first record that does not decode ends the log (a torn tail) and out->cut
 * tells whether anything but zeroes was there.
 * RETURN VALUE: 0; -EBADMSG if the header is bad or a record before
 * durable_end is damaged (damage in the middle of the log).
 */
int klog_seg_scan(const void *seg, size_t n, size_t durable_end, uint32_t max_len,
		  struct klog_scan *out);

/*
 * klog.meta, in the log directory: the log's id and the first LSN of its
 * newest segment, so that the directory alone shows a missing last segment.
 */
#define KLOG_META_NAME "klog.meta"
#define KLOG_META_MAGIC 0x54454d4bu /* bytes "KMET" */
#define KLOG_META_SIZE 32

struct klog_meta {
	uint64_t log_id;     /* non-zero */
	uint64_t last_first; /* first LSN of the newest segment */
};

/* Write m as KLOG_META_SIZE bytes at buf. */
void klog_meta_encode(void *buf, const struct klog_meta *m);

/*
 * Decode n bytes of klog.meta.  RETURN VALUE: 0; -EBADMSG for a wrong size,
 * magic or CRC, or a zero id; -EPROTO for another version or set flags.
 */
int klog_meta_decode(const void *buf, size_t n, struct klog_meta *m);

/* "%020llu.klog" for first_lsn into name (KLOG_SEG_NAME_MAX bytes); idx: ".idx". */
void klog_seg_name(char *name, uint64_t first_lsn, bool idx);

/* Parse a segment file name; RETURN VALUE: 0 with *first_lsn, or -EINVAL. */
int klog_seg_parse_name(const char *name, uint64_t *first_lsn);

#endif /* KLOG_FORMAT_H */
