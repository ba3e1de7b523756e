// SPDX-License-Identifier: GPL-2.0-only
/*
 * append_bench.bpf.c - the append path alone, for BPF_PROG_TEST_RUN with
 * repeat.  The real programs turn the request into its reply in place, so a
 * repeated run would see a reply; these leave the packet alone.
 */
#include "append.bpf.h"
#include "fixed_slot.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Free the record just appended, as klogd's truncation does, so a million
 * repeats run in steady state: the ring advances its watermark, the hash
 * pool deletes each block (the paper's free).
 */
static __always_inline int bench_release(__u64 lsn, __u32 len)
{
	struct klog_ctl *ctl = klog_ctl_get();
	__u32 zero = 0, nb = kerby_nblocks(len);
	struct klog_scratch *s = bpf_map_lookup_elem(&klog_scratch, &zero);

	if (!ctl || !s || nb < 1 || nb > KLOG_MAX_BLOCKS)
		return -1;
	if (kerby_is_ring())
		WRITE_ONCE(ctl->pool_watermark, s->idx[nb - 1] + 1);
	else
		kerby_free(s->idx, nb);
	WRITE_ONCE(ctl->truncated_lsn, lsn + 1);
	return 0;
}

/* The request ids a run gives its repeats, so none is taken for a retransmission. */
__u64 bench_request;

/* Parse, validate, allocate, copy, publish; then free. */
SEC("xdp")
int bench_append(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct klog_pkt pkt = {};
	struct klog_hdr reply, *h;

	if (klog_parse(data, data_end, klog_port, &pkt) != KLOG_V_REPLY)
		return XDP_ABORTED;
	h = data + (pkt.hdr_off & 0xff);
	if ((void *)(h + 1) > data_end)
		return XDP_ABORTED;
	h->request_id = bpf_cpu_to_be64(bench_request++);

	if (klog_process(ctx, KLOG_HOOK_XDP, bpf_xdp_get_buff_len(ctx), &pkt, &reply) !=
		    KLOG_V_REPLY ||
	    reply.opcode != KLOG_OP_ACK)
		return XDP_ABORTED;
	if (bench_release(bpf_be64_to_cpu(reply.lsn), pkt.udp_len - sizeof(struct klog_l4)))
		return XDP_ABORTED;
	return XDP_DROP;
}

/*
 * The append path in layers, to see what each costs: a request parsed and
 * validated as klog_process() does, the ring's payload steps, then release.
 */
static __always_inline struct klog_hdr *bench_request_of(struct xdp_md *ctx,
							 struct klog_pkt *pkt)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct klog_hdr *h;

	if (klog_parse(data, data_end, klog_port, pkt) != KLOG_V_REPLY)
		return NULL;
	h = data + (pkt->hdr_off & 0xff);
	if ((void *)(h + 1) > data_end || h->magic != bpf_htonl(KLOG_MAGIC) ||
	    klog_validate(h, pkt) != KLOG_STAT_appends || h->opcode != KLOG_OP_APPEND)
		return NULL;
	return h;
}

/* Layer 1: reserve the LSN and ring blocks, copy and sum the payload; no entry. */
SEC("xdp")
int bench_reserve_copy(struct xdp_md *ctx)
{
	struct klog_pkt pkt = {};
	struct klog_hdr *h = bench_request_of(ctx, &pkt);
	struct klog_ctl *ctl = klog_ctl_get();
	__u32 zero = 0, sum = 0, len;
	struct klog_scratch *s = bpf_map_lookup_elem(&klog_scratch, &zero);
	__u64 lsn;

	if (!h || !ctl || !s || !kerby_is_ring())
		return XDP_ABORTED;
	len = bpf_ntohs(h->len);
	if (klog_reserve(ctl, kerby_nblocks(len), s->idx, &lsn) != KLOG_STAT_appends ||
	    kerby_pool_update(ctx, KLOG_HOOK_XDP, pkt.hdr_off + sizeof(*h), s->idx, len, &sum))
		return XDP_ABORTED;
	return bench_release(lsn, pkt.udp_len - sizeof(struct klog_l4)) ? XDP_ABORTED : XDP_DROP;
}

/* Layer 2: klog_append(), i.e. layer 1 and the published entry, wake-up and counters. */
SEC("xdp")
int bench_append_nodedup(struct xdp_md *ctx)
{
	struct klog_pkt pkt = {};
	struct klog_hdr *h = bench_request_of(ctx, &pkt);
	__u32 sum = 0;
	__u64 lsn;

	if (!h || klog_append(ctx, KLOG_HOOK_XDP, &pkt, h, &lsn, &sum) != KLOG_STAT_appends)
		return XDP_ABORTED;
	return bench_release(lsn, pkt.udp_len - sizeof(struct klog_l4)) ? XDP_ABORTED : XDP_DROP;
}

/* Baseline: parsing alone, the part every packet pays. */
SEC("xdp")
int bench_parse(struct xdp_md *ctx)
{
	struct klog_pkt pkt = {};
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	return klog_parse(data, data_end, klog_port, &pkt) == KLOG_V_REPLY ? XDP_DROP
									  : XDP_ABORTED;
}

/* Baseline: the fixed-slot log of fixed_slot.bpf.h; XDP_DROP when kept. */
FIXED_LOG(128);
FIXED_LOG(1024);

static __always_inline int bench_fixed(struct xdp_md *ctx, void *log, const __u32 slot)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct klog_pkt pkt = {};
	__u64 lsn;

	if (klog_parse(data, data_end, klog_port, &pkt) != KLOG_V_REPLY)
		return XDP_ABORTED;
	switch (fixed_append(ctx, log, slot, &pkt, &lsn)) {
	case FIXED_KEPT:
		return XDP_DROP;
	case FIXED_SPILL:
		return XDP_PASS; /* spilled to userspace */
	default:
		return XDP_ABORTED;
	}
}

SEC("xdp")
int bench_fixed_128(struct xdp_md *ctx)
{
	return bench_fixed(ctx, &fixed_log_128, 128);
}

SEC("xdp")
int bench_fixed_1024(struct xdp_md *ctx)
{
	return bench_fixed(ctx, &fixed_log_1024, 1024);
}
