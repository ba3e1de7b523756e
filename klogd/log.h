/* SPDX-License-Identifier: GPL-2.0-only */
/* log.h - klogd's messages: one line each on stderr, prefixed "klogd: ". */
#ifndef KLOGD_LOG_H
#define KLOGD_LOG_H

__attribute__((format(printf, 1, 2))) void klogd_log(const char *fmt, ...);

#endif
