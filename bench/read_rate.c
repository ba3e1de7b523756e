// SPDX-License-Identifier: GPL-2.0-only
/*
 * read_rate - libklog's reader on a live log, the same calls over a local
 * directory (--dir) or a klogd over the network (--server): klog_read of
 * random LSNs one at a time (reads/s, latency percentiles), then one
 * sequential klog_iterate of the range (records/s, MB/s).  bench/reads.sh
 * runs it on both sides of a veth pair, side by side, and as a load beside
 * appends (--seconds).  One JSON object per run on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <klog/klog.h>

#include "parse.h"

struct config {
	const char *dir, *server;
	uint64_t from, to, reads;
	double seconds; /* > 0: random reads for this long, no sequential pass */
	double rate;    /* > 0: at most this many reads per second (a paced load) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: read_rate (--dir DIR | --server HOST[:PORT]) --from LSN --to LSN\n"
		"                 [--reads N | --seconds S [--rate N]]\n"
		"Time klog_read of random LSNs in FROM..TO (default 20000 reads), then one\n"
		"klog_iterate of FROM..TO; with --seconds, only random reads for S seconds\n"
		"(a load to run beside appends), at most --rate per second.  Prints one\n"
		"JSON object.\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int count_bytes(const struct klog_record *rec, const void *payload, void *ctx)
{
	(void)payload;
	*(uint64_t *)ctx += rec->len;
	return 0;
}

static int parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },   { "server", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },  { "to", required_argument, NULL, 't' },
		{ "reads", required_argument, NULL, 'r' }, { "seconds", required_argument, NULL, 'S' },
		{ "rate", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },        { 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'd': c->dir = optarg; break;
		case 's': c->server = optarg; break;
		case 'f':
		case 't':
		case 'r':
			if (klog_parse_u64(optarg, o == 'f' ? &c->from : o == 't' ? &c->to : &c->reads,
					   false))
				goto bad;
			break;
		case 'S':
		case 'P':
			*(o == 'S' ? &c->seconds : &c->rate) = atof(optarg);
			if ((o == 'S' ? c->seconds : c->rate) <= 0)
				goto bad;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		continue;
bad:
		fprintf(stderr, "read_rate: invalid value '%s'\n", optarg);
		return -EINVAL;
	}
	if (optind < argc || !c->dir == !c->server || !c->from || c->to < c->from || !c->reads ||
	    (c->rate > 0 && c->seconds <= 0)) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config c = { .reads = 20000 };
	static uint8_t buf[KLOG_MAX_RECORD];
	uint64_t span, n = 0, bytes = 0, s = 0x9e3779b97f4a7c15ull;
	struct klog_reader *r;
	double *lat, t0, t, end;
	int err;

	if (parse_args(argc, argv, &c))
		return 2;
	err = c.dir ? klog_reader_open(&r, c.dir) : klog_reader_open_server(&r, c.server, NULL);
	if (err) {
		fprintf(stderr, "read_rate: %s: %s\n", c.dir ? c.dir : c.server, strerror(-err));
		return 1;
	}
	span = c.to - c.from + 1;
	lat = malloc(sizeof(*lat) * c.reads);
	if (!lat)
		return 1;
	t0 = now_s();
	end = t0 + c.seconds;
	for (n = 0; c.seconds > 0 ? now_s() < end : n < c.reads; n++) {
		uint64_t lsn;
		int len;

		/* Paced: the n-th read not before n / rate seconds in. */
		while (c.rate > 0 && now_s() < t0 + (double)n / c.rate)
			nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
		s ^= s << 13, s ^= s >> 7, s ^= s << 17; /* xorshift64 */
		lsn = c.from + s % span;
		t = now_s();
		len = klog_read(r, lsn, buf, sizeof(buf), NULL);
		if (len < 0) {
			fprintf(stderr, "read_rate: LSN %llu: %s: %s\n", (unsigned long long)lsn,
				strerror(-len), klog_reader_strerror(r));
			return 1;
		}
		if (n < c.reads)
			lat[n] = now_s() - t;
	}
	t = now_s() - t0;
	printf("{\"source\":\"%s\",\"reads\":%llu,\"reads_per_s\":%.0f", c.dir ? "dir" : "server",
	       (unsigned long long)n, (double)n / t);
	if (n > c.reads)
		n = c.reads;
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf(",\"p50_us\":%.1f,\"p99_us\":%.1f", lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6);
	if (c.seconds <= 0) {
		t0 = now_s();
		if ((err = klog_iterate(r, c.from, c.to, count_bytes, &bytes))) {
			fprintf(stderr, "read_rate: iterate: %s: %s\n", strerror(-err),
				klog_reader_strerror(r));
			return 1;
		}
		t = now_s() - t0;
		printf(",\"seq_records_per_s\":%.0f,\"seq_mb_per_s\":%.1f", (double)span / t,
		       (double)bytes / t / 1e6);
	}
	printf("}\n");
	free(lat);
	klog_reader_close(r);
	return 0;
}
