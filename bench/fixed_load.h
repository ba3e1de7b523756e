/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fixed_load.h - load the fixed-slot baseline (fixed_log.bpf.c) with a slot
 * size and a number of slots, and read its counters: shared by its loader
 * (bench/fixed_log), bench/mem_cost and tests/bpf/test_fixed.c.  Functions
 * return 0 or -errno.
 */
#ifndef KLOG_FIXED_LOAD_H
#define KLOG_FIXED_LOAD_H

#include <stdint.h>
#include <linux/types.h>

#include "fixed_slot.h"
#include "fixed_log.skel.h"

/*
 * Open and load the object for slot-byte slots (128 or 1024), slots of them,
 * serving UDP port port.  The log map of the other size is left at one slot.
 */
int fixed_load(struct fixed_log **out, unsigned int slot, uint32_t slots, uint16_t port);

/* The program of the slot size skel was loaded for, and its log map. */
struct bpf_program *fixed_prog(struct fixed_log *skel, unsigned int slot);
struct bpf_map *fixed_map(struct fixed_log *skel, unsigned int slot);

/* The counters summed over CPUs. */
int fixed_stats_sum(struct fixed_log *skel, struct fixed_stats *sum);

#endif /* KLOG_FIXED_LOAD_H */
