// SPDX-License-Identifier: GPL-2.0-only
/* pktfuzz_model.c - the packet fuzzer's model of the log and its checks of the maps (pktfuzz.h). */
#include <endian.h>
#include <string.h>

#include <bpf/bpf.h>

#include "pktfuzz.h"
#include "pktview.h"

char msgbuf[512];

const char *const stat_names[] = {
#define KLOG_STAT_NAME(name) #name,
	KLOG_STATS(KLOG_STAT_NAME)
#undef KLOG_STAT_NAME
};

uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Record the entry the programs must have published for the request in frame p. */
void model_append(struct fuzz *z, const uint8_t *p, size_t n, uint16_t damaged)
{
	struct klog_hdr h;
	struct pkt_view v;
	struct mrec *m = rec_at(z, z->next);

	CHECK(z, pkt_view(p, n, &v), "an appended frame does not parse");
	memcpy(&h, p + v.hdr, sizeof(h));
	*m = (struct mrec){
		.lsn = z->next, .txid = be64toh(h.txid), .request_id = be64toh(h.request_id),
		.client_id = be32toh(h.client_id), .len = be16toh(h.len),
	};
	CHECK(z, v.hdr + sizeof(h) + m->len <= n, "appended %u bytes beyond the frame", m->len);
	m->hash = hash_bytes(p + v.hdr + sizeof(h), m->len);
	if (be16toh(h.flags) & KLOG_F_CRC) {
		m->flags = KLOG_AF_CRC;
		m->crc = (uint32_t)be64toh(h.lsn);
	}
	m->flags |= damaged;
	z->next++;
	if (!damaged)
		z->bytes += m->len;
}

void check_entries(struct fuzz *z)
{
	struct klog_kern *k = &z->f.k;
	static uint8_t vals[64 * 64 * 8], buf[KLOG_MAX_RECORD];
	uint64_t blocks = 0, end = 0, used, next_block;
	struct klog_kern_rec rec;

	ck_assert_uint_le(k->ncpus * k->entry_stride, sizeof(vals));
	CHECK(z, k->ctl->next_lsn == z->next && k->ctl->truncated_lsn == z->trunc,
	      "ctl next %llu truncated %llu, model %llu %llu",
	      (unsigned long long)k->ctl->next_lsn, (unsigned long long)k->ctl->truncated_lsn,
	      (unsigned long long)z->next, (unsigned long long)z->trunc);
	for (uint64_t lsn = z->trunc; lsn < z->trunc + WINDOW; lsn++) {
		uint32_t slot = lsn % WINDOW, nb;
		const struct klog_alloc_entry *hit = NULL;
		const struct mrec *m = rec_at(z, lsn);
		int copies = 0;

		CHECK(z, !bpf_map_lookup_elem(k->alloc_fd, &slot, vals), "alloc slot %u", slot);
		for (int c = 0; c < k->ncpus; c++) {
			const struct klog_alloc_entry *e = (const void *)(vals + c * k->entry_stride);

			CHECK(z, e->lsn < z->next, "slot %u holds LSN %llu, next_lsn %llu", slot,
			      (unsigned long long)e->lsn, (unsigned long long)z->next);
			if (e->lsn == lsn)
				copies++, hit = e;
		}
		if (lsn >= z->next)
			continue;
		CHECK(z, copies == 1, "LSN %llu published %d times", (unsigned long long)lsn, copies);
		CHECK(z, m->lsn == lsn && hit->lsn_tail == klog_lsn_tail(lsn) && hit->len == m->len &&
			 hit->txid == m->txid && hit->request_id == m->request_id &&
			 hit->client_id == m->client_id && hit->flags == m->flags &&
			 hit->crc == m->crc,
		      "LSN %llu: entry len %u txid %#llx flags %#x crc %#x, sent len %u txid %#llx "
		      "flags %#x crc %#x", (unsigned long long)lsn, hit->len,
		      (unsigned long long)hit->txid, hit->flags, hit->crc, m->len,
		      (unsigned long long)m->txid, m->flags, m->crc);
		nb = KLOG_DIV_ROUND_UP(m->len, KLOG_BLOCK_SIZE);
		blocks += nb;
		if (z->ring) {
			/* Ring blocks follow LSN order from the watermark, no gap, no overlap. */
			CHECK(z, hit->first_block == (lsn == z->trunc ? k->ctl->pool_watermark : end),
			      "LSN %llu's blocks start at %llu, not where the last ended (%llu)",
			      (unsigned long long)lsn, (unsigned long long)hit->first_block,
			      (unsigned long long)end);
			end = hit->first_block + nb;
		} else {
			for (uint32_t b = 0; b < nb; b++) {
				uint64_t idx = hit->first_block + b;
				struct kerby_block blk;

				CHECK(z, !bpf_map_lookup_elem(k->pool_fd, &idx, &blk),
				      "LSN %llu's block %llu missing", (unsigned long long)lsn,
				      (unsigned long long)idx);
			}
		}
		if (m->flags & KLOG_AF_DAMAGED)
			continue;
		CHECK(z, klog_kern_read(k, lsn, &rec, buf, sizeof(buf)) == (int)m->len &&
			 hash_bytes(buf, m->len) == m->hash,
		      "LSN %llu's bytes are not those sent", (unsigned long long)lsn);
	}
	CHECK(z, !klog_kern_pool_used(k, &used) && used == blocks,
	      "pool holds %llu blocks, the entries %llu", (unsigned long long)used,
	      (unsigned long long)blocks);
	if (z->ring) {
		CHECK(z, !klog_kern_next_block(k, &next_block), "next block");
		CHECK(z, next_block == (z->next > z->trunc ? end : k->ctl->pool_watermark),
		      "ring's next block %llu, the last entry ends at %llu",
		      (unsigned long long)next_block, (unsigned long long)end);
	}
}

