// SPDX-License-Identifier: GPL-2.0-only
/*
 * mklog - write a clean log for tests/unit/test-klogctl.sh to damage:
 *   mklog DIR SEGMENTS RECORDS_PER_SEGMENT [LOG_ID]
 * Record LSN L (from 1) has txid L + 1000 (tests/lib/logbuild.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logbuild.h"

int main(int argc, char **argv)
{
	struct logbuild b = { .log_id = 0x10c1d };
	int err;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: mklog DIR SEGMENTS RECORDS_PER_SEGMENT [LOG_ID]\n");
		return 2;
	}
	b.segments = (unsigned int)strtoul(argv[2], NULL, 0);
	b.per_seg = (unsigned int)strtoul(argv[3], NULL, 0);
	if (argc == 5)
		b.log_id = strtoull(argv[4], NULL, 0);
	if ((err = logbuild_write(argv[1], &b))) {
		fprintf(stderr, "mklog: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	return 0;
}
