// SPDX-License-Identifier: GPL-2.0-only
/* drain.c - kernel log to disk (see drain.h). */
#include <errno.h>

#include "drain.h"
#include "log.h"

static void publish(struct klogd_drain *d, uint64_t durable)
{
	__atomic_store_n(&d->k->ctl->durable_lsn, durable, __ATOMIC_RELEASE);
}

/*
 * If record lsn's client asked for a durable acknowledgement, queue its
 * notice; it is sent once the commit that covers it returns.  The waiter is
 * read now, while the record is still in the kernel log: once truncated, its
 * slot may be reused.
 */
static void queue_notice(struct klogd_drain *d, uint64_t lsn, const struct klog_kern_rec *rec)
{
	const struct klog_waiter *w;

	if (!d->notify || !d->k->waiters)
		return;
	w = &d->k->waiters[lsn % d->k->window];
	if (__atomic_load_n(&w->lsn, __ATOMIC_ACQUIRE) == lsn)
		klogd_notify_add(d->notify, w, lsn, rec->client_id, rec->request_id, rec->txid);
}

int klogd_drain_reconcile(struct klogd_drain *d)
{
	uint64_t disk = klog_writer_next(d->w);
	uint64_t trunc = __atomic_load_n(&d->k->ctl->truncated_lsn, __ATOMIC_ACQUIRE);
	uint64_t next = __atomic_load_n(&d->k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	int err;

	if (disk < trunc)
		return -ESTALE;
	if (disk > next)
		return -ESTALE;
	/* A klogd that died between its datasync and its truncation left these. */
	if (disk > trunc && (err = klog_kern_truncate(d->k, disk)))
		return err;
	publish(d, disk);
	return 0;
}

int klogd_drain_once(struct klogd_drain *d)
{
	uint64_t lsn = klog_writer_next(d->w), first = lsn;
	/* Records a failed call staged are made durable, and counted, by this one. */
	uint64_t durable = klog_writer_durable(d->w);
	uint64_t end = __atomic_load_n(&d->k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	int err = 0;

	/* One syscall for the batch's entries instead of one per record. */
	if (end > lsn)
		klog_kern_prefetch(d->k, lsn, end - lsn < d->batch ? (uint32_t)(end - lsn) : d->batch);
	while (lsn < end && lsn - first < d->batch) {
		struct klog_kern_rec rec;
		void *p = klog_writer_reserve(d->w, KLOG_MAX_RECORD, &err);
		int n;

		if (!p)
			return err;
		n = klog_kern_read(d->k, lsn, &rec, p, KLOG_MAX_RECORD);
		if (n == -EAGAIN)
			break; /* reserved, still being written: the rest waits */
		if (n < 0)
			return n;
		if ((err = klog_writer_append(d->w, lsn, rec.txid, (uint32_t)n)))
			return err;
		queue_notice(d, lsn, &rec);
		d->bytes += n;
		lsn++;
	}
	if (lsn == durable)
		return 0;
	if ((err = klog_writer_commit(d->w)))
		return err;
	/* Durable first, then the kernel may reuse the records' memory. */
	if ((err = klog_kern_truncate(d->k, lsn)))
		return err;
	publish(d, lsn);
	if (d->notify)
		klogd_notify_flush(d->notify);
	d->records += lsn - durable;
	d->commits++;
	return (int)(lsn - durable);
}
