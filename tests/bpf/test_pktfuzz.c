// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: a packet fuzzer for the append programs.  Valid APPENDs,
 * retransmissions, QUERYs and READs, targeted mutations whose outcome is
 * known, and random ones (bit flips with and without fixed checksums,
 * truncations, lying UDP lengths, random bytes) go through the XDP and TC
 * programs (picked per frame, on the same maps) of both pools, with UDP
 * checksums verified and not.  After every frame: exactly one outcome counter
 * moved (the identity below), the verdict matches it, a passed frame is
 * untouched, a reply is well-formed and says what the outcome means,
 * next_lsn moved only for an append (or a tombstone), and a predicted outcome
 * is the one the programs chose.  After every batch, against a model of what
 * was appended: every LSN of the window has exactly one published entry,
 * with the length, ids, txid, flags, CRC and bytes sent; nothing is published
 * at or past next_lsn; the pool's blocks are exactly the entries'; the
 * counters add up.  Then the model truncates (sometimes not, so the window
 * fills and FULL is checked), advances durable_lsn and marks tombstones and
 * some records corrupt, as klogd would.
 *
 * The counter identity (bpf/append.bpf.h, klog_process): every frame adds 1
 * to exactly one of passed, pass_foreign, drop_csum, drop_refused, drop_short,
 * drop_magic, drop_reply, appends, retransmits, queries and the nack_*
 * counters; bytes, reply_errors, wakeups and client_evictions are counted
 * beside.  So their sum is the number of frames run, and bytes the sum of
 * appended lengths.
 *
 * KLOG_FUZZ_SEED (default 0x6b6c6f67) and KLOG_FUZZ_FRAMES (default 100000,
 * over the four cases) reproduce or scale a run; the seed is printed, and
 * every failure names the seed, the case and the frame.
 */
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "pktfuzz.h"
#include "pktview.h"

uint64_t seed = 0x6b6c6f67;
static uint64_t total = 100000;

static bool is_pass(enum klog_stat_id id)
{
	return id == KLOG_STAT_passed || id == KLOG_STAT_pass_foreign;
}

static bool is_drop(enum klog_stat_id id)
{
	return id == KLOG_STAT_drop_short || id == KLOG_STAT_drop_magic ||
	       id == KLOG_STAT_drop_refused || id == KLOG_STAT_drop_reply ||
	       id == KLOG_STAT_drop_csum;
}

/* The status each answered outcome carries (doc/protocol.md), written out independently. */
static uint16_t status_of(enum klog_stat_id id)
{
	static const struct { enum klog_stat_id id; uint16_t st; } map[] = {
		{ KLOG_STAT_appends, KLOG_ST_OK }, { KLOG_STAT_retransmits, KLOG_ST_OK },
		{ KLOG_STAT_queries, KLOG_ST_OK }, { KLOG_STAT_nack_full_window, KLOG_ST_FULL },
		{ KLOG_STAT_nack_full_pool, KLOG_ST_FULL }, { KLOG_STAT_nack_badlen, KLOG_ST_BADLEN },
		{ KLOG_STAT_nack_toobig, KLOG_ST_TOOBIG }, { KLOG_STAT_nack_version, KLOG_ST_VERSION },
		{ KLOG_STAT_nack_opcode, KLOG_ST_OPCODE }, { KLOG_STAT_nack_flags, KLOG_ST_FLAGS },
		{ KLOG_STAT_nack_busy, KLOG_ST_BUSY }, { KLOG_STAT_nack_notready, KLOG_ST_NOTREADY },
		{ KLOG_STAT_nack_conflict, KLOG_ST_CONFLICT }, { KLOG_STAT_nack_stale, KLOG_ST_STALE },
		{ KLOG_STAT_nack_nolsn, KLOG_ST_NOLSN }, { KLOG_STAT_nack_badfield, KLOG_ST_BADFIELD },
		{ KLOG_STAT_nack_corrupt, KLOG_ST_CORRUPT },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].id == id)
			return map[i].st;
	return 0xffff;
}

/* ---- one frame ---- */

/* What the generator knows: the outcome (or -1: any) and, for a retransmission, its LSN. */
struct want {
	int stat;
	uint64_t lsn;
	struct client *cl; /* a valid client's APPEND: remember it if appended */
	bool durable;
};

/*
 * The opcode, flags and LSN a reply for outcome o to request rq must carry
 * (bpf/append.bpf.h, klog_answer).  A retransmission's LSN is the dedup
 * state's: the reply's (got) must be the LSN its request was appended as.
 */
