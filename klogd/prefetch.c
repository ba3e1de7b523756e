// SPDX-License-Identifier: GPL-2.0-only
/* prefetch.c - the drain's allocation entries fetched by a second thread (see prefetch.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "prefetch.h"

/* Chunks fetched ahead at most: slack for the thread to be woken and scheduled. */
#define DEPTH 4
#define NCHUNKS (DEPTH + 1)

/*
 * The chunks form a ring: chunk[cur] is the one klog_kern_read uses, the
 * ready ones follow it in LSN order, then the one the thread fills while
 * busy.  The thread fetches from cursor on, a chunk of per entries at a
 * time, while a whole chunk of reserved LSNs is below limit.
 */
struct klogd_prefetch {
	struct klog_kern *k;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	struct klog_kern_chunk chunk[NCHUNKS];
	unsigned int cur, ready;
	bool busy, stop;
	uint64_t cursor, limit;
	uint32_t per;
	unsigned int gen; /* a fetch started before the drain went elsewhere is dropped */
};

static struct klog_kern_chunk *after_cur(struct klogd_prefetch *pf, unsigned int i)
{
	return &pf->chunk[(pf->cur + 1 + i) % NCHUNKS];
}

static bool worth_fetching(const struct klogd_prefetch *pf)
{
	return pf->ready < DEPTH && pf->per && pf->cursor + pf->per <= pf->limit;
}

static void *run(void *arg)
{
	struct klogd_prefetch *pf = arg;

	pthread_mutex_lock(&pf->lock);
	for (;;) {
		while (!pf->stop && !worth_fetching(pf))
			pthread_cond_wait(&pf->work, &pf->lock);
		if (pf->stop)
			break;
		struct klog_kern_chunk *c = after_cur(pf, pf->ready);
		unsigned int gen = pf->gen;
		uint64_t lsn = pf->cursor;
		uint32_t n = pf->per;

		pf->busy = true;
		pthread_mutex_unlock(&pf->lock);
		/* Only this thread touches c while busy, and k only to read. */
		int err = klog_kern_fetch(pf->k, c, lsn, n);

		pthread_mutex_lock(&pf->lock);
		pf->busy = false;
		if (gen == pf->gen && !err && c->n) {
			pf->ready++;
			pf->cursor += c->n;
		} else if (gen == pf->gen) {
			/* Failed or nothing there: the drain fetches it, and sees the error. */
			pf->limit = 0;
		}
		pthread_cond_signal(&pf->done);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

int klogd_prefetch_start(struct klogd_prefetch **out, struct klog_kern *k)
{
	struct klogd_prefetch *pf = calloc(1, sizeof(*pf));
	int err;

	if (!pf)
		return -ENOMEM;
	pf->k = k;
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->work, NULL);
	pthread_cond_init(&pf->done, NULL);
	err = pthread_create(&pf->thread, NULL, run, pf);
	if (err) {
		pthread_cond_destroy(&pf->done);
		pthread_cond_destroy(&pf->work);
		pthread_mutex_destroy(&pf->lock);
		free(pf);
		return -err;
	}
	*out = pf;
	return 0;
}

void klogd_prefetch_stop(struct klogd_prefetch *pf)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_signal(&pf->work);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	for (int i = 0; i < NCHUNKS; i++) {
		/* The kernel log no longer reads from these chunks. */
		if (pf->k->chunk == &pf->chunk[i])
			klog_kern_use(pf->k, NULL);
		klog_kern_chunk_free(&pf->chunk[i]);
	}
	pthread_cond_destroy(&pf->done);
	pthread_cond_destroy(&pf->work);
	pthread_mutex_destroy(&pf->lock);
	free(pf);
}

/* Whether the next ready chunk starts with lsn, published; waits for the one being fetched. */
static bool ready_at(struct klogd_prefetch *pf, uint64_t lsn)
{
	while (!pf->ready && pf->busy && pf->cursor == lsn)
		pthread_cond_wait(&pf->done, &pf->lock);
	const struct klog_kern_chunk *c = after_cur(pf, 0);

	return pf->ready && c->lsn == lsn && c->n && c->entries[0].lsn == lsn;
}

int klogd_prefetch_next(struct klogd_prefetch *pf, uint64_t lsn, uint32_t n)
{
	int err = 0;

	pthread_mutex_lock(&pf->lock);
	if (ready_at(pf, lsn)) {
		pf->ready--;
	} else {
		/* Elsewhere, or not fetched yet: drop what is ahead and fetch here. */
		while (pf->busy)
			pthread_cond_wait(&pf->done, &pf->lock);
		pf->gen++;
		pf->ready = 0;
		err = klog_kern_fetch(pf->k, after_cur(pf, 0), lsn, n);
		pf->cursor = lsn + after_cur(pf, 0)->n;
	}
	pf->cur = (pf->cur + 1) % NCHUNKS;
	klog_kern_use(pf->k, &pf->chunk[pf->cur]);
	pf->per = n;
	pf->limit = err ? 0 : __atomic_load_n(&pf->k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	if (worth_fetching(pf))
		pthread_cond_signal(&pf->work);
	pthread_mutex_unlock(&pf->lock);
	return err;
}
