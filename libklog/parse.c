// SPDX-License-Identifier: GPL-2.0-only
/* parse.c - see parse.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int klog_parse_u64(const char *s, uint64_t *v, bool suffix)
{
	unsigned long long x;
	char *end;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (suffix && *end) {
		int shift = *end == 'k' || *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : -1;

		if (shift < 0 || end[1] || x > (ULLONG_MAX >> shift))
			return -EINVAL;
		x <<= shift;
		end++;
	}
	if (*end)
		return -EINVAL;
	*v = x;
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
