// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: BPF_PROG_TEST_RUN cases for the load generator of bench/
 * (bench/loadgen.bpf.c).  The generator turns its input frame into request
 * after request: the headers of its size, written afresh whatever the frame
 * held (a page may come back holding the server's reply), this CPU's client
 * id, request ids 1, 2, 3, ..., the send time as txid, a valid IPv4 header
 * checksum and no UDP checksum; on the mix every 4th is 1024 B; it stops at
 * its quota and keeps its pace (a drop while no frame is due).  The
 * counter takes this run's replies (XDP_DROP): an ACK counted and its
 * latency in the histogram, a NACK counted by status; it passes what is not
 * for its port untouched, and drops and counts what is for its port but
 * malformed or another client's.
 */
#define _GNU_SOURCE
#include <check.h>
#include <endian.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check_run.h"
#include "harness.h"
#include "loadgen_load.h"

#define CLIENT 0x5000
#define SPORT 7071

struct lg {
	struct loadgen *skel;
	struct loadgen_req req;
	uint8_t in[4096];
	size_t in_len;
	int cpu;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Load for requests from frame_default()'s addresses; small 0: every frame large. */
static void lg_load(struct lg *g, unsigned int small, unsigned int large)
{
	struct frame fr;
	cpu_set_t one;
	int err;

	/* One CPU, so that one client id and one request counter are in play. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	g->cpu = 0;
	frame_default(&fr, IP4, NULL, 0);
	memset(&g->req, 0, sizeof(g->req));
	memcpy(g->req.smac, fr.smac, 6);
	memcpy(g->req.dmac, fr.dmac, 6);
	memcpy(&g->req.saddr, &fr.saddr, 4);
	memcpy(&g->req.daddr, &fr.daddr, 4);
	g->req.sport = SPORT;
	g->req.dport = KLOG_DEFAULT_PORT;
	g->req.client_id = CLIENT;
	g->req.small = small;
	g->req.large = large;
	err = loadgen_load(&g->skel, &g->req, g->in, sizeof(g->in), &g->in_len);
	ck_assert_msg(!err, "loadgen_load: %s", strerror(-err));
}

static struct loadgen_counts lg_counts(struct lg *g)
{
	struct loadgen_counts c;

	ck_assert_int_eq(loadgen_counts_sum(g->skel, &c), 0);
	return c;
}

static struct loadgen_hist lg_hist(struct lg *g)
{
	static struct loadgen_hist h;

	ck_assert_int_eq(loadgen_hist_sum(g->skel, &h), 0);
	return h;
}

/*
 * The request the generator must make of its input: request n of this CPU,
 * with len bytes of the input's payload, and txid (the one it stamped).
 */
static size_t expected_request(struct lg *g, uint64_t n, unsigned int len, uint64_t txid,
			       uint8_t *buf, size_t cap)
{
	struct frame fr;
	size_t wn;

	frame_default(&fr, IP4, g->in + LOADGEN_HDRS_LEN, len);
	memcpy(fr.smac, g->req.smac, 6);
	memcpy(fr.dmac, g->req.dmac, 6);
	fr.sport = SPORT;
	fr.hdr.client_id = htobe32(CLIENT + g->cpu);
	fr.hdr.request_id = htobe64(n + 1);
	fr.hdr.txid = htobe64(txid);
	wn = build_frame(&fr, buf, cap);
	buf[LOADGEN_KLOG_OFF - 2] = buf[LOADGEN_KLOG_OFF - 1] = 0; /* no UDP checksum */
	return wn;
}

/* Run the generator on in and expect request n of len payload bytes, sent now. */
static void expect_request(struct lg *g, const uint8_t *in, uint64_t n, unsigned int len)
{
	static uint8_t want[4096];
	static struct run r;
	struct klog_hdr h;
	uint64_t t0 = mono_ns(), t1, txid;
	size_t wn;

	run_prog(bpf_program__fd(g->skel->progs.loadgen_gen), in, g->in_len, &r);
	t1 = mono_ns();
	ck_assert_uint_eq(r.retval, XDP_TX);
	ck_assert_uint_ge(r.out_len, LOADGEN_HDRS_LEN);
	/* Copied out: the header sits at an odd offset, and the struct needs 8-byte alignment. */
	memcpy(&h, r.out + LOADGEN_KLOG_OFF, sizeof(h));
	txid = be64toh(h.txid);
	ck_assert_msg(txid >= t0 && txid <= t1, "txid %llu is not the send time",
		      (unsigned long long)txid);
	ck_assert_uint_eq(be64toh(h.request_id), n + 1);
	wn = expected_request(g, n, len, txid, want, sizeof(want));
	ck_assert_uint_eq(r.out_len, wn);
	ck_assert_msg(!memcmp(r.out, want, wn), "request %llu differs from the expected frame",
		      (unsigned long long)n);
	ck_assert_uint_eq(csum16(r.out + 14, 20, 0), 0xffff);
}

/* Fixed sizes: every frame a request of that size, request ids 1, 2, ... */
START_TEST(gen_fixed)
{
	const unsigned int sizes[] = { 1, 128, 1024, KLOG_MAX_RECORD };
	struct lg g;

	lg_load(&g, 0, sizes[_i]);
	for (uint64_t n = 0; n < 6; n++)
		expect_request(&g, g.in, n, sizes[_i]);
	ck_assert_uint_eq(lg_counts(&g).sent, 6);
	ck_assert_uint_eq(lg_counts(&g).sent_large, 6);
	ck_assert_uint_eq(lg_counts(&g).gen_errors, 0);
	loadgen__destroy(g.skel);
}
END_TEST

/* The mix: every 4th request 1024 B, the others the input's first 128 payload bytes. */
START_TEST(gen_mix)
{
	struct lg g;

	lg_load(&g, 128, 1024);
	for (uint64_t n = 0; n < 12; n++)
		expect_request(&g, g.in, n, loadgen_is_large(n, 1) ? 1024 : 128);
	ck_assert_uint_eq(lg_counts(&g).sent, 12);
	ck_assert_uint_eq(lg_counts(&g).sent_large, 3);
	loadgen__destroy(g.skel);
}
END_TEST

/* A frame that holds the server's reply in its headers becomes a request again. */
START_TEST(gen_rewrites_reply)
{
	static uint8_t in[4096], rep_buf[256];
	struct frame req, rep;
	struct lg g;

	lg_load(&g, 128, 1024);
	frame_default(&req, IP4, NULL, 0);
	req.sport = SPORT;
	frame_reply(&req, &rep, KLOG_OP_ACK, KLOG_ST_OK, 42);
	memcpy(in, g.in, g.in_len);
	memcpy(in, rep_buf, build_frame(&rep, rep_buf, sizeof(rep_buf)));
	expect_request(&g, in, 0, 128);
	expect_request(&g, in, 1, 128);
	expect_request(&g, in, 2, 128);
	expect_request(&g, in, 3, 1024);
	loadgen__destroy(g.skel);
}
END_TEST

/* Run the generator on its input and expect a drop: not due, or over quota. */
static void expect_idle(struct lg *g)
{
	static struct run r;

	run_prog(bpf_program__fd(g->skel->progs.loadgen_gen), g->in, g->in_len, &r);
	ck_assert_uint_eq(r.retval, XDP_DROP);
}

/* A quota stops the generator; a gap makes it wait, then catch up a few frames. */
START_TEST(gen_paces)
{
	struct lg g;
	uint64_t t0;

	lg_load(&g, 0, 128);
	ck_assert_int_eq(loadgen_pace_set(g.skel, -1, 3, 0), 0);
	for (uint64_t n = 0; n < 3; n++)
		expect_request(&g, g.in, n, 128);
	expect_idle(&g);
	expect_idle(&g);
	ck_assert_uint_eq(lg_counts(&g).sent, 3);
	ck_assert_uint_eq(lg_counts(&g).gen_idle, 2);
	loadgen__destroy(g.skel);

	/* One frame per 20 ms: the first at once, the next not before 20 ms. */
	lg_load(&g, 0, 128);
	ck_assert_int_eq(loadgen_pace_set(g.skel, -1, 0, 20000000), 0);
	t0 = mono_ns();
	expect_request(&g, g.in, 0, 128);
	while (mono_ns() - t0 < 15000000)
		expect_idle(&g);
	usleep(10000);
	expect_request(&g, g.in, 1, 128);
	expect_idle(&g);
	/* Stalled for 40 gaps: LOADGEN_CATCH_UP frames go at once, then it waits. */
	usleep(40 * 20000);
	for (uint64_t n = 2; n < 2 + LOADGEN_CATCH_UP; n++)
		expect_request(&g, g.in, n, 128);
	expect_idle(&g);
	loadgen__destroy(g.skel);
}
END_TEST

/* The reply to a request of this run from client + cpu, with this opcode and status. */
static size_t reply_frame(uint32_t client, uint8_t op, uint16_t status, uint64_t txid,
			  uint8_t *buf, size_t cap)
{
	struct frame req, rep;

	frame_default(&req, IP4, NULL, 0);
	req.sport = SPORT;
	req.hdr.client_id = htobe32(client);
	req.hdr.txid = htobe64(txid);
	frame_reply(&req, &rep, op, status, op == KLOG_OP_ACK ? 7 : 0);
	return build_frame(&rep, buf, cap);
}

/* Run the counter on a frame and expect verdict, and the frame left as it was. */
static void expect_verdict(struct lg *g, const uint8_t *in, size_t n, uint32_t verdict)
{
	static struct run r;

	run_prog(bpf_program__fd(g->skel->progs.loadgen_count), in, n, &r);
	ck_assert_uint_eq(r.retval, verdict);
	ck_assert_uint_eq(r.out_len, n);
	ck_assert_msg(!memcmp(r.out, in, n), "the counter changed a frame");
}

/* An ACK is counted and its latency (now - txid) lands in the histogram. */
START_TEST(count_ack)
{
	static uint8_t buf[256];
	const uint64_t age = 5000;
	struct loadgen_hist h;
	struct lg g;
	uint64_t t0, t1, total = 0;
	size_t n;

	lg_load(&g, 128, 1024);
	t0 = mono_ns();
	n = reply_frame(CLIENT + 1, KLOG_OP_ACK, KLOG_ST_OK, t0 - age, buf, sizeof(buf));
	expect_verdict(&g, buf, n, XDP_DROP);
	t1 = mono_ns();
	ck_assert_uint_eq(lg_counts(&g).acks, 1);
	ck_assert_uint_ge(lg_counts(&g).last_reply_ns, t0);
	ck_assert_uint_le(lg_counts(&g).last_reply_ns, t1);
	h = lg_hist(&g);
	for (uint32_t b = 0; b < LOADGEN_BUCKETS; b++) {
		total += h.n[b];
		if (h.n[b]) {
			/* The latency was between age and age + the run's time. */
			ck_assert_uint_ge(loadgen_bucket_low(b) + loadgen_bucket_width(b), age);
			ck_assert_uint_le(loadgen_bucket_low(b), age + (t1 - t0));
		}
	}
	ck_assert_uint_eq(total, 1);
	ck_assert(loadgen_quantile(&h, 0.5) >= loadgen_bucket_low(loadgen_bucket(age)));
	loadgen__destroy(g.skel);
}
END_TEST

/* NACKs are counted by status (an unknown status in the last counter), no latency kept. */
START_TEST(count_nacks)
{
	static uint8_t buf[256];
	struct loadgen_counts c;
	struct loadgen_hist h;
	struct lg g;
	size_t n;

	lg_load(&g, 128, 1024);
	n = reply_frame(CLIENT, KLOG_OP_NACK, KLOG_ST_FULL, mono_ns(), buf, sizeof(buf));
	expect_verdict(&g, buf, n, XDP_DROP);
	expect_verdict(&g, buf, n, XDP_DROP);
	n = reply_frame(CLIENT, KLOG_OP_NACK, 999, mono_ns(), buf, sizeof(buf));
	expect_verdict(&g, buf, n, XDP_DROP);
	n = reply_frame(CLIENT, KLOG_OP_DURABLE, KLOG_ST_OK, mono_ns(), buf, sizeof(buf));
	expect_verdict(&g, buf, n, XDP_DROP);
	c = lg_counts(&g);
	ck_assert_uint_eq(c.nacks[KLOG_ST_FULL], 2);
	ck_assert_uint_eq(c.nacks[LOADGEN_STATUSES - 1], 1);
	ck_assert_uint_eq(c.other_replies, 1);
	ck_assert_uint_eq(c.acks, 0);
	h = lg_hist(&g);
	ck_assert(loadgen_quantile(&h, 0.99) == 0);
	loadgen__destroy(g.skel);
}
END_TEST

/* A frame of frame_default() with these changes, and the counter's verdict on it. */
struct reject_case {
	enum ipver ip;
	uint16_t ethertype, dport;
	uint8_t l4proto;
	bool no_klog_hdr;
	uint32_t verdict;
};

static const struct reject_case rejects[] = {
	{ IP4, 0, SPORT + 1, 0, false, XDP_PASS },             /* UDP to another port */
	{ IP4, 0, SPORT, IPPROTO_TCP, false, XDP_PASS },       /* TCP to the port */
	{ IP6, 0, KLOG_DEFAULT_PORT, 0, false, XDP_PASS },     /* IPv6 to another port */
	{ IP4, 0x0806, SPORT, 0, false, XDP_PASS },            /* not IP */
	{ IP4, 0, SPORT, 0, true, XDP_DROP },                  /* the port, no klog header */
};

/* Not for the generator's port: passed untouched; for it but bad: dropped and counted. */
START_TEST(count_rejects)
{
	static uint8_t buf[256], payload[16];
	struct loadgen_counts c;
	struct frame fr;
	struct lg g;
	size_t n;

	lg_load(&g, 128, 1024);
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		frame_default(&fr, rejects[i].ip, payload, sizeof(payload));
		fr.ethertype = rejects[i].ethertype;
		fr.dport = rejects[i].dport;
		fr.l4proto = rejects[i].l4proto;
		fr.no_klog_hdr = rejects[i].no_klog_hdr;
		n = build_frame(&fr, buf, sizeof(buf));
		expect_verdict(&g, buf, n, rejects[i].verdict);
	}
	/* Replies to the port without the magic, or to a client not of this run. */
	n = reply_frame(CLIENT, KLOG_OP_ACK, KLOG_ST_OK, 1, buf, sizeof(buf));
	buf[LOADGEN_KLOG_OFF] ^= 0xff;
	expect_verdict(&g, buf, n, XDP_DROP);
	n = reply_frame(CLIENT - 1, KLOG_OP_ACK, KLOG_ST_OK, 1, buf, sizeof(buf));
	expect_verdict(&g, buf, n, XDP_DROP);
	n = reply_frame(CLIENT + (uint32_t)libbpf_num_possible_cpus(), KLOG_OP_ACK, KLOG_ST_OK, 1,
			buf, sizeof(buf));
	expect_verdict(&g, buf, n, XDP_DROP);
	c = lg_counts(&g);
	ck_assert_uint_eq(c.passed, 4);
	ck_assert_uint_eq(c.malformed, 2);
	ck_assert_uint_eq(c.foreign, 2);
	ck_assert_uint_eq(c.acks + c.other_replies + c.last_reply_ns, 0);
	loadgen__destroy(g.skel);
}
END_TEST

/* Every value lies in its bucket, and buckets follow each other without a gap. */
START_TEST(hist_buckets)
{
	for (uint64_t v = 0; v < (1ull << 41); v = v < 4096 ? v + 1 : v + v / 97) {
		uint32_t b = loadgen_bucket(v);

		ck_assert_uint_lt(b, LOADGEN_BUCKETS);
		if (b == LOADGEN_BUCKETS - 1)
			continue;
		ck_assert_uint_le(loadgen_bucket_low(b), v);
		ck_assert_uint_lt(v, loadgen_bucket_low(b) + loadgen_bucket_width(b));
		ck_assert_uint_eq(loadgen_bucket_low(b + 1), loadgen_bucket_low(b) +
							  loadgen_bucket_width(b));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loadgen");
	TCase *tc = tcase_create("loadgen");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, gen_fixed, 0, 4);
	tcase_add_test(tc, gen_mix);
	tcase_add_test(tc, gen_rewrites_reply);
	tcase_add_test(tc, gen_paces);
	tcase_add_test(tc, count_ack);
	tcase_add_test(tc, count_nacks);
	tcase_add_test(tc, count_rejects);
	tcase_add_test(tc, hist_buckets);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
