// SPDX-License-Identifier: GPL-2.0-only
/*
 * format.c - the on-disk log format (doc/format.md): segment headers, record
 * framing, the scan that finds where a segment's log ends, file names.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

#define REC_HDR_SIZE sizeof(struct klog_rec_hdr)
#define NAME_DIGITS 20

/* The structs are the on-disk layout: no padding may creep in. */
_Static_assert(sizeof(struct klog_seg_hdr) == 48, "segment header is 48 bytes");
_Static_assert(sizeof(struct klog_rec_hdr) == 40, "record header is 40 bytes");
_Static_assert(sizeof(struct klog_rec_hdr) % KLOG_REC_ALIGN == 0, "payload stays aligned");

static uint32_t seg_hdr_crc(struct klog_seg_hdr le)
{
	le.crc = 0;
	return klog_crc32c(0, &le, sizeof(le));
}

/*
 * h is the image to write: on-disk byte order (the same as the host's on
 * every little-endian machine).
 */
void klog_seg_hdr_init(struct klog_seg_hdr *h, uint64_t first_lsn, uint64_t salt,
		       uint64_t seg_size, uint64_t log_id)
{
	*h = (struct klog_seg_hdr){
		.magic = htole32(KLOG_SEG_MAGIC),
		.version = htole16(KLOG_FORMAT_VERSION),
		.hdr_size = htole16(KLOG_SEG_HDR_SIZE),
		.first_lsn = htole64(first_lsn),
		.salt = htole64(salt),
		.seg_size = htole64(seg_size),
		.log_id = htole64(log_id),
	};
	h->crc = htole32(seg_hdr_crc(*h));
}

/*
 * Magic and version come before the CRC: another version may checksum
 * another layout, and must read as -EPROTO rather than as damage.
 */
int klog_seg_hdr_decode(const void *buf, size_t n, struct klog_seg_hdr *h)
{
	struct klog_seg_hdr le;

	if (n < KLOG_SEG_HDR_SIZE)
		return -EBADMSG;
	memcpy(&le, buf, sizeof(le));
	if (le32toh(le.magic) != KLOG_SEG_MAGIC)
		return -EBADMSG;
	if (le16toh(le.version) != KLOG_FORMAT_VERSION)
		return -EPROTO;
	if (le32toh(le.crc) != seg_hdr_crc(le))
		return -EBADMSG;
	if (le16toh(le.hdr_size) != KLOG_SEG_HDR_SIZE || le64toh(le.seg_size) < KLOG_SEG_HDR_SIZE)
		return -EBADMSG;
	/* A flag v1 does not know, in a header whose CRC holds, means another writer. */
	if (le.flags)
		return -EPROTO;
	/* The rest of the block is outside the CRC: zeroes, or the block is damaged. */
	if (!klog_all_zero((const unsigned char *)buf + sizeof(le), KLOG_SEG_HDR_SIZE - sizeof(le)))
		return -EBADMSG;
	*h = (struct klog_seg_hdr){
		.magic = KLOG_SEG_MAGIC,
		.version = KLOG_FORMAT_VERSION,
		.hdr_size = KLOG_SEG_HDR_SIZE,
		.first_lsn = le64toh(le.first_lsn),
		.salt = le64toh(le.salt),
		.seg_size = le64toh(le.seg_size),
		.log_id = le64toh(le.log_id),
		.crc = le32toh(le.crc),
	};
	return 0;
}

size_t klog_rec_size(uint32_t len)
{
	return (REC_HDR_SIZE + len + KLOG_REC_ALIGN - 1) & ~(size_t)(KLOG_REC_ALIGN - 1);
}

/* The CRC of a record: its header (on-disk bytes, crc = 0), then the payload. */
static uint32_t rec_crc(struct klog_rec_hdr le, const void *payload, uint32_t len)
{
	le.crc = 0;
	return klog_crc32c(klog_crc32c(0, &le, sizeof(le)), payload, len);
}

size_t klog_rec_seal(void *rec, uint64_t lsn, uint64_t txid, uint32_t flags, uint64_t salt,
		     uint32_t len)
{
	unsigned char *p = rec;
	size_t size = klog_rec_size(len);
	struct klog_rec_hdr le = {
		.magic = htole32(KLOG_REC_MAGIC),
		.len = htole32(len),
		.lsn = htole64(lsn),
		.txid = htole64(txid),
		.salt = htole64(salt),
		.flags = htole32(flags),
	};

	le.crc = htole32(rec_crc(le, p + sizeof(le), len));
	memcpy(p, &le, sizeof(le));
	memset(p + sizeof(le) + len, 0, size - sizeof(le) - len);
	return size;
}

size_t klog_rec_encode(void *dst, uint64_t lsn, uint64_t txid, uint32_t flags, uint64_t salt,
		       const void *payload, uint32_t len)
{
	if (len)
		memcpy((unsigned char *)dst + REC_HDR_SIZE, payload, len);
	return klog_rec_seal(dst, lsn, txid, flags, salt, len);
}

