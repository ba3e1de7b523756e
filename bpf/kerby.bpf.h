/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kerby.bpf.h - the Kerby memory pool allocator (Kim & Han, eBPF '25) as a
 * BPF library: index allocator, memory pool (ring or hash) and allocation map.
 *
 * Operations, after the paper's API table:
 *   kerby_malloc(nb, idx[])          take nb blocks                (primitive)
 *   kerby_free(idx[], nb)            give them back                (primitive)
 *   kerby_resize(old, new, idx[])    grow or shrink an allocation  (primitive)
 *   kerby_pool_update(idx[], src)    write the blocks              (helper)
 *   kerby_alloc_update(key, idx[], size, ...)  publish an entry    (helper)
 *   kerby_alloc_del(key)             retire an allocation entry    (helper)
 * Errors are negative errno values: -ENOSPC pool full, -ENOMEM the kernel
 * could not allocate a hash element, -EOPNOTSUPP not for this pool kind.
 */
#ifndef KLOG_KERBY_BPF_H
#define KLOG_KERBY_BPF_H

#include "klog_common.bpf.h"

#define ENOENT 2
#define ENOMEM 12
#define EEXIST 17
#define ENOSPC 28
#define E2BIG 7
#define EOPNOTSUPP 95

/* Index allocator: one monotonically increasing 64-bit block index. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kerby_index);
} kerby_index SEC(".maps");

/* Memory pool, ring kind: block index i lives in slot i % kerby_pool_blocks. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kerby_block);
} kerby_ring SEC(".maps");

/* Memory pool, hash kind: the paper's design, keyed by block index. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct kerby_block);
} kerby_hash SEC(".maps");

/* Allocation map: per-CPU, keyed by lsn % window, length and block indices. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct klog_alloc_entry);
} kerby_alloc SEC(".maps");

/* Source of zeroes for inserting hash blocks; a map value, as the helper wants. */
static const struct kerby_block kerby_zero_block;

static __always_inline bool kerby_is_ring(void)
{
	return kerby_pool_kind == KERBY_POOL_RING;
}

static __always_inline __u32 kerby_nblocks(__u32 size)
{
	return KLOG_DIV_ROUND_UP(size, KLOG_BLOCK_SIZE);
}

static __always_inline struct kerby_index *kerby_index_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kerby_index, &zero);
}

/* The block that holds index idx, or NULL if the pool has none. */
static __always_inline struct kerby_block *kerby_block(__u64 idx)
{
	if (kerby_is_ring()) {
		__u32 slot = idx % kerby_pool_blocks;

		return bpf_map_lookup_elem(&kerby_ring, &slot);
	}
	return bpf_map_lookup_elem(&kerby_hash, &idx);
}

/*
 * Ring malloc.  The caller holds ix->lock: ring blocks are handed out in the
 * same critical section as the LSN, so block order is LSN order and the ring
 * is freed by advancing one watermark.  Index i may be taken only when every
 * index below i - pool_blocks is free, i.e. i < watermark + pool_blocks.
 */
static __always_inline int kerby_malloc_ring_locked(struct kerby_index *ix, __u32 nb,
						    __u64 *idx, __u64 watermark)
{
	__u64 first = ix->next_block;

	if (first + nb - watermark > kerby_pool_blocks)
		return -ENOSPC;
	ix->next_block = first + nb;
	for (__u32 i = 0; i < KLOG_MAX_BLOCKS; i++)
		idx[i] = i < nb ? first + i : 0;
	return 0;
}

/* Release hash blocks idx[0..nb); the ring is freed by its watermark instead. */
static __always_inline void kerby_free(const __u64 *idx, __u32 nb)
{
	if (kerby_is_ring())
		return;
	for (__u32 i = 0; i < KLOG_MAX_BLOCKS && i < nb; i++)
		bpf_map_delete_elem(&kerby_hash, &idx[i]);
}

/*
 * Insert nb fresh hash blocks for indices first..first+nb-1 into idx[at..].
 * On failure every block this call inserted is deleted again.
 */
static __always_inline int kerby_hash_insert(__u64 first, __u32 at, __u32 nb, __u64 *idx)
{
	for (__u32 i = 0; i < KLOG_MAX_BLOCKS; i++) {
		long err;

		if (i >= nb)
			break;
		if (at + i >= KLOG_MAX_BLOCKS)
			return -E2BIG;
		idx[at + i] = first + i;
		err = bpf_map_update_elem(&kerby_hash, &idx[at + i], &kerby_zero_block,
					  BPF_NOEXIST);
		if (err) {
			kerby_free(&idx[at], i);
			return err == -E2BIG ? -ENOSPC : -ENOMEM;
		}
	}
	return 0;
}

