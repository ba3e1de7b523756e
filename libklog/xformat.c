// SPDX-License-Identifier: GPL-2.0-only
/*
 * xformat.c - the export file codec (xformat.h, doc/format.md "Export
 * files").  Each part carries its own CRC-32C, computed as the segment
 * format's are: over the little-endian bytes with the CRC field 0, a
 * frame's continued over its payload.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "xformat.h"

struct xhdr_le {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_size;
	uint64_t log_id;
	uint64_t first_lsn;
	uint64_t last_lsn;
	uint32_t flags;
	uint32_t crc;
};

struct xframe_le {
	uint32_t magic;
	uint32_t len;
	uint64_t lsn;
	uint64_t txid;
	uint32_t rec_crc;
	uint32_t crc;
};

struct xend_le {
	uint32_t magic;
	uint32_t flags;
	uint64_t count;
	uint64_t last_lsn;
	uint32_t hdr_crc;
	uint32_t crc;
};

_Static_assert(sizeof(struct xhdr_le) == KLOG_XHDR_SIZE, "export header is 40 bytes");
_Static_assert(sizeof(struct xframe_le) == KLOG_XFRAME_HDR_SIZE, "frame header is 32 bytes");
_Static_assert(sizeof(struct xend_le) == KLOG_XEND_SIZE, "trailer is 32 bytes");
_Static_assert(KLOG_XHDR_SIZE % KLOG_REC_ALIGN == 0, "frames stay aligned");

/* The CRC of a part whose last 4 bytes are its CRC field: of the bytes before, then 4 zeroes. */
static uint32_t part_crc(const void *le, size_t size)
{
	static const uint8_t zero[4];

	return klog_crc32c(klog_crc32c(0, le, size - 4), zero, 4);
}

void klog_xhdr_encode(void *buf, struct klog_xhdr *h)
{
	struct xhdr_le le = {
		.magic = htole32(KLOG_X_MAGIC),
		.version = htole16(KLOG_X_VERSION),
		.hdr_size = htole16(KLOG_XHDR_SIZE),
		.log_id = htole64(h->log_id),
		.first_lsn = htole64(h->first_lsn),
		.last_lsn = htole64(h->last_lsn),
	};

	h->crc = part_crc(&le, sizeof(le));
	le.crc = htole32(h->crc);
	memcpy(buf, &le, sizeof(le));
}

/* As the segment header: magic and version before the CRC, so another version is -EPROTO. */
int klog_xhdr_decode(const void *buf, size_t n, struct klog_xhdr *h, char *why, size_t wn)
{
	struct xhdr_le le;
	uint32_t crc;

	if (n < sizeof(le)) {
		snprintf(why, wn, "header: only %zu of %d bytes", n, KLOG_XHDR_SIZE);
		return -EBADMSG;
	}
	memcpy(&le, buf, sizeof(le));
	crc = part_crc(&le, sizeof(le));
	*h = (struct klog_xhdr){ .log_id = le64toh(le.log_id), .first_lsn = le64toh(le.first_lsn),
				 .last_lsn = le64toh(le.last_lsn), .crc = le32toh(le.crc) };
	if (le32toh(le.magic) != KLOG_X_MAGIC) {
		snprintf(why, wn, "header: magic 0x%08" PRIx32 " expected 0x%08x: "
			 "not a klog export", le32toh(le.magic), KLOG_X_MAGIC);
		return -EBADMSG;
	}
	if (le16toh(le.version) != KLOG_X_VERSION) {
		snprintf(why, wn, "header: export format version %u, this reader knows %d",
			 le16toh(le.version), KLOG_X_VERSION);
		return -EPROTO;
	}
	if (h->crc != crc) {
		snprintf(why, wn, "header: CRC 0x%08" PRIx32 " expected 0x%08" PRIx32, crc, h->crc);
		return -EBADMSG;
	}
	if (le.flags) {
		snprintf(why, wn, "header: flags 0x%" PRIx32 " unknown", le32toh(le.flags));
		return -EPROTO;
	}
	if (le16toh(le.hdr_size) != KLOG_XHDR_SIZE || !h->first_lsn ||
	    (h->last_lsn && h->last_lsn < h->first_lsn)) {
		snprintf(why, wn, "header: size %u, LSNs %" PRIu64 "..%" PRIu64 ": impossible",
			 le16toh(le.hdr_size), h->first_lsn, h->last_lsn);
		return -EBADMSG;
	}
	return 0;
}

size_t klog_xframe_size(uint32_t len)
{
	return (KLOG_XFRAME_HDR_SIZE + (size_t)len + KLOG_REC_ALIGN - 1) &
	       ~(size_t)(KLOG_REC_ALIGN - 1);
}

static uint32_t frame_crc(const struct xframe_le *le, const void *payload, uint32_t len)
{
	return klog_crc32c(part_crc(le, sizeof(*le)), payload, len);
}

