// SPDX-License-Identifier: GPL-2.0-only
/* frame.c - klog request and reply frames (see frame.h). */
#include <arpa/inet.h>
#include <endian.h>
#include <string.h>

#include "frame.h"

void frame_default(struct frame *fr, enum ipver ip, const uint8_t *payload, size_t len)
{
	static uint64_t next_request;
	static const uint8_t cmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

	memset(fr, 0, sizeof(*fr));
	fr->ip = ip;
	memcpy(fr->smac, cmac, 6);
	memcpy(fr->dmac, smac, 6);
	if (ip == IP6) {
		inet_pton(AF_INET6, "fd00::1", &fr->saddr);
		inet_pton(AF_INET6, "fd00::2", &fr->daddr);
	} else {
		inet_pton(AF_INET, "10.77.0.1", &fr->saddr);
		inet_pton(AF_INET, "10.77.0.2", &fr->daddr);
	}
	fr->sport = 40001;
	fr->dport = KLOG_DEFAULT_PORT;
	fr->frag_off = 0x4000; /* DF */
	fr->hdr = (struct klog_hdr){
		.magic = htobe32(KLOG_MAGIC),
		.version = KLOG_VERSION_1,
		.opcode = KLOG_OP_APPEND,
		.client_id = htobe32(0xc0ffee),
		.len = htobe16((uint16_t)len),
		/* Every frame a new request, so the server's dedup never merges two. */
		.request_id = htobe64(0x1122334455667788ull +
				      __atomic_fetch_add(&next_request, 1, __ATOMIC_RELAXED)),
		.txid = htobe64(0xdeadbeef00000001ull),
	};
	fr->payload = payload;
	fr->payload_len = len;
}

uint16_t csum16(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint16_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint16_t)(b[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

size_t frame_build(const struct frame *fr, uint8_t *buf, size_t cap)
{
	size_t l4_payload = (fr->no_klog_hdr ? 0 : sizeof(fr->hdr)) + fr->payload_len;
	size_t udp_len = 8 + l4_payload;
	size_t off = 0, l3, l4;
	uint16_t et = fr->ethertype ? fr->ethertype : (fr->ip == IP6 ? 0x86dd : 0x0800);
	uint8_t proto = fr->l4proto ? fr->l4proto : IPPROTO_UDP;

	if (14 + 4 + 40 + udp_len > cap)
		return 0;
	memcpy(buf, fr->dmac, 6);
	memcpy(buf + 6, fr->smac, 6);
	off = 12;
	if (fr->ip == IP4_VLAN) {
		buf[off++] = 0x81, buf[off++] = 0x00;
		buf[off++] = 0x00, buf[off++] = 0x2a; /* VLAN 42 */
	}
	buf[off++] = et >> 8, buf[off++] = et & 0xff;
	l3 = off;
	if (fr->ip == IP6) {
		memset(buf + l3, 0, 40);
		buf[l3] = 0x60;
		buf[l3 + 4] = udp_len >> 8, buf[l3 + 5] = udp_len & 0xff;
		buf[l3 + 6] = proto;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, &fr->saddr, 16);
		memcpy(buf + l3 + 24, &fr->daddr, 16);
		l4 = l3 + 40;
	} else {
		size_t tot = 20 + udp_len;

		memset(buf + l3, 0, 20);
		buf[l3] = 0x45;
		buf[l3 + 2] = tot >> 8, buf[l3 + 3] = tot & 0xff;
		buf[l3 + 6] = fr->frag_off >> 8, buf[l3 + 7] = fr->frag_off & 0xff;
		buf[l3 + 8] = 64;
		buf[l3 + 9] = proto;
		memcpy(buf + l3 + 12, &fr->saddr, 4);
		memcpy(buf + l3 + 16, &fr->daddr, 4);
		uint16_t c = ~csum16(buf + l3, 20, 0) ^ fr->ip_csum_xor;
		buf[l3 + 10] = c >> 8, buf[l3 + 11] = c & 0xff;
		l4 = l3 + 20;
	}
	size_t wire_udp_len = udp_len + fr->udp_len_delta;

	buf[l4] = fr->sport >> 8, buf[l4 + 1] = fr->sport & 0xff;
	buf[l4 + 2] = fr->dport >> 8, buf[l4 + 3] = fr->dport & 0xff;
	buf[l4 + 4] = wire_udp_len >> 8, buf[l4 + 5] = wire_udp_len & 0xff;
	buf[l4 + 6] = buf[l4 + 7] = 0;
	off = l4 + 8;
	if (!fr->no_klog_hdr) {
		memcpy(buf + off, &fr->hdr, sizeof(fr->hdr));
		off += sizeof(fr->hdr);
	}
	if (fr->payload_len)
		memcpy(buf + off, fr->payload, fr->payload_len);
	off += fr->payload_len;

	/* UDP checksum over the pseudo-header and the datagram. */
	uint8_t pseudo[40];
	size_t plen;

	if (fr->ip == IP6) {
		memcpy(pseudo, &fr->saddr, 16);
		memcpy(pseudo + 16, &fr->daddr, 16);
		plen = 32;
	} else {
		memcpy(pseudo, &fr->saddr, 4);
		memcpy(pseudo + 4, &fr->daddr, 4);
		plen = 8;
	}
	uint32_t sum = csum16(pseudo, plen, 0) + proto + (uint32_t)udp_len;
	uint16_t c = ~csum16(buf + l4, udp_len, sum);

	if (c == 0)
		c = 0xffff;
	c = fr->no_udp_csum ? 0 : c ^ fr->udp_csum_xor;
	buf[l4 + 6] = c >> 8, buf[l4 + 7] = c & 0xff;
	return off;
}

void frame_reply(const struct frame *req, struct frame *rep, uint8_t opcode, uint16_t status,
		 uint64_t lsn)
{
	*rep = *req;
	memcpy(rep->smac, req->dmac, 6);
	memcpy(rep->dmac, req->smac, 6);
	rep->saddr = req->daddr;
	rep->daddr = req->saddr;
	rep->sport = req->dport;
	rep->dport = req->sport;
	rep->udp_len_delta = 0;
	rep->hdr.version = KLOG_VERSION_1;
	rep->hdr.opcode = opcode;
	rep->hdr.flags = 0;
	rep->hdr.status = htobe16(status);
	rep->hdr.len = 0;
	rep->hdr.lsn = htobe64(lsn);
	rep->payload = NULL;
	rep->payload_len = 0;
}

void fill_payload(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t mix64(uint64_t x)
{
	return splitmix64(&x);
}

const char *ip_name(enum ipver ip)
{
	return ip == IP6 ? "ipv6" : ip == IP4_VLAN ? "ipv4+vlan" : "ipv4";
}
