// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: long and concurrent streams through the real programs.
 *  - 100,000 appends of random sizes 1..max per pool kind, drained and
 *    truncated as they go (so the window and ring wrap many times): LSNs
 *    contiguous, every record read back byte for byte.
 *  - two threads pinned to two CPUs append at once while a third reads:
 *    LSNs unique and gap-free, no reader ever sees a torn entry.
 *  - two threads on two CPUs send the same requests of one client at once:
 *    each is appended exactly once, and both copies get its LSN.
 */
#define _GNU_SOURCE
#include <check.h>
#include <endian.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "harness.h"

#define STREAM_RECORDS 100000
#define STREAM_DRAIN_EVERY 500

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

/* Send one APPEND of payload through prog; return the LSN it was acknowledged with. */
static uint64_t append_one(int prog, enum hook h, const uint8_t *payload, size_t len,
			   uint64_t txid, struct run *r)
{
	uint8_t in[KLOG_MAX_RECORD + 128];
	struct frame fr;
	struct klog_msg m;
	size_t n;

	frame_default(&fr, IP4, payload, len);
	fr.hdr.txid = htobe64(txid);
	/* One client per writer: a client's request ids must grow (doc/protocol.md). */
	fr.hdr.client_id = htobe32((uint32_t)(txid >> 32));
	n = build_frame(&fr, in, sizeof(in));
	run_prog(prog, in, n, r);
	ck_assert_uint_eq(r->retval, verdict_reply(h));
	ck_assert_int_eq(klog_decode(r->out + 42, r->out_len - 42, &m), 0);
	ck_assert_msg(m.opcode == KLOG_OP_ACK, "append of %zu bytes: %s", len,
		      klog_status_str(m.status));
	ck_assert_uint_eq(m.txid, txid);
	return m.lsn;
}

/* Read back [from, to) and check each record against the payload seeded by its txid. */
static void drain(struct fixture *f, uint64_t from, uint64_t to)
{
	static uint8_t got[KLOG_MAX_RECORD], want[KLOG_MAX_RECORD];
	struct klog_kern_rec rec;

	for (uint64_t lsn = from; lsn < to; lsn++) {
		int n = klog_kern_read(&f->k, lsn, &rec, got, sizeof(got));

		ck_assert_msg(n > 0, "read lsn %llu: %s", (unsigned long long)lsn, strerror(-n));
		fill_payload(want, n, rec.txid);
		ck_assert_msg(!memcmp(got, want, n), "lsn %llu content differs",
			      (unsigned long long)lsn);
	}
	ck_assert_int_eq(klog_kern_truncate(&f->k, to), 0);
}

/* stream: _i = pool kind */
START_TEST(stream_100k)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	static uint8_t payload[KLOG_MAX_RECORD];
	uint64_t x = 0x5eed + _i, drained = KLOG_FIRST_LSN, used;
	struct fixture f;
	struct run r;
	int prog;

	o.pool = _i;
	o.window = 1024;
	o.pool_blocks = 4 * STREAM_DRAIN_EVERY * KLOG_MAX_BLOCKS;
	fixture_load(&f, &o, true);
	prog = fixture_prog(&f, HOOK_XDP);
	for (uint64_t i = 0; i < STREAM_RECORDS; i++) {
		size_t len = 1 + rng_next(&x) % KLOG_MAX_RECORD;
		uint64_t txid = (uint64_t)_i << 32 | i;

		fill_payload(payload, len, txid);
		ck_assert_uint_eq(append_one(prog, HOOK_XDP, payload, len, txid, &r),
				  KLOG_FIRST_LSN + i);
		if ((i + 1) % STREAM_DRAIN_EVERY == 0) {
			drain(&f, drained, KLOG_FIRST_LSN + i + 1);
			drained = KLOG_FIRST_LSN + i + 1;
		}
	}
	ck_assert_uint_eq(f.k.ctl->next_lsn, KLOG_FIRST_LSN + STREAM_RECORDS);
	ck_assert_uint_eq(f.k.ctl->truncated_lsn, KLOG_FIRST_LSN + STREAM_RECORDS);
	ck_assert_int_eq(klog_kern_pool_used(&f.k, &used), 0);
	ck_assert_uint_eq(used, 0);
	fixture_destroy(&f);
}
END_TEST

#define CONC_PER_THREAD 20000

struct writer {
	struct fixture *f;
	int cpu;
	enum hook hook;
	uint64_t *lsns;
};

