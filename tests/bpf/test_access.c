// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: who may append, and what is kept of the bytes, through
 * BPF_PROG_TEST_RUN on both hooks and both pools: a source outside the
 * allow-list gets nothing (not even READs are passed), and changes to the
 * list apply to the next packet; a datagram whose UDP checksum fails is
 * dropped unanswered and never stored as good (the ring, which has taken
 * its LSN, publishes a tombstone); a retransmission or QUERY with a bad
 * checksum is dropped too; KLOG_F_CRC's CRC-32C is kept in the entry; a
 * QUERY or retransmission of a record klogd tombstoned answers CORRUPT.
 */
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <string.h>

#include <bpf/bpf.h>

#include "check_run.h"
#include "harness.h"
#include "state.h"

#define N_HOOKS 2
#define N_POOLS 2

static uint8_t payload[2][KLOG_MAX_RECORD];

static void load(struct fixture *f, enum kerby_pool_kind pool, bool verify_udp)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;

	o.window = 64;
	o.pool_blocks = 1024;
	o.pool = pool;
	o.verify_udp = verify_udp;
	fixture_load(f, &o, true);
	fill_payload(payload[0], sizeof(payload[0]), 1);
	fill_payload(payload[1], sizeof(payload[1]), 2);
}

static uint64_t stat_of(struct fixture *f, enum klog_stat_id id)
{
	struct klog_stats st;

	ck_assert_int_eq(klog_kern_stats(&f->k, &st), 0);
	return ((uint64_t *)&st)[id];
}

/* Run fr through hook h and return the verdict; the reply, if any, stays in *r. */
static uint32_t run(struct fixture *f, enum hook h, const struct frame *fr, struct run *r)
{
	static uint8_t in[9216];
	size_t n = build_frame(fr, in, sizeof(in));

	run_prog(fixture_prog(f, h), in, n, r);
	return r->retval;
}

/*
 * The klog header of the reply in r to a request fr: opcode, status, lsn.
 * For requests whose checksum is absent or wrong, where the reply's own
 * checksum follows the request's (TC updates it by difference).
 */
static void expect_answer(const struct frame *fr, const struct run *r, uint8_t op,
			  uint16_t status, uint64_t lsn)
{
	size_t off = (fr->ip == IP6 ? 14 + 40 : 14 + 20) + 8;
	struct klog_hdr h;

	ck_assert_uint_ge(r->out_len, off + sizeof(h));
	memcpy(&h, r->out + off, sizeof(h));
	ck_assert_uint_eq(h.opcode, op);
	ck_assert_uint_eq(be16toh(h.status), status);
	ck_assert_uint_eq(be64toh(h.lsn), lsn);
}

/* fr is dropped without an answer and every map is as it was; stat counts it. */
static void expect_dropped(struct fixture *f, enum hook h, const struct frame *fr,
			   enum klog_stat_id stat)
{
	static struct run r;
	struct state before, after;
	uint64_t n = stat_of(f, stat);

	state_take(f, &before);
	ck_assert_uint_eq(run(f, h, fr, &r), verdict_drop(h));
	state_take(f, &after);
	state_assert_same(&before, &after);
	ck_assert_uint_eq(stat_of(f, stat), n + 1);
	state_free(&before);
	state_free(&after);
}

static void allow(struct fixture *f, const char *addr, uint32_t len, bool add)
{
	struct klog_allow_key k = { .prefixlen = len };
	uint8_t raw[16];

	if (strchr(addr, ':')) {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, raw), 1);
		klog_addr_v6(&k.addr, raw);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET, addr, raw), 1);
		klog_addr_v4(&k.addr, raw);
		k.prefixlen += 96;
	}
	if (add)
		ck_assert_int_eq(klog_kern_allow_add(&f->k, &k), 0);
	else
		ck_assert_int_eq(bpf_map_delete_elem(f->k.allow_fd, &k), 0);
}

