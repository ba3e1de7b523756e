// SPDX-License-Identifier: GPL-2.0-only
/*
 * export.c - writing an export file (klog.h, klog_export_*; the format is
 * xformat.h's).
 *
 * Nothing is buffered past the record being added: each frame goes to the
 * descriptor in one write before klog_export_add() returns, so a reader at
 * the other end of a pipe (klogctl tail --raw) sees every record as it is
 * added.  The writer refuses what would make a file its reader rejects
 * (an LSN out of sequence or outside the range), so a file it closes is
 * always whole; a write that fails leaves a torn frame, and every call
 * after it fails too.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "xformat.h"

struct klog_export {
	int fd;
	struct klog_xhdr h;
	uint64_t next; /* the LSN the next frame must carry */
	int err;       /* a write failed: the file is torn */
	uint8_t buf[]; /* one frame of the largest size */
};

/* All n bytes at buf to x's descriptor, waiting if it is non-blocking and full. */
static int write_all(struct klog_export *x, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (!x->err && n) {
		ssize_t w = write(x->fd, p, n);
		struct pollfd pfd = { .fd = x->fd, .events = POLLOUT };

		if (w < 0 && errno == EAGAIN && poll(&pfd, 1, -1) >= 0)
			continue;
		if (w < 0 && errno != EINTR)
			x->err = -errno;
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
	return x->err;
}

int klog_export_open(struct klog_export **out, int fd, uint64_t log_id, uint64_t from,
		     uint64_t to)
{
	struct klog_export *x;
	uint8_t hdr[KLOG_XHDR_SIZE];
	int err;

	if (fd < 0 || !from || (to && to < from))
		return -EINVAL;
	if (!(x = malloc(sizeof(*x) + klog_xframe_size(KLOG_MAX_RECORD))))
		return -ENOMEM;
	*x = (struct klog_export){ .fd = fd, .next = from,
				   .h = { .log_id = log_id, .first_lsn = from, .last_lsn = to } };
	klog_xhdr_encode(hdr, &x->h);
	if ((err = write_all(x, hdr, sizeof(hdr)))) {
		free(x);
		return err;
	}
	*out = x;
	return 0;
}

int klog_export_add(struct klog_export *x, const struct klog_record *rec, const void *payload)
{
	size_t size;

	if (x->err)
		return x->err;
	if (rec->lsn != x->next || (x->h.last_lsn && rec->lsn > x->h.last_lsn) ||
	    rec->len > KLOG_MAX_RECORD || (rec->len && !payload) ||
	    (rec->flags & ~KLOG_RECORD_CORRUPT) || ((rec->flags & KLOG_RECORD_CORRUPT) && rec->len))
		return -EINVAL;
	if (rec->len)
		memcpy(x->buf + KLOG_XFRAME_HDR_SIZE, payload, rec->len);
	size = klog_xframe_seal(x->buf, rec->lsn, rec->txid, rec->crc,
				rec->flags & KLOG_RECORD_CORRUPT, rec->len);
	if (write_all(x, x->buf, size))
		return x->err;
	x->next++;
	return 0;
}

int klog_export_close(struct klog_export *x)
{
	struct klog_xend t = { .count = x->next - x->h.first_lsn, .last_lsn = x->next - 1,
			       .hdr_crc = x->h.crc };
	uint8_t buf[KLOG_XEND_SIZE];
	int err = x->err;

	if (!err && x->h.last_lsn && x->next != x->h.last_lsn + 1)
		err = -EINVAL; /* the header promised more: a trailer would be a lie */
	if (!err) {
		klog_xend_encode(buf, &t);
		err = write_all(x, buf, sizeof(buf));
	}
	free(x);
	return err;
}

void klog_export_abort(struct klog_export *x)
{
	free(x);
}