static atomic_bool writers_done;

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint8_t payload[KLOG_MAX_RECORD];
	uint64_t x = 0xabcdef + w->cpu;
	cpu_set_t set;
	struct run *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	ck_assert_int_eq(pthread_setaffinity_np(pthread_self(), sizeof(set), &set), 0);
	for (uint64_t i = 0; i < CONC_PER_THREAD; i++) {
		size_t len = 1 + rng_next(&x) % KLOG_MAX_RECORD;
		uint64_t txid = (uint64_t)(w->cpu + 1) << 32 | i;

		fill_payload(payload, len, txid);
		w->lsns[i] = append_one(fixture_prog(w->f, w->hook), w->hook, payload, len,
					txid, r);
	}
	free(r);
	return NULL;
}

/* Reads every LSN as soon as it is committed and checks its bytes; returns how many. */
static uint64_t read_concurrently(struct fixture *f, uint64_t total)
{
	uint64_t lsn = KLOG_FIRST_LSN;
	static uint8_t got[KLOG_MAX_RECORD], want[KLOG_MAX_RECORD];
	struct klog_kern_rec rec;

	while (lsn < KLOG_FIRST_LSN + total) {
		int n = klog_kern_read(&f->k, lsn, &rec, got, sizeof(got));

		if (n == -EAGAIN) {
			ck_assert_msg(!atomic_load(&writers_done) ||
				      lsn < f->k.ctl->next_lsn,
				      "lsn %llu never committed", (unsigned long long)lsn);
			continue;
		}
		ck_assert_msg(n > 0, "read lsn %llu: %s", (unsigned long long)lsn, strerror(-n));
		fill_payload(want, n, rec.txid);
		ck_assert_msg(!memcmp(got, want, n), "torn or wrong record at lsn %llu",
			      (unsigned long long)lsn);
		lsn++;
	}
	return lsn - KLOG_FIRST_LSN;
}

/* concurrent: _i = pool kind * 2 + hook */
START_TEST(concurrent)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	uint64_t total = 2 * CONC_PER_THREAD;
	struct writer w[2];
	pthread_t th[2];
	uint8_t *seen;
	struct fixture f;

	ck_assert_msg(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "needs two CPUs");
	o.pool = _i / 2;
	o.window = 65536;
	o.pool_blocks = total * KLOG_MAX_BLOCKS;
	fixture_load(&f, &o, true);
	atomic_store(&writers_done, false);
	for (int t = 0; t < 2; t++) {
		w[t] = (struct writer){ .f = &f, .cpu = t, .hook = _i % 2,
					.lsns = calloc(CONC_PER_THREAD, sizeof(uint64_t)) };
		ck_assert_ptr_nonnull(w[t].lsns);
		ck_assert_int_eq(pthread_create(&th[t], NULL, writer_main, &w[t]), 0);
	}
	ck_assert_uint_eq(read_concurrently(&f, total), total);
	for (int t = 0; t < 2; t++)
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
	atomic_store(&writers_done, true);

	/* Every LSN in 1..total was handed out exactly once, in order per writer. */
	seen = calloc(total + KLOG_FIRST_LSN, 1);
	ck_assert_ptr_nonnull(seen);
	for (int t = 0; t < 2; t++) {
		for (uint64_t i = 0; i < CONC_PER_THREAD; i++) {
			uint64_t lsn = w[t].lsns[i];

			ck_assert_uint_ge(lsn, KLOG_FIRST_LSN);
			ck_assert_uint_lt(lsn, KLOG_FIRST_LSN + total);
			ck_assert_msg(!seen[lsn], "lsn %llu handed out twice",
				      (unsigned long long)lsn);
			seen[lsn] = 1;
			if (i)
				ck_assert_uint_gt(lsn, w[t].lsns[i - 1]);
		}
		free(w[t].lsns);
	}
	ck_assert_uint_eq(f.k.ctl->next_lsn, KLOG_FIRST_LSN + total);
	free(seen);
	fixture_destroy(&f);
}
END_TEST

#define RACE_REQUESTS 4096
#define RACE_LOCKSTEP 32 /* the threads stay this close, well inside the dedup window */

struct racer {
	struct fixture *f;
	int cpu;
	enum hook hook;
	pthread_barrier_t *lockstep;
	uint64_t lsns[RACE_REQUESTS + 1]; /* by request id */
	uint64_t busy;
};

