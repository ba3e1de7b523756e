/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reply.bpf.h - turn a request into its ACK/NACK in place: swap addresses and
 * ports, cut the payload, fix lengths and checksums.
 *
 * XDP recomputes the UDP checksum from scratch: on veth the request may carry
 * only a partial (offload) checksum, and the reply leaves as a raw frame.  TC
 * updates it by difference through bpf_l4_csum_replace(), which knows the
 * skb's checksum state (a CHECKSUM_PARTIAL skb must keep a pseudo-header sum).
 */
#ifndef KLOG_REPLY_BPF_H
#define KLOG_REPLY_BPF_H

#include "csum.bpf.h"
#include "kerby.bpf.h"
#include "parse.bpf.h"

/* UDP header plus klog header: the part of the datagram the reply keeps. */
struct klog_l4 {
	struct udphdr udp;
	struct klog_hdr hdr;
};

#define KLOG_REPLY_UDP_LEN ((__u16)sizeof(struct klog_l4))

static __always_inline void *klog_data(void *ctx, enum klog_hook hook)
{
	if (hook == KLOG_HOOK_XDP)
		return (void *)(long)((struct xdp_md *)ctx)->data;
	return (void *)(long)((struct __sk_buff *)ctx)->data;
}

static __always_inline void *klog_data_end(void *ctx, enum klog_hook hook)
{
	if (hook == KLOG_HOOK_XDP)
		return (void *)(long)((struct xdp_md *)ctx)->data_end;
	return (void *)(long)((struct __sk_buff *)ctx)->data_end;
}

/* The UDP and klog headers of pkt in the packet as it is now, or NULL. */
static __always_inline struct klog_l4 *klog_l4_of(void *ctx, enum klog_hook hook,
						  const struct klog_pkt *pkt)
{
	void *data = klog_data(ctx, hook), *data_end = klog_data_end(ctx, hook);
	struct klog_l4 *l4 = data + (pkt->l4_off & 0xff);

	return (void *)(l4 + 1) > data_end ? NULL : l4;
}

static __always_inline void klog_swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/*
 * Rewrite the request's headers into the reply's (lengths as after the
 * trim).  Swapping addresses and ports leaves every checksum unchanged;
 * the IPv4 header checksum is updated here for its new total length.
 */
static __always_inline int klog_reply_headers(void *data, void *data_end,
					      const struct klog_pkt *pkt,
					      const struct klog_hdr *reply)
{
	struct ethhdr *eth = data;
	struct klog_l4 *l4 = data + (pkt->l4_off & 0xff);
	__u16 l3_len = (pkt->l4_off - pkt->l3_off) + KLOG_REPLY_UDP_LEN;
	void *l3 = data + (pkt->l3_off & 0x1f);

	if ((void *)(eth + 1) > data_end || (void *)(l4 + 1) > data_end)
		return -1;
	klog_swap_mac(eth);
	if (pkt->ipv6) {
		struct ipv6hdr *ip6 = l3;
		struct in6_addr tmp;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		tmp = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = tmp;
		ip6->payload_len = bpf_htons(KLOG_REPLY_UDP_LEN);
	} else {
		struct iphdr *ip = l3;
		__be32 tmp;

		if ((void *)(ip + 1) > data_end)
			return -1;
		tmp = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = tmp;
		csum_replace2(&ip->check, ip->tot_len, bpf_htons(l3_len));
		ip->tot_len = bpf_htons(l3_len);
	}
	__be16 port = l4->udp.source;

	l4->udp.source = l4->udp.dest;
	l4->udp.dest = port;
	l4->udp.len = bpf_htons(KLOG_REPLY_UDP_LEN);
	l4->hdr = *reply;
	return 0;
}

/* XDP: headers, trim, full UDP checksum.  Returns 0 when the frame is the reply. */
static __always_inline int klog_reply_xdp(struct xdp_md *ctx, const struct klog_pkt *pkt,
					  const struct klog_hdr *reply, __u32 pkt_len)
{
	void *data = klog_data(ctx, KLOG_HOOK_XDP);
	void *data_end = klog_data_end(ctx, KLOG_HOOK_XDP);
	int new_len = pkt->hdr_off + sizeof(struct klog_hdr);

	if (klog_reply_headers(data, data_end, pkt, reply))
		return -1;
	if (bpf_xdp_adjust_tail(ctx, new_len - (int)pkt_len))
		return -1;

	struct klog_l4 *l4 = klog_l4_of(ctx, KLOG_HOOK_XDP, pkt);
	/* saddr and daddr: at byte 12 of an IPv4 header, byte 8 of an IPv6 one. */
	void *addrs = klog_data(ctx, KLOG_HOOK_XDP) + (pkt->l3_off & 0x1f) + (pkt->ipv6 ? 8 : 12);
	__u64 sum;

	if (!l4)
		return -1;
	data_end = klog_data_end(ctx, KLOG_HOOK_XDP);
	l4->udp.check = 0;
	sum = csum_pseudo(addrs, data_end, pkt->ipv6, KLOG_REPLY_UDP_LEN);
	sum += (__u32)bpf_csum_diff(NULL, 0, (void *)l4, sizeof(*l4), 0);
	l4->udp.check = csum_fold(sum) ?: 0xffff; /* 0 means "no checksum" */
	return 0;
}

/* TC: headers, checksum by difference, trim. Returns 0 when the skb is the reply. */
static __always_inline int klog_reply_tc(struct __sk_buff *skb, const struct klog_pkt *pkt,
					 const struct klog_hdr *reply)
{
	__u32 csum_off = pkt->l4_off + offsetof(struct udphdr, check);
	__u64 mangled = pkt->ipv6 ? 0 : BPF_F_MARK_MANGLED_0;
	struct klog_l4 old, *l4;
	__u32 diff, payload_neg;

	if (klog_pkt_csum_neg(skb, KLOG_HOOK_TC, pkt->hdr_off + sizeof(struct klog_hdr),
			      pkt->udp_len - sizeof(struct klog_l4), &payload_neg))
		return -1;
	l4 = klog_l4_of(skb, KLOG_HOOK_TC, pkt);
	if (!l4)
		return -1;
	old = *l4;
	if (klog_reply_headers(klog_data(skb, KLOG_HOOK_TC), klog_data_end(skb, KLOG_HOOK_TC),
			       pkt, reply))
		return -1;
	/* The datagram loses its payload and changes its UDP and klog headers. */
	diff = bpf_csum_diff((void *)&old, sizeof(old), (void *)l4, sizeof(*l4), payload_neg);
	if (bpf_skb_change_tail(skb, pkt->hdr_off + sizeof(struct klog_hdr), 0))
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, 0, diff, mangled))
		return -1;
	/* The pseudo-header's length word changes as well. */
	if (bpf_l4_csum_replace(skb, csum_off, old.udp.len, bpf_htons(KLOG_REPLY_UDP_LEN),
				BPF_F_PSEUDO_HDR | mangled | sizeof(__u16)))
		return -1;
	return 0;
}

#endif /* KLOG_REPLY_BPF_H */
