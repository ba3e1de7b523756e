// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain.c - see explain.h.
 *
 * The codec (format.c) answers only yes or no, on the hot path; the
 * explanation is worked out again here, once something has already failed,
 * so the fast decoder carries no reporting.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"

int klog_seg_hdr_explain(const void *buf, size_t n, uint64_t first, struct klog_seg_hdr *h,
			 char *why, size_t wn)
{
	struct klog_seg_hdr le;
	int err;

	if (n < KLOG_SEG_HDR_SIZE) {
		snprintf(why, wn, "header: only %zu of %d bytes", n, KLOG_SEG_HDR_SIZE);
		return -EBADMSG;
	}
	err = klog_seg_hdr_decode(buf, n, h);
	if (!err && h->first_lsn != first) {
		snprintf(why, wn, "header: first LSN %" PRIu64 ", the name says %" PRIu64,
			 h->first_lsn, first);
		return -EBADMSG;
	}
	if (!err)
		return 0;
	memcpy(&le, buf, sizeof(le));
	if (le32toh(le.magic) != KLOG_SEG_MAGIC)
		snprintf(why, wn, "header: magic 0x%08" PRIx32 " expected 0x%08x",
			 le32toh(le.magic), KLOG_SEG_MAGIC);
	else if (le16toh(le.version) != KLOG_FORMAT_VERSION)
		snprintf(why, wn, "header: format version %u, this reader knows %d",
			 le16toh(le.version), KLOG_FORMAT_VERSION);
	else if (err == -EPROTO)
		snprintf(why, wn, "header: flags 0x%" PRIx32 " unknown", le32toh(le.flags));
	else {
		uint32_t crc = le32toh(le.crc);

		le.crc = 0;
		if (crc != klog_crc32c(0, &le, sizeof(le)))
			snprintf(why, wn, "header: CRC 0x%08" PRIx32 " expected 0x%08" PRIx32, crc,
				 klog_crc32c(0, &le, sizeof(le)));
		else
			snprintf(why, wn, "header: impossible sizes or non-zero bytes after it");
	}
	return err;
}

static bool zeroes(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int klog_rec_explain(const void *buf, size_t avail, uint64_t salt, uint64_t lsn,
		     uint32_t max_len, struct klog_rec *rec, char *why, size_t wn)
{
	const unsigned char *p = buf;
	int err = klog_rec_decode(buf, avail, salt, lsn, max_len, rec);
	struct klog_rec_hdr le;
	uint32_t len, crc;

	if (!err)
		return 0;
	if (avail < sizeof(le)) {
		snprintf(why, wn, "no record: %zu bytes left", avail);
		return err;
	}
	memcpy(&le, p, sizeof(le));
	len = le32toh(le.len);
	if (err == -ENODATA)
		snprintf(why, wn, "no record (zeroes)");
	else if (le32toh(le.magic) != KLOG_REC_MAGIC)
		snprintf(why, wn, "record magic 0x%08" PRIx32 " expected 0x%08x",
			 le32toh(le.magic), KLOG_REC_MAGIC);
	else if (le64toh(le.salt) != salt)
		snprintf(why, wn, "salt 0x%016" PRIx64 " expected 0x%016" PRIx64
			 " (bytes of another segment)", le64toh(le.salt), salt);
	else if (le64toh(le.lsn) != lsn)
		snprintf(why, wn, "LSN %" PRIu64 " found, %" PRIu64 " expected",
			 le64toh(le.lsn), lsn);
	else if (len > max_len)
		snprintf(why, wn, "length %" PRIu32 " above the maximum %" PRIu32, len, max_len);
	else if (len > avail - sizeof(le) || klog_rec_size(len) > avail)
		snprintf(why, wn, "length %" PRIu32 " runs past the segment's end (%zu bytes left)",
			 len, avail);
	else {
		crc = le32toh(le.crc);
		le.crc = 0;
		le.crc = klog_crc32c(klog_crc32c(0, &le, sizeof(le)), p + sizeof(le), len);
		if (crc != le.crc)
			snprintf(why, wn, "CRC 0x%08" PRIx32 " expected 0x%08" PRIx32, le.crc, crc);
		else if (!zeroes(p + sizeof(le) + len, klog_rec_size(len) - sizeof(le) - len))
			snprintf(why, wn, "non-zero padding after the payload");
		else
			snprintf(why, wn, "record does not decode");
	}
	return err;
}
