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
 * removes clients silent for longer than its --client-ttl.  An LRU map: when
 * it is full (a flood of client ids), a new client takes the place of the
 * least recently seen one instead of being refused until klogd expires it.
 * The evicted client's retransmissions would be appended again (doc/security.md).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct klog_client_state);
} klog_clients SEC(".maps");

/* A new client's state: all zero; a map value, as the helper wants. */
static const struct klog_client_state klog_client_zero;

enum klog_dedup_verdict {
	KLOG_DEDUP_NEW,    /* claimed: append it, then klog_dedup_settle() */
	KLOG_DEDUP_SEEN,   /* committed before: compare fingerprints (*lsn, *fp) */
	KLOG_DEDUP_STALE,  /* older than the window */
	KLOG_DEDUP_BUSY,   /* the original is still being appended */
};

/*
 * A request's fingerprint: its payload's one's-complement sum (negated, as
 * bpf_csum_diff gives it when the bytes are "from"), folded to 16 bits so
 * sums taken over differently cut pieces agree, with its length, txid and
 * CRC-32C (KLOG_F_CRC; else 0).  Two payloads whose sums and CRCs agree
 * look alike: it guards against a client reusing ids by mistake.
 */
static __always_inline __u32 klog_fingerprint(__u32 sum, const struct klog_hdr *h)
{
	__u32 len = bpf_ntohs(h->len);
	__u64 txid = h->txid;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) ^ (len * 0x9e3779b1u) ^ (__u32)txid ^ (__u32)(txid >> 32) ^
	       (__u32)(h->lsn >> 32) * 0x85ebca6bu;
}

static __always_inline struct klog_client_state *klog_client_get(__u32 client_id)
{
	struct klog_client_state *st = bpf_map_lookup_elem(&klog_clients, &client_id);

	if (st)
		return st;
	/* NOEXIST: two CPUs may race to create it; either way one exists after. */
	bpf_map_update_elem(&klog_clients, &client_id, &klog_client_zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&klog_clients, &client_id);
}

/*
 * A slot is read and rewritten without a lock: seq is even while the slot is
 * stable, and a writer owns it once its compare-and-swap made seq odd.  A
 * reader's copy is whole if seq was even and the same before and after; the
 * argument relies on x86 keeping loads in order and stores in order, as the
 * allocation entries' publication does (doc/design.md).
 */
/* A whole copy of s in c, or false if a writer owns it now. */
static __always_inline bool klog_dedup_read(struct klog_dedup_slot *s, struct klog_dedup_slot *c)
{
	c->seq = READ_ONCE(s->seq);
	barrier();
	c->request_id = READ_ONCE(s->request_id);
	c->lsn = READ_ONCE(s->lsn);
	c->fp = READ_ONCE(s->fp);
	c->used = READ_ONCE(s->used);
	barrier();
	return !(c->seq & 1) && READ_ONCE(s->seq) == c->seq;
}

/* Rewrite s as the CPU that owns it since copy c was read, if no one moved it since. */
static __always_inline bool klog_dedup_write(struct klog_dedup_slot *s, __u64 seq, __u64 req,
					     __u64 lsn, __u32 fp, __u32 used)
{
	if (__sync_val_compare_and_swap(&s->seq, seq, seq + 1) != seq)
		return false;
	WRITE_ONCE(s->request_id, req);
	WRITE_ONCE(s->lsn, lsn);
	WRITE_ONCE(s->fp, fp);
	WRITE_ONCE(s->used, used);
	barrier();
	WRITE_ONCE(s->seq, seq + 2);
	return true;
}

/* Refresh the client's clock for klogd's expiry: a store per coarse clock tick, not per request. */
static __always_inline void klog_client_touch(struct klog_client_state *st)
{
	__u64 now = bpf_ktime_get_coarse_ns();

	if (now - READ_ONCE(st->last_seen) > 1000000)
		WRITE_ONCE(st->last_seen, now);
}

/*
 * Look the request up and, if it is new, claim its slot (lsn 0 marks it in
 * progress, so a retransmission racing on another CPU is told BUSY).  The
 * fingerprint of a new request is known only once it is copied: settle
 * records it.  Losing a race for the slot answers BUSY, which the client
 * retries.
 */
static __always_inline enum klog_dedup_verdict klog_dedup_check(struct klog_client_state *st,
								__u64 req, __u64 *lsn,
								__u32 *fp)
{
	struct klog_dedup_slot *s = &st->slot[req & (KLOG_DEDUP_WINDOW - 1)];
	struct klog_dedup_slot c;
	__u64 max;

	klog_client_touch(st);
	if (!klog_dedup_read(s, &c))
		return KLOG_DEDUP_BUSY;
	if (c.used && c.request_id == req) {
		*lsn = c.lsn;
		*fp = c.fp;
		return c.lsn ? KLOG_DEDUP_SEEN : KLOG_DEDUP_BUSY;
	}
	/*
	 * A newer id in this slot means req was pushed out: never claim
	 * backwards.  That alone keeps a request from being appended twice, so
	 * max_request, which adds the rule "64 below the newest id", may be
	 * raised with a plain store: a race between two CPUs of one client can
	 * only leave it lower, i.e. refuse less, never admit a duplicate.
	 */
	max = READ_ONCE(st->max_request);
	if ((c.used && c.request_id > req) || (req < max && max - req >= KLOG_DEDUP_WINDOW))
		return KLOG_DEDUP_STALE;
	if (!klog_dedup_write(s, c.seq, req, 0, 0, 1))
		return KLOG_DEDUP_BUSY;
	if (req > max)
		WRITE_ONCE(st->max_request, req);
	return KLOG_DEDUP_NEW;
}

/*
 * After the append: record its LSN and fingerprint, or, if it was refused
 * (lsn 0), free the slot so the client's retry is a new request again.  If
 * a newer request took the slot meanwhile, it is left to that one.
 */
static __always_inline void klog_dedup_settle(struct klog_client_state *st, __u64 req,
					      __u64 lsn, __u32 fp)
{
	struct klog_dedup_slot *s = &st->slot[req & (KLOG_DEDUP_WINDOW - 1)];
	struct klog_dedup_slot c;

	/* Only a claim by another request moves seq while this one is in progress. */
	if (klog_dedup_read(s, &c) && c.used && c.request_id == req && !c.lsn)
		klog_dedup_write(s, c.seq, req, lsn, fp, lsn != 0);
}

#endif /* KLOG_DEDUP_BPF_H */
