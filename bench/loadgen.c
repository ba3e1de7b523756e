// SPDX-License-Identifier: GPL-2.0-only
/*
 * loadgen - an in-kernel load generator for klog's protocol, after
 * xdp-tools' xdp-trafficgen: BPF_PROG_TEST_RUN with live frames runs
 * loadgen_gen (loadgen.bpf.c) on the client's end of a veth pair, once per
 * frame, and each XDP_TX it returns sends a new APPEND to the server; the
 * replies are counted in the kernel by loadgen_count, attached to the same
 * interface for the run (the program that was there is put back after).
 * Unpaced, it offers far more than any server here takes, so the ACKs per
 * second are the server's saturation throughput, with no client process in
 * the way.
 *
 * The UDP checksum is 0 (none; valid for IPv4): a frame from XDP reaches the
 * server's stack without the checksum-offload state a socket's packet has,
 * so a real checksum would make the userspace server sum every payload in
 * software, which `klogctl bench` on the same pair never asks of it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <klog/klog.h>

#include "loadgen_load.h"
#include "loadgen_net.h"
#include "parse.h"

#define LOADGEN_MAX_THREADS 64
/* How often the main thread looks whether the generator's threads are done. */
#define LOADGEN_POLL_US 1000
/* After the last frame, replies are awaited until none came for this long, or the limit. */
#define LOADGEN_QUIET_NS 200000000ull
#define LOADGEN_WAIT_NS 5000000000ull

struct args {
	const char *iface, *dst_mac, *size;
	struct in_addr server;
	uint16_t port, sport;
	uint64_t count, rate;
	unsigned int small, large;
	cpu_set_t cpus;
	uint32_t client_id;
	int nice;
	bool json;
};

struct worker {
	pthread_t th;
	int cpu, prog_fd, ifindex, nice;
	const uint8_t *frame;
	size_t len;
	uint64_t count; /* frames to send */
	double rate;    /* frames per second; 0: unpaced */
	pthread_barrier_t *start;
	uint64_t cpu_ns; /* CPU time the thread had */
	int kicked;      /* the main thread ends its BPF_PROG_TEST_RUN (SIGUSR1) */
	int done;
	int err;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* SIGUSR1 only interrupts a generator thread's BPF_PROG_TEST_RUN (EINTR). */
static void on_kick(int sig)
{
	(void)sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loadgen --iface IF --server IP [options]\n"
		"Send klog APPENDs to the server at IP from the kernel, through interface IF\n"
		"(the client's end of a veth pair whose other end runs the server with NAPI:\n"
		"an XDP program or GRO), and count the replies in the kernel.  BPF_PROG_TEST_RUN\n"
		"with live frames runs the generator on each CPU of --cpus, one thread each;\n"
		"every frame is a new request (client id --client-id + CPU, request ids 1, 2,\n"
		"...) stamped with the time as txid, so each ACK's latency is measured in the\n"
		"kernel.  Unpaced, the latencies are queueing latencies at saturation (open\n"
		"loop); --rate gives a moderate load.\n"
		"Prints frames sent, replies by opcode and status, frames without a reply, the\n"
		"time from the first frame to the last reply, ACKs/s and ACK latency p50/p99.\n\n"
		"  --iface IF       client interface, in this network namespace (required)\n"
		"  --server IP      the server's IPv4 address (required)\n"
		"  --dst-mac MAC    the server's MAC address (default: IP's ARP entry on IF)\n"
		"  --port N         the server's UDP port (default %d)\n"
		"  --sport N        the generator's UDP port, where replies go (default %d)\n"
		"  --count N        frames to send in all (default 1M; k, M, G: powers of 1024)\n"
		"  --size S         payload bytes: N (1..%d) or mix = 75%% 128 B, 25%% 1024 B\n"
		"                   (every 4th request of a CPU is 1024 B; default mix)\n"
		"  --rate N         frames per second in all, on a fixed schedule (after a stall,\n"
		"                   at most %d frames per CPU at once catch up); the generator\n"
		"                   spins on its CPUs between frames (default 0: unpaced)\n"
		"  --cpus LIST      CPUs to send from, e.g. 0,1 or 0-3 (default: the CPUs this\n"
		"                   process may run on)\n"
		"  --client-id N    the first client id (default random)\n"
		"  --nice N         the generator threads' nice value, -20..19 (default 0; 19\n"
		"                   lets a server's NAPI threads on the same CPUs come first)\n"
		"  --json           the figures as one JSON object\n"
		"  --help           this text\n"
		"Replies that find the client's veth ring full are dropped there (the server's\n"
		"veth counts them in its tx_dropped): the client's NAPI threads must keep up,\n"
		"e.g. SCHED_FIFO (chrt) when they share CPUs with the generator.\n"
		"Exit status: 0; 1 when a step fails, a frame could not be rewritten, or no\n"
		"reply came; 2 for bad options.\n",
		KLOG_DEFAULT_PORT, KLOG_DEFAULT_PORT + 1, KLOG_MAX_RECORD, LOADGEN_CATCH_UP);
}