size_t klog_xframe_seal(void *frame, uint64_t lsn, uint64_t txid, uint32_t rec_crc,
			uint32_t flags, uint32_t len)
{
	unsigned char *p = frame;
	size_t size = klog_xframe_size(len);
	struct xframe_le le = {
		.magic = htole32(flags & KLOG_REC_F_TOMBSTONE ? KLOG_XTOMB_MAGIC : KLOG_XFRAME_MAGIC),
		.len = htole32(len),
		.lsn = htole64(lsn),
		.txid = htole64(txid),
		.rec_crc = htole32(rec_crc),
	};

	le.crc = htole32(frame_crc(&le, p + sizeof(le), len));
	memcpy(p, &le, sizeof(le));
	memset(p + sizeof(le) + len, 0, size - sizeof(le) - len);
	return size;
}

int64_t klog_xframe_len(const void *buf, uint32_t max_len, char *why, size_t wn)
{
	struct xframe_le le;

	memcpy(&le, buf, sizeof(le));
	if (le32toh(le.magic) == KLOG_XTOMB_MAGIC && le.len) {
		snprintf(why, wn, "frame: a tombstone of length %" PRIu32, le32toh(le.len));
		return -EBADMSG;
	}
	if (le32toh(le.magic) != KLOG_XFRAME_MAGIC && le32toh(le.magic) != KLOG_XTOMB_MAGIC) {
		snprintf(why, wn, "frame: bad magic: 0x%08" PRIx32 " found, 0x%08x expected",
			 le32toh(le.magic), KLOG_XFRAME_MAGIC);
		return -EBADMSG;
	}
	if (le32toh(le.len) > max_len) {
		snprintf(why, wn, "frame: length %" PRIu32 " beyond the record limit %" PRIu32,
			 le32toh(le.len), max_len);
		return -EBADMSG;
	}
	return le32toh(le.len);
}

int klog_xframe_decode(const void *buf, size_t avail, uint32_t max_len, struct klog_rec *rec,
		       char *why, size_t wn)
{
	const unsigned char *p = buf;
	struct xframe_le le;
	uint32_t crc;
	int64_t len;

	len = avail < sizeof(le) ? -EBADMSG : klog_xframe_len(p, max_len, why, wn);
	if (avail < sizeof(le) || (len >= 0 && klog_xframe_size((uint32_t)len) > avail)) {
		snprintf(why, wn, "frame: cut short: %zu bytes", avail);
		return -EBADMSG;
	}
	if (len < 0)
		return (int)len;
	memcpy(&le, p, sizeof(le));
	crc = frame_crc(&le, p + sizeof(le), (uint32_t)len);
	if (crc != le32toh(le.crc)) {
		snprintf(why, wn, "frame: CRC 0x%08" PRIx32 " expected 0x%08" PRIx32, crc,
			 le32toh(le.crc));
		return -EBADMSG;
	}
	/* Padding is outside the CRC, as in a segment: anything but zeroes there is damage. */
	if (!klog_all_zero(p + sizeof(le) + len, klog_xframe_size((uint32_t)len) - sizeof(le) -
						  (size_t)len)) {
		snprintf(why, wn, "frame: non-zero padding");
		return -EBADMSG;
	}
	*rec = (struct klog_rec){ .lsn = le64toh(le.lsn), .txid = le64toh(le.txid),
				  .len = (uint32_t)len, .crc = le32toh(le.rec_crc),
				  .flags = le32toh(le.magic) == KLOG_XTOMB_MAGIC ? KLOG_REC_F_TOMBSTONE : 0,
				  .payload = p + sizeof(le) };
	return 0;
}

void klog_xend_encode(void *buf, const struct klog_xend *t)
{
	struct xend_le le = {
		.magic = htole32(KLOG_XEND_MAGIC),
		.count = htole64(t->count),
		.last_lsn = htole64(t->last_lsn),
		.hdr_crc = htole32(t->hdr_crc),
	};

	le.crc = htole32(part_crc(&le, sizeof(le)));
	memcpy(buf, &le, sizeof(le));
}

int klog_xend_decode(const void *buf, struct klog_xend *t, char *why, size_t wn)
{
	struct xend_le le;
	uint32_t crc;

	memcpy(&le, buf, sizeof(le));
	crc = part_crc(&le, sizeof(le));
	if (le32toh(le.magic) != KLOG_XEND_MAGIC || le.flags || crc != le32toh(le.crc)) {
		snprintf(why, wn, "trailer: magic 0x%08" PRIx32 ", flags 0x%" PRIx32 ", CRC 0x%08"
			 PRIx32 " expected 0x%08" PRIx32, le32toh(le.magic), le32toh(le.flags), crc,
			 le32toh(le.crc));
		return -EBADMSG;
	}
	*t = (struct klog_xend){ .count = le64toh(le.count), .last_lsn = le64toh(le.last_lsn),
				 .hdr_crc = le32toh(le.hdr_crc) };
	return 0;
}