static void expect_answer(struct fuzz *z, enum klog_stat_id o, const struct klog_hdr *rq,
			  uint64_t next_before, uint64_t got, uint8_t *op, uint16_t *flags,
			  uint64_t *lsn)
{
	bool durable = be16toh(rq->flags) & KLOG_F_DURABLE;

	*op = KLOG_OP_NACK, *flags = 0, *lsn = 0;
	switch (o) {
	case KLOG_STAT_appends:
		*lsn = next_before;
		break;
	case KLOG_STAT_queries:
		durable = true;
		*lsn = be64toh(rq->lsn);
		break;
	case KLOG_STAT_retransmits:
		*lsn = got;
		break;
	case KLOG_STAT_nack_corrupt:
		*lsn = rq->opcode == KLOG_OP_QUERY ? be64toh(rq->lsn) : got;
		CHECK(z, *lsn < z->next && *lsn < z->durable && is_corrupt(z, *lsn),
		      "CORRUPT for LSN %llu, not a durable record marked corrupt",
		      (unsigned long long)*lsn);
		return;
	default:
		return;
	}
	if (o == KLOG_STAT_retransmits) {
		CHECK(z, got >= KLOG_FIRST_LSN && got < z->next, "retransmission of LSN %llu",
		      (unsigned long long)got);
		if (got >= z->trunc)
			CHECK(z, rec_at(z, got)->client_id == be32toh(rq->client_id) &&
				 rec_at(z, got)->request_id == be64toh(rq->request_id),
			      "retransmission answered with another request's LSN %llu",
			      (unsigned long long)got);
	}
	*op = durable && *lsn < z->durable ? KLOG_OP_DURABLE : KLOG_OP_ACK;
	*flags = durable && *lsn >= z->durable ? KLOG_F_PENDING : 0;
}

/* A reply: the request's addresses and ports swapped, checksums holding, the answer right. */
static void check_reply(struct fuzz *z, enum klog_stat_id o, const uint8_t *in, size_t n,
			const struct run *r, uint64_t next_before, uint64_t *lsn_out)
{
	struct pkt_view vi, vo;
	struct klog_hdr rq, rp;
	size_t alen, udp_len;
	uint8_t op;
	uint16_t flags, c_in;
	uint64_t lsn;

	CHECK(z, pkt_view(in, n, &vi), "%s answered a frame that does not parse", stat_names[o]);
	CHECK(z, pkt_view(r->out, r->out_len, &vo), "the reply to %s does not parse", stat_names[o]);
	CHECK(z, vo.l3 == vi.l3 && vo.v6 == vi.v6, "reply's link or IP version differ");
	CHECK(z, !memcmp(r->out, in + 6, 6) && !memcmp(r->out + 6, in, 6), "MACs not swapped");
	alen = vi.v6 ? 16 : 4;
	{
		size_t sa = vi.v6 ? 8 : 12;

		CHECK(z, !memcmp(r->out + vo.l3 + sa, in + vi.l3 + sa + alen, alen) &&
			 !memcmp(r->out + vo.l3 + sa + alen, in + vi.l3 + sa, alen),
		      "IP addresses not swapped");
	}
	if (!vo.v6) {
		CHECK(z, vo.l3 + vo.ihl <= r->out_len &&
			 csum16(r->out + vo.l3, vo.ihl, 0) == 0xffff, "reply's IPv4 checksum");
		CHECK(z, pkt_get16(r->out + vo.l3 + 2) == r->out_len - vo.l3, "reply's IPv4 length");
	} else {
		CHECK(z, pkt_get16(r->out + vo.l3 + 4) == r->out_len - vo.l4, "reply's IPv6 length");
	}
	CHECK(z, pkt_get16(r->out + vo.l4) == pkt_get16(in + vi.l4 + 2) &&
		 pkt_get16(r->out + vo.l4 + 2) == pkt_get16(in + vi.l4), "UDP ports not swapped");
	udp_len = pkt_get16(r->out + vo.l4 + 4);
	CHECK(z, udp_len == 8 + sizeof(rp) && vo.l4 + udp_len == r->out_len,
	      "reply's UDP length %zu, frame %u", udp_len, r->out_len);
	/* A request whose UDP checksum held gets a reply whose checksum holds. */
	c_in = pkt_get16(in + vi.l4 + 6);
	if (c_in && pkt_udp_sum(in, &vi, pkt_udp_len(in, n, &vi)) == 0xffff)
		CHECK(z, pkt_udp_sum(r->out, &vo, udp_len) == 0xffff, "reply's UDP checksum");

	memcpy(&rq, in + vi.hdr, sizeof(rq));
	memcpy(&rp, r->out + vo.hdr, sizeof(rp));
	CHECK(z, rp.magic == htobe32(KLOG_MAGIC) && rp.version == KLOG_VERSION_1, "reply's magic");
	CHECK(z, rp.client_id == rq.client_id && rp.request_id == rq.request_id &&
		 rp.txid == rq.txid && rp.len == 0, "reply does not echo the request's ids");
	CHECK(z, be16toh(rp.status) == status_of(o), "%s answered status %u", stat_names[o],
	      be16toh(rp.status));
	*lsn_out = be64toh(rp.lsn);
	expect_answer(z, o, &rq, next_before, *lsn_out, &op, &flags, &lsn);
	CHECK(z, rp.opcode == op && be16toh(rp.flags) == flags && be64toh(rp.lsn) == lsn,
	      "%s answered opcode %u flags %#x lsn %llu, want %u %#x %llu", stat_names[o],
	      rp.opcode, be16toh(rp.flags), (unsigned long long)be64toh(rp.lsn), op, flags,
	      (unsigned long long)lsn);
}

