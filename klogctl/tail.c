// SPDX-License-Identifier: GPL-2.0-only
/*
 * tail.c - `klogctl tail`: every durable record from --from on as a JSON
 * line with its payload, and with --follow the ones that become durable
 * after, until SIGINT or SIGTERM.  Standard output is flushed per record,
 * so a pipe sees each as soon as it is durable.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ctl_print_record(), then the line out at once. */
static int print_flush(const struct klog_record *rec, const void *payload, void *ctx)
{
	int err = ctl_print_record(rec, payload, ctx);

	return err ? err : fflush(stdout) ? -EIO : 0;
}

/* The LSN to start from: --from, or the first kept (the first LSN there is, if none is yet). */
static int start_at(struct klog_reader *r, uint64_t from, uint64_t *next)
{
	uint64_t first, last;
	int err = klog_reader_bounds(r, &first, &last);

	if (err == -ENODATA) {
		*next = from ? from : KLOG_FIRST_LSN;
		return 0;
	}
	*next = from > first ? from : first;
	return err;
}

int cmd_tail(int argc, char **argv)
{
	static const struct option opts[] = {
		CTL_SRC_OPTIONS,
		CTL_SRC_SERVER_OPTION,
		{ "from", required_argument, NULL, 'F' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_stop };
	struct ctl_out out = { .json = true, .payload = true };
	struct klog_reader *r;
	bool follow = false;
	struct ctl_src src = { 0 };
	uint64_t from = 0;
	int o, err;

	while ((o = getopt_long(argc, argv, CTL_SRC_SHORT "F:fh", opts, NULL)) != -1) {
		if (ctl_src_opt(&src, o, optarg))
			continue;
		switch (o) {
		case 'F':
			if (klog_parse_u64(optarg, &from, false)) {
				fprintf(stderr, "klogctl: invalid --from\n");
				return 2;
			}
			break;
		case 'f': follow = true; break;
		case 'h': ctl_usage(stdout); return 0;
		default: ctl_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "klogctl tail: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if ((err = ctl_src_check(&src, "tail", true)))
		return err;
	if ((err = ctl_src_open(&src, &r)))
		return ctl_fail(src.name, err);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = start_at(r, from, &out.next);
	while (!err) {
		err = klog_iterate(r, out.next, UINT64_MAX, print_flush, &out);
		if (err || !follow)
			break;
		while (!stop && (err = klog_reader_wait(r, out.next, WAIT_SLICE_MS)) == -ETIMEDOUT)
			;
		if (stop) {
			err = 0;
			break;
		}
	}
	if (err) {
		char lead[96];

		snprintf(lead, sizeof(lead), "klogctl tail: stopped at LSN %" PRIu64 " after %"
			 PRIu64 " records", out.next, out.printed);
		ctl_read_fail(&src, r, lead, err);
	}
	klog_reader_close(r);
	return err ? 1 : 0;
}
