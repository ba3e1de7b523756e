/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - klogd's messages: one line each on stderr, with a level.  On a
 * terminal or a file a line reads "klogd: MESSAGE", "klogd: warning:
 * MESSAGE" or "klogd: error: MESSAGE"; when stderr is the systemd journal
 * (JOURNAL_STREAM names it) a line is "<N>MESSAGE": sd-daemon's priority
 * prefix, which the journal takes as the level (it names the program itself).
 */
#ifndef KLOGD_LOG_H
#define KLOGD_LOG_H

#include <syslog.h>

/* level: LOG_ERR, LOG_WARNING, LOG_NOTICE or LOG_INFO (syslog.h's numbers, as sd-daemon's). */
__attribute__((format(printf, 2, 3))) void klogd_logl(int level, const char *fmt, ...);

/* An event: info. */
#define klogd_log(...) klogd_logl(LOG_INFO, __VA_ARGS__)
/* Something an operator should look at; klogd goes on. */
#define klogd_warn(...) klogd_logl(LOG_WARNING, __VA_ARGS__)
/* Something klogd cannot go on with (it stops, or refuses to start). */
#define klogd_err(...) klogd_logl(LOG_ERR, __VA_ARGS__)

#endif
