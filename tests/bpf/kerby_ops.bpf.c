// SPDX-License-Identifier: GPL-2.0-only
/*
 * kerby_ops.bpf.c - the Kerby API (kerby.bpf.h) driven one call at a time by
 * test_kerby through BPF_PROG_TEST_RUN: userspace sets op and its arguments
 * in .bss, runs kerby_op, and reads ret and idx[] back.
 */
#include "kerby.bpf.h"

char LICENSE[] SEC("license") = "GPL";

enum kerby_test_op {
	OP_MALLOC, OP_FREE, OP_RESIZE, OP_POOL_UPDATE, OP_ALLOC_UPDATE, OP_ALLOC_DEL,
};

__u32 op, nb, new_nb, len;
__u64 key, first;
__u64 idx[KLOG_MAX_BLOCKS];
int ret;
__u32 sum;

SEC("xdp")
int kerby_op(struct xdp_md *ctx)
{
	switch (op) {
	case OP_MALLOC:
		ret = kerby_malloc(nb, idx);
		break;
	case OP_FREE:
		kerby_free(idx, nb);
		ret = 0;
		break;
	case OP_RESIZE:
		ret = kerby_resize(nb, new_nb, idx);
		break;
	case OP_POOL_UPDATE:
		/* The ring takes its indices under the log's lock; here, any range. */
		if (kerby_is_ring())
			kerby_fill_range(idx, first, kerby_nblocks(len));
		ret = kerby_pool_update(ctx, KLOG_HOOK_XDP, 0, idx, len, &sum);
		break;
	case OP_ALLOC_UPDATE:
		ret = kerby_alloc_update(key, idx[0], len, key + 100, key + 200, 7, 0, 0);
		break;
	case OP_ALLOC_DEL:
		ret = kerby_alloc_del(key);
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	return XDP_DROP;
}
