// SPDX-License-Identifier: GPL-2.0-only
/*
 * udp_server - the "vanilla" userspace baseline: a UDP log server that speaks
 * klog's wire protocol v1 (doc/protocol.md) from ordinary sockets, so that
 * `klogctl bench` drives it unchanged and its appends/s can be set beside
 * klog's XDP path.
 *
 * Each thread has its own SO_REUSEPORT socket bound to the port (IPv6, dual
 * stack) and loops: recvmmsg a batch, check every request as the kernel
 * programs do, give the valid APPENDs consecutive LSNs from one global atomic
 * counter (one fetch-add per batch), keep their records, and sendmmsg the
 * replies (ACK with the LSN, or NACK with the kernel's status) in one batch.
 *
 * Records are kept in memory, in a wrapping arena per thread; with --dir,
 * they go instead through an ordered ring to one persisting thread that
 * writes them with klogd's segment writer and storage backend
 * (klog_writer_*, klog_backend_*), one datasync per batch (group commit), as
 * klogd drains.  An ACK, as klog's, means the record is in memory, not on
 * disk.
 *
 * Not implemented: dedup (a retransmission is appended again) and durable
 * acknowledgements (a DURABLE request is answered NACK FLAGS, a QUERY NACK
 * OPCODE, as by a server without them).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog_abi.h>

#include "backend.h"
#include "format.h"
#include "parse.h"
#include "writer.h"

#define BATCH 64                              /* datagrams per recvmmsg/sendmmsg */
#define RX_CAP (sizeof(struct klog_hdr) + 9216) /* larger requests are cut, and refused */
#define MAX_THREADS 256

struct config {
	uint16_t port;
	unsigned int threads;
	const char *dir;
	const char *backend;
	uint64_t arena;   /* bytes of each thread's in-memory arena */
	uint32_t window;  /* ring slots between the receivers and the persisting thread */
	uint32_t batch;   /* most records per datasync */
	bool json;
};

/* One record on its way to the persisting thread (--dir). */
struct slot {
	uint64_t turn; /* 2*lsn: free for lsn; 2*lsn+1: holds lsn */
	uint64_t txid;
	uint32_t len;
	uint8_t data[KLOG_MAX_RECORD];
};

/* A record in a thread's in-memory arena. */
struct arena_rec {
	uint64_t lsn;
	uint64_t txid;
	uint32_t len;
	uint32_t pad;
};

struct worker {
	pthread_t tid;
	int fd;
	uint8_t *arena;
	uint64_t arena_off;
	uint64_t records, bytes, nacks, drops;
	double first, last; /* times of the first and the last append, 0 if none */
	int err;
};

static struct config cfg = {
	.port = KLOG_DEFAULT_PORT, .backend = "uring", .arena = 64u << 20,
	.window = 16384, .batch = 4096,
};
static volatile sig_atomic_t stopping;
static uint64_t next_lsn;      /* the global LSN counter: the next LSN to give out */
static uint64_t persisted_lsn; /* --dir: every LSN below is in the writer */
static struct slot *ring;      /* --dir: cfg.window slots, index lsn % window */
static int persist_err;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: udp_server [options]\n"
		"The userspace baseline: a UDP log server speaking klog's wire protocol v1, so\n"
		"`klogctl bench` drives it unchanged.  One SO_REUSEPORT socket per thread;\n"
		"each loops recvmmsg -> LSNs from one global atomic counter -> sendmmsg.\n"
		"Appends are acknowledged (ACK, the LSN) once in memory; malformed requests get\n"
		"the kernel's NACKs (BADLEN, TOOBIG, VERSION, OPCODE, FLAGS); datagrams shorter\n"
		"than the header or without the magic are dropped.  Not implemented: dedup (a\n"
		"retransmission is appended again) and durable acknowledgements: a request\n"
		"with the DURABLE flag is answered NACK FLAGS, a QUERY NACK OPCODE.\n"
		"Without --dir the records are kept in memory only, in a wrapping arena per\n"
		"thread (the oldest are overwritten).  With --dir one more thread writes them,\n"
		"in LSN order, through klogd's segment writer and storage backend, one\n"
		"datasync per batch; a full ring answers NACK FULL.  On SIGINT or SIGTERM it\n"
		"prints one line (records, bytes, seconds from the first to the last append)\n"
		"and exits 0.\n\n"
		"  --port N          UDP port (default 7070)\n"
		"  --threads N       receiving threads (default: one per online CPU)\n"
		"  --dir DIR         persist the records into the klog log directory DIR\n"
		"  --backend NAME    uring (default; psync if io_uring is unavailable) or psync\n"
		"  --arena BYTES     in-memory arena per thread without --dir (default 64M)\n"
		"  --window N        --dir: records in flight to the writer (default 16384)\n"
		"  --batch N         --dir: most records per datasync (default 4096, as klogd)\n"
		"  --json            the summary as one JSON object\n"
		"  --help            this text\n");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The status the kernel programs answer a request with (append.bpf.h), or 0. */