/* allow_list: _i = hook.  Refused sources get nothing; changes apply at once. */
START_TEST(allow_list)
{
	struct frame v4, v6, rd;
	struct fixture f;
	uint64_t lsn = KLOG_FIRST_LSN;

	load(&f, KERBY_POOL_RING, true);
	allow(&f, "::", 0, false); /* the harness allowed every source */
	frame_default(&v4, IP4, payload[0], 100);
	frame_default(&v6, IP6, payload[0], 100);
	expect_dropped(&f, _i, &v4, KLOG_STAT_drop_refused);
	expect_dropped(&f, _i, &v6, KLOG_STAT_drop_refused);
	/* Reads are dropped too: a refused source learns nothing from klogd either. */
	frame_default(&rd, IP4, NULL, 0);
	rd.hdr.opcode = KLOG_OP_READ;
	expect_dropped(&f, _i, &rd, KLOG_STAT_drop_refused);

	allow(&f, "10.77.0.0", 24, true);
	frame_default(&v4, IP4, payload[0], 100);
	expect_reply(&f, _i, &v4, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn++);
	frame_default(&v6, IP6, payload[0], 100);
	expect_dropped(&f, _i, &v6, KLOG_STAT_drop_refused);
	/* An IPv6 prefix that would cover the mapped form of 10.77.0.1 does not exist. */
	allow(&f, "fd00::", 64, true);
	expect_reply(&f, _i, &v6, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn++);

	/* A narrower prefix elsewhere does not admit this source. */
	allow(&f, "10.77.0.0", 24, false);
	allow(&f, "10.77.0.128", 25, true);
	frame_default(&v4, IP4, payload[0], 100);
	expect_dropped(&f, _i, &v4, KLOG_STAT_drop_refused);
	allow(&f, "10.77.0.1", 32, true);
	expect_reply(&f, _i, &v4, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn++);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_drop_refused), 5);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_appends), 3);
	fixture_destroy(&f);
}
END_TEST

/* An APPEND of payload p (100 bytes), one client, request id req. */
static void request(struct frame *fr, uint64_t req, int p, uint16_t flags)
{
	frame_default(fr, IP4, payload[p], 100);
	fr->hdr.client_id = htobe32(7);
	fr->hdr.request_id = htobe64(req);
	fr->hdr.flags = htobe16(flags);
}

/* A published entry for lsn, and its flags. */
static uint16_t entry_flags(struct fixture *f, uint64_t lsn)
{
	struct klog_kern_rec rec;

	ck_assert_int_eq(klog_kern_read(&f->k, lsn, &rec, NULL, 0), 100);
	return rec.flags;
}

/*
 * bad_udp_csum: _i = hook * N_POOLS + pool.  A damaged datagram is dropped
 * unanswered; the ring has already taken its LSN, so the entry is published
 * as a tombstone (no bytes kept as good, no durable waiter); the hash pool
 * frees its blocks before any LSN is taken.  The retry appends.
 */
START_TEST(bad_udp_csum)
{
	enum hook h = _i / N_POOLS;
	enum kerby_pool_kind pool = _i % N_POOLS;
	bool ring = pool == KERBY_POOL_RING;
	static struct run r;
	struct frame fr;
	struct fixture f;
	uint64_t good;

	load(&f, pool, true);
	request(&fr, 1, 0, KLOG_F_DURABLE);
	fr.udp_csum_xor = 0x0400;
	ck_assert_uint_eq(run(&f, h, &fr, &r), verdict_drop(h));
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_drop_csum), 1);
	if (ring) {
		ck_assert_uint_eq(f.k.ctl->next_lsn, KLOG_FIRST_LSN + 1);
		ck_assert_uint_eq(entry_flags(&f, KLOG_FIRST_LSN), KLOG_AF_DAMAGED);
		ck_assert_uint_ne(f.k.waiters[KLOG_FIRST_LSN % f.k.window].lsn, KLOG_FIRST_LSN);
	} else {
		uint64_t used;

		/* No LSN taken, no block kept (its index is simply never used). */
		ck_assert_uint_eq(f.k.ctl->next_lsn, KLOG_FIRST_LSN);
		ck_assert_int_eq(klog_kern_pool_used(&f.k, &used), 0);
		ck_assert_uint_eq(used, 0);
	}
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_appends), 0);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_bytes), 0);

	/* The same request, undamaged: a new append, not a conflict. */
	good = KLOG_FIRST_LSN + ring;
	fr.udp_csum_xor = 0;
	expect_reply(&f, h, &fr, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, good);
	ck_assert_uint_eq(entry_flags(&f, good), 0);

	/* Its retransmission damaged: dropped, not answered CONFLICT. */
	fr.udp_csum_xor = 0x0400;
	ck_assert_uint_eq(run(&f, h, &fr, &r), verdict_drop(h));
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_nack_conflict), 0);
	fr.udp_csum_xor = 0;
	expect_reply(&f, h, &fr, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, good);

	/* A QUERY whose checksum fails is dropped. */
	frame_default(&fr, IP4, NULL, 0);
	fr.hdr.opcode = KLOG_OP_QUERY;
	fr.hdr.lsn = htobe64(good);
	fr.udp_csum_xor = 0x0001;
	ck_assert_uint_eq(run(&f, h, &fr, &r), verdict_drop(h));
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_drop_csum), 3);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_queries), 0);

	/* IPv4 lets a sender omit the checksum: only KLOG_F_CRC can tell then. */
	request(&fr, 2, 1, 0);
	fr.no_udp_csum = true;
	ck_assert_uint_eq(run(&f, h, &fr, &r), verdict_reply(h));
	expect_answer(&fr, &r, KLOG_OP_ACK, KLOG_ST_OK, good + 1);
	ck_assert_uint_eq(f.k.ctl->next_lsn, good + 2);
	fixture_destroy(&f);
}
END_TEST

