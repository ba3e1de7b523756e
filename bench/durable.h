/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * durable.h - what the durable-path benchmarks (drain_rate and read_cost,
 * which bench/durable.sh runs) share: the mix of records they log, a clock,
 * and removing a log directory.
 */
#ifndef KLOG_BENCH_DURABLE_H
#define KLOG_BENCH_DURABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <klog/klog.h>

#define MIX_SMALL 128
#define MIX_LARGE 1024
#define MIX_SEED 0x6b6c6f67u

/*
 * The Kerby paper's mix, 75% MIX_SMALL and 25% MIX_LARGE bytes: record i
 * (from 0) is sizes[i] bytes of mix_payload(m, i), with txid i + 1.
 */
struct mix {
	uint16_t *sizes;
	uint64_t n, n_large, payload_bytes, disk_bytes, blocks;
	uint8_t payload[2][MIX_LARGE];
};

/* n records, the same sequence every time; 0 or -ENOMEM.  mix_free() when done. */
int mix_init(struct mix *m, uint64_t n);
void mix_free(struct mix *m);
const uint8_t *mix_payload(const struct mix *m, uint64_t i);
/* rec, with payload, is record i of m: its length, txid and bytes. */
bool mix_holds(const struct mix *m, uint64_t i, const struct klog_record *rec,
	       const void *payload);

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* Remove dir and the files in it (a log directory has no subdirectories). */
void remove_log_dir(const char *dir);

#endif
