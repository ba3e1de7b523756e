// SPDX-License-Identifier: GPL-2.0-only
/*
 * klogd - loads and attaches the klog append programs, drains committed
 * records to disk in LSN order and truncates the in-kernel log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "access.h"
#include "backend.h"
#include "drain.h"
#include "format.h"
#include "loader.h"
#include "jstream.h"
#include "open.h"
#include "serve.h"
#include "parse.h"
#include "log.h"
#include "nospace.h"
#include "retain.h"
#include "metrics.h"
#include "sdnotify.h"
#include "status.h"

struct config {
	struct klogd_loader_opts load;
	struct klogd_access_cfg access;
	const char *udp_csum; /* auto, on or off */
	struct klogd_store_cfg store;
	struct klogd_retain_cfg retain; /* a log directory's; zeros: keep everything */
	char stream[80];  /* the default --stream: klog-NAME */
	uint32_t batch;
	uint64_t client_ttl_s;
	const char *metrics;      /* --metrics ADDR:PORT, or NULL */
	uint64_t stats_interval_s; /* --stats-interval; 0: no stats line */
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: klogd --iface IF --dir DIR [options]\n"
		"       klogd --iface IF --backend jetstream --nats URL[,URL...] [options]\n"
		"Append klog records in the kernel (XDP or TC) and drain them to DIR, or to\n"
		"a NATS JetStream stream that replicates them.\n\n"
		"  -i, --iface IF          interface to attach to (required)\n"
		"  -d, --dir DIR           log directory (required but with jetstream;\n"
		"                          created if missing)\n"
		"  -m, --mode MODE         xdp (native, default), xdpgeneric or tc (ingress)\n"
		"  -p, --port N            UDP port of the protocol (default %d; 1..65535)\n"
		"      --bind ADDR         take requests sent to ADDR only (repeatable, IPv4\n"
		"                          or IPv6); default: every address of IF, followed\n"
		"                          as addresses come and go. Datagrams to any other\n"
		"                          address are passed on untouched (pass_foreign)\n"
		"      --allow CIDR        take requests from sources in CIDR only\n"
		"                          (repeatable: 10.0.0.0/8, fd00::/8, a bare address;\n"
		"                          default ::/0, every source, with a warning); others\n"
		"                          get no answer (drop_refused). klogctl allow changes\n"
		"                          the list live; a restart re-applies these options\n"
		"      --udp-csum MODE     verify request UDP checksums: auto (default: on\n"
		"                          but on a veth, where a local sender's offload\n"
		"                          leaves them partial), on or off. A failed one is\n"
		"                          dropped (drop_csum), its LSN stored as a tombstone\n"
		"  -n, --name NAME         instance name: pins under /sys/fs/bpf/klog/NAME\n"
		"                          (default \"default\")\n"
		"  -w, --window N          LSNs the kernel holds before it answers FULL\n"
		"                          (default 65536; 1..%u)\n"
		"  -b, --pool-blocks N     memory pool blocks of %d bytes (default 262144;\n"
		"                          %d..%llu: one %d-byte record must fit)\n"
		"  -P, --pool KIND         ring (default) or hash\n"
		"  -c, --clients N         clients whose retransmissions are recognised\n"
		"                          (default 4096; 1..%u)\n"
		"      --client-ttl S      forget a client silent for S seconds (default 600;\n"
		"                          1..31536000)\n"
		"  -B, --backend NAME      uring (default; psync if io_uring is unavailable),\n"
		"                          psync, or jetstream (a replicated stream)\n"
		"      --nats URLS         jetstream: the NATS servers, comma-separated\n"
		"                          (nats://HOST:PORT; any one is enough to start)\n"
		"      --stream NAME       jetstream: the stream (default klog-NAME); created\n"
		"                          if missing (unless the pinned log already made\n"
		"                          records durable), else it must have klogd's\n"
		"                          settings and be the pinned log's\n"
		"      --replicas N        jetstream: 1, 3 (default) or 5 copies; a record is\n"
		"                          durable once a majority of them stored it\n"
		"  -s, --segment-size N    bytes per segment file (default 64 MiB; k, M, G;\n"
		"                          1M..1024G)\n"
		"      --batch N           most records per datasync (default 4096; 1..1048576)\n"
		"      --retain-bytes N    keep at most N bytes of segment files (k, M, G)\n"
		"      --retain-age DUR    delete segments last written longer ago than DUR\n"
		"                          (90, 90s, 15m, 12h, 7d)\n"
		"      --retain-segments N keep at most N segment files\n"
		"                          (retention: whole segments, oldest first, never\n"
		"                          the one being written nor one holding a record\n"
		"                          not yet durable; a log directory only: a stream\n"
		"                          keeps what its own limits say. klogctl trim\n"
		"                          deletes by hand)\n"
		"      --metrics ADDR:PORT serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		"                          (IPv4, or [IPv6]:PORT; port 1..65535)\n"
		"      --stats-interval D  log one line of key figures every D (90, 90s, 15m,\n"
		"                          12h, 7d; default 60s; 0: never)\n"
		"  -v, --verbose           libbpf's information too (its warnings always)\n"
		"  -h, --help              this text\n"
		"  -V, --version           print klogd's version and exit\n\n"
		"Numbers are decimal, leading zeros too (010 is ten). A bad option or value\n"
		"is named with what it may be, exit status 2.\n\n"
		"The log's maps stay pinned under /sys/fs/bpf/klog/NAME across restarts;\n"
		"the window, pool and clients they were made with win over the options\n"
		"(a differing option is told). A klog program left attached in another\n"
		"--mode is detached, one in the same mode replaced atomically.\n"
		"SIGINT or SIGTERM detaches, drains what is committed, syncs and exits,\n"
		"keeping the maps pinned: the dedup state and the log's identity survive.\n"
		"SIGHUP changes nothing (klogd logs to stderr: there is no file to reopen);\n"
		"it is logged and klogd goes on. Under systemd (Type=notify) klogd sends\n"
		"READY=1, STATUS= and STOPPING=1; its lines carry the journal's levels.\n"
		"A full disk does not stop klogd: it confirms no more durability, the records\n"
		"wait in the kernel (clients get FULL once the window fills), and it drains\n"
		"again by itself once there is room. An I/O error (EIO) stops it: restart it\n"
		"and it drains the records from the kernel again (the maps stay pinned).\n"
		"Netfilter does not see what the programs take: --bind and --allow are the\n"
		"port's filter (doc/klogd.md, \"Protecting the port\").\n"
		"While it runs, klogd keeps /run/klog/NAME.status up to date for klogctl\n"
		"status (removed on a clean exit).\n"
		"To remove a log: stop klogd, then rm -r /sys/fs/bpf/klog/NAME and DIR.\n"
		"With jetstream, klogd waits (with a backoff) for NATS at start and keeps\n"
		"records in the kernel while the stream cannot take them (clients get FULL\n"
		"once the window fills). It never deletes or re-creates a stream.\n",
		KLOG_DEFAULT_PORT, KLOG_MAX_WINDOW, KLOG_BLOCK_SIZE, KLOG_MIN_POOL_BLOCKS,
		KLOG_MAX_POOL_BLOCKS, KLOG_MAX_RECORD, KLOG_MAX_CLIENTS);
}

