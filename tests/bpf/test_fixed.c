// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: BPF_PROG_TEST_RUN cases for the fixed-slot baseline
 * (bench/fixed_log.bpf.c), both slot sizes: an APPEND that fits is ACKed in
 * place (XDP_TX, the reply byte for byte) with the next LSN and its record is
 * in slot LSN % slots; a larger one is spilled (XDP_PASS, untouched, no LSN
 * taken); malformed ones are refused (XDP_PASS, untouched); other traffic is
 * passed without a count; the log wraps.
 */
#include <check.h>
#include <endian.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check_run.h"
#include "fixed_load.h"
#include "harness.h"

static const unsigned int slot_sizes[] = { 128, 1024 };

struct fx {
	struct fixed_log *skel;
	unsigned int slot;
	uint32_t slots;
	int prog;
};

static void fx_load(struct fx *f, unsigned int slot, uint32_t slots)
{
	int err = fixed_load(&f->skel, slot, slots, KLOG_DEFAULT_PORT);

	ck_assert_msg(!err, "fixed_load(%u): %s", slot, strerror(-err));
	f->slot = slot;
	f->slots = slots;
	f->prog = bpf_program__fd(fixed_prog(f->skel, slot));
}

static struct fixed_stats fx_stats(struct fx *f)
{
	struct fixed_stats st;

	ck_assert_int_eq(fixed_stats_sum(f->skel, &st), 0);
	return st;
}

/* Slot lsn % slots holds exactly the request's payload under that LSN. */
static void expect_slot(struct fx *f, uint64_t lsn, const struct frame *req)
{
	static uint8_t v[sizeof(struct fixed_head) + 1024];
	struct fixed_head *h = (void *)v;
	__u32 key = (__u32)(lsn % f->slots);

	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(fixed_map(f->skel, f->slot)), &key, v),
			 0);
	ck_assert_uint_eq(h->lsn, lsn);
	ck_assert_uint_eq(h->len, req->payload_len);
	ck_assert_msg(!memcmp(h + 1, req->payload, req->payload_len), "slot of LSN %llu differs",
		      (unsigned long long)lsn);
}

/* Run req and expect the ACK with lsn, byte for byte, and the record in its slot. */
static void expect_ack(struct fx *f, const struct frame *req, uint64_t lsn)
{
	static uint8_t in[KLOG_MAX_RECORD + 128], want[256];
	static struct run r;
	struct frame rep;
	size_t n = build_frame(req, in, sizeof(in)), wn;

	frame_reply(req, &rep, KLOG_OP_ACK, KLOG_ST_OK, lsn);
	wn = build_frame(&rep, want, sizeof(want));
	run_prog(f->prog, in, n, &r);
	ck_assert_uint_eq(r.retval, XDP_TX);
	ck_assert_uint_eq(r.out_len, wn);
	ck_assert_msg(!memcmp(r.out, want, wn), "the ACK differs from the expected frame");
	expect_slot(f, lsn, req);
}

/* Run req and expect XDP_PASS with the packet untouched. */
static void expect_pass(struct fx *f, const struct frame *req)
{
	static uint8_t in[KLOG_MAX_RECORD + 128];
	static struct run r;
	size_t n = build_frame(req, in, sizeof(in));

	run_prog(f->prog, in, n, &r);
	ck_assert_uint_eq(r.retval, XDP_PASS);
	ck_assert_uint_eq(r.out_len, n);
	ck_assert_msg(!memcmp(r.out, in, n), "a passed packet was changed");
}

