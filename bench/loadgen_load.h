/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loadgen_load.h - load the in-kernel load generator (loadgen.bpf.c) for one
 * run's requests, and read what it counted: shared by bench/loadgen and
 * tests/bpf/test_loadgen.c.  Functions return 0 or -errno.
 */
#ifndef KLOG_LOADGEN_LOAD_H
#define KLOG_LOADGEN_LOAD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "loadgen.h"
#include "loadgen.skel.h"

/* The requests of one run. */
struct loadgen_req {
	uint8_t smac[6], dmac[6];
	struct in_addr saddr, daddr;
	uint16_t sport, dport;
	uint32_t client_id;  /* CPU c sends as client_id + c */
	unsigned int small;  /* payload bytes of the small frames; 0: every frame large */
	unsigned int large;  /* payload bytes of the large frames, 1..KLOG_MAX_RECORD */
};

/* Bytes after the large request in the input frame: the generator cuts every frame. */
#define LOADGEN_INPUT_PAD 8

/*
 * Open and load the programs for requests r, and write to frame (cap bytes)
 * the frame to run the generator on, *len its length: a request of the
 * large size and LOADGEN_INPUT_PAD bytes more.  Its UDP checksum is 0
 * (none, for IPv4): see loadgen.c.
 */
int loadgen_load(struct loadgen **out, const struct loadgen_req *r, uint8_t *frame, size_t cap,
		 size_t *len);

/* Pace the generator on cpu (-1: every CPU): quota frames (0: no limit), one per gap_ns. */
int loadgen_pace_set(struct loadgen *skel, int cpu, uint64_t quota, uint64_t gap_ns);

/* The counters summed over CPUs (last_reply_ns: the latest of any CPU). */
int loadgen_counts_sum(struct loadgen *skel, struct loadgen_counts *sum);
/* The latency histogram summed over CPUs. */
int loadgen_hist_sum(struct loadgen *skel, struct loadgen_hist *sum);

/* The p-quantile (0 < p <= 1) of h in ns, the middle of its bucket; 0 if h is empty. */
double loadgen_quantile(const struct loadgen_hist *h, double p);

#endif /* KLOG_LOADGEN_LOAD_H */