#define SEG_SIZE_MIN (1ull << 20)
#define SEG_SIZE_MAX (1ull << 40)

/*
 * *v = arg, a number within lo..hi (suffix: k, M, G allowed), or say what
 * is allowed and why.  RETURN VALUE: 0 or -EINVAL.
 */
static int parse_range(const char *opt, const char *arg, bool suffix, uint64_t lo, uint64_t hi,
		       const char *why, uint64_t *v)
{
	if (klog_parse_u64(arg, v, suffix)) {
		fprintf(stderr, "klogd: invalid value for --%s: '%s': a decimal number%s, "
			"%llu..%llu (%s)\n", opt, arg, suffix ? " (k, M or G: KiB, MiB, GiB)" : "",
			(unsigned long long)lo, (unsigned long long)hi, why);
		return -EINVAL;
	}
	if (*v < lo || *v > hi) {
		fprintf(stderr, "klogd: --%s %s is out of range: %llu..%llu (%s)\n", opt, arg,
			(unsigned long long)lo, (unsigned long long)hi, why);
		return -EINVAL;
	}
	return 0;
}

static int check_args(int argc, char **argv, struct config *c);

/* Take --bind ADDR (bind) or --allow CIDR into the lists, or say what is wrong with it. */
static int add_access(struct klogd_access_cfg *a, bool bind, const char *arg)
{
	size_t *n = bind ? &a->nbind : &a->nallow;
	size_t max = bind ? KLOG_MAX_LOCAL_ADDRS : KLOG_MAX_ALLOW, size = bind ? sizeof(*a->bind)
									 : sizeof(*a->allow);
	void *list = (void *)(bind ? (const void *)a->bind : (const void *)a->allow);
	bool v4;
	int err;

	if (*n == max) {
		fprintf(stderr, "klogd: more than %zu --%s\n", max, bind ? "bind" : "allow");
		return -E2BIG;
	}
	if (!(list = realloc(list, (*n + 1) * size)))
		return -ENOMEM;
	if (bind) {
		a->bind = list;
		err = klog_parse_addr(arg, &((struct klog_addr *)list)[*n], &v4);
	} else {
		a->allow = list;
		err = klog_parse_cidr(arg, &((struct klog_allow_key *)list)[*n]);
	}
	if (err) {
		fprintf(stderr, "klogd: --%s %s: %s\n", bind ? "bind" : "allow", arg,
			bind ? "not an IPv4 or IPv6 address" : klog_cidr_strerror(err));
		return err;
	}
	(*n)++;
	return 0;
}