/*
 * The checks of klog_rec_decode, with the LSN taken from the header when
 * lsn is NULL (a search for any record of the segment); f, if not NULL,
 * says which check failed, with both CRCs when it was the CRC.
 */
static int rec_check(const unsigned char *p, size_t avail, uint64_t salt, const uint64_t *lsn,
		     uint32_t max_len, struct klog_rec *rec, struct klog_rec_fault *f)
{
	struct klog_rec_fault dummy;
	struct klog_rec_hdr le;
	uint32_t len, crc;

	if (!f)
		f = &dummy;
	*f = (struct klog_rec_fault){ .why = "no record (zeroes or end of file)" };
	if (avail < sizeof(le) || klog_all_zero(p, sizeof(le)))
		return -ENODATA;
	memcpy(&le, p, sizeof(le));
	len = le32toh(le.len);
	*f = (struct klog_rec_fault){ .why = "bad magic", .values = true, .hex = true,
				      .found = le32toh(le.magic), .expected = KLOG_REC_MAGIC };
	if (le32toh(le.magic) != KLOG_REC_MAGIC)
		return -EBADMSG;
	*f = (struct klog_rec_fault){ .why = "salt of another segment", .values = true,
				      .hex = true, .found = le64toh(le.salt), .expected = salt };
	if (le64toh(le.salt) != salt)
		return -EBADMSG;
	*f = (struct klog_rec_fault){ .why = "wrong LSN", .values = true,
				      .found = le64toh(le.lsn), .expected = lsn ? *lsn : 0 };
	if (lsn && le64toh(le.lsn) != *lsn)
		return -EBADMSG;
	*f = (struct klog_rec_fault){ .why = "length beyond the record limit",
				      .values = true, .found = len, .expected = max_len };
	if (len > max_len)
		return -EBADMSG;
	*f = (struct klog_rec_fault){ .why = "length runs past the bytes left", .values = true,
				      .found = len, .expected = avail - sizeof(le) };
	/* Compare len first so that a huge len cannot overflow the size. */
	if (len > avail - sizeof(le) || klog_rec_size(len) > avail)
		return -EBADMSG;
	crc = rec_crc(le, p + sizeof(le), len);
	if (le32toh(le.crc) != crc) {
		*f = (struct klog_rec_fault){ .why = "CRC mismatch", .crc = true,
					      .crc_stored = le32toh(le.crc), .crc_computed = crc };
		return -EBADMSG;
	}
	/* A flag this reader does not know, under a good CRC, is another writer's record. */
	*f = (struct klog_rec_fault){ .why = "unknown flags", .values = true, .hex = true,
				      .found = le32toh(le.flags),
				      .expected = le32toh(le.flags) & KLOG_REC_FLAGS_KNOWN };
	if (le32toh(le.flags) & ~KLOG_REC_FLAGS_KNOWN)
		return -EBADMSG;
	*f = (struct klog_rec_fault){ .why = "tombstone with a payload", .values = true,
				      .found = len, .expected = 0 };
	if ((le32toh(le.flags) & KLOG_REC_F_TOMBSTONE) && len)
		return -EBADMSG;
	/* Padding is outside the CRC; anything but zeroes there is damage. */
	*f = (struct klog_rec_fault){ .why = "non-zero padding" };
	if (!klog_all_zero(p + sizeof(le) + len, klog_rec_size(len) - sizeof(le) - len))
		return -EBADMSG;
	f->why = NULL;
	*rec = (struct klog_rec){
		.lsn = le64toh(le.lsn),
		.txid = le64toh(le.txid),
		.len = len,
		.flags = le32toh(le.flags),
		.crc = le32toh(le.crc),
		.payload = p + sizeof(le),
	};
	return 0;
}

int klog_rec_decode(const void *buf, size_t avail, uint64_t salt, uint64_t lsn,
		    uint32_t max_len, struct klog_rec *rec)
{
	return rec_check(buf, avail, salt, &lsn, max_len, rec, NULL);
}

void klog_rec_diagnose(const void *buf, size_t avail, uint64_t salt, uint64_t lsn,
		       uint32_t max_len, struct klog_rec_fault *f)
{
	struct klog_rec rec;

	rec_check(buf, avail, salt, &lsn, max_len, &rec, f);
}

/*
 * Every 8-byte aligned offset is tried: after a damaged record its length
 * cannot be trusted, and records are only ever 8-byte aligned.  A candidate
 * must carry this segment's salt and pass its CRC, so stale bytes of an
 * older file and chance matches do not count.
 */
