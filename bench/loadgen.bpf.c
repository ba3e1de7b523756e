// SPDX-License-Identifier: GPL-2.0-only
/*
 * loadgen.bpf.c - an in-kernel load generator for the klog protocol, in the
 * manner of xdp-tools' xdp-trafficgen, and the counter of its replies.
 *
 * loadgen_gen runs under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on
 * the client's end of a veth pair: every frame it returns XDP_TX for is sent
 * to the server's end.  The frames' pages are recycled after the server had
 * them (klog builds its reply in place), so every header is written afresh
 * from a template, and every frame cut to its size; only the payload is left
 * as the input frame had it.
 *
 * loadgen_count is attached to the same interface and takes the replies:
 * counts them by opcode and status, puts each ACK's latency (now - the txid
 * the generator stamped) in a histogram, and drops them.
 */
#include "parse.bpf.h"
#include "loadgen.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by loadgen_load() between open and load. */
const volatile struct loadgen_tmpl loadgen_tmpl[LOADGEN_TMPLS];
const volatile __u32 loadgen_client_id; /* CPU c sends as client loadgen_client_id + c */
const volatile __u32 loadgen_clients = 1; /* client ids of this run: one per possible CPU */
const volatile __u16 loadgen_sport;     /* the generator's UDP port: replies come to it */
const volatile __u8 loadgen_mix;        /* the 75/25 mix, else every frame large */

/* The generator's and the counter's counters (bench/loadgen prints them). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct loadgen_counts);
} loadgen_counts SEC(".maps");

/* How much the generator sends on each CPU, and how fast (bench/loadgen sets it). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct loadgen_pace);
} loadgen_pace SEC(".maps");

/* ACK latencies, by loadgen_bucket(). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct loadgen_hist);
} loadgen_hist SEC(".maps");

static __always_inline struct loadgen_counts *loadgen_counts_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&loadgen_counts, &zero);
}

/*
 * Request number n of this CPU into the frame: the headers of its size,
 * this CPU's client id, request id n + 1 (klog deduplicates by client and
 * request id: every frame must be a new request) and the send time as txid.
 */
static __always_inline int loadgen_rewrite(struct xdp_md *ctx, __u64 n)
{
	int large = loadgen_is_large(n, loadgen_mix);
	const volatile struct loadgen_tmpl *t = &loadgen_tmpl[large];
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct klog_hdr *h;

	/*
	 * The input frame is longer than any request: cut every frame to its
	 * size.  The kernel then takes the frame's length from this run, and
	 * restores the input's before the page's next use; a frame it thinks
	 * unchanged keeps the length it had last, the server's reply's.
	 */
	if (bpf_xdp_adjust_tail(ctx, (int)t->frame_len - (int)(data_end - data)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + LOADGEN_HDRS_LEN > data_end)
		return -1;
	__builtin_memcpy(data, (const void *)t->bytes, LOADGEN_HDRS_LEN);
	h = data + LOADGEN_KLOG_OFF;
	h->client_id = bpf_htonl(loadgen_client_id + bpf_get_smp_processor_id());
	h->request_id = bpf_cpu_to_be64(n + 1);
	h->txid = bpf_cpu_to_be64(bpf_ktime_get_ns());
	return large;
}

/* Is a frame due on this CPU?  Takes its turn if so. */
static __always_inline bool loadgen_due(struct loadgen_pace *p, __u64 sent)
{
	__u64 now, floor;

	if (p->quota && sent >= p->quota)
		return false;
	if (!p->gap_ns)
		return true;
	now = bpf_ktime_get_ns();
	if (!p->next_ns)
		p->next_ns = now;
	if (now < p->next_ns)
		return false;
	/* On schedule, open loop; after a stall, a short burst catches up. */
	floor = now - (LOADGEN_CATCH_UP - 1) * p->gap_ns;
	p->next_ns = (p->next_ns > floor ? p->next_ns : floor) + p->gap_ns;
	return true;
}

SEC("xdp")
int loadgen_gen(struct xdp_md *ctx)
{
	struct loadgen_counts *c = loadgen_counts_get();
	struct loadgen_pace *p;
	__u32 zero = 0;
	int large;

	p = bpf_map_lookup_elem(&loadgen_pace, &zero);
	if (!c || !p)
		return XDP_ABORTED;
	if (!loadgen_due(p, c->sent)) {
		c->gen_idle++;
		return XDP_DROP;
	}
	large = loadgen_rewrite(ctx, c->sent);
	if (large < 0) {
		c->gen_errors++;
		return XDP_ABORTED;
	}
	c->sent++;
	c->sent_large += large;
	return XDP_TX;
}

/* One reply of this run: counted, and an ACK's latency put in the histogram. */
static __always_inline void loadgen_tally(struct loadgen_counts *c, const struct klog_hdr *h,
					  __u64 now)
{
	__u32 zero = 0, status, b;
	struct loadgen_hist *hist;
	__s64 lat;

	c->last_reply_ns = now;
	if (h->opcode == KLOG_OP_NACK) {
		status = bpf_ntohs(h->status);
		c->nacks[status < LOADGEN_STATUSES ? status : LOADGEN_STATUSES - 1]++;
		return;
	}
	if (h->opcode != KLOG_OP_ACK) {
		c->other_replies++;
		return;
	}
	c->acks++;
	hist = bpf_map_lookup_elem(&loadgen_hist, &zero);
	if (!hist)
		return;
	lat = (__s64)(now - bpf_be64_to_cpu(h->txid));
	b = loadgen_bucket(lat > 0 ? lat : 0);
	/* Checked again where 6.1's verifier sees it: it loses loadgen_bucket's bound. */
	barrier_var(b);
	if (b < LOADGEN_BUCKETS)
		hist->n[b]++;
}

SEC("xdp")
int loadgen_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct loadgen_counts *c = loadgen_counts_get();
	__u64 now = bpf_ktime_get_ns();
	struct klog_pkt pkt = {};
	struct klog_hdr *h;

	if (!c)
		return XDP_PASS;
	switch (klog_parse(data, data_end, loadgen_sport, &pkt)) {
	case KLOG_V_REPLY:
		break;
	case KLOG_V_PASS:
		c->passed++;
		return XDP_PASS;
	default:
		c->malformed++;
		return XDP_DROP;
	}
	h = data + (pkt.hdr_off & 0xff);
	if ((void *)(h + 1) > data_end || h->magic != bpf_htonl(KLOG_MAGIC)) {
		c->malformed++;
		return XDP_DROP;
	}
	/* Late replies of an earlier run, or another client's on the same port. */
	if (bpf_ntohl(h->client_id) - loadgen_client_id >= loadgen_clients) {
		c->foreign++;
		return XDP_DROP;
	}
	loadgen_tally(c, h, now);
	return XDP_DROP;
}
