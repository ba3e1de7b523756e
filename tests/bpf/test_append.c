// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: table-driven BPF_PROG_TEST_RUN cases for the XDP and TC append
 * programs: accepted sizes on IPv4, IPv6 and VLAN with both pool kinds, every
 * reject path, and FULL at the window and pool limits with the maps unchanged.
 * Every reply is compared byte for byte with the frame it must be.
 */
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "harness.h"
#include "state.h"

#define N_HOOKS 2
#define N_POOLS 2
#define N_IPS 3

static const size_t accept_sizes[] = {
	1, KLOG_BLOCK_SIZE - 1, KLOG_BLOCK_SIZE, KLOG_BLOCK_SIZE + 1, KLOG_MAX_RECORD,
};
#define N_SIZES (sizeof(accept_sizes) / sizeof(accept_sizes[0]))

static struct klog_kern_opts small_opts(enum kerby_pool_kind pool, uint32_t window,
					uint64_t blocks)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;

	o.pool = pool;
	o.window = window;
	o.pool_blocks = blocks;
	o.verify_udp = true;
	return o;
}

static uint64_t stat_of(struct fixture *f, enum klog_stat_id id)
{
	struct klog_stats st;

	ck_assert_int_eq(klog_kern_stats(&f->k, &st), 0);
	return ((uint64_t *)&st)[id];
}

static void expect_record(struct fixture *f, uint64_t lsn, const struct frame *req)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_kern_rec rec;
	int n = klog_kern_read(&f->k, lsn, &rec, buf, sizeof(buf));

	ck_assert_int_eq(n, (int)req->payload_len);
	ck_assert_msg(!memcmp(buf, req->payload, n), "record %llu bytes differ",
		      (unsigned long long)lsn);
	ck_assert_uint_eq(rec.txid, be64toh(req->hdr.txid));
	ck_assert_uint_eq(rec.request_id, be64toh(req->hdr.request_id));
	ck_assert_uint_eq(rec.client_id, be32toh(req->hdr.client_id));
	ck_assert_uint_eq(rec.nblocks, KLOG_DIV_ROUND_UP(req->payload_len, KLOG_BLOCK_SIZE));
	ck_assert_uint_eq(rec.flags, 0);
}

/*
 * accepts: _i = pool * N_IPS + ip.  One load serves both hooks and every
 * size (verifying the programs is what takes the time): each request is
 * acknowledged with the next LSN and stored byte for byte.
 */
START_TEST(accepts)
{
	enum kerby_pool_kind pool = _i / N_IPS;
	enum ipver ip = _i % N_IPS;
	struct klog_kern_opts o = small_opts(pool, 64, 256);
	static uint8_t payload[N_HOOKS * N_SIZES * 2][KLOG_MAX_RECORD];
	struct frame req[N_HOOKS * N_SIZES * 2];
	uint64_t lsn = KLOG_FIRST_LSN, bytes = 0;
	struct fixture f;

	fixture_load(&f, &o, true);
	for (int i = 0; i < (int)(N_HOOKS * N_SIZES * 2); i++) {
		enum hook h = i / (N_SIZES * 2);
		size_t len = accept_sizes[i / 2 % N_SIZES];

		fill_payload(payload[i], len, _i * 64 + i);
		frame_default(&req[i], ip, payload[i], len);
		req[i].hdr.txid = htobe64(1000 + i);
		req[i].hdr.request_id = htobe64(1 + i);
		expect_reply(&f, h, &req[i], KLOG_OP_ACK, 0, KLOG_ST_OK, lsn + i);
		bytes += len;
	}
	for (int i = 0; i < (int)(N_HOOKS * N_SIZES * 2); i++)
		expect_record(&f, lsn + i, &req[i]);
	ck_assert_uint_eq(f.k.ctl->next_lsn, lsn + N_HOOKS * N_SIZES * 2);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_appends), N_HOOKS * N_SIZES * 2);
	ck_assert_uint_eq(stat_of(&f, KLOG_STAT_bytes), bytes);
	fixture_destroy(&f);
}
END_TEST

enum outcome { OUT_PASS, OUT_DROP, OUT_NACK };

struct reject_case {
	const char *name;
	void (*mutate)(struct frame *fr);
	enum outcome out;
	uint16_t status;
	enum klog_stat_id stat;
	size_t len;    /* payload bytes; 0 means 100 */
	bool no_init;  /* leave the log uninitialised */
	enum ipver ip;
};

