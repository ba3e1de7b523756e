/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kerby.bpf.h - the Kerby memory pool allocator (Kim & Han, eBPF '25) as a
 * BPF library: index allocator, memory pool (ring or hash) and allocation map.
 *
 * Operations, after the paper's API table:
 *   kerby_malloc(nb, idx[])          take nb blocks                (primitive)
 *   kerby_free(idx[], nb)            give them back                (primitive)
 *   kerby_resize(old, new, idx[])    grow or shrink an allocation  (primitive)
 *   kerby_pool_update(idx[], src)    write the blocks, sum them    (helper)
 *   kerby_alloc_update(key, first, size, ...)  publish an entry    (helper)
 *   kerby_alloc_del(key)             retire an allocation entry    (helper)
 * Errors are negative errno values: -ENOSPC pool full, -ENOMEM the kernel
 * could not allocate a hash element, -EOPNOTSUPP not for this pool kind.
 */
#ifndef KLOG_KERBY_BPF_H
#define KLOG_KERBY_BPF_H

#include "csum.bpf.h"

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
		__u32 slot = klog_mod(idx, kerby_pool_blocks, kerby_pool_mask);

		return bpf_map_lookup_elem(&kerby_ring, &slot);
	}
	return bpf_map_lookup_elem(&kerby_hash, &idx);
}

/*
 * idx[i] = first + i for i < nb and 0 beyond, by arithmetic alone: a branch
 * per block would let the verifier carry nb's range out of the loop once per
 * possible value, and with 64-byte blocks that multiplies past its limit.
 */
static __always_inline void kerby_fill_range(__u64 *idx, __u64 first, __u32 nb)
{
	for (__u32 i = 0; i < KLOG_MAX_BLOCKS; i++) {
		/* all ones when i < nb, zero otherwise */
		__u64 keep = ~(__u64)(((__s64)nb - (__s64)i - 1) >> 63);

		idx[i] = (first + i) & keep;
	}
}

/*
 * Ring malloc's test: nb blocks from index first fit.  Ring blocks are
 * reserved with the LSN (klog_reserve), so block order is LSN order and the
 * ring is freed by advancing one watermark.  Index i may be taken only when
 * every index below i - pool_blocks is free, i.e. i < watermark + pool_blocks.
 */
static __always_inline bool kerby_malloc_ring_fits(__u64 first, __u32 nb, __u64 watermark)
{
	return first + nb - watermark <= kerby_pool_blocks;
}

/*
 * Per-block work runs under bpf_loop(): the verifier checks each callback
 * once, whatever the number of blocks, and the kernel inlines the loop.
 */
struct kerby_loop {
	void *ctx;    /* packet, for pool_update */
	__u64 *idx;   /* block indices */
	__u64 first;  /* first new index, for malloc */
	__u32 at;     /* first slot of idx[] the loop works on */
	__u32 off;    /* packet offset of the payload */
	__u32 len;    /* payload bytes */
	__u32 done;   /* iterations that succeeded */
	__u32 sum;    /* pool_update: one's-complement sum of the bytes, negated */
	long err;
};

static long kerby_free_cb(__u32 i, struct kerby_loop *l)
{
	__u32 j = l->at + i;

	if (j >= KLOG_MAX_BLOCKS)
		return 1;
	bpf_map_delete_elem(&kerby_hash, &l->idx[j]);
	return 0;
}

/* Release hash blocks idx[at..at+nb); the ring is freed by its watermark instead. */
static __always_inline void kerby_free_at(__u64 *idx, __u32 at, __u32 nb)
{
	struct kerby_loop l = { .idx = idx, .at = at };

	if (!kerby_is_ring())
		bpf_loop(nb, kerby_free_cb, &l, 0);
}

static __always_inline void kerby_free(__u64 *idx, __u32 nb)
{
	kerby_free_at(idx, 0, nb);
}

static long kerby_insert_cb(__u32 i, struct kerby_loop *l)
{
	__u32 j = l->at + i;
	long err;

	if (j >= KLOG_MAX_BLOCKS) {
		l->err = -E2BIG;
		return 1;
	}
	l->idx[j] = l->first + i;
	err = bpf_map_update_elem(&kerby_hash, &l->idx[j], &kerby_zero_block, BPF_NOEXIST);
	if (err) {
		l->err = err == -E2BIG ? -ENOSPC : -ENOMEM;
		return 1;
	}
	l->done = i + 1;
	return 0;
}

/*
 * Hash malloc of nb blocks into idx[at..]: indices come from an atomic
 * fetch-add, as in the paper, so allocations need no lock and blocks may be
 * freed in any order.  On failure every block it inserted is deleted, and its
 * indices are handed back when no one took later ones; otherwise they are
 * simply never used (indices are 64-bit and never reused).
 */
