// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_parse - the command-line parsers of libklog/parse.c on the input as
 * one string (up to its first NUL): source prefixes (klog_parse_cidr(),
 * klogd --allow, klogctl allow), addresses (klog_parse_addr(), --bind),
 * numbers (klog_parse_u64()) and server names (klog_split_server()).
 * A finding: a crash; a prefix or address that, formatted and parsed
 * again, is not the same key or text; a prefix longer than 128 bits or
 * with bits set past its length.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"

static void cidr(const char *s)
{
	char text[KLOG_CIDR_STRLEN], again[KLOG_CIDR_STRLEN];
	struct klog_allow_key k, k2;
	int err;

	memset(&k, 0, sizeof(k));
	err = klog_parse_cidr(s, &k);
	FUZZ_CHECK(klog_cidr_strerror(err) != NULL, "no words for %d", err);
	if (err) {
		FUZZ_CHECK(err == -EINVAL || err == -EDOM, "error %d", err);
		return;
	}
	FUZZ_CHECK(k.prefixlen <= 128, "prefix length %u", k.prefixlen);
	for (unsigned int bit = k.prefixlen; bit < 128; bit++)
		FUZZ_CHECK(!(((const uint8_t *)&k.addr)[bit / 8] & (0x80 >> bit % 8)),
			   "bit %u set past /%u", bit, k.prefixlen);
	klog_format_cidr(&k, text, sizeof(text));
	memset(&k2, 0, sizeof(k2));
	FUZZ_CHECK(!klog_parse_cidr(text, &k2) && !memcmp(&k, &k2, sizeof(k)),
		   "%s does not read back as it was formatted", text);
	FUZZ_CHECK(!strcmp(klog_format_cidr(&k2, again, sizeof(again)), text),
		   "%s formats again as %s", text, again);
}

static void addr(const char *s)
{
	char text[KLOG_CIDR_STRLEN];
	struct klog_addr a, a2;
	bool v4, v4b;

	memset(&a, 0, sizeof(a));
	if (klog_parse_addr(s, &a, &v4))
		return;
	klog_format_addr(&a, text, sizeof(text));
	memset(&a2, 0, sizeof(a2));
	FUZZ_CHECK(!klog_parse_addr(text, &a2, &v4b) && !memcmp(&a, &a2, sizeof(a)),
		   "%s does not read back as it was formatted", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *host, *port;
	uint64_t v;

	FUZZ_CHECK(s, "out of memory");
	memcpy(s, data, size);
	s[size] = 0;
	cidr(s);
	addr(s);
	klog_parse_u64(s, &v, true);
	klog_parse_u64(s, &v, false);
	klog_split_server(s, &host, &port);
	free(s);
	return 0;
}