/* Run frame in through a hook picked at random and check everything one frame can show. */
static void run_frame(struct fuzz *z, const uint8_t *in, size_t n, const struct want *w)
{
	static struct run r;
	struct klog_stats before = z->st;
	/*
	 * BPF_PROG_TEST_RUN refuses a TC frame of an IP ethertype cut shorter than
	 * its IP header (EINVAL): the stack never hands TC one.  XDP takes them.
	 */
	enum hook h = rnd(z, 2) || n < 14 + 40 ? HOOK_XDP : HOOK_TC;
	uint64_t next_before = z->f.k.ctl->next_lsn, reply_lsn = 0;
	int o = -1;

	z->frame_no++;
	run_prog(fixture_prog(&z->f, h), in, n, &r);
	CHECK(z, !klog_kern_stats(&z->f.k, &z->st), "reading the counters");
	for (int i = 0; i < KLOG_STAT__MAX; i++) {
		uint64_t d = ((uint64_t *)&z->st)[i] - ((uint64_t *)&before)[i];

		if (!is_outcome(i) || !d)
			continue;
		CHECK(z, d == 1 && o < 0, "counter %s moved by %llu (and %s)", stat_names[i],
		      (unsigned long long)d, o < 0 ? "none else" : stat_names[o]);
		o = i;
	}
	CHECK(z, o >= 0, "no outcome counter moved (%s verdict %u)", hook_name(h), r.retval);
	CHECK(z, z->st.reply_errors == 0, "reply_errors %llu", (unsigned long long)z->st.reply_errors);
	z->frames++;
	z->tally[o]++;
	CHECK(z, w->stat < 0 || o == w->stat, "outcome %s, predicted %s", stat_names[o],
	      stat_names[w->stat]);

	if (is_pass(o)) {
		CHECK(z, r.retval == verdict_pass(h), "%s: %s verdict %u", stat_names[o],
		      hook_name(h), r.retval);
		CHECK(z, r.out_len == n && !memcmp(r.out, in, n), "passed frame modified");
	} else if (is_drop(o)) {
		CHECK(z, r.retval == verdict_drop(h), "%s: %s verdict %u", stat_names[o],
		      hook_name(h), r.retval);
	} else {
		CHECK(z, r.retval == verdict_reply(h), "%s: %s verdict %u", stat_names[o],
		      hook_name(h), r.retval);
		check_reply(z, o, in, n, &r, next_before, &reply_lsn);
	}

	/* Only an append, or a ring tombstone, takes an LSN. */
	if (o == KLOG_STAT_appends) {
		model_append(z, in, n, 0);
	} else if (o == KLOG_STAT_drop_csum && z->f.k.ctl->next_lsn != next_before) {
		CHECK(z, z->ring && z->verify, "a tombstone in the %s pool, checksums %s",
		      z->ring ? "ring" : "hash", z->verify ? "verified" : "not verified");
		model_append(z, in, n, KLOG_AF_DAMAGED);
	}
	CHECK(z, z->f.k.ctl->next_lsn == z->next, "next_lsn %llu after %s, model %llu",
	      (unsigned long long)z->f.k.ctl->next_lsn, stat_names[o],
	      (unsigned long long)z->next);
	CHECK(z, w->stat != KLOG_STAT_retransmits || reply_lsn == w->lsn,
	      "retransmission answered LSN %llu, first appended as %llu",
	      (unsigned long long)reply_lsn, (unsigned long long)w->lsn);
	if (o == KLOG_STAT_appends && w->cl) {
		struct sent *s = &w->cl->hist[w->cl->nhist++ % HISTORY];

		s->req = w->cl->next_req - 1;
		s->lsn = next_before;
		s->durable = w->durable;
		s->n = n;
		memcpy(s->frame, in, n);
	}
}

