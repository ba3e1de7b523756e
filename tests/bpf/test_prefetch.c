// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the drain with its prefetch thread (klogd/prefetch.h), which
 * fetches the next allocation entries while the drain stages the records of
 * the ones before, between the real programs and the writer on ext4:
 *  - wraps: the window (512) and the ring wrap several times, chunks across
 *    the window's end; every record on disk once, byte for byte;
 *  - unpublished: an entry made unpublished in the map (lsn_tail cleared)
 *    stops the drain exactly before it, though the thread fetched past it;
 *    restored, the drain goes on from it with a fresh copy;
 *  - lookup_fails: a failing batched lookup is returned by klogd_drain_once,
 *    nothing is published; with the lookup back, everything is drained;
 *  - concurrent: two threads on two CPUs append while the drain runs, so
 *    entries are fetched while their programs are still writing them;
 *  - stop: the thread is joined with chunks fetched ahead, or one under way;
 *    the drain goes on without it.
 * Loop tests: _i % 2 backend (psync, uring), _i / 2 pool (ring, hash).
 */
#define _GNU_SOURCE
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <klog/klog.h>

#include "backend.h"
#include "check_run.h"
#include "drain.h"
#include "harness.h"
#include "prefetch.h"
#include "scratch.h"
#include "writer.h"

#define MAXR KLOG_MAX_RECORD
#define WINDOW 512
#define BATCH 100
#define PER_THREAD 5000

static const struct klog_backend_ops *const backends[] = {
	&klog_backend_psync,
	&klog_backend_uring,
};

/* A record's length and payload follow from its txid. */
static uint32_t len_for(uint64_t txid)
{
	return 1 + (uint32_t)(mix64(txid) % MAXR);
}

struct bed {
	struct fixture f;
	char dir[PATH_MAX];
	struct klog_backend *b;
	struct klog_writer *w;
	struct klogd_prefetch *pf;
	struct klogd_drain d;
};

static void bed_open(struct bed *t, int i, uint32_t window, uint64_t records)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	struct klog_backend_opts bo = { .queue_depth = 8, .buf_size = 1u << 20 };
	struct klog_writer_opts wo = { .seg_size = 1u << 20, .max_record = MAXR,
				       .first_lsn = KLOG_FIRST_LSN };
	struct klog_writer_recovery rec;
	static unsigned int seq;

	memset(t, 0, sizeof(*t));
	o.pool = i / 2 ? KERBY_POOL_HASH : KERBY_POOL_RING;
	o.window = window;
	o.pool_blocks = records * KLOG_MAX_BLOCKS + 64;
	fixture_load(&t->f, &o, true);
	ck_assert_int_lt(snprintf(t->dir, sizeof(t->dir), "%s/log-%d-%u", scratch_dir(),
				  (int)getpid(), seq++), (int)sizeof(t->dir));
	wo.dir = t->dir;
	ck_assert_int_eq(backends[i % 2]->open(&t->b, &bo), 0);
	ck_assert_int_eq(klog_writer_open(&t->w, &wo, t->b, &rec), 0);
	ck_assert_int_eq(klogd_prefetch_start(&t->pf, &t->f.k), 0);
	t->d = (struct klogd_drain){ .k = &t->f.k, .s = klog_writer_store(t->w), .prefetch = t->pf,
				     .batch = BATCH };
}

static void bed_close(struct bed *t)
{
	klogd_prefetch_stop(t->pf);
	klog_writer_close(t->w);
	t->b->ops->close(t->b);
	fixture_destroy(&t->f);
}

/* Append one record of txid as client (its request ids grow); returns its LSN. */
static uint64_t append(struct fixture *f, uint32_t client, uint64_t txid, struct run *r)
{
	static __thread uint8_t in[MAXR + 128], payload[MAXR];
	uint32_t len = len_for(txid);
	struct frame fr;
	struct klog_msg m;

	fill_payload(payload, len, txid);
	frame_default(&fr, IP4, payload, len);
	fr.hdr.txid = htobe64(txid);
	fr.hdr.client_id = htobe32(client);
	run_prog(fixture_prog(f, HOOK_XDP), in, build_frame(&fr, in, sizeof(in)), r);
	ck_assert_int_eq(klog_decode(r->out + 42, r->out_len - 42, &m), 0);
	ck_assert_msg(m.opcode == KLOG_OP_ACK, "append: %s", klog_status_str(m.status));
	return m.lsn;
}