/* "0,2-3" into set; -EINVAL unless a list of CPUs and ranges. */
static int parse_cpus(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	while (*s) {
		char *end;
		unsigned long a, b;

		/* Decimal digits only: strtoul() would take a sign or spaces. */
		if (*s < '0' || *s > '9')
			return -EINVAL;
		a = b = strtoul(s, &end, 10);
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			b = strtoul(s, &end, 10);
			if (b < a)
				return -EINVAL;
		}
		if (b >= CPU_SETSIZE)
			return -EINVAL;
		for (unsigned long c = a; c <= b; c++)
			CPU_SET(c, set);
		if (*end != ',' && *end)
			return -EINVAL;
		s = *end ? end + 1 : end;
	}
	return CPU_COUNT(set) ? 0 : -EINVAL;
}

static int parse_size(const char *s, struct args *a)
{
	uint64_t v;

	a->size = s;
	if (!strcmp(s, "mix")) {
		a->small = 128;
		a->large = 1024;
		return 0;
	}
	if (klog_parse_u64(s, &v, false) || !v || v > KLOG_MAX_RECORD)
		return -EINVAL;
	a->small = 0;
	a->large = (unsigned int)v;
	return 0;
}

/* 1 for --help, 2 for a bad option, else 0. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },  { "server", required_argument, NULL, 's' },
		{ "dst-mac", required_argument, NULL, 'm' }, { "port", required_argument, NULL, 'p' },
		{ "sport", required_argument, NULL, 'P' },  { "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'z' },   { "rate", required_argument, NULL, 'r' },
		{ "cpus", required_argument, NULL, 'c' },   { "client-id", required_argument, NULL, 'C' },
		{ "nice", required_argument, NULL, 'N' },   { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool cpus = false;
	uint64_t v;
	long l;
	char *end;
	int o;

	*a = (struct args){ .port = KLOG_DEFAULT_PORT, .sport = KLOG_DEFAULT_PORT + 1,
			    .count = 1 << 20 };
	parse_size("mix", a);
	if (getrandom(&a->client_id, sizeof(a->client_id), 0) != sizeof(a->client_id))
		a->client_id = (uint32_t)getpid() << 16;
	a->client_id &= ~0xffu; /* + CPU stays clear of other runs' ids */
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'i': a->iface = optarg; continue;
		case 'm': a->dst_mac = optarg; continue;
		case 'j': a->json = true; continue;
		case 'h': usage(stdout); return 1;
		case 's':
			if (inet_pton(AF_INET, optarg, &a->server) != 1)
				break;
			continue;
		case 'p':
		case 'P':
			if (klog_parse_u64(optarg, &v, false) || !v || v > 65535)
				break;
			*(o == 'p' ? &a->port : &a->sport) = (uint16_t)v;
			continue;
		case 'n':
			if (klog_parse_u64(optarg, &v, true) || !v)
				break;
			a->count = v;
			continue;
		case 'r':
			if (klog_parse_u64(optarg, &v, true))
				break;
			a->rate = v;
			continue;
		case 'z':
			if (parse_size(optarg, a))
				break;
			continue;
		case 'c':
			if (parse_cpus(optarg, &a->cpus))
				break;
			cpus = true;
			continue;
		case 'N':
			l = strtol(optarg, &end, 10);
			if (end == optarg || *end || l < -20 || l > 19 ||
			    !strchr("-0123456789", *optarg))
				break;
			a->nice = (int)l;
			continue;
		case 'C':
			if (klog_parse_u64(optarg, &v, false) || v > UINT32_MAX)
				break;
			a->client_id = (uint32_t)v;
			continue;
		default:
			usage(stderr);
			return 2;
		}
		fprintf(stderr, "loadgen: invalid value '%s' (see --help)\n", optarg);
		return 2;
	}
	if (!a->iface || !a->server.s_addr || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!cpus && sched_getaffinity(0, sizeof(a->cpus), &a->cpus))
		return 2;
	if (CPU_COUNT(&a->cpus) > LOADGEN_MAX_THREADS) {
		fprintf(stderr, "loadgen: at most %d CPUs\n", LOADGEN_MAX_THREADS);
		return 2;
	}
	if (a->count / CPU_COUNT(&a->cpus) >= UINT32_MAX) {
		fprintf(stderr, "loadgen: at most %u frames per CPU\n", UINT32_MAX - 1);
		return 2;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns() */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The worker's frames, from one BPF_PROG_TEST_RUN (the program paces and
 * limits itself: loadgen_pace); paced, it runs until the main thread kicks
 * it.  0 or -errno.
 */
