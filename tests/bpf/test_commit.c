// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: commit semantics in the kernel, through BPF_PROG_TEST_RUN on
 * both hooks: a retransmitted append gets its original LSN and appends
 * nothing; the same ids with another payload get CONFLICT; ids older than
 * the dedup window get STALE; a refused request can be sent again; durable
 * appends get ACK+PENDING and leave a waiter record naming their source;
 * QUERY answers from the durable LSN; a sleeping klogd is woken through the
 * ring buffer; a flood of client ids locks no client out.  Every reply is checked
 * byte for byte.
 */
#include <check.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check_run.h"
#include "harness.h"
#include "state.h"

#define N_HOOKS 2

static uint8_t payload[2][KLOG_MAX_RECORD];

static void load(struct fixture *f, uint32_t clients)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;

	o.window = 64;
	o.pool_blocks = 1024;
	o.clients = clients;
	fixture_load(f, &o, true);
	fill_payload(payload[0], sizeof(payload[0]), 1);
	fill_payload(payload[1], sizeof(payload[1]), 2);
}

/* An APPEND of payload p (100 bytes) with these ids and flags. */
static void request(struct frame *fr, uint32_t client, uint64_t req, int p, uint16_t flags)
{
	frame_default(fr, IP4, payload[p], 100);
	fr->hdr.client_id = htobe32(client);
	fr->hdr.request_id = htobe64(req);
	fr->hdr.flags = htobe16(flags);
}

static void query(struct frame *fr, uint32_t client, uint64_t req, uint64_t lsn)
{
	frame_default(fr, IP4, NULL, 0);
	fr->hdr.opcode = KLOG_OP_QUERY;
	fr->hdr.client_id = htobe32(client);
	fr->hdr.request_id = htobe64(req);
	fr->hdr.lsn = htobe64(lsn);
}

static uint64_t stat_of(struct fixture *f, enum klog_stat_id id)
{
	struct klog_stats st;

	ck_assert_int_eq(klog_kern_stats(&f->k, &st), 0);
	return ((uint64_t *)&st)[id];
}

START_TEST(retransmit_appends_once)
{
	struct fixture f;
	struct frame fr;
	struct state before, after;

	load(&f, 16);
	request(&fr, 7, 1000, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN);
	state_take(&f, &before);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN);
	state_take(&f, &after);
	state_assert_same(&before, &after);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_appends), 1);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_retransmits), 2);
	/* The same request id from another client is another request. */
	request(&fr, 8, 1000, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN + 1);
	state_free(&before);
	state_free(&after);
	fixture_destroy(&f);
}
END_TEST

START_TEST(conflict)
{
	struct fixture f;
	struct frame fr;
	struct state before, after;

	load(&f, 16);
	request(&fr, 7, 5, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN);
	state_take(&f, &before);
	request(&fr, 7, 5, 1, 0); /* other bytes */
	expect_reply(&f, _i, &fr, KLOG_OP_NACK, 0, KLOG_ST_CONFLICT, 0);
	request(&fr, 7, 5, 0, 0);
	fr.hdr.txid = htobe64(999); /* other transaction */
	expect_reply(&f, _i, &fr, KLOG_OP_NACK, 0, KLOG_ST_CONFLICT, 0);
	state_take(&f, &after);
	state_assert_same(&before, &after);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_nack_conflict), 2);
	state_free(&before);
	state_free(&after);
	fixture_destroy(&f);
}
END_TEST

/* Set client's largest request id back to 0, as a lost race between CPUs could. */
static void forget_max_request(struct fixture *f, uint32_t client)
{
	int fd = bpf_map__fd(f->skel->maps.klog_clients);
	struct klog_client_state st;

	ck_assert_int_eq(bpf_map_lookup_elem(fd, &client, &st), 0);
	st.max_request = 0;
	ck_assert_int_eq(bpf_map_update_elem(fd, &client, &st, BPF_EXIST), 0);
}