/* Sends requests 1..RACE_REQUESTS of one client, each until it is ACKed; BUSY is retried. */
static void *racer_main(void *arg)
{
	struct racer *w = arg;
	static __thread uint8_t payload[KLOG_MAX_RECORD], in[KLOG_MAX_RECORD + 128];
	struct run *r = malloc(sizeof(*r));
	cpu_set_t set;

	ck_assert_ptr_nonnull(r);
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	ck_assert_int_eq(pthread_setaffinity_np(pthread_self(), sizeof(set), &set), 0);
	for (uint64_t id = 1; id <= RACE_REQUESTS; id++) {
		size_t len = 1 + id * 7919 % KLOG_MAX_RECORD;
		struct klog_msg m;
		struct frame fr;
		size_t n;

		if (id % RACE_LOCKSTEP == 0)
			pthread_barrier_wait(w->lockstep);
		fill_payload(payload, len, id);
		frame_default(&fr, IP4, payload, len);
		fr.hdr.client_id = htobe32(99);
		fr.hdr.request_id = htobe64(id);
		fr.hdr.txid = htobe64(id);
		n = build_frame(&fr, in, sizeof(in));
		for (;;) {
			run_prog(fixture_prog(w->f, w->hook), in, n, r);
			ck_assert_int_eq(klog_decode(r->out + 42, r->out_len - 42, &m), 0);
			if (m.opcode == KLOG_OP_ACK)
				break;
			ck_assert_msg(m.status == KLOG_ST_BUSY, "request %llu: %s",
				      (unsigned long long)id, klog_status_str(m.status));
			w->busy++;
		}
		w->lsns[id] = m.lsn;
	}
	free(r);
	return NULL;
}

/*
 * racing_duplicates: two CPUs send the same requests of one client at the
 * same time, as a duplicating network would; each is appended once, and
 * both copies are answered with its LSN.  _i = pool kind * 2 + hook.
 */
START_TEST(racing_duplicates)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	static struct racer w[2];
	pthread_barrier_t lockstep;
	struct klog_stats st;
	pthread_t th[2];
	uint8_t *seen;
	struct fixture f;

	ck_assert_msg(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "needs two CPUs");
	o.pool = _i / 2;
	o.window = 8192;
	o.pool_blocks = RACE_REQUESTS * KLOG_MAX_BLOCKS;
	fixture_load(&f, &o, true);
	ck_assert_int_eq(pthread_barrier_init(&lockstep, NULL, 2), 0);
	for (int t = 0; t < 2; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].f = &f, w[t].cpu = t, w[t].hook = _i % 2, w[t].lockstep = &lockstep;
		ck_assert_int_eq(pthread_create(&th[t], NULL, racer_main, &w[t]), 0);
	}
	for (int t = 0; t < 2; t++)
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
	pthread_barrier_destroy(&lockstep);

	ck_assert_int_eq(klog_kern_stats(&f.k, &st), 0);
	ck_assert_uint_eq(st.appends, RACE_REQUESTS);
	ck_assert_uint_eq(st.retransmits, RACE_REQUESTS); /* the other copy of each */
	ck_assert_uint_eq(f.k.ctl->next_lsn, KLOG_FIRST_LSN + RACE_REQUESTS);
	seen = calloc(KLOG_FIRST_LSN + RACE_REQUESTS, 1);
	ck_assert_ptr_nonnull(seen);
	for (uint64_t id = 1; id <= RACE_REQUESTS; id++) {
		uint64_t lsn = w[0].lsns[id];

		ck_assert_msg(lsn == w[1].lsns[id], "request %llu: LSN %llu on one CPU, %llu on the other",
			      (unsigned long long)id, (unsigned long long)lsn,
			      (unsigned long long)w[1].lsns[id]);
		ck_assert_uint_ge(lsn, KLOG_FIRST_LSN);
		ck_assert_uint_lt(lsn, KLOG_FIRST_LSN + RACE_REQUESTS);
		ck_assert_msg(!seen[lsn], "lsn %llu for two requests", (unsigned long long)lsn);
		seen[lsn] = 1;
	}
	free(seen);
	/* How often the copies met in flight: shown, not asserted (it depends on timing). */
	printf("# racing_duplicates %d: BUSY answers %llu and %llu\n", _i,
	       (unsigned long long)w[0].busy, (unsigned long long)w[1].busy);
	fixture_destroy(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("stream");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, stream_100k, 0, 2);
	tcase_add_loop_test(tc, concurrent, 0, 4);
	tcase_add_loop_test(tc, racing_duplicates, 0, 4);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
