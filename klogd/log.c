// SPDX-License-Identifier: GPL-2.0-only
/* log.c - see log.h. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void klogd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("klogd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
