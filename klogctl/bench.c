// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench.c - `klogctl bench` streams generated records to a server and
 * `klogctl verify --count` checks a log directory holds exactly those
 * records, once verify.c has found the log itself sound.
 *
 * Record txid t of a run with seed s has a size drawn from the size spec and
 * bytes drawn from (s, t), so verify needs nothing but the same arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

#include "format.h"
#include "klogctl.h"
#include "parse.h"

/* Client processes of one bench run, each its own socket: its own flow. */
#define BENCH_MAX_CLIENTS 64

struct size_spec {
	enum { SIZE_FIXED, SIZE_UNIFORM, SIZE_MIX } kind;
	uint32_t min, max;
};

struct gen_args {
	const char *server, *acks, *log, *size_arg;
	struct ctl_src src;
	uint64_t count, seed;
	struct size_spec size;
	/* bench only */
	unsigned int outstanding, timeout_ms, retries, clients;
	bool durable, json;
	/* verify only */
	bool keep_going;
	bool partial;      /* --partial: the range need not hold every txid */
	uint64_t from, to; /* --from, --to: the LSNs checked (0: the log's bounds) */
};

/* Long options without a short one. */
enum { OPT_FROM = 0x200, OPT_TO, OPT_PARTIAL }; /* above CTL_SRC_FILE */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static uint32_t gen_size(const struct gen_args *a, uint64_t txid)
{
	uint64_t r = mix64(a->seed * 0x9e3779b97f4a7c15ull ^ txid);

	switch (a->size.kind) {
	case SIZE_FIXED:
		return a->size.min;
	case SIZE_UNIFORM:
		return a->size.min + (uint32_t)(r % (a->size.max - a->size.min + 1));
	default: /* the Kerby paper's mix: 75% 128-byte, 25% 1024-byte values */
		return r % 4 ? 128 : 1024;
	}
}

static void gen_payload(const struct gen_args *a, uint64_t txid, uint8_t *p, uint32_t len)
{
	uint64_t x = mix64(a->seed + 0x632be59bd9b4e019ull * (txid + 1));

	for (uint32_t i = 0; i < len; i += 8) {
		x = mix64(x + i);
		memcpy(p + i, &x, len - i < 8 ? len - i : 8);
	}
}