static void append_n(struct bed *t, uint64_t n)
{
	static struct run r;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t lsn = t->f.k.ctl->next_lsn;

		ck_assert_uint_eq(append(&t->f, 1, lsn, &r), lsn);
	}
}

/* Drain until klogd_drain_once finds nothing more; returns the durable LSN. */
static uint64_t drain_until_idle(struct bed *t)
{
	int n, guard = 0;

	while ((n = klogd_drain_once(&t->d)) > 0)
		ck_assert_int_lt(guard++, 100000);
	ck_assert_msg(n == 0, "drain: %s", strerror(-n));
	ck_assert_uint_eq(t->f.k.ctl->durable_lsn, klog_writer_durable(t->w));
	ck_assert_uint_eq(t->f.k.ctl->truncated_lsn, klog_writer_durable(t->w));
	return klog_writer_durable(t->w);
}

struct seen {
	uint64_t next;   /* the LSN expected next */
	uint8_t *txids;  /* per txid of the concurrent case: seen once; NULL: txid == LSN */
	uint64_t ntxids;
};

static int check_one(const struct klog_record *rec, const void *payload, void *ctx)
{
	static uint8_t want[MAXR];
	struct seen *s = ctx;

	ck_assert_uint_eq(rec->lsn, s->next);
	ck_assert_uint_eq(rec->len, len_for(rec->txid));
	fill_payload(want, rec->len, rec->txid);
	ck_assert_msg(!memcmp(payload, want, rec->len), "lsn %llu: bytes differ",
		      (unsigned long long)rec->lsn);
	if (s->txids) {
		uint64_t i = (rec->txid >> 32) * PER_THREAD + (uint32_t)rec->txid;

		ck_assert_uint_lt(i, s->ntxids);
		ck_assert_msg(!s->txids[i]++, "txid %llx twice", (unsigned long long)rec->txid);
	} else {
		ck_assert_uint_eq(rec->txid, rec->lsn);
	}
	s->next++;
	return 0;
}

/* The disk holds exactly LSNs [1, to), each record as appended. */
static void check_disk(struct bed *t, uint64_t to, struct seen *s)
{
	struct klog_reader *r;

	s->next = KLOG_FIRST_LSN;
	ck_assert_int_eq(klog_reader_open(&r, t->dir), 0);
	ck_assert_int_eq(klog_iterate(r, KLOG_FIRST_LSN, UINT64_MAX, check_one, s), 0);
	klog_reader_close(r);
	ck_assert_uint_eq(s->next, to);
}

static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-prefetch", NULL);
}

/* Seven rounds of 400 records through a window of 512: it and the chunks wrap. */
START_TEST(wraps)
{
	struct seen s = { 0 };
	struct bed t;

	bed_open(&t, _i, WINDOW, 7 * 400);
	for (int round = 0; round < 7; round++) {
		append_n(&t, 400);
		ck_assert_uint_eq(drain_until_idle(&t), t.f.k.ctl->next_lsn);
	}
	check_disk(&t, t.f.k.ctl->next_lsn, &s);
	bed_close(&t);
}
END_TEST

/* Clear (or put back) lsn_tail of every CPU's copy of lsn's entry. */
static void set_published(struct bed *t, uint64_t lsn, bool on)
{
	size_t stride = t->f.k.entry_stride;
	uint8_t *v = calloc(t->f.k.ncpus, stride);
	__u32 slot = lsn % t->f.k.window;

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(bpf_map_lookup_elem(t->f.k.alloc_fd, &slot, v), 0);
	for (int c = 0; c < t->f.k.ncpus; c++) {
		struct klog_alloc_entry *e = (void *)(v + c * stride);

		if (e->lsn == lsn)
			e->lsn_tail = on ? klog_lsn_tail(lsn) : 0;
	}
	ck_assert_int_eq(bpf_map_update_elem(t->f.k.alloc_fd, &slot, v, BPF_ANY), 0);
	free(v);
}

