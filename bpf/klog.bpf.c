// SPDX-License-Identifier: GPL-2.0-only
/*
 * klog.bpf.c - the append programs: XDP, and TC ingress where XDP cannot run.
 * Both run the same append path (append.bpf.h) and answer from the kernel.
 */
#include "append.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int klog_xdp_append(struct xdp_md *ctx)
{
	switch (klog_handle(ctx, KLOG_HOOK_XDP, bpf_xdp_get_buff_len(ctx))) {
	case KLOG_V_PASS:
		return XDP_PASS;
	case KLOG_V_REPLY:
		return XDP_TX;
	default:
		return XDP_DROP;
	}
}

SEC("tc")
int klog_tc_append(struct __sk_buff *skb)
{
	/* Make the headers linear for direct access; the payload is read by helper. */
	__u32 want = KLOG_MAX_L4_OFF + sizeof(struct klog_l4);

	bpf_skb_pull_data(skb, skb->len < want ? skb->len : want);

	switch (klog_handle(skb, KLOG_HOOK_TC, skb->len)) {
	case KLOG_V_PASS:
		return TC_ACT_OK;
	case KLOG_V_REPLY:
		/* Out of the interface it came in on, like XDP_TX. */
		return bpf_redirect(skb->ifindex, 0);
	default:
		return TC_ACT_SHOT;
	}
}
