/* SPDX-License-Identifier: GPL-2.0-only */
/* state.h - snapshots of every klog map, to prove a refused request changed nothing. */
#ifndef KLOG_TEST_STATE_H
#define KLOG_TEST_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

struct state {
	struct klog_ctl ctl;
	uint64_t next_block;
	uint64_t pool_used;
	size_t alloc_size, pool_size;
	uint8_t *alloc; /* every slot's per-CPU values */
	uint8_t *pool;  /* ring: the mmap; hash: (key, block) pairs in key order */
};

void state_take(struct fixture *f, struct state *s);
/* Fails the test, naming the first part that differs. */
void state_assert_same(const struct state *a, const struct state *b);
void state_free(struct state *s);

#endif
