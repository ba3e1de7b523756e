// SPDX-License-Identifier: GPL-2.0-only
/*
 * append_bench.bpf.c - the append path alone, for BPF_PROG_TEST_RUN with
 * repeat.  The real programs turn the request into its reply in place, so a
 * repeated run would see a reply; these leave the packet alone.
 */
#include "append.bpf.h"

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

/* Baseline: parsing alone, the part every packet pays. */
SEC("xdp")
int bench_parse(struct xdp_md *ctx)
{
	struct klog_pkt pkt = {};
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	return klog_parse(data, data_end, klog_port, &pkt) == KLOG_V_REPLY ? XDP_DROP
									  : XDP_ABORTED;
}

/*
 * Baseline: a fixed-slot in-kernel log in the style of DINT (NSDI '24): one
 * array slot per record, the slot taken by an atomic counter, the payload
 * copied in one call, no allocator, window or deduplication.  Records larger
 * than the slot go to userspace (XDP_PASS), as the Kerby paper's DINT did.
 */
#define FIXED_SLOTS 4096

struct fixed_head {
	__u64 lsn;
	__u32 len;
	__u32 pad;
};

#define FIXED_LOG(SIZE)                                                         \
	struct fixed_slot_##SIZE {                                              \
		struct fixed_head head;                                         \
		__u8 data[SIZE];                                                \
	};                                                                      \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_ARRAY);                               \
		__uint(max_entries, FIXED_SLOTS);                               \
		__type(key, __u32);                                             \
		__type(value, struct fixed_slot_##SIZE);                        \
	} fixed_log_##SIZE SEC(".maps")

FIXED_LOG(128);
FIXED_LOG(1024);

__u64 fixed_next;

static __always_inline int fixed_append(struct xdp_md *ctx, void *log, const __u32 slot)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct klog_pkt pkt = {};
	struct fixed_head *e;
	struct klog_hdr *h;
	__u32 len, key;
	__u64 lsn;

	if (klog_parse(data, data_end, klog_port, &pkt) != KLOG_V_REPLY)
		return XDP_ABORTED;
	h = data + (pkt.hdr_off & 0xff);
	if ((void *)(h + 1) > data_end || h->magic != bpf_htonl(KLOG_MAGIC) ||
	    h->opcode != KLOG_OP_APPEND)
		return XDP_ABORTED;
	len = bpf_ntohs(h->len);
	if (len == 0 || len != pkt.udp_len - sizeof(struct klog_l4))
		return XDP_ABORTED;
	if (len > slot)
		return XDP_PASS; /* spilled to userspace */
	lsn = __sync_fetch_and_add(&fixed_next, 1);
	key = lsn % FIXED_SLOTS;
	e = bpf_map_lookup_elem(log, &key);
	barrier_var(len);
	if (!e || len < 1 || len > slot)
		return XDP_ABORTED;
	if (bpf_xdp_load_bytes(ctx, pkt.hdr_off + sizeof(*h), (void *)(e + 1), len))
		return XDP_ABORTED;
	e->len = len;
	WRITE_ONCE(e->lsn, lsn);
	return XDP_DROP;
}

SEC("xdp")
int bench_fixed_128(struct xdp_md *ctx)
{
	return fixed_append(ctx, &fixed_log_128, 128);
}

SEC("xdp")
int bench_fixed_1024(struct xdp_md *ctx)
{
	return fixed_append(ctx, &fixed_log_1024, 1024);
}
