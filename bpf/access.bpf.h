/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * access.bpf.h - who may append: datagrams addressed to this server (its
 * --bind addresses, or the interface's) from sources in the allow-list, with
 * header checksums that hold.  Netfilter never sees what XDP or TC consume,
 * so these checks are the port's only filter (doc/security.md).
 */
#ifndef KLOG_ACCESS_BPF_H
#define KLOG_ACCESS_BPF_H

#include "csum.bpf.h"
#include "parse.bpf.h"

/* This server's addresses on the interface: klogd keeps them current. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KLOG_MAX_LOCAL_ADDRS);
	__type(key, struct klog_addr);
	__type(value, __u32);
} klog_local SEC(".maps");

/* Sources allowed to send requests (--allow, klogctl allow); ::/0 allows all. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KLOG_MAX_ALLOW);
	__type(key, struct klog_allow_key);
	__type(value, __u32);
} klog_allow SEC(".maps");

/* Tombstoned LSNs, written by klogd before they become durable (answers: CORRUPT). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KLOG_MAX_CORRUPT);
	__type(key, __u64);
	__type(value, __u32);
} klog_corrupt SEC(".maps");

#endif /* KLOG_ACCESS_BPF_H */
