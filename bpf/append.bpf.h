/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * append.bpf.h - the append path shared by the XDP and TC programs: validate
 * a request, reserve its LSN and blocks, copy the payload, publish, answer.
 * The invariants it keeps are argued in doc/design.md.
 */
#ifndef KLOG_APPEND_BPF_H
#define KLOG_APPEND_BPF_H

#include "access.bpf.h"
#include "dedup.bpf.h"
#include "durable.bpf.h"
#include "reply.bpf.h"

/* Per-CPU scratch for a record's block indices (too big for the BPF stack). */
struct klog_scratch {
	__u64 idx[KLOG_MAX_BLOCKS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct klog_scratch);
} klog_scratch SEC(".maps");

/* The wire status a counted outcome is answered with. */
static __always_inline __u16 klog_outcome_status(enum klog_stat_id id)
{
	switch (id) {
	case KLOG_STAT_appends:
	case KLOG_STAT_retransmits:
	case KLOG_STAT_queries:
		return KLOG_ST_OK;
	case KLOG_STAT_nack_full_window:
	case KLOG_STAT_nack_full_pool:
		return KLOG_ST_FULL;
	case KLOG_STAT_nack_badlen:
		return KLOG_ST_BADLEN;
	case KLOG_STAT_nack_toobig:
		return KLOG_ST_TOOBIG;
	case KLOG_STAT_nack_version:
		return KLOG_ST_VERSION;
	case KLOG_STAT_nack_opcode:
		return KLOG_ST_OPCODE;
	case KLOG_STAT_nack_flags:
		return KLOG_ST_FLAGS;
	case KLOG_STAT_nack_notready:
		return KLOG_ST_NOTREADY;
	case KLOG_STAT_nack_conflict:
		return KLOG_ST_CONFLICT;
	case KLOG_STAT_nack_stale:
		return KLOG_ST_STALE;
	case KLOG_STAT_nack_nolsn:
		return KLOG_ST_NOLSN;
	case KLOG_STAT_nack_badfield:
		return KLOG_ST_BADFIELD;
	case KLOG_STAT_nack_corrupt:
		return KLOG_ST_CORRUPT;
	default:
		return KLOG_ST_BUSY;
	}
}

/*
 * READ and INFO go to klogd: only durable records may be read, and those
 * have left the kernel (doc/protocol.md, "Reading").
 */
static __always_inline bool klog_for_daemon(const struct klog_hdr *h)
{
	return h->version == KLOG_VERSION_1 &&
	       (h->opcode == KLOG_OP_READ || h->opcode == KLOG_OP_INFO);
}

/* Check a request before anything is allocated.  KLOG_STAT_appends = valid. */
static __always_inline enum klog_stat_id klog_validate(const struct klog_hdr *h,
						       const struct klog_pkt *pkt)
{
	__u32 len = bpf_ntohs(h->len);

	if (h->version != KLOG_VERSION_1)
		return KLOG_STAT_nack_version;
	if (h->opcode != KLOG_OP_APPEND && h->opcode != KLOG_OP_QUERY)
		return KLOG_STAT_nack_opcode;
	if (h->flags & ~bpf_htons(h->opcode == KLOG_OP_APPEND ? KLOG_FLAGS_KNOWN : 0))
		return KLOG_STAT_nack_flags;
	/* An APPEND's lsn is 0, or carries the payload's CRC-32C in its low half. */
	if (h->opcode == KLOG_OP_APPEND &&
	    (bpf_be64_to_cpu(h->lsn) >> (h->flags & bpf_htons(KLOG_F_CRC) ? 32 : 0)))
		return KLOG_STAT_nack_badfield;
	if (len > KLOG_MAX_RECORD)
		return KLOG_STAT_nack_toobig;
	/* The payload must fill the datagram exactly; a QUERY has none. */
	if ((h->opcode == KLOG_OP_APPEND) != (len != 0) ||
	    len != pkt->udp_len - sizeof(struct klog_l4))
		return KLOG_STAT_nack_badlen;
	return KLOG_STAT_appends;
}

/* Attempts at the reservation's compare-and-swap before answering BUSY. */
#define KLOG_RESERVE_TRIES 16

/*
 * Reserve the next LSN and, for the ring, its blocks, with one
 * compare-and-swap of the packed counters: block order is then LSN order,
 * and an LSN is taken only once everything the record needs is held, so no
 * LSN is ever left a hole.  A failed swap means another CPU reserved; the
 * loop only retries, nothing waits.  next_lsn counts reservations after the
 * fact, so it never runs ahead of them.
 */
