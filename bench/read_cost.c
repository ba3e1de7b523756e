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
 * whole log (records/s, MB/s of payload).  Medians with min-max.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

#include "backend.h"
#include "format.h"
#include "writer.h"

#define MAX_ROUNDS 64
#define SMALL 128
#define LARGE 1024
#define MIX_SEED 0x6b6c6f67u
#define BATCH 4096

_Static_assert(LARGE <= KLOG_MAX_RECORD, "the mix needs 1024-byte records");

struct config {
	uint64_t records, reads;
	int rounds;
	const char *parent;
	bool json;
};

static uint16_t *sizes;
static uint8_t payloads[2][LARGE];

static void usage(FILE *f)
{
	fprintf(f,
		"usage: read_cost [options]\n"
		"Write a log of N records with the klogd writer, then time libklog's reader\n"
		"on it, warm: klog_read of random LSNs and a sequential klog_iterate.\n\n"
		"  --records N  records in the log (default 200000; 75%% 128 B, 25%% 1024 B)\n"
		"  --reads N    random reads per round (default 200000)\n"
		"  --rounds N   rounds, median reported (default 5)\n"
		"  --dir PARENT the log directory is made under PARENT (default /var/tmp)\n"
		"  --json       one JSON object instead of the table\n"
		"  --help       this text\n");
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write n records of the mix to a new log in dir, LSNs from KLOG_FIRST_LSN. */
static int build_log(const char *dir, uint64_t n, uint64_t *payload_bytes)
{
	struct klog_backend_opts bo = { .queue_depth = 64, .buf_size = 4u << 20 };
	struct klog_writer_opts wo = { .dir = dir, .seg_size = KLOG_DEFAULT_SEG_SIZE,
				       .max_record = KLOG_MAX_RECORD, .first_lsn = KLOG_FIRST_LSN };
	struct klog_writer_recovery rec;
	struct klog_backend *b;
	struct klog_writer *w = NULL;
	uint64_t s = MIX_SEED;
	int err;

	for (int i = 0; i < 2; i++)
		for (int j = 0; j < LARGE; j++)
			payloads[i][j] = (uint8_t)(j * 131 + i * 17 + 7);
	sizes = malloc(n * sizeof(*sizes));
	if (!sizes)
		return -ENOMEM;
	*payload_bytes = 0;
	if ((err = klog_backend_psync.open(&b, &bo)))
		return err;
	if ((err = klog_writer_open(&w, &wo, b, &rec)))
		goto out;
	for (uint64_t i = 0; i < n; i++) {
		uint16_t len = splitmix(&s) % 4 == 0 ? LARGE : SMALL;
		void *p = klog_writer_reserve(w, len, &err);

		if (!p)
			goto out;
		sizes[i] = len;
		*payload_bytes += len;
		memcpy(p, payloads[len == LARGE], len);
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

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

struct iter {
	uint64_t seen, bytes;
	bool check;
};

static int on_record(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct iter *it = ctx;
	uint64_t i = rec->lsn - KLOG_FIRST_LSN;

	if (it->check && (i != it->seen || rec->len != sizes[i] || rec->txid != i + 1 ||
			  memcmp(payload, payloads[rec->len == LARGE], rec->len))) {
		fprintf(stderr, "read_cost: LSN %llu is not the record written\n",
			(unsigned long long)rec->lsn);
		return -EBADMSG;
	}
	it->seen++;
	it->bytes += rec->len;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of v[0..n) into s[0..2]. */
static void summarize(const double *v, int n, double s[3])
{
	double t[MAX_ROUNDS];

	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), cmp_double);
	s[0] = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	s[1] = t[0];
	s[2] = t[n - 1];
}

static int parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'r' }, { "reads", required_argument, NULL, 'R' },
		{ "rounds", required_argument, NULL, 'n' },  { "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
		case 'R': {
			unsigned long long v = strtoull(optarg, &end, 0);

			if (*end || end == optarg || *optarg == '-' || !v || v > UINT32_MAX)
				goto bad;
			*(o == 'r' ? &c->records : &c->reads) = v;
			break;
		}
		case 'n':
			c->rounds = atoi(optarg);
			if (c->rounds < 1 || c->rounds > MAX_ROUNDS)
				goto bad;
			break;
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
	struct config c = { .records = 200000, .reads = 200000, .rounds = 5, .parent = "/var/tmp" };
	double rnd_ns[MAX_ROUNDS], rnd_rps[MAX_ROUNDS], seq_mbps[MAX_ROUNDS], seq_rps[MAX_ROUNDS];
	double s_ns[3], s_rps[3], s_mbps[3], s_srps[3];
	static uint8_t buf[KLOG_MAX_RECORD];
	uint64_t *lsns = NULL, payload_bytes, s = MIX_SEED ^ 0x5eed, expect_bytes = 0;
	struct klog_reader *r = NULL;
	struct iter it = { .check = true };
	char dir[4096];
	int err;

	if (parse_args(argc, argv, &c))
		return 2;
	snprintf(dir, sizeof(dir), "%s/klog-read-cost.%d", c.parent, (int)getpid());
	remove_dir(dir);
	if ((err = build_log(dir, c.records, &payload_bytes))) {
		fprintf(stderr, "read_cost: writing the log in %s: %s\n", dir, strerror(-err));
		goto out;
	}
	if ((err = klog_reader_open(&r, dir))) {
		fprintf(stderr, "read_cost: opening %s: %s\n", dir, strerror(-err));
		goto out;
	}
	/* Warm-up, and the check that the log holds what was written. */
	err = klog_iterate(r, KLOG_FIRST_LSN, KLOG_FIRST_LSN + c.records - 1, on_record, &it);
	if (!err && (it.seen != c.records || it.bytes != payload_bytes))
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
		lsns[i] = KLOG_FIRST_LSN + splitmix(&s) % c.records;
		expect_bytes += sizes[lsns[i] - KLOG_FIRST_LSN];
	}
	for (int round = 0; round < c.rounds; round++) {
		struct iter seq = { 0 };
		uint64_t got = 0;
		double t0 = now(), t;

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
		t = now() - t0;
		if (got != expect_bytes) {
			fprintf(stderr, "read_cost: random reads returned %llu bytes, want %llu\n",
				(unsigned long long)got, (unsigned long long)expect_bytes);
			err = -EBADMSG;
			goto out;
		}
		rnd_ns[round] = t / c.reads * 1e9;
		rnd_rps[round] = c.reads / t;

		t0 = now();
		err = klog_iterate(r, KLOG_FIRST_LSN, KLOG_FIRST_LSN + c.records - 1, on_record, &seq);
		t = now() - t0;
		if (err || seq.seen != c.records) {
			fprintf(stderr, "read_cost: klog_iterate: %s, %llu records\n",
				err ? strerror(-err) : "short", (unsigned long long)seq.seen);
			err = err ? err : -EBADMSG;
			goto out;
		}
		seq_mbps[round] = seq.bytes / t / 1e6;
		seq_rps[round] = seq.seen / t;
	}
	summarize(rnd_ns, c.rounds, s_ns);
	summarize(rnd_rps, c.rounds, s_rps);
	summarize(seq_mbps, c.rounds, s_mbps);
	summarize(seq_rps, c.rounds, s_srps);
	if (c.json) {
		printf("{\"records\": %llu, \"payload_bytes\": %llu, \"reads\": %llu, \"rounds\": %d, "
		       "\"dir\": \"%s\", \"median_read_ns\": %.1f, \"min_read_ns\": %.1f, "
		       "\"max_read_ns\": %.1f, \"median_reads_per_s\": %.0f, "
		       "\"min_reads_per_s\": %.0f, \"max_reads_per_s\": %.0f, "
		       "\"median_iterate_mb_per_s\": %.1f, \"min_iterate_mb_per_s\": %.1f, "
		       "\"max_iterate_mb_per_s\": %.1f, \"median_iterate_records_per_s\": %.0f}\n",
		       (unsigned long long)c.records, (unsigned long long)payload_bytes,
		       (unsigned long long)c.reads, c.rounds, c.parent, s_ns[0], s_ns[1], s_ns[2],
		       s_rps[0], s_rps[1], s_rps[2], s_mbps[0], s_mbps[1], s_mbps[2], s_srps[0]);
	} else {
		printf("klog reader, warm page cache: %llu records (%.1f MB payload), %llu random "
		       "reads per round, %d rounds, under %s\n",
		       (unsigned long long)c.records, payload_bytes / 1e6,
		       (unsigned long long)c.reads, c.rounds, c.parent);
		printf("%-30s %12s %23s\n", "measure", "median", "min-max");
		printf("%-30s %12.0f %11.0f-%-11.0f\n", "klog_read random, ns/read", s_ns[0], s_ns[1],
		       s_ns[2]);
		printf("%-30s %12.0f %11.0f-%-11.0f\n", "klog_read random, reads/s", s_rps[0],
		       s_rps[1], s_rps[2]);
		printf("%-30s %12.1f %11.1f-%-11.1f\n", "klog_iterate, MB/s payload", s_mbps[0],
		       s_mbps[1], s_mbps[2]);
		printf("%-30s %12.0f %11.0f-%-11.0f\n", "klog_iterate, records/s", s_srps[0],
		       s_srps[1], s_srps[2]);
	}
out:
	klog_reader_close(r);
	remove_dir(dir);
	free(lsns);
	free(sizes);
	return err ? 1 : 0;
}