static void m_none(struct frame *fr) { (void)fr; }
static void m_short(struct frame *fr) { fr->no_klog_hdr = true; fr->payload_len = 20; }
static void m_udp_long(struct frame *fr) { fr->udp_len_delta = 100; }
static void m_magic(struct frame *fr) { fr->hdr.magic = htobe32(0x12345678); }
static void m_version(struct frame *fr) { fr->hdr.version = 2; }
static void m_opcode(struct frame *fr) { fr->hdr.opcode = 42; }
static void m_ack(struct frame *fr) { fr->hdr.opcode = KLOG_OP_ACK; }
static void m_nack(struct frame *fr) { fr->hdr.opcode = KLOG_OP_NACK; }
static void m_durable(struct frame *fr) { fr->hdr.opcode = KLOG_OP_DURABLE; }
static void m_record(struct frame *fr) { fr->hdr.opcode = KLOG_OP_RECORD; }
static void m_info_reply(struct frame *fr) { fr->hdr.opcode = KLOG_OP_INFO_REPLY; }
static void m_status(struct frame *fr) { fr->hdr.status = htobe16(KLOG_ST_FULL); }
static void m_from_port(struct frame *fr) { fr->sport = KLOG_DEFAULT_PORT; }
static void m_lsn(struct frame *fr) { fr->hdr.lsn = htobe64(1); }
static void m_crc_high(struct frame *fr)
{
	fr->hdr.flags = htobe16(KLOG_F_CRC);
	fr->hdr.lsn = htobe64(1ull << 32);
}
static void m_foreign(struct frame *fr)
{
	inet_pton(fr->ip == IP6 ? AF_INET6 : AF_INET, fr->ip == IP6 ? "fd00::3" : "10.77.0.3",
		  &fr->daddr);
}
static void m_bcast(struct frame *fr) { inet_pton(AF_INET, "255.255.255.255", &fr->daddr); }
static void m_mcast(struct frame *fr) { inet_pton(AF_INET, "224.0.0.1", &fr->daddr); }
static void m_ip_csum(struct frame *fr) { fr->ip_csum_xor = 0x0100; }
static void m_flags(struct frame *fr) { fr->hdr.flags = htobe16(0x8000); }
static void m_len_zero(struct frame *fr) { fr->payload_len = 0; fr->hdr.len = 0; }
static void m_len_long(struct frame *fr) { fr->hdr.len = htobe16(fr->payload_len + 1); }
static void m_len_short(struct frame *fr) { fr->hdr.len = htobe16(fr->payload_len - 1); }
static void m_port(struct frame *fr) { fr->dport = KLOG_DEFAULT_PORT + 1; }
static void m_tcp(struct frame *fr) { fr->l4proto = 6; }
static void m_arp(struct frame *fr) { fr->ethertype = 0x0806; }
static void m_frag(struct frame *fr) { fr->frag_off = 0x2000; }
static void m_ext6(struct frame *fr) { fr->l4proto = 60; }
static void m_read(struct frame *fr) { fr->hdr.opcode = KLOG_OP_READ; }
static void m_info(struct frame *fr) { fr->hdr.opcode = KLOG_OP_INFO; }
static void m_read_v2(struct frame *fr) { m_read(fr); m_version(fr); }

