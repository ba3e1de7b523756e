// SPDX-License-Identifier: GPL-2.0-only
/* stats.c - see stats.h. */
#include "stats.h"

struct klogd_stats klogd_stats;

static const uint32_t bounds_us[KLOGD_HIST_BUCKETS] = KLOGD_HIST_BOUNDS_US;

void klogd_hist_observe(struct klogd_hist *h, uint64_t ns)
{
	unsigned int i = 0;

	while (i < KLOGD_HIST_BUCKETS && ns > (uint64_t)bounds_us[i] * 1000)
		i++;
	/* Above the last bound: only in +Inf, which is the count. */
	if (i < KLOGD_HIST_BUCKETS)
		klogd_count(&h->bucket[i], 1);
	klogd_count(&h->sum_ns, ns);
	klogd_count(&h->count, 1);
}

double klogd_hist_bound(unsigned int i)
{
	return bounds_us[i] / 1e6;
}
