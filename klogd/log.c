// SPDX-License-Identifier: GPL-2.0-only
/* log.c - see log.h. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/*
 * Whether stderr is the journal: systemd sets JOURNAL_STREAM to the
 * "DEV:INODE" of the stream it connected, so a stderr redirected elsewhere
 * since (a shell under a unit) is told apart.  Looked at once.
 */
static bool to_journal(void)
{
	static int known = -1; /* threads may race to fill it: they find the same */
	unsigned long long dev, ino;
	int yes = __atomic_load_n(&known, __ATOMIC_RELAXED);
	const char *e;
	struct stat st;

	if (yes >= 0)
		return yes;
	e = getenv("JOURNAL_STREAM");
	yes = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
	      (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	__atomic_store_n(&known, yes, __ATOMIC_RELAXED);
	return yes;
}

static void vlog(int level, const char *fmt, va_list ap)
{
	char buf[1024], *line = buf, *big = NULL;
	va_list again;
	int n;

	/* Formatted first, so that a line is one write and lines of two threads never mix. */
	va_copy(again, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	/* A long one (libbpf's verifier log) is kept whole. */
	if (n >= (int)sizeof(buf) && (big = malloc((size_t)n + 1))) {
		vsnprintf(big, (size_t)n + 1, fmt, again);
		line = big;
	}
	va_end(again);
	if (to_journal()) /* the journal names the program: no "klogd: " */
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "klogd: %s%s\n", level <= LOG_ERR ? "error: "
			: level == LOG_WARNING ? "warning: " : "", line);
	free(big);
}

void klogd_logl(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
