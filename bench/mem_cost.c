// SPDX-License-Identifier: GPL-2.0-only
/*
 * mem_cost - kernel memory per record held, for each design, on the Kerby
 * paper's mix (75% 128-byte, 25% 1024-byte records): klog with the ring pool
 * and with the hash pool, and the fixed-slot baseline with 128-byte and
 * 1024-byte slots.  Each design is loaded sized to hold N records (klog: a
 * window of N and exactly the pool blocks the N records need; fixed: N
 * slots) and filled with N real appends through BPF_PROG_TEST_RUN of its XDP
 * program; then the kernel's accounting of every map that program uses (the
 * map ids of its prog info; `memlock:` of the map's fdinfo, as `bpftool map
 * show` prints) is summed.  128-byte slots cannot hold the 1024-byte quarter:
 * those are spilled (XDP_PASS) and not held, so they do not count as held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixed_load.h"
#include "frame_kern.h"
#include "kern.h"
#include "klog.skel.h"
#include "parse.h"

#define MAX_MAPS 32

struct design {
	const char *name;
	uint64_t records, spilled, map_bytes;
	int nmaps;
	char map_name[MAX_MAPS][BPF_OBJ_NAME_LEN];
	uint64_t map_bytes_of[MAX_MAPS];
};

/* Record i of the mix: 1024 bytes one time in four, as `klogctl bench --size mix`. */
static uint32_t mix_size(uint64_t i)
{
	return mix64(i) % 4 ? 128 : 1024;
}

/* The kernel's memory accounting of a map (fdinfo "memlock:"), or 0. */
static uint64_t map_memlock(int fd)
{
	char path[64], line[256];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Sum the memory of every map program prog uses into d, map by map. */
static int account_maps(int prog, struct design *d)
{
	__u32 ids[MAX_MAPS];
	struct bpf_prog_info info = { .nr_map_ids = MAX_MAPS, .map_ids = (uintptr_t)ids };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog, &info, &len))
		return -errno;
	for (__u32 i = 0; i < info.nr_map_ids && i < MAX_MAPS; i++) {
		struct bpf_map_info mi = { 0 };
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			return -errno;
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
			close(fd);
			return -errno;
		}
		snprintf(d->map_name[d->nmaps], BPF_OBJ_NAME_LEN, "%s", mi.name);
		d->map_bytes_of[d->nmaps] = map_memlock(fd);
		d->map_bytes += d->map_bytes_of[d->nmaps++];
		close(fd);
	}
	return 0;
}

/* Append the n records of the mix through prog: XDP_TX kept, XDP_PASS spilled. */
static int fill(int prog, uint64_t n, struct design *d)
{
	static uint8_t payload[1024], in[2048], out[2048];
	struct frame fr;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = mix_size(i);
		size_t flen;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		fill_payload(payload, len, i);
		frame_default(&fr, IP4, payload, len);
		flen = frame_build(&fr, in, sizeof(in));
		o.data_size_in = (__u32)flen;
		if (bpf_prog_test_run_opts(prog, &o))
			return -errno;
		if (o.retval == XDP_TX)
			d->records++;
		else if (o.retval == XDP_PASS)
			d->spilled++;
		else
			return -EPROTO;
	}
	return 0;
}

static int klog_design(enum kerby_pool_kind pool, uint64_t n, struct design *d)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	struct klog_kern k;
	struct klog *skel = klog__open();
	int err;

	if (!skel)
		return -errno;
	o.pool = pool;
	o.window = (uint32_t)n;
	o.pool_blocks = 0;
	for (uint64_t i = 0; i < n; i++)
		o.pool_blocks += KLOG_DIV_ROUND_UP(mix_size(i), KLOG_BLOCK_SIZE);
	err = klog_kern_configure(skel->obj, &o);
	if (!err)
		err = klog__load(skel);
	if (!err && !(err = klog_kern_open(&k, skel->obj))) {
		err = frame_kern_serve(&k, true);
		if (!err)
			err = klog_kern_init(&k, KLOG_FIRST_LSN, 1);
		if (!err)
			err = fill(bpf_program__fd(skel->progs.klog_xdp_append), n, d);
		if (!err)
			err = account_maps(bpf_program__fd(skel->progs.klog_xdp_append), d);
		klog_kern_close(&k);
	}
	klog__destroy(skel);
	return err;
}

