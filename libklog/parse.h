/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse.h - command-line numbers, server names, addresses and prefixes for
 * klogd, klogctl, the benchmarks and libklog's remote reader (internal).
 */
#ifndef KLOG_PARSE_H
#define KLOG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <klog/klog_abi.h>

/*
 * A whole unsigned number in decimal digits only (leading zeros are still
 * decimal: 010 is ten; no 0x, sign or space), with a k, M or G suffix
 * (powers of 1024) if suffix.  RETURN VALUE: 0; -EINVAL for anything else,
 * trailing characters or an overflow.
 */
int klog_parse_u64(const char *s, uint64_t *v, bool suffix);

/* A UDP port, decimal 1..65535.  RETURN VALUE: 0; -EINVAL for anything else. */
#define KLOG_PORT_RANGE "1..65535"
int klog_parse_port(const char *s, uint16_t *port);

/*
 * A duration in whole seconds: decimal digits with an optional unit, s
 * (the default), m, h or d: 90, 90s, 15m, 12h, 7d.  RETURN VALUE: 0;
 * -EINVAL for anything else, a sign or an overflow.
 */
int klog_parse_duration(const char *s, uint64_t *seconds);

/*
 * Split a server, HOST[:PORT] or [V6ADDR]:PORT, in place into host and port
 * (NULL if none given): what klog_client_open() takes.
 */
void klog_split_server(char *s, char **host, char **port);

/*
 * An IPv4 (dotted quad) or IPv6 address, as the access maps hold it (IPv4
 * mapped: ::ffff:a.b.c.d); *v4 says which was written.  RETURN VALUE: 0;
 * -EINVAL for anything else (a prefix, brackets, a zone, spaces).
 */
int klog_parse_addr(const char *s, struct klog_addr *a, bool *v4);

/*
 * A source prefix for klog_allow: ADDR/LEN (IPv4 LEN 0..32, IPv6 0..128),
 * or a bare ADDR (/32 or /128).  IPv4 /n is stored as /(96 + n) of the
 * mapped address, so 0.0.0.0/0 allows every IPv4 source and ::/0 every
 * source.  RETURN VALUE: 0; -EINVAL for a malformed address or length;
 * -EDOM if the address has bits set beyond the prefix (10.1.2.3/8: write
 * 10.0.0.0/8), which is refused rather than silently masked.
 */
int klog_parse_cidr(const char *s, struct klog_allow_key *k);

/* What klog_parse_cidr's err means, for a message after the text given. */
const char *klog_cidr_strerror(int err);

/* Room for any address or prefix klog_format_* writes, with its NUL. */
#define KLOG_CIDR_STRLEN 50

/* a as text: dotted quad for a mapped IPv4 address, else IPv6.  Returns buf. */
const char *klog_format_addr(const struct klog_addr *a, char *buf, size_t n);

/* k as klog_parse_cidr reads it back, always with its length: 10.0.0.0/8, ::/0. */
const char *klog_format_cidr(const struct klog_allow_key *k, char *buf, size_t n);

#endif
