// SPDX-License-Identifier: GPL-2.0-only
/* drain.c - kernel log to disk (see drain.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "drain.h"
#include "format.h"
#include "log.h"
#include "stats.h"

/* Tombstones logged in full per second; the rest are counted (stop summary). */
#define TOMB_LOG_PER_SEC 10

/* Records staged between looks at the commit in flight. */
#define STAGE_CHUNK 256u
/* Allocation entries the prefetch thread fetches at a time. */
#define FETCH_CHUNK 512u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void publish(struct klogd_drain *d, uint64_t durable)
{
	__atomic_store_n(&d->k->ctl->durable_lsn, durable, __ATOMIC_RELEASE);
	klogd_serve_kick(d->serve);
}

/*
 * If record lsn's client asked for a durable acknowledgement, queue its
 * notice; it is sent once the commit that covers it returns.  The waiter is
 * read now, while the record is still in the kernel log: once truncated, its
 * slot may be reused.
 */
static void queue_notice(struct klogd_drain *d, uint64_t lsn, const struct klog_kern_rec *rec,
			 uint16_t status)
{
	const struct klog_waiter *w;

	if (!d->notify || !d->k->waiters)
		return;
	w = &d->k->waiters[lsn % d->k->window];
	if (__atomic_load_n(&w->lsn, __ATOMIC_ACQUIRE) == lsn)
		klogd_notify_add(d->notify, w, lsn, rec->client_id, rec->request_id, rec->txid,
				 status);
}

/*
 * Whether record lsn's n payload bytes at p may be stored: not if the kernel
 * saw them damaged (KLOG_AF_DAMAGED), nor if they fail the CRC-32C the
 * client sent (KLOG_AF_CRC).  The segment's CRC would only seal the damage.
 */
static bool damaged(const struct klog_kern_rec *rec, const void *p, int n)
{
	if (rec->flags & KLOG_AF_DAMAGED)
		return true;
	return (rec->flags & KLOG_AF_CRC) && klog_crc32c(0, p, (size_t)n) != rec->crc;
}

/* One line per tombstone, at most TOMB_LOG_PER_SEC a second (all are counted). */
static void log_tombstone(struct klogd_drain *d, uint64_t lsn, const struct klog_kern_rec *rec,
			  const void *p, int n)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((uint64_t)ts.tv_sec != d->tomb_sec) {
		d->tomb_sec = (uint64_t)ts.tv_sec;
		d->tomb_logged = 0;
	}
	if (d->tomb_logged++ >= TOMB_LOG_PER_SEC)
		return;
	if (rec->flags & KLOG_AF_DAMAGED)
		klogd_warn("LSN %llu (client %u request %llu, %d bytes): damaged in the kernel "
			  "(UDP checksum): stored as a tombstone%s", (unsigned long long)lsn,
			  rec->client_id, (unsigned long long)rec->request_id, n,
			  d->tomb_logged == TOMB_LOG_PER_SEC ? " (more this second only counted)" : "");
	else
		klogd_warn("LSN %llu (client %u request %llu, %d bytes): CRC-32C 0x%08x, the client "
			  "sent 0x%08x: stored as a tombstone%s", (unsigned long long)lsn,
			  rec->client_id, (unsigned long long)rec->request_id, n,
			  klog_crc32c(0, p, (size_t)n), rec->crc,
			  d->tomb_logged == TOMB_LOG_PER_SEC ? " (more this second only counted)" : "");
}

/*
 * Stage record lsn (n bytes at p, reserved in the store): as it is, or as a
 * tombstone, which the programs learn of now, before durable_lsn can pass it.
 */
static int store_record(struct klogd_drain *d, uint64_t lsn, const struct klog_kern_rec *rec,
			const void *p, int n)
{
	int err;

	if (!damaged(rec, p, n)) {
		if ((err = klogd_store_append(d->s, lsn, rec->txid, (uint32_t)n, 0)))
			return err;
		queue_notice(d, lsn, rec, KLOG_ST_OK);
		klogd_count(&d->bytes, (uint64_t)n);
		return 0;
	}
	log_tombstone(d, lsn, rec, p, n);
	if ((err = klogd_store_append(d->s, lsn, rec->txid, 0, KLOG_REC_F_TOMBSTONE)))
		return err;
	if ((err = klog_kern_corrupt_add(d->k, lsn))) {
		klogd_err("LSN %llu: cannot record the tombstone in klog_corrupt: %s",
			  (unsigned long long)lsn, strerror(-err));
		return err;
	}
	queue_notice(d, lsn, rec, KLOG_ST_CORRUPT);
	klogd_count(&d->tombstones, 1);
	return 0;
}

