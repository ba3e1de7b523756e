// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the drain loop (klogd/drain.h) between the real programs and
 * the segment writer on ext4 (O_DIRECT, /var/tmp).  The kernel log is filled
 * through BPF_PROG_TEST_RUN, then drained in batches of 64:
 *  - healthy: every record on disk byte for byte (reader and a scan of the
 *    files), durable_lsn and truncated_lsn advanced, pool and window empty;
 *  - faults from the fault-injecting backend (EIO on a submit, ENOSPC on a
 *    datasync, EIO on every submit from the nth, EIO on the sync of a new
 *    segment's header): the drain returns the error, nothing moves that was
 *    not durable, the kernel keeps every record not on disk; a writer
 *    reopened on a healthy backend, reconciled and drained, puts every record
 *    on disk exactly once, LSNs contiguous;
 *  - short writes on several submits: the drain succeeds, every byte right;
 *  - reconcile refuses a disk behind the kernel's truncation or ahead of it;
 *  - tombstones: a record whose bytes fail the CRC-32C its request carried,
 *    and (ring pool) one whose UDP checksum failed after its LSN was taken,
 *    are stored as tombstones, put in klog_corrupt and counted, and a QUERY
 *    of their LSN is answered NACK CORRUPT by the programs.
 * Where a fault goes (the nth submit or sync) depends on the record sizes
 * (KLOG_MAX_RECORD), the buffer and the segment size: it is found by a dry
 * run of the same records (struct profile), never counted by hand.
 * With uring, a batch's write and datasync are in flight while the next is
 * staged; the fault wrapper makes its writes at once and, with lag, reports
 * each as not done at the first look, so that the faults reach the drain
 * from a batch in flight too.  drain_all checks that nothing is published
 * before it is durable and that at most one batch is in flight.
 * Loop tests: _i % 2 backend (psync, uring), _i / 2 % 2 pool (ring, hash),
 * _i / 4 % 2 fault wrapper lag (off, on), _i / 8 the buffer where a case
 * says so.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <klog/klog.h>

#include "backend.h"
#include "check_run.h"
#include "drain.h"
#include "format.h"
#include "harness.h"
#include "scratch.h"
#include "segfiles.h"
#include "writer.h"

#define MAXR KLOG_MAX_RECORD
#define N 500               /* records per case */
#define BATCH 64
#define BATCHES ((N + BATCH - 1) / BATCH)
#define SEG_SIZE (256u << 10) /* N records take two segments or more */
#define BIG_BUF (1u << 20)    /* a batch fits in each half */
#define MAX_SEGS 64
#define BLK 4096u

/*
 * Buffers a batch does not fit, so it is written in pieces before its
 * commit: the smallest the writer takes (two largest records and a block,
 * writer.h), kept as one region, so each piece is waited for; and twice
 * that, split in two, so a piece is written while the next is staged.
 */
enum small_buf { SMALL_ONE, SMALL_TWO };

static size_t small_buf(enum small_buf kind)
{
	size_t min = 2 * ((klog_rec_size(MAXR) + BLK - 1) & ~(size_t)(BLK - 1)) + BLK;

	return kind == SMALL_TWO ? 2 * min : min;
}

static const struct klog_backend_ops *const backends[] = {
	&klog_backend_psync,
	&klog_backend_uring,
};
static const enum kerby_pool_kind pools[] = { KERBY_POOL_RING, KERBY_POOL_HASH };

/* ------------------------------------------------------------------ */
/* Records: each LSN's txid, length and bytes follow from the LSN      */

static uint64_t txid_of(uint64_t lsn)
{
	return 0x7100000000000000ull | lsn * 3;
}

static uint32_t len_of(uint64_t lsn)
{
	uint64_t h = mix64(lsn);

	return h % 7 == 0 ? MAXR : 1 + (uint32_t)((h >> 8) % MAXR);
}

/* ------------------------------------------------------------------ */
/* A kernel log, a directory and a writer                               */

struct env {
	struct fixture f;
	int prog;
	uint64_t n; /* LSNs 1..n were appended */
	uint64_t bytes;
	char dir[PATH_MAX];
	const struct klog_backend_ops *ops;
	bool lag; /* of the fault wrapper */
	struct klog_backend *b;
	struct klog_writer *w;
	struct klog_writer_recovery rec;
	struct klogd_drain d;
};

static void env_load_udp(struct env *e, int i, bool verify_udp)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	static unsigned int seq;

	memset(e, 0, sizeof(*e));
	o.verify_udp = verify_udp;
	o.pool = pools[i / 2 % 2];
	o.window = 1024;
	o.pool_blocks = (uint64_t)N * KLOG_MAX_BLOCKS + 64;
	fixture_load(&e->f, &o, true);
	e->prog = fixture_prog(&e->f, HOOK_XDP);
	e->ops = backends[i % 2];
	e->lag = i / 4 % 2;
	ck_assert_int_lt(snprintf(e->dir, sizeof(e->dir), "%s/log-%d-%u", scratch_dir(),
				  (int)getpid(), seq++), (int)sizeof(e->dir));
}

