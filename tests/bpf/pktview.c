// SPDX-License-Identifier: GPL-2.0-only
/* pktview.c - see pktview.h. */
#include <netinet/in.h>
#include <string.h>

#include "frame.h"
#include "pktview.h"

/* Ethernet (one VLAN tag), IPv4 or IPv6, UDP and a whole klog header? */
bool pkt_view(const uint8_t *p, size_t n, struct pkt_view *v)
{
	size_t off = 14;
	uint16_t et;

	if (n < 14)
		return false;
	et = p[12] << 8 | p[13];
	if (et == 0x8100 || et == 0x88a8) {
		if (n < 18)
			return false;
		et = p[16] << 8 | p[17];
		off = 18;
	}
	v->l3 = off;
	if (et == 0x0800) {
		if (n < off + 20 || p[off] >> 4 != 4 || p[off + 9] != IPPROTO_UDP)
			return false;
		v->ihl = (p[off] & 15) * 4u;
		v->v6 = false;
		if (v->ihl < 20)
			return false;
		off += v->ihl;
	} else if (et == 0x86dd) {
		if (n < off + 40 || p[off + 6] != IPPROTO_UDP)
			return false;
		v->v6 = true;
		off += 40;
	} else {
		return false;
	}
	v->l4 = off;
	v->hdr = off + 8;
	return n >= v->hdr + sizeof(struct klog_hdr);
}

uint16_t pkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The UDP length field if it fits the frame, else what the frame holds. */
size_t pkt_udp_len(const uint8_t *p, size_t n, const struct pkt_view *v)
{
	size_t l = pkt_get16(p + v->l4 + 4);

	return l >= 8 && v->l4 + l <= n ? l : n - v->l4;
}

/* The UDP sum with the pseudo-header, folded: 0xffff when the checksum holds. */
uint16_t pkt_udp_sum(const uint8_t *p, const struct pkt_view *v, size_t len)
{
	uint32_t s = v->v6 ? csum16(p + v->l3 + 8, 32, 0) : csum16(p + v->l3 + 12, 8, 0);

	return csum16(p + v->l4, len, s + IPPROTO_UDP + (uint32_t)len);
}

/* Recompute the IPv4 header and UDP checksums of a mutated frame, where it has them. */
void pkt_fix_csums(uint8_t *p, size_t n)
{
	struct pkt_view v;
	size_t len;
	uint16_t c;

	if (!pkt_view(p, n, &v) || (!v.v6 && v.l3 + v.ihl > n))
		return;
	if (!v.v6) {
		p[v.l3 + 10] = p[v.l3 + 11] = 0;
		c = ~csum16(p + v.l3, v.ihl, 0);
		p[v.l3 + 10] = c >> 8, p[v.l3 + 11] = c & 0xff;
	}
	len = pkt_udp_len(p, n, &v);
	p[v.l4 + 6] = p[v.l4 + 7] = 0;
	c = ~pkt_udp_sum(p, &v, len);
	c = c ? c : 0xffff;
	p[v.l4 + 6] = c >> 8, p[v.l4 + 7] = c & 0xff;
}

/* Insert 4 bytes of IPv4 options (NOPs) after the header of an IPv4 frame. */
size_t pkt_add_ip_options(uint8_t *p, size_t n)
{
	struct pkt_view v;

	if (!pkt_view(p, n, &v) || v.v6)
		return n;
	memmove(p + v.l4 + 4, p + v.l4, n - v.l4);
	memset(p + v.l4, 1, 4);
	p[v.l3] = 0x46;
	p[v.l3 + 2] = (n - v.l3 + 4) >> 8, p[v.l3 + 3] = (n - v.l3 + 4) & 0xff;
	pkt_fix_csums(p, n + 4);
	return n + 4;
}

