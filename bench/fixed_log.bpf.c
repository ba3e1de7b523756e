// SPDX-License-Identifier: GPL-2.0-only
/*
 * fixed_log.bpf.c - the fixed-slot baseline (fixed_slot.bpf.h) serving real
 * packets: an APPEND that fits its slot is kept and ACKed from XDP, built in
 * place and sent with XDP_TX as klog's reply is (reply.bpf.h); anything else
 * for the port goes up the stack (XDP_PASS) to the userspace server
 * (bench/udp_server) listening there, which appends the larger records and
 * answers the malformed ones.  One program per slot size; bench/fixed_log
 * loads and attaches one.
 */
#include "reply.bpf.h"
#include "fixed_slot.bpf.h"

char LICENSE[] SEC("license") = "GPL";

FIXED_LOG(128);
FIXED_LOG(1024);

/* What happened to the packets: bench/e2e.sh checks them after every run. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fixed_stats);
} fixed_stats SEC(".maps");

static __always_inline struct fixed_stats *fixed_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fixed_stats, &zero);
}

static __always_inline int fixed_serve(struct xdp_md *ctx, void *log, const __u32 slot)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct fixed_stats *st = fixed_stats_get();
	struct klog_pkt pkt = {};
	struct klog_hdr reply, *h;
	__u64 lsn = 0;

	if (!st || klog_parse(data, data_end, klog_port, &pkt) != KLOG_V_REPLY)
		return XDP_PASS; /* not ours, or too short: the stack decides */
	switch (fixed_append(ctx, log, slot, &pkt, &lsn)) {
	case FIXED_KEPT:
		break;
	case FIXED_SPILL:
		st->spilled++;
		return XDP_PASS;
	default:
		st->refused++;
		return XDP_PASS;
	}
	/* The packet may have moved for the verifier's sake: find the header again. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	h = data + (pkt.hdr_off & 0xff);
	if ((void *)(h + 1) > data_end)
		goto err;
	reply = *h;
	reply.opcode = KLOG_OP_ACK;
	reply.flags = 0;
	reply.status = 0;
	reply.len = 0;
	reply.lsn = bpf_cpu_to_be64(lsn);
	if (klog_reply_xdp(ctx, &pkt, &reply, bpf_xdp_get_buff_len(ctx)))
		goto err;
	st->appends++;
	return XDP_TX;
err:
	st->reply_errors++;
	return XDP_DROP;
}

SEC("xdp")
int fixed_xdp_128(struct xdp_md *ctx)
{
	return fixed_serve(ctx, &fixed_log_128, 128);
}

SEC("xdp")
int fixed_xdp_1024(struct xdp_md *ctx)
{
	return fixed_serve(ctx, &fixed_log_1024, 1024);
}