static __always_inline enum klog_stat_id klog_reserve(struct klog_ctl *ctl, __u32 nb,
						      __u64 *idx, __u64 *lsn)
{
	struct kerby_index *ix = kerby_index_get();
	bool ring = kerby_is_ring();

	if (!ix)
		return KLOG_STAT_nack_busy;
	for (int i = 0; i < KLOG_RESERVE_TRIES; i++) {
		__u64 packed = READ_ONCE(ix->reserved), trunc, wm, next, first, want;

		/*
		 * The floors are read after packed: if the swap succeeds nothing
		 * was reserved in between, so neither floor passed the counters.
		 * If one did, the counters moved: the gap is impossible, retry.
		 */
		barrier();
		trunc = READ_ONCE(ctl->truncated_lsn);
		wm = READ_ONCE(ctl->pool_watermark);
		next = kerby_reserved_lsn(packed, trunc);
		first = kerby_reserved_block(packed, wm);
		if (next - trunc > klog_window || (ring && first - wm > kerby_pool_blocks))
			continue;
		if (next - trunc == klog_window)
			return KLOG_STAT_nack_full_window;
		if (ring && !kerby_malloc_ring_fits(first, nb, wm))
			return KLOG_STAT_nack_full_pool;
		want = kerby_reserved_pack(next + 1, ring ? first + nb : first);
		if (__sync_val_compare_and_swap(&ix->reserved, packed, want) != packed)
			continue;
		__sync_fetch_and_add(&ctl->next_lsn, 1);
		if (ring)
			kerby_fill_range(idx, first, nb);
		*lsn = next;
		return KLOG_STAT_appends;
	}
	return KLOG_STAT_nack_busy;
}

/* Append the payload at off..off+len.  On anything but success every map is as it was. */
static __always_inline enum klog_stat_id klog_append(void *ctx, enum klog_hook hook,
						     const struct klog_pkt *pkt,
						     const struct klog_hdr *h, __u64 *lsn,
						     __u32 *sum)
{
	__u32 off = pkt->hdr_off + sizeof(*h);
	struct klog_ctl *ctl = klog_ctl_get();
	__u32 zero = 0, len = bpf_ntohs(h->len), nb = kerby_nblocks(len);
	struct klog_scratch *s = bpf_map_lookup_elem(&klog_scratch, &zero);
	bool crc = h->flags & bpf_htons(KLOG_F_CRC);
	__u16 flags = crc ? KLOG_AF_CRC : 0;
	enum klog_stat_id res;

	if (!ctl || !s)
		return KLOG_STAT_nack_busy;
	if (READ_ONCE(ctl->next_lsn) < KLOG_FIRST_LSN)
		return KLOG_STAT_nack_notready;
	/* Unlocked pre-check: a full window costs no hash allocation. */
	if (READ_ONCE(ctl->next_lsn) - READ_ONCE(ctl->truncated_lsn) >= klog_window)
		return KLOG_STAT_nack_full_window;
	if (!kerby_is_ring()) {
		int err = kerby_malloc(nb, s->idx);

		if (err)
			return err == -ENOSPC ? KLOG_STAT_nack_full_pool : KLOG_STAT_nack_busy;
		/* Hash blocks exist before the LSN is taken, so fill them first. */
		if (kerby_pool_update(ctx, hook, off, s->idx, len, sum)) {
			kerby_free(s->idx, nb);
			return KLOG_STAT_nack_busy;
		}
		if (!klog_udp_csum_ok(klog_data(ctx, hook), klog_data_end(ctx, hook), pkt, *sum)) {
			kerby_free(s->idx, nb);
			return KLOG_STAT_drop_csum;
		}
	}
	res = klog_reserve(ctl, nb, s->idx, lsn);
	if (res != KLOG_STAT_appends) {
		kerby_free(s->idx, nb);
		return res;
	}
	/*
	 * The LSN is taken: from here the record must commit.  Offsets and
	 * lengths were checked against the packet and the slots exist, so the
	 * copy cannot fail; if it ever did, the entry is still published so a
	 * reader never waits on a hole, marked damaged so klogd stores a
	 * tombstone, and the failure is counted.  So is a datagram whose UDP
	 * checksum fails: its LSN is spent, its bytes never stored as good.
	 */
	if (kerby_is_ring()) {
		if (kerby_pool_update(ctx, hook, off, s->idx, len, sum)) {
			klog_stat_add(KLOG_STAT_reply_errors, 1);
			flags |= KLOG_AF_DAMAGED;
		} else if (!klog_udp_csum_ok(klog_data(ctx, hook), klog_data_end(ctx, hook), pkt,
					     *sum)) {
			res = KLOG_STAT_drop_csum;
			flags |= KLOG_AF_DAMAGED;
		}
	}
	/* A dropped datagram gets no notice: its sender retransmits. */
	if (res == KLOG_STAT_appends && (h->flags & bpf_htons(KLOG_F_DURABLE)) &&
	    klog_waiter_set(klog_data(ctx, hook), klog_data_end(ctx, hook), pkt, *lsn))
		klog_stat_add(KLOG_STAT_reply_errors, 1);
	if (kerby_alloc_update(*lsn, s->idx[0], len, bpf_be64_to_cpu(h->txid),
			       bpf_be64_to_cpu(h->request_id), bpf_ntohl(h->client_id), flags,
			       crc ? (__u32)bpf_be64_to_cpu(h->lsn) : 0))
		klog_stat_add(KLOG_STAT_reply_errors, 1);
	klog_wake_drain(ctl, *lsn);
	if (res == KLOG_STAT_appends)
		klog_stat_add(KLOG_STAT_bytes, len);
	return res;
}