static int fixed_design(unsigned int slot, uint64_t n, struct design *d)
{
	struct fixed_log *skel;
	int err = fixed_load(&skel, slot, (uint32_t)n, KLOG_DEFAULT_PORT), prog;

	if (err)
		return err;
	prog = bpf_program__fd(fixed_prog(skel, slot));
	err = fill(prog, n, d);
	if (!err)
		err = account_maps(prog, d);
	fixed_log__destroy(skel);
	return err;
}

static void print_design(const struct design *d, bool json, bool first)
{
	double per = d->records ? (double)d->map_bytes / d->records : 0;
	double per_mib = per > 0 ? 1048576.0 / per : 0;

	if (!json) {
		printf("%-10s %9" PRIu64 " %9" PRIu64 " %12" PRIu64 " %10.1f %12.1f  ", d->name,
		       d->records, d->spilled, d->map_bytes, per, per_mib);
		for (int i = 0; i < d->nmaps; i++)
			printf("%s%s %" PRIu64, i ? ", " : "", d->map_name[i], d->map_bytes_of[i]);
		printf("\n");
		return;
	}
	printf("%s{\"name\": \"%s\", \"records\": %" PRIu64 ", \"map_bytes\": %" PRIu64
	       ", \"maps\": {", first ? "" : ", ", d->name, d->records, d->map_bytes);
	for (int i = 0; i < d->nmaps; i++)
		printf("%s\"%s\": %" PRIu64, i ? ", " : "", d->map_name[i], d->map_bytes_of[i]);
	printf("}, \"bytes_per_record\": %.2f, \"records_per_mib\": %.1f, \"spilled\": %" PRIu64
	       "}", per, per_mib, d->spilled);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mem_cost [--records N] [--json]\n"
		   "Kernel memory per record held on the 75/25 mix, for klog (ring and hash\n"
		   "pools; klogd's other defaults) and the fixed-slot baseline (128- and\n"
		   "1024-byte slots), each sized for N records and filled with N appends\n"
		   "through BPF_PROG_TEST_RUN; memory is the fdinfo memlock of every map the\n"
		   "XDP program uses.  Needs root.\n"
		   "  --records N  records per design (default 65536, klogd's window)\n"
		   "  --json       one JSON object: {\"designs\": [...]}\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct design d[] = { { "klog-ring" }, { "klog-hash" }, { "fixed128" },
				     { "fixed1024" } };
	uint64_t n = 65536;
	bool json = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (klog_parse_u64(optarg, &n, true) || n < 1 || n > (1u << 24)) {
				fprintf(stderr, "mem_cost: --records %s: expected 1..16M\n", optarg);
				return 2;
			}
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((err = klog_design(KERBY_POOL_RING, n, &d[0])) ||
	    (err = klog_design(KERBY_POOL_HASH, n, &d[1])) || (err = fixed_design(128, n, &d[2])) ||
	    (err = fixed_design(1024, n, &d[3]))) {
		fprintf(stderr, "mem_cost: %s\n",
			err == -EPROTO ? "an append was refused" : strerror(-err));
		return 1;
	}
	if (json)
		printf("{\"records_offered\": %" PRIu64 ", \"possible_cpus\": %d, \"designs\": [", n,
		       libbpf_num_possible_cpus());
	else
		printf("kernel memory per record held, %" PRIu64 " records of the mix offered, "
		       "%d possible CPUs\n%-10s %9s %9s %12s %10s %12s  %s\n", n,
		       libbpf_num_possible_cpus(), "design", "held", "spilled", "map bytes",
		       "B/record", "records/MiB", "bytes per map");
	for (int i = 0; i < 4; i++)
		print_design(&d[i], json, i == 0);
	if (json)
		printf("], \"records_per_mib_ring_over_fixed1024\": %.3f}\n",
		       (double)d[3].map_bytes / d[3].records / ((double)d[0].map_bytes / d[0].records));
	return 0;
}
