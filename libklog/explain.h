/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * explain.h - why bytes on disk are not the segment header or the record
 * they should be, in words for an operator: the reader's and klog_verify()'s
 * error details and klogd's recovery messages.  Internal to klog.
 */
#ifndef KLOG_EXPLAIN_H
#define KLOG_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

/*
 * Decode the header block buf (n bytes) of the segment named for first; on
 * failure say why in why (wn bytes).
 * RETURN VALUE: 0 with h filled; -EBADMSG or -EPROTO as klog_seg_hdr_decode(),
 * -EBADMSG if the header's first LSN is not the one its name gives.
 */
int klog_seg_hdr_explain(const void *buf, size_t n, uint64_t first, struct klog_seg_hdr *h,
			 char *why, size_t wn);

/*
 * klog_rec_decode(), saying on failure why in why (wn bytes): the field
 * that is wrong with the value found and the one expected, or the CRC the
 * record carries and the one its bytes give.
 * RETURN VALUE: as klog_rec_decode().
 */
int klog_rec_explain(const void *buf, size_t avail, uint64_t salt, uint64_t lsn,
		     uint32_t max_len, struct klog_rec *rec, char *why, size_t wn);

/* f (klog_rec_diagnose) in words, into why (wn bytes). */
void klog_rec_fault_str(const struct klog_rec_fault *f, char *why, size_t wn);

#endif /* KLOG_EXPLAIN_H */
