// SPDX-License-Identifier: GPL-2.0-only
/*
 * drain_rate - how fast klogd's drain loop moves a full kernel log to disk.
 *
 * The real klog programs are loaded (ring pool) and the kernel log is filled
 * with N records of the Kerby paper's mix (75% 128 B, 25% 1024 B) through
 * BPF_PROG_TEST_RUN, one append per call (the program rewrites the packet
 * into its reply).  Then the timed part: the klogd writer and
 * klogd_drain_once() (batch 4096, 4 MiB backend buffer, 64 MiB segments, and
 * the thread that fetches allocation entries ahead, as klogd runs by default)
 * drain it into a fresh log directory until the kernel log is empty.  The backends (uring, psync) alternate in rounds.
 * After every round the log is read back with libklog's reader: exactly N
 * records, the right lengths, txids and payloads, or the program fails.
 * Needs root.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <klog/klog.h>

#include "backend.h"
#include "drain.h"
#include "durable.h"
#include "format.h"
#include "frame_kern.h"
#include "kern.h"
#include "klog.skel.h"
#include "parse.h"
#include "stats.h"
#include "writer.h"

struct backend_run {
	const struct klog_backend_ops *ops;
	double secs[BENCH_MAX_ROUNDS];
	double cpu[BENCH_MAX_ROUNDS]; /* user + system seconds of the process while draining */
	double tcpu[BENCH_MAX_ROUNDS]; /* the same of the draining thread alone */
	double kread[BENCH_MAX_ROUNDS]; /* seconds of klog_kern_read alone over the fill */
	uint64_t commits[BENCH_MAX_ROUNDS];
};

struct config {
	uint64_t records;
	int rounds;
	const char *parent;
	uint32_t batch;
	size_t buf_size;
	uint64_t seg_size;
	bool json;
	bool prefetch;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: drain_rate [options]\n"
		"Fill the kernel log through the real klog programs, then time klogd's drain\n"
		"loop moving it to disk, for each backend in alternating rounds.  Needs root.\n\n"
		"  --records N       records per fill (default 200000; 75%% 128 B, 25%% 1024 B)\n"
		"  --rounds N        rounds of every backend, median reported (default 3)\n"
		"  --dir PARENT      the log directories are made under PARENT (default /var/tmp)\n"
		"  --backend NAME    uring, psync or both (default both)\n"
		"  --batch N         most records per datasync (default 4096, as klogd)\n"
		"  --buf-size N      backend staging buffer bytes (default 4194304, as klogd)\n"
		"  --segment-size N  bytes per segment file (default 67108864, as klogd)\n"
		"  --prefetch on|off fetch allocation entries ahead in a second thread\n"
		"                    (default on, as klogd; off: the drain's thread does)\n"
		"  --json            one JSON object instead of the table\n"
		"  --help            this text\n");
}