int klogd_drain_reconcile(struct klogd_drain *d)
{
	uint64_t disk = klogd_store_next(d->s);
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

/*
 * What the writer made durable since the last call is published: the kernel
 * log truncated (only now may the kernel reuse the records' memory),
 * durable_lsn advanced, the notices sent.  RETURN VALUE: records published.
 */
static int publish_durable(struct klogd_drain *d)
{
	uint64_t durable = klogd_store_durable(d->s);
	uint64_t prev = __atomic_load_n(&d->k->ctl->durable_lsn, __ATOMIC_ACQUIRE);
	int err;

	if (durable == prev)
		return 0;
	/* A store that found more than the kernel ever took is another log's (a stream's end). */
	if (durable > __atomic_load_n(&d->k->ctl->next_lsn, __ATOMIC_ACQUIRE))
		return -ESTALE;
	if ((err = klog_kern_truncate(d->k, durable)))
		return err;
	publish(d, durable);
	if (d->notify)
		klogd_notify_flush(d->notify, durable);
	klogd_count(&d->records, durable - prev);
	if (d->commit_end && durable >= d->commit_end) {
		klogd_count(&d->commits, 1);
		klogd_hist_observe(&klogd_stats.commit, now_ns() - d->commit_start_ns);
		d->commit_end = 0;
	}
	return (int)(durable - prev);
}

/*
 * Finish the commit in flight, waiting or not, and publish what is durable
 * (a stream confirms records one by one, so some may be while others are
 * not): records published, or -errno.  A wait that ended with records
 * still pending marks the drain stalled, so it returns to its caller.
 */
static int reap(struct klogd_drain *d, bool wait)
{
	int err = klogd_store_commit_wait(d->s, wait);

	if (err == -EAGAIN)
		d->stalled = wait;
	else if (err)
		return err;
	return publish_durable(d);
}

/*
 * Fetch the allocation entries from lsn's with one syscall: STAGE_CHUNK of
 * them in this thread (at most left), or the prefetch thread's next chunk.
 */
static int fetch(struct klogd_drain *d, uint64_t lsn, uint64_t left)
{
	if (d->prefetch)
		return klogd_prefetch_next(d->prefetch, lsn, FETCH_CHUNK);
	return klog_kern_prefetch(d->k, lsn, left < STAGE_CHUNK ? (uint32_t)left : STAGE_CHUNK);
}

/*
 * Stage the committed records from the writer's next LSN, at most d->batch,
 * and look at the commit in flight every STAGE_CHUNK records; entries are
 * fetched whenever the chunk at hand lacks the next one (published).  The
 * records published meanwhile are added to *done, even when it fails later.
 * *caught_up: every record ready was staged.  RETURN VALUE: 0 or -errno.
 */
static int stage(struct klogd_drain *d, bool *caught_up, int *done)
{
	uint64_t lsn = klogd_store_next(d->s), first = lsn;
	uint64_t end = __atomic_load_n(&d->k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	int err;

	*caught_up = true;
	while (lsn < end) {
		struct klog_kern_rec rec;
		void *p;
		int n;

		if (lsn - first == d->batch) {
			*caught_up = false;
			break;
		}
		if (!klog_kern_chunk_entry(d->k, lsn) &&
		    (err = fetch(d, lsn, d->batch - (lsn - first))))
			return err;
		if ((lsn - first) % STAGE_CHUNK == 0) {
			if ((n = reap(d, false)) < 0)
				return n;
			*done += n;
		}
		if (!(p = klogd_store_reserve(d->s, KLOG_MAX_RECORD, &err)))
			return err == -EAGAIN ? 0 : err; /* the store is full: wait for it */
		n = klog_kern_read(d->k, lsn, &rec, p, KLOG_MAX_RECORD);
		if (n == -EAGAIN)
			break; /* reserved, still being written: the rest waits */
		if (n < 0)
			return n;
		if ((err = store_record(d, lsn, &rec, p, n)))
			return err;
		lsn++;
	}
	return 0;
}

/* Records not durable yet and no commit counted: the one starting now counts them. */
static void commit_starts(struct klogd_drain *d)
{
	if (klogd_store_durable(d->s) < klogd_store_next(d->s) && !d->commit_end) {
		d->commit_end = klogd_store_next(d->s);
		d->commit_start_ns = now_ns();
	}
}

/*
 * An error after this call published records: they are returned now and the
 * error by the next call, so that a call that fails has published nothing
 * and every record published is counted by the call that returns it.
 */
static int failed(struct klogd_drain *d, int done, int err)
{
	klogd_count(&klogd_stats.write_errors, 1);
	if (!done)
		return err;
	d->err = err;
	return done;
}

/*
 * Stage a batch while the one before is written, then start its commit.  It
 * is left in flight for the next call only when more records are ready, so
 * an idle drain never holds a record back.
 */
int klogd_drain_once(struct klogd_drain *d)
{
	int done = 0, n;
	bool caught_up;

	if ((n = d->err)) {
		d->err = 0;
		return n;
	}
	d->stalled = false;
	do {
		if ((n = stage(d, &caught_up, &done)))
			return failed(d, done, n);
		/* A store that commits at once is counted and timed too. */
		commit_starts(d);
		/* Waits for the commit before, then starts this batch's. */
		if ((n = klogd_store_commit_start(d->s)) || (n = publish_durable(d)) < 0)
			return failed(d, done, n);
		done += n;
		commit_starts(d);
		if ((n = reap(d, caught_up)) < 0)
			return failed(d, done, n);
		done += n;
	} while (!done && !d->stalled && klogd_store_durable(d->s) < klogd_store_next(d->s));
	return done;
}

void klogd_drain_store_health(struct klogd_drain *d, uint64_t now_ns)
{
	const char *what = klogd_store_waiting(d->s);
	struct klogd_health *h = &d->health;

	if (what && h->state == KLOGD_HEALTH_OK) {
		*h = (struct klogd_health){ .state = KLOGD_HEALTH_STORE_WAIT, .since_ns = now_ns };
		snprintf(h->why, sizeof(h->why), "waiting for %s; records stay in the kernel", what);
	} else if (!what && h->state == KLOGD_HEALTH_STORE_WAIT) {
		*h = (struct klogd_health){ .state = KLOGD_HEALTH_OK, .since_ns = now_ns };
	}
}