static const struct reject_case rejects[] = {
	{ "short header", m_short, OUT_DROP, 0, KLOG_STAT_drop_short },
	{ "udp length beyond packet", m_udp_long, OUT_DROP, 0, KLOG_STAT_drop_short },
	{ "wrong magic", m_magic, OUT_DROP, 0, KLOG_STAT_drop_magic },
	{ "wrong version", m_version, OUT_NACK, KLOG_ST_VERSION, KLOG_STAT_nack_version },
	{ "unknown opcode", m_opcode, OUT_NACK, KLOG_ST_OPCODE, KLOG_STAT_nack_opcode },
	/* Replies are never answered: two servers would bounce NACKs forever. */
	{ "an ACK", m_ack, OUT_DROP, 0, KLOG_STAT_drop_reply },
	{ "a NACK", m_nack, OUT_DROP, 0, KLOG_STAT_drop_reply },
	{ "a DURABLE", m_durable, OUT_DROP, 0, KLOG_STAT_drop_reply },
	{ "a RECORD", m_record, OUT_DROP, 0, KLOG_STAT_drop_reply },
	{ "an INFO_REPLY", m_info_reply, OUT_DROP, 0, KLOG_STAT_drop_reply },
	{ "non-zero status", m_status, OUT_DROP, 0, KLOG_STAT_drop_reply },
	{ "from the service port", m_from_port, OUT_DROP, 0, KLOG_STAT_drop_reply },
	{ "append with an lsn", m_lsn, OUT_NACK, KLOG_ST_BADFIELD, KLOG_STAT_nack_badfield },
	{ "crc beyond 32 bits", m_crc_high, OUT_NACK, KLOG_ST_BADFIELD, KLOG_STAT_nack_badfield },
	/* Only datagrams addressed to this server are its to take. */
	{ "another host's address", m_foreign, OUT_PASS, 0, KLOG_STAT_pass_foreign },
	{ "another host's address, ipv6", m_foreign, OUT_PASS, 0, KLOG_STAT_pass_foreign, 0,
	  false, IP6 },
	{ "broadcast", m_bcast, OUT_PASS, 0, KLOG_STAT_pass_foreign },
	{ "multicast", m_mcast, OUT_PASS, 0, KLOG_STAT_pass_foreign },
	{ "ipv4 header checksum", m_ip_csum, OUT_DROP, 0, KLOG_STAT_drop_csum },
	{ "unknown flag", m_flags, OUT_NACK, KLOG_ST_FLAGS, KLOG_STAT_nack_flags },
	{ "zero length", m_len_zero, OUT_NACK, KLOG_ST_BADLEN, KLOG_STAT_nack_badlen },
	{ "length beyond packet", m_len_long, OUT_NACK, KLOG_ST_BADLEN, KLOG_STAT_nack_badlen },
	{ "length short of packet", m_len_short, OUT_NACK, KLOG_ST_BADLEN, KLOG_STAT_nack_badlen },
	{ "over maximum", m_none, OUT_NACK, KLOG_ST_TOOBIG, KLOG_STAT_nack_toobig,
	  KLOG_MAX_RECORD + 1 },
	{ "log not initialised", m_none, OUT_NACK, KLOG_ST_NOTREADY, KLOG_STAT_nack_notready,
	  0, true },
	{ "other udp port", m_port, OUT_PASS, 0, KLOG_STAT_passed },
	{ "tcp", m_tcp, OUT_PASS, 0, KLOG_STAT_passed },
	{ "arp", m_arp, OUT_PASS, 0, KLOG_STAT_passed },
	{ "ipv4 fragment", m_frag, OUT_PASS, 0, KLOG_STAT_passed },
	{ "ipv6 extension header", m_ext6, OUT_PASS, 0, KLOG_STAT_passed, 0, false, IP6 },
	/* Reads are klogd's to answer, untouched, even before the log is initialised. */
	{ "read to klogd", m_read, OUT_PASS, 0, KLOG_STAT_passed },
	{ "read to klogd, ipv6", m_read, OUT_PASS, 0, KLOG_STAT_passed, 0, false, IP6 },
	{ "info to klogd, log not initialised", m_info, OUT_PASS, 0, KLOG_STAT_passed, 0, true },
	{ "read of another version", m_read_v2, OUT_NACK, KLOG_ST_VERSION, KLOG_STAT_nack_version },
};
#define N_REJECTS (sizeof(rejects) / sizeof(rejects[0]))

/*
 * The log every reject case runs against: loaded once, before the cases
 * fork, since each case leaves every map as it found it (asserted) but its
 * counter; [1] is never initialised.
 */
static struct fixture reject_log[2];

static void reject_log_load(void)
{
	struct klog_kern_opts o = small_opts(KERBY_POOL_RING, 16, 64);

	fixture_load(&reject_log[0], &o, true);
	fixture_load(&reject_log[1], &o, false);
}

static void reject_log_destroy(void)
{
	fixture_destroy(&reject_log[0]);
	fixture_destroy(&reject_log[1]);
}

