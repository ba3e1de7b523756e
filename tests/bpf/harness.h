/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * harness.h - shared by the BPF tests: load the klog programs with chosen
 * settings, build request and expected-reply frames, and run a program on a
 * frame with BPF_PROG_TEST_RUN.
 */
#ifndef KLOG_TEST_HARNESS_H
#define KLOG_TEST_HARNESS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <klog/klog.h>

#include "frame.h"
#include "kern.h"
#include "klog.skel.h"

enum hook { HOOK_XDP, HOOK_TC };

struct fixture {
	struct klog *skel;
	struct klog_kern k;
};

/* Open, configure, load and initialise (unless init is false). Aborts the test on error. */
void fixture_load(struct fixture *f, const struct klog_kern_opts *o, bool init);
/*
 * Make the frames of frame_default() the server's: its addresses in
 * klog_local and, with allow_all, every source in klog_allow (::/0).
 * fixture_load() does this; tests of the access maps change them after.
 */
void fixture_access(struct fixture *f, bool allow_all);
void fixture_destroy(struct fixture *f);
int fixture_prog(struct fixture *f, enum hook h);

/*
 * Run req through hook and expect exactly the reply frame with this opcode,
 * flags, status and LSN; both checksums must also verify on their own.
 */
void expect_reply(struct fixture *f, enum hook h, const struct frame *req, uint8_t op,
		  uint16_t flags, uint16_t status, uint64_t lsn);

/* frame_build() that fails the test when the buffer is too small. */
size_t build_frame(const struct frame *fr, uint8_t *buf, size_t cap);

struct run {
	uint32_t retval;
	uint32_t duration_ns;
	uint32_t out_len;
	uint8_t out[9216];
};

/* Run program fd once on frame in; aborts the test if the syscall fails. */
void run_prog(int fd, const uint8_t *in, size_t len, struct run *r);

/* Verdict the hook returns when it answers, passes or drops. */
uint32_t verdict_reply(enum hook h);
uint32_t verdict_pass(enum hook h);
uint32_t verdict_drop(enum hook h);

const char *hook_name(enum hook h);

#endif