/* A record size of a --size spec: decimal, 1..KLOG_MAX_RECORD. */
static int parse_bytes(const char *s, uint32_t *v)
{
	uint64_t x;

	if (klog_parse_u64(s, &x, false) || !x || x > KLOG_MAX_RECORD)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int parse_size(const char *s, struct size_spec *sp)
{
	char min[24], *colon;

	if (!strcmp(s, "mix")) {
		*sp = (struct size_spec){ SIZE_MIX, 128, 1024 };
		return 0;
	}
	if (!strncmp(s, "fixed:", 6)) {
		sp->kind = SIZE_FIXED;
		if (parse_bytes(s + 6, &sp->min))
			return -EINVAL;
		sp->max = sp->min;
		return 0;
	}
	if (strncmp(s, "uniform:", 8) || !(colon = strchr(s + 8, ':')) ||
	    (size_t)(colon - (s + 8)) >= sizeof(min))
		return -EINVAL;
	memcpy(min, s + 8, (size_t)(colon - (s + 8)));
	min[colon - (s + 8)] = 0;
	sp->kind = SIZE_UNIFORM;
	if (parse_bytes(min, &sp->min) || parse_bytes(colon + 1, &sp->max) || sp->min > sp->max)
		return -EINVAL;
	return 0;
}

static int parse_gen_args(int argc, char **argv, struct gen_args *a, bool bench)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		CTL_SRC_OPTIONS,
		{ "acks", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 'z' },
		{ "outstanding", required_argument, NULL, 'o' },
		{ "durable", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "clients", required_argument, NULL, 'C' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "partial", no_argument, NULL, OPT_PARTIAL },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = bench ? "bench" : "verify";
	uint64_t v;
	int o;

	*a = (struct gen_args){ .seed = 1, .size = { SIZE_MIX, 128, 1024 }, .size_arg = "mix",
				.outstanding = 1, .retries = 10, .clients = 1 };
	while ((o = getopt_long(argc, argv, CTL_SRC_SHORT "s:a:n:S:z:o:Djt:r:C:l:kh", opts,
				NULL)) != -1) {
		if (!bench && o == 's')
			o = CTL_SRC_SERVER; /* verify reads the log there: a source */
		if (ctl_src_opt(&a->src, o, optarg))
			continue;
		if (bench && (o == 'k' || o >= OPT_FROM)) {
			fprintf(stderr, "klogctl bench: --%s is an option of verify\n",
				o == 'k' ? "keep-going" : o == OPT_PARTIAL ? "partial"
				: o == OPT_FROM ? "from" : "to");
			return ctl_usage_error(cmd);
		}
		if (!bench && o < 0x100 && strchr("oDjCl", o)) {
			fprintf(stderr, "klogctl verify: --%s is an option of bench\n",
				o == 'o' ? "outstanding" : o == 'D' ? "durable" : o == 'j' ? "json" :
				o == 'C' ? "clients" : "log");
			return ctl_usage_error(cmd);
		}
		switch (o) {
		case 'C':
			if (ctl_num(cmd, "--clients", optarg, 1, BENCH_MAX_CLIENTS, &v))
				return 2;
			a->clients = (unsigned int)v;
			break;
		case 't':
		case 'r':
			if (ctl_num(cmd, o == 't' ? "--timeout (ms)" : "--retries", optarg,
				    o == 't', 60000, &v))
				return 2;
			*(o == 't' ? &a->timeout_ms : &a->retries) = (unsigned int)v;
			break;
		case 'o':
			if (ctl_num(cmd, "--outstanding", optarg, 1, KLOG_DEDUP_WINDOW, &v))
				return 2;
			a->outstanding = (unsigned int)v;
			break;
		case 'D': a->durable = true; break;
		case 'j': a->json = true; break;
		case 'k': a->keep_going = true; break;
		case OPT_PARTIAL: a->partial = true; break;
		case OPT_FROM:
		case OPT_TO:
			if (ctl_num(cmd, o == OPT_FROM ? "--from" : "--to", optarg, KLOG_FIRST_LSN,
				    UINT64_MAX, o == OPT_FROM ? &a->from : &a->to))
				return 2;
			break;
		case 's':
			if (ctl_server_check(cmd, "--server", optarg))
				return 2;
			a->server = optarg;
			break;
		case 'a': a->acks = optarg; break;
		case 'l': a->log = optarg; break;
		case 'n':
			if (ctl_num(cmd, "--count", optarg, 1, UINT64_MAX, &a->count))
				return 2;
			break;
		case 'S':
			if (ctl_num(cmd, "--seed", optarg, 0, UINT64_MAX, &a->seed))
				return 2;
			break;
		case 'z':
			if (parse_size(optarg, &a->size)) {
				fprintf(stderr, "klogctl %s: --size '%s': fixed:BYTES, uniform:MIN:MAX "
					"(MIN <= MAX) or mix, sizes decimal 1..%d\n", cmd, optarg,
					KLOG_MAX_RECORD);
				return 2;
			}
			a->size_arg = optarg;
			break;
		case 'h':
			ctl_cmd_usage(stdout, cmd, true);
			return -1;
		default:
			return ctl_usage_error(cmd);
		}
	}
	if (optind != argc || (bench && (!a->server || !a->count))) {
		if (optind != argc)
			fprintf(stderr, "klogctl %s: unexpected argument '%s'\n", cmd, argv[optind]);
		else
			fprintf(stderr, "klogctl bench: --server and --count are required\n");
		return ctl_usage_error(cmd);
	}
	if (ctl_src_check(&a->src, cmd, !bench))
		return 2;
	if (!bench && !a->count && (a->acks || a->seed != 1 || strcmp(a->size_arg, "mix") ||
				    a->partial || a->from || a->to)) {
		fprintf(stderr, "klogctl verify: --acks, --seed, --size, --partial, --from and "
			"--to need --count\n");
		return 2;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One progress line: rate so far and, with a directory, the durable lag. */
static void progress(struct klog_reader *r, uint64_t done, uint64_t bytes, uint64_t last_lsn,
		     double t0, bool final)
{
	double dt = now_s() - t0;
	uint64_t first, durable;
	char lag[64] = "";

	if (r && !klog_reader_bounds(r, &first, &durable))
		snprintf(lag, sizeof(lag), ", durable lag %" PRIu64 " records",
			 last_lsn > durable ? last_lsn - durable : 0);
	fprintf(stderr, "\r%" PRIu64 " records, %.0f records/s, %.1f MB/s%s   %s", done,
		done / dt, bytes / dt / 1e6, lag, final ? "\n" : "");
}

/* A request in flight; a free list of --outstanding of them. */
struct bench_req {
	struct bench *b;
	struct bench_req *next_free;
	uint64_t txid;
	double start;
	uint32_t len;
	uint32_t crc;         /* CRC-32C of the payload, for --log */
};

/* What one client (flow) did; in shared memory when there are several. */
struct flow_result {
	uint64_t done, bytes, max_lsn;
	int err;              /* the first failure */
	uint64_t err_txid;
	uint64_t err_lsn; /* CORRUPT: the tombstone's LSN */
};

struct bench {
	struct bench_req *free;
	double *lat;          /* by txid: seconds from submission to acknowledgement */
	struct flow_result *res;
	FILE *acks, *log;
};

static void bench_done(void *arg, int err, uint64_t lsn)
{
	struct bench_req *q = arg;
	struct bench *b = q->b;
	struct flow_result *res = b->res;

	if (err) {
		if (!res->err) {
			res->err = err;
			res->err_txid = q->txid;
			res->err_lsn = lsn;
		}
	} else {
		b->lat[q->txid] = now_s() - q->start;
		res->done++;
		res->bytes += q->len;
		if (lsn > res->max_lsn)
			res->max_lsn = lsn;
		if (b->acks)
			fprintf(b->acks, "%" PRIu64 " %" PRIu64 "\n", lsn, q->txid);
		if (b->log)
			fprintf(b->log, "%" PRIu64 " %" PRIu64 " %08" PRIx32 "\n", lsn, q->txid,
				q->crc);
	}
	q->next_free = b->free;
	b->free = q;
}

/* The q-quantile of n sorted latencies, in microseconds. */
static double quantile_us(const double *lat, uint64_t n, double q)
{
	uint64_t i = (uint64_t)(q * (double)n);

	return lat[i < n ? i : n - 1] * 1e6;
}

static void bench_report(const struct gen_args *a, const struct flow_result *t,
			 const double *lat, double dt)
{
	double p50 = quantile_us(lat, t->done, 0.50), p99 = quantile_us(lat, t->done, 0.99);
	double p999 = quantile_us(lat, t->done, 0.999), max = lat[t->done - 1] * 1e6;

	if (a->json) {
		printf("{\"appends\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"seconds\": %.4f, "
		       "\"appends_per_s\": %.0f, \"mb_per_s\": %.3f, \"outstanding\": %u, "
		       "\"clients\": %u, \"durable\": %s, \"size\": \"%s\", \"seed\": %" PRIu64 ", "
		       "\"latency_us\": {\"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f, "
		       "\"max\": %.1f}, \"last_lsn\": %" PRIu64 "}\n",
		       t->done, t->bytes, dt, t->done / dt, t->bytes / dt / 1e6, a->outstanding,
		       a->clients, a->durable ? "true" : "false", a->size_arg, a->seed, p50, p99,
		       p999, max, t->max_lsn);
		return;
	}
	printf("appends %" PRIu64 "  seconds %.2f  appends/s %.0f  MB/s %.2f  outstanding %u%s  "
	       "latency us p50 %.1f p99 %.1f p999 %.1f max %.1f  last LSN %" PRIu64 "\n",
	       t->done, dt, t->done / dt, t->bytes / dt / 1e6, a->outstanding,
	       a->durable ? " durable" : "", p50, p99, p999, max, t->max_lsn);
}

/*
 * Open path (NULL: none) for appending whole lines at a time, so that
 * clients never mix halves of lines.  RETURN VALUE: 0 or -errno (said).
 */
static int open_lines(const char *path, FILE **f)
{
	int err;

	if (!path)
		return 0;
	*f = fopen(path, "a");
	if (*f && !setvbuf(*f, NULL, _IOLBF, 0))
		return 0;
	err = errno ? -errno : -EIO;
	ctl_fail(path, err);
	return err;
}

/* Empty path (NULL: none), which the clients then append to.  RETURN VALUE: 0, or 1 (said). */
static int empty_file(const char *path)
{
	FILE *f = path ? fopen(path, "w") : NULL;

	if (path && (!f || fclose(f)))
		return ctl_fail(path, -errno);
	return 0;
}

/*
 * One client: records txid first, first + stride, ... below --count, with up
 * to --outstanding in flight; latencies into lat[txid], counts into *res.
 * Progress lines only when show is set (one client).
 */
static void run_flow(const struct gen_args *a, unsigned int first, unsigned int stride,
		     double *lat, struct flow_result *res, bool show)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct bench b = { .lat = lat, .res = res };
	struct bench_req *reqs = NULL;
	struct klog_client_opts opts = { .max_outstanding = a->outstanding,
					 .timeout_ms = a->timeout_ms, .retries = a->retries };
	struct klog_client *c = NULL;
	struct klog_reader *r = NULL;
	char *host, *port, *server = strdup(a->server);
	double t0 = now_s(), next_tick = t0 + 0.25;
	uint64_t t = first;
	int err;

	if (!server || !(reqs = calloc(a->outstanding, sizeof(*reqs)))) {
		res->err = -ENOMEM;
		goto out;
	}
	klog_split_server(server, &host, &port);
	if ((err = klog_client_open(&c, host, port, &opts))) {
		ctl_client_fail(a->server, err);
		res->err = err;
		goto out;
	}
	if (show && ctl_src_given(&a->src) && (err = ctl_src_open(&a->src, &r)))
		fprintf(stderr, "klogctl: %s: %s (no durable lag shown)\n", a->src.name,
			a->src.server ? klog_strerror(err) : strerror(-err));
	if ((err = open_lines(a->acks, &b.acks)) || (err = open_lines(a->log, &b.log))) {
		res->err = err;
		goto out;
	}
	for (unsigned int i = 0; i < a->outstanding; i++) {
		reqs[i].b = &b;
		reqs[i].next_free = b.free;
		b.free = &reqs[i];
	}
	while (!res->err && (t < a->count || klog_client_outstanding(c, NULL))) {
		int n;

		if (t < a->count && b.free) {
			struct bench_req *q = b.free;

			q->txid = t;
			q->len = gen_size(a, t);
			gen_payload(a, t, buf, q->len);
			q->crc = b.log ? klog_crc32c(0, buf, q->len) : 0;
			q->start = now_s();
			b.free = q->next_free;
			err = klog_client_submit(c, buf, q->len, t,
						 a->durable ? KLOG_APPEND_DURABLE : 0, bench_done, q);
			if (!err) {
				t += stride;
				continue;
			}
			q->next_free = b.free;
			b.free = q;
			if (err != -EAGAIN) {
				res->err = err;
				res->err_txid = t;
				break;
			}
		}
		/* The window is full, or everything is submitted: wait for acks. */
		if ((n = klog_client_poll(c, -1)) < 0) {
			res->err = n;
			res->err_txid = t;
			break;
		}
		if (show && now_s() >= next_tick) {
			progress(r, res->done, res->bytes, res->max_lsn, t0, false);
			next_tick += 0.25;
		}
	}
	/* After a failure, still collect (and record in --acks) what was in flight. */
	klog_client_flush(c, -1);
	if (res->err == -EILSEQ)
		fprintf(stderr, "\nklogctl: record %" PRIu64 ": LSN %" PRIu64 " holds a tombstone: "
			"the server's check of the bytes failed (CORRUPT)\n", res->err_txid,
			res->err_lsn);
	else if (res->err)
		fprintf(stderr, "\nklogctl: record %" PRIu64 ": %s\n", res->err_txid,
			klog_strerror(res->err));
	if (show)
		progress(r, res->done, res->bytes, res->max_lsn, t0, true);
out:
	if (b.acks && fclose(b.acks) && !res->err)
		res->err = -errno;
	if (b.log && fclose(b.log) && !res->err)
		res->err = -errno;
	free(reqs);
	free(server);
	klog_reader_close(r);
	klog_client_close(c);
}

/* --clients N: N processes, client i sending txids i, i + N, ...; waits for all. */
static int run_clients(const struct gen_args *a, double *lat, struct flow_result *res)
{
	pid_t pids[BENCH_MAX_CLIENTS];
	unsigned int started = 0;
	int err = 0;

	fflush(NULL);
	for (; started < a->clients; started++) {
		pids[started] = fork();
		if (pids[started] < 0) {
			err = -errno;
			break;
		}
		if (!pids[started]) {
			run_flow(a, started, a->clients, lat, &res[started], false);
			_exit(res[started].err ? 1 : 0);
		}
	}
	for (unsigned int i = 0; i < started; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) < 0)
			status = -1;
		if (!err && (status < 0 || !WIFEXITED(status)))
			err = -ECHILD;
		if (!res[i].err && (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status)))
			res[i].err = -ECHILD;
	}
	return err;
}

