// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain.c - see explain.h.
 *
 * The codec (format.c) classifies a record that fails
 * (klog_rec_diagnose); the words for an operator are made here, once
 * something has already failed, for klogd's recovery and libklog's readers.
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

int klog_rec_explain(const void *buf, size_t avail, uint64_t salt, uint64_t lsn,
		     uint32_t max_len, struct klog_rec *rec, char *why, size_t wn)
{
	int err = klog_rec_decode(buf, avail, salt, lsn, max_len, rec);
	struct klog_rec_fault f;

	if (!err)
		return 0;
	klog_rec_diagnose(buf, avail, salt, lsn, max_len, &f);
	klog_rec_fault_str(&f, why, wn);
	return err;
}

void klog_rec_fault_str(const struct klog_rec_fault *f, char *why, size_t wn)
{
	if (f->crc)
		snprintf(why, wn, "CRC 0x%08" PRIx32 " expected 0x%08" PRIx32, f->crc_computed,
			 f->crc_stored);
	else if (f->values && f->hex)
		snprintf(why, wn, "%s: 0x%" PRIx64 " found, 0x%" PRIx64 " expected", f->why,
			 f->found, f->expected);
	else if (f->values)
		snprintf(why, wn, "%s: %" PRIu64 " found, %" PRIu64 " expected", f->why, f->found,
			 f->expected);
	else
		snprintf(why, wn, "%s", f->why ? f->why : "record decodes");
}