/* ---- the generator ---- */

static void random_payload(struct fuzz *z, size_t len)
{
	fill_payload(z->payload, len, splitmix64(&z->rng));
}

static size_t random_len(struct fuzz *z)
{
	static const size_t edges[] = { 1, KLOG_BLOCK_SIZE - 1, KLOG_BLOCK_SIZE,
					KLOG_BLOCK_SIZE + 1, KLOG_MAX_RECORD };

	if (!rnd(z, 4))
		return edges[rnd(z, sizeof(edges) / sizeof(edges[0]))];
	return 1 + rnd(z, rnd(z, 2) ? 2 * KLOG_BLOCK_SIZE : KLOG_MAX_RECORD);
}

/* A valid APPEND of len random bytes from client id, request req. */
static void append_frame(struct fuzz *z, struct frame *fr, uint32_t id, uint64_t req, size_t len)
{
	static const enum ipver ips[] = { IP4, IP6, IP4_VLAN };
	uint16_t flags = 0;

	random_payload(z, len);
	frame_default(fr, ips[rnd(z, 3)], z->payload, len);
	fr->hdr.client_id = htobe32(id);
	fr->hdr.request_id = htobe64(req);
	fr->hdr.txid = htobe64(splitmix64(&z->rng));
	if (!rnd(z, 4))
		flags |= KLOG_F_DURABLE;
	if (!rnd(z, 4)) {
		flags |= KLOG_F_CRC;
		fr->hdr.lsn = htobe64((uint32_t)splitmix64(&z->rng));
	}
	fr->hdr.flags = htobe16(flags);
}

/* Where a fresh valid APPEND must end: appended, or FULL when the window is. */
static int append_outcome(const struct fuzz *z)
{
	return z->next - z->trunc >= WINDOW ? KLOG_STAT_nack_full_window : KLOG_STAT_appends;
}

static void gen_append(struct fuzz *z, uint8_t *buf)
{
	struct client *c = &z->cl[rnd(z, CLIENTS)];
	struct want w = { .stat = append_outcome(z), .cl = c };
	struct frame fr;
	size_t n;

	append_frame(z, &fr, c->id, c->next_req++, random_len(z));
	w.durable = be16toh(fr.hdr.flags) & KLOG_F_DURABLE;
	n = build_frame(&fr, buf, FRAME_CAP);
	if (!rnd(z, 16))
		n = pkt_add_ip_options(buf, n);
	/* Claimed whatever the outcome: FULL frees the slot but max_request stays. */
	c->max_req = c->next_req - 1;
	run_frame(z, buf, n, &w);
}

/* Resend an appended request, as it was or (a CONFLICT) with one byte of its payload changed. */
static void gen_retransmit(struct fuzz *z, uint8_t *buf)
{
	struct client *c = &z->cl[rnd(z, CLIENTS)];
	struct want w = { .stat = -1 };
	const struct sent *s;
	bool conflict = !rnd(z, 4);
	struct pkt_view v;

	if (!c->nhist) {
		gen_append(z, buf);
		return;
	}
	s = &c->hist[(c->nhist - 1 - rnd(z, c->nhist < HISTORY ? c->nhist : HISTORY)) % HISTORY];
	memcpy(buf, s->frame, s->n);
	if (conflict) {
		size_t at;

		ck_assert(pkt_view(buf, s->n, &v));
		at = v.hdr + sizeof(struct klog_hdr);
		at += rnd(z, s->n - at);
		buf[at] ^= 1 + rnd(z, 255);
		pkt_fix_csums(buf, s->n);
	}
	if (c->max_req - s->req >= KLOG_DEDUP_WINDOW) {
		w.stat = KLOG_STAT_nack_stale;
	} else if (conflict) {
		w.stat = KLOG_STAT_nack_conflict;
	} else {
		bool corrupt = s->durable && s->lsn < z->durable && is_corrupt(z, s->lsn);

		w.stat = corrupt ? KLOG_STAT_nack_corrupt : KLOG_STAT_retransmits;
		w.cl = c;
		w.lsn = s->lsn;
	}
	run_frame(z, buf, s->n, &w);
}