/* Long options without a short one. */
enum { OPT_RETAIN_BYTES = 0x5201, OPT_RETAIN_AGE, OPT_RETAIN_SEGMENTS };

static int parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "dir", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "window", required_argument, NULL, 'w' },
		{ "pool-blocks", required_argument, NULL, 'b' },
		{ "pool", required_argument, NULL, 'P' },
		{ "clients", required_argument, NULL, 'c' },
		{ "backend", required_argument, NULL, 'B' },
		{ "segment-size", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'T' },
		{ "client-ttl", required_argument, NULL, 'L' },
		{ "nats", required_argument, NULL, 'N' },
		{ "stream", required_argument, NULL, 'S' },
		{ "replicas", required_argument, NULL, 'R' },
		{ "bind", required_argument, NULL, 'A' },
		{ "allow", required_argument, NULL, 'C' },
		{ "udp-csum", required_argument, NULL, 'U' },
		{ "retain-bytes", required_argument, NULL, OPT_RETAIN_BYTES },
		{ "retain-age", required_argument, NULL, OPT_RETAIN_AGE },
		{ "retain-segments", required_argument, NULL, OPT_RETAIN_SEGMENTS },
		{ "metrics", required_argument, NULL, 'M' },
		{ "stats-interval", required_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	char pool_why[160];
	uint64_t v;
	int o;

	snprintf(pool_why, sizeof(pool_why), "one %d-byte record needs %d blocks of %d bytes, "
		 "taken at once; the ring's index is 32-bit", KLOG_MAX_RECORD, KLOG_MAX_BLOCKS,
		 KLOG_BLOCK_SIZE);

	*c = (struct config){
		.load = { .name = "default", .mode = KLOGD_MODE_XDP, .kern = KLOG_KERN_OPTS_DEFAULT },
		.store = { .backend = "uring", .seg_size = KLOG_DEFAULT_SEG_SIZE, .replicas = 3 },
		.batch = 4096, .client_ttl_s = 600, .udp_csum = "auto", .stats_interval_s = 60,
	};
	while ((o = getopt_long(argc, argv, "i:d:m:p:n:w:b:P:c:B:s:vhV", opts, NULL)) != -1) {
		switch (o) {
		case 'i': c->load.iface = optarg; break;
		case 'd': c->store.dir = optarg; break;
		case 'N': c->store.nats = optarg; break;
		case 'S': c->store.stream = optarg; break;
		case 'n': c->load.name = optarg; break;
		case 'B': c->store.backend = optarg; break;
		case 'v': c->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("klogd %s\n", KLOG_VERSION); exit(0);
		case 'M':
			if (klogd_metrics_addr(optarg, NULL, NULL))
				return -EINVAL;
			c->metrics = optarg;
			break;
		case 'I':
			if (klog_parse_duration(optarg, &c->stats_interval_s)) {
				fprintf(stderr, "klogd: --stats-interval %s: a duration (90, 90s, "
					"15m, 12h, 7d; 0: no stats line)\n", optarg);
				return -EINVAL;
			}
			break;
		case 'U':
			if (strcmp(optarg, "auto") && strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "klogd: --udp-csum %s: auto, on or off\n", optarg);
				return -EINVAL;
			}
			c->udp_csum = optarg;
			break;
		case 'A':
		case 'C':
			if (add_access(&c->access, o == 'A', optarg))
				return -EINVAL;
			break;
		case 'm':
			if (klogd_mode_parse(optarg, &c->load.mode)) {
				fprintf(stderr, "klogd: invalid value for --mode: '%s': xdp, "
					"xdpgeneric or tc\n", optarg);
				return -EINVAL;
			}
			break;
		case 'P':
			if (!strcmp(optarg, "ring")) {
				c->load.kern.pool = KERBY_POOL_RING;
			} else if (!strcmp(optarg, "hash")) {
				c->load.kern.pool = KERBY_POOL_HASH;
			} else {
				fprintf(stderr, "klogd: invalid value for --pool: '%s': ring or "
					"hash\n", optarg);
				return -EINVAL;
			}
			c->load.given |= KLOGD_GIVEN_POOL;
			break;
		case 'p':
			if (parse_range("port", optarg, false, 1, 65535, "a UDP port", &v))
				return -EINVAL;
			c->load.kern.port = (uint16_t)v;
			break;
		case 'w':
			if (parse_range("window", optarg, true, 1, KLOG_MAX_WINDOW,
					"the reservation word holds the LSNs in flight in 23 bits",
					&v))
				return -EINVAL;
			c->load.kern.window = (uint32_t)v;
			c->load.given |= KLOGD_GIVEN_WINDOW;
			break;
		case 'b':
			if (parse_range("pool-blocks", optarg, true, KLOG_MIN_POOL_BLOCKS,
					KLOG_MAX_POOL_BLOCKS, pool_why, &v))
				return -EINVAL;
			c->load.kern.pool_blocks = v;
			c->load.given |= KLOGD_GIVEN_POOL_BLOCKS;
			break;
		case 'c':
			if (parse_range("clients", optarg, true, 1, KLOG_MAX_CLIENTS,
					"entries of the dedup table", &v))
				return -EINVAL;
			c->load.kern.clients = (uint32_t)v;
			c->load.given |= KLOGD_GIVEN_CLIENTS;
			break;
		case 's':
			if (parse_range("segment-size", optarg, true, SEG_SIZE_MIN, SEG_SIZE_MAX,
					"bytes preallocated per segment file", &v))
				return -EINVAL;
			c->store.seg_size = v;
			break;
		case 'T':
			if (parse_range("batch", optarg, false, 1, 1u << 20,
					"records per datasync", &v))
				return -EINVAL;
			c->batch = (uint32_t)v;
			break;
		case 'L':
			if (parse_range("client-ttl", optarg, false, 1, 86400 * 365,
					"seconds, a year at most", &v))
				return -EINVAL;
			c->client_ttl_s = v;
			break;
		case OPT_RETAIN_BYTES:
			if (parse_range("retain-bytes", optarg, true, 1, UINT64_MAX,
					"bytes of segment files kept", &c->retain.bytes))
				return -EINVAL;
			break;
		case OPT_RETAIN_AGE:
			if (klog_parse_duration(optarg, &c->retain.age_s) || !c->retain.age_s) {
				fprintf(stderr, "klogd: invalid value for --retain-age: '%s' (a "
					"duration of 1 s or more: 90, 90s, 15m, 12h, 7d)\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_RETAIN_SEGMENTS:
			if (parse_range("retain-segments", optarg, false, 1, UINT32_MAX,
					"segment files kept, the one being written included",
					&c->retain.segments))
				return -EINVAL;
			break;
		case 'R':
			if (strcmp(optarg, "1") && strcmp(optarg, "3") && strcmp(optarg, "5")) {
				fprintf(stderr, "klogd: --replicas %s: 1, 3 or 5 (a quorum of an "
					"odd number of servers)\n", optarg);
				return -EINVAL;
			}
			c->store.replicas = atoi(optarg);
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (check_args(argc, argv, c))
		return -EINVAL;
	c->load.kern.verify_udp = !strcmp(c->udp_csum, "on") ||
				  (!strcmp(c->udp_csum, "auto") && klogd_udp_csum_auto(c->load.iface));
	return 0;
}
/* What no single option can tell: the options needed, and the ones that go together. */
static int check_args(int argc, char **argv, struct config *c)
{
	struct klogd_store_cfg *st = &c->store;
	bool dir = klogd_backend_is_dir(st->backend);
	char err[160];

	if (!klogd_backend_known(st->backend)) {
		fprintf(stderr, "klogd: unknown backend '%s' (uring, psync, jetstream)\n",
			st->backend);
		return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "klogd: unexpected argument '%s': every value follows its option\n",
			argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	if (!c->load.iface || (dir && !st->dir) || (!dir && !st->nats)) {
		fprintf(stderr, "klogd: %s\n", !c->load.iface ? "--iface is required"
			: dir ? "--dir is required" : "--backend jetstream needs --nats");
		usage(stderr);
		return -EINVAL;
	}
	if (!dir && st->dir) {
		fprintf(stderr, "klogd: --dir and --backend jetstream: the stream is the log\n");
		return -EINVAL;
	}
	if (dir && (st->nats || st->stream)) {
		fprintf(stderr, "klogd: --nats and --stream go with --backend jetstream\n");
		return -EINVAL;
	}
	if (!dir && klogd_retain_any(&c->retain)) {
		fprintf(stderr, "klogd: --retain-bytes, --retain-age and --retain-segments delete "
			"a log directory's segments; with --backend jetstream the stream's own "
			"limits apply (its max_bytes, max_age)\n");
		return -EINVAL;
	}
	if (strchr(c->load.name, '/') || !*c->load.name || strlen(c->load.name) > 64) {
		fprintf(stderr, "klogd: --name must be 1..64 characters without '/'\n");
		return -EINVAL;
	}
	if (!dir && !st->stream) {
		snprintf(c->stream, sizeof(c->stream), "klog-%s", c->load.name);
		st->stream = c->stream;
	}
	if (!dir && klog_js_check_name(st->stream, err, sizeof(err))) {
		fprintf(stderr, "klogd: --stream: %s%s\n", err, st->stream == c->stream ?
			" (the default, klog-NAME from --name: give --stream)" : "");
		return -EINVAL;
	}
	return 0;
}

/* Hold an exclusive lock on path for the life of the process, or say who holds it. */
static int lock_file(const char *path, const char *what)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		klogd_err("cannot open lock %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno;

		klogd_err("another klogd is running with %s (lock %s held)", what, path);
		close(fd);
		return -err;
	}
	return fd;
}

static int take_locks(const struct config *c)
{
	char path[PATH_MAX];
	int err;

	if (mkdir("/run/klog", 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "/run/klog/%s.lock", c->load.name);
	if ((err = lock_file(path, "this --name")) < 0)
		return err;
	if (!c->store.dir)
		return 0; /* a stream takes one writer: each publish expects the one before */
	if (mkdir(c->store.dir, 0755) && errno != EEXIST) {
		klogd_err("cannot create %s: %s", c->store.dir, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/klogd.lock", c->store.dir);
	return (err = lock_file(path, "this --dir")) < 0 ? err : 0;
}

/* libbpf's messages as klogd's lines, with their level (they begin "libbpf: "). */
static int libbpf_line(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *line = NULL;
	int n = vasprintf(&line, fmt, ap);

	if (n < 0)
		return 0;
	if (n && line[n - 1] == '\n')
		line[n - 1] = 0;
	klogd_logl(level == LIBBPF_WARN ? LOG_WARNING : level == LIBBPF_INFO ? LOG_INFO
									 : LOG_DEBUG, "%s", line);
	free(line);
	return n;
}

/* Without --verbose, libbpf's warnings only; with it, its information too. */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? libbpf_line(level, fmt, ap) : 0;
}

static int libbpf_verbose(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level != LIBBPF_DEBUG ? libbpf_line(level, fmt, ap) : 0;
}

/*
 * The signals klogd takes: stop (SIGINT, SIGTERM) on one signalfd, which
 * start-up waits also watch; SIGHUP on another, only the drain loop's.
 */
struct sigfds {
	int stop, hup;
};

/*
 * Wait for a stop signal or a wake-up, at most ms milliseconds; returns the
 * signal or 0.  A SIGHUP is told and ends the wait like a wake-up.
 */
static int wait_signal(const struct sigfds *sf, int wake_fd, int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	struct pollfd p[3] = { { .fd = sf->stop, .events = POLLIN },
			       { .fd = sf->hup, .events = POLLIN },
			       { .fd = wake_fd, .events = POLLIN } };
	struct signalfd_siginfo si;

	if (ppoll(p, wake_fd >= 0 ? 3 : 2, &ts, NULL) <= 0)
		return 0;
	if ((p[1].revents & POLLIN) && read(sf->hup, &si, sizeof(si)) == sizeof(si))
		klogd_log("SIGHUP: nothing to reopen (klogd logs to stderr); going on");
	if ((p[0].revents & POLLIN) && read(sf->stop, &si, sizeof(si)) == sizeof(si))
		return (int)si.ssi_signo;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Every 10 s, forget clients silent for longer than the TTL, so the table
 * has room for new ones.  A client retransmits within seconds, so its state
 * is long gone only once it can no longer matter.
 */
static void expire_clients(struct klog_kern *k, uint64_t ttl_s, uint64_t *next_sweep)
{
	uint64_t now = now_ns();
	int n;

	if (now < *next_sweep)
		return;
	*next_sweep = now + 10000000000ull;
	if (now > ttl_s * 1000000000ull &&
	    (n = klog_kern_expire_clients(k, now - ttl_s * 1000000000ull)) > 0)
		klogd_log("forgot %d clients silent for over %llu s", n,
			  (unsigned long long)ttl_s);
}

static int wake_noop(void *ctx, void *data, size_t size)
{
	return 0;
}

/*
 * Nothing to drain: sleep until a program publishes a record.  The flag is
 * set before looking for work and the programs read it after publishing, so
 * either this sees the record or the program sees the flag and wakes us.
 * The timeout is only a safety net.
 */
static int sleep_until_work(struct klogd_drain *d, const struct sigfds *sf,
			    struct ring_buffer *wake)
{
	struct klog_ctl *ctl = d->k->ctl;
	int sig = 0;

	__atomic_store_n(&ctl->drain_sleeping, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* A store still waiting for records to be durable is looked at again at once. */
	if (__atomic_load_n(&ctl->next_lsn, __ATOMIC_SEQ_CST) == klogd_store_next(d->s) &&
	    klogd_store_durable(d->s) == klogd_store_next(d->s))
		sig = wait_signal(sf, ring_buffer__epoll_fd(wake), 1000);
	else
		sig = wait_signal(sf, -1, 0);
	__atomic_store_n(&ctl->drain_sleeping, 0, __ATOMIC_SEQ_CST);
	ring_buffer__consume(wake);
	return sig;
}

static void fatal_io(struct klogd_drain *d, int err)
{
	uint64_t next = __atomic_load_n(&d->k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	uint64_t durable = klogd_store_durable(d->s);

	if (*klogd_store_error(d->s))
		klogd_err("%s", klogd_store_error(d->s));
	if (durable > next) {
		klogd_err("the log holds LSNs up to %llu but the kernel log never went past "
			  "%llu: another log's (wrong --dir or --stream for --name?)",
			  (unsigned long long)durable - 1, (unsigned long long)next - 1);
		return;
	}
	if (err == -ESTALE) { /* the directory is not where the log is read: a restart is not it */
		klogd_err("writing the log failed: %s; durable LSN stays below %llu; the %llu "
			  "records from there stay in the kernel log (the maps stay pinned) for a "
			  "klogd on the log's directory", strerror(-err),
			  (unsigned long long)durable, (unsigned long long)(next - durable));
		return;
	}
	klogd_err("writing the log failed: %s; durable LSN stays below %llu; what the disk "
		  "holds past it is unknown, so klogd stops. The %llu records from there stay "
		  "in the kernel log: restarting klogd drains them again (the maps stay pinned)",
		  strerror(-err), (unsigned long long)durable,
		  (unsigned long long)(next - durable));
}

/*
 * Drain until every reserved LSN is durable (the programs are detached), for
 * at most 10 s: a program that reserved an LSN publishes it within
 * microseconds, but a stream may be unreachable; what is left stays pinned.
 */
static int drain_rest(struct klogd_drain *d)
{
	uint64_t end = __atomic_load_n(&d->k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	uint64_t until = now_ns() + 10000000000ull;

	while (klogd_store_durable(d->s) < end && now_ns() < until) {
		int n = klogd_drain_once(d);

		if (n < 0)
			return n;
		if (!n)
			usleep(1000);
	}
	return klogd_store_durable(d->s) < end ? -ETIMEDOUT : 0;
}

/* Where the log goes, for messages: the directory, or the stream. */
static const char *place(const struct config *c, char *buf, size_t n)
{
	if (c->store.dir)
		return c->store.dir;
	snprintf(buf, n, "stream %s", c->store.stream);
	return buf;
}

static int run(const struct config *c, const struct sigfds *sf)
{
	struct klogd_store_info info;
	struct klogd_store *s = NULL;
	struct klog_backend *b = NULL;
	struct klogd_loader l;
	struct klogd_notify *notify = NULL;
	struct ring_buffer *wake = NULL;
	struct klogd_prefetch *prefetch = NULL;
	struct klogd_serve *serve = NULL;
	struct klogd_serve_cfg scfg;
	struct klogd_access *access = NULL;
	struct klogd_access_cfg access_cfg;
	struct klogd_retain *retain = NULL;
	struct klogd_drain d;
	struct klogd_status *status = NULL;
	const char *why = "";
	char buf[96];
	const char *where = place(c, buf, sizeof(buf));
	uint64_t next_sweep = 0;
	enum klogd_health_state told = KLOGD_HEALTH_OK; /* the last STATUS= sent */
	char ok_status[160];
	bool keep = false; /* the kernel log holds what the store lacks: keep it pinned */
	int err, sig = 0;

	if ((err = klogd_load(&l, &c->load, &why))) {
		klogd_err("%s: %s", why, strerror(-err));
		goto out;
	}
	if ((err = klogd_store_open(&c->store, l.adopted ? l.k.ctl : NULL, sf->stop, &s, &info,
				    &b)))
		goto out; /* logged */
	if (info.created)
		klogd_log("%s was empty: new log %016llx from LSN %llu", where,
			  (unsigned long long)info.log_id, (unsigned long long)info.next_lsn);
	if (!l.adopted && (err = klog_kern_init(&l.k, info.next_lsn, info.log_id)))
		goto out;
	if ((err = klogd_notify_open(&notify, l.kern.port, c->batch)))
		goto out; /* logged, with the port and address family */
	wake = ring_buffer__new(l.k.wake_fd, wake_noop, NULL, NULL);
	if (!wake) {
		err = -errno;
		klogd_err("cannot set up the wake-up ring buffer: %s", strerror(-err));
		goto out;
	}
	if ((err = klogd_prefetch_start(&prefetch, &l.k))) {
		klogd_err("cannot start the prefetch thread: %s", strerror(-err));
		goto out;
	}
	scfg = (struct klogd_serve_cfg){ .dir = c->store.dir, .nats = c->store.nats,
					 .stream = c->store.stream, .ctl = l.k.ctl,
					 .k = &l.k, .port = l.kern.port };
	klogd_notify_fds(notify, &scfg.fd4, &scfg.fd6);
	if ((err = klogd_serve_start(&serve, &scfg)))
		goto out; /* logged */
	d = (struct klogd_drain){ .k = &l.k, .s = s, .notify = notify, .prefetch = prefetch,
				  .serve = serve, .batch = c->batch };
	if ((err = klogd_drain_reconcile(&d))) {
		klogd_err("the log in %s ends at LSN %llu but the kernel log holds LSNs %llu..%llu: "
			  "wrong --%s for --name %s?", where,
			  (unsigned long long)klogd_store_next(s),
			  (unsigned long long)l.k.ctl->truncated_lsn,
			  (unsigned long long)l.k.ctl->next_lsn, c->store.dir ? "dir" : "stream",
			  c->load.name);
		goto out;
	}
	if (c->store.dir && (err = klogd_retain_open(&retain, &c->retain, c->store.dir)))
		goto out; /* logged */
	/* Before the program is attached: a --metrics port taken fails a clean start. */
	if ((err = klogd_status_start(&status, &(struct klogd_status_cfg){
			.name = c->load.name, .backend = b ? b->ops->name : s->ops->name,
			.dir = c->store.dir, .stream = c->store.dir ? NULL : c->store.stream,
			.retain = &c->retain, .stats_interval_s = c->stats_interval_s,
			.metrics = c->metrics }, &d)))
		goto out; /* logged */
	access_cfg = c->access;
	access_cfg.iface = c->load.iface;
	if ((err = klogd_access_start(&access, &l.k, &access_cfg)))
		goto out; /* logged */
	if ((err = klogd_attach(&l, &why))) {
		klogd_err("%s on %s: %s", why, c->load.iface, strerror(-err));
		goto out;
	}
	keep = true;
	klogd_log("ready: %s on %s port %u, %s pool of %llu blocks, window %u, UDP checksums %s, "
		  "%s backend%s, %s from LSN %llu%s%s", klogd_mode_name(l.mode), c->load.iface,
		  l.kern.port,
		  l.kern.pool == KERBY_POOL_RING ? "ring" : "hash",
		  (unsigned long long)l.kern.pool_blocks, l.kern.window,
		  l.kern.verify_udp ? "verified" : "not verified",
		  b ? b->ops->name : s->ops->name, info.direct ? " (O_DIRECT)" : "", where,
		  (unsigned long long)klogd_store_next(s),
		  l.adopted ? ", adopted the pinned log" : "",
		  l.swapped ? ", replaced the attached program" : "");
	snprintf(ok_status, sizeof(ok_status), "appending on %s, draining to %s", c->load.iface,
		 where);
	klogd_sd_notify("READY=1", "%s", ok_status);

	while (!sig) {
		int n = klogd_drain_once(&d);

		if (n < 0 && b && klogd_nospace_err(n)) {
			/* The records wait in the kernel: try again in a while. */
			klogd_nospace_failed(&d, n, now_ns());
			klogd_sd_health(&d.health, &told, ok_status);
			klogd_status_tick(status);
			/* What retention may delete anyway can be the room the disk needs. */
			klogd_retain_tick(retain, klogd_store_durable(s));
			expire_clients(&l.k, c->client_ttl_s, &next_sweep);
			sig = wait_signal(sf, -1, NOSPACE_RETRY_MS);
			continue;
		}
		if (n < 0) {
			klogd_status_tick(status);
			fatal_io(&d, n);
			err = n;
			goto out;
		}
		klogd_retain_tick(retain, klogd_store_durable(s));
		klogd_nospace_over(&d, now_ns());
		klogd_drain_store_health(&d, now_ns());
		klogd_sd_health(&d.health, &told, ok_status);
		klogd_status_tick(status);
		/* Busy: straight on (a signal is only looked at); idle: sleep until woken. */
		if (n > 0) {
			sig = wait_signal(sf, -1, 0);
			continue;
		}
		expire_clients(&l.k, c->client_ttl_s, &next_sweep);
		sig = sleep_until_work(&d, sf, wake);
	}
	klogd_log("%s: detaching, draining, %s", strsignal(sig),
		  b ? "syncing" : "waiting for the stream's acknowledgements");
	d.health = (struct klogd_health){ .state = KLOGD_HEALTH_STOPPING, .since_ns = now_ns() };
	snprintf(d.health.why, sizeof(d.health.why), "stopping (%s): detaching, draining",
		 strsignal(sig));
	klogd_sd_notify("STOPPING=1", "%s", d.health.why);
	klogd_detach(&l);
	if ((err = drain_rest(&d))) {
		if (b && klogd_nospace_err(err))
			klogd_warn("the disk is still full: LSNs from %llu stay in the kernel log "
				   "for the next klogd (the maps stay pinned)",
				   (unsigned long long)klogd_store_durable(s));
		else if (err == -ETIMEDOUT)
			klogd_warn("LSNs from %llu are not durable yet; stopping with them in the "
				  "kernel log for the next klogd",
				  (unsigned long long)klogd_store_durable(s));
		else
			fatal_io(&d, err);
		goto out;
	}
	klogd_log("stopped: %llu records, %llu bytes drained in %llu commits, %llu tombstones "
		  "(bytes damaged before they were stored); durable up to LSN %llu",
		  (unsigned long long)d.records, (unsigned long long)d.bytes,
		  (unsigned long long)d.commits, (unsigned long long)d.tombstones,
		  (unsigned long long)klogd_store_durable(s) - 1);
out:
	klogd_retain_close(retain);
	klogd_status_stop(status);
	klogd_access_stop(access);
	klogd_serve_stop(serve);
	klogd_prefetch_stop(prefetch);
	ring_buffer__free(wake);
	klogd_notify_close(notify);
	klogd_store_close(s);
	if (b)
		b->ops->close(b);
	/*
	 * The maps stay pinned once attached (the dedup state and the records
	 * not yet durable must survive a restart: doc/klogd.md); a log made by
	 * this klogd and never used is removed.
	 */
	if (l.skel)
		klogd_unload(&l, !keep && !l.adopted);
	return err;
}

/* The --bind and --allow lists parse_args grew, also after it failed. */
static void free_config(struct config *c)
{
	free((void *)c->access.bind);
	free((void *)c->access.allow);
}

/* Everything after the options: 0 or the exit status. */
static int klogd_main(struct config *c)
{
	struct sigfds sf;
	sigset_t set, hup;

	libbpf_set_print(c->verbose ? libbpf_verbose : libbpf_quiet);
	if (geteuid() != 0)
		klogd_warn("not running as root; loading BPF programs will likely fail");
	if (take_locks(c))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	sf.stop = signalfd(-1, &set, SFD_CLOEXEC);
	sf.hup = signalfd(-1, &hup, SFD_CLOEXEC);
	if (sf.stop < 0 || sf.hup < 0) {
		klogd_err("signalfd: %s", strerror(errno));
		return 1;
	}
	return run(c, &sf) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct config c;
	int status = parse_args(argc, argv, &c) ? 2 : klogd_main(&c);

	free_config(&c);
	return status;
}
