/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fixed_slot.h - what the fixed-slot baseline's BPF side (fixed_slot.bpf.h)
 * and its userspace tools (fixed_log, mem_cost, the tests) both see: a slot's
 * layout and the counters.  Included after vmlinux.h from BPF, after
 * <linux/types.h> from userspace.
 */
#ifndef KLOG_FIXED_SLOT_H
#define KLOG_FIXED_SLOT_H

/* Slots a log holds unless its loader resizes it: the LSN picks slot lsn % slots. */
#define FIXED_SLOTS_DEFAULT 4096

/* The start of every slot; the payload follows, up to the slot's size. */
struct fixed_head {
	__u64 lsn;
	__u32 len;
	__u32 pad;
};

/* Per-CPU counters of the XDP program (fixed_log.bpf.c). */
struct fixed_stats {
	__u64 appends;      /* kept in a slot and ACKed with XDP_TX */
	__u64 spilled;      /* valid APPENDs larger than the slot: XDP_PASS to userspace */
	__u64 refused;      /* klog datagrams that are not a valid APPEND: XDP_PASS */
	__u64 reply_errors; /* kept, but the ACK could not be built: dropped */
};

#endif /* KLOG_FIXED_SLOT_H */
