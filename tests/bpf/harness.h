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

#include "kern.h"
#include "klog.skel.h"

enum hook { HOOK_XDP, HOOK_TC };
enum ipver { IP4, IP6, IP4_VLAN };

struct fixture {
	struct klog *skel;
	struct klog_kern k;
};

/* Open, configure, load and initialise (unless init is false). Aborts the test on error. */
void fixture_load(struct fixture *f, const struct klog_kern_opts *o, bool init);
void fixture_destroy(struct fixture *f);
int fixture_prog(struct fixture *f, enum hook h);

/* Everything a test frame is made of; frame_default() fills a valid APPEND. */
struct frame {
	enum ipver ip;
	uint16_t ethertype;  /* 0: from ip */
	uint8_t l4proto;     /* 0: UDP */
	uint16_t frag_off;   /* IPv4 flags/offset, host order */
	uint8_t smac[6], dmac[6];
	struct in6_addr saddr, daddr; /* IPv4 uses the first 4 bytes */
	uint16_t sport, dport;
	int udp_len_delta;   /* added to the UDP length field */
	bool no_klog_hdr;    /* UDP payload is the payload bytes alone */
	struct klog_hdr hdr; /* wire order */
	const uint8_t *payload;
	size_t payload_len;
};

void frame_default(struct frame *fr, enum ipver ip, const uint8_t *payload, size_t len);
size_t frame_build(const struct frame *fr, uint8_t *buf, size_t cap);
/* The reply the server must send for request fr. */
void frame_reply(const struct frame *req, struct frame *rep, uint8_t opcode,
		 uint16_t status, uint64_t lsn);

/* RFC 1071 sum of a buffer, folded but not inverted. */
uint16_t csum16(const void *p, size_t n, uint32_t sum);

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

/* Deterministic payload bytes for (seed, len). */
void fill_payload(uint8_t *p, size_t len, uint64_t seed);

const char *hook_name(enum hook h);
const char *ip_name(enum ipver ip);

#endif
