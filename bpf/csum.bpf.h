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

/* Largest run of packet bytes summed: a TC reply removes a payload this big at most. */
#define KLOG_SUM_CHUNK 256
#define KLOG_SUM_MAX (36 * KLOG_SUM_CHUNK)

/* Per-CPU bounce buffer for summing packet bytes (too big for the stack). */
struct klog_sum_buf {
	__u8 data[KLOG_SUM_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct klog_sum_buf);
} klog_sum_buf SEC(".maps");

struct klog_sum_loop {
	void *ctx;
	struct klog_sum_buf *buf;
	__u32 off, len, sum;
	int err;
};

/*
 * Load n packet bytes at off into buf (cap bytes, a power of two, 4 or more; n in
 * 1..cap) and add their sum, negated, to *sum.  The last partial word is
 * zeroed first, so summing whole words adds nothing but the bytes.  Inlined
 * with a constant cap, so the verifier sees every bound.
 */
static __always_inline long klog_load_sum(void *ctx, enum klog_hook hook, __u32 off,
					  __u8 *buf, __u32 n, const __u32 cap, __u32 *sum)
{
	long err;

	barrier_var(n); /* keep the bounds the verifier needs for the helpers */
	if (n < 1 || n > cap)
		return -1;
	/*
	 * The same n (cap is a power of two), rebuilt so that its own register
	 * holds 1..cap: the test above is compiled on n - 1 and 6.1's verifier,
	 * unlike 6.18's, does not carry that bound back to n, then refuses a
	 * possibly empty load.  The barrier keeps the compiler from seeing through.
	 */
	barrier_var(n);
	n = ((n - 1) & (cap - 1)) + 1;
	*(__u32 *)&buf[(n - 1) & (cap - 4)] = 0;
	if (hook == KLOG_HOOK_XDP)
		err = bpf_xdp_load_bytes(ctx, off, buf, n);
	else
		err = bpf_skb_load_bytes(ctx, off, buf, n);
	if (err)
		return err;
	n = (n + 3) & ~3u;
	if (n > cap)
		return -1;
	*sum = bpf_csum_diff((void *)buf, n, NULL, 0, *sum);
	return 0;
}

/* Add chunk i of the bytes, negated, to l->sum. */
static __always_inline long klog_sum_chunk(__u32 i, struct klog_sum_loop *l, enum klog_hook hook)
{
	__u32 done = i * KLOG_SUM_CHUNK, n;

	if (done >= l->len)
		return 1;
	n = l->len - done;
	if (n > KLOG_SUM_CHUNK)
		n = KLOG_SUM_CHUNK;
	if (klog_load_sum(l->ctx, hook, l->off + done, l->buf->data, n, KLOG_SUM_CHUNK, &l->sum)) {
		l->err = -1;
		return 1;
	}
	return 0;
}

static long klog_sum_xdp_cb(__u32 i, struct klog_sum_loop *l)
{
	return klog_sum_chunk(i, l, KLOG_HOOK_XDP);
}

static long klog_sum_tc_cb(__u32 i, struct klog_sum_loop *l)
{
	return klog_sum_chunk(i, l, KLOG_HOOK_TC);
}

/*
 * One's-complement negation of the sum of len packet bytes at off, which
 * start at an even offset of the datagram (chunks are of even size too).
 */
static __always_inline int klog_pkt_csum_neg(void *ctx, enum klog_hook hook, __u32 off,
					     __u32 len, __u32 *neg)
{
	__u32 zero = 0;
	struct klog_sum_loop l = {
		.ctx = ctx, .off = off, .len = len,
		.buf = bpf_map_lookup_elem(&klog_sum_buf, &zero),
	};

	if (!l.buf || len > KLOG_SUM_MAX)
		return -1;
	bpf_loop(KLOG_DIV_ROUND_UP(len, KLOG_SUM_CHUNK),
		 hook == KLOG_HOOK_XDP ? klog_sum_xdp_cb : klog_sum_tc_cb, &l, 0);
	*neg = l.sum;
	return l.err;
}

#endif /* KLOG_CSUM_BPF_H */
