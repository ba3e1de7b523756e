// SPDX-License-Identifier: GPL-2.0-only
/*
 * append_cost - in-kernel cost of one append, from BPF_PROG_TEST_RUN with
 * repeat, for each pool kind and record size, and for a fixed-slot log in the
 * style of DINT, run side by side in rounds so machine noise hits every
 * variant alike.  Reports the median ns per append (min-max over rounds), the
 * hash/ring and fixed/ring ratios.  Needs root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "append_bench.skel.h"
#include "frame_kern.h"
#include "kern.h"
#include "parse.h"
#include "stats.h"

/* klog's full append, its layers (append_bench.bpf.c), and the baselines. */
enum bench_prog {
	PROG_KLOG, PROG_RESERVE_COPY, PROG_NODEDUP, PROG_PARSE, PROG_FIXED_128, PROG_FIXED_1024,
};

/* Record-size distributions: each is timed as the weighted mean of its sizes. */
enum bench_sizes { SIZES_128, SIZES_1024, SIZES_MIX, SIZES_UNIFORM };
#define UNIFORM_POINTS 32 /* sizes sampled evenly from 1..KLOG_MAX_RECORD */

struct point {
	size_t size;
	double weight;
	uint8_t frame[KLOG_MAX_RECORD + 128];
	size_t frame_len;
};

struct variant {
	const char *name;
	enum kerby_pool_kind pool; /* klog's pool; the others ignore it */
	enum bench_sizes sizes;
	enum bench_prog prog;
	struct append_bench *skel;
	struct klog_kern k;
	struct point pt[UNIFORM_POINTS];
	int npt;
	double ns[BENCH_MAX_ROUNDS];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: append_cost [--repeat N] [--rounds N] [--cpu N] [--only TEXT] [--json]\n"
		   "  --repeat N   appends per variant and round (default 200000)\n"
		   "  --rounds N   rounds of every variant, median reported (default 7)\n"
		   "  --cpu N      CPU to run on (default 0)\n"
		   "  --only TEXT  run only the variants whose name contains TEXT (to profile one)\n"
		   "  --json       one JSON object instead of the table\n"
		   "Sizes: 128 B, 1024 B, the 75/25 mix of both, and uniform over 1..%d B\n"
		   "(%d sizes sampled evenly); a distribution's cost is the weighted mean of its\n"
		   "sizes' costs.  Fixed slots pass records larger than the slot to userspace:\n"
		   "their in-kernel cost then is that of the pass.\n",
		KLOG_MAX_RECORD, UNIFORM_POINTS);
}

/* The sizes of a distribution and their weights. */
static int points_of(enum bench_sizes d, struct point *pt)
{
	switch (d) {
	case SIZES_128:
		pt[0] = (struct point){ .size = 128, .weight = 1 };
		return 1;
	case SIZES_1024:
		pt[0] = (struct point){ .size = 1024, .weight = 1 };
		return 1;
	case SIZES_MIX:
		pt[0] = (struct point){ .size = 128, .weight = 0.75 };
		pt[1] = (struct point){ .size = 1024, .weight = 0.25 };
		return 2;
	case SIZES_UNIFORM:
		for (int i = 0; i < UNIFORM_POINTS; i++)
			pt[i] = (struct point){
				.size = 1 + (size_t)((i + 0.5) * (KLOG_MAX_RECORD - 1) / UNIFORM_POINTS),
				.weight = 1.0 / UNIFORM_POINTS,
			};
		return UNIFORM_POINTS;
	}
	return 0;
}

static int setup(struct variant *v)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	static uint8_t payload[KLOG_MAX_RECORD];
	struct frame fr;
	int err;

	o.pool = v->pool;
	o.window = 1024;
	o.pool_blocks = 4096;
	v->skel = append_bench__open();
	if (!v->skel)
		return -errno;
	if ((err = klog_kern_configure(v->skel->obj, &o)) || (err = append_bench__load(v->skel)) ||
	    (err = klog_kern_open(&v->k, v->skel->obj)) || (err = frame_kern_serve(&v->k, true)) ||
	    (err = klog_kern_init(&v->k, KLOG_FIRST_LSN, 1)))
		return err;
	v->npt = points_of(v->sizes, v->pt);
	for (int i = 0; i < v->npt; i++) {
		struct point *p = &v->pt[i];

		fill_payload(payload, p->size, p->size);
		frame_default(&fr, IP4, payload, p->size);
		p->frame_len = frame_build(&fr, p->frame, sizeof(p->frame));
		if (!p->frame_len)
			return -ENOSPC;
	}
	return 0;
}

/* The slot size of a fixed-slot program, 0 for the others. */
static size_t slot_of(enum bench_prog p)
{
	return p == PROG_FIXED_128 ? 128 : p == PROG_FIXED_1024 ? 1024 : 0;
}

