// SPDX-License-Identifier: GPL-2.0-only
/*
 * soak_dump.c - `klog-soak-dump DIR` (or `--nats URLS --stream NAME`): one
 * line per durable record of the log in DIR (or the JetStream stream),
 * "LSN TXID CRC32C" with the CRC-32C of the payload alone, the same
 * line `klogctl bench --log` writes for each acknowledged record, so that
 * tools/soak.sh can compare what was acknowledged with what is on disk.
 * (klogctl dump's CRC is the on-disk record's, which covers the segment's
 * salt, unknown to a client.)  Exit status 0, or 1 with a message when the
 * log cannot be read (a damaged record included).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <klog/klog.h>

#include "format.h"

static int print_record(const struct klog_record *rec, const void *payload, void *ctx)
{
	(void)ctx;
	return printf("%" PRIu64 " %" PRIu64 " %08" PRIx32 "\n", rec->lsn, rec->txid,
		      klog_crc32c(0, payload, rec->len)) < 0 ? -EIO : 0;
}

int main(int argc, char **argv)
{
	struct klog_reader *r;
	uint64_t first, last;
	int err;

	if (argc == 5 && !strcmp(argv[1], "--nats") && !strcmp(argv[3], "--stream"))
		err = klog_reader_open_nats(&r, argv[2], argv[4]);
	else if (argc == 2)
		err = klog_reader_open(&r, argv[1]);
	else {
		fprintf(stderr, "usage: klog-soak-dump DIR\n"
			"       klog-soak-dump --nats URLS --stream NAME\n");
		return 2;
	}
	if (err) {
		fprintf(stderr, "klog-soak-dump: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	err = klog_reader_bounds(r, &first, &last);
	if (!err)
		err = klog_iterate(r, first, last, print_record, NULL);
	if (err && err != -ENODATA) { /* ENODATA: nothing durable yet, nothing to print */
		fprintf(stderr, "klog-soak-dump: %s: %s (%s)\n", argv[argc - 1], strerror(-err),
			klog_reader_strerror(r));
		klog_reader_close(r);
		return 1;
	}
	klog_reader_close(r);
	return fflush(stdout) ? 1 : 0;
}
