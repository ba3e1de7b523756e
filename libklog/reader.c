// SPDX-License-Identifier: GPL-2.0-only
/*
 * reader.c - the reader's public calls (klog.h), each handed to the
 * reader's source (rsrc.h): a log directory, a JetStream stream, a server
 * or an export file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "rsrc.h"
#include "udp.h"

struct klog_reader {
	const struct klog_rsrc_ops *ops;
	void *src;
	char msg[KLOG_READER_MSG]; /* the last error's detail */
};

int klog_rsrc_fail(char *msg, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, KLOG_READER_MSG, fmt, ap);
	va_end(ap);
	return err;
}

int klog_reader_start(struct klog_reader **out, const struct klog_rsrc_ops *ops,
		      const char *where, const void *arg)
{
	struct klog_reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->ops = ops;
	if ((err = ops->open(&r->src, where, arg, r->msg))) {
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

uint64_t klog_rsrc_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX : klog_now_ns() + (uint64_t)timeout_ms * KLOG_NS_PER_MS;
}

int klog_rsrc_left_ms(uint64_t deadline)
{
	uint64_t now = klog_now_ns(), ms;

	if (deadline == UINT64_MAX)
		return -1;
	if (deadline <= now)
		return 0;
	ms = (deadline - now + KLOG_NS_PER_MS - 1) / KLOG_NS_PER_MS;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

int klog_rsrc_poll(int (*lookup)(void *src, uint64_t lsn, struct klog_rec *rec), void *src,
		   uint64_t lsn, int timeout_ms, int every_ms)
{
	uint64_t deadline = klog_rsrc_deadline(timeout_ms);
	struct klog_rec rec;
	int err, left;

	while ((err = lookup(src, lsn, &rec)) == -EAGAIN) {
		if (!(left = klog_rsrc_left_ms(deadline)))
			return -ETIMEDOUT;
		usleep(1000u * (unsigned int)(left < 0 || left > every_ms ? every_ms : left));
	}
	return err;
}

int klog_reader_open(struct klog_reader **r, const char *dir)
{
	return klog_reader_start(r, &klog_rdir_ops, dir, NULL);
}

void klog_reader_close(struct klog_reader *r)
{
	if (!r)
		return;
	r->ops->close(r->src);
	free(r);
}

const char *klog_reader_strerror(struct klog_reader *r)
{
	return r->msg;
}

int klog_reader_bounds(struct klog_reader *r, uint64_t *first, uint64_t *last)
{
	return r->ops->bounds(r->src, first, last);
}

int klog_read(struct klog_reader *r, uint64_t lsn, void *buf, size_t cap,
	      struct klog_record *out)
{
	struct klog_rec rec;
	int err = r->ops->lookup(r->src, lsn, &rec);

	if (err)
		return err;
	if (out)
		*out = klog_rec_meta(&rec, lsn);
	if (rec.flags & KLOG_REC_F_TOMBSTONE)
		return klog_rsrc_fail(r->msg, -EILSEQ, "LSN %" PRIu64 ": txid %" PRIu64 ", stored "
				      "CRC 0x%08" PRIx32 ": no bytes kept", lsn, rec.txid, rec.crc);
	if (cap < rec.len)
		return -ENOSPC;
	memcpy(buf, rec.payload, rec.len);
	return (int)rec.len;
}

int klog_reader_open_file(struct klog_reader **r, const char *path)
{
	return klog_reader_start(r, &klog_rfile_ops, path, NULL);
}

int klog_reader_log_id(struct klog_reader *r, uint64_t *id)
{
	r->msg[0] = 0;
	return r->ops->log_id ? r->ops->log_id(r->src, id) : -EOPNOTSUPP;
}

/*
 * A range as one lookup per LSN, for the sources whose records are at hand
 * (mapped, or one pread away), so that a read costs no more in a range.
 */
static int iterate_lookups(struct klog_reader *r, uint64_t from, uint64_t to, klog_iter_fn fn,
			   void *ctx)
{
	for (uint64_t lsn = from; lsn <= to && lsn >= from; lsn++) {
		struct klog_rec rec;
		struct klog_record meta;
		int ret = r->ops->lookup(r->src, lsn, &rec);

		if (ret == -EAGAIN) {
			r->msg[0] = 0;
			return 0;
		}
		if (ret)
			return ret;
		meta = klog_rec_meta(&rec, lsn);
		if ((ret = fn(&meta, klog_rec_payload(&rec), ctx)))
			return ret;
	}
	return 0;
}

int klog_iterate(struct klog_reader *r, uint64_t from, uint64_t to, klog_iter_fn fn, void *ctx)
{
	if (!r->ops->iterate)
		return iterate_lookups(r, from, to, fn, ctx);
	return r->ops->iterate(r->src, from, to, fn, ctx);
}

int klog_reader_wait(struct klog_reader *r, uint64_t lsn, int timeout_ms)
{
	return r->ops->wait(r->src, lsn, timeout_ms < 0 ? -1 : timeout_ms);
}