static int run_point(struct variant *v, struct point *pt, unsigned int repeat, double *ns)
{
	struct bpf_program *progs[] = {
		[PROG_KLOG] = v->skel->progs.bench_append,
		[PROG_RESERVE_COPY] = v->skel->progs.bench_reserve_copy,
		[PROG_NODEDUP] = v->skel->progs.bench_append_nodedup,
		[PROG_PARSE] = v->skel->progs.bench_parse,
		[PROG_FIXED_128] = v->skel->progs.bench_fixed_128,
		[PROG_FIXED_1024] = v->skel->progs.bench_fixed_1024,
	};
	struct bpf_program *p = progs[v->prog];
	size_t slot = slot_of(v->prog);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pt->frame,
		    .data_size_in = (__u32)pt->frame_len, .repeat = repeat);
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &opts);

	if (err)
		return err;
	/* XDP_ABORTED: an append was refused; XDP_PASS: only a fixed slot's spill. */
	if (opts.retval != (slot && pt->size > slot ? XDP_PASS : XDP_DROP))
		return -EPROTO;
	*ns = opts.duration;
	return 0;
}

/* One round of a variant: the weighted mean over its sizes of the ns per append. */
static int run(struct variant *v, unsigned int repeat, double *ns)
{
	unsigned int each = repeat / v->npt > 1000 ? repeat / v->npt : 1000;

	*ns = 0;
	for (int i = 0; i < v->npt; i++) {
		double one;
		int err = run_point(v, &v->pt[i], each, &one);

		if (err)
			return err;
		*ns += v->pt[i].weight * one;
	}
	return 0;
}

/* The median of the variant named name, or 0 if it did not run. */
static double median_of(const struct variant *v, const struct bench_stat *st, int nv,
			const char *name)
{
	for (int i = 0; i < nv; i++)
		if (!strcmp(v[i].name, name))
			return st[i].median;
	return 0;
}

/* a/b, or 0 (printed as such) when either did not run. */
static double ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : 0;
}