static void gen_query(struct fuzz *z, uint8_t *buf)
{
	static const enum ipver ips[] = { IP4, IP6, IP4_VLAN };
	struct want w;
	struct frame fr;
	uint64_t lsn;

	switch (rnd(z, 8)) {
	case 0:
		lsn = rnd(z, 2) ? 0 : splitmix64(&z->rng);
		break;
	case 1:
		lsn = z->next + rnd(z, 3);
		break;
	default:
		lsn = KLOG_FIRST_LSN + rnd(z, z->next - KLOG_FIRST_LSN + 1);
	}
	frame_default(&fr, ips[rnd(z, 3)], NULL, 0);
	fr.hdr.opcode = KLOG_OP_QUERY;
	fr.hdr.client_id = htobe32(z->cl[rnd(z, CLIENTS)].id);
	fr.hdr.request_id = htobe64(splitmix64(&z->rng));
	fr.hdr.lsn = htobe64(lsn);
	if (lsn < KLOG_FIRST_LSN || lsn >= z->next)
		w.stat = KLOG_STAT_nack_nolsn;
	else if (lsn < z->durable && is_corrupt(z, lsn))
		w.stat = KLOG_STAT_nack_corrupt;
	else
		w.stat = KLOG_STAT_queries;
	w.cl = NULL;
	run_frame(z, buf, build_frame(&fr, buf, FRAME_CAP), &w);
}

/* A frame of client id, valid before it is mutated: APPEND, QUERY, READ or INFO. */
static void mut_base(struct fuzz *z, struct frame *fr, uint32_t id)
{
	append_frame(z, fr, id, ++z->mut_req, random_len(z));
	switch (rnd(z, 6)) {
	case 0:
		fr->hdr.opcode = KLOG_OP_QUERY;
		fr->hdr.flags = 0;
		fr->hdr.lsn = htobe64(z->trunc + rnd(z, z->next - z->trunc + 2));
		fr->hdr.len = 0;
		fr->payload_len = 0;
		break;
	case 1:
		fr->hdr.opcode = rnd(z, 2) ? KLOG_OP_READ : KLOG_OP_INFO;
		fr->hdr.flags = 0;
		fr->hdr.lsn = htobe64(rnd(z, z->next + 1));
		fr->hdr.len = 0;
		fr->payload_len = 0;
		break;
	}
}

/* Targeted mutations: one field wrong, the outcome known. */
enum tgt {
	T_PORT, T_TCP, T_ARP, T_FRAG, T_EXT6, T_FOREIGN, T_REFUSED, T_IPCSUM, T_UDPCSUM,
	T_NOCSUM, T_SHORT, T_UDPLONG, T_MAGIC, T_SPORT, T_REPLYOP, T_STATUS, T_VERSION,
	T_OPCODE, T_FLAGS, T_QFLAGS, T_LSN, T_CRCHIGH, T_LENZERO, T_LENLIE, T_TOOBIG, T_READ,
	T__N
};

/* Make fr an APPEND of random bytes again, keeping its ids. */
static void as_append(struct fuzz *z, struct frame *fr)
{
	size_t len;

	if (fr->hdr.opcode == KLOG_OP_APPEND)
		return;
	len = random_len(z);
	random_payload(z, len);
	fr->hdr.opcode = KLOG_OP_APPEND;
	fr->hdr.flags = 0;
	fr->hdr.lsn = 0;
	fr->hdr.len = htobe16(len);
	fr->payload = z->payload;
	fr->payload_len = len;
}

/* Make fr an IPv4 frame between the client's and the server's addresses. */
static void as_ipv4(struct frame *fr)
{
	if (fr->ip != IP6)
		return;
	fr->ip = IP4;
	memset(&fr->saddr, 0, sizeof(fr->saddr));
	memset(&fr->daddr, 0, sizeof(fr->daddr));
	inet_pton(AF_INET, "10.77.0.1", &fr->saddr);
	inet_pton(AF_INET, "10.77.0.2", &fr->daddr);
}