static void env_load(struct env *e, int i)
{
	env_load_udp(e, i, false);
}

/* Append count records through the XDP program; each is ACKed with the next LSN. */
static void append_kernel(struct env *e, unsigned int count)
{
	static uint8_t in[MAXR + 128], payload[MAXR];
	static struct run r;

	for (unsigned int k = 0; k < count; k++) {
		uint64_t lsn = e->n + 1;
		uint32_t len = len_of(lsn);
		struct frame fr;
		struct klog_msg m;
		size_t n;

		fill_payload(payload, len, txid_of(lsn));
		frame_default(&fr, IP4, payload, len);
		fr.hdr.txid = htobe64(txid_of(lsn));
		n = build_frame(&fr, in, sizeof(in));
		run_prog(e->prog, in, n, &r);
		ck_assert_uint_eq(r.retval, verdict_reply(HOOK_XDP));
		ck_assert_int_eq(klog_decode(r.out + 42, r.out_len - 42, &m), 0);
		ck_assert_msg(m.opcode == KLOG_OP_ACK, "append %llu: %s", (unsigned long long)lsn,
			      klog_status_str(m.status));
		ck_assert_uint_eq(m.lsn, lsn);
		e->n = lsn;
		e->bytes += len;
	}
	ck_assert_uint_eq(e->f.k.ctl->next_lsn, e->n + 1);
}

/* A writer on e->dir through ops (wrapped by the fault rules, if any). */
static void open_writer(struct env *e, const struct klog_fault_rule *rules, unsigned int nrules,
			size_t buf_size)
{
	struct klog_backend_opts bo = { .queue_depth = 8, .buf_size = buf_size };
	struct klog_writer_opts wo = { .dir = e->dir, .seg_size = SEG_SIZE, .max_record = MAXR,
				       .first_lsn = KLOG_FIRST_LSN };
	struct klog_backend *in = NULL;
	int err;

	ck_assert_int_eq(e->ops->open(&in, &bo), 0);
	e->b = in;
	if (rules) {
		ck_assert_int_eq(klog_backend_fault_open(&e->b, in, rules, nrules), 0);
		klog_backend_fault_set_lag(e->b, e->lag);
	}
	err = klog_writer_open(&e->w, &wo, e->b, &e->rec);
	ck_assert_msg(!err, "klog_writer_open: %s", strerror(-err));
	e->d = (struct klogd_drain){ .k = &e->f.k, .s = klog_writer_store(e->w),
				     .batch = BATCH };
}

static void close_writer(struct env *e)
{
	klog_writer_close(e->w);
	e->b->ops->close(e->b);
	e->w = NULL;
	e->b = NULL;
}

/* ------------------------------------------------------------------ */
/* Checks                                                               */

/* A read of lsn from where ("kernel", "disk"), n bytes into got with txid: the record appended. */
static void check_record(const char *where, uint64_t lsn, int n, const uint8_t *got,
			 uint64_t txid)
{
	static uint8_t want[MAXR];

	ck_assert_msg(n == (int)len_of(lsn), "%s lsn %llu: %d (%s)", where,
		      (unsigned long long)lsn, n, n < 0 ? strerror(-n) : "");
	fill_payload(want, n, txid_of(lsn));
	ck_assert_msg(!memcmp(got, want, n), "%s lsn %llu: bytes differ", where,
		      (unsigned long long)lsn);
	ck_assert_uint_eq(txid, txid_of(lsn));
}

/* LSNs [from, to) still in the kernel maps, byte for byte. */
static void check_kernel(struct env *e, uint64_t from, uint64_t to)
{
	static uint8_t got[MAXR];
	struct klog_kern_rec rec;

	for (uint64_t lsn = from; lsn < to; lsn++) {
		int n = klog_kern_read(&e->f.k, lsn, &rec, got, sizeof(got));

		check_record("kernel", lsn, n, got, rec.txid);
	}
}

/* The reader returns exactly [1, to), then -EAGAIN at to. */
static void check_read(const char *dir, uint64_t to)
{
	static uint8_t got[MAXR];
	struct klog_reader *r;
	struct klog_record rec;
	uint64_t first = 0, last = 0;

	ck_assert_int_eq(klog_reader_open(&r, dir), 0);
	if (to > 1) {
		ck_assert_int_eq(klog_reader_bounds(r, &first, &last), 0);
		ck_assert_uint_eq(first, 1);
		ck_assert_uint_eq(last, to - 1);
	} else {
		ck_assert_int_eq(klog_reader_bounds(r, &first, &last), -ENODATA);
	}
	for (uint64_t lsn = 1; lsn < to; lsn++) {
		int n = klog_read(r, lsn, got, sizeof(got), &rec);

		check_record("disk", lsn, n, got, rec.txid);
		ck_assert_uint_eq(rec.lsn, lsn);
	}
	ck_assert_int_eq(klog_read(r, to, got, sizeof(got), NULL), -EAGAIN);
	klog_reader_close(r);
}

