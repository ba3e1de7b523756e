// SPDX-License-Identifier: GPL-2.0-only
/*
 * holdread DIR - one libklog reader of the log in DIR, opened at start and
 * kept open: for each LSN read from standard input (one a line), one line
 * "LSN ok LEN" or "LSN trimmed|ERRNO-NAME DETAIL" on standard output,
 * flushed.  test-retain.sh asks it before and after segments are deleted
 * under it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klog/klog.h>

int main(int argc, char **argv)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_reader *r;
	char line[64];
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: holdread DIR\n");
		return 2;
	}
	if ((err = klog_reader_open(&r, argv[1]))) {
		fprintf(stderr, "holdread: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	printf("open\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		uint64_t lsn = strtoull(line, NULL, 10);
		int n = klog_read(r, lsn, buf, sizeof(buf), NULL);

		if (n >= 0)
			printf("%" PRIu64 " ok %d\n", lsn, n);
		else
			printf("%" PRIu64 " %s %s\n", lsn, n == -ENOENT ? "trimmed" : strerror(-n),
			       klog_reader_strerror(r));
		fflush(stdout);
	}
	klog_reader_close(r);
	return 0;
}
