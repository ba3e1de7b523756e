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
	if (init) {
		err = klog_kern_init(&f->k, KLOG_FIRST_LSN);
		ck_assert_msg(!err, "klog_kern_init: %s", strerror(-err));
	}
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

