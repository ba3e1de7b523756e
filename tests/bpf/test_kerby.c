// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the Kerby allocator's API on its own, in the real kernel:
 * malloc, free and resize on the hash pool (monotonic indices, no reuse,
 * all-or-nothing when the pool is full), refusal on the ring pool,
 * pool_update into both pool kinds, alloc_update and alloc_del.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check_run.h"
#include "frame.h"
#include "kern.h"
#include "kerby_ops.skel.h"

enum { OP_MALLOC, OP_FREE, OP_RESIZE, OP_POOL_UPDATE, OP_ALLOC_UPDATE, OP_ALLOC_DEL };

struct kfix {
	struct kerby_ops *skel;
	struct klog_kern k;
};

static void kfix_load(struct kfix *f, enum kerby_pool_kind pool, uint64_t blocks)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	cpu_set_t set;

	/* alloc_update writes this CPU's entry: stay on CPU 0. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(set), &set), 0);
	o.pool = pool;
	o.window = 16;
	o.pool_blocks = blocks;
	f->skel = kerby_ops__open();
	ck_assert_ptr_nonnull(f->skel);
	ck_assert_int_eq(klog_kern_configure(f->skel->obj, &o), 0);
	ck_assert_int_eq(kerby_ops__load(f->skel), 0);
	ck_assert_int_eq(klog_kern_open(&f->k, f->skel->obj), 0);
	ck_assert_int_eq(klog_kern_init(&f->k, KLOG_FIRST_LSN, 1), 0);
}

static void kfix_destroy(struct kfix *f)
{
	klog_kern_close(&f->k);
	kerby_ops__destroy(f->skel);
}

/* Run one operation on packet bytes pkt (at least an Ethernet header's worth). */
static int call(struct kfix *f, uint32_t op, const uint8_t *pkt, size_t n)
{
	static uint8_t dummy[64];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt ? pkt : dummy,
		    .data_size_in = (__u32)(pkt ? n : sizeof(dummy)), .repeat = 1);

	f->skel->bss->op = op;
	ck_assert_int_eq(bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.kerby_op), &opts),
			 0);
	ck_assert_uint_eq(opts.retval, XDP_DROP);
	return f->skel->bss->ret;
}

static uint64_t used(struct kfix *f)
{
	uint64_t n;

	ck_assert_int_eq(klog_kern_pool_used(&f->k, &n), 0);
	return n;
}

static uint64_t next_block(struct kfix *f)
{
	uint64_t n;

	ck_assert_int_eq(klog_kern_next_block(&f->k, &n), 0);
	return n;
}

static void assert_idx(struct kfix *f, const uint64_t *want, int n)
{
	for (int i = 0; i < KLOG_MAX_BLOCKS; i++)
		ck_assert_uint_eq(f->skel->bss->idx[i], i < n ? want[i] : 0);
}

START_TEST(hash_malloc_free)
{
	struct kfix f;
	struct kerby_block b;

	kfix_load(&f, KERBY_POOL_HASH, 8);
	f.skel->bss->nb = 3;
	ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), 0);
	assert_idx(&f, (uint64_t[]){ 1, 2, 3 }, 3);
	ck_assert_uint_eq(used(&f), 3);
	ck_assert_uint_eq(next_block(&f), 4);
	for (uint64_t i = 1; i <= 3; i++) {
		ck_assert_int_eq(bpf_map_lookup_elem(f.k.pool_fd, &i, &b), 0);
		for (size_t j = 0; j < sizeof(b.data); j++)
			ck_assert_uint_eq(b.data[j], 0);
	}
	ck_assert_int_eq(call(&f, OP_FREE, NULL, 0), 0);
	ck_assert_uint_eq(used(&f), 0);
	/* No free list: freed indices are never handed out again. */
	f.skel->bss->nb = 2;
	ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), 0);
	assert_idx(&f, (uint64_t[]){ 4, 5 }, 2);
	kfix_destroy(&f);
}
END_TEST

START_TEST(hash_malloc_full)
{
	struct kfix f;

	kfix_load(&f, KERBY_POOL_HASH, 8);
	f.skel->bss->nb = 5;
	ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), 0);
	f.skel->bss->nb = 4;
	ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), -ENOSPC);
	/* All or nothing: the blocks it had inserted are gone, its indices back. */
	ck_assert_uint_eq(used(&f), 5);
	ck_assert_uint_eq(next_block(&f), 6);
	f.skel->bss->nb = 3;
	ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), 0);
	assert_idx(&f, (uint64_t[]){ 6, 7, 8 }, 3);
	ck_assert_uint_eq(used(&f), 8);
	kfix_destroy(&f);
}
END_TEST

