/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * access.bpf.h - who may append: datagrams addressed to this server (its
 * --bind addresses, or the interface's) from sources in the allow-list, with
 * header checksums that hold.  Netfilter never sees what XDP or TC consume,
 * so these checks are the port's only filter (doc/security.md).
 */
#ifndef KLOG_ACCESS_BPF_H
#define KLOG_ACCESS_BPF_H

#include "reply.bpf.h"

/* This server's addresses on the interface: klogd keeps them current. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
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

/*
 * Verify request UDP checksums in software (set by the loader).  Off where a
 * local peer's checksum offload hands the hook a partial sum (veth): then
 * the CRC-32C of KLOG_F_CRC is the only check of the bytes.
 */
const volatile __u8 klog_verify_udp = 0;

/* The packet's source (or destination) address as the access maps hold it. */
static __always_inline int klog_pkt_addr(void *data, void *data_end, const struct klog_pkt *pkt,
					 bool dst, struct klog_addr *a)
{
	void *l3 = data + (pkt->l3_off & 0x1f);

	if (pkt->ipv6) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		__builtin_memcpy(a->a, dst ? (void *)&ip6->daddr : (void *)&ip6->saddr, 16);
		return 0;
	}
	struct iphdr *ip = l3;

	if ((void *)(ip + 1) > data_end)
		return -1;
	__builtin_memset(a->a, 0, 10);
	a->a[10] = a->a[11] = 0xff;
	__builtin_memcpy(a->a + 12, dst ? (void *)&ip->daddr : (void *)&ip->saddr, 4);
	return 0;
}

/* Addressed to one of this server's addresses?  Others' traffic is not ours to take. */
static __always_inline bool klog_to_us(void *data, void *data_end, const struct klog_pkt *pkt)
{
	struct klog_addr a;

	return !klog_pkt_addr(data, data_end, pkt, true, &a) &&
	       bpf_map_lookup_elem(&klog_local, &a);
}

/* Is the source in the allow-list? */
static __always_inline bool klog_allowed(void *data, void *data_end, const struct klog_pkt *pkt)
{
	struct klog_allow_key k = { .prefixlen = 128 };

	return !klog_pkt_addr(data, data_end, pkt, false, &k.addr) &&
	       bpf_map_lookup_elem(&klog_allow, &k);
}

/* The IPv4 header checksum holds (IPv6 has none).  No device offloads it on receive. */
static __always_inline bool klog_ip_csum_ok(void *data, void *data_end, const struct klog_pkt *pkt)
{
	struct iphdr *ip = data + (pkt->l3_off & 0x1f);
	__u32 len;
	__u64 sum;

	if (pkt->ipv6)
		return true;
	if ((void *)(ip + 1) > data_end)
		return false;
	len = ip->ihl * 4;
	sum = (__u32)bpf_csum_diff(NULL, 0, (void *)ip, sizeof(*ip), 0);
	/* Options, a word at a time: the verifier needs every access bounded. */
	for (__u32 i = 0; i < 10; i++) {
		__u32 *w = (void *)(ip + 1) + 4 * i;

		if (sizeof(*ip) + 4 * i >= len)
			break;
		if ((void *)(w + 1) > data_end)
			return false;
		sum += *w;
	}
	return csum_fold(sum) == 0;
}

/*
 * The UDP checksum holds, given the negated sum of the payload after the
 * klog header (as the copy or the fingerprint computed it).  IPv4 allows a
 * datagram without one (0): then only KLOG_F_CRC can tell.
 */
static __always_inline bool klog_udp_csum_ok(void *data, void *data_end,
					     const struct klog_pkt *pkt, __u32 payload_neg)
{
	struct klog_l4 *l4 = data + (pkt->l4_off & 0xff);
	/* saddr and daddr: at byte 12 of an IPv4 header, byte 8 of an IPv6 one. */
	void *addrs = data + (pkt->l3_off & 0x1f) + (pkt->ipv6 ? 8 : 12);
	__u64 sum, pay;

	if (!klog_verify_udp)
		return true;
	if ((void *)(l4 + 1) > data_end)
		return false;
	if (!l4->udp.check)
		return !pkt->ipv6;
	sum = csum_pseudo(addrs, data_end, pkt->ipv6, pkt->udp_len);
	sum += (__u32)bpf_csum_diff(NULL, 0, (void *)l4, sizeof(*l4), 0);
	/* payload_neg sums the bytes' complements: folded and inverted, it is their sum. */
	pay = csum_fold((__u64)payload_neg);
	return csum_fold(sum + pay) == 0;
}

/*
 * A reply, or a datagram from the service port (another server's answer):
 * answering it could start two servers bouncing NACKs forever.
 */
static __always_inline bool klog_is_reply(void *data, void *data_end, const struct klog_pkt *pkt,
					  const struct klog_hdr *h)
{
	struct udphdr *udp = data + (pkt->l4_off & 0xff);

	return (void *)(udp + 1) > data_end || udp->source == udp->dest || klog_hdr_is_reply(h);
}

/* Record lsn, asked about as durable, was stored as a tombstone (klogd says so). */
static __always_inline bool klog_is_corrupt(const struct klog_ctl *ctl, __u64 lsn)
{
	return READ_ONCE(ctl->corrupt_records) && bpf_map_lookup_elem(&klog_corrupt, &lsn);
}

#endif /* KLOG_ACCESS_BPF_H */
