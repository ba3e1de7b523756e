/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * durable.bpf.h - durable acknowledgements: where to send the DURABLE notice
 * of a record, QUERY answers from the durable LSN klogd publishes, and the
 * ring buffer that wakes a sleeping klogd so a lone record waits on no timer.
 */
#ifndef KLOG_DURABLE_BPF_H
#define KLOG_DURABLE_BPF_H

#include "parse.bpf.h"

/* Return addresses of durable appends, by lsn % window; klogd reads it by mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct klog_waiter);
} klog_waiters SEC(".maps");

/* Wake-ups for klogd: it polls this ring buffer while it sleeps. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} klog_wake SEC(".maps");

/* Note where record lsn's DURABLE notice goes: the request's source. */
static __always_inline int klog_waiter_set(void *data, void *data_end,
					   const struct klog_pkt *pkt, __u64 lsn)
{
	__u32 slot = klog_window_slot(lsn);
	struct klog_waiter *w = bpf_map_lookup_elem(&klog_waiters, &slot);
	struct udphdr *udp = data + (pkt->l4_off & 0xff);
	void *l3 = data + (pkt->l3_off & 0x1f);

	if (!w || (void *)(udp + 1) > data_end)
		return -1;
	if (pkt->ipv6) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		__builtin_memcpy(w->client_addr, &ip6->saddr, 16);
		__builtin_memcpy(w->server_addr, &ip6->daddr, 16);
	} else {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end)
			return -1;
		__builtin_memcpy(w->client_addr, &ip->saddr, 4);
		__builtin_memcpy(w->server_addr, &ip->daddr, 4);
	}
	w->client_port = udp->source;
	w->server_port = udp->dest;
	w->ipv6 = pkt->ipv6;
	/* The record's entry is published after this, with a full barrier. */
	WRITE_ONCE(w->lsn, lsn);
	return 0;
}

/* After a record is published: if klogd sleeps, wake it. */
static __always_inline void klog_wake_drain(struct klog_ctl *ctl, __u64 lsn)
{
	/* Read after the entry's xchg: klogd sets the flag, then looks for work. */
	if (READ_ONCE(ctl->drain_sleeping) &&
	    !bpf_ringbuf_output(&klog_wake, &lsn, sizeof(lsn), BPF_RB_FORCE_WAKEUP))
		klog_stat_add(KLOG_STAT_wakeups, 1);
}

#endif /* KLOG_DURABLE_BPF_H */