void check_counters(struct fuzz *z)
{
	uint64_t sum = 0;

	for (int i = 0; i < KLOG_STAT__MAX; i++)
		if (is_outcome(i))
			sum += ((uint64_t *)&z->st)[i];
	CHECK(z, sum == z->frames, "outcome counters sum to %llu, %llu frames run",
	      (unsigned long long)sum, (unsigned long long)z->frames);
	CHECK(z, z->st.bytes == z->bytes, "bytes %llu, appended %llu",
	      (unsigned long long)z->st.bytes, (unsigned long long)z->bytes);
	CHECK(z, z->st.appends == z->tally[KLOG_STAT_appends], "appends");
}

/* As klogd would: records durable up to some LSN (tombstones and a few others corrupt), then freed. */
void drain(struct fuzz *z)
{
	struct klog_kern *k = &z->f.k;
	uint64_t upto, durable;
	uint32_t one = 1;

	/*
	 * Random damage gives the clients of random frames any request id (a
	 * flipped high bit makes every later one STALE): forget them, as klogd
	 * expires silent clients.
	 */
	for (uint32_t id = MUT_CLIENT_BASE; id < MUT_CLIENT_BASE + MUT_CLIENTS; id++)
		bpf_map_delete_elem(k->clients_fd, &id);
	/* Two batches in ten, and now and then, let the window fill: FULL is predicted. */
	if (++z->batches % 10 == 3 || z->batches % 10 == 4 || !rnd(z, 16))
		return;
	/* Keep a few of the newest records: the window is never drained empty for long. */
	upto = z->next - rnd(z, (z->next - z->trunc < 64 ? z->next - z->trunc : 64) + 1);
	durable = upto + rnd(z, z->next - upto + 1);
	for (uint64_t lsn = z->durable; lsn < durable; lsn++) {
		if (z->ncorrupt >= MAX_CORRUPT ||
		    (!(rec_at(z, lsn)->flags & KLOG_AF_DAMAGED) && rnd(z, 64)))
			continue;
		CHECK(z, !bpf_map_update_elem(k->corrupt_fd, &lsn, &one, BPF_ANY), "klog_corrupt");
		z->corrupt[lsn / 8] |= 1u << (lsn % 8);
		z->ncorrupt++;
		k->ctl->corrupt_records = z->ncorrupt;
	}
	if (durable > z->durable)
		__atomic_store_n(&k->ctl->durable_lsn, z->durable = durable, __ATOMIC_RELEASE);
	CHECK(z, !klog_kern_truncate(k, upto), "truncate to %llu", (unsigned long long)upto);
	z->trunc = upto;
}

/* The harness allowed every source; here only 10.77.0.0/24 and fd00::/64 may send. */
void restrict_sources(struct fuzz *z)
{
	struct klog_allow_key all = { .prefixlen = 0 }, k4 = { .prefixlen = 96 + 24 },
			      k6 = { .prefixlen = 64 };
	uint8_t a4[4] = { 10, 77, 0, 0 }, a6[16] = { 0xfd };

	ck_assert_int_eq(bpf_map_delete_elem(z->f.k.allow_fd, &all), 0);
	klog_addr_v4(&k4.addr, a4);
	klog_addr_v6(&k6.addr, a6);
	ck_assert_int_eq(klog_kern_allow_add(&z->f.k, &k4), 0);
	ck_assert_int_eq(klog_kern_allow_add(&z->f.k, &k6), 0);
}

