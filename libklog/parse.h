/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse.h - command-line numbers and server names for klogd, klogctl, the
 * benchmarks and libklog's remote reader (internal).
 */
#ifndef KLOG_PARSE_H
#define KLOG_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A whole unsigned number (decimal, 0x hex or 0 octal), with a k, M or G
 * suffix (powers of 1024) if suffix.  RETURN VALUE: 0; -EINVAL for anything
 * else, a sign, trailing characters or an overflow.
 */
int klog_parse_u64(const char *s, uint64_t *v, bool suffix);

/*
 * Split a server, HOST[:PORT] or [V6ADDR]:PORT, in place into host and port
 * (NULL if none given): what klog_client_open() takes.
 */
void klog_split_server(char *s, char **host, char **port);

#endif