START_TEST(hash_resize)
{
	struct kfix f;
	uint64_t key = 1, next;

	kfix_load(&f, KERBY_POOL_HASH, 16);
	f.skel->bss->nb = 2;
	ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), 0);
	f.skel->bss->new_nb = 5;
	ck_assert_int_eq(call(&f, OP_RESIZE, NULL, 0), 0);
	assert_idx(&f, (uint64_t[]){ 1, 2, 3, 4, 5 }, 5);
	ck_assert_uint_eq(used(&f), 5);
	f.skel->bss->nb = 5;
	f.skel->bss->new_nb = 1;
	ck_assert_int_eq(call(&f, OP_RESIZE, NULL, 0), 0);
	ck_assert_uint_eq(used(&f), 1);
	ck_assert_int_eq(bpf_map_get_next_key(f.k.pool_fd, NULL, &next), 0);
	ck_assert_uint_eq(next, key);
	f.skel->bss->nb = 1;
	f.skel->bss->new_nb = KLOG_MAX_BLOCKS + 1;
	ck_assert_int_eq(call(&f, OP_RESIZE, NULL, 0), -E2BIG);
	ck_assert_uint_eq(used(&f), 1);
	kfix_destroy(&f);
}
END_TEST

START_TEST(ring_refuses_malloc)
{
	struct kfix f;

	kfix_load(&f, KERBY_POOL_RING, 8);
	f.skel->bss->nb = 1;
	f.skel->bss->new_nb = 2;
	ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), -EOPNOTSUPP);
	ck_assert_int_eq(call(&f, OP_RESIZE, NULL, 0), -EOPNOTSUPP);
	ck_assert_uint_eq(next_block(&f), KERBY_FIRST_BLOCK);
	kfix_destroy(&f);
}
END_TEST

/* pool_update: _i = pool kind; the payload is the whole packet. */
START_TEST(pool_update)
{
	size_t len = 3 * KLOG_BLOCK_SIZE - 5, nb = 3;
	static uint8_t pkt[3 * 512];
	struct kerby_block b;
	struct kfix f;

	if (len > KLOG_MAX_RECORD) {
		len = KLOG_MAX_RECORD;
		nb = KLOG_DIV_ROUND_UP(len, KLOG_BLOCK_SIZE);
	}
	kfix_load(&f, _i, 8);
	fill_payload(pkt, len, 42);
	f.skel->bss->len = len;
	f.skel->bss->nb = nb;
	f.skel->bss->first = 7; /* ring: wraps from slot 7 to slots 0 and 1 */
	if (_i == KERBY_POOL_HASH)
		ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), 0);
	ck_assert_int_eq(call(&f, OP_POOL_UPDATE, pkt, len), 0);
	for (size_t i = 0; i < nb; i++) {
		uint64_t ix = f.skel->bss->idx[i];
		size_t n = len - i * KLOG_BLOCK_SIZE < KLOG_BLOCK_SIZE ? len - i * KLOG_BLOCK_SIZE
								       : KLOG_BLOCK_SIZE;

		if (_i == KERBY_POOL_HASH)
			ck_assert_int_eq(bpf_map_lookup_elem(f.k.pool_fd, &ix, &b), 0);
		else
			memcpy(&b, f.k.ring + (ix % f.k.pool_blocks) * sizeof(b), sizeof(b));
		ck_assert_mem_eq(b.data, pkt + i * KLOG_BLOCK_SIZE, n);
	}
	kfix_destroy(&f);
}
END_TEST

START_TEST(alloc_update_del)
{
	struct kfix f;
	uint32_t slot = 5;

	kfix_load(&f, KERBY_POOL_HASH, 8);
	f.skel->bss->nb = 2;
	ck_assert_int_eq(call(&f, OP_MALLOC, NULL, 0), 0);
	f.skel->bss->key = 5;
	f.skel->bss->len = KLOG_BLOCK_SIZE + 1;
	ck_assert_int_eq(call(&f, OP_ALLOC_UPDATE, NULL, 0), 0);
	ck_assert_int_eq(bpf_map_lookup_elem(f.k.alloc_fd, &slot, f.k.cpu_entries), 0);
	const struct klog_alloc_entry *e = f.k.cpu_entries; /* CPU 0's copy */

	ck_assert_uint_eq(e->lsn, 5);
	ck_assert_uint_eq(e->lsn_tail, 5);
	ck_assert_uint_eq(e->len, KLOG_BLOCK_SIZE + 1);
	ck_assert_uint_eq(e->txid, 105);
	ck_assert_uint_eq(e->request_id, 205);
	ck_assert_uint_eq(e->client_id, 7);
	ck_assert_uint_eq(e->first_block, 1); /* blocks 1 and 2 */

	ck_assert_int_eq(call(&f, OP_ALLOC_DEL, NULL, 0), 0);
	ck_assert_int_eq(bpf_map_lookup_elem(f.k.alloc_fd, &slot, f.k.cpu_entries), 0);
	ck_assert_uint_eq(e->lsn, 0);
	f.skel->bss->key = 6;
	ck_assert_int_eq(call(&f, OP_ALLOC_DEL, NULL, 0), -ENOENT);
	kfix_destroy(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kerby");
	TCase *tc = tcase_create("kerby");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hash_malloc_free);
	tcase_add_test(tc, hash_malloc_full);
	tcase_add_test(tc, hash_resize);
	tcase_add_test(tc, ring_refuses_malloc);
	tcase_add_loop_test(tc, pool_update, 0, 2);
	tcase_add_test(tc, alloc_update_del);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
