// SPDX-License-Identifier: GPL-2.0-only
/* vrep.c - a verify's problems to its callback (vrep.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "vrep.h"

bool klog_vtombstone(struct klog_vrep *v, const char *file, uint64_t off, uint64_t lsn)
{
	struct klog_verify_problem p = {
		.err = -EILSEQ, .file = file, .offset = off, .lsn = lsn,
		.what = "tombstone: the record's bytes were damaged before they were stored "
			"(they failed the client's CRC-32C)",
	};
	int ret;

	v->sum->tombstones++;
	if (v->fn && (ret = v->fn(&p, v->ctx))) {
		v->ret = ret;
		v->stop = true;
	}
	return v->stop;
}

bool klog_vreport(struct klog_vrep *v, int err, const char *file, uint64_t off, uint64_t lsn,
		  const char *fmt, ...)
{
	struct klog_verify_problem p = { .err = err, .file = file, .offset = off, .lsn = lsn };
	char what[256];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	p.what = what;
	v->sum->problems++;
	if (!v->ret)
		v->ret = -EBADMSG;
	if (v->fn && (ret = v->fn(&p, v->ctx))) {
		v->ret = ret;
		v->stop = true;
	}
	if (!(v->flags & KLOG_VERIFY_KEEP_GOING))
		v->stop = true;
	return v->stop;
}
