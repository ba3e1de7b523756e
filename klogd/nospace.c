// SPDX-License-Identifier: GPL-2.0-only
/* nospace.c - see nospace.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "nospace.h"

#define NS_PER_S 1000000000ull

bool klogd_nospace_err(int err)
{
	return err == -ENOSPC || err == -EDQUOT;
}

/* LSNs the kernel holds that the disk does not (the records waiting). */
static uint64_t waiting(const struct klogd_drain *d)
{
	uint64_t next = __atomic_load_n(&d->k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	uint64_t durable = klogd_store_durable(d->s);

	return next > durable ? next - durable : 0;
}

void klogd_nospace_failed(struct klogd_drain *d, int err, uint64_t now_ns)
{
	struct klogd_health *h = &d->health;
	uint64_t durable = klogd_store_durable(d->s);

	if (h->state != KLOGD_HEALTH_NOSPACE) {
		*h = (struct klogd_health){ .state = KLOGD_HEALTH_NOSPACE, .since_ns = now_ns };
		snprintf(h->why, sizeof(h->why), "disk full (%s): durable LSN stays below %llu, "
			 "later records wait in the kernel", strerror(-err),
			 (unsigned long long)durable);
		klogd_warn("%s; clients get FULL once the window of %u fills; retrying every "
			   "%d ms", h->why, d->k->window, NOSPACE_RETRY_MS);
		d->nospace_logged = now_ns;
		return;
	}
	if (now_ns - d->nospace_logged < NOSPACE_LOG_S * NS_PER_S)
		return;
	d->nospace_logged = now_ns;
	klogd_warn("disk still full after %llu s (%s): durable LSN stays below %llu, %llu "
		   "records wait in the kernel", (unsigned long long)((now_ns - h->since_ns) / NS_PER_S),
		   strerror(-err), (unsigned long long)durable,
		   (unsigned long long)waiting(d));
}

void klogd_nospace_over(struct klogd_drain *d, uint64_t now_ns)
{
	struct klogd_health *h = &d->health;

	if (h->state != KLOGD_HEALTH_NOSPACE)
		return;
	klogd_log("disk has room again after %llu s: durable up to LSN %llu, confirming "
		  "durability again", (unsigned long long)((now_ns - h->since_ns) / NS_PER_S),
		  (unsigned long long)klogd_store_durable(d->s) - 1);
	*h = (struct klogd_health){ .state = KLOGD_HEALTH_OK, .since_ns = now_ns };
}