/* rejects_case: _i = hook * N_REJECTS + case */
START_TEST(rejects_case)
{
	const struct reject_case *c = &rejects[_i % N_REJECTS];
	enum hook h = _i / N_REJECTS;
	struct fixture *f = &reject_log[c->no_init];
	static uint8_t payload[KLOG_MAX_RECORD + 1], in[9216];
	static struct run r;
	struct state before, after;
	uint64_t counted, appends = stat_of(f, KLOG_STAT_appends);
	struct frame req;
	size_t n;

	fill_payload(payload, sizeof(payload), _i);
	frame_default(&req, c->ip, payload, c->len ? c->len : 100);
	c->mutate(&req);
	counted = stat_of(f, c->stat);
	state_take(f, &before);
	if (c->out == OUT_NACK) {
		expect_reply(f, h, &req, KLOG_OP_NACK, 0, c->status, 0);
	} else {
		n = build_frame(&req, in, sizeof(in));
		run_prog(fixture_prog(f, h), in, n, &r);
		if (c->out == OUT_DROP) {
			ck_assert_uint_eq(r.retval, verdict_drop(h));
		} else {
			ck_assert_uint_eq(r.retval, verdict_pass(h));
			ck_assert_uint_eq(r.out_len, n);
			ck_assert_msg(!memcmp(r.out, in, n), "%s: passed packet modified", c->name);
		}
	}
	state_take(f, &after);
	state_assert_same(&before, &after);
	ck_assert_uint_eq(stat_of(f, c->stat), counted + 1);
	ck_assert_uint_eq(stat_of(f, KLOG_STAT_appends), appends);
	state_free(&before);
	state_free(&after);
}
END_TEST

/*
 * full: _i = (hook * N_POOLS + pool) * 2 + limit, limit 0 = window, 1 = pool.
 * Fill the limit, expect NACK(FULL) with every map unchanged, truncate one
 * record and expect the same request to be appended.
 */
START_TEST(full)
{
	enum hook h = _i / (N_POOLS * 2);
	enum kerby_pool_kind pool = _i / 2 % N_POOLS;
	bool pool_limit = _i % 2;
	/* Records of three blocks: the window holds 4, or the smallest pool what it can. */
	size_t len = 2 * KLOG_BLOCK_SIZE + 1 < KLOG_MAX_RECORD ? 2 * KLOG_BLOCK_SIZE + 1
							       : KLOG_MAX_RECORD;
	uint32_t nb = KLOG_DIV_ROUND_UP(len, KLOG_BLOCK_SIZE);
	uint32_t fit = pool_limit ? KLOG_MIN_POOL_BLOCKS / nb : 4;
	struct klog_kern_opts o = small_opts(pool, pool_limit ? 64 : 4,
					     pool_limit ? KLOG_MIN_POOL_BLOCKS : 64 * nb);
	static uint8_t payload[KLOG_MAX_RECORD];
	struct state before, after;
	struct frame req;
	struct fixture f;

	fixture_load(&f, &o, true);
	fill_payload(payload, len, _i);
	frame_default(&req, IP4, payload, len);
	for (uint32_t i = 0; i < fit; i++) {
		req.hdr.request_id = htobe64(100 + i); /* each a new request */
		expect_reply(&f, h, &req, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN + i);
	}
	req.hdr.request_id = htobe64(200);

	state_take(&f, &before);
	expect_reply(&f, h, &req, KLOG_OP_NACK, 0, KLOG_ST_FULL, 0);
	state_take(&f, &after);
	state_assert_same(&before, &after);
	ck_assert_uint_eq(stat_of(&f, pool_limit ? KLOG_STAT_nack_full_pool
						  : KLOG_STAT_nack_full_window), 1);

	/* Draining one record makes room: the log never overwrote, it refused. */
	req.hdr.request_id = htobe64(100);
	expect_record(&f, KLOG_FIRST_LSN, &req);
	req.hdr.request_id = htobe64(200);
	ck_assert_int_eq(klog_kern_truncate(&f.k, KLOG_FIRST_LSN + 1), 0);
	/* The refused request is a new one again: the same ids now append. */
	expect_reply(&f, h, &req, KLOG_OP_ACK, 0, KLOG_ST_OK, KLOG_FIRST_LSN + fit);
	for (uint32_t i = 1; i <= fit; i++) {
		req.hdr.request_id = htobe64(i < fit ? 100 + i : 200);
		expect_record(&f, KLOG_FIRST_LSN + i, &req);
	}
	state_free(&before);
	state_free(&after);
	fixture_destroy(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("append");
	TCase *tc = tcase_create("append");

	tcase_set_timeout(tc, 60);
	TCase *rej = tcase_create("rejects");

	tcase_add_loop_test(tc, accepts, 0, N_POOLS * N_IPS);
	tcase_add_loop_test(tc, full, 0, N_HOOKS * N_POOLS * 2);
	suite_add_tcase(s, tc);
	/* Loaded in the parent, once: each forked case runs against the same maps. */
	tcase_set_timeout(rej, 60);
	tcase_add_unchecked_fixture(rej, reject_log_load, reject_log_destroy);
	tcase_add_loop_test(rej, rejects_case, 0, N_HOOKS * N_REJECTS);
	suite_add_tcase(s, rej);
	return run_suite(s);
}
