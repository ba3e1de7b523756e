// SPDX-License-Identifier: GPL-2.0-only
/* harness.c - frames, program loading and BPF_PROG_TEST_RUN for the BPF tests. */
#include <check.h>
#include <endian.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

void fixture_load(struct fixture *f, const struct klog_kern_opts *o, bool init)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->skel = klog__open();
	ck_assert_msg(f->skel, "klog__open failed");
	err = klog_kern_configure(f->skel->obj, o);
	ck_assert_msg(!err, "klog_kern_configure: %s", strerror(-err));
	err = klog__load(f->skel);
	ck_assert_msg(!err, "klog__load: %s", strerror(-err));
	err = klog_kern_open(&f->k, f->skel->obj);
	ck_assert_msg(!err, "klog_kern_open: %s", strerror(-err));
	if (f->k.local_fd >= 0)
		fixture_access(f, true);
	if (init) {
		err = klog_kern_init(&f->k, KLOG_FIRST_LSN, 1);
		ck_assert_msg(!err, "klog_kern_init: %s", strerror(-err));
	}
}

void fixture_access(struct fixture *f, bool allow_all)
{
	struct klog_allow_key all = { .prefixlen = 0 };
	struct klog_addr a;
	struct frame fr;

	/* The server's addresses are those frame_default() sends to. */
	frame_default(&fr, IP4, NULL, 0);
	klog_addr_v4(&a, &fr.daddr);
	ck_assert_int_eq(klog_kern_local_add(&f->k, &a), 0);
	frame_default(&fr, IP6, NULL, 0);
	klog_addr_v6(&a, &fr.daddr);
	ck_assert_int_eq(klog_kern_local_add(&f->k, &a), 0);
	if (allow_all)
		ck_assert_int_eq(klog_kern_allow_add(&f->k, &all), 0);
}

void fixture_destroy(struct fixture *f)
{
	klog_kern_close(&f->k);
	klog__destroy(f->skel);
}

int fixture_prog(struct fixture *f, enum hook h)
{
	return bpf_program__fd(h == HOOK_XDP ? f->skel->progs.klog_xdp_append
					     : f->skel->progs.klog_tc_append);
}

/* Both checksums of a reply verify on their own, independently of frame_build. */
static void assert_checksums(const uint8_t *p, size_t n, enum ipver ip)
{
	size_t l3 = ip == IP4_VLAN ? 18 : 14, l4, udp_len;
	uint32_t pseudo;

	if (ip == IP6) {
		l4 = l3 + 40;
		pseudo = csum16(p + l3 + 8, 32, 0);
	} else {
		l4 = l3 + 20;
		ck_assert_uint_eq(csum16(p + l3, 20, 0), 0xffff);
		pseudo = csum16(p + l3 + 12, 8, 0);
	}
	udp_len = (size_t)p[l4 + 4] << 8 | p[l4 + 5];
	ck_assert_uint_eq(l4 + udp_len, n);
	ck_assert_uint_eq(csum16(p + l4, udp_len, pseudo + IPPROTO_UDP + (uint32_t)udp_len),
			  0xffff);
}

void expect_reply(struct fixture *f, enum hook h, const struct frame *req, uint8_t op,
		  uint16_t flags, uint16_t status, uint64_t lsn)
{
	static uint8_t in[9216], want[256];
	static struct run r;
	struct frame rep;
	size_t n = build_frame(req, in, sizeof(in)), wn;

	frame_reply(req, &rep, op, status, lsn);
	rep.hdr.flags = htobe16(flags);
	wn = build_frame(&rep, want, sizeof(want));
	run_prog(fixture_prog(f, h), in, n, &r);
	ck_assert_uint_eq(r.retval, verdict_reply(h));
	ck_assert_uint_eq(r.out_len, wn);
	if (memcmp(r.out, want, wn)) {
		struct klog_msg got;
		size_t l4 = wn - sizeof(struct klog_hdr);

		klog_decode(r.out + l4, sizeof(struct klog_hdr), &got);
		ck_abort_msg("reply differs from the expected frame: got opcode %u flags %#x "
			     "status %s lsn %llu, want opcode %u flags %#x status %s lsn %llu",
			     got.opcode, got.flags, klog_status_str(got.status),
			     (unsigned long long)got.lsn, op, flags, klog_status_str(status),
			     (unsigned long long)lsn);
	}
	assert_checksums(r.out, r.out_len, req->ip);
}

size_t build_frame(const struct frame *fr, uint8_t *buf, size_t cap)
{
	size_t n = frame_build(fr, buf, cap);

	ck_assert_msg(n > 0, "frame does not fit %zu bytes", cap);
	return n;
}

void run_prog(int fd, const uint8_t *in, size_t len, struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);
	int err = bpf_prog_test_run_opts(fd, &opts);

	ck_assert_msg(!err, "BPF_PROG_TEST_RUN: %s", strerror(-err));
	r->retval = opts.retval;
	r->duration_ns = opts.duration;
	r->out_len = opts.data_size_out;
}

uint32_t verdict_reply(enum hook h)
{
	return h == HOOK_XDP ? XDP_TX : TC_ACT_REDIRECT;
}

uint32_t verdict_pass(enum hook h)
{
	return h == HOOK_XDP ? XDP_PASS : TC_ACT_OK;
}

uint32_t verdict_drop(enum hook h)
{
	return h == HOOK_XDP ? XDP_DROP : TC_ACT_SHOT;
}

const char *hook_name(enum hook h)
{
	return h == HOOK_XDP ? "xdp" : "tc";
}

