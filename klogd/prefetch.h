/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * prefetch.h - a second thread that fetches the drain's next allocation
 * entries (one BPF_MAP_LOOKUP_BATCH of the per-CPU map, the drain's largest
 * cost) while the drain stages the records of the entries fetched before.
 * Entries are only read ahead, never trusted more: each is accepted as the
 * drain accepts a synchronous copy (lsn == lsn_tail == the LSN wanted), and
 * the drain alone truncates, so a published entry cannot change in between.
 */
#ifndef KLOGD_PREFETCH_H
#define KLOGD_PREFETCH_H

#include <stdint.h>

#include "kern.h"

struct klogd_prefetch;

/* Start the thread for k, which must outlive it.  RETURN VALUE: 0 or -errno. */
int klogd_prefetch_start(struct klogd_prefetch **pf, struct klog_kern *k);

/* Stop and join the thread (after a fetch in progress) and free it; NULL is a no-op. */
void klogd_prefetch_stop(struct klogd_prefetch *pf);

/*
 * Make the entries of LSNs from lsn (at most n, only reserved ones) those
 * klog_kern_read takes: the next chunk the thread fetched ahead if it starts
 * there with lsn published (waiting for it if the thread is fetching it),
 * else a chunk fetched now in this thread, dropping what was fetched ahead.
 * The thread then fetches chunks of n after it, up to 4 ahead, while a
 * whole chunk is reserved (an idle or caught-up drain keeps it asleep).
 * Called by the drain's thread only.  RETURN VALUE: 0, or -errno of the
 * lookup made here; a lookup of the thread that failed is made again here.
 */
int klogd_prefetch_next(struct klogd_prefetch *pf, uint64_t lsn, uint32_t n);

#endif
