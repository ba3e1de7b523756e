// SPDX-License-Identifier: GPL-2.0-only
/*
 * read_cost - what libklog's reader costs on a warm log.
 *
 * The klogd writer builds a log directory of N records of the Kerby paper's
 * mix (75% 128 B, 25% 1024 B), committed in batches of 4096 as klogd does
 * (no BPF needed).  A first klog_iterate over everything reads the files
 * into the page cache (the writer uses O_DIRECT, so they are not there yet)
 * and checks every record.  Then, in rounds, side by side: klog_read of
 * random LSNs (reads/s, ns per read) and a sequential klog_iterate over the
 * whole log (records/s, MB/s of payload); and what a one-shot reader pays:
 * klog_reader_open, one klog_read of a random LSN, klog_reader_close.
 * Medians with min-max.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "backend.h"
#include "durable.h"
#include "format.h"
#include "frame.h"
#include "parse.h"
#include "stats.h"
#include "writer.h"

#define BATCH 4096

struct config {
	uint64_t records, reads, opens;
	int rounds;
	const char *parent;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: read_cost [options]\n"
		"Write a log of N records with the klogd writer, then time libklog's reader\n"
		"on it, warm: klog_read of random LSNs, a sequential klog_iterate, and\n"
		"one-shot readers (open, one read, close).\n\n"
		"  --records N  records in the log (default 200000; 75%% 128 B, 25%% 1024 B)\n"
		"  --reads N    random reads per round (default 200000)\n"
		"  --opens N    one-shot readers (open, one read, close) per round (default 2000)\n"
		"  --rounds N   rounds, median reported (default 5)\n"
		"  --dir PARENT the log directory is made under PARENT (default /var/tmp)\n"
		"  --json       one JSON object instead of the table\n"
		"  --help       this text\n");
}

/* Write n records of the mix m (made here) to a new log in dir, LSNs from KLOG_FIRST_LSN. */
static int build_log(const char *dir, struct mix *m, uint64_t n)
{
	struct klog_backend_opts bo = { .queue_depth = 64, .buf_size = 4u << 20 };
	struct klog_writer_opts wo = { .dir = dir, .seg_size = KLOG_DEFAULT_SEG_SIZE,
				       .max_record = KLOG_MAX_RECORD, .first_lsn = KLOG_FIRST_LSN };
	struct klog_writer_recovery rec;
	struct klog_backend *b;
	struct klog_writer *w = NULL;
	int err;

	if ((err = mix_init(m, n)))
		return err;
	if ((err = klog_backend_psync.open(&b, &bo)))
		return err;
	if ((err = klog_writer_open(&w, &wo, b, &rec)))
		goto out;
	for (uint64_t i = 0; i < n; i++) {
		uint16_t len = m->sizes[i];
		void *p = klog_writer_reserve(w, len, &err);

		if (!p)
			goto out;
		memcpy(p, mix_payload(m, i), len);
		if ((err = klog_writer_append(w, KLOG_FIRST_LSN + i, i + 1, len)))
			goto out;
		if ((i + 1) % BATCH == 0 && (err = klog_writer_commit(w)))
			goto out;
	}
	err = klog_writer_commit(w);
out:
	klog_writer_close(w);
	b->ops->close(b);
	return err;
}

struct iter {
	const struct mix *m; /* check every record against it, if set */
	uint64_t seen, bytes;
};

static int on_record(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct iter *it = ctx;
	uint64_t i = rec->lsn - KLOG_FIRST_LSN;

	if (it->m && (i != it->seen || !mix_holds(it->m, i, rec, payload))) {
		fprintf(stderr, "read_cost: LSN %llu is not the record written\n",
			(unsigned long long)rec->lsn);
		return -EBADMSG;
	}
	it->seen++;
	it->bytes += rec->len;
	return 0;
}

/* A one-shot reader: open the log in dir, read lsn into buf, close. */
static int read_once(const char *dir, uint64_t lsn, uint8_t *buf)
{
	struct klog_reader *r;
	int n = klog_reader_open(&r, dir);

	if (n)
		return n;
	n = klog_read(r, lsn, buf, KLOG_MAX_RECORD, NULL);
	klog_reader_close(r);
	return n < 0 ? n : 0;
}

