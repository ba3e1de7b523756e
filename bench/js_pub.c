// SPDX-License-Identifier: GPL-2.0-only
/*
 * js_pub - the baseline of bench/jetstream.sh: what a user would write
 * instead of klogd --backend jetstream, a plain libnats publisher sending
 * records straight to a JetStream stream with js_PublishAsync, exactly W
 * publishes outstanding.  Prints one JSON line shaped like `klogctl bench
 * --json`'s: acknowledged publishes/s and each publish's ack latency.
 *
 *     js_pub --nats URLS --stream NAME [--replicas R] [--window W]
 *            [--count N | --seconds S] [--size mix|BYTES] [--buffered] [--expect-seq]
 *
 * The stream (file storage, R replicas, subject "js_pub.NAME") is created
 * if missing.  Give each run a fresh name: nats-server 2.9 loses data on a
 * restarted replica of a stream deleted and re-created under the same name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "durable.h"
#include "parse.h"

/* Send times, then latencies, by publish index, in chunks the ack handler
 * may read while the publisher allocates later ones (no realloc under it). */
#define CHUNK_BITS 16
#define CHUNK (1u << CHUNK_BITS)
#define MAX_CHUNKS 4096 /* 268 million publishes */
/* The 75/25 mix repeats after this many records (--size mix). */
#define MIX_PERIOD (1u << 20)

struct run {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t inflight, acked, errors, base; /* base: the stream's last sequence before */
	int last_err;
	double *t[MAX_CHUNKS];
};

static double *slot(struct run *r, uint64_t i)
{
	return &r->t[i >> CHUNK_BITS][i & (CHUNK - 1)];
}

