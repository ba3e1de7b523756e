// SPDX-License-Identifier: GPL-2.0-only
/*
 * tail.c - `klogctl tail`: every durable record from --from on as a JSON
 * line with its payload (or, with --raw, as an export file's frames), and
 * with --follow the ones that become durable after, until SIGINT or
 * SIGTERM.  Standard output is flushed per record, so a pipe sees each as
 * soon as it is durable.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "klogctl.h"
#include "parse.h"

/*
 * How long one klog_reader_wait() may block, so that a stop signal (which
 * does not cut a wait short) ends tail within this.
 */
#define WAIT_SLICE_MS 500

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

struct tail_out {
	struct ctl_out out;
	struct klog_export *raw; /* --raw: frames of an export file, each written at once */
};

/* ctl_print_record(), then the line out at once; or the record's frame. */
static int print_flush(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct tail_out *t = ctx;
	int err;

	if (!t->raw) {
		err = ctl_print_record(rec, payload, &t->out);
		return err ? err : fflush(stdout) ? -EIO : 0;
	}
	if ((err = klog_export_add(t->raw, rec, payload)))
		return err;
	t->out.next = rec->lsn + 1;
	t->out.printed++;
	return 0;
}

/* --raw: the export file's header, the log's id from r, open-ended from next. */
static int raw_start(struct klog_reader *r, const struct ctl_src *src, struct tail_out *t)
{
	uint64_t id;
	int err = klog_reader_log_id(r, &id);

	if (err)
		return ctl_read_fail(src, r, "klogctl tail --raw: the log's id", err);
	if ((err = klog_export_open(&t->raw, STDOUT_FILENO, id, t->out.next, 0)))
		return ctl_fail("klogctl tail --raw", err);
	return 0;
}

/*
 * The LSN to start from: --from (a trimmed one is an error, as for dump:
 * tail never skips a record silently), or the first kept (the first LSN
 * there is, if none is yet).
 */
static int start_at(struct klog_reader *r, uint64_t from, uint64_t *next)
{
	uint64_t first, last;
	int err;

	if (from) {
		*next = from;
		return 0;
	}
	err = klog_reader_bounds(r, &first, &last);
	*next = err == -ENODATA ? KLOG_FIRST_LSN : first;
	return err == -ENODATA ? 0 : err;
}

int cmd_tail(int argc, char **argv)
{
	static const struct option opts[] = {
		CTL_SRC_OPTIONS,
		CTL_SRC_SERVER_OPTION,
		{ "from", required_argument, NULL, 'F' },
		{ "follow", no_argument, NULL, 'f' },
		{ "raw", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_stop };
	struct tail_out t = { .out = { .json = true, .payload = true } };
	struct klog_reader *r;
	bool follow = false, raw = false;
	struct ctl_src src = { 0 };
	uint64_t from = 0;
	int o, err;

	while ((o = getopt_long(argc, argv, CTL_SRC_SHORT "F:fh", opts, NULL)) != -1) {
		if (ctl_src_opt(&src, o, optarg))
			continue;
		switch (o) {
		case 'F':
			if (ctl_num("tail", "--from", optarg, 0, UINT64_MAX, &from))
				return 2;
			break;
		case 'f': follow = true; break;
		case 'w': raw = true; break;
		case 'h': ctl_cmd_usage(stdout, "tail", true); return 0;
		default: return ctl_usage_error("tail");
		}
	}
	if (optind != argc) {
		fprintf(stderr, "klogctl tail: unexpected argument '%s'\n", argv[optind]);
		return ctl_usage_error("tail");
	}
	if ((err = ctl_src_check(&src, "tail", true)))
		return err;
	if (raw && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "klogctl tail --raw: standard output is a terminal: redirect it to "
				"a file or a pipe\n");
		return 2;
	}
	if ((err = ctl_src_open(&src, &r)))
		return ctl_src_open_fail(&src, err);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = start_at(r, from, &t.out.next);
	if (!err && raw && (err = raw_start(r, &src, &t))) {
		klog_reader_close(r);
		return err;
	}
	while (!err) {
		err = klog_iterate(r, t.out.next, UINT64_MAX, print_flush, &t);
		if (err || !follow)
			break;
		while (!stop && (err = klog_reader_wait(r, t.out.next, WAIT_SLICE_MS)) == -ETIMEDOUT)
			;
		if (stop) {
			err = 0;
			break;
		}
	}
	if (err) {
		char lead[96];

		snprintf(lead, sizeof(lead), "klogctl tail: stopped at LSN %" PRIu64 " after %"
			 PRIu64 " records", t.out.next, t.out.printed);
		ctl_read_fail(&src, r, lead, err);
	}
	/* A clean end (the durable end, or a stop signal) gets the trailer: a complete file. */
	if (t.raw && err)
		klog_export_abort(t.raw);
	else if (t.raw && (err = klog_export_close(t.raw)))
		ctl_fail("klogctl tail --raw", err);
	klog_reader_close(r);
	return err ? 1 : 0;
}