/* What LSN lsn must hold on disk. */
static void expected(uint64_t lsn, uint64_t *txid, uint32_t *len)
{
	*txid = txid_of(lsn);
	*len = len_of(lsn);
}

/* The files hold LSNs [1, to) exactly once, as the format says (check_seg_files()). */
static void check_files(const char *dir, uint64_t to)
{
	ck_assert_uint_eq(check_seg_files(dir, 1, expected), to);
}

/* Everything appended is durable, and the kernel holds nothing any more. */
static void check_drained(struct env *e)
{
	static uint8_t buf[MAXR];
	struct klog_ctl *ctl = e->f.k.ctl;
	uint64_t used = 1;

	ck_assert_uint_eq(klog_writer_next(e->w), e->n + 1);
	ck_assert_uint_eq(klog_writer_durable(e->w), e->n + 1);
	ck_assert_uint_eq(ctl->next_lsn, e->n + 1);
	ck_assert_uint_eq(ctl->durable_lsn, e->n + 1);
	ck_assert_uint_eq(ctl->truncated_lsn, e->n + 1);
	ck_assert_int_eq(klog_kern_pool_used(&e->f.k, &used), 0);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(klog_kern_read(&e->f.k, e->n, NULL, buf, sizeof(buf)), -ENOENT);
}

/*
 * Drain until every appended LSN is durable.  Each call makes 1..2 * BATCH
 * records durable (a batch in flight from the call before, and its own),
 * publishes exactly those, and leaves at most one batch in flight.
 */
static void drain_all(struct env *e)
{
	struct klog_ctl *ctl = e->f.k.ctl;

	for (int guard = 0; klog_writer_durable(e->w) < ctl->next_lsn; guard++) {
		uint64_t before = klog_writer_durable(e->w);
		int n = klogd_drain_once(&e->d);

		ck_assert_msg(n > 0, "drain at lsn %llu: %d (%s)", (unsigned long long)before, n,
			      n < 0 ? strerror(-n) : "");
		ck_assert_int_le(n, 2 * BATCH);
		ck_assert_uint_eq(klog_writer_durable(e->w), before + (uint64_t)n);
		ck_assert_uint_le(klog_writer_next(e->w) - klog_writer_durable(e->w), BATCH);
		ck_assert_uint_eq(ctl->durable_lsn, before + (uint64_t)n);
		ck_assert_uint_eq(ctl->truncated_lsn, before + (uint64_t)n);
		ck_assert_int_lt(guard, 10000);
	}
	ck_assert_uint_eq(klog_writer_next(e->w), ctl->next_lsn);
	ck_assert_int_eq(klogd_drain_once(&e->d), 0);
	check_drained(e);
}

/* ------------------------------------------------------------------ */
/* Where faults go                                                      */

/*
 * What draining the N records through a buffer of buf_size does, batch by
 * batch: the submits and syncs made once batch k is durable ([0]: after
 * the first segment's header) and whether the batch created a segment.
 */
struct profile {
	unsigned int submits[BATCHES + 1], syncs[BATCHES + 1];
	bool new_seg[BATCHES + 1];
};

/*
 * Found by a dry run of the case's backend and pool through a wrapper
 * without rules (it only counts), without lag: each drain call then makes
 * exactly one batch durable.  Lag changes when a write is looked at, not
 * which writes are made, so the counts hold for the case's run too.
 */
static void profile_drain(int i, size_t buf_size, struct profile *p)
{
	static const struct klog_fault_rule none[1];
	uint64_t firsts[MAX_SEGS];
	struct env e;
	size_t tmps;

	env_load(&e, i % 4);
	append_kernel(&e, N);
	open_writer(&e, none, 0, buf_size);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	memset(p, 0, sizeof(*p));
	klog_backend_fault_counts(e.b, &p->submits[0], &p->syncs[0]);
	for (unsigned int k = 1; k <= BATCHES; k++) {
		size_t nseg = list_segs(e.dir, firsts, MAX_SEGS, &tmps);
		uint64_t left = N - (uint64_t)(k - 1) * BATCH;

		ck_assert_int_eq(klogd_drain_once(&e.d), (int)(left < BATCH ? left : BATCH));
		klog_backend_fault_counts(e.b, &p->submits[k], &p->syncs[k]);
		p->new_seg[k] = list_segs(e.dir, firsts, MAX_SEGS, &tmps) > nseg;
	}
	check_drained(&e);
	close_writer(&e);
	fixture_destroy(&e.f);
}

/*
 * The first batch from `from` on that creates no segment, so that its one
 * sync is its commit's, and that is written in at least `pieces` submits.
 */
static unsigned int plain_batch(const struct profile *p, unsigned int from, unsigned int pieces)
{
	for (unsigned int k = from; k <= BATCHES; k++)
		if (!p->new_seg[k] && p->syncs[k] - p->syncs[k - 1] == 1 &&
		    p->submits[k] - p->submits[k - 1] >= pieces)
			return k;
	ck_abort_msg("no batch from the %uth on is written in %u submits or more without a new "
		     "segment: the case tests less", from, pieces);
	return 0;
}