/* Damage fr as t says; the outcome the programs must choose, or -1 if it depends. */
static int gen_targeted_frame(struct fuzz *z, struct frame *fr, enum tgt t)
{
	static const uint8_t reply_ops[] = { KLOG_OP_ACK, KLOG_OP_NACK, KLOG_OP_DURABLE,
					     KLOG_OP_RECORD, KLOG_OP_INFO_REPLY };
	bool v6 = fr->ip == IP6;

	switch (t) {
	case T_PORT: fr->dport = KLOG_DEFAULT_PORT + 1 + rnd(z, 100); return KLOG_STAT_passed;
	case T_TCP: fr->l4proto = IPPROTO_TCP; return KLOG_STAT_passed;
	case T_ARP: fr->ethertype = 0x0806; return KLOG_STAT_passed;
	case T_FRAG:
		as_ipv4(fr);
		fr->frag_off = rnd(z, 2) ? 0x2000 : 1 + rnd(z, 0x1fff);
		return KLOG_STAT_passed;
	case T_EXT6: fr->ip = IP6; fr->l4proto = 60; return KLOG_STAT_passed;
	case T_FOREIGN: /* the next address up is not the server's */
		fr->daddr.s6_addr[v6 ? 15 : 3]++;
		return KLOG_STAT_pass_foreign;
	case T_REFUSED: /* outside 10.77.0.0/24 and fd00::/64 */
		fr->saddr.s6_addr[v6 ? 7 : 1]++;
		return KLOG_STAT_drop_refused;
	case T_IPCSUM:
		as_ipv4(fr);
		fr->ip_csum_xor = 1 + rnd(z, 0xffff);
		return KLOG_STAT_drop_csum;
	case T_UDPCSUM:
	case T_NOCSUM:
		if (t == T_UDPCSUM)
			fr->udp_csum_xor = 1 + rnd(z, 0xffff);
		else
			fr->no_udp_csum = true;
		/* READ and INFO are klogd's; IPv4 may omit the checksum, IPv6 may not. */
		if (fr->hdr.opcode == KLOG_OP_READ || fr->hdr.opcode == KLOG_OP_INFO)
			return KLOG_STAT_passed;
		if (!z->verify || (t == T_NOCSUM && !v6))
			return fr->hdr.opcode == KLOG_OP_APPEND ? append_outcome(z) : -1;
		/* The window's pre-check comes before the checksum. */
		return fr->hdr.opcode == KLOG_OP_APPEND && z->next - z->trunc >= WINDOW
			       ? KLOG_STAT_nack_full_window : KLOG_STAT_drop_csum;
	case T_SHORT: fr->no_klog_hdr = true; fr->payload_len = rnd(z, 40); return KLOG_STAT_drop_short;
	case T_UDPLONG: fr->udp_len_delta = 1 + rnd(z, 200); return KLOG_STAT_drop_short;
	case T_MAGIC: fr->hdr.magic ^= htobe32(1u << rnd(z, 32)); return KLOG_STAT_drop_magic;
	case T_SPORT: fr->sport = KLOG_DEFAULT_PORT; return KLOG_STAT_drop_reply;
	case T_REPLYOP: fr->hdr.opcode = reply_ops[rnd(z, 5)]; return KLOG_STAT_drop_reply;
	case T_STATUS: fr->hdr.status = htobe16(1 + rnd(z, 0xfffe)); return KLOG_STAT_drop_reply;
	case T_VERSION: fr->hdr.version = 2 + rnd(z, 254); return KLOG_STAT_nack_version;
	case T_OPCODE:
		fr->hdr.opcode = rnd(z, 2) ? 0 : 10 + rnd(z, 246);
		return KLOG_STAT_nack_opcode;
	case T_FLAGS:
		fr->hdr.opcode = KLOG_OP_APPEND;
		fr->hdr.flags |= htobe16(1u << (4 + rnd(z, 12)));
		return KLOG_STAT_nack_flags;
	case T_QFLAGS:
		fr->hdr.opcode = KLOG_OP_QUERY;
		fr->hdr.flags = htobe16(1u << rnd(z, 16));
		fr->payload_len = 0;
		fr->hdr.len = 0;
		return KLOG_STAT_nack_flags;
	case T_LSN:
		fr->hdr.opcode = KLOG_OP_APPEND;
		fr->hdr.flags &= ~htobe16(KLOG_F_CRC);
		fr->hdr.lsn = htobe64(1 + rnd(z, ~0ull - 1));
		return KLOG_STAT_nack_badfield;
	case T_CRCHIGH:
		fr->hdr.opcode = KLOG_OP_APPEND;
		fr->hdr.flags |= htobe16(KLOG_F_CRC);
		fr->hdr.lsn = htobe64((1 + rnd(z, 0xffffffff)) << 32 | (uint32_t)splitmix64(&z->rng));
		return KLOG_STAT_nack_badfield;
	case T_LENZERO:
		as_append(z, fr);
		fr->hdr.len = 0;
		fr->payload_len = 0;
		return KLOG_STAT_nack_badlen;
	case T_LENLIE:
		if (fr->hdr.opcode == KLOG_OP_APPEND) {
			uint16_t len = be16toh(fr->hdr.len) + (rnd(z, 2) ? 1 : -1);

			fr->hdr.len = htobe16(len);
			return len > KLOG_MAX_RECORD ? KLOG_STAT_nack_toobig : KLOG_STAT_nack_badlen;
		}
		fr->payload_len = 1 + rnd(z, 100); /* a QUERY, READ or INFO with a body */
		/* READ and INFO are klogd's to judge */
		return fr->hdr.opcode == KLOG_OP_QUERY ? KLOG_STAT_nack_badlen : KLOG_STAT_passed;
	case T_TOOBIG:
		as_append(z, fr);
		fr->payload_len = KLOG_MAX_RECORD + 1 + rnd(z, 16);
		fr->hdr.len = htobe16(fr->payload_len);
		random_payload(z, fr->payload_len);
		return KLOG_STAT_nack_toobig;
	case T_READ: fr->hdr.opcode = KLOG_OP_READ; fr->hdr.flags = 0; return KLOG_STAT_passed;
	default: return -1;
	}
}