/*
 * Hash malloc: indices come from an atomic fetch-add, as in the paper, so
 * allocations need no lock and blocks may be freed in any order.  A failed
 * malloc hands its indices back when no one took later ones; otherwise they
 * are simply never used (indices are 64-bit and never reused).
 */
static __always_inline int kerby_malloc_at(__u32 at, __u32 nb, __u64 *idx)
{
	struct kerby_index *ix = kerby_index_get();
	__u64 first;
	int err;

	if (!ix)
		return -ENOMEM;
	if (kerby_is_ring())
		return -EOPNOTSUPP; /* ring blocks come from kerby_malloc_ring_locked */
	first = __sync_fetch_and_add(&ix->next_block, nb);
	err = kerby_hash_insert(first, at, nb, idx);
	if (err)
		__sync_val_compare_and_swap(&ix->next_block, first + nb, first);
	return err;
}

static __always_inline int kerby_malloc(__u32 nb, __u64 *idx)
{
	return kerby_malloc_at(0, nb, idx);
}

/* Grow or shrink a hash allocation from old_nb to new_nb blocks, in place. */
static __always_inline int kerby_resize(__u32 old_nb, __u32 new_nb, __u64 *idx)
{
	if (new_nb > KLOG_MAX_BLOCKS || old_nb > KLOG_MAX_BLOCKS)
		return -E2BIG;
	if (new_nb > old_nb)
		return kerby_malloc_at(old_nb, new_nb - old_nb, idx);
	if (kerby_is_ring())
		return -EOPNOTSUPP;
	for (__u32 i = 0; i < KLOG_MAX_BLOCKS; i++) {
		if (i >= new_nb && i < old_nb) {
			bpf_map_delete_elem(&kerby_hash, &idx[i]);
			idx[i] = 0;
		}
	}
	return 0;
}

/* Copy len bytes from the packet at off into the blocks idx[] (paper: pool_update). */
static __always_inline int kerby_pool_update(void *ctx, enum klog_hook hook, __u32 off,
					     const __u64 *idx, __u32 len)
{
	for (__u32 i = 0; i < KLOG_MAX_BLOCKS; i++) {
		__u32 done = i * KLOG_BLOCK_SIZE;
		__u32 n = len - done;
		struct kerby_block *b;
		long err;

		if (done >= len)
			break;
		if (n > KLOG_BLOCK_SIZE)
			n = KLOG_BLOCK_SIZE;
		barrier_var(n); /* keep the bound the verifier needs for the helper */
		if (n < 1 || n > KLOG_BLOCK_SIZE)
			return -E2BIG;
		b = kerby_block(idx[i]);
		if (!b)
			return -ENOMEM;
		if (hook == KLOG_HOOK_XDP)
			err = bpf_xdp_load_bytes(ctx, off + done, b->data, n);
		else
			err = bpf_skb_load_bytes(ctx, off + done, b->data, n);
		if (err)
			return err;
	}
	return 0;
}

static __always_inline struct klog_alloc_entry *kerby_alloc_slot(__u64 key)
{
	__u32 slot = key % klog_window;

	return bpf_map_lookup_elem(&kerby_alloc, &slot);
}

/*
 * Record key -> (size, idx[]) in this CPU's allocation map entry and publish
 * it (paper: alloc_update).  The fields are written first, then lsn_tail
 * with a full barrier (xchg), then lsn: a reader whose copy shows
 * lsn == lsn_tail == key holds the whole entry (doc/design.md).
 */
static __always_inline int kerby_alloc_update(__u64 key, const __u64 *idx, __u32 size,
					      __u64 txid, __u64 request_id, __u32 client_id)
{
	struct klog_alloc_entry *e = kerby_alloc_slot(key);
	__u32 nb = kerby_nblocks(size);

	if (!e)
		return -ENOENT;
	e->txid = txid;
	e->request_id = request_id;
	e->client_id = client_id;
	e->len = size;
	for (__u32 i = 0; i < KLOG_MAX_BLOCKS; i++)
		e->blocks[i] = i < nb ? idx[i] : 0;
	__atomic_exchange_n(&e->lsn_tail, key, __ATOMIC_SEQ_CST);
	WRITE_ONCE(e->lsn, key);
	return 0;
}

/* Retire this CPU's entry for key, if it holds it (paper: alloc_del). */
static __always_inline int kerby_alloc_del(__u64 key)
{
	struct klog_alloc_entry *e = kerby_alloc_slot(key);

	if (!e || e->lsn != key)
		return -ENOENT;
	WRITE_ONCE(e->lsn, 0);
	return 0;
}

#endif /* KLOG_KERBY_BPF_H */
