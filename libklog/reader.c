// SPDX-License-Identifier: GPL-2.0-only
/*
 * reader.c - the reader's public calls (klog.h), each handed to the
 * reader's source (rsrc.h): a log directory, a JetStream stream or an
 * export file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klog/klog.h>

#include "rsrc.h"

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
		      const char *where, const char *name)
{
	struct klog_reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->ops = ops;
	if ((err = ops->open(&r->src, where, name, r->msg))) {
		free(r);
		return err;
	}
	*out = r;
	return 0;
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
		if ((ret = fn(&meta, rec.payload, ctx)))
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