static unsigned int check(const struct klog_hdr *h, size_t n)
{
	uint32_t len = be16toh(h->len);

	if (h->version != KLOG_VERSION_1)
		return KLOG_ST_VERSION;
	if (h->opcode != KLOG_OP_APPEND) /* QUERY too: no durable acknowledgements here */
		return KLOG_ST_OPCODE;
	if (h->flags) /* DURABLE too */
		return KLOG_ST_FLAGS;
	if (len > KLOG_MAX_RECORD)
		return KLOG_ST_TOOBIG;
	if (len == 0 || len != n - sizeof(*h))
		return KLOG_ST_BADLEN;
	return KLOG_ST_OK;
}

static void keep_in_arena(struct worker *w, uint64_t lsn, const struct klog_hdr *h)
{
	uint32_t len = be16toh(h->len);
	uint64_t need = (sizeof(struct arena_rec) + len + 7) & ~7ull;
	struct arena_rec r = { .lsn = lsn, .txid = be64toh(h->txid), .len = len };

	if (w->arena_off + need > cfg.arena)
		w->arena_off = 0;
	memcpy(w->arena + w->arena_off, &r, sizeof(r));
	memcpy(w->arena + w->arena_off + sizeof(r), h + 1, len);
	w->arena_off += need;
}

/* --dir: hand record lsn to the persisting thread, waiting for its slot. */
static void keep_in_ring(uint64_t lsn, const struct klog_hdr *h)
{
	struct slot *s = &ring[lsn % cfg.window];
	uint32_t len = be16toh(h->len);

	while (__atomic_load_n(&s->turn, __ATOMIC_ACQUIRE) != 2 * lsn) {
		if (__atomic_load_n(&persist_err, __ATOMIC_RELAXED))
			return; /* the writer failed: the server is stopping */
		sched_yield();
	}
	s->txid = be64toh(h->txid);
	s->len = len;
	memcpy(s->data, h + 1, len);
	__atomic_store_n(&s->turn, 2 * lsn + 1, __ATOMIC_RELEASE);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t (*rx)[RX_CAP] = malloc(BATCH * RX_CAP);
	struct sockaddr_in6 from[BATCH];
	struct klog_hdr tx[BATCH];
	struct mmsghdr rmsg[BATCH], smsg[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	unsigned int status[BATCH];

	if (!rx) {
		w->err = -ENOMEM;
		stopping = 1;
		kill(getpid(), SIGTERM);
		return NULL;
	}
	for (int i = 0; i < BATCH; i++) {
		riov[i] = (struct iovec){ .iov_base = rx[i], .iov_len = RX_CAP };
		siov[i] = (struct iovec){ .iov_base = &tx[i], .iov_len = sizeof(tx[i]) };
	}
	while (!stopping) {
		unsigned int nvalid = 0, nsend = 0;
		uint64_t lsn = 0;
		int n;

		for (int i = 0; i < BATCH; i++) {
			rmsg[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
							   .msg_namelen = sizeof(from[i]),
							   .msg_iov = &riov[i], .msg_iovlen = 1 };
			rmsg[i].msg_len = 0;
		}
		/* MSG_TRUNC: msg_len is the datagram's real length, even when cut. */
		n = recvmmsg(w->fd, rmsg, BATCH, MSG_WAITFORONE | MSG_TRUNC, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			w->err = -errno;
			fprintf(stderr, "udp_server: recvmmsg: %s\n", strerror(errno));
			stopping = 1;
			kill(getpid(), SIGTERM);
			break;
		}
		for (int i = 0; i < n; i++) {
			const struct klog_hdr *h = (const void *)rx[i];

			if (rmsg[i].msg_len < sizeof(*h) || be32toh(h->magic) != KLOG_MAGIC) {
				status[i] = ~0u; /* dropped, no answer */
				w->drops++;
				continue;
			}
			status[i] = check(h, rmsg[i].msg_len);
			if (status[i] == KLOG_ST_OK)
				nvalid++;
		}
		if (nvalid && ring) {
			/* The kernel's FULL: no room before the writer catches up. */
			uint64_t ahead = __atomic_load_n(&next_lsn, __ATOMIC_RELAXED) -
					 __atomic_load_n(&persisted_lsn, __ATOMIC_ACQUIRE);

			if (ahead + nvalid + (uint64_t)BATCH * cfg.threads > cfg.window) {
				for (int i = 0; i < n; i++)
					if (status[i] == KLOG_ST_OK)
						status[i] = KLOG_ST_FULL;
				nvalid = 0;
			}
		}
		if (nvalid)
			lsn = __atomic_fetch_add(&next_lsn, nvalid, __ATOMIC_RELAXED);
		for (int i = 0; i < n; i++) {
			const struct klog_hdr *h = (const void *)rx[i];
			struct klog_hdr *r = &tx[nsend];

			if (status[i] == ~0u)
				continue;
			*r = (struct klog_hdr){ .magic = htobe32(KLOG_MAGIC), .version = KLOG_VERSION_1,
						.opcode = KLOG_OP_NACK, .status = htobe16(status[i]),
						.client_id = h->client_id, .request_id = h->request_id,
						.txid = h->txid };
			if (status[i] == KLOG_ST_OK) {
				if (ring)
					keep_in_ring(lsn, h);
				else
					keep_in_arena(w, lsn, h);
				r->opcode = KLOG_OP_ACK;
				r->lsn = htobe64(lsn);
				lsn++;
				w->records++;
				w->bytes += be16toh(h->len);
			} else {
				w->nacks++;
			}
			smsg[nsend].msg_hdr = (struct msghdr){ .msg_name = &from[i],
							       .msg_namelen = rmsg[i].msg_hdr.msg_namelen,
							       .msg_iov = &siov[nsend], .msg_iovlen = 1 };
			nsend++;
		}
		if (nvalid) {
			w->last = now();
			if (!w->first)
				w->first = w->last;
		}
		for (unsigned int done = 0; done < nsend;) {
			int m = sendmmsg(w->fd, smsg + done, nsend - done, 0);

			if (m < 0) {
				if (errno == EINTR)
					continue;
				/* A full buffer or an ICMP error: a lost reply, the client resends. */
				done++;
				continue;
			}
			done += (unsigned int)m;
		}
	}
	free(rx);
	return NULL;
}

/* --dir: move the records into the writer in LSN order, a datasync per batch. */
static void *persist_main(void *arg)
{
	struct klog_writer *w = arg;
	uint64_t lsn = __atomic_load_n(&persisted_lsn, __ATOMIC_RELAXED);
	uint32_t staged = 0;
	int err = 0;

	for (;;) {
		struct slot *s = &ring[lsn % cfg.window];

		if (__atomic_load_n(&s->turn, __ATOMIC_ACQUIRE) == 2 * lsn + 1) {
			void *p = klog_writer_reserve(w, s->len, &err);

			if (!p)
				break;
			memcpy(p, s->data, s->len);
			if ((err = klog_writer_append(w, lsn, s->txid, s->len)))
				break;
			__atomic_store_n(&s->turn, 2 * (lsn + cfg.window), __ATOMIC_RELEASE);
			lsn++;
			if (++staged < cfg.batch)
				continue;
		}
		if (staged) {
			if ((err = klog_writer_commit(w)))
				break;
			staged = 0;
			__atomic_store_n(&persisted_lsn, lsn, __ATOMIC_RELEASE);
			continue;
		}
		/* The receivers have stopped: every LSN given out is in a slot. */
		if (stopping == 2 && lsn == __atomic_load_n(&next_lsn, __ATOMIC_ACQUIRE))
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
	}
	if (err) {
		fprintf(stderr, "udp_server: writing LSN %llu to %s: %s\n", (unsigned long long)lsn,
			cfg.dir, strerror(-err));
		__atomic_store_n(&persist_err, err, __ATOMIC_RELAXED);
		/* Nothing more can be kept: stop serving. */
		stopping = 1;
		kill(getpid(), SIGTERM);
	}
	return NULL;
}

static int open_socket(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(cfg.port),
				  .sin6_addr = IN6ADDR_ANY_INIT };
	struct timeval tv = { .tv_usec = 100000 }; /* to notice stopping */
	int one = 1, zero = 0, buf = 8 << 20;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* Big buffers where allowed (root may exceed rmem_max); best effort. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return fd;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "dir", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'B' },
		{ "arena", required_argument, NULL, 'a' },
		{ "window", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (klog_parse_u64(optarg, &v, false) || !v || v > 65535)
				goto bad;
			cfg.port = (uint16_t)v;
			break;
		case 't':
			if (klog_parse_u64(optarg, &v, false) || !v || v > MAX_THREADS)
				goto bad;
			cfg.threads = (unsigned int)v;
			break;
		case 'd': cfg.dir = optarg; break;
		case 'B':
			if (!klog_backend_find(optarg))
				goto bad;
			cfg.backend = optarg;
			break;
		case 'a':
			if (klog_parse_u64(optarg, &v, true) || v < (1u << 16) || v > (1ull << 40))
				goto bad;
			cfg.arena = v;
			break;
		case 'w':
			if (klog_parse_u64(optarg, &v, true) || v < 1024 || v > (1u << 24))
				goto bad;
			cfg.window = (uint32_t)v;
			break;
		case 'b':
			if (klog_parse_u64(optarg, &v, true) || !v || v > (1u << 20))
				goto bad;
			cfg.batch = (uint32_t)v;
			break;
		case 'j': cfg.json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		continue;
bad:
		fprintf(stderr, "udp_server: invalid value '%s' (see --help)\n", optarg);
		return -EINVAL;
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (!cfg.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cfg.threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned int)n;
	}
	return 0;
}