int klog_seg_find_later(const void *seg, size_t n, size_t from, uint64_t after_lsn,
			uint32_t max_len, size_t *off, uint64_t *lsn)
{
	const unsigned char *p = seg;
	struct klog_seg_hdr h;
	struct klog_rec rec;
	size_t limit = n;

	if (klog_seg_hdr_decode(seg, n, &h))
		return -EBADMSG;
	if (h.seg_size < limit)
		limit = h.seg_size;
	for (size_t o = (from + KLOG_REC_ALIGN - 1) & ~(size_t)(KLOG_REC_ALIGN - 1);
	     o + REC_HDR_SIZE <= limit; o += KLOG_REC_ALIGN) {
		uint32_t magic;

		memcpy(&magic, p + o, sizeof(magic));
		if (le32toh(magic) != KLOG_REC_MAGIC)
			continue;
		if (!rec_check(p + o, limit - o, h.salt, NULL, max_len, &rec, NULL) &&
		    rec.lsn > after_lsn) {
			*off = o;
			*lsn = rec.lsn;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * klog.meta: fixed size, its own CRC, so a torn or foreign file reads as
 * damage and never as another log's identity.
 */
struct meta_le {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	uint64_t log_id;
	uint64_t last_first;
	uint32_t flags;
	uint32_t crc;
};
_Static_assert(sizeof(struct meta_le) == KLOG_META_SIZE, "klog.meta is 32 bytes");

static uint32_t meta_crc(struct meta_le le)
{
	le.crc = 0;
	return klog_crc32c(0, &le, sizeof(le));
}

void klog_meta_encode(void *buf, const struct klog_meta *m)
{
	struct meta_le le = {
		.magic = htole32(KLOG_META_MAGIC),
		.version = htole16(KLOG_FORMAT_VERSION),
		.size = htole16(KLOG_META_SIZE),
		.log_id = htole64(m->log_id),
		.last_first = htole64(m->last_first),
	};

	le.crc = htole32(meta_crc(le));
	memcpy(buf, &le, sizeof(le));
}

int klog_meta_decode(const void *buf, size_t n, struct klog_meta *m)
{
	struct meta_le le;

	if (n != KLOG_META_SIZE)
		return -EBADMSG;
	memcpy(&le, buf, sizeof(le));
	if (le32toh(le.magic) != KLOG_META_MAGIC || le16toh(le.size) != KLOG_META_SIZE ||
	    le32toh(le.crc) != meta_crc(le) || !le.log_id)
		return -EBADMSG;
	if (le16toh(le.version) != KLOG_FORMAT_VERSION || le.flags)
		return -EPROTO;
	*m = (struct klog_meta){ .log_id = le64toh(le.log_id),
				 .last_first = le64toh(le.last_first) };
	return 0;
}

/*
 * Bytes past seg_size are never part of the segment, so the walk stops there.
 * cut reports any non-zero byte after end, not only a record that failed
 * with -EBADMSG: a writer resuming the segment must clear them first.
 */
int klog_seg_scan(const void *seg, size_t n, size_t durable_end, uint32_t max_len,
		  struct klog_scan *out)
{
	const unsigned char *p = seg;
	struct klog_seg_hdr h;
	struct klog_rec rec;
	size_t off = KLOG_SEG_HDR_SIZE, limit = n;
	uint64_t lsn;

	if (klog_seg_hdr_decode(seg, n, &h))
		return -EBADMSG;
	if (h.seg_size < limit)
		limit = h.seg_size;
	for (lsn = h.first_lsn; !klog_rec_decode(p + off, limit - off, h.salt, lsn, max_len, &rec);
	     lsn++)
		off += klog_rec_size(rec.len);
	/* The index said the records up to durable_end were durable: they must be whole. */
	if (off < durable_end)
		return -EBADMSG;
	*out = (struct klog_scan){
		.next_lsn = lsn,
		.end = off,
		.cut = !klog_all_zero(p + off, limit - off),
	};
	return 0;
}

void klog_seg_name(char *name, uint64_t first_lsn, bool idx)
{
	snprintf(name, KLOG_SEG_NAME_MAX, "%0*" PRIu64 "%s", NAME_DIGITS, first_lsn,
		 idx ? KLOG_IDX_SUFFIX : KLOG_SEG_SUFFIX);
}

/*
 * Only the names klog_seg_name() writes: exactly 20 digits, then ".klog".
 * One name per LSN, and names sort as their LSNs do; "NAME.tmp" and ".idx"
 * files are not segments.
 */
int klog_seg_parse_name(const char *name, uint64_t *first_lsn)
{
	uint64_t v = 0;
	unsigned int d;

	if (strlen(name) != NAME_DIGITS + strlen(KLOG_SEG_SUFFIX) ||
	    strcmp(name + NAME_DIGITS, KLOG_SEG_SUFFIX))
		return -EINVAL;
	for (int i = 0; i < NAME_DIGITS; i++) {
		d = (unsigned int)(name[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*first_lsn = v;
	return 0;
}
