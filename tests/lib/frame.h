/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * frame.h - build Ethernet frames carrying klog datagrams, and the replies
 * the server must send, for the tests and the benchmarks; and the
 * deterministic numbers and payloads they are made of.
 */
#ifndef KLOG_TEST_FRAME_H
#define KLOG_TEST_FRAME_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <klog/klog.h>

enum ipver { IP4, IP6, IP4_VLAN };

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
	uint16_t ip_csum_xor, udp_csum_xor; /* damage a checksum after it is computed */
	bool no_udp_csum;    /* send 0: "no checksum" (IPv4 only) */
	const uint8_t *payload;
	size_t payload_len;
};

void frame_default(struct frame *fr, enum ipver ip, const uint8_t *payload, size_t len);
/* Write the frame to buf; returns its length, or 0 if cap is too small. */
size_t frame_build(const struct frame *fr, uint8_t *buf, size_t cap);
/* The reply the server must send for request fr. */
void frame_reply(const struct frame *req, struct frame *rep, uint8_t opcode,
		 uint16_t status, uint64_t lsn);

/* RFC 1071 sum of a buffer, folded but not inverted. */
uint16_t csum16(const void *p, size_t n, uint32_t sum);

/* Deterministic payload bytes for (seed, len). */
void fill_payload(uint8_t *p, size_t len, uint64_t seed);

/* The next number of the splitmix64 sequence at *state, which it advances. */
uint64_t splitmix64(uint64_t *state);
/* A well-mixed hash of x: the splitmix64 number after state x. */
uint64_t mix64(uint64_t x);

const char *ip_name(enum ipver ip);

#endif
