// SPDX-License-Identifier: GPL-2.0-only
/*
 * output.c - how dump and tail print a record: dump's line of fields, or
 * one JSON object per line, the payload in base64 (RFC 4648, with padding)
 * so that any JSON reader gets the bytes back exactly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <klog/klog.h>

#include "klogctl.h"

/* Write len bytes of p in base64 to f. */
static void put_base64(FILE *f, const uint8_t *p, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);

		putc(abc[v >> 18 & 63], f);
		putc(abc[v >> 12 & 63], f);
		putc(i + 1 < len ? abc[v >> 6 & 63] : '=', f);
		putc(i + 2 < len ? abc[v & 63] : '=', f);
	}
}

int ctl_print_record(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct ctl_out *out = ctx;

	bool tomb = rec->flags & KLOG_RECORD_CORRUPT;

	out->next = rec->lsn + 1;
	out->printed++;
	out->tombstones += tomb;
	if (out->json)
		printf("{\"lsn\":%" PRIu64 ",\"txid\":%" PRIu64 ",\"len\":%" PRIu32
		       ",\"crc\":\"0x%08" PRIx32 "\"", rec->lsn, rec->txid, rec->len, rec->crc);
	else
		printf("%" PRIu64 " %" PRIu32 " %" PRIu64 " %08" PRIx32, rec->lsn, rec->len,
		       rec->txid, rec->crc);
	if (tomb)
		fputs(out->json ? ",\"corrupt\":true" : " CORRUPT", stdout);
	else if (out->payload) {
		fputs(out->json ? ",\"payload\":\"" : " ", stdout);
		put_base64(stdout, payload, rec->len);
		if (out->json)
			putchar('"');
	}
	fputs(out->json ? "}\n" : "\n", stdout);
	return ferror(stdout) ? -EIO : 0;
}
