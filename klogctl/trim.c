// SPDX-License-Identifier: GPL-2.0-only
/*
 * trim.c - `klogctl trim --dir DIR --before LSN`: delete the log's oldest
 * whole segments by hand, with the code and the lock klogd's retention uses
 * (libklog/segtrim.c), so it is safe while klogd runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "klogctl.h"
#include "parse.h"
#include "segtrim.h"

static void trim_usage(FILE *f)
{
	fprintf(f,
		"usage: klogctl trim --dir DIR --before LSN [--json]\n"
		"Delete the whole segments of the log in DIR whose records are all below LSN,\n"
		"oldest first: never the newest segment (the one klogd writes), so what is\n"
		"left is always the log from some LSN on. Safe while klogd runs (the same\n"
		"code and lock as klogd --retain-*). Prints what was deleted and the first\n"
		"LSN kept; --json prints {\"deleted_segments\":N,\"deleted_bytes\":N,\n"
		"\"first_lsn\":N,\"first_kept\":N,\"segments\":N,\"bytes\":N} (first_lsn: the\n"
		"log's first LSN before). Readers answer \"trimmed\" below the first kept.\n"
		"Exit status: 0 done (also if nothing could go), 1 an error, 2 usage.\n");
}

static void print(const struct klog_trim_result *r, uint64_t before, bool json)
{
	if (json) {
		printf("{\"deleted_segments\":%" PRIu64 ",\"deleted_bytes\":%" PRIu64
		       ",\"first_lsn\":%" PRIu64 ",\"first_kept\":%" PRIu64 ",\"segments\":%"
		       PRIu64 ",\"bytes\":%" PRIu64 "}\n", r->segments, r->bytes, r->first,
		       r->first_kept, r->kept, r->kept_bytes);
		return;
	}
	if (r->segments)
		printf("deleted %" PRIu64 " segment%s of LSNs %" PRIu64 "..%" PRIu64 ", %" PRIu64
		       " bytes\n", r->segments, r->segments == 1 ? "" : "s", r->first,
		       r->first_kept - 1, r->bytes);
	else
		printf("deleted nothing: no segment but the newest holds only LSNs below %" PRIu64
		       "\n", before);
	printf("first LSN kept %" PRIu64 " (%" PRIu64 " segment%s, %" PRIu64 " bytes)\n",
	       r->first_kept, r->kept, r->kept == 1 ? "" : "s", r->kept_bytes);
}

int cmd_trim(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "before", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct klog_trim_policy p = { .wait = true };
	struct klog_trim_result r;
	const char *dir = NULL;
	bool json = false;
	int o, fd, err;

	while ((o = getopt_long(argc, argv, "d:b:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'd': dir = optarg; break;
		case 'j': json = true; break;
		case 'b':
			if (klog_parse_u64(optarg, &p.below, false) || !p.below) {
				fprintf(stderr, "klogctl trim: invalid --before '%s': an LSN, "
					"1..%" PRIu64 "\n", optarg, UINT64_MAX);
				return 2;
			}
			break;
		case 'h': trim_usage(stdout); return 0;
		default: trim_usage(stderr); return 2;
		}
	}
	if (!dir || !p.below || optind != argc) {
		fprintf(stderr, "klogctl trim: %s\n", optind != argc ? "unexpected argument" :
			"--dir DIR and --before LSN are required");
		trim_usage(stderr);
		return 2;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ctl_fail(dir, -errno);
	err = klog_seg_trim(fd, &p, &r);
	close(fd);
	if (err == -ENOENT) {
		fprintf(stderr, "klogctl trim: %s holds no segment: not a log directory\n", dir);
		return 1;
	}
	if (err && r.segments)
		print(&r, p.below, json);
	if (err) {
		fprintf(stderr, "klogctl trim: %s: %s%s\n", dir, strerror(-err), r.segments ?
			" (after the deletions above; what is left is whole)" : "");
		return 1;
	}
	print(&r, p.below, json);
	return fflush(stdout) ? 1 : 0;
}