START_TEST(stale_and_window)
{
	struct fixture f;
	struct frame fr;

	load(&f, 16);
	request(&fr, 7, 1000, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN);
	/* 64 below the newest id and never seen: it may have been appended once. */
	request(&fr, 7, 1000 - KLOG_DEDUP_WINDOW, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_NACK, 0, KLOG_ST_STALE, 0);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_nack_stale), 1);
	/* Inside the window and never seen: a new request (ids may arrive out of order). */
	request(&fr, 7, 1000 - KLOG_DEDUP_WINDOW + 1, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN + 1);
	/* A newer request pushes 1000 out of the window: its retransmission is stale. */
	request(&fr, 7, 1000 + KLOG_DEDUP_WINDOW, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN + 2);
	request(&fr, 7, 1000, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_NACK, 0, KLOG_ST_STALE, 0);
	/*
	 * The largest id is raised without an atomic, so two CPUs can leave it
	 * lower than it should be; the slot's newer id alone must still refuse.
	 */
	forget_max_request(&f, 7);
	expect_reply(&f, _i, &fr, KLOG_OP_NACK, 0, KLOG_ST_STALE, 0);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_appends), 3);
	fixture_destroy(&f);
}
END_TEST

START_TEST(refused_request_can_be_resent)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	struct fixture f;
	struct frame fr;

	o.window = 2;
	o.pool_blocks = 64;
	fixture_load(&f, &o, true);
	for (uint64_t r = 1; r <= 2; r++) {
		request(&fr, 7, r, 0, 0);
		expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN + r - 1);
	}
	request(&fr, 7, 3, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_NACK, 0, KLOG_ST_FULL, 0);
	ck_assert_int_eq(klog_kern_truncate(&f.k, KLOG_FIRST_LSN + 1), 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN + 2);
	fixture_destroy(&f);
}
END_TEST

START_TEST(durable_pending_query)
{
	struct fixture f;
	struct frame fr, q;
	const struct klog_waiter *w;
	uint64_t lsn = KLOG_FIRST_LSN;

	load(&f, 16);
	request(&fr, 7, 1, 0, KLOG_F_DURABLE);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, lsn);
	/* The waiter names the request's source, where the DURABLE notice goes. */
	w = &f.k.waiters[lsn % f.k.window];
	ck_assert_uint_eq(w->lsn, lsn);
	ck_assert_uint_eq(w->ipv6, 0);
	ck_assert_mem_eq(w->client_addr, &fr.saddr, 4);
	ck_assert_mem_eq(w->server_addr, &fr.daddr, 4);
	ck_assert_uint_eq(be16toh(w->client_port), fr.sport);
	ck_assert_uint_eq(be16toh(w->server_port), fr.dport);
	/* Not durable yet: QUERY and a retransmission both say PENDING. */
	query(&q, 7, 2, lsn);
	expect_reply(&f, _i, &q, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, lsn);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, lsn);
	/* klogd publishes the durable LSN: now both say DURABLE. */
	__atomic_store_n(&f.k.ctl->durable_lsn, lsn + 1, __ATOMIC_RELEASE);
	expect_reply(&f, _i, &q, KLOG_OP_DURABLE, 0, KLOG_ST_OK, lsn);
	expect_reply(&f, _i, &fr, KLOG_OP_DURABLE, 0, KLOG_ST_OK, lsn);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_appends), 1);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_queries), 2);
	/* A plain append leaves no waiter. */
	request(&fr, 7, 3, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn + 1);
	ck_assert_uint_ne(f.k.waiters[(lsn + 1) % f.k.window].lsn, lsn + 1);
	fixture_destroy(&f);
}
END_TEST

START_TEST(durable_ipv6_waiter)
{
	struct fixture f;
	struct frame fr;
	const struct klog_waiter *w;

	load(&f, 16);
	frame_default(&fr, IP6, payload[0], 50);
	fr.hdr.flags = htobe16(KLOG_F_DURABLE);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, KLOG_FIRST_LSN);
	w = &f.k.waiters[KLOG_FIRST_LSN % f.k.window];
	ck_assert_uint_eq(w->ipv6, 1);
	ck_assert_mem_eq(w->client_addr, &fr.saddr, 16);
	ck_assert_mem_eq(w->server_addr, &fr.daddr, 16);
	fixture_destroy(&f);
}
END_TEST

