/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fixed_slot.bpf.h - a fixed-slot in-kernel log in the style of DINT (NSDI
 * '24), the baseline klog is measured against: one array slot per record, the
 * slot taken by an atomic counter, the payload copied in one call; no
 * allocator, window, deduplication or durability.  Records larger than the
 * slot are not kept: the caller hands them to userspace (XDP_PASS), as the
 * Kerby paper's DINT did.  bench/append_bench.bpf.c times it with
 * BPF_PROG_TEST_RUN; bench/fixed_log.bpf.c serves it on an interface.
 */
#ifndef KLOG_FIXED_SLOT_BPF_H
#define KLOG_FIXED_SLOT_BPF_H

#include "parse.bpf.h"
#include "fixed_slot.h"

/* Slots of each log map; the loader sets it with the maps' max_entries. */
const volatile __u32 fixed_slots = FIXED_SLOTS_DEFAULT;

/* The next LSN to give out, less KLOG_FIRST_LSN: one counter for every CPU. */
__u64 fixed_next;

/* A log of fixed_slots slots of SIZE payload bytes: the map fixed_log_SIZE. */
#define FIXED_LOG(SIZE)                                                         \
	struct fixed_slot_##SIZE {                                              \
		struct fixed_head head;                                         \
		__u8 data[SIZE];                                                \
	};                                                                      \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_ARRAY);                               \
		__uint(max_entries, FIXED_SLOTS_DEFAULT);                       \
		__type(key, __u32);                                             \
		__type(value, struct fixed_slot_##SIZE);                        \
	} fixed_log_##SIZE SEC(".maps")

enum fixed_verdict {
	FIXED_KEPT,    /* in its slot, *lsn set */
	FIXED_SPILL,   /* a valid APPEND larger than the slot */
	FIXED_REFUSED, /* not a valid APPEND (or the slot could not be written) */
};

/*
 * Keep the APPEND that pkt (parsed by klog_parse) holds in the log map log of
 * slot-byte slots.  The checks are the minimum that makes the copy safe and
 * the record whole: magic, opcode, a payload length that matches the packet.
 */
static __always_inline enum fixed_verdict fixed_append(struct xdp_md *ctx, void *log,
						       const __u32 slot,
						       const struct klog_pkt *pkt, __u64 *lsn)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct klog_hdr *h = data + (pkt->hdr_off & 0xff);
	struct fixed_head *e;
	__u32 len, key;

	if ((void *)(h + 1) > data_end || h->magic != bpf_htonl(KLOG_MAGIC) ||
	    h->opcode != KLOG_OP_APPEND)
		return FIXED_REFUSED;
	len = bpf_ntohs(h->len);
	if (len == 0 || len != pkt->udp_len - sizeof(struct udphdr) - sizeof(*h))
		return FIXED_REFUSED;
	if (len > slot)
		return FIXED_SPILL;
	*lsn = __sync_fetch_and_add(&fixed_next, 1) + KLOG_FIRST_LSN;
	key = *lsn % fixed_slots;
	e = bpf_map_lookup_elem(log, &key);
	barrier_var(len);
	if (!e || len < 1 || len > slot)
		return FIXED_REFUSED;
	/* The same len (slot is a power of two), bounded in its own register for 6.1's verifier: see klog_load_sum. */
	barrier_var(len);
	len = ((len - 1) & (slot - 1)) + 1;
	if (bpf_xdp_load_bytes(ctx, pkt->hdr_off + sizeof(*h), (void *)(e + 1), len))
		return FIXED_REFUSED;
	e->len = len;
	WRITE_ONCE(e->lsn, *lsn);
	return FIXED_KEPT;
}

#endif /* KLOG_FIXED_SLOT_BPF_H */
