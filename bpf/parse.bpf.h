/* SPDX-License-Identifier: GPL-2.0-only */
/* parse.bpf.h - Ethernet (+1 VLAN), IPv4/IPv6 and UDP parsing to the klog header. */
#ifndef KLOG_PARSE_BPF_H
#define KLOG_PARSE_BPF_H

#include "klog_common.bpf.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF
#define ETH_ALEN 6

/* Where the headers of one klog datagram sit, as offsets from the frame start. */
struct klog_pkt {
	__u32 l3_off;
	__u32 l4_off;
	__u32 hdr_off;  /* klog header */
	__u32 udp_len;  /* from the UDP header, host order */
	bool ipv6;
};

/* Headers may sit no deeper than this: Ethernet, a VLAN tag, IPv4 with options. */
#define KLOG_MAX_L4_OFF (sizeof(struct ethhdr) + sizeof(struct vlan_hdr) + 60)

/*
 * Find the UDP datagram for our port.  Returns KLOG_V_REPLY when pkt is
 * filled in and the UDP header plus a full klog header are in [data,
 * data_end); KLOG_V_PASS for traffic that is not ours; KLOG_V_DROP_SHORT when
 * it is ours but too short to answer.
 */
static __always_inline int klog_parse(void *data, void *data_end, __u16 port,
				      struct klog_pkt *pkt)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u16 proto;
	__u8 l4proto;

	if ((void *)(eth + 1) > data_end)
		return KLOG_V_PASS;
	proto = bpf_ntohs(eth->h_proto);
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		struct vlan_hdr *vh = data + off;

		if ((void *)(vh + 1) > data_end)
			return KLOG_V_PASS;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		off += sizeof(*vh);
	}
	pkt->l3_off = off;

	if (proto == ETH_P_IP) {
		struct iphdr *ip = data + off;
		__u32 ihl;

		if ((void *)(ip + 1) > data_end)
			return KLOG_V_PASS;
		ihl = ip->ihl * 4;
		/* Fragments are left to the stack: only whole datagrams are appended. */
		if (ip->version != 4 || ihl < sizeof(*ip) ||
		    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return KLOG_V_PASS;
		l4proto = ip->protocol;
		off += ihl;
		pkt->ipv6 = false;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			return KLOG_V_PASS;
		/* Extension headers are not parsed: such packets go to the stack. */
		l4proto = ip6->nexthdr;
		off += sizeof(*ip6);
		pkt->ipv6 = true;
	} else {
		return KLOG_V_PASS;
	}
	if (l4proto != IPPROTO_UDP)
		return KLOG_V_PASS;

	off &= 0xff; /* off <= KLOG_MAX_L4_OFF; tell the verifier so */
	struct udphdr *udp = data + off;

	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(port))
		return KLOG_V_PASS;
	pkt->l4_off = off;
	pkt->hdr_off = off + sizeof(*udp);
	pkt->udp_len = bpf_ntohs(udp->len);
	if (data + pkt->hdr_off + sizeof(struct klog_hdr) > data_end ||
	    pkt->udp_len < sizeof(*udp) + sizeof(struct klog_hdr))
		return KLOG_V_DROP_SHORT;
	return KLOG_V_REPLY;
}

#endif /* KLOG_PARSE_BPF_H */