static int open_log(struct klog_backend **b, struct klog_writer **w)
{
	struct klog_backend_opts bo = { .queue_depth = 64, .buf_size = 4u << 20 };
	struct klog_writer_opts wo = { .dir = cfg.dir, .seg_size = KLOG_DEFAULT_SEG_SIZE,
				       .max_record = KLOG_MAX_RECORD, .first_lsn = KLOG_FIRST_LSN };
	const struct klog_backend_ops *ops = klog_backend_find(cfg.backend);
	struct klog_writer_recovery rec;
	int err = ops->open(b, &bo);

	if (err && ops == &klog_backend_uring) {
		fprintf(stderr, "udp_server: io_uring is unavailable (%s): using psync\n",
			strerror(-err));
		ops = &klog_backend_psync;
		err = ops->open(b, &bo);
	}
	if (err) {
		fprintf(stderr, "udp_server: the %s backend: %s\n", ops->name, strerror(-err));
		*b = NULL;
		return err;
	}
	cfg.backend = ops->name;
	if ((err = klog_writer_open(w, &wo, *b, &rec))) {
		fprintf(stderr, "udp_server: opening the log in %s: %s\n", cfg.dir, strerror(-err));
		return err;
	}
	next_lsn = persisted_lsn = klog_writer_next(*w);
	ring = calloc(cfg.window, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	for (uint64_t lsn = next_lsn; lsn < next_lsn + cfg.window; lsn++)
		ring[lsn % cfg.window].turn = 2 * lsn;
	return 0;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	struct klog_backend *b = NULL;
	struct klog_writer *lw = NULL;
	pthread_t persister;
	bool persisting = false;
	uint64_t records = 0, bytes = 0, nacks = 0, drops = 0;
	double first = 0, last = 0, t0;
	unsigned int started = 0;
	sigset_t set;
	int err = 0, sig;

	if (parse_args(argc, argv))
		return 2;
	next_lsn = KLOG_FIRST_LSN;
	/* The threads inherit the mask: only sigwait below takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (cfg.dir && (err = open_log(&b, &lw)))
		goto out;
	for (unsigned int i = 0; i < cfg.threads; i++) {
		struct worker *w = &workers[i];

		if ((w->fd = open_socket()) < 0) {
			err = w->fd;
			fprintf(stderr, "udp_server: UDP socket on port %u: %s\n", cfg.port,
				strerror(-err));
			goto out;
		}
		if (!cfg.dir && !(w->arena = malloc(cfg.arena))) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (cfg.dir) {
		if ((err = -pthread_create(&persister, NULL, persist_main, lw)))
			goto out;
		persisting = true;
	}
	for (; started < cfg.threads; started++)
		if ((err = -pthread_create(&workers[started].tid, NULL, worker_main,
					   &workers[started])))
			goto out;
	t0 = now();
	fprintf(stderr, "udp_server: ready: port %u, %u threads, %s\n", cfg.port, cfg.threads,
		cfg.dir ? cfg.dir : "in memory only");
	sigwait(&set, &sig);
out:
	stopping = 1;
	for (unsigned int i = 0; i < started; i++)
		pthread_join(workers[i].tid, NULL);
	stopping = 2;
	if (persisting)
		pthread_join(persister, NULL);
	for (unsigned int i = 0; i < cfg.threads; i++) {
		struct worker *w = &workers[i];

		records += w->records;
		bytes += w->bytes;
		nacks += w->nacks;
		drops += w->drops;
		if (w->first && (!first || w->first < first))
			first = w->first;
		if (w->last > last)
			last = w->last;
		if (w->err && !err)
			err = w->err;
		if (w->fd > 0)
			close(w->fd);
		free(w->arena);
	}
	if (persist_err && !err)
		err = persist_err;
	klog_writer_close(lw);
	if (b)
		b->ops->close(b);
	free(ring);
	if (started) {
		double secs = last - first;

		if (cfg.json)
			printf("{\"records\": %llu, \"bytes\": %llu, \"seconds\": %.6f, "
			       "\"appends_per_s\": %.0f, \"nacks\": %llu, \"dropped\": %llu, "
			       "\"threads\": %u, \"dir\": %s%s%s, \"backend\": \"%s\", "
			       "\"uptime_seconds\": %.3f}\n",
			       (unsigned long long)records, (unsigned long long)bytes, secs,
			       secs > 0 ? records / secs : 0.0, (unsigned long long)nacks,
			       (unsigned long long)drops, cfg.threads, cfg.dir ? "\"" : "",
			       cfg.dir ? cfg.dir : "null", cfg.dir ? "\"" : "",
			       cfg.dir ? cfg.backend : "none", now() - t0);
		else
			printf("udp_server: %llu records, %llu bytes, %.3f seconds (first to last "
			       "append; %.0f appends/s), %llu NACKs, %llu dropped, %u threads, %s\n",
			       (unsigned long long)records, (unsigned long long)bytes, secs,
			       secs > 0 ? records / secs : 0.0, (unsigned long long)nacks,
			       (unsigned long long)drops, cfg.threads,
			       cfg.dir ? "persisted" : "in memory only");
		fflush(stdout);
	}
	return err ? 1 : 0;
}