static int send_frames(struct worker *w)
{
	struct xdp_md ctx = { .data_end = (__u32)w->len, .ingress_ifindex = (__u32)w->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = w->frame, .data_size_in = (__u32)w->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = w->rate > 0 ? UINT32_MAX : (__u32)w->count,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	int err;

	do
		err = bpf_prog_test_run_opts(w->prog_fd, &opts);
	while (!err && w->rate > 0 && !__atomic_load_n(&w->kicked, __ATOMIC_ACQUIRE));
	return err == -EINTR && __atomic_load_n(&w->kicked, __ATOMIC_ACQUIRE) ? 0 : err;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct timespec ts;
	sigset_t set;

	/* SIGINT and SIGTERM are the main thread's; SIGUSR1 (a kick) is ours. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), w->nice))
		w->err = -errno;
	pthread_barrier_wait(w->start);
	if (!w->err)
		w->err = send_frames(w);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	w->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Replies: every reply this run's requests got. */
static uint64_t replies(const struct loadgen_counts *c)
{
	uint64_t n = c->acks + c->other_replies;

	for (int s = 0; s < LOADGEN_STATUSES; s++)
		n += c->nacks[s];
	return n;
}

/* Wait until every frame has its reply, or none came for LOADGEN_QUIET_NS. */
static int await_replies(struct loadgen *skel, struct loadgen_counts *c)
{
	uint64_t t0 = now_ns(), quiet = t0, seen = 0;
	int err;

	while (!(err = loadgen_counts_sum(skel, c)) && !stop) {
		uint64_t t = now_ns();

		if (replies(c) != seen)
			seen = replies(c), quiet = t;
		if (seen >= c->sent || t - quiet > LOADGEN_QUIET_NS || t - t0 > LOADGEN_WAIT_NS)
			break;
		usleep(10000);
	}
	return err;
}

struct result {
	struct loadgen_counts c;
	struct loadgen_hist h;
	uint64_t t0, t_sent;
	uint64_t gen_cpu_ns; /* CPU time of the generator's threads, all together */
	int threads;
};

static void print_text(const struct args *a, const struct result *r)
{
	const struct loadgen_counts *c = &r->c;
	double dur = (double)(c->last_reply_ns - r->t0) / 1e9;

	printf("loadgen: %llu frames (%llu of %u B) from %d CPUs in %.3f s (%.3f s of CPU), %s\n",
	       (unsigned long long)c->sent, (unsigned long long)c->sent_large, a->large,
	       r->threads, (double)(r->t_sent - r->t0) / 1e9, (double)r->gen_cpu_ns / 1e9,
	       a->rate ? "paced" : "unpaced");
	printf("loadgen: acks %llu", (unsigned long long)c->acks);
	for (int s = 0; s < LOADGEN_STATUSES; s++)
		if (c->nacks[s])
			printf(", nack %s %llu", klog_status_str(s), (unsigned long long)c->nacks[s]);
	printf(", other %llu, no reply %llu; foreign %llu, malformed %llu, passed %llu\n",
	       (unsigned long long)c->other_replies, (unsigned long long)(c->sent - replies(c)),
	       (unsigned long long)c->foreign, (unsigned long long)c->malformed,
	       (unsigned long long)c->passed);
	printf("loadgen: %.0f acks/s over %.3f s (first frame to last reply); ack latency "
	       "p50 %.1f us, p99 %.1f us%s\n", dur > 0 ? (double)c->acks / dur : 0, dur,
	       loadgen_quantile(&r->h, 0.5) / 1e3, loadgen_quantile(&r->h, 0.99) / 1e3,
	       a->rate ? "" : " (open loop at saturation: queueing latency)");
}

static void print_json(const struct args *a, const struct result *r)
{
	const struct loadgen_counts *c = &r->c;
	double dur = (double)(c->last_reply_ns - r->t0) / 1e9;
	const char *sep = "";

	printf("{\"size\": \"%s\", \"cpus\": %d, \"rate\": %llu, \"client_id\": %u, "
	       "\"sent\": %llu, \"sent_large\": %llu, \"acks\": %llu, \"nacks\": {",
	       a->size, r->threads, (unsigned long long)a->rate, a->client_id,
	       (unsigned long long)c->sent, (unsigned long long)c->sent_large,
	       (unsigned long long)c->acks);
	for (int s = 0; s < LOADGEN_STATUSES; s++) {
		if (!c->nacks[s])
			continue;
		printf("%s\"%s\": %llu", sep, klog_status_str(s), (unsigned long long)c->nacks[s]);
		sep = ", ";
	}
	printf("}, \"other_replies\": %llu, \"no_reply\": %llu, \"foreign\": %llu, "
	       "\"malformed\": %llu, \"passed\": %llu, \"send_s\": %.6f, \"send_cpu_s\": %.6f, "
	       "\"duration_s\": %.6f, "
	       "\"acks_per_s\": %.0f, \"latency_us\": {\"p50\": %.2f, \"p99\": %.2f}, "
	       "\"latency_is\": \"%s\"}\n",
	       (unsigned long long)c->other_replies, (unsigned long long)(c->sent - replies(c)),
	       (unsigned long long)c->foreign, (unsigned long long)c->malformed,
	       (unsigned long long)c->passed, (double)(r->t_sent - r->t0) / 1e9,
	       (double)r->gen_cpu_ns / 1e9, dur,
	       dur > 0 ? (double)c->acks / dur : 0, loadgen_quantile(&r->h, 0.5) / 1e3,
	       loadgen_quantile(&r->h, 0.99) / 1e3,
	       a->rate ? "paced open loop" : "open loop at saturation: queueing latency");
}

/* Frames sent so far on every CPU together (0 if the counters cannot be read). */
static uint64_t sent_so_far(struct loadgen *skel)
{
	struct loadgen_counts c;

	return loadgen_counts_sum(skel, &c) ? 0 : c.sent;
}

/*
 * Wait for the n threads to finish; kick them when a paced run has sent
 * every frame or a signal asks to stop.
 */
static void await_workers(const struct args *a, struct loadgen *skel, struct worker *w, int n)
{
	bool kicked = false;

	for (;;) {
		int done = 0;

		for (int i = 0; i < n; i++)
			done += __atomic_load_n(&w[i].done, __ATOMIC_ACQUIRE);
		if (done == n)
			return;
		if (!kicked && (stop || (a->rate && sent_so_far(skel) >= a->count))) {
			for (int i = 0; i < n; i++) {
				__atomic_store_n(&w[i].kicked, 1, __ATOMIC_RELEASE);
				pthread_kill(w[i].th, SIGUSR1);
			}
			kicked = true;
		}
		usleep(LOADGEN_POLL_US);
	}
}

/*
 * One thread per CPU of a->cpus, each with its share of the frames (its
 * CPU's quota) and of the rate; returns the first error.
 */
static int run_workers(const struct args *a, struct loadgen *skel, struct worker *w, int n,
		       struct result *r)
{
	pthread_barrier_t start;
	pthread_attr_t attr;
	int err = 0, cpu = -1;

	pthread_barrier_init(&start, NULL, (unsigned int)n + 1);
	for (int i = 0; i < n && !err; i++) {
		cpu_set_t one;

		while (!CPU_ISSET(++cpu, &a->cpus))
			;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		w[i].cpu = cpu;
		w[i].count = a->count / n + ((uint64_t)i < a->count % n);
		w[i].rate = (double)a->rate / n;
		w[i].start = &start;
		err = loadgen_pace_set(skel, cpu, w[i].count,
				       a->rate ? (uint64_t)(1e9 * n / (double)a->rate) : 0);
		if (err) {
			fprintf(stderr, "loadgen: setting the pace: %s\n", strerror(-err));
			exit(1);
		}
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		err = -pthread_create(&w[i].th, &attr, worker_main, &w[i]);
		pthread_attr_destroy(&attr);
	}
	if (err) {
		/* The barrier can no longer fill: the program ends here. */
		fprintf(stderr, "loadgen: starting a thread: %s\n", strerror(-err));
		exit(1);
	}
	r->t0 = now_ns();
	pthread_barrier_wait(&start);
	await_workers(a, skel, w, n);
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		r->gen_cpu_ns += w[i].cpu_ns;
		if (w[i].err && !err)
			err = w[i].err;
	}
	r->t_sent = now_ns();
	pthread_barrier_destroy(&start);
	return err;
}

/* The run: load, swap the counter in, send, await the replies, read the counters. */
static int run(const struct args *a, struct loadgen_req *req, struct result *r)
{
	static uint8_t frame[4096];
	struct worker w[LOADGEN_MAX_THREADS] = { 0 };
	struct loadgen *skel = NULL;
	struct loadgen_xdp x;
	int n = CPU_COUNT(&a->cpus), err, ifindex;
	size_t len;

	err = loadgen_iface(a->iface, &ifindex, req->smac, &req->saddr);
	if (err)
		return fprintf(stderr, "loadgen: %s: %s\n", a->iface, strerror(-err)), err;
	err = a->dst_mac ? loadgen_parse_mac(a->dst_mac, req->dmac)
			 : loadgen_arp(a->iface, a->server, req->dmac);
	if (err)
		return fprintf(stderr, "loadgen: no MAC address for %s on %s (--dst-mac, or "
			       "ping it once): %s\n", inet_ntoa(a->server), a->iface,
			       strerror(-err)), err;
	err = loadgen_load(&skel, req, frame, sizeof(frame), &len);
	if (err)
		return fprintf(stderr, "loadgen: loading: %s\n", strerror(-err)), err;
	err = loadgen_xdp_swap(&x, ifindex, bpf_program__fd(skel->progs.loadgen_count));
	if (err) {
		fprintf(stderr, "loadgen: attaching to %s: %s\n", a->iface, strerror(-err));
		loadgen__destroy(skel);
		return err;
	}
	for (int i = 0; i < n; i++)
		w[i] = (struct worker){ .prog_fd = bpf_program__fd(skel->progs.loadgen_gen),
					.ifindex = ifindex, .nice = a->nice, .frame = frame,
					.len = len };
	r->threads = n;
	err = run_workers(a, skel, w, n, r);
	if (err)
		fprintf(stderr, "loadgen: BPF_PROG_TEST_RUN: %s\n", strerror(-err));
	if (!err && (err = await_replies(skel, &r->c)))
		fprintf(stderr, "loadgen: reading the counters: %s\n", strerror(-err));
	if (!err && (err = loadgen_hist_sum(skel, &r->h)))
		fprintf(stderr, "loadgen: reading the histogram: %s\n", strerror(-err));
	if (loadgen_xdp_restore(&x) && !err)
		err = -EIO, fprintf(stderr, "loadgen: putting back the XDP program of %s\n",
				    a->iface);
	loadgen__destroy(skel);
	return err;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal }, kick = { .sa_handler = on_kick };
	struct loadgen_req req = { 0 };
	struct result r = { 0 };
	struct args a;
	int err;

	if ((err = parse_args(argc, argv, &a)))
		return err == 1 ? 0 : err;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &kick, NULL); /* no SA_RESTART: the syscall returns EINTR */
	req.daddr = a.server;
	req.sport = a.sport;
	req.dport = a.port;
	req.client_id = a.client_id;
	req.small = a.small;
	req.large = a.large;
	if (run(&a, &req, &r))
		return 1;
	if (a.json)
		print_json(&a, &r);
	else
		print_text(&a, &r);
	if (r.c.gen_errors) {
		fprintf(stderr, "loadgen: %llu frames could not be rewritten\n",
			(unsigned long long)r.c.gen_errors);
		return 1;
	}
	if (!replies(&r.c)) {
		fprintf(stderr, "loadgen: no reply: does %s's peer run NAPI (XDP or GRO)?\n",
			a.iface);
		return 1;
	}
	return stop ? 1 : 0;
}
