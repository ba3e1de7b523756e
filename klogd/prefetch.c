// SPDX-License-Identifier: GPL-2.0-only
/* prefetch.c - the drain's allocation entries fetched by a second thread (see prefetch.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "prefetch.h"

/* What became of the request for the chunk ahead. */
enum ahead_state {
	AHEAD_NONE,  /* none: the chunk ahead is free */
	AHEAD_ASKED, /* asked, not started: the drain may still take it back */
	AHEAD_BUSY,  /* the thread is fetching it */
	AHEAD_DONE,  /* fetched, or failed with err */
};

struct klogd_prefetch {
	struct klog_kern *k;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	/* The chunk klog_kern_read uses, and the one ahead (the thread's while asked or busy). */
	struct klog_kern_chunk chunk[2];
	int cur;
	enum ahead_state state;
	uint64_t want_lsn;
	uint32_t want_n;
	int err;
	bool stop;
};

static struct klog_kern_chunk *ahead(struct klogd_prefetch *pf)
{
	return &pf->chunk[!pf->cur];
}

static void *run(void *arg)
{
	struct klogd_prefetch *pf = arg;

	pthread_mutex_lock(&pf->lock);
	for (;;) {
		while (!pf->stop && pf->state != AHEAD_ASKED)
			pthread_cond_wait(&pf->work, &pf->lock);
		if (pf->stop)
			break;
		pf->state = AHEAD_BUSY;
		pthread_mutex_unlock(&pf->lock);
		/* Only this thread touches the chunk ahead while busy, and k only to read. */
		int err = klog_kern_fetch(pf->k, ahead(pf), pf->want_lsn, pf->want_n);

		pthread_mutex_lock(&pf->lock);
		pf->err = err;
		pf->state = AHEAD_DONE;
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
	/* The kernel log no longer reads from these chunks. */
	if (pf->k->chunk == &pf->chunk[0] || pf->k->chunk == &pf->chunk[1])
		klog_kern_use(pf->k, NULL);
	klog_kern_chunk_free(&pf->chunk[0]);
	klog_kern_chunk_free(&pf->chunk[1]);
	pthread_cond_destroy(&pf->done);
	pthread_cond_destroy(&pf->work);
	pthread_mutex_destroy(&pf->lock);
	free(pf);
}

/* The chunk ahead, once the thread is done with it: whether it starts with lsn, published. */
static bool ahead_starts_at(struct klogd_prefetch *pf, uint64_t lsn)
{
	const struct klog_kern_chunk *c = ahead(pf);

	/* Not started yet: fetching it here is sooner than waiting for the thread to wake. */
	if (pf->state == AHEAD_ASKED)
		pf->state = AHEAD_NONE;
	while (pf->state == AHEAD_BUSY)
		pthread_cond_wait(&pf->done, &pf->lock);
	return pf->state == AHEAD_DONE && !pf->err && c->lsn == lsn && c->n &&
	       c->entries[0].lsn == lsn;
}

int klogd_prefetch_next(struct klogd_prefetch *pf, uint64_t lsn, uint32_t n)
{
	struct klog_kern_chunk *c;
	int err = 0;

	pthread_mutex_lock(&pf->lock);
	/* The thread is idle from here on: both chunks are this thread's. */
	if (!ahead_starts_at(pf, lsn))
		err = klog_kern_fetch(pf->k, ahead(pf), lsn, n);
	pf->state = AHEAD_NONE;
	pf->cur = !pf->cur;
	c = &pf->chunk[pf->cur];
	klog_kern_use(pf->k, c);
	if (!err && c->n && lsn + c->n < __atomic_load_n(&pf->k->ctl->next_lsn, __ATOMIC_ACQUIRE)) {
		pf->want_lsn = lsn + c->n;
		pf->want_n = n;
		pf->state = AHEAD_ASKED;
		pthread_cond_signal(&pf->work);
	}
	pthread_mutex_unlock(&pf->lock);
	return err;
}
