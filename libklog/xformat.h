/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xformat.h - the export file format (doc/format.md, "Export files"): a
 * header naming the log and the range, one frame per record in LSN order,
 * and a trailer that marks the file complete.  Unlike a segment it carries
 * no salt and no index: it is written as a stream (to a pipe, too) and read
 * front to back.  Everything is little-endian.  Internal to klog; decoders
 * say why in words on failure (why, wn bytes).
 */
#ifndef KLOG_XFORMAT_H
#define KLOG_XFORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

#define KLOG_X_MAGIC 0x5058454bu     /* bytes "KEXP" */
#define KLOG_XFRAME_MAGIC 0x5246584bu /* bytes "KXFR" */
/*
 * A tombstone's frame (len 0): its own magic, so that a reader that
 * predates tombstones refuses it as damage rather than read an empty record.
 */
#define KLOG_XTOMB_MAGIC 0x4254584bu /* bytes "KXTB" */
#define KLOG_XEND_MAGIC 0x444e454bu  /* bytes "KEND" */
#define KLOG_X_VERSION 1
#define KLOG_XHDR_SIZE 40
#define KLOG_XFRAME_HDR_SIZE 32
#define KLOG_XEND_SIZE 32

/* An export's header, decoded. */
struct klog_xhdr {
	uint64_t log_id;
	uint64_t first_lsn; /* of the first frame; never 0 */
	uint64_t last_lsn;  /* of the last frame; 0: open-ended (a stream) */
	uint32_t crc;       /* the header's CRC, which the trailer repeats */
};

/* An export's trailer, decoded. */
struct klog_xend {
	uint64_t count;    /* frames in the file */
	uint64_t last_lsn; /* of the last frame; first_lsn - 1 if none */
	uint32_t hdr_crc;  /* the header's CRC: the trailer belongs to that header */
};

/* Write h (crc computed, and set in h) as KLOG_XHDR_SIZE bytes at buf. */
void klog_xhdr_encode(void *buf, struct klog_xhdr *h);

/*
 * Decode the header at buf (n bytes).  RETURN VALUE: 0; -EBADMSG if short,
 * not an export (magic), bad CRC, wrong size or an impossible range;
 * -EPROTO for another version or unknown flags.
 */
int klog_xhdr_decode(const void *buf, size_t n, struct klog_xhdr *h, char *why, size_t wn);

/* Bytes a frame of len payload bytes takes, padding to KLOG_REC_ALIGN included. */
size_t klog_xframe_size(uint32_t len);

/*
 * Seal the frame whose len payload bytes are already at frame +
 * KLOG_XFRAME_HDR_SIZE: write its header and CRC and zero its padding.
 * rec_crc is the CRC of the record as the log stored it; flags
 * KLOG_REC_F_TOMBSTONE makes a tombstone's frame (len must be 0).  Returns
 * klog_xframe_size(len).
 */
size_t klog_xframe_seal(void *frame, uint64_t lsn, uint64_t txid, uint32_t rec_crc,
			uint32_t flags, uint32_t len);

/*
 * The length a frame header at buf (KLOG_XFRAME_HDR_SIZE bytes) gives, or
 * -EBADMSG if its magic is not a frame's or the length is above max_len
 * (or not 0 for a tombstone's).
 */
int64_t klog_xframe_len(const void *buf, uint32_t max_len, char *why, size_t wn);

/*
 * Decode the whole frame at buf (avail bytes, at least its
 * klog_xframe_size()): rec gets its LSN, txid, length, the stored record's
 * CRC (rec->crc), flags (KLOG_REC_F_TOMBSTONE for a tombstone's frame) and
 * payload (pointing into buf).  The LSN is not checked.
 * RETURN VALUE: 0; -EBADMSG for a bad magic, length, CRC or padding.
 */
int klog_xframe_decode(const void *buf, size_t avail, uint32_t max_len, struct klog_rec *rec,
		       char *why, size_t wn);

/* Write t as KLOG_XEND_SIZE bytes at buf. */
void klog_xend_encode(void *buf, const struct klog_xend *t);

/* Decode a trailer (KLOG_XEND_SIZE bytes).  RETURN VALUE: 0; -EBADMSG (magic, flags, CRC). */
int klog_xend_decode(const void *buf, struct klog_xend *t, char *why, size_t wn);

#endif /* KLOG_XFORMAT_H */
