/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retain.h - retention of a log directory: which whole segments klogd
 * deletes, oldest first (klogd --retain-bytes, --retain-age,
 * --retain-segments).  A limit of 0 is none.
 */
#ifndef KLOGD_RETAIN_H
#define KLOGD_RETAIN_H

#include <stdint.h>

struct klogd_retain_cfg {
	uint64_t bytes;    /* keep at most this many bytes of segment files */
	uint64_t age_s;    /* delete segments whose newest record is older */
	uint64_t segments; /* keep at most this many segment files */
};

#endif
