// SPDX-License-Identifier: GPL-2.0-only
/* parse.c - see parse.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int klog_parse_u64(const char *s, uint64_t *v, bool suffix)
{
	uint64_t x = 0;
	const char *p;

	/*
	 * Decimal digits only, leading zeros and all: a segment's name is its
	 * zero-padded LSN, and base 0 read one as octal (5264 as 2740).
	 */
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -EINVAL;
	if (suffix && *p) {
		int shift = *p == 'k' || *p == 'K' ? 10 : *p == 'M' ? 20 : *p == 'G' ? 30 : -1;

		if (shift < 0 || p[1] || x > (UINT64_MAX >> shift))
			return -EINVAL;
		x <<= shift;
		p++;
	}
	if (*p)
		return -EINVAL;
	*v = x;
	return 0;
}

int klog_parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (klog_parse_u64(s, &v, false) || !v || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int klog_parse_duration(const char *s, uint64_t *seconds)
{
	static const struct { char unit; uint64_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	unsigned long long x;
	uint64_t mul = 1;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]) && units[i].unit != *end; i++)
			;
		if (i == sizeof(units) / sizeof(units[0]) || end[1])
			return -EINVAL;
		mul = units[i].mul;
	}
	if (x > UINT64_MAX / mul)
		return -EINVAL;
	*seconds = x * mul;
	return 0;
}

void klog_split_server(char *s, char **host, char **port)
{
	char *colon;

	*port = NULL;
	if (*s == '[') {
		char *close = strchr(s, ']');

		*host = s + 1;
		if (close) {
			*close = 0;
			if (close[1] == ':')
				*port = close + 2;
		}
		return;
	}
	*host = s;
	colon = strchr(s, ':');
	if (colon && !strchr(colon + 1, ':')) {
		*colon = 0;
		*port = colon + 1;
	}
}

/* The ::ffff:0:0/96 prefix that holds IPv4 addresses in struct klog_addr. */
static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool is_v4_mapped(const struct klog_addr *a)
{
	return !memcmp(a->a, v4_mapped, sizeof(v4_mapped));
}

int klog_parse_addr(const char *s, struct klog_addr *a, bool *v4)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, s, b) == 1) {
		memcpy(a->a, v4_mapped, sizeof(v4_mapped));
		memcpy(a->a + 12, b, 4);
		*v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		memcpy(a->a, b, 16);
		*v4 = false;
		return 0;
	}
	return -EINVAL;
}

int klog_parse_cidr(const char *s, struct klog_allow_key *k)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int len, max;
	bool v4;

	if (alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (klog_parse_addr(addr, &k->addr, &v4))
		return -EINVAL;
	max = v4 ? 32 : 128;
	len = max;
	if (slash) {
		uint64_t l;

		/* At most 3 digits: 10.0.0.0/0008 is more likely a typo than /8. */
		if (strlen(slash + 1) > 3 || klog_parse_u64(slash + 1, &l, false) || l > max)
			return -EINVAL;
		len = (unsigned int)l;
	}
	k->prefixlen = v4 ? 96 + len : len;
	/* Bits beyond the prefix are a typo more often than not (10.1.2.3/8): refuse them. */
	for (unsigned int bit = k->prefixlen; bit < 128; bit++)
		if (k->addr.a[bit / 8] & (0x80 >> (bit % 8)))
			return -EDOM;
	return 0;
}

const char *klog_format_addr(const struct klog_addr *a, char *buf, size_t n)
{
	if (is_v4_mapped(a))
		return inet_ntop(AF_INET, a->a + 12, buf, (socklen_t)n) ? buf : "?";
	return inet_ntop(AF_INET6, a->a, buf, (socklen_t)n) ? buf : "?";
}

const char *klog_format_cidr(const struct klog_allow_key *k, char *buf, size_t n)
{
	char addr[INET6_ADDRSTRLEN];
	bool v4 = k->prefixlen >= 96 && is_v4_mapped(&k->addr);

	klog_format_addr(&k->addr, addr, sizeof(addr));
	if (!v4 && is_v4_mapped(&k->addr)) /* a prefix shorter than the mapped block's */
		inet_ntop(AF_INET6, k->addr.a, addr, sizeof(addr));
	snprintf(buf, n, "%s/%u", addr, v4 ? k->prefixlen - 96 : k->prefixlen);
	return buf;
}

const char *klog_cidr_strerror(int err)
{
	return err == -EDOM ? "bits set beyond the prefix length (give the network's address, "
			      "e.g. 10.0.0.0/8)"
			    : "not an IPv4 or IPv6 address with an optional /LEN (0..32, 0..128)";
}