static void gen_targeted(struct fuzz *z, uint8_t *buf)
{
	struct frame fr;
	struct want w = { .stat = -1 };
	enum tgt t = rnd(z, T__N);
	struct pkt_view v;
	size_t n;

	mut_base(z, &fr, TGT_CLIENT(z));
	w.stat = gen_targeted_frame(z, &fr, t);
	n = build_frame(&fr, buf, FRAME_CAP);
	/* A damaged IPv4 checksum that came out 0 says "none": damage it another way. */
	while (t == T_UDPCSUM && fr.ip != IP6 && pkt_view(buf, n, &v) && !pkt_get16(buf + v.l4 + 6)) {
		fr.udp_csum_xor ^= 0x0100;
		n = build_frame(&fr, buf, FRAME_CAP);
	}
	run_frame(z, buf, n, &w);
}

/* Random damage: bit flips (checksums fixed after or not), cuts, UDP length lies, noise. */
static void gen_random(struct fuzz *z, uint8_t *buf)
{
	struct want w = { .stat = -1 };
	struct frame fr;
	struct pkt_view v;
	bool fix;
	size_t n;

	mut_base(z, &fr, MUT_CLIENT(z));
	n = build_frame(&fr, buf, FRAME_CAP);
	fix = false;
	switch (rnd(z, 6)) {
	case 0: /* a few bits anywhere */
	case 1:
		for (uint64_t i = 0, k = 1 + rnd(z, 8); i < k; i++)
			buf[rnd(z, n)] ^= 1u << rnd(z, 8);
		break;
	case 2: /* a few bits in the headers, checksums made to hold again */
	case 3:
		for (uint64_t i = 0, k = 1 + rnd(z, 4); i < k; i++)
			buf[rnd(z, n < 110 ? n : 110)] ^= 1u << rnd(z, 8);
		fix = true;
		break;
	case 4: /* cut short, or a UDP length that lies */
		if (rnd(z, 2) || !pkt_view(buf, n, &v)) {
			n = 14 + rnd(z, n - 14);
		} else {
			size_t l = rnd(z, 2) ? rnd(z, 0x10000) : pkt_udp_len(buf, n, &v) + rnd(z, 9) - 4;

			buf[v.l4 + 4] = (l >> 8) & 0xff, buf[v.l4 + 5] = l & 0xff;
		}
		fix = rnd(z, 2);
		break;
	default: /* noise after valid headers, or from the start */
		n = 14 + rnd(z, 1500);
		if (rnd(z, 2) && pkt_view(buf, n, &v)) {
			for (size_t i = v.hdr; i < n; i++)
				buf[i] = (uint8_t)splitmix64(&z->rng);
			fix = true;
		} else {
			for (size_t i = 12; i < n; i++)
				buf[i] = (uint8_t)splitmix64(&z->rng);
			if (rnd(z, 2))
				buf[12] = 0x08, buf[13] = rnd(z, 2) ? 0x00 : 0xdd;
		}
	}
	/* Whatever the damage, the client is one of the few of random frames. */
	if (pkt_view(buf, n, &v)) {
		uint32_t id = htobe32(MUT_CLIENT(z));

		memcpy(buf + v.hdr + offsetof(struct klog_hdr, client_id), &id, sizeof(id));
	}
	if (fix)
		pkt_fix_csums(buf, n);
	run_frame(z, buf, n, &w);
}