static int parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'r' }, { "reads", required_argument, NULL, 'R' },
		{ "rounds", required_argument, NULL, 'n' },  { "dir", required_argument, NULL, 'd' },
		{ "opens", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
		case 'R':
		case 'o': {
			uint64_t v;

			if (klog_parse_u64(optarg, &v, false) || !v || v > UINT32_MAX)
				goto bad;
			*(o == 'r' ? &c->records : o == 'R' ? &c->reads : &c->opens) = v;
			break;
		}
		case 'n': {
			uint64_t v;

			if (klog_parse_u64(optarg, &v, false) || !v || v > BENCH_MAX_ROUNDS)
				goto bad;
			c->rounds = (int)v;
			break;
		}
		case 'd': c->parent = optarg; break;
		case 'j': c->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		continue;
bad:
		fprintf(stderr, "read_cost: invalid value '%s' (see --help)\n", optarg);
		return -EINVAL;
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config c = { .records = 200000, .reads = 200000, .opens = 2000, .rounds = 5,
			    .parent = "/var/tmp" };
	double rnd_ns[BENCH_MAX_ROUNDS], rnd_rps[BENCH_MAX_ROUNDS];
	double seq_mbps[BENCH_MAX_ROUNDS], seq_rps[BENCH_MAX_ROUNDS], once_us[BENCH_MAX_ROUNDS];
	struct bench_stat s_ns, s_rps, s_mbps, s_srps, s_once;
	static uint8_t buf[KLOG_MAX_RECORD];
	uint64_t *lsns = NULL, s = MIX_SEED ^ 0x5eed, expect_bytes = 0;
	struct klog_reader *r = NULL;
	struct mix m = { 0 };
	struct iter it = { .m = &m };
	char dir[4096];
	int err;

	if (parse_args(argc, argv, &c))
		return 2;
	snprintf(dir, sizeof(dir), "%s/klog-read-cost.%d", c.parent, (int)getpid());
	remove_log_dir(dir);
	if ((err = build_log(dir, &m, c.records))) {
		fprintf(stderr, "read_cost: writing the log in %s: %s\n", dir, strerror(-err));
		goto out;
	}
	if ((err = klog_reader_open(&r, dir))) {
		fprintf(stderr, "read_cost: opening %s: %s\n", dir, strerror(-err));
		goto out;
	}
	/* Warm-up, and the check that the log holds what was written. */
	err = klog_iterate(r, KLOG_FIRST_LSN, KLOG_FIRST_LSN + c.records - 1, on_record, &it);
	if (!err && (it.seen != c.records || it.bytes != m.payload_bytes))
		err = -EBADMSG;
	if (err) {
		fprintf(stderr, "read_cost: reading the log back: %s (%llu of %llu records)\n",
			strerror(-err), (unsigned long long)it.seen, (unsigned long long)c.records);
		goto out;
	}
	lsns = malloc(c.reads * sizeof(*lsns));
	if (!lsns) {
		err = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < c.reads; i++) {
		lsns[i] = KLOG_FIRST_LSN + splitmix64(&s) % c.records;
		expect_bytes += m.sizes[lsns[i] - KLOG_FIRST_LSN];
	}
	for (int round = 0; round < c.rounds; round++) {
		struct iter seq = { 0 };
		uint64_t got = 0;
		double t0 = bench_now(), t;

		for (uint64_t i = 0; i < c.reads; i++) {
			int n = klog_read(r, lsns[i], buf, sizeof(buf), NULL);

			if (n < 0) {
				err = n;
				fprintf(stderr, "read_cost: klog_read(%llu): %s\n",
					(unsigned long long)lsns[i], strerror(-err));
				goto out;
			}
			got += (uint64_t)n;
		}
		t = bench_now() - t0;
		if (got != expect_bytes) {
			fprintf(stderr, "read_cost: random reads returned %llu bytes, want %llu\n",
				(unsigned long long)got, (unsigned long long)expect_bytes);
			err = -EBADMSG;
			goto out;
		}
		rnd_ns[round] = t / c.reads * 1e9;
		rnd_rps[round] = c.reads / t;

		t0 = bench_now();
		err = klog_iterate(r, KLOG_FIRST_LSN, KLOG_FIRST_LSN + c.records - 1, on_record, &seq);
		t = bench_now() - t0;
		if (err || seq.seen != c.records) {
			fprintf(stderr, "read_cost: klog_iterate: %s, %llu records\n",
				err ? strerror(-err) : "short", (unsigned long long)seq.seen);
			err = err ? err : -EBADMSG;
			goto out;
		}
		seq_mbps[round] = seq.bytes / t / 1e6;
		seq_rps[round] = seq.seen / t;

		t0 = bench_now();
		for (uint64_t i = 0; i < c.opens && !err; i++)
			err = read_once(dir, lsns[i % c.reads], buf);
		t = bench_now() - t0;
		if (err) {
			fprintf(stderr, "read_cost: one-shot reader: %s\n", strerror(-err));
			goto out;
		}
		once_us[round] = t / c.opens * 1e6;
	}
	s_ns = bench_stat_of(rnd_ns, c.rounds);
	s_rps = bench_stat_of(rnd_rps, c.rounds);
	s_mbps = bench_stat_of(seq_mbps, c.rounds);
	s_srps = bench_stat_of(seq_rps, c.rounds);
	s_once = bench_stat_of(once_us, c.rounds);
	if (c.json) {
		printf("{\"records\": %llu, \"payload_bytes\": %llu, \"reads\": %llu, \"rounds\": %d, "
		       "\"dir\": \"%s\", \"median_read_ns\": %.1f, \"min_read_ns\": %.1f, "
		       "\"max_read_ns\": %.1f, \"median_reads_per_s\": %.0f, "
		       "\"min_reads_per_s\": %.0f, \"max_reads_per_s\": %.0f, "
		       "\"median_iterate_mb_per_s\": %.1f, \"min_iterate_mb_per_s\": %.1f, "
		       "\"max_iterate_mb_per_s\": %.1f, \"median_iterate_records_per_s\": %.0f, "
		       "\"opens\": %llu, \"median_oneshot_us\": %.1f, \"min_oneshot_us\": %.1f, "
		       "\"max_oneshot_us\": %.1f}\n",
		       (unsigned long long)c.records, (unsigned long long)m.payload_bytes,
		       (unsigned long long)c.reads, c.rounds, c.parent, s_ns.median, s_ns.min,
		       s_ns.max, s_rps.median, s_rps.min, s_rps.max, s_mbps.median, s_mbps.min,
		       s_mbps.max, s_srps.median, (unsigned long long)c.opens, s_once.median,
		       s_once.min, s_once.max);
	} else {
		printf("klog reader, warm page cache: %llu records (%.1f MB payload), %llu random "
		       "reads per round, %d rounds, under %s\n",
		       (unsigned long long)c.records, m.payload_bytes / 1e6,
		       (unsigned long long)c.reads, c.rounds, c.parent);
		printf("%-30s %12s %23s\n", "measure", "median", "min-max");
		printf("%-30s %12.0f %11.0f-%-11.0f\n", "klog_read random, ns/read", s_ns.median,
		       s_ns.min, s_ns.max);
		printf("%-30s %12.0f %11.0f-%-11.0f\n", "klog_read random, reads/s", s_rps.median,
		       s_rps.min, s_rps.max);
		printf("%-30s %12.1f %11.1f-%-11.1f\n", "klog_iterate, MB/s payload", s_mbps.median,
		       s_mbps.min, s_mbps.max);
		printf("%-30s %12.0f %11.0f-%-11.0f\n", "klog_iterate, records/s", s_srps.median,
		       s_srps.min, s_srps.max);
		printf("%-30s %12.1f %11.1f-%-11.1f\n", "open + 1 read + close, us", s_once.median,
		       s_once.min, s_once.max);
	}
out:
	klog_reader_close(r);
	remove_log_dir(dir);
	free(lsns);
	mix_free(&m);
	return err ? 1 : 0;
}