/* The ratios the benchmark is read for: each distribution's fixed/ring and hash/ring. */
static void print_ratios(const struct variant *v, const struct bench_stat *st, int nv, bool json)
{
	static const char *const sizes[] = { "128", "1024", "mix", "uniform" };
	static const char *const names[] = { "128 B", "1024 B", "mix", "uniform" };
	static const char *const slot[] = { "128", "1024", "1024", "1024" };

	for (int i = 0; i < 4; i++) {
		char name[64];
		double ring, hash, fixed;

		snprintf(name, sizeof(name), "ring pool, %s", names[i]);
		ring = median_of(v, st, nv, name);
		snprintf(name, sizeof(name), "hash pool, %s", names[i]);
		hash = median_of(v, st, nv, name);
		snprintf(name, sizeof(name), "fixed %s-B slots, %s", slot[i], names[i]);
		fixed = median_of(v, st, nv, name);
		if (!ring)
			continue; /* left out by --only */
		if (json)
			printf(", \"hash_over_ring_%s\": %.3f, \"fixed_over_ring_%s\": %.3f", sizes[i],
			       ratio(hash, ring), sizes[i], ratio(fixed, ring));
		else
			printf("%-8s hash/ring %.2fx   fixed/ring %.2f (goals: >= 5x, >= 0.77)\n",
			       names[i], ratio(hash, ring), ratio(fixed, ring));
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repeat", required_argument, NULL, 'r' }, { "rounds", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },    { "json", no_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },   { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t repeat = 200000, rounds = 7, cpu = 0;
	const char *only = "";
	bool json = false;
	int c, nv = 0;
	static struct variant all[] = {
		{ "parse only, 128 B", KERBY_POOL_RING, SIZES_128, PROG_PARSE },
		{ "ring layer 1 (reserve, copy), 128 B", KERBY_POOL_RING, SIZES_128, PROG_RESERVE_COPY },
		{ "ring layer 2 (+ entry, no dedup), 128 B", KERBY_POOL_RING, SIZES_128, PROG_NODEDUP },
		{ "ring pool, 128 B", KERBY_POOL_RING, SIZES_128, PROG_KLOG },
		{ "hash pool, 128 B", KERBY_POOL_HASH, SIZES_128, PROG_KLOG },
		{ "fixed 128-B slots, 128 B", KERBY_POOL_RING, SIZES_128, PROG_FIXED_128 },
		{ "ring layer 1 (reserve, copy), 1024 B", KERBY_POOL_RING, SIZES_1024, PROG_RESERVE_COPY },
		{ "ring layer 2 (+ entry, no dedup), 1024 B", KERBY_POOL_RING, SIZES_1024, PROG_NODEDUP },
		{ "ring pool, 1024 B", KERBY_POOL_RING, SIZES_1024, PROG_KLOG },
		{ "hash pool, 1024 B", KERBY_POOL_HASH, SIZES_1024, PROG_KLOG },
		{ "fixed 1024-B slots, 1024 B", KERBY_POOL_RING, SIZES_1024, PROG_FIXED_1024 },
		{ "ring pool, mix", KERBY_POOL_RING, SIZES_MIX, PROG_KLOG },
		{ "hash pool, mix", KERBY_POOL_HASH, SIZES_MIX, PROG_KLOG },
		{ "fixed 1024-B slots, mix", KERBY_POOL_RING, SIZES_MIX, PROG_FIXED_1024 },
		{ "ring pool, uniform", KERBY_POOL_RING, SIZES_UNIFORM, PROG_KLOG },
		{ "hash pool, uniform", KERBY_POOL_HASH, SIZES_UNIFORM, PROG_KLOG },
		{ "fixed 1024-B slots, uniform", KERBY_POOL_RING, SIZES_UNIFORM, PROG_FIXED_1024 },
	};
	static struct variant *v;
	struct bench_stat st[sizeof(all) / sizeof(all[0])];
	cpu_set_t set;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (klog_parse_u64(optarg, &repeat, true) || !repeat || repeat > UINT32_MAX)
				goto bad;
			break;
		case 'n':
			if (klog_parse_u64(optarg, &rounds, false) || !rounds ||
			    rounds > BENCH_MAX_ROUNDS)
				goto bad;
			break;
		case 'c':
			if (klog_parse_u64(optarg, &cpu, false) || cpu >= CPU_SETSIZE)
				goto bad;
			break;
		case 'o': only = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
bad:
		fprintf(stderr, "append_cost: --rounds must be 1..%d, --repeat positive, --cpu a CPU\n",
			BENCH_MAX_ROUNDS);
		return 2;
	}
	/* Keep the variants asked for, in place, so v[] is all[] filtered. */
	v = all;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strstr(all[i].name, only))
			all[nv++] = all[i];
	if (!nv) {
		fprintf(stderr, "append_cost: no variant's name contains \"%s\"\n", only);
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("append_cost: sched_setaffinity");
		return 1;
	}
	for (int i = 0; i < nv; i++) {
		int err = setup(&v[i]);

		if (err) {
			fprintf(stderr, "append_cost: %s: setup: %s\n", v[i].name, strerror(-err));
			return 1;
		}
	}
	for (uint64_t r = 0; r < rounds; r++) {
		for (int i = 0; i < nv; i++) {
			int err = run(&v[i], (unsigned int)repeat, &v[i].ns[r]);

			if (err) {
				fprintf(stderr, "append_cost: %s: %s\n", v[i].name,
					err == -EPROTO ? "an append was refused" : strerror(-err));
				return 1;
			}
		}
	}
	for (int i = 0; i < nv; i++)
		st[i] = bench_stat_of(v[i].ns, (int)rounds);
	if (json) {
		printf("{\"block_size\": %d, \"max_record\": %d, \"repeat\": %llu, \"rounds\": %llu, "
		       "\"cpu\": %llu, \"figures\": [", KLOG_BLOCK_SIZE, KLOG_MAX_RECORD,
		       (unsigned long long)repeat, (unsigned long long)rounds,
		       (unsigned long long)cpu);
		for (int i = 0; i < nv; i++)
			printf("%s{\"name\": \"%s\", \"median_ns\": %.1f, \"min_ns\": %.1f, "
			       "\"max_ns\": %.1f}", i ? ", " : "", v[i].name,
			       st[i].median, st[i].min, st[i].max);
		printf("]");
		print_ratios(v, st, nv, true);
		printf("}\n");
	} else {
		printf("in-kernel append cost, BPF_PROG_TEST_RUN, %llu appends per variant and "
		       "round, %llu rounds, CPU %llu, block %d B\n", (unsigned long long)repeat,
		       (unsigned long long)rounds, (unsigned long long)cpu, KLOG_BLOCK_SIZE);
		printf("%-40s %12s %20s\n", "variant", "median ns", "min-max ns");
		for (int i = 0; i < nv; i++)
			printf("%-40s %12.1f %9.1f-%-10.1f\n", v[i].name, st[i].median, st[i].min,
			       st[i].max);
		/* fixed/ring above 1: klog's ring is faster than fixed slots. */
		print_ratios(v, st, nv, false);
	}
	for (int i = 0; i < nv; i++) {
		klog_kern_close(&v[i].k);
		append_bench__destroy(v[i].skel);
	}
	return 0;
}
