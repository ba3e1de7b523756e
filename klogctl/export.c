// SPDX-License-Identifier: GPL-2.0-only
/*
 * export.c - `klogctl export`: a range of a log, read through libklog from
 * any SOURCE, written as one export file (doc/format.md, "Export files").
 * The file is complete only if every record of the range was read: on the
 * first that cannot be, the export stops without a trailer, and says why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "klogctl.h"

struct export_args {
	struct ctl_src src;
	uint64_t from, to;
	bool has_from, has_to;
	const char *output; /* NULL: standard output */
};

struct export_ctx {
	struct klog_export *x;
	uint64_t next; /* the LSN after the last one written */
	int werr;      /* writing failed: not the reader's error */
};

/* --from 0 is no LSN, and --to UINT64_MAX none the log will reach: both mean "not given". */
static int parse_args(int argc, char **argv, struct export_args *a)
{
	int err;

	*a = (struct export_args){ .to = UINT64_MAX };
	if ((err = ctl_src_args(argc, argv, &a->src, &a->from, &a->to, NULL, &a->output)))
		return err;
	a->has_from = a->from;
	a->has_to = a->to != UINT64_MAX;
	if (optind != argc) {
		fprintf(stderr, "klogctl export: unexpected argument '%s'\n", argv[optind]);
		return ctl_usage_error("export");
	}
	if (a->has_from && a->has_to && a->to < a->from) {
		fprintf(stderr, "klogctl export: --to %" PRIu64 " is below --from %" PRIu64 "\n",
			a->to, a->from);
		return 2;
	}
	/* Binary frames on a terminal are of no use to anyone, and may upset it. */
	if (!a->output && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "klogctl export: standard output is a terminal: give --output FILE "
				"or a pipe\n");
		return 2;
	}
	return 0;
}

static int add_record(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct export_ctx *e = ctx;

	if ((e->werr = klog_export_add(e->x, rec, payload)))
		return e->werr;
	e->next = rec->lsn + 1;
	return 0;
}

/*
 * The range to write: --from (default the first record) to --to (default
 * the last durable now).  An empty log with neither is an empty export.
 * Returns the exit status, 0 to go on.
 */
static int range(struct export_args *a, struct klog_reader *r)
{
	uint64_t first, last;
	int err = klog_reader_bounds(r, &first, &last);

	if (err == -ENODATA && !a->has_to) {
		a->from = a->has_from ? a->from : 1;
		a->to = a->from - 1;
		return 0;
	}
	if (err)
		return ctl_read_fail(&a->src, r, "klogctl export: the log's end", err);
	a->from = a->has_from ? a->from : first;
	a->to = a->has_to ? a->to : last;
	if (a->to < a->from)
		a->to = a->from; /* --from past the end: reading it says why */
	return 0;
}

/* Every record of a's range from r to fd; returns the exit status. */
static int write_range(struct export_args *a, struct klog_reader *r, int fd, const char *out)
{
	struct export_ctx e = { .next = a->from };
	uint64_t id;
	char lead[96];
	int err;

	if ((err = klog_reader_log_id(r, &id)))
		return ctl_read_fail(&a->src, r, "klogctl export: the log's id", err);
	/* An empty range has no last LSN to name: open-ended, with a trailer of no record. */
	if ((err = klog_export_open(&e.x, fd, id, a->from, a->to >= a->from ? a->to : 0)))
		return ctl_fail(out, err);
	err = a->to >= a->from ? klog_iterate(r, a->from, a->to, add_record, &e) : 0;
	if (e.werr) {
		klog_export_abort(e.x);
		return ctl_fail(out, e.werr);
	}
	/*
	 * klog_iterate() ends early and clean where the log ends: the range was
	 * not all there; a read of the next LSN says where the log ends.
	 */
	if (!err && e.next <= a->to && ((err = klog_read(r, e.next, NULL, 0, NULL)) >= 0 ||
					err == -ENOSPC))
		err = -EAGAIN;
	if (err) {
		klog_export_abort(e.x);
		snprintf(lead, sizeof(lead), "klogctl export: LSN %" PRIu64 " (%s has no trailer)",
			 e.next, out);
		return ctl_read_fail(&a->src, r, lead, err);
	}
	return (err = klog_export_close(e.x)) ? ctl_fail(out, err) : 0;
}

int cmd_export(int argc, char **argv)
{
	const char *out;
	struct klog_reader *r;
	struct export_args a;
	int err = parse_args(argc, argv, &a), fd = STDOUT_FILENO, status;

	if (err)
		return err;
	if ((err = ctl_src_open(&a.src, &r)))
		return ctl_src_open_fail(&a.src, err);
	if ((status = range(&a, r))) {
		klog_reader_close(r);
		return status;
	}
	out = a.output ? a.output : "standard output";
	if (a.output && (fd = open(a.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		klog_reader_close(r);
		return ctl_fail(a.output, -errno);
	}
	status = write_range(&a, r, fd, out);
	klog_reader_close(r);
	if (!a.output)
		return status;
	/* An export is a copy to keep: on disk before it is called done. */
	if (!status && fsync(fd))
		status = ctl_fail(a.output, -errno);
	if (close(fd) && !status)
		status = ctl_fail(a.output, -errno);
	return status;
}
