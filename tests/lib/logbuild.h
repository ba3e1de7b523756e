/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * logbuild.h - write a clean log directory with the format's codec, many
 * small segments quickly, for the tests that then damage it: test_reader,
 * test_verify and tests/unit/test-klogctl.sh (through mklog).  Record lsn
 * holds logbuild_len(lsn) bytes of logbuild_fill(), txid lsn + 1000.
 * Functions return 0 or a negative errno value (no Check: mklog uses them).
 */
#ifndef KLOG_TEST_LOGBUILD_H
#define KLOG_TEST_LOGBUILD_H

#include <stddef.h>
#include <stdint.h>

struct logbuild {
	uint64_t first_lsn; /* of the first segment; 0 means 1 */
	unsigned int segments;
	unsigned int per_seg; /* records in each */
	uint64_t log_id;
};

#define LOGBUILD_SEG_SIZE (1 << 20) /* every segment's seg_size */

/* Payload bytes of record lsn: 0..95, so segments stay small. */
uint32_t logbuild_len(uint64_t lsn);

/* Its payload into p (logbuild_len(lsn) bytes). */
void logbuild_fill(uint8_t *p, uint64_t lsn);

/* The salt of the segment starting at first. */
uint64_t logbuild_salt(uint64_t first);

/* Make dir (it must not exist) and write the log b describes into it, with its klog.meta
 * (when log_id is set), as klogd leaves a directory. */
int logbuild_write(const char *dir, const struct logbuild *b);

#endif
