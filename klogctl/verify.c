// SPDX-License-Identifier: GPL-2.0-only
/*
 * verify.c - the structural half of `klogctl verify`: klog_verify() on a
 * log directory, klog_verify_nats() on a stream, or klog_verify_file() on
 * an export file, one line per problem and a summary.  (What bench sent is
 * checked in bench.c.)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <klog/klog.h>

#include "klogctl.h"

static int print_problem(const struct klog_verify_problem *p, void *ctx)
{
	const char *where = ctx; /* the directory, "stream NAME", or the export file */

	printf("%s%s%s", where, p->file ? "/" : "", p->file ? p->file : "");
	if (p->offset != UINT64_MAX)
		printf(" offset %" PRIu64, p->offset);
	if (p->lsn != UINT64_MAX)
		printf(" LSN %" PRIu64, p->lsn);
	printf(": %s\n", p->what);
	return 0;
}

int ctl_verify_log(const struct ctl_src *src, bool keep_going)
{
	unsigned int flags = keep_going ? KLOG_VERIFY_KEEP_GOING : 0;
	void *where = (void *)src->name;
	struct klog_verify_summary sum;
	int err = src->file ? klog_verify_file(src->file, flags, print_problem, where, &sum) :
		  src->dir  ? klog_verify(src->dir, flags, print_problem, where, &sum) :
			      klog_verify_nats(src->nats, src->stream, flags, print_problem, where,
					       &sum);

	if (err && err != -EBADMSG) {
		fprintf(stderr, "klogctl: %s: %s\n", src->name,
			src->file ? strerror(-err) : ctl_src_err_str(src, err));
		return 1;
	}
	/* A stream or a file has no segments: it is named where a directory's count of them goes. */
	if (src->dir)
		printf("%" PRIu64 " segment%s", sum.segments, sum.segments == 1 ? "" : "s");
	else
		printf("%s", src->name);
	printf(", %" PRIu64 " record%s", sum.records, sum.records == 1 ? "" : "s");
	if (sum.records)
		printf(", LSNs %" PRIu64 "..%" PRIu64, sum.first_lsn, sum.last_lsn);
	if (sum.tombstones)
		printf(", %" PRIu64 " tombstone%s (CORRUPT)", sum.tombstones,
		       sum.tombstones == 1 ? "" : "s");
	printf(", log id 0x%016" PRIx64 ": ", sum.log_id);
	if (!err)
		printf("clean\n");
	else
		printf("%" PRIu64 " problem%s%s\n", sum.problems, sum.problems == 1 ? "" : "s",
		       keep_going ? "" : " (stopped at the first; --keep-going lists all)");
	fflush(stdout);
	return err ? 1 : 0;
}
