/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loadgen.h - what the in-kernel load generator's BPF side (loadgen.bpf.c)
 * and its userspace (loadgen, loadgen_load.c, the tests) both see: the
 * request template, the reply counters and the latency histogram.  Included
 * after vmlinux.h from BPF, after <linux/types.h> from userspace.
 */
#ifndef KLOG_LOADGEN_H
#define KLOG_LOADGEN_H

#include <klog/klog_abi.h>

/* Ethernet, IPv4 without options, UDP: where the klog header starts. */
#define LOADGEN_KLOG_OFF (14 + 20 + 8)
/* Every header of a request, the part the generator writes into each frame. */
#define LOADGEN_HDRS_LEN (LOADGEN_KLOG_OFF + 40)

/*
 * The headers of one request size, as they go on the wire (the klog
 * header's client_id, request_id and txid are filled per frame).
 */
struct loadgen_tmpl {
	__u8 bytes[LOADGEN_HDRS_LEN];
	__u16 frame_len; /* bytes of the whole frame */
	__u16 pad;
};

/* Which template a frame gets: 0 the small size, 1 the large (the input frame). */
enum { LOADGEN_SMALL, LOADGEN_LARGE, LOADGEN_TMPLS };

/* A frame's size: every frame the large, or the 75/25 mix (every 4th large). */
static inline __attribute__((always_inline)) int loadgen_is_large(__u64 n, int mix)
{
	return !mix || (n & 3) == 3;
}

/*
 * Latency histogram, log-linear: values below 2^LOADGEN_SUB_BITS ns have a
 * bucket each; above, every power of two is cut into 2^LOADGEN_SUB_BITS
 * buckets (so a bucket is at most 1/16 of its value wide).  Values of
 * 2^LOADGEN_MAX_BITS ns (18 minutes) and more share the last bucket.
 */
#define LOADGEN_SUB_BITS 4
#define LOADGEN_MAX_BITS 40
#define LOADGEN_BUCKETS ((LOADGEN_MAX_BITS - LOADGEN_SUB_BITS + 1) << LOADGEN_SUB_BITS)

/* Index of the highest bit set in v (v > 0), without a loop the verifier must walk. */
static inline __attribute__((always_inline)) __u32 loadgen_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static inline __attribute__((always_inline)) __u32 loadgen_bucket(__u64 ns)
{
	__u32 e;

	if (ns >> LOADGEN_MAX_BITS)
		return LOADGEN_BUCKETS - 1;
	if (ns < (1u << LOADGEN_SUB_BITS))
		return (__u32)ns;
	e = loadgen_log2(ns);
	return ((e - LOADGEN_SUB_BITS + 1) << LOADGEN_SUB_BITS) +
	       (__u32)((ns >> (e - LOADGEN_SUB_BITS)) & ((1u << LOADGEN_SUB_BITS) - 1));
}

/* Lowest value of bucket b, and its width: the inverse of loadgen_bucket(). */
static inline __u64 loadgen_bucket_low(__u32 b)
{
	__u32 e = (b >> LOADGEN_SUB_BITS) + LOADGEN_SUB_BITS - 1;

	if (b < (1u << LOADGEN_SUB_BITS))
		return b;
	return (__u64)((1u << LOADGEN_SUB_BITS) + (b & ((1u << LOADGEN_SUB_BITS) - 1)))
	       << (e - LOADGEN_SUB_BITS);
}

static inline __u64 loadgen_bucket_width(__u32 b)
{
	return b < (2u << LOADGEN_SUB_BITS) ? 1 : 1ull << ((b >> LOADGEN_SUB_BITS) - 1);
}

/* NACK statuses counted one by one; a larger one counts as the last. */
#define LOADGEN_STATUSES 24
_Static_assert(KLOG_ST__MAX <= LOADGEN_STATUSES, "every status has its NACK counter");

/* Per-CPU counters of the two programs; `bpftool map dump` prints them by name. */
struct loadgen_counts {
	__u64 sent;              /* generator: frames rewritten and sent (XDP_TX) */
	__u64 sent_large;        /* of which of the large size */
	__u64 gen_errors;        /* generator: a frame could not be rewritten (XDP_ABORTED) */
	__u64 gen_idle;          /* generator: not due or over quota: XDP_DROP */
	__u64 acks;              /* counter: ACKs to this run's requests */
	__u64 nacks[LOADGEN_STATUSES]; /* counter: NACKs by status (KLOG_ST_*) */
	__u64 other_replies;     /* counter: this run's, but neither ACK nor NACK */
	__u64 foreign;           /* counter: klog replies to the port from other clients */
	__u64 malformed;         /* counter: to the port, but short or without the magic */
	__u64 passed;            /* counter: not for the generator's port: XDP_PASS */
	__u64 last_reply_ns;     /* counter: bpf_ktime_get_ns() of the latest reply */
};

/*
 * Per CPU, set by bench/loadgen before the run: the generator sends quota
 * frames (0: no limit), one every gap_ns (0: unpaced), and answers every
 * other run of the program with XDP_DROP, so that one long
 * BPF_PROG_TEST_RUN paces itself: each call sets up and tears down a page
 * pool, which waits for an RCU grace period, far too long to pace by calls.
 */
struct loadgen_pace {
	__u64 quota;
	__u64 gap_ns;
	__u64 next_ns; /* when the next frame is due */
};

/* After a stall, a paced generator catches up with at most this many frames at once. */
#define LOADGEN_CATCH_UP 16

/* Per-CPU ACK latency histogram: now - txid of each ACK, by loadgen_bucket(). */
struct loadgen_hist {
	__u64 n[LOADGEN_BUCKETS];
};

#endif /* KLOG_LOADGEN_H */
