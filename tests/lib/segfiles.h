/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * segfiles.h - a log directory's files as doc/format.md lays them out, for
 * the tests that write logs: paths, whole files, index entries, the
 * segments there are, and the check that a directory follows the format.
 * Failures are Check assertions.
 */
#ifndef KLOG_TEST_SEGFILES_H
#define KLOG_TEST_SEGFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Into out (PATH_MAX bytes): the path of dir's segment from LSN first, or of its index if idx. */
void path_of(char *out, const char *dir, uint64_t first, bool idx);

/* The size of the file at path. */
size_t size_of(const char *path);

/* The whole file, malloc'd (one byte more than *n, so never empty). */
uint8_t *slurp(const char *path, size_t *n);

/* The index entries of segment first in dir (host order), at most cap; returns how many. */
size_t read_idx(const char *dir, uint64_t first, uint64_t *offs, size_t cap);

/*
 * First LSNs of dir's segments, sorted, at most cap; returns how many.
 * *tmps (unless tmps is NULL): NAME.tmp files seen.
 */
size_t list_segs(const char *dir, uint64_t *firsts, size_t cap, size_t *tmps);

/* What the record of LSN lsn must be: its txid and length. */
typedef void seg_expect_fn(uint64_t lsn, uint64_t *txid, uint32_t *len);

/*
 * dir as the format says, from LSN first on: every segment's header is valid
 * and names it, its index is dense and names exactly the records a scan
 * finds, at their offsets, each with the txid and length expect gives;
 * nothing but zeroes follows the last one; no record crosses the segment
 * size; each segment starts at the LSN after the one before, and no
 * NAME.tmp is left.  Returns the LSN after the last record.
 */
uint64_t check_seg_files(const char *dir, uint64_t first, seg_expect_fn *expect);

#endif