/* The batch whose commit fails before it writes anything: a whole batch fits the buffer. */
static unsigned int commit_only_batch(const struct profile *p, unsigned int from)
{
	unsigned int k = plain_batch(p, from, 1);

	ck_assert_msg(p->submits[k] - p->submits[k - 1] == 1,
		      "batch %u is written in %u submits: it should fit the buffer", k,
		      p->submits[k] - p->submits[k - 1]);
	return k;
}

/* ------------------------------------------------------------------ */
/* Fixture                                                              */

/* Once, in the runner process: a fresh directory on the ext4 of /var/tmp. */
static void setup(void)
{
	scratch_setup("/var/tmp/klog-test-drain", NULL);
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */

/* Two rounds of appends, each drained in batches; then a restart finds it all. */
/* Run frame fr through the XDP program: the reply's header, or opcode 0 if none came. */
static struct klog_msg send_frame(struct env *e, const struct frame *fr)
{
	static uint8_t in[MAXR + 128];
	static struct run r;
	struct klog_msg m = { 0 };

	run_prog(e->prog, in, build_frame(fr, in, sizeof(in)), &r);
	if (r.retval == verdict_reply(HOOK_XDP))
		ck_assert_int_eq(klog_decode(r.out + 42, r.out_len - 42, &m), 0);
	return m;
}

/*
 * LSN 1 with its CRC-32C, 2 with a wrong one, 3 without the flag, and on
 * the ring pool 4 whose UDP checksum fails after its LSN is taken (the hash
 * pool checks before: dropped, no LSN).  Drained: 2 (and 4) are tombstones
 * on disk, in klog_corrupt and counted; 1 and 3 intact; a QUERY of 2 is
 * NACK CORRUPT, of 1 DURABLE.
 */
START_TEST(tombstones)
{
	static const uint8_t good[] = "bytes as sent", bad[] = "bytes gone bad";
	bool ring = pools[_i / 2 % 2] == KERBY_POOL_RING;
	uint64_t tombs = ring ? 2 : 1, key;
	struct klog_reader *r;
	struct env e;
	struct klog_record rec;
	struct klog_msg m;
	struct frame fr;
	uint8_t buf[MAXR];
	uint64_t rid;
	uint32_t one;

	env_load_udp(&e, _i, true);
	open_writer(&e, NULL, 0, BIG_BUF);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	frame_default(&fr, IP4, good, sizeof(good));
	rid = be64toh(fr.hdr.request_id);
	fr.hdr.flags = htobe16(KLOG_F_CRC);
	fr.hdr.lsn = htobe64(klog_crc32c(0, good, sizeof(good)));
	m = send_frame(&e, &fr);
	ck_assert_msg(m.opcode == KLOG_OP_ACK, "LSN 1: opcode %u %s", m.opcode,
		      klog_status_str(m.status));
	ck_assert_uint_eq(m.lsn, 1);
	frame_default(&fr, IP4, bad, sizeof(bad));
	fr.hdr.request_id = htobe64(rid + 1);
	fr.hdr.flags = htobe16(KLOG_F_CRC);
	fr.hdr.lsn = htobe64(klog_crc32c(0, bad, sizeof(bad)) ^ 0x10);
	m = send_frame(&e, &fr);
	ck_assert_msg(m.opcode == KLOG_OP_ACK, "LSN 2: opcode %u %s", m.opcode,
		      klog_status_str(m.status)); /* the kernel does not look: klogd does */
	ck_assert_uint_eq(m.lsn, 2);
	frame_default(&fr, IP4, good, sizeof(good));
	fr.hdr.request_id = htobe64(rid + 2);
	m = send_frame(&e, &fr);
	ck_assert_msg(m.opcode == KLOG_OP_ACK, "LSN 3: opcode %u %s", m.opcode,
		      klog_status_str(m.status));
	ck_assert_uint_eq(m.lsn, 3);
	frame_default(&fr, IP4, good, sizeof(good));
	fr.hdr.request_id = htobe64(rid + 3);
	fr.hdr.flags = htobe16(KLOG_F_CRC);
	fr.hdr.lsn = htobe64(klog_crc32c(0, good, sizeof(good)));
	fr.udp_csum_xor = 0x0101;
	m = send_frame(&e, &fr);
	ck_assert_uint_eq(m.opcode, 0); /* dropped unanswered */
	e.n = ring ? 4 : 3;
	ck_assert_uint_eq(e.f.k.ctl->next_lsn, e.n + 1);
	ck_assert_uint_eq(e.f.k.ctl->corrupt_records, 0);

	while (klog_writer_durable(e.w) < e.f.k.ctl->next_lsn)
		ck_assert_int_gt(klogd_drain_once(&e.d), 0);
	ck_assert_uint_eq(e.d.tombstones, tombs);
	ck_assert_uint_eq(e.d.bytes, 2 * sizeof(good));
	ck_assert_uint_eq(e.f.k.ctl->corrupt_records, tombs);
	for (key = 1; key <= e.n; key++) {
		bool tomb = key == 2 || key == 4;

		one = 0;
		ck_assert_int_eq(bpf_map_lookup_elem(e.f.k.corrupt_fd, &key, &one) ? -errno : 0,
				 tomb ? 0 : -ENOENT);
		ck_assert_uint_eq(one, tomb ? 1 : 0);
	}
	ck_assert_int_eq(klog_reader_open(&r, e.dir), 0);
	ck_assert_int_eq(klog_read(r, 1, buf, sizeof(buf), &rec), (int)sizeof(good));
	ck_assert_mem_eq(buf, good, sizeof(good));
	ck_assert_int_eq(klog_read(r, 2, buf, sizeof(buf), &rec), -EILSEQ);
	ck_assert_uint_eq(rec.flags, KLOG_RECORD_CORRUPT);
	ck_assert_int_eq(klog_read(r, 3, buf, sizeof(buf), &rec), (int)sizeof(good));
	if (ring)
		ck_assert_int_eq(klog_read(r, 4, buf, sizeof(buf), &rec), -EILSEQ);
	klog_reader_close(r);

	/* The programs now answer for the tombstone. */
	frame_default(&fr, IP4, NULL, 0);
	fr.hdr.opcode = KLOG_OP_QUERY;
	fr.hdr.request_id = htobe64(rid + 1);
	fr.hdr.lsn = htobe64(2);
	m = send_frame(&e, &fr);
	ck_assert_uint_eq(m.opcode, KLOG_OP_NACK);
	ck_assert_uint_eq(m.status, KLOG_ST_CORRUPT);
	ck_assert_uint_eq(m.lsn, 2);
	fr.hdr.request_id = htobe64(rid);
	fr.hdr.lsn = htobe64(1);
	m = send_frame(&e, &fr);
	ck_assert_uint_eq(m.opcode, KLOG_OP_DURABLE);
	ck_assert_uint_eq(m.lsn, 1);
	close_writer(&e);
	fixture_destroy(&e.f);
}
END_TEST

START_TEST(healthy)
{
	uint64_t firsts[MAX_SEGS];
	struct env e;
	size_t tmps;

	env_load(&e, _i);
	open_writer(&e, NULL, 0, BIG_BUF);
	ck_assert_uint_eq(e.rec.next_lsn, 1);
	ck_assert(e.rec.direct);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	ck_assert_int_eq(klogd_drain_once(&e.d), 0); /* nothing yet */
	ck_assert_uint_eq(e.d.commits, 0);

	append_kernel(&e, 300);
	drain_all(&e);
	ck_assert_uint_eq(e.d.records, 300);
	ck_assert_uint_eq(e.d.commits, (300 + BATCH - 1) / BATCH);
	check_read(e.dir, 301);

	/* After truncation the window and the pool take new records again. */
	append_kernel(&e, N - 300);
	drain_all(&e);
	ck_assert_uint_eq(e.d.records, N);
	ck_assert_uint_eq(e.d.bytes, e.bytes);
	ck_assert_uint_eq(e.d.commits, (300 + BATCH - 1) / BATCH + (N - 300 + BATCH - 1) / BATCH);
	ck_assert_uint_ge(list_segs(e.dir, firsts, MAX_SEGS, &tmps), 2);
	check_read(e.dir, N + 1);
	check_files(e.dir, N + 1);
	close_writer(&e);

	/* A restart: nothing to reconcile or drain. */
	open_writer(&e, NULL, 0, BIG_BUF);
	ck_assert_uint_eq(e.rec.next_lsn, N + 1);
	ck_assert_uint_eq(e.rec.cut_bytes, 0);
	ck_assert_uint_eq(e.rec.reindexed, 0);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	ck_assert_int_eq(klogd_drain_once(&e.d), 0);
	check_drained(&e);
	close_writer(&e);
	fixture_destroy(&e.f);
}
END_TEST

/* A fault case: what goes wrong, and what it must leave behind. */
struct fault_case {
	const struct klog_fault_rule *rules;
	unsigned int nrules;
	size_t buf_size;
	int err;          /* what klogd_drain_once returns */
	bool again;       /* the fault stays: further drains fail the same way */
	bool rotation;    /* it hits a new segment's creation, after the full one's commit */
	bool unsynced;    /* records were written but never synced: a restart finds them */
};

/*
 * Drain through c->rules until the drain fails; check that nothing moved
 * that was not durable and that the kernel kept the rest; then reopen on a
 * healthy backend, reconcile, drain, and find every record once.  A new
 * segment's creation commits the full one first: only then may the writer's
 * durable LSN move inside the failing call (c->rotation).
 */
static void run_fault_case(int i, const struct fault_case *c)
{
	struct klog_ctl *ctl;
	uint64_t before, after, firsts[MAX_SEGS];
	size_t tmps, nseg;
	struct env e;
	int ret;

	env_load(&e, i);
	ctl = e.f.k.ctl;
	append_kernel(&e, N);
	open_writer(&e, c->rules, c->nrules, c->buf_size);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	for (;;) {
		before = klog_writer_durable(e.w);
		ck_assert_uint_eq(ctl->durable_lsn, before);
		nseg = list_segs(e.dir, firsts, MAX_SEGS, &tmps);
		ret = klogd_drain_once(&e.d);
		if (ret <= 0)
			break;
		ck_assert_uint_le(klog_writer_next(e.w), N + 1);
	}
	ck_assert_msg(ret == c->err, "drain: %d (%s), want %d (%s)", ret,
		      ret < 0 ? strerror(-ret) : "", c->err, strerror(-c->err));
	ck_assert_msg(before > 1, "the fault came before any commit: the case tests less");
	after = klog_writer_durable(e.w);
	if (c->rotation)
		ck_assert_uint_gt(after, before);
	else
		ck_assert_uint_eq(after, before);
	ck_assert_uint_lt(after, N + 1);
	ck_assert_uint_eq(ctl->durable_lsn, before);
	ck_assert_uint_eq(ctl->truncated_lsn, before);
	ck_assert_uint_eq(ctl->next_lsn, N + 1);
	check_kernel(&e, before, N + 1);
	/* The disk claims what the writer says is durable, and no more. */
	check_read(e.dir, after);
	/* No new segment came of the failing call, nor a NAME.tmp. */
	ck_assert_uint_eq(list_segs(e.dir, firsts, MAX_SEGS, &tmps), nseg);
	ck_assert_uint_eq(tmps, 0);

	if (c->again) {
		/* Every further try fails the same way, and still nothing moves. */
		for (int k = 0; k < 3; k++) {
			ck_assert_int_eq(klogd_drain_once(&e.d), c->err);
			ck_assert_uint_eq(klog_writer_durable(e.w), after);
			ck_assert_uint_eq(ctl->durable_lsn, before);
			ck_assert_uint_eq(ctl->truncated_lsn, before);
		}
		check_kernel(&e, before, N + 1);
		check_read(e.dir, after);
	}
	close_writer(&e);

	/* Restart on a healthy backend: whole records past the index are kept. */
	open_writer(&e, NULL, 0, BIG_BUF);
	ck_assert_uint_le(e.rec.next_lsn, N + 1);
	ck_assert_uint_eq(e.rec.reindexed, e.rec.next_lsn - after);
	if (c->unsynced)
		ck_assert_uint_gt(e.rec.reindexed, 0);
	else
		ck_assert_uint_eq(e.rec.next_lsn, after);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	ck_assert_uint_eq(ctl->truncated_lsn, e.rec.next_lsn);
	ck_assert_uint_eq(ctl->durable_lsn, e.rec.next_lsn);
	check_kernel(&e, e.rec.next_lsn, N + 1);
	drain_all(&e);
	check_read(e.dir, N + 1);
	check_files(e.dir, N + 1);
	close_writer(&e);
	fixture_destroy(&e.f);
}

/*
 * A submit in the middle of a batch after the first (the second, unless it
 * creates a segment), after one that wrote part of that batch: the batch's
 * second submit, of a small buffer.
 */
static unsigned int mid_batch_submit(int i, enum small_buf kind)
{
	struct profile p;
	unsigned int k;

	profile_drain(i, small_buf(kind), &p);
	k = plain_batch(&p, 2, 3); /* two pieces, then the commit */
	return p.submits[k - 1] + 2;
}

/* The batch of the third commit (as below), in p; *durable: the LSN durable before it. */
static unsigned int third_commit(int i, struct profile *p, uint64_t *durable)
{
	unsigned int k;

	profile_drain(i, BIG_BUF, p);
	k = commit_only_batch(p, 3);
	if (durable)
		*durable = (uint64_t)(k - 1) * BATCH + 1;
	return k;
}

/*
 * The submit of a commit after two (the third, unless its batch creates a
 * segment), before it wrote anything: a batch's only submit, of BIG_BUF.
 * *durable: the LSN durable before it.
 */
static unsigned int third_commit_submit(int i, uint64_t *durable)
{
	struct profile p;
	unsigned int k = third_commit(i, &p, durable);

	return p.submits[k - 1] + 1;
}

/*
 * EIO on one submit.  Small buffers (_i / 8: one region, two): a write in
 * the middle of a batch after the first, after one that wrote part of it
 * (unsynced).  Big buffer: the third commit's, before it wrote anything.
 */
START_TEST(eio_submit)
{
	const bool small = _i / 8 < 2;
	struct klog_fault_rule rule = { KLOG_FAULT_SUBMIT, 0, false, -EIO, false };
	const struct fault_case c = { &rule, 1, small ? small_buf(_i / 8) : BIG_BUF, -EIO, false,
				      false, small };

	rule.nth = small ? mid_batch_submit(_i % 8, _i / 8) : third_commit_submit(_i % 8, NULL);
	run_fault_case(_i % 8, &c);
}
END_TEST

/*
 * ENOSPC on the datasync of the second commit (the first from there whose
 * batch creates no segment): written, never synced.
 */
START_TEST(enospc_sync)
{
	struct klog_fault_rule rule = { KLOG_FAULT_SYNC, 0, false, -ENOSPC, false };
	const struct fault_case c = { &rule, 1, BIG_BUF, -ENOSPC, false, false, true };
	struct profile p;

	profile_drain(_i, BIG_BUF, &p);
	rule.nth = p.syncs[commit_only_batch(&p, 2) - 1] + 1;
	run_fault_case(_i, &c);
}
END_TEST

/*
 * EIO on every submit from one in the middle of a batch after the first
 * (as eio_submit's; _i / 8: one region, two) on; tried again, it fails again.
 */
START_TEST(eio_and_after)
{
	struct klog_fault_rule rule = { KLOG_FAULT_SUBMIT, 0, true, -EIO, false };
	const struct fault_case c = { &rule, 1, small_buf(_i / 8), -EIO, true, false, true };

	rule.nth = mid_batch_submit(_i % 8, _i / 8);
	run_fault_case(_i % 8, &c);
}
END_TEST

/*
 * A transient fault at the third commit, then the same writer drains on:
 * the records staged by the failed calls are written by the next commit,
 * once, and the counts include them (drain.h: the return value is the
 * records made durable; records: totals since start).  An EIO on its
 * submit (as eio_submit's, once); or a full disk for three tries, as
 * klogd's drain loop meets it (klogd/nospace.h): -ENOSPC from the submit
 * and the two that make it again, or from the datasync and the next two;
 * each try fails and moves nothing.
 */
START_TEST(retry_after_transient)
{
	/* _i 0..7: EIO, each loop case; 8..15: ENOSPC, the ring pool (the pool does not matter). */
	const int fault = _i < 8 ? 0 : 1 + (_i - 8) / 4, err = fault ? -ENOSPC : -EIO;
	const int i = _i < 8 ? _i : (_i % 2) + (_i / 2 % 2) * 4;
	const unsigned int nrules = fault ? 3 : 1;
	struct klog_fault_rule rules[3];
	uint64_t returned = 0, durable;
	unsigned int failed = 0, nth;
	struct klog_ctl *ctl;
	struct profile p;
	struct env e;
	int n;

	if (fault == 2) {
		unsigned int k = third_commit(i, &p, &durable);

		nth = p.syncs[k - 1] + 1;
	} else {
		nth = third_commit_submit(i, &durable);
	}
	for (unsigned int k = 0; k < nrules; k++)
		rules[k] = (struct klog_fault_rule){ fault == 2 ? KLOG_FAULT_SYNC : KLOG_FAULT_SUBMIT,
						     nth + k, false, err, false };
	env_load(&e, i);
	ctl = e.f.k.ctl;
	append_kernel(&e, N);
	open_writer(&e, rules, nrules, BIG_BUF);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	while ((n = klogd_drain_once(&e.d)) > 0)
		returned += (uint64_t)n;
	do {
		ck_assert_int_eq(n, err);
		ck_assert_uint_eq(returned, durable - 1);
		ck_assert_uint_eq(ctl->durable_lsn, durable);
		ck_assert_uint_eq(ctl->truncated_lsn, durable);
		ck_assert_uint_eq(klog_writer_durable(e.w), durable);
		check_kernel(&e, durable, N + 1);
		failed++;
	} while (failed < nrules && (n = klogd_drain_once(&e.d)) < 0);
	ck_assert_uint_eq(failed, nrules);
	for (int guard = 0; klog_writer_next(e.w) < N + 1 && guard < 100; guard++) {
		n = klogd_drain_once(&e.d);
		ck_assert_msg(n > 0, "drain after a transient error: %d (%s)", n,
			      n < 0 ? strerror(-n) : "");
		ck_assert_uint_eq(ctl->durable_lsn, klog_writer_durable(e.w));
		ck_assert_uint_eq(ctl->truncated_lsn, ctl->durable_lsn);
		returned += (uint64_t)n;
	}
	ck_assert_int_eq(klogd_drain_once(&e.d), 0);
	check_drained(&e);
	close_writer(&e);
	check_read(e.dir, N + 1);
	check_files(e.dir, N + 1);
	/* Every record made durable was counted, once. */
	ck_assert_uint_eq(e.d.records, N);
	ck_assert_uint_eq(returned, N);
	fixture_destroy(&e.f);
}
END_TEST

/*
 * The datasync of a new segment's header fails: the full segment was
 * committed, the new one never appears.
 */
START_TEST(rotation_fault)
{
	struct klog_fault_rule rule = { KLOG_FAULT_SYNC, 0, false, -EIO, false };
	const struct fault_case c = { &rule, 1, BIG_BUF, -EIO, false, true, false };
	unsigned int k = 1;
	struct profile p;

	profile_drain(_i, BIG_BUF, &p);
	while (k < BATCHES && !p.new_seg[k])
		k++;
	ck_assert(p.new_seg[k]);
	/* [commit of the full segment], header, commit of the batch */
	ck_assert(p.syncs[k] - p.syncs[k - 1] == 2 || p.syncs[k] - p.syncs[k - 1] == 3);
	rule.nth = p.syncs[k] - 1;
	run_fault_case(_i, &c);
}
END_TEST

/*
 * Short writes on several submits, the header's included (_i / 8: one
 * region, two): finished, every byte right.
 */
START_TEST(short_writes)
{
	const struct klog_fault_rule rules[] = {
		{ KLOG_FAULT_SUBMIT, 1, false, 0, true },
		{ KLOG_FAULT_SUBMIT, 3, false, 0, true },
		{ KLOG_FAULT_SUBMIT, 4, false, 0, true },
		{ KLOG_FAULT_SUBMIT, 9, false, 0, true },
		{ KLOG_FAULT_SUBMIT, 16, false, 0, true },
		{ KLOG_FAULT_SUBMIT, 17, false, 0, true },
		{ KLOG_FAULT_SUBMIT, 30, false, 0, true },
	};
	unsigned int submits = 0, syncs = 0;
	struct env e;

	env_load(&e, _i % 8);
	append_kernel(&e, N);
	open_writer(&e, rules, sizeof(rules) / sizeof(rules[0]), small_buf(_i / 8));
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	drain_all(&e);
	klog_backend_fault_counts(e.b, &submits, &syncs);
	ck_assert_uint_gt(submits, 30);
	close_writer(&e);
	check_read(e.dir, N + 1);
	check_files(e.dir, N + 1);
	fixture_destroy(&e.f);
}
END_TEST

/*
 * Reconcile refuses a disk behind what the kernel truncated (a log drained
 * to a directory that is gone) and one ahead of the kernel log (new maps
 * started at LSN 1 under an old log).
 */
START_TEST(reconcile_stale)
{
	char old_dir[PATH_MAX];
	struct env e, e2;

	env_load(&e, _i);
	append_kernel(&e, 100);
	open_writer(&e, NULL, 0, BIG_BUF);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), 0);
	drain_all(&e);
	close_writer(&e);
	memcpy(old_dir, e.dir, sizeof(old_dir));

	/* An empty directory: behind. */
	ck_assert_int_lt(snprintf(e.dir, sizeof(e.dir), "%s-empty", old_dir), (int)sizeof(e.dir));
	open_writer(&e, NULL, 0, BIG_BUF);
	ck_assert_int_eq(klogd_drain_reconcile(&e.d), -ESTALE);
	ck_assert_uint_eq(e.f.k.ctl->truncated_lsn, 101);
	ck_assert_uint_eq(e.f.k.ctl->durable_lsn, 101);
	close_writer(&e);

	/* New maps from LSN 1 holding 10 records, the old log of 100: ahead. */
	env_load(&e2, _i);
	append_kernel(&e2, 10);
	memcpy(e2.dir, old_dir, sizeof(old_dir));
	open_writer(&e2, NULL, 0, BIG_BUF);
	ck_assert_uint_eq(e2.rec.next_lsn, 101);
	ck_assert_int_eq(klogd_drain_reconcile(&e2.d), -ESTALE);
	ck_assert_uint_eq(e2.f.k.ctl->truncated_lsn, 1);
	check_kernel(&e2, 1, 11);
	close_writer(&e2);
	fixture_destroy(&e2.f);
	fixture_destroy(&e.f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("drain");
	TCase *tc = tcase_create("drain"), *tf = tcase_create("faults"), *tt;

	tcase_add_unchecked_fixture(tc, setup, scratch_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, healthy, 0, 4);
	tcase_add_loop_test(tc, rotation_fault, 0, 4);
	tcase_add_loop_test(tc, reconcile_stale, 0, 2);
	suite_add_tcase(s, tc);
	/*
	 * The disk's failures, each at every point of a commit: the store's
	 * error paths, whatever the geometry (tests/meson.build runs this case
	 * in the default build only, CK_EXCLUDE_TAGS=faults elsewhere).
	 */
	tcase_set_tags(tf, "faults");
	tcase_add_unchecked_fixture(tf, setup, scratch_teardown);
	tcase_set_timeout(tf, 120);
	tcase_add_loop_test(tf, eio_submit, 0, 24);
	tcase_add_loop_test(tf, enospc_sync, 0, 8);
	tcase_add_loop_test(tf, eio_and_after, 0, 16);
	tcase_add_loop_test(tf, retry_after_transient, 0, 16);
	tcase_add_loop_test(tf, short_writes, 0, 16);
	suite_add_tcase(s, tf);
	/* Its own case, so that CK_RUN_CASE=tombstone runs it alone. */
	tt = tcase_create("tombstone");
	tcase_add_unchecked_fixture(tt, setup, scratch_teardown);
	tcase_add_loop_test(tt, tombstones, 0, 4);
	suite_add_tcase(s, tt);
	return run_suite(s);
}