/* User + system seconds of the process (RUSAGE_SELF) or of this thread (RUSAGE_THREAD). */
static double cpu_now(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Append the n records of m through the XDP program, expecting LSNs from first on. */
static int fill(struct klog *skel, struct klog_kern *k, const struct mix *m, uint64_t first)
{
	static uint8_t in[MIX_LARGE + 256], out[MIX_LARGE + 256];
	int fd = bpf_program__fd(skel->progs.klog_xdp_append);

	for (uint64_t i = 0; i < m->n; i++) {
		struct frame fr;
		struct klog_msg msg;
		size_t len;

		frame_default(&fr, IP4, mix_payload(m, i), m->sizes[i]);
		fr.hdr.txid = htobe64(i + 1);
		fr.hdr.request_id = htobe64(first + i);
		len = frame_build(&fr, in, sizeof(in));
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		if (!len)
			return -ENOSPC;
		if (bpf_prog_test_run_opts(fd, &o))
			return -errno;
		if (o.retval != XDP_TX || o.data_size_out < sizeof(struct klog_hdr) ||
		    klog_decode(out + o.data_size_out - sizeof(struct klog_hdr),
				sizeof(struct klog_hdr), &msg)) {
			fprintf(stderr, "drain_rate: append %llu: no reply (verdict %u)\n",
				(unsigned long long)i, o.retval);
			return -EPROTO;
		}
		if (msg.opcode != KLOG_OP_ACK || msg.status != KLOG_ST_OK || msg.lsn != first + i) {
			fprintf(stderr, "drain_rate: append %llu: %s, LSN %llu (want %llu)\n",
				(unsigned long long)i, klog_status_str(msg.status),
				(unsigned long long)msg.lsn, (unsigned long long)(first + i));
			return -EPROTO;
		}
	}
	return __atomic_load_n(&k->ctl->next_lsn, __ATOMIC_ACQUIRE) == first + m->n ? 0 : -EPROTO;
}

struct verify {
	const struct mix *m;
	uint64_t first, seen, bytes;
	int bad;
};

static int verify_one(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct verify *v = ctx;
	uint64_t i = rec->lsn - v->first;

	if (i != v->seen || !mix_holds(v->m, i, rec, payload)) {
		fprintf(stderr, "drain_rate: LSN %llu on disk is not the record appended "
			"(len %u, txid %llu)\n", (unsigned long long)rec->lsn, rec->len,
			(unsigned long long)rec->txid);
		return -EBADMSG;
	}
	v->seen++;
	v->bytes += rec->len;
	return 0;
}

/* Every one of the n records from first is durable in dir, and nothing else. */
static int verify_log(const char *dir, const struct mix *m, uint64_t first)
{
	struct verify v = { .m = m, .first = first };
	struct klog_reader *r;
	uint64_t lo, hi;
	int err = klog_reader_open(&r, dir);

	if (err)
		return err;
	if ((err = klog_reader_bounds(r, &lo, &hi)) == 0)
		err = klog_iterate(r, first, first + m->n - 1, verify_one, &v);
	klog_reader_close(r);
	if (err)
		return err;
	if (lo != first || hi != first + m->n - 1 || v.seen != m->n ||
	    v.bytes != m->payload_bytes) {
		fprintf(stderr, "drain_rate: %s holds LSNs %llu..%llu, %llu records read back, "
			"want %llu..%llu\n", dir, (unsigned long long)lo, (unsigned long long)hi,
			(unsigned long long)v.seen, (unsigned long long)first,
			(unsigned long long)(first + m->n - 1));
		return -EBADMSG;
	}
	return 0;
}

/* One round of one backend: fill, time the drain into a fresh directory, verify. */
static int run_one(const struct config *c, struct klog *skel, struct klog_kern *k,
		   struct klogd_prefetch *pf, const struct mix *m, struct backend_run *br,
		   int round)
{
	struct klog_backend_opts bo = { .queue_depth = 64, .buf_size = c->buf_size };
	uint64_t first = __atomic_load_n(&k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	struct klog_writer_opts wo = { .seg_size = c->seg_size, .max_record = KLOG_MAX_RECORD,
				       .first_lsn = first };
	struct klog_writer_recovery rec;
	struct klog_backend *b = NULL;
	struct klog_writer *w = NULL;
	struct klogd_drain d;
	char dir[4096];
	double t0, c0, tc0;
	int err, n;

	snprintf(dir, sizeof(dir), "%s/klog-drain-rate.%d.%s.%d", c->parent, (int)getpid(),
		 br->ops->name, round);
	remove_log_dir(dir);
	if ((err = fill(skel, k, m, first))) {
		fprintf(stderr, "drain_rate: filling the kernel log: %s\n", strerror(-err));
		return err;
	}
	if ((err = br->ops->open(&b, &bo))) {
		fprintf(stderr, "drain_rate: %s backend: %s\n", br->ops->name, strerror(-err));
		return err;
	}
	wo.dir = dir;
	if ((err = klog_writer_open(&w, &wo, b, &rec))) {
		fprintf(stderr, "drain_rate: opening a log in %s: %s\n", dir, strerror(-err));
		goto out;
	}
	if (!rec.direct)
		fprintf(stderr, "drain_rate: warning: %s does not take O_DIRECT\n", c->parent);
	d = (struct klogd_drain){ .k = k, .s = klog_writer_store(w), .prefetch = pf,
				  .batch = c->batch };
	if ((err = klogd_drain_reconcile(&d)))
		goto out;
	/*
	 * What reading the kernel log alone costs, the drain's first step for
	 * every record: the same data the fill has just left in the caches.
	 */
	t0 = bench_now();
	for (uint64_t lsn = first; lsn < first + m->n; lsn++) {
		static uint8_t scratch[KLOG_MAX_RECORD];

		if ((n = klog_kern_read(k, lsn, NULL, scratch, sizeof(scratch))) != m->sizes[lsn - first]) {
			fprintf(stderr, "drain_rate: klog_kern_read(%llu): %s\n",
				(unsigned long long)lsn, n < 0 ? strerror(-n) : "wrong length");
			err = n < 0 ? n : -EBADMSG;
			goto out;
		}
	}
	br->kread[round] = bench_now() - t0;

	t0 = bench_now();
	c0 = cpu_now(RUSAGE_SELF);
	tc0 = cpu_now(RUSAGE_THREAD);
	while ((n = klogd_drain_once(&d)) > 0)
		;
	br->secs[round] = bench_now() - t0;
	br->cpu[round] = cpu_now(RUSAGE_SELF) - c0;
	br->tcpu[round] = cpu_now(RUSAGE_THREAD) - tc0;
	br->commits[round] = d.commits;
	err = n;
	if (err) {
		fprintf(stderr, "drain_rate: %s: drain: %s\n", br->ops->name, strerror(-err));
		goto out;
	}
	if (d.records != m->n || d.bytes != m->payload_bytes ||
	    klog_writer_durable(w) != first + m->n ||
	    __atomic_load_n(&k->ctl->truncated_lsn, __ATOMIC_ACQUIRE) != first + m->n) {
		fprintf(stderr, "drain_rate: %s: drained %llu records (%llu bytes), durable up to "
			"LSN %llu, want %llu records from LSN %llu\n", br->ops->name,
			(unsigned long long)d.records, (unsigned long long)d.bytes,
			(unsigned long long)klog_writer_durable(w), (unsigned long long)m->n,
			(unsigned long long)first);
		err = -EBADMSG;
		goto out;
	}
	klog_writer_close(w);
	w = NULL;
	if ((err = verify_log(dir, m, first)))
		fprintf(stderr, "drain_rate: %s: reading the log back: %s\n", br->ops->name,
			strerror(-err));
out:
	klog_writer_close(w);
	if (b)
		b->ops->close(b);
	remove_log_dir(dir);
	/* Let the removal's discards and journal settle outside the next timed drain. */
	sync();
	return err;
}

static int parse_args(int argc, char **argv, struct config *c, const char **backend)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'B' },
		{ "batch", required_argument, NULL, 'b' },
		{ "buf-size", required_argument, NULL, 'u' },
		{ "segment-size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			if (klog_parse_u64(optarg, &c->records, false) || !c->records ||
			    c->records > UINT32_MAX / 2)
				goto bad;
			break;
		case 'n':
			if (klog_parse_u64(optarg, &v, false) || !v || v > BENCH_MAX_ROUNDS)
				goto bad;
			c->rounds = (int)v;
			break;
		case 'd': c->parent = optarg; break;
		case 'B':
			if (strcmp(optarg, "both") && !klog_backend_find(optarg))
				goto bad;
			*backend = optarg;
			break;
		case 'b':
			if (klog_parse_u64(optarg, &v, false) || !v || v > (1u << 20))
				goto bad;
			c->batch = (uint32_t)v;
			break;
		case 'u':
			if (klog_parse_u64(optarg, &v, false) || !v || v % 4096)
				goto bad;
			c->buf_size = v;
			break;
		case 's':
			if (klog_parse_u64(optarg, &v, false) || v < (1u << 20))
				goto bad;
			c->seg_size = v;
			break;
		case 'j': c->json = true; break;
		case 'p':
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				goto bad;
			c->prefetch = !strcmp(optarg, "on");
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		continue;
bad:
		fprintf(stderr, "drain_rate: invalid value '%s' (see --help)\n", optarg);
		return -EINVAL;
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static void print_stat_json(const char *name, struct bench_stat s, const char *sep)
{
	printf("\"median_%s\": %.1f, \"min_%s\": %.1f, \"max_%s\": %.1f%s", name, s.median, name,
	       s.min, name, s.max, sep);
}

static void report(const struct config *c, const struct mix *m, struct backend_run *br, int nb)
{
	if (c->json)
		printf("{\"records\": %llu, \"large_records\": %llu, \"payload_bytes\": %llu, "
		       "\"disk_bytes\": %llu, \"rounds\": %d, \"batch\": %u, \"buf_size\": %zu, "
		       "\"seg_size\": %llu, \"block_size\": %d, \"prefetch\": %s, \"dir\": \"%s\", "
		       "\"backends\": [",
		       (unsigned long long)m->n, (unsigned long long)m->n_large,
		       (unsigned long long)m->payload_bytes, (unsigned long long)m->disk_bytes,
		       c->rounds, c->batch, c->buf_size, (unsigned long long)c->seg_size,
		       KLOG_BLOCK_SIZE, c->prefetch ? "true" : "false", c->parent);
	else
		printf("klog drain rate: %llu records (%.0f%% of 1024 B, the rest 128 B; %.1f MB "
		       "payload, %.1f MB of records on disk), batch %u, buffer %zu KiB, segments "
		       "%llu MiB, prefetch thread %s, %d rounds, under %s\n"
		       "%-7s %12s  %-17s %8s  %-13s %7s %11s %11s %11s %10s\n",
		       (unsigned long long)m->n, 100.0 * m->n_large / m->n, m->payload_bytes / 1e6,
		       m->disk_bytes / 1e6, c->batch, c->buf_size >> 10,
		       (unsigned long long)(c->seg_size >> 20), c->prefetch ? "on" : "off",
		       c->rounds, c->parent, "backend", "records/s", "min-max", "MB/s", "min-max",
		       "commits", "CPU us/rec", "drain us/rec", "ns/rec", "kread ns");
	for (int i = 0; i < nb; i++) {
		double rps[BENCH_MAX_ROUNDS], mbps[BENCH_MAX_ROUNDS], cpu[BENCH_MAX_ROUNDS];
		double tcpu[BENCH_MAX_ROUNDS], kread[BENCH_MAX_ROUNDS], ns_rec;
		struct bench_stat s_rps, s_mbps, s_cpu, s_tcpu, secs, s_kread;

		for (int r = 0; r < c->rounds; r++) {
			rps[r] = m->n / br[i].secs[r];
			mbps[r] = m->payload_bytes / br[i].secs[r] / 1e6;
			cpu[r] = br[i].cpu[r] / m->n * 1e6;
			tcpu[r] = br[i].tcpu[r] / m->n * 1e6;
			kread[r] = br[i].kread[r] / m->n * 1e9;
		}
		s_rps = bench_stat_of(rps, c->rounds);
		s_mbps = bench_stat_of(mbps, c->rounds);
		s_cpu = bench_stat_of(cpu, c->rounds);
		s_tcpu = bench_stat_of(tcpu, c->rounds);
		secs = bench_stat_of(br[i].secs, c->rounds);
		s_kread = bench_stat_of(kread, c->rounds);
		ns_rec = secs.median / m->n * 1e9;
		if (c->json) {
			printf("%s{\"name\": \"%s\", \"commits\": %llu, ", i ? ", " : "",
			       br[i].ops->name, (unsigned long long)br[i].commits[0]);
			print_stat_json("records_per_s", s_rps, ", ");
			print_stat_json("mb_per_s", s_mbps, ", ");
			printf("\"median_seconds\": %.4f, \"median_disk_mb_per_s\": %.1f, ",
			       secs.median, m->disk_bytes / secs.median / 1e6);
			printf("\"median_cpu_us_per_record\": %.3f, \"median_cpu_share\": %.3f, "
			       "\"median_drain_thread_cpu_us_per_record\": %.3f, "
			       "\"median_ns_per_record\": %.1f, ",
			       s_cpu.median, s_cpu.median * 1e-6 * m->n / secs.median, s_tcpu.median,
			       ns_rec);
			print_stat_json("kern_read_ns_per_record", s_kread, "}");
		} else {
			char r1[48], r2[48];

			snprintf(r1, sizeof(r1), "%.0f-%.0f", s_rps.min, s_rps.max);
			snprintf(r2, sizeof(r2), "%.1f-%.1f", s_mbps.min, s_mbps.max);
			printf("%-7s %12.0f  %-17s %8.1f  %-13s %7llu %11.2f %12.2f %11.0f %10.0f\n",
			       br[i].ops->name, s_rps.median, r1, s_mbps.median, r2,
			       (unsigned long long)br[i].commits[0], s_cpu.median, s_tcpu.median,
			       ns_rec, s_kread.median);
		}
	}
	if (c->json)
		printf("]}\n");
	else
		printf("MB/s counts payload bytes (MB = 10^6 B); records on disk add a 40-byte "
		       "header and padding to 8 B.\nCPU us/rec: user + system time of the "
		       "process while draining, per record (drain us/rec: of the draining thread "
		       "alone,\nwithout the prefetch thread's); ns/rec: drain time per record;\n"
		       "kread ns: klog_kern_read alone per record (the drain's first step), "
		       "timed before the drain.\n");
}

int main(int argc, char **argv)
{
	struct config c = { .records = 200000, .rounds = 3, .parent = "/var/tmp",
			    .batch = 4096, .buf_size = 4u << 20, .seg_size = KLOG_DEFAULT_SEG_SIZE,
			    .prefetch = true };
	struct klog_kern_opts ko = KLOG_KERN_OPTS_DEFAULT;
	struct backend_run br[2] = { { .ops = &klog_backend_uring }, { .ops = &klog_backend_psync } };
	const char *backend = "both";
	struct klogd_prefetch *pf = NULL;
	struct klog_kern k;
	struct klog *skel;
	struct mix m;
	int nb = 2, err;

	if (parse_args(argc, argv, &c, &backend))
		return 2;
	if (strcmp(backend, "both")) {
		br[0].ops = klog_backend_find(backend);
		nb = 1;
	}
	if (mix_init(&m, c.records)) {
		fprintf(stderr, "drain_rate: out of memory\n");
		return 1;
	}
	/* Room for one whole fill: the window holds N LSNs, the ring all their blocks. */
	ko.pool = KERBY_POOL_RING;
	ko.window = c.records + 1 > 262144 ? (uint32_t)c.records + 1 : 262144;
	ko.pool_blocks = m.blocks + m.blocks / 16 + 1024;
	skel = klog__open();
	if (!skel) {
		fprintf(stderr, "drain_rate: opening the klog programs: %s\n", strerror(errno));
		return 1;
	}
	if ((err = klog_kern_configure(skel->obj, &ko)) || (err = klog__load(skel)) ||
	    (err = klog_kern_open(&k, skel->obj)) || (err = frame_kern_serve(&k, true)) ||
	    (err = klog_kern_init(&k, KLOG_FIRST_LSN, 1))) {
		fprintf(stderr, "drain_rate: loading the klog programs: %s%s\n", strerror(-err),
			geteuid() ? " (run as root)" : "");
		klog__destroy(skel);
		return 1;
	}
	if (c.prefetch && (err = klogd_prefetch_start(&pf, &k)))
		fprintf(stderr, "drain_rate: starting the prefetch thread: %s\n", strerror(-err));
	for (int r = 0; r < c.rounds && !err; r++)
		for (int i = 0; i < nb && !err; i++) {
			/* Alternate which backend goes first, so neither always follows the other. */
			int b = r % 2 ? nb - 1 - i : i;

			err = run_one(&c, skel, &k, pf, &m, &br[b], r);
		}
	if (!err)
		report(&c, &m, br, nb);
	klogd_prefetch_stop(pf);
	klog_kern_close(&k);
	klog__destroy(skel);
	mix_free(&m);
	return err ? 1 : 0;
}