static void gen_one(struct fuzz *z)
{
	static uint8_t buf[FRAME_CAP];
	uint64_t k = rnd(z, 100);

	if (k < 35)
		gen_append(z, buf);
	else if (k < 42)
		gen_retransmit(z, buf);
	else if (k < 50)
		gen_query(z, buf);
	else if (k < 70)
		gen_targeted(z, buf);
	else
		gen_random(z, buf);
}

/* fuzz: _i = pool * 2 + verify. */
START_TEST(fuzz)
{
	static struct fuzz z;
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	uint64_t frames = total / N_CASES;

	memset(&z, 0, sizeof(z));
	z.cas = _i;
	z.ring = _i / 2 == 0;
	z.verify = _i % 2;
	z.rng = seed ^ mix64(_i);
	o.window = WINDOW;
	o.pool_blocks = (uint64_t)WINDOW * KLOG_MAX_BLOCKS; /* never FULL before the window */
	o.pool = z.ring ? KERBY_POOL_RING : KERBY_POOL_HASH;
	o.clients = 64;
	o.verify_udp = z.verify;
	fixture_load(&z.f, &o, true);
	restrict_sources(&z);
	z.corrupt = calloc(frames / 8 + KLOG_FIRST_LSN + 2, 1);
	ck_assert_ptr_nonnull(z.corrupt);
	z.next = z.trunc = z.durable = KLOG_FIRST_LSN;
	for (int c = 0; c < CLIENTS; c++)
		z.cl[c] = (struct client){ .id = 0x10 + c, .next_req = 1 };
	ck_assert_int_eq(klog_kern_stats(&z.f.k, &z.st), 0);

	while (z.frames < frames) {
		for (int i = 0; i < BATCH && z.frames < frames; i++)
			gen_one(&z);
		check_entries(&z);
		check_counters(&z);
		drain(&z);
	}
	/*
	 * Every outcome was reached but BUSY (no race here), NOTREADY (the log
	 * is initialised) and a full pool (sized so the window fills first).
	 */
	for (int i = 0; i < KLOG_STAT__MAX && frames >= 20000; i++)
		CHECK(&z, !is_outcome(i) || i == KLOG_STAT_nack_busy ||
			  i == KLOG_STAT_nack_notready || i == KLOG_STAT_nack_full_pool ||
			  z.tally[i] > 0, "no frame ended as %s", stat_names[i]);
	fprintf(stderr, "# pktfuzz case %d (%s pool, UDP checksums %s): %llu frames, %llu LSNs\n",
		_i, z.ring ? "ring" : "hash", z.verify ? "verified" : "not verified",
		(unsigned long long)z.frames, (unsigned long long)(z.next - KLOG_FIRST_LSN));
	for (int i = 0; i < KLOG_STAT__MAX; i++)
		if (z.tally[i])
			fprintf(stderr, "#   %-17s %llu\n", stat_names[i],
				(unsigned long long)z.tally[i]);
	free(z.corrupt);
	fixture_destroy(&z.f);
}
END_TEST

int main(void)
{
	const char *s = getenv("KLOG_FUZZ_SEED"), *n = getenv("KLOG_FUZZ_FRAMES");
	Suite *su = suite_create("pktfuzz");
	TCase *tc = tcase_create("pktfuzz");

	if (s)
		seed = strtoull(s, NULL, 0);
	if (n)
		total = strtoull(n, NULL, 0);
	fprintf(stderr, "# pktfuzz: KLOG_FUZZ_SEED=%#llx KLOG_FUZZ_FRAMES=%llu\n",
		(unsigned long long)seed, (unsigned long long)total);
	/* A million frames take minutes; the timeout follows the count. */
	tcase_set_timeout(tc, 60 + (double)total / N_CASES / 1000);
	tcase_add_loop_test(tc, fuzz, 0, N_CASES);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