/* udp_csum_off: _i = hook.  Without verification (a veth peer offloads), bad sums pass. */
START_TEST(udp_csum_off)
{
	static struct run r;
	struct frame fr;
	struct fixture f;

	load(&f, KERBY_POOL_RING, false);
	request(&fr, 1, 0, 0);
	fr.udp_csum_xor = 0x0400;
	ck_assert_uint_eq(run(&f, _i, &fr, &r), verdict_reply(_i));
	expect_answer(&fr, &r, KLOG_OP_ACK, KLOG_ST_OK, KLOG_FIRST_LSN);
	ck_assert_uint_eq(entry_flags(&f, KLOG_FIRST_LSN), 0);
	fixture_destroy(&f);
}
END_TEST

/*
 * crc_kept: _i = hook * N_POOLS + pool.  The CRC-32C a request carries is in
 * its entry for klogd to check, and in the dedup fingerprint: the same id
 * with another CRC is a CONFLICT.
 */
START_TEST(crc_kept)
{
	enum hook h = _i / N_POOLS;
	struct klog_kern_rec rec;
	struct frame fr;
	struct fixture f;

	load(&f, _i % N_POOLS, true);
	request(&fr, 1, 0, KLOG_F_CRC);
	fr.hdr.lsn = htobe64(0xfeedc0deu);
	expect_reply(&f, h, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN);
	ck_assert_int_eq(klog_kern_read(&f.k, KLOG_FIRST_LSN, &rec, NULL, 0), 100);
	ck_assert_uint_eq(rec.flags, KLOG_AF_CRC);
	ck_assert_uint_eq(rec.crc, 0xfeedc0deu);
	expect_reply(&f, h, &fr, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN);
	fr.hdr.lsn = htobe64(0xfeedc0dfu);
	expect_reply(&f, h, &fr, KLOG_OP_NACK, 0, KLOG_ST_CONFLICT, 0);
	ck_assert_uint_eq(f.k.ctl->next_lsn, KLOG_FIRST_LSN + 1);
	fixture_destroy(&f);
}
END_TEST

/*
 * corrupt_answers: _i = hook.  Once klogd has stored LSN 1 as a tombstone
 * (in klog_corrupt, corrupt_records set) and it is below the durable LSN,
 * its QUERY and its durable retransmission answer CORRUPT; LSN 2 is DURABLE.
 */
START_TEST(corrupt_answers)
{
	struct frame a, b, q;
	struct fixture f;
	__u64 lsn = KLOG_FIRST_LSN;
	__u32 one = 1;

	load(&f, KERBY_POOL_RING, true);
	request(&a, 1, 0, KLOG_F_DURABLE);
	request(&b, 2, 1, KLOG_F_DURABLE);
	expect_reply(&f, _i, &a, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, lsn);
	expect_reply(&f, _i, &b, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, lsn + 1);
	ck_assert_int_eq(bpf_map_update_elem(f.k.corrupt_fd, &lsn, &one, BPF_ANY), 0);
	/* The map alone is not consulted until klogd counts a tombstone. */
	f.k.ctl->durable_lsn = lsn + 2;
	expect_reply(&f, _i, &a, KLOG_OP_DURABLE, 0, KLOG_ST_OK, lsn);
	f.k.ctl->corrupt_records = 1;
	expect_reply(&f, _i, &a, KLOG_OP_NACK, 0, KLOG_ST_CORRUPT, lsn);
	expect_reply(&f, _i, &b, KLOG_OP_DURABLE, 0, KLOG_ST_OK, lsn + 1);
	frame_default(&q, IP4, NULL, 0);
	q.hdr.opcode = KLOG_OP_QUERY;
	q.hdr.lsn = htobe64(lsn);
	expect_reply(&f, _i, &q, KLOG_OP_NACK, 0, KLOG_ST_CORRUPT, lsn);
	q.hdr.lsn = htobe64(lsn + 1);
	expect_reply(&f, _i, &q, KLOG_OP_DURABLE, 0, KLOG_ST_OK, lsn + 1);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_nack_corrupt), 2);
	fixture_destroy(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("access");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, allow_list, 0, N_HOOKS);
	tcase_add_loop_test(tc, bad_udp_csum, 0, N_HOOKS * N_POOLS);
	tcase_add_loop_test(tc, udp_csum_off, 0, N_HOOKS);
	tcase_add_loop_test(tc, crc_kept, 0, N_HOOKS * N_POOLS);
	tcase_add_loop_test(tc, corrupt_answers, 0, N_HOOKS);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
