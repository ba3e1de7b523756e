/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wlog.h - a log directory written through klogd's writer (writer.h) with
 * deterministic records, read back through libklog's reader and checked on
 * disk, for the writer and recovery tests.  Failures are Check assertions.
 */
#ifndef KLOG_TEST_WLOG_H
#define KLOG_TEST_WLOG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <klog/klog.h>

#include "backend.h"
#include "format.h"
#include "writer.h"

#define BLK 4096u
#define MAXR KLOG_MAX_RECORD
#define MAX_LSN 16384 /* LSNs the cases use stay below this */
#define MAX_SEGS 512

extern const struct klog_backend_ops *const backends[2];

/*
 * What each LSN must hold: its generation (records written again after a
 * cut are a new generation, so an old one read back is caught) and length.
 */
extern uint8_t gen_at[MAX_LSN];
extern uint32_t len_at[MAX_LSN];

struct log {
	char dir[PATH_MAX];
	const struct klog_backend_ops *ops;
	size_t buf_size;
	bool loose; /* reserve KLOG_MAX_RECORD for every record, as the drain does */
	struct klog_writer_opts o;
	struct klog_backend *b;
	struct klog_writer *w;
	struct klog_writer_recovery rec;
};

/* The txid of LSN lsn in generation gen; a record's length follows from its txid. */
uint64_t txid_of(uint64_t lsn, unsigned int gen);
uint32_t len_of(uint64_t txid);

/* A log (not created yet) in parent, with backend i % 2. */
void log_init(struct log *l, int i, const char *parent, uint64_t seg_size, size_t buf_size);
/* Open the writer (through a fault-injecting backend if rules): 0 or klog_writer_open's error. */
int log_try_open_faulty(struct log *l, const struct klog_fault_rule *rules, unsigned int n);
int log_try_open(struct log *l);
void log_open(struct log *l);                 /* must succeed */
void log_close(struct log *l);                /* without a commit, as in a crash */

/* Append the next record (generation gen); its LSN, or 0 with *err. */
uint64_t try_put_len(struct log *l, unsigned int gen, uint32_t len, int *err);
uint64_t put_len(struct log *l, unsigned int gen, uint32_t len);
uint64_t put(struct log *l, unsigned int gen);
void commit(struct log *l);                   /* must succeed, everything durable */
/* n records, a commit after every commit_every (0: none). */
void put_n(struct log *l, unsigned int n, unsigned int gen, unsigned int commit_every);

/* Reading back: each record exactly as appended. */
void assert_appended(const struct klog_record *rec, const void *payload);
void check_one(struct klog_reader *r, uint64_t lsn);
void check_read(const char *dir, uint64_t from, uint64_t to);     /* [from, to) */
void read_fails(const char *dir, uint64_t lsn, int err);          /* and writes nothing */
void bounds_are(const char *dir, uint64_t first, uint64_t last);
int iterate(const char *dir, uint64_t from, uint64_t to, unsigned int *calls);

/* Files: bytes changed, read, cut or grown behind the writer's back. */
uint8_t poke(const char *path, size_t off, uint8_t x); /* XOR; the new value */
uint8_t byte_at(const char *path, size_t off);
void truncate_to(const char *path, size_t size);
void grow_zeroes(const char *path, size_t n);
void write_file(const char *path, const void *p, size_t n);
void assert_zero_from(const char *path, size_t off);

/* What LSN lsn must hold; dir checked against the format from LSN first (check_seg_files). */
void expected(uint64_t lsn, uint64_t *txid, uint32_t *len);
uint64_t check_files(const char *dir, uint64_t first);

#endif
