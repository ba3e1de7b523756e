/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dedup.bpf.h - idempotent appends: each client's last KLOG_DEDUP_WINDOW
 * request ids, with the LSN each got and a fingerprint of the request, so a
 * retransmission is answered from memory instead of appended again.
 */
#ifndef KLOG_DEDUP_BPF_H
#define KLOG_DEDUP_BPF_H

#include "csum.bpf.h"

_Static_assert((KLOG_DEDUP_WINDOW & (KLOG_DEDUP_WINDOW - 1)) == 0,
	       "the dedup window is a power of two");

/*
 * Dedup state per client; pinned, so it outlives klogd.  Sized at load; klogd
 * removes clients silent for longer than its --client-ttl.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct klog_client_state);
} klog_clients SEC(".maps");

/* A new client's state: all zero (raw bytes, so no lock type in .rodata). */
static const __u8 klog_client_zero[sizeof(struct klog_client_state)];

enum klog_dedup_verdict {
	KLOG_DEDUP_NEW,    /* claimed: append it, then klog_dedup_settle() */
	KLOG_DEDUP_SEEN,   /* committed before: compare fingerprints (*lsn, *fp) */
	KLOG_DEDUP_STALE,  /* older than the window */
	KLOG_DEDUP_BUSY,   /* the original is still being appended */
};

/*
 * A request's fingerprint: its payload's one's-complement sum (negated, as
 * bpf_csum_diff gives it when the bytes are "from"), folded to 16 bits so
 * sums taken over differently cut pieces agree, with its length and txid.
 * Two payloads whose sums agree (e.g. two words swapped) look alike: it
 * guards against a client reusing ids by mistake.
 */
static __always_inline __u32 klog_fingerprint(__u32 sum, const struct klog_hdr *h)
{
	__u32 len = bpf_ntohs(h->len);
	__u64 txid = h->txid;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) ^ (len * 0x9e3779b1u) ^ (__u32)txid ^ (__u32)(txid >> 32);
}

/* The fingerprint of the request in the packet (for a suspected retransmission). */
static __always_inline int klog_packet_fingerprint(void *ctx, enum klog_hook hook, __u32 off,
						   const struct klog_hdr *h, __u32 *fp)
{
	__u32 sum;

	if (klog_pkt_csum_neg(ctx, hook, off, bpf_ntohs(h->len), &sum))
		return -1;
	*fp = klog_fingerprint(sum, h);
	return 0;
}

static __always_inline struct klog_client_state *klog_client_get(__u32 client_id)
{
	struct klog_client_state *st = bpf_map_lookup_elem(&klog_clients, &client_id);

	if (st)
		return st;
	/* NOEXIST: two CPUs may race to create it; either way one exists after. */
	bpf_map_update_elem(&klog_clients, &client_id, klog_client_zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&klog_clients, &client_id);
}

/*
 * Look the request up and, if it is new, claim its slot (lsn 0 marks it in
 * progress, so a retransmission racing on another CPU is told BUSY).  The
 * fingerprint of a new request is known only once it is copied: settle
 * records it.
 */
static __always_inline enum klog_dedup_verdict klog_dedup_check(struct klog_client_state *st,
								__u64 req, __u64 *lsn,
								__u32 *fp)
{
	struct klog_dedup_slot *s = &st->slot[req & (KLOG_DEDUP_WINDOW - 1)];
	enum klog_dedup_verdict v = KLOG_DEDUP_NEW;

	/* No helper may run under the lock; a racy store of a clock is fine. */
	WRITE_ONCE(st->last_seen, bpf_ktime_get_coarse_ns());
	bpf_spin_lock(&st->lock);
	if (s->used && s->request_id == req) {
		v = s->lsn ? KLOG_DEDUP_SEEN : KLOG_DEDUP_BUSY;
		*lsn = s->lsn;
		*fp = s->fp;
	} else if (req < st->max_request && st->max_request - req >= KLOG_DEDUP_WINDOW) {
		v = KLOG_DEDUP_STALE;
	} else {
		s->request_id = req;
		s->lsn = 0;
		s->used = 1;
		if (req > st->max_request)
			st->max_request = req;
	}
	bpf_spin_unlock(&st->lock);
	return v;
}

/*
 * After the append: record its LSN and fingerprint, or, if it was refused
 * (lsn 0), free the slot so the client's retry is a new request again.
 */
static __always_inline void klog_dedup_settle(struct klog_client_state *st, __u64 req,
					      __u64 lsn, __u32 fp)
{
	struct klog_dedup_slot *s = &st->slot[req & (KLOG_DEDUP_WINDOW - 1)];

	bpf_spin_lock(&st->lock);
	if (s->used && s->request_id == req && !s->lsn) {
		s->fp = fp;
		s->lsn = lsn;
		s->used = lsn != 0;
	}
	bpf_spin_unlock(&st->lock);
}

#endif /* KLOG_DEDUP_BPF_H */