/* How a request is answered. */
struct klog_outcome {
	enum klog_stat_id stat; /* counted, and gives the status */
	__u8 opcode;
	__u16 flags;
	__u64 lsn;
};

/*
 * The answer for record lsn: DURABLE once it is on disk if durability was
 * asked for (PENDING until then), else the in-kernel ACK.
 */
static __always_inline void klog_answer(struct klog_outcome *o, enum klog_stat_id stat,
					__u64 lsn, bool durable)
{
	struct klog_ctl *ctl = klog_ctl_get();

	o->stat = stat;
	o->lsn = lsn;
	o->opcode = KLOG_OP_ACK;
	if (!durable || !ctl)
		return;
	if (lsn >= READ_ONCE(ctl->durable_lsn)) {
		o->flags = KLOG_F_PENDING;
	} else if (klog_is_corrupt(ctl, lsn)) {
		o->stat = KLOG_STAT_nack_corrupt;
		o->opcode = KLOG_OP_NACK;
	} else {
		o->opcode = KLOG_OP_DURABLE;
	}
}

/* QUERY: is record h->lsn durable yet? */
static __always_inline void klog_query(void *ctx, enum klog_hook hook, const struct klog_pkt *pkt,
				       const struct klog_hdr *h, struct klog_outcome *o)
{
	struct klog_ctl *ctl = klog_ctl_get();
	__u64 lsn = bpf_be64_to_cpu(h->lsn);

	/* No payload: the headers are all the checksum covers (the negated sum of nothing). */
	if (!klog_udp_csum_ok(klog_data(ctx, hook), klog_data_end(ctx, hook), pkt, 0))
		o->stat = KLOG_STAT_drop_csum;
	else if (!ctl || lsn < KLOG_FIRST_LSN || lsn >= READ_ONCE(ctl->next_lsn))
		o->stat = KLOG_STAT_nack_nolsn;
	else
		klog_answer(o, KLOG_STAT_queries, lsn, true);
}

/* APPEND: answer a retransmission from the dedup state, else append. */
static __always_inline void klog_append_once(void *ctx, enum klog_hook hook,
					     const struct klog_pkt *pkt, const struct klog_hdr *h,
					     struct klog_outcome *o)
{
	bool durable = h->flags & bpf_htons(KLOG_F_DURABLE);
	__u64 req = bpf_be64_to_cpu(h->request_id), lsn = 0;
	struct klog_client_state *st;
	enum klog_stat_id res;
	__u32 fp = 0, sum = 0;

	o->stat = KLOG_STAT_nack_busy;
	st = klog_client_get(bpf_ntohl(h->client_id));
	if (!st)
		return; /* the client table is full */
	switch (klog_dedup_check(st, req, &lsn, &fp)) {
	case KLOG_DEDUP_SEEN: {
		__u32 now;

		if (klog_pkt_csum_neg(ctx, hook, pkt->hdr_off + sizeof(*h), bpf_ntohs(h->len), &sum))
			return;
		if (!klog_udp_csum_ok(klog_data(ctx, hook), klog_data_end(ctx, hook), pkt, sum)) {
			o->stat = KLOG_STAT_drop_csum;
			return;
		}
		now = klog_fingerprint(sum, h);
		if (now == fp)
			klog_answer(o, KLOG_STAT_retransmits, lsn, durable);
		else
			o->stat = KLOG_STAT_nack_conflict;
		return;
	}
	case KLOG_DEDUP_STALE:
		o->stat = KLOG_STAT_nack_stale;
		return;
	case KLOG_DEDUP_BUSY:
		return;
	case KLOG_DEDUP_NEW:
		break;
	}
	res = klog_append(ctx, hook, pkt, h, &lsn, &sum);
	klog_dedup_settle(st, req, res == KLOG_STAT_appends ? lsn : 0, klog_fingerprint(sum, h));
	if (res == KLOG_STAT_appends)
		klog_answer(o, res, lsn, durable);
	else
		o->stat = res;
}