static __always_inline int kerby_malloc_at(__u32 at, __u32 nb, __u64 *idx)
{
	struct kerby_index *ix = kerby_index_get();
	struct kerby_loop l = { .idx = idx, .at = at };

	if (!ix)
		return -ENOMEM;
	if (kerby_is_ring())
		return -EOPNOTSUPP; /* ring blocks are reserved with the LSN */
	if (at + nb > KLOG_MAX_BLOCKS)
		return -E2BIG;
	l.first = __sync_fetch_and_add(&ix->next_block, nb);
	if (at == 0)
		kerby_fill_range(idx, l.first, nb); /* zeroes the slots past nb too */
	bpf_loop(nb, kerby_insert_cb, &l, 0);
	if (l.err) {
		kerby_free_at(idx, at, l.done);
		__sync_val_compare_and_swap(&ix->next_block, l.first + nb, l.first);
	}
	return l.err;
}

static __always_inline int kerby_malloc(__u32 nb, __u64 *idx)
{
	return kerby_malloc_at(0, nb, idx);
}

/*
 * Grow or shrink a hash allocation from old_nb to new_nb blocks, in place.
 * Grown blocks need not follow the old ones, so a grown allocation is not
 * one an allocation entry can name (log records never change size).
 */
static __always_inline int kerby_resize(__u32 old_nb, __u32 new_nb, __u64 *idx)
{
	if (new_nb > KLOG_MAX_BLOCKS || old_nb > KLOG_MAX_BLOCKS)
		return -E2BIG;
	if (kerby_is_ring())
		return -EOPNOTSUPP;
	if (new_nb > old_nb)
		return kerby_malloc_at(old_nb, new_nb - old_nb, idx);
	kerby_free_at(idx, new_nb, old_nb - new_nb);
	return 0;
}

/* Copy block i's share of the payload from the packet into its pool block, and sum it. */
static __always_inline long kerby_copy_one(__u32 i, struct kerby_loop *l, enum klog_hook hook)
{
	__u32 done = i * KLOG_BLOCK_SIZE, n;
	struct kerby_block *b;

	if (i >= KLOG_MAX_BLOCKS || done >= l->len)
		return 1;
	n = l->len - done;
	if (n > KLOG_BLOCK_SIZE)
		n = KLOG_BLOCK_SIZE;
	b = kerby_block(l->idx[i]);
	if (!b) {
		l->err = -ENOMEM;
		return 1;
	}
	/* Summed while the block is hot in the cache: the caller's fingerprint. */
	l->err = klog_load_sum(l->ctx, hook, l->off + done, b->data, n, KLOG_BLOCK_SIZE, &l->sum);
	return l->err ? 1 : 0;
}

static long kerby_copy_xdp_cb(__u32 i, struct kerby_loop *l)
{
	return kerby_copy_one(i, l, KLOG_HOOK_XDP);
}

static long kerby_copy_tc_cb(__u32 i, struct kerby_loop *l)
{
	return kerby_copy_one(i, l, KLOG_HOOK_TC);
}

/*
 * Copy len bytes from the packet at off into the blocks idx[] (paper:
 * pool_update), and return in *sum the negated one's-complement sum of the
 * bytes (32-bit; fold it to compare sums taken in other pieces).
 */
static __always_inline int kerby_pool_update(void *ctx, enum klog_hook hook, __u32 off,
					     __u64 *idx, __u32 len, __u32 *sum)
{
	struct kerby_loop l = { .ctx = ctx, .idx = idx, .off = off, .len = len };

	bpf_loop(kerby_nblocks(len), hook == KLOG_HOOK_XDP ? kerby_copy_xdp_cb : kerby_copy_tc_cb,
		 &l, 0);
	*sum = l.sum;
	return l.err;
}

static __always_inline struct klog_alloc_entry *kerby_alloc_slot(__u64 key)
{
	__u32 slot = klog_window_slot(key);

	return bpf_map_lookup_elem(&kerby_alloc, &slot);
}

/*
 * Record key -> (size, blocks first..) in this CPU's allocation map entry
 * and publish it (paper: alloc_update, whose idx[] is here the first index:
 * a record's blocks are consecutive).  The fields are written first, then
 * lsn_tail with a full barrier (xchg), then lsn: a reader whose copy shows
 * lsn == lsn_tail == key holds the whole entry (doc/design.md).
 */
static __always_inline int kerby_alloc_update(__u64 key, __u64 first, __u32 size, __u64 txid,
					      __u64 request_id, __u32 client_id, __u16 flags,
					      __u32 crc)
{
	struct klog_alloc_entry *e = kerby_alloc_slot(key);

	if (!e)
		return -ENOENT;
	e->txid = txid;
	e->request_id = request_id;
	e->first_block = first;
	e->client_id = client_id;
	e->len = size;
	e->flags = flags;
	e->crc = crc;
	__atomic_exchange_n(&e->lsn_tail, klog_lsn_tail(key), __ATOMIC_SEQ_CST);
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
