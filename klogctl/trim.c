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
			if (ctl_num("trim", "--before", optarg, 1, UINT64_MAX, &p.below))
				return 2;
			break;
		case 'h': ctl_cmd_usage(stdout, "trim", true); return 0;
		default: return ctl_usage_error("trim");
		}
	}
	if (!dir || !p.below || optind != argc) {
		fprintf(stderr, "klogctl trim: %s\n", optind != argc ? "unexpected argument" :
			"--dir DIR and --before LSN are required");
		return ctl_usage_error("trim");
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
