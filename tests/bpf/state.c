// SPDX-License-Identifier: GPL-2.0-only
/* state.c - snapshots of the klog maps (see state.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "state.h"

struct hash_pair {
	uint64_t key;
	struct kerby_block block;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct hash_pair *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

void state_take(struct fixture *f, struct state *s)
{
	struct klog_kern *k = &f->k;

	memset(s, 0, sizeof(*s));
	s->ctl = *k->ctl;
	ck_assert_int_eq(klog_kern_next_block(k, &s->next_block), 0);
	ck_assert_int_eq(klog_kern_pool_used(k, &s->pool_used), 0);

	s->alloc_size = (size_t)k->window * k->ncpus * k->entry_stride;
	s->alloc = malloc(s->alloc_size);
	ck_assert_ptr_nonnull(s->alloc);
	for (uint32_t slot = 0; slot < k->window; slot++)
		ck_assert_int_eq(bpf_map_lookup_elem(k->alloc_fd, &slot,
			s->alloc + (size_t)slot * k->ncpus * k->entry_stride), 0);

	if (k->pool == KERBY_POOL_RING) {
		s->pool_size = k->pool_blocks * sizeof(struct kerby_block);
		s->pool = malloc(s->pool_size);
		ck_assert_ptr_nonnull(s->pool);
		memcpy(s->pool, k->ring, s->pool_size);
		return;
	}
	struct hash_pair *pairs = calloc(s->pool_used + 1, sizeof(*pairs));
	uint64_t key, *prev = NULL;
	size_t n = 0;

	ck_assert_ptr_nonnull(pairs);
	while (n <= s->pool_used && !bpf_map_get_next_key(k->pool_fd, prev, &key)) {
		pairs[n].key = key;
		ck_assert_int_eq(bpf_map_lookup_elem(k->pool_fd, &key, &pairs[n].block), 0);
		prev = &pairs[n++].key;
	}
	ck_assert_uint_eq(n, s->pool_used);
	qsort(pairs, n, sizeof(*pairs), pair_cmp);
	s->pool = (uint8_t *)pairs;
	s->pool_size = n * sizeof(*pairs);
}

void state_assert_same(const struct state *a, const struct state *b)
{
	ck_assert_msg(!memcmp(&a->ctl, &b->ctl, sizeof(a->ctl)), "control map changed");
	ck_assert_uint_eq(a->next_block, b->next_block);
	ck_assert_uint_eq(a->pool_used, b->pool_used);
	ck_assert_uint_eq(a->alloc_size, b->alloc_size);
	ck_assert_msg(!memcmp(a->alloc, b->alloc, a->alloc_size), "allocation map changed");
	ck_assert_uint_eq(a->pool_size, b->pool_size);
	ck_assert_msg(!memcmp(a->pool, b->pool, a->pool_size), "memory pool changed");
}

void state_free(struct state *s)
{
	free(s->alloc);
	free(s->pool);
}