/*
 * Parse, validate and serve one packet.  Returns KLOG_V_REPLY with *reply
 * holding the answer's header, or the verdict for a packet that gets none.
 */
static __always_inline enum klog_verdict klog_process(void *ctx, enum klog_hook hook,
						      __u32 pkt_len, struct klog_pkt *pkt,
						      struct klog_hdr *reply)
{
	void *data = klog_data(ctx, hook), *data_end = klog_data_end(ctx, hook);
	struct klog_outcome o = { .opcode = KLOG_OP_NACK };
	struct klog_hdr *h;
	int v;

	v = klog_parse(data, data_end, klog_port, pkt);
	if (v == KLOG_V_PASS) {
		klog_stat_add(KLOG_STAT_passed, 1);
		return KLOG_V_PASS;
	}
	if (!klog_to_us(data, data_end, pkt)) {
		klog_stat_add(KLOG_STAT_pass_foreign, 1);
		return KLOG_V_PASS;
	}
	/* Neither answered nor counted by source when the header may be lying. */
	if (!klog_ip_csum_ok(data, data_end, pkt)) {
		klog_stat_add(KLOG_STAT_drop_csum, 1);
		return KLOG_V_DROP;
	}
	/* A refused source learns nothing, not even that the port is klog's. */
	if (!klog_allowed(data, data_end, pkt)) {
		klog_stat_add(KLOG_STAT_drop_refused, 1);
		return KLOG_V_DROP;
	}
	h = data + (pkt->hdr_off & 0xff);
	/* A datagram that claims more bytes than the packet has is cut short. */
	if (v == KLOG_V_DROP_SHORT || (void *)(h + 1) > data_end ||
	    pkt->l4_off + pkt->udp_len > pkt_len) {
		klog_stat_add(KLOG_STAT_drop_short, 1);
		return KLOG_V_DROP_SHORT;
	}
	if (h->magic != bpf_htonl(KLOG_MAGIC)) {
		klog_stat_add(KLOG_STAT_drop_magic, 1);
		return KLOG_V_DROP_MAGIC;
	}
	if (klog_is_reply(data, data_end, pkt, h)) {
		klog_stat_add(KLOG_STAT_drop_reply, 1);
		return KLOG_V_DROP;
	}
	/* klogd's socket on the same port answers reads from its durable log. */
	if (klog_for_daemon(h)) {
		klog_stat_add(KLOG_STAT_passed, 1);
		return KLOG_V_PASS;
	}
	*reply = *h;
	o.stat = klog_validate(reply, pkt);
	if (o.stat == KLOG_STAT_appends) {
		if (reply->opcode == KLOG_OP_QUERY)
			klog_query(ctx, hook, pkt, reply, &o);
		else
			klog_append_once(ctx, hook, pkt, reply, &o);
	}
	klog_stat_add(o.stat, 1);
	/* The checksum failed: like the stack, drop it; the sender retransmits. */
	if (o.stat == KLOG_STAT_drop_csum)
		return KLOG_V_DROP;

	reply->version = KLOG_VERSION_1;
	reply->opcode = o.opcode;
	reply->flags = bpf_htons(o.flags);
	reply->status = bpf_htons(klog_outcome_status(o.stat));
	reply->len = 0;
	reply->lsn = bpf_cpu_to_be64(o.lsn);
	return KLOG_V_REPLY;
}

/* Everything one packet gets: parse, append or refuse, answer in place. */
static __always_inline enum klog_verdict klog_handle(void *ctx, enum klog_hook hook,
						     __u32 pkt_len)
{
	struct klog_pkt pkt = {};
	struct klog_hdr reply;
	enum klog_verdict v;
	int err;

	v = klog_process(ctx, hook, pkt_len, &pkt, &reply);
	if (v != KLOG_V_REPLY)
		return v;
	if (hook == KLOG_HOOK_XDP)
		err = klog_reply_xdp(ctx, &pkt, &reply, pkt_len);
	else
		err = klog_reply_tc(ctx, &pkt, &reply);
	if (err) {
		klog_stat_add(KLOG_STAT_reply_errors, 1);
		return KLOG_V_DROP;
	}
	return KLOG_V_REPLY;
}

#endif /* KLOG_APPEND_BPF_H */