/* The stream numbers our publishes base+1, base+2, ... in the order sent
 * (one connection, one publisher): the ack's sequence finds its send time. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct run *r = closure;
	double now = bench_now();

	pthread_mutex_lock(&r->mu);
	if (pa && pa->Sequence > r->base) {
		double *t = slot(r, pa->Sequence - r->base - 1);

		*t = now - *t;
		r->acked++;
	} else {
		r->errors++;
		r->last_err = pae ? pae->ErrCode : 0;
	}
	r->inflight--;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	natsMsg_Destroy(msg);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int fail(const char *what, natsStatus s)
{
	fprintf(stderr, "js_pub: %s: %s\n", what, natsStatus_GetText(s));
	nats_PrintLastErrorStack(stderr);
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: js_pub --nats URLS --stream NAME [--replicas R] [--window W]\n"
		   "              [--count N | --seconds S] [--size mix|BYTES] [--buffered]\n"
		   "              [--expect-seq]\n");
}

struct opts {
	const char *urls, *stream, *size_arg;
	int replicas, window;
	uint64_t count;
	double seconds;
	uint32_t size; /* 0: the mix */
	bool buffered, expect_seq;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "nats", required_argument, NULL, 'n' },
		{ "stream", required_argument, NULL, 's' },
		{ "replicas", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 'z' },
		{ "buffered", no_argument, NULL, 'b' },
		{ "expect-seq", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t v = 0;
	int c;

	*o = (struct opts){ .replicas = 1, .window = 1, .size_arg = "mix" };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o->urls = optarg; break;
		case 's': o->stream = optarg; break;
		case 'r':
		case 'w':
			if (klog_parse_u64(optarg, &v, false) || v > 1000) {
				fprintf(stderr, "js_pub: --%s '%s': a decimal number 1..1000\n",
					c == 'r' ? "replicas" : "window", optarg);
				return 2;
			}
			*(c == 'r' ? &o->replicas : &o->window) = (int)v;
			break;
		case 'c':
			if (klog_parse_u64(optarg, &o->count, false)) {
				fprintf(stderr, "js_pub: --count '%s': a decimal number\n", optarg);
				return 2;
			}
			break;
		case 'S': o->seconds = atof(optarg); break;
		case 'z': o->size_arg = optarg; break;
		case 'b': o->buffered = true; break;
		case 'e': o->expect_seq = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (strcmp(o->size_arg, "mix") &&
	    (klog_parse_u64(o->size_arg, &v, false) || !v || v > MIX_LARGE)) {
		fprintf(stderr, "js_pub: --size '%s': mix or a decimal number 1..%d\n",
			o->size_arg, MIX_LARGE);
		return 2;
	}
	if (strcmp(o->size_arg, "mix"))
		o->size = (uint32_t)v;
	if (!o->urls || !o->stream || optind < argc || o->replicas < 1 || o->window < 1 ||
	    (!o->count == !(o->seconds > 0)) || (strcmp(o->size_arg, "mix") && !o->size) ||
	    o->size > MIX_LARGE || o->count > (uint64_t)MAX_CHUNKS * CHUNK) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* The stream, created with R replicas unless it exists; base: its last sequence. */
static int ensure_stream(jsCtx *js, const struct opts *o, char *subject, uint64_t *base)
{
	const char *subjects[] = { subject };
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	natsStatus s;

	s = js_GetStreamInfo(&si, js, o->stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND) {
		jsStreamConfig_Init(&cfg);
		cfg.Name = o->stream;
		cfg.Subjects = subjects;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_FileStorage;
		cfg.Replicas = o->replicas;
		s = js_AddStream(&si, js, &cfg, NULL, &jerr);
	}
	if (s != NATS_OK)
		return fail("the stream", s);
	*base = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return 0;
}

/* Publish until count or seconds, window outstanding; *n: publishes sent. */
static int publish(jsCtx *js, struct run *r, const struct opts *o, const char *subject,
		   const struct mix *m, uint64_t *n, uint64_t *bytes)
{
	double end = bench_now() + o->seconds;
	uint64_t i;

	for (i = 0; o->count ? i < o->count : i < (uint64_t)MAX_CHUNKS * CHUNK; i++) {
		uint32_t len = o->size ? o->size : m->sizes[i % m->n];
		jsPubOptions po;
		natsStatus s;

		if (!o->count && (i & 255) == 0 && bench_now() >= end)
			break;
		if (!r->t[i >> CHUNK_BITS] && !(r->t[i >> CHUNK_BITS] = malloc(CHUNK * sizeof(double)))) {
			fprintf(stderr, "js_pub: out of memory\n");
			return 1;
		}
		pthread_mutex_lock(&r->mu);
		while (r->inflight >= (uint64_t)o->window)
			pthread_cond_wait(&r->cv, &r->mu);
		r->inflight++;
		*slot(r, i) = bench_now();
		pthread_mutex_unlock(&r->mu);
		/* --expect-seq: the header klogd sends with each record, to see what it costs. */
		jsPubOptions_Init(&po);
		po.ExpectLastSeq = o->expect_seq ? r->base + i : 0;
		s = js_PublishAsync(js, subject, mix_payload(m, i % m->n), (int)len, &po);
		if (s != NATS_OK)
			return fail("publish", s);
		*bytes += len;
	}
	*n = i;
	pthread_mutex_lock(&r->mu);
	while (r->inflight)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

/*
 * Connect with SendAsap unless buffered: without it libnats buffers a
 * publish until its flusher thread runs, about a millisecond later, which at
 * window 1 makes the publisher wait for its own client rather than for
 * JetStream (--buffered measures that default).
 */
static natsStatus connect(natsConnection **nc, const char *urls, bool buffered)
{
	char *list = strdup(urls), *save = NULL;
	const char *servers[16];
	natsOptions *no = NULL;
	natsStatus s;
	int n = 0;

	if (!list)
		return NATS_NO_MEMORY;
	/* natsOptions_SetURL takes one URL; the cluster's list goes in whole. */
	for (char *u = strtok_r(list, ",", &save); u && n < 16; u = strtok_r(NULL, ",", &save))
		servers[n++] = u;
	s = natsOptions_Create(&no);
	if (s == NATS_OK)
		s = natsOptions_SetServers(no, servers, n);
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(no, !buffered);
	if (s == NATS_OK)
		s = natsConnection_Connect(nc, no);
	natsOptions_Destroy(no);
	free(list);
	return s;
}

static double quantile_us(const double *lat, uint64_t n, double q)
{
	uint64_t i = (uint64_t)(q * (double)n);

	return lat[i < n ? i : n - 1] * 1e6;
}

static void report(const struct opts *o, struct run *r, uint64_t n, uint64_t bytes, double dt)
{
	double *lat = malloc(n * sizeof(*lat));

	if (!lat) {
		fprintf(stderr, "js_pub: out of memory\n");
		exit(1);
	}
	for (uint64_t i = 0; i < n; i++)
		lat[i] = *slot(r, i);
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("{\"appends\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"seconds\": %.4f, "
	       "\"appends_per_s\": %.0f, \"mb_per_s\": %.3f, \"outstanding\": %d, "
	       "\"replicas\": %d, \"stream\": \"%s\", \"size\": \"%s\", \"buffered\": %s, "
	       "\"latency_us\": {\"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}}\n",
	       n, bytes, dt, n / dt, bytes / dt / 1e6, o->window, o->replicas, o->stream,
	       o->size_arg, o->buffered ? "true" : "false", quantile_us(lat, n, 0.50),
	       quantile_us(lat, n, 0.99), quantile_us(lat, n, 0.999), lat[n - 1] * 1e6);
	free(lat);
}

int main(int argc, char **argv)
{
	static struct run r = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	struct opts o;
	struct mix m;
	char subject[128];
	uint64_t n = 0, bytes = 0;
	double t0, dt;
	natsStatus s;
	int rc;

	if ((rc = parse(argc, argv, &o)))
		return rc;
	if (mix_init(&m, o.count && o.count < MIX_PERIOD ? o.count : MIX_PERIOD))
		return 1;
	snprintf(subject, sizeof(subject), "js_pub.%s", o.stream);
	if ((s = connect(&nc, o.urls, o.buffered)) != NATS_OK)
		return fail(o.urls, s);
	jsOptions_Init(&jo);
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = &r;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
		return fail("JetStream", s);
	if ((rc = ensure_stream(js, &o, subject, &r.base)))
		return rc;
	t0 = bench_now();
	if ((rc = publish(js, &r, &o, subject, &m, &n, &bytes)))
		return rc;
	dt = bench_now() - t0;
	if (r.errors || r.acked != n) {
		fprintf(stderr, "js_pub: %" PRIu64 " of %" PRIu64 " publishes acknowledged, "
			"%" PRIu64 " errors (last JetStream error %d)\n", r.acked, n, r.errors,
			r.last_err);
		return 1;
	}
	report(&o, &r, n, bytes, dt);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	mix_free(&m);
	return 0;
}
