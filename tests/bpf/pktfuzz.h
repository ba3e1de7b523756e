/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pktfuzz.h - the packet fuzzer's state (tests/bpf/test_pktfuzz.c): its model
 * of the log, and the checks of the maps against it after a batch.
 */
#ifndef KLOG_TEST_PKTFUZZ_H
#define KLOG_TEST_PKTFUZZ_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"

#define N_CASES 4      /* ring and hash, UDP checksums verified and not */
#define WINDOW 512
#define BATCH 1000
#define CLIENTS 4      /* valid clients: their dedup state is modelled exactly */
#define HISTORY 16     /* appended requests a valid client may retransmit */
/*
 * Clients of mutated frames: few, so the LRU client table evicts none.  The
 * targeted ones send only fresh, growing request ids (their requests are
 * new); random damage may give any id to the others.
 */
#define TGT_CLIENT(z) (0x7a7a0000u + (uint32_t)rnd(z, 4))
#define MUT_CLIENTS 16
#define MUT_CLIENT_BASE 0x5a5a0000u
#define MUT_CLIENT(z) (MUT_CLIENT_BASE + (uint32_t)rnd(z, MUT_CLIENTS))
/*
 * LSNs the model marks corrupt: half of klog_corrupt's room, which is an LRU
 * map that may evict before it is full; past its room the programs forget
 * the oldest tombstones (doc/protocol.md), which the model does not predict.
 */
#define MAX_CORRUPT (KLOG_MAX_CORRUPT / 2)
#define FRAME_CAP (KLOG_MAX_RECORD + 256) /* the largest request, damage and options */

/* An appended record, as the model expects its entry. */
struct mrec {
	uint64_t lsn, txid, request_id, hash;
	uint32_t client_id, len, crc;
	uint16_t flags;
};

struct sent {
	uint64_t req, lsn;
	bool durable;
	size_t n;
	uint8_t frame[FRAME_CAP];
};

struct client {
	uint32_t id;
	uint64_t next_req, max_req; /* max_req: the newest id the programs claimed */
	struct sent hist[HISTORY];
	unsigned int nhist;
};

struct fuzz {
	struct fixture f;
	bool ring, verify;
	int cas;
	uint64_t rng, frame_no, frames, bytes, mut_req, batches;
	uint64_t next, trunc, durable; /* the model's ctl */
	struct mrec rec[WINDOW];       /* by lsn % WINDOW, for [trunc, next) */
	uint8_t *corrupt;              /* bitmap by LSN */
	unsigned int ncorrupt;
	struct klog_stats st;
	struct client cl[CLIENTS];
	uint64_t tally[KLOG_STAT__MAX];
	uint8_t payload[KLOG_MAX_RECORD + 64];
};

extern uint64_t seed;
extern char msgbuf[512];
extern const char *const stat_names[];

#define FAIL(z, ...) ck_abort_msg("seed %#llx case %d frame %llu: %s", \
	(unsigned long long)seed, (z)->cas, (unsigned long long)(z)->frame_no, \
	(snprintf(msgbuf, sizeof(msgbuf), __VA_ARGS__), msgbuf))
#define CHECK(z, cond, ...) do { if (!(cond)) FAIL(z, __VA_ARGS__); } while (0)


static inline uint64_t rnd(struct fuzz *z, uint64_t n)
{
	return n ? splitmix64(&z->rng) % n : 0;
}

static inline bool is_corrupt(const struct fuzz *z, uint64_t lsn)
{
	return z->corrupt[lsn / 8] & (1u << (lsn % 8));
}

static inline struct mrec *rec_at(struct fuzz *z, uint64_t lsn)
{
	return &z->rec[lsn % WINDOW];
}

/* The counters of the identity: each frame adds 1 to exactly one. */
static inline bool is_outcome(enum klog_stat_id id)
{
	return id != KLOG_STAT_bytes && id != KLOG_STAT_reply_errors && id != KLOG_STAT_wakeups &&
	       id != KLOG_STAT_client_evictions;
}

uint64_t hash_bytes(const uint8_t *p, size_t n);
/* Record the entry the programs must have published for the request in frame p. */
void model_append(struct fuzz *z, const uint8_t *p, size_t n, uint16_t damaged);
/* Every LSN of the window published once, as sent; nothing past next_lsn; the pool's blocks. */
void check_entries(struct fuzz *z);
/* The counter identity, and bytes. */
void check_counters(struct fuzz *z);
/* As klogd would: durable, corrupt marks, truncation; and the random frames' clients forgotten. */
void drain(struct fuzz *z);
/* Only 10.77.0.0/24 and fd00::/64 may send. */
void restrict_sources(struct fuzz *z);

#endif
