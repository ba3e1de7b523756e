/* SPDX-License-Identifier: GPL-2.0-only */
/* klog_common.bpf.h - includes, load-time settings, verdicts, control and stats maps. */
#ifndef KLOG_COMMON_BPF_H
#define KLOG_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <klog/klog_abi.h>

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))
#define barrier() asm volatile("" ::: "memory")

/* Which hook runs the shared code; a constant, so the other branch is compiled out. */
enum klog_hook { KLOG_HOOK_XDP, KLOG_HOOK_TC };

/* What the hook should do with the packet. */
enum klog_verdict {
	KLOG_V_PASS,       /* not ours: hand to the stack untouched */
	KLOG_V_DROP_SHORT, /* ours, too short to answer */
	KLOG_V_DROP_MAGIC, /* ours by port, not by magic */
	KLOG_V_DROP,       /* could not build the reply */
	KLOG_V_REPLY,      /* the packet now holds the reply: send it back */
};

/* Set by the loader between open and load (see libklog/kern.c). */
const volatile __u16 klog_port = KLOG_DEFAULT_PORT;
const volatile __u32 klog_window = 1;      /* allocation map entries */
const volatile __u64 kerby_pool_blocks = 1; /* pool map entries */
const volatile __u32 kerby_pool_kind = KERBY_POOL_RING;
/* size - 1 when the size is a power of two, else 0: a mask costs less than a division. */
const volatile __u32 klog_window_mask;
const volatile __u64 kerby_pool_mask;

/*
 * i mod n, where mask is n - 1 for a power of two (load-time constants: the
 * verifier drops the branch not taken).
 */
static __always_inline __u64 klog_mod(__u64 i, __u64 n, __u64 mask)
{
	return mask ? i & mask : i % n;
}

/* The slot of lsn in the maps with one entry per LSN of the window. */
static __always_inline __u32 klog_window_slot(__u64 lsn)
{
	return klog_mod(lsn, klog_window, klog_window_mask);
}

/* Control map: LSN and watermark state shared with klogd through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct klog_ctl);
} klog_ctl SEC(".maps");

/* Per-CPU counters; bpftool map dump prints them by field name. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct klog_stats);
} klog_stats SEC(".maps");

static __always_inline struct klog_ctl *klog_ctl_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&klog_ctl, &zero);
}

static __always_inline void klog_stat_add(enum klog_stat_id id, __u64 n)
{
	__u32 zero = 0;
	__u64 *st = bpf_map_lookup_elem(&klog_stats, &zero);

	/* Per-CPU value: no other writer, so no atomic is needed. */
	if (st && id < KLOG_STAT__MAX)
		st[id] += n;
}

#endif /* KLOG_COMMON_BPF_H */
