/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retain.h - retention of a log directory: which whole segments klogd
 * deletes, oldest first (klogd --retain-bytes, --retain-age,
 * --retain-segments).  A limit of 0 is none.
 */
#ifndef KLOGD_RETAIN_H
#define KLOGD_RETAIN_H

#include <stdbool.h>
#include <stdint.h>

struct klogd_retain_cfg {
	uint64_t bytes;    /* keep at most this many bytes of segment files */
	uint64_t age_s;    /* delete segments whose newest record is older */
	uint64_t segments; /* keep at most this many segment files */
};

struct klogd_retain;

/* Is any limit set? */
static inline bool klogd_retain_any(const struct klogd_retain_cfg *c)
{
	return c->bytes || c->age_s || c->segments;
}

/*
 * Retention of the log in dir by cfg (kept by reference); *r stays NULL if
 * cfg sets no limit.  RETURN VALUE: 0; -errno opening dir (logged).
 */
int klogd_retain_open(struct klogd_retain **r, const struct klogd_retain_cfg *cfg,
		      const char *dir);

/*
 * Called from the drain loop: deletes what the limits say may go, never a
 * record at or above durable, when the directory changed (a new segment)
 * or every few seconds (age); otherwise one fstat.  Logs one line per
 * deletion, and a failure once until it changes.  r may be NULL.
 */
void klogd_retain_tick(struct klogd_retain *r, uint64_t durable);

void klogd_retain_close(struct klogd_retain *r);

#endif
