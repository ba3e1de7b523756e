// SPDX-License-Identifier: GPL-2.0-only
/*
 * mkstream - write a klog stream for tests/unit/test-klogctl-nats.sh, as
 * klogd would (tests/lib/jstest.h), with damage where asked:
 *   mkstream URL STREAM COUNT [flip LSN] [salt LSN] [purge SEQ] [plain]
 * Records 1..COUNT, LSN L with txid L + 1000 and logbuild_len(L) bytes, log
 * id 0x10c1d; flip: one payload bit of LSN flipped; salt: LSN sealed with
 * another salt; purge: the messages below SEQ purged; plain: no klog
 * description.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "jstest.h"
#include "logbuild.h"

#define LOG_ID 0x10c1dull

struct damage {
	uint64_t flip, salt, purge; /* 0: none */
	bool plain;
};

static int parse(int argc, char **argv, struct damage *d)
{
	for (int i = 4; i < argc; i++) {
		uint64_t *v = !strcmp(argv[i], "flip") ? &d->flip : !strcmp(argv[i], "salt") ?
			      &d->salt : !strcmp(argv[i], "purge") ? &d->purge : NULL;

		if (!strcmp(argv[i], "plain"))
			d->plain = true;
		else if (v && i + 1 < argc)
			*v = strtoull(argv[++i], NULL, 0);
		else
			return -1;
	}
	return 0;
}

/* Record lsn as asked: clean, flipped or with another salt. */
static int publish(struct klog_js *c, uint64_t lsn, const struct damage *d)
{
	return jstest_publish(c, lsn, logbuild_len(lsn), lsn == d->salt ? ~LOG_ID : LOG_ID,
			      lsn == d->flip ? (long)sizeof(struct klog_rec_hdr) : -1);
}

int main(int argc, char **argv)
{
	struct damage d = { 0 };
	struct klog_js c;
	char err[256];
	uint64_t n;
	int ret;

	if (argc < 4 || parse(argc, argv, &d)) {
		fprintf(stderr, "usage: mkstream URL STREAM COUNT [flip LSN] [salt LSN] "
			"[purge SEQ] [plain]\n");
		return 2;
	}
	n = strtoull(argv[3], NULL, 0);
	if ((ret = klog_js_connect(&c, argv[1], argv[2], 5000, 0, err, sizeof(err)))) {
		fprintf(stderr, "mkstream: %s\n", err);
		return 1;
	}
	ret = d.plain ? jstest_create(&c, NULL) : jstest_create_log(&c, LOG_ID);
	for (uint64_t lsn = 1; lsn <= n && !ret; lsn++)
		ret = publish(&c, lsn, &d);
	if (!ret && d.purge)
		ret = jstest_purge(&c, d.purge);
	klog_js_close(&c);
	if (ret)
		fprintf(stderr, "mkstream: %s: %s\n", argv[2], strerror(-ret));
	return ret ? 1 : 0;
}