START_TEST(query_refusals)
{
	struct fixture f;
	struct frame q;

	load(&f, 16);
	query(&q, 7, 1, 0);
	expect_reply(&f, _i, &q, KLOG_OP_NACK, 0, KLOG_ST_NOLSN, 0);
	query(&q, 7, 2, KLOG_FIRST_LSN); /* not given out yet */
	expect_reply(&f, _i, &q, KLOG_OP_NACK, 0, KLOG_ST_NOLSN, 0);
	query(&q, 7, 3, KLOG_FIRST_LSN);
	q.hdr.flags = htobe16(KLOG_F_DURABLE);
	expect_reply(&f, _i, &q, KLOG_OP_NACK, 0, KLOG_ST_FLAGS, 0);
	frame_default(&q, IP4, payload[0], 8); /* a QUERY carries no payload */
	q.hdr.opcode = KLOG_OP_QUERY;
	q.hdr.len = 0;
	expect_reply(&f, _i, &q, KLOG_OP_NACK, 0, KLOG_ST_BADLEN, 0);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_nack_nolsn), 2);
	fixture_destroy(&f);
}
END_TEST

static int count_wake(void *ctx, void *data, size_t size)
{
	(*(int *)ctx)++;
	return 0;
}

START_TEST(wakes_a_sleeping_drain)
{
	struct ring_buffer *rb;
	struct fixture f;
	struct frame fr;
	int woken = 0;

	load(&f, 16);
	rb = ring_buffer__new(f.k.wake_fd, count_wake, &woken, NULL);
	ck_assert_ptr_nonnull(rb);
	request(&fr, 7, 1, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN);
	ck_assert_int_eq(ring_buffer__consume(rb), 0); /* awake: no notification */
	__atomic_store_n(&f.k.ctl->drain_sleeping, 1, __ATOMIC_SEQ_CST);
	request(&fr, 7, 2, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN + 1);
	ck_assert_int_eq(ring_buffer__consume(rb), 1);
	ck_assert_int_eq(woken, 1);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_wakeups), 1);
	ring_buffer__free(rb);
	fixture_destroy(&f);
}
END_TEST

/*
 * A flood of client ids (a fuzzer, a spoofer) fills the client table: new
 * clients are still served, each taking the place of the least recently
 * seen, and a client that keeps sending keeps its dedup state.
 */
START_TEST(client_id_flood)
{
	const uint32_t table = 64, flood = 4096;
	uint64_t lsn = KLOG_FIRST_LSN, mine = 0;
	struct frame fr;
	struct fixture f;

	load(&f, table);
	for (uint32_t c = 0; c < flood; c++) {
		if (c % 16 == 0) {
			request(&fr, 1, ++mine, 0, 0);
			expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn++);
		}
		request(&fr, 100000 + c, 1, 1, 0);
		expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn++);
		/* The log window is small: keep it drained. */
		ck_assert_int_eq(klog_kern_truncate(&f.k, lsn), 0);
	}
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_nack_busy), 0);
	/* The steady client's last request (16 floods ago) is still known: not appended again. */
	request(&fr, 1, mine, 0, 0);
	expect_reply(&f, _i, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn - 17);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_retransmits), 1);
	/* klogd still forgets clients silent past its TTL. */
	ck_assert_int_eq(klog_kern_expire_clients(&f.k, 1), 0); /* none that old */
	ck_assert_int_gt(klog_kern_expire_clients(&f.k, UINT64_MAX), (int)table / 2);
	fixture_destroy(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("commit");
	TCase *tc = tcase_create("commit");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, retransmit_appends_once, 0, N_HOOKS);
	tcase_add_loop_test(tc, conflict, 0, N_HOOKS);
	tcase_add_loop_test(tc, stale_and_window, 0, N_HOOKS);
	tcase_add_loop_test(tc, refused_request_can_be_resent, 0, N_HOOKS);
	tcase_add_loop_test(tc, durable_pending_query, 0, N_HOOKS);
	tcase_add_loop_test(tc, durable_ipv6_waiter, 0, N_HOOKS);
	tcase_add_loop_test(tc, query_refusals, 0, N_HOOKS);
	tcase_add_loop_test(tc, wakes_a_sleeping_drain, 0, N_HOOKS);
	tcase_add_loop_test(tc, client_id_flood, 0, N_HOOKS);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