int cmd_bench(int argc, char **argv)
{
	struct flow_result *res, total = { 0 };
	struct gen_args a;
	size_t lat_size, res_size;
	double *lat, t0, dt;
	int err = parse_gen_args(argc, argv, &a, true);

	if (err)
		return err < 0 ? 0 : err;
	/* Shared with the client processes, when there are several. */
	lat_size = a.count * sizeof(*lat);
	res_size = a.clients * sizeof(*res);
	lat = mmap(NULL, lat_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	res = mmap(NULL, res_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (lat == MAP_FAILED || res == MAP_FAILED) {
		err = ctl_fail("bench", -ENOMEM);
		goto out;
	}
	if ((err = empty_file(a.acks)) || (err = empty_file(a.log)))
		goto out;
	t0 = now_s();
	if (a.clients == 1)
		run_flow(&a, 0, 1, lat, res, true);
	else if ((err = run_clients(&a, lat, res)))
		ctl_fail("bench: the client processes", err);
	dt = now_s() - t0;
	for (unsigned int i = 0; i < a.clients; i++) {
		total.done += res[i].done;
		total.bytes += res[i].bytes;
		if (res[i].max_lsn > total.max_lsn)
			total.max_lsn = res[i].max_lsn;
		if (res[i].err && !total.err)
			total.err = res[i].err;
	}
	if (a.clients > 1)
		fprintf(stderr, "%" PRIu64 " records, %.0f records/s, %.1f MB/s, %u clients\n",
			total.done, total.done / dt, total.bytes / dt / 1e6, a.clients);
	if (!err && !total.err) {
		qsort(lat, total.done, sizeof(*lat), cmp_double);
		bench_report(&a, &total, lat, dt);
	}
	err = err || total.err ? 1 : 0;
out:
	if (lat != MAP_FAILED)
		munmap(lat, lat_size);
	if (res != MAP_FAILED)
		munmap(res, res_size);
	return err;
}

struct verify_ctx {
	const struct gen_args *a;
	uint8_t *seen;       /* per txid */
	uint64_t next_lsn;
	uint64_t records;
	uint8_t want[KLOG_MAX_RECORD];
};

static int verify_one(const struct klog_record *rec, const void *payload, void *p)
{
	struct verify_ctx *v = p;

	if (rec->lsn != v->next_lsn) {
		fprintf(stderr, "klogctl: LSN %" PRIu64 " follows %" PRIu64 "\n", rec->lsn,
			v->next_lsn - 1);
		return -EILSEQ;
	}
	v->next_lsn++;
	v->records++;
	if (rec->flags & KLOG_RECORD_CORRUPT) {
		fprintf(stderr, "klogctl: LSN %" PRIu64 " (txid %" PRIu64 "): %s\n", rec->lsn,
			rec->txid, CTL_TOMBSTONE);
		return -EILSEQ;
	}
	if (rec->txid >= v->a->count || v->seen[rec->txid]++) {
		fprintf(stderr, "klogctl: LSN %" PRIu64 ": txid %" PRIu64 " %s\n", rec->lsn,
			rec->txid, rec->txid >= v->a->count ? "was never sent" : "appears twice");
		return -EILSEQ;
	}
	gen_payload(v->a, rec->txid, v->want, gen_size(v->a, rec->txid));
	if (rec->len != gen_size(v->a, rec->txid) || memcmp(payload, v->want, rec->len)) {
		fprintf(stderr, "klogctl: LSN %" PRIu64 " (txid %" PRIu64 "): bytes differ\n",
			rec->lsn, rec->txid);
		return -EILSEQ;
	}
	return 0;
}

struct ack {
	uint64_t lsn, txid;
};

static int cmp_ack(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;

	return x->lsn < y->lsn ? -1 : x->lsn > y->lsn;
}

/* The "LSN TXID" lines of path, sorted by LSN, into *out (free it). RETURN VALUE: how many; -errno. */
static ssize_t load_acks(const char *path, struct ack **out)
{
	FILE *f = fopen(path, "r");
	struct ack *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t lsn, txid;

	if (!f)
		return -errno;
	while (fscanf(f, "%" SCNu64 " %" SCNu64, &lsn, &txid) == 2) {
		if (n == cap) {
			struct ack *nv = realloc(v, (cap ? 2 * cap : 4096) * sizeof(*v));

			if (!nv) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? 2 * cap : 4096;
		}
		v[n++] = (struct ack){ lsn, txid };
	}
	fclose(f);
	qsort(v, n, sizeof(*v), cmp_ack);
	*out = v;
	return (ssize_t)n;
}

/*
 * Every acknowledged LSN, read by itself (klog_read), holds the txid it was
 * acknowledged for and that txid's bytes as bench generated them.  In LSN
 * order: a remote reader then reads ahead, as a client catching up would.
 */
static int verify_acks(struct klog_reader *r, const struct gen_args *a, uint8_t *want)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_record rec;
	struct ack *acks = NULL;
	ssize_t n = load_acks(a->acks, &acks);

	if (n < 0)
		return ctl_fail(a->acks, (int)n);
	for (ssize_t i = 0; i < n; i++) {
		uint64_t lsn = acks[i].lsn, txid = acks[i].txid;
		int err = klog_read(r, lsn, buf, sizeof(buf), &rec);
		uint32_t len = txid < a->count ? gen_size(a, txid) : 0;

		if (len)
			gen_payload(a, txid, want, len);
		if (err < 0 || rec.txid != txid || rec.len != len || memcmp(buf, want, len)) {
			const char *detail = klog_reader_strerror(r);

			fprintf(stderr, "klogctl: acknowledged LSN %" PRIu64 " (txid %" PRIu64
				"): %s%s%s\n", lsn, txid, err == -EILSEQ ? CTL_TOMBSTONE
				: err < 0 ? strerror(-err)
				: rec.txid != txid ? "other txid" : "bytes differ",
				*detail ? ": " : "", detail);
			free(acks);
			return 1;
		}
	}
	free(acks);
	printf("acknowledged LSNs read one by one, bytes as sent: %zd\n", n);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_ctx *v = calloc(1, sizeof(*v));
	struct klog_reader *r;
	uint64_t first, last;
	struct gen_args a;
	int err = parse_gen_args(argc, argv, &a, false);

	if (err || !v) {
		free(v);
		return err < 0 ? 0 : err ? err : ctl_fail("verify", -ENOMEM);
	}
	/*
	 * The log's structure first: what bench sent is checked only in a sound
	 * log.  A server's files are not here: only what bench sent is checked.
	 */
	if (a.src.server && !a.count) {
		fprintf(stderr, "klogctl verify: --server checks the records bench sent, with "
			"--count (the log's files are the server's: verify them there)\n");
		free(v);
		return 2;
	}
	if ((!a.src.server && (err = ctl_verify_log(&a.src, a.keep_going))) || !a.count) {
		free(v);
		return err;
	}
	v->a = &a;
	v->seen = calloc(a.count, 1);
	a.src.timeout_ms = a.timeout_ms;
	a.src.retries = a.retries;
	err = v->seen ? ctl_src_open(&a.src, &r) : -ENOMEM;
	if (err) {
		free(v->seen);
		free(v);
		return ctl_src_open_fail(&a.src, err);
	}
	err = klog_reader_bounds(r, &first, &last);
	if (!err && (a.from || a.to)) {
		first = a.from ? a.from : first;
		last = a.to ? a.to : last;
	}
	if (!err) {
		v->next_lsn = first;
		err = klog_iterate(r, first, last, verify_one, v);
	}
	if (!err && v->next_lsn != last + 1) {
		fprintf(stderr, "klogctl: the log ends at LSN %" PRIu64 ", before %" PRIu64 "\n",
			v->next_lsn - 1, last);
		err = -EILSEQ;
	}
	if (!err && (a.partial ? v->records > a.count : v->records != a.count)) {
		fprintf(stderr, "klogctl: %" PRIu64 " records in the log, %" PRIu64 " sent\n",
			v->records, a.count);
		err = -EILSEQ;
	}
	if (!err)
		printf("verified %" PRIu64 " records, LSNs %" PRIu64 "..%" PRIu64
		       ": contiguous, each txid once, bytes as sent%s\n", v->records, first, last,
		       a.partial ? " (a part of them: --partial)" : "");
	if (!err && a.acks)
		err = verify_acks(r, &a, v->want) ? -EILSEQ : 0;
	if (err && err != -EILSEQ && *klog_reader_strerror(r))
		fprintf(stderr, "klogctl: %s\n", klog_reader_strerror(r));
	klog_reader_close(r);
	free(v->seen);
	free(v);
	return err == -EILSEQ ? 1 : err ? ctl_fail(a.src.name, err) : 0;
}