START_TEST(unpublished)
{
	static uint8_t buf[MAXR];
	struct seen s = { 0 };
	struct bed t;

	bed_open(&t, _i, 4096, 1200);
	append_n(&t, 1200);
	set_published(&t, 700, false);
	ck_assert_uint_eq(drain_until_idle(&t), 700);
	ck_assert_int_eq(klog_kern_read(&t.f.k, 700, NULL, buf, sizeof(buf)), -EAGAIN);
	ck_assert_int_eq(klog_kern_read(&t.f.k, 701, NULL, buf, sizeof(buf)), (int)len_for(701));
	/* Again, with the thread's chunks from before. */
	ck_assert_int_eq(klogd_drain_once(&t.d), 0);
	set_published(&t, 700, true);
	ck_assert_uint_eq(drain_until_idle(&t), 1201);
	check_disk(&t, 1201, &s);
	bed_close(&t);
}
END_TEST

START_TEST(lookup_fails)
{
	struct seen s = { 0 };
	struct bed t;
	int fd;

	bed_open(&t, _i, 4096, 600);
	append_n(&t, 300);
	ck_assert_uint_eq(drain_until_idle(&t), 301);
	append_n(&t, 300);
	/* The next lookup, batched or not, finds no map. */
	fd = t.f.k.alloc_fd;
	t.f.k.alloc_fd = -1;
	ck_assert_int_eq(klogd_drain_once(&t.d), -EBADF);
	ck_assert_uint_eq(t.f.k.ctl->durable_lsn, 301);
	ck_assert_uint_eq(t.f.k.ctl->truncated_lsn, 301);
	t.f.k.alloc_fd = fd;
	ck_assert_uint_eq(drain_until_idle(&t), 601);
	check_disk(&t, 601, &s);
	bed_close(&t);
}
END_TEST

struct appender {
	struct fixture *f;
	int cpu;
};

static void *append_main(void *arg)
{
	struct appender *a = arg;
	struct run *r = malloc(sizeof(*r));
	cpu_set_t set;

	ck_assert_ptr_nonnull(r);
	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	ck_assert_int_eq(pthread_setaffinity_np(pthread_self(), sizeof(set), &set), 0);
	for (uint64_t i = 0; i < PER_THREAD; i++)
		append(a->f, a->cpu + 1, (uint64_t)a->cpu << 32 | i, r);
	free(r);
	return NULL;
}

START_TEST(concurrent)
{
	struct seen s = { .ntxids = 2 * PER_THREAD };
	struct appender a[2];
	pthread_t th[2];
	struct bed t;

	ck_assert_msg(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "needs two CPUs");
	bed_open(&t, _i, 65536, 2 * PER_THREAD);
	for (int c = 0; c < 2; c++) {
		a[c] = (struct appender){ .f = &t.f, .cpu = c };
		ck_assert_int_eq(pthread_create(&th[c], NULL, append_main, &a[c]), 0);
	}
	while (t.f.k.ctl->durable_lsn < KLOG_FIRST_LSN + 2 * PER_THREAD) {
		int n = klogd_drain_once(&t.d);

		ck_assert_msg(n >= 0, "drain: %s", strerror(-n));
	}
	for (int c = 0; c < 2; c++)
		ck_assert_int_eq(pthread_join(th[c], NULL), 0);
	ck_assert_uint_eq(drain_until_idle(&t), KLOG_FIRST_LSN + 2 * PER_THREAD);
	s.txids = calloc(s.ntxids, 1);
	ck_assert_ptr_nonnull(s.txids);
	check_disk(&t, KLOG_FIRST_LSN + 2 * PER_THREAD, &s);
	free(s.txids);
	bed_close(&t);
}
END_TEST

/* Stopped with chunks ahead (more records ready than one batch takes). */
START_TEST(stop)
{
	struct bed t;

	bed_open(&t, _i, 65536, 5000);
	append_n(&t, 5000);
	ck_assert_int_ge(klogd_drain_once(&t.d), 0);
	klogd_prefetch_stop(t.pf);
	ck_assert_ptr_null(t.f.k.chunk);
	/* The drain goes on in this thread alone. */
	t.pf = t.d.prefetch = NULL;
	ck_assert_uint_eq(drain_until_idle(&t), 5001);
	bed_close(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prefetch");
	TCase *tc = tcase_create("prefetch");

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, wraps, 0, 4);
	tcase_add_loop_test(tc, unpublished, 0, 4);
	tcase_add_loop_test(tc, lookup_fails, 0, 4);
	tcase_add_loop_test(tc, concurrent, 0, 4);
	tcase_add_loop_test(tc, stop, 0, 4);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