/* Sizes up to the slot are kept and ACKed, over IPv4, IPv6 and a VLAN. */
START_TEST(accepts)
{
	static uint8_t payload[1024];
	const enum ipver ips[] = { IP4, IP6, IP4_VLAN };
	struct fx f;
	struct frame fr;
	uint64_t lsn = KLOG_FIRST_LSN;

	fx_load(&f, slot_sizes[_i], 64);
	for (size_t ip = 0; ip < 3; ip++) {
		const size_t sizes[] = { 1, 100, f.slot - 1, f.slot };

		for (size_t s = 0; s < 4; s++) {
			fill_payload(payload, sizes[s], lsn);
			frame_default(&fr, ips[ip], payload, sizes[s]);
			expect_ack(&f, &fr, lsn++);
		}
	}
	ck_assert_uint_eq(fx_stats(&f).appends, lsn - KLOG_FIRST_LSN);
	ck_assert_uint_eq(fx_stats(&f).spilled + fx_stats(&f).refused, 0);
	fixed_log__destroy(f.skel);
}
END_TEST

/* One byte over the slot is spilled: passed untouched, no LSN taken. */
START_TEST(spills)
{
	static uint8_t payload[KLOG_MAX_RECORD];
	struct fx f;
	struct frame fr;

	fx_load(&f, slot_sizes[_i], 64);
	fill_payload(payload, KLOG_MAX_RECORD, 7);
	frame_default(&fr, IP4, payload, f.slot + 1);
	expect_pass(&f, &fr);
	frame_default(&fr, IP6, payload, KLOG_MAX_RECORD);
	expect_pass(&f, &fr);
	ck_assert_uint_eq(fx_stats(&f).spilled, 2);
	ck_assert_uint_eq(fx_stats(&f).appends, 0);
	/* The next record that fits gets the first LSN. */
	frame_default(&fr, IP4, payload, f.slot);
	expect_ack(&f, &fr, KLOG_FIRST_LSN);
	fixed_log__destroy(f.skel);
}
END_TEST

/* Not a valid APPEND: passed untouched to the userspace server, counted. */
START_TEST(refuses)
{
	static uint8_t payload[64];
	struct fx f;
	struct frame fr;
	int n = 0;

	fx_load(&f, slot_sizes[_i], 64);
	frame_default(&fr, IP4, payload, sizeof(payload));
	fr.hdr.magic = htobe32(0x12345678);
	expect_pass(&f, &fr), n++;
	frame_default(&fr, IP4, payload, sizeof(payload));
	fr.hdr.opcode = KLOG_OP_QUERY;
	expect_pass(&f, &fr), n++;
	frame_default(&fr, IP4, payload, sizeof(payload));
	fr.hdr.len = htobe16(sizeof(payload) - 1); /* disagrees with the datagram */
	expect_pass(&f, &fr), n++;
	frame_default(&fr, IP4, payload, sizeof(payload));
	fr.hdr.len = 0;
	expect_pass(&f, &fr), n++;
	ck_assert_uint_eq(fx_stats(&f).refused, n);
	/* Not for the port: passed, not counted. */
	frame_default(&fr, IP4, payload, sizeof(payload));
	fr.dport = KLOG_DEFAULT_PORT + 1;
	expect_pass(&f, &fr);
	ck_assert_uint_eq(fx_stats(&f).refused, n);
	ck_assert_uint_eq(fx_stats(&f).appends, 0);
	fixed_log__destroy(f.skel);
}
END_TEST

/* With 4 slots, LSNs 5 and 6 overwrite the slots of 1 and 2; LSN 3's is untouched. */
START_TEST(wraps)
{
	static uint8_t payload[8][128];
	struct frame fr[8];
	struct fx f;

	fx_load(&f, slot_sizes[_i], 4);
	for (int i = 0; i < 6; i++) {
		fill_payload(payload[i], 128, i);
		frame_default(&fr[i], IP4, payload[i], 100 + i);
		expect_ack(&f, &fr[i], KLOG_FIRST_LSN + i);
	}
	expect_slot(&f, 5, &fr[4]);
	expect_slot(&f, 6, &fr[5]);
	expect_slot(&f, 3, &fr[2]);
	fixed_log__destroy(f.skel);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fixed");
	TCase *tc = tcase_create("fixed");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, accepts, 0, 2);
	tcase_add_loop_test(tc, spills, 0, 2);
	tcase_add_loop_test(tc, refuses, 0, 2);
	tcase_add_loop_test(tc, wraps, 0, 2);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
