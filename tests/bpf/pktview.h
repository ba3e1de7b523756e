/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pktview.h - a damaged frame's headers, found independently of the
 * programs' parser (so the fuzzer's checks do not share its bugs), and its
 * checksums made to hold again.
 */
#ifndef KLOG_TEST_PKTVIEW_H
#define KLOG_TEST_PKTVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offsets from the frame's start. */
struct pkt_view {
	size_t l3, l4, hdr, ihl;
	bool v6;
};

/* Ethernet (one VLAN tag), IPv4 or IPv6, UDP and a whole klog header? */
bool pkt_view(const uint8_t *p, size_t n, struct pkt_view *v);
/* A big-endian 16-bit field. */
uint16_t pkt_get16(const uint8_t *p);
/* The UDP length field if it fits the frame, else what the frame holds. */
size_t pkt_udp_len(const uint8_t *p, size_t n, const struct pkt_view *v);
/* The UDP sum with the pseudo-header, folded: 0xffff when the checksum holds. */
uint16_t pkt_udp_sum(const uint8_t *p, const struct pkt_view *v, size_t len);
/* Recompute the IPv4 header and UDP checksums of a damaged frame, where it has them. */
void pkt_fix_csums(uint8_t *p, size_t n);
/* Insert 4 bytes of IPv4 options (NOPs) after an IPv4 header; the new length. */
size_t pkt_add_ip_options(uint8_t *p, size_t n);

#endif
