/* SPDX-License-Identifier: GPL-2.0-only */
/* csum.bpf.h - Internet checksum helpers (RFC 1071, RFC 1624). */
#ifndef KLOG_CSUM_BPF_H
#define KLOG_CSUM_BPF_H

#include "klog_common.bpf.h"

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* RFC 1624 eqn. 3: update a checksum for one 16-bit field changing old -> new. */
static __always_inline void csum_replace2(__u16 *check, __u16 old, __u16 new)
{
	__u64 sum = (__u16)~*check + (__u64)(__u16)~old + new;

	*check = csum_fold(sum);
}

/*
 * Sum of the UDP pseudo-header for a datagram of udp_len bytes.  saddr and
 * daddr are adjacent in both IPv4 and IPv6 headers; the protocol and length
 * words are the same in both once folded to 16 bits.
 */
static __always_inline __u64 csum_pseudo(void *addrs, void *data_end, bool ipv6,
					 __u16 udp_len)
{
	__u64 sum = bpf_htons(IPPROTO_UDP) + bpf_htons(udp_len);

	if (ipv6) {
		if (addrs + 32 > data_end)
			return 0;
		return sum + (__u32)bpf_csum_diff(NULL, 0, addrs, 32, 0);
	}
	if (addrs + 8 > data_end)
		return 0;
	return sum + (__u32)bpf_csum_diff(NULL, 0, addrs, 8, 0);
}

#endif /* KLOG_CSUM_BPF_H */
