// SPDX-License-Identifier: GPL-2.0-only
/* metrics.c - the Prometheus endpoint (see metrics.h; names in doc/klogd.md, "Metrics"). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "status.h"

struct klogd_metrics {
	struct MHD_Daemon *mhd;
	struct klogd_status *st;
	int fd;
};

int klogd_metrics_addr(const char *arg, struct sockaddr_storage *sa, socklen_t *len)
{
	struct sockaddr_storage sa_only;
	socklen_t len_only;
	char host[64];
	const char *colon = strrchr(arg, ':'), *why = NULL;
	size_t hlen = colon ? (size_t)(colon - arg) : 0;
	bool v6 = arg[0] == '[';
	uint64_t port;

	if (!sa) { /* only checking */
		sa = &sa_only;
		len = &len_only;
	}
	memset(sa, 0, sizeof(*sa));
	if (!colon || hlen >= sizeof(host) || (v6 && (hlen < 2 || arg[hlen - 1] != ']')))
		why = "ADDR:PORT wanted: an IPv4 address or [IPv6 address], a colon, a port";
	else if (klog_parse_u64(colon + 1, &port, false) || !port || port > 65535)
		why = "the port must be 1..65535";
	if (!why) {
		memcpy(host, arg + v6, hlen - 2 * v6);
		host[hlen - 2 * v6] = 0;
		if (v6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*s6);
			if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
				why = "not an IPv6 address in the brackets";
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			*len = sizeof(*s4);
			if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
				why = "not an IPv4 address (IPv6: [ADDR]:PORT)";
		}
	}
	if (why) {
		fprintf(stderr, "klogd: --metrics %s: %s\n", arg, why);
		return -EINVAL;
	}
	return 0;
}

/* One family's HELP and TYPE lines. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, const char *labels, double v)
{
	fprintf(f, "%s%s %.17g\n", name, labels, v);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	sample(f, name, "", v);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* The kernel's counters of one kind, labelled by reason (NACKs, drops). */
static void by_reason(FILE *f, const struct klog_stats *s, enum klog_stat_kind kind,
		      const char *name, const char *help)
{
	const char *reason;

	family(f, name, "counter", help);
	for (unsigned int i = 0; i < KLOG_STAT__MAX; i++)
		if (klog_stat_kind(i, &reason) == kind)
			fprintf(f, "%s{reason=\"%s\"} %llu\n", name, reason,
				(unsigned long long)((const __u64 *)s)[i]);
}

/* Every other kernel counter as klog_NAME_total ("bytes" says what they are). */
static void kernel_counters(FILE *f, const struct klog_stats *s)
{
	const char *n;
	char name[64], help[128];

	for (unsigned int i = 0; i < KLOG_STAT__MAX; i++) {
		if (klog_stat_kind(i, &n) != KLOG_STAT_KIND_OTHER)
			continue;
		snprintf(name, sizeof(name), "klog_%s_total",
			 i == KLOG_STAT_bytes ? "appended_bytes" : n);
		snprintf(help, sizeof(help), "The programs' counter %s, summed over CPUs "
			 "(include/klog/klog_abi.h)", n);
		counter(f, name, help, ((const __u64 *)s)[i]);
	}
	by_reason(f, s, KLOG_STAT_KIND_NACK, "klog_nacks_total", "Appends refused (NACK), by status");
	by_reason(f, s, KLOG_STAT_KIND_DROP, "klog_drops_total",
		  "Packets for klog dropped unanswered, by reason");
}

static void kernel(FILE *f, const struct klog_status_kern *k)
{
	gauge(f, "klog_next_lsn", "The LSN the next append will get", (double)k->next_lsn);
	gauge(f, "klog_durable_lsn", "Every LSN below is durable", (double)k->durable_lsn);
	gauge(f, "klog_truncated_lsn", "The first LSN still held in the kernel",
	      (double)k->truncated_lsn);
	gauge(f, "klog_drain_lag_records", "Records appended, not durable yet (next - durable)",
	      (double)k->lag_records);
	gauge(f, "klog_drain_lag_bytes", "Memory pool bytes the records not yet durable hold "
	      "(blocks in use times block size)", (double)k->lag_bytes);
	gauge(f, "klog_window_fill_ratio", "Allocation window in use, 0..1 (FULL at 1)",
	      k->window_fill);
	gauge(f, "klog_pool_fill_ratio", "Memory pool blocks in use, 0..1", k->pool_fill);
	kernel_counters(f, &k->stats);
}

static void histogram(FILE *f, const char *name, const char *help, const struct klogd_hist *h)
{
	char bucket[96], le[48];
	uint64_t cum = 0;

	family(f, name, "histogram", help);
	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	for (unsigned int i = 0; i < KLOGD_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		/* Counted apart from count: never let a bucket pass +Inf. */
		if (cum > h->count)
			cum = h->count;
		snprintf(le, sizeof(le), "{le=\"%g\"}", klogd_hist_bound(i));
		sample(f, bucket, le, (double)cum);
	}
	sample(f, bucket, "{le=\"+Inf\"}", (double)h->count);
	fprintf(f, "%s_sum %.9f\n%s_count %llu\n", name, h->sum_ns / 1e9, name,
		(unsigned long long)h->count);
}

static void daemon_side(FILE *f, const struct klog_daemon_state *s, const struct klogd_hist *h)
{
	static const char *const states[] = { "ok", "nospace", "store_wait", "stopping" };

	gauge(f, "klog_up", "1: klogd is running (it serves this)", 1);
	family(f, "klog_health", "gauge", "klogd's health: 1 for the state it is in");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		char l[48];

		snprintf(l, sizeof(l), "{state=\"%s\"}", states[i]);
		sample(f, "klog_health", l, !strcmp(s->health, states[i]));
	}
	gauge(f, "klog_start_time_seconds", "When klogd started, Unix time", s->started);
	counter(f, "klog_commits_total", "Batches made durable", s->commits);
	counter(f, "klog_drained_records_total", "Records made durable", s->records);
	counter(f, "klog_drained_bytes_total", "Payload bytes drained", s->bytes);
	counter(f, "klog_tombstones_total", "Records stored as tombstones (bytes damaged)",
		s->tombstones);
	counter(f, "klog_write_errors_total", "Errors the drain met writing, syncing or "
		"publishing the log (or reading the kernel log)", s->write_errors);
	counter(f, "klog_jetstream_publishes_total", "Records published to the JetStream "
		"stream (again after a resync)", s->publishes);
	histogram(f, "klog_commit_seconds", "From a batch's commit start (write and fdatasync, "
		  "or the stream's acknowledgements) until the drain saw it durable", h);
	gauge(f, "klog_retain_bytes", "--retain-bytes (0: no limit)", (double)s->retain_bytes);
	gauge(f, "klog_retain_age_seconds", "--retain-age (0: no limit)",
	      (double)s->retain_age_s);
	gauge(f, "klog_retain_segments", "--retain-segments (0: no limit)",
	      (double)s->retain_segments);
}

int klogd_metrics_format(FILE *f, const struct klogd_metrics_view *v)
{
	daemon_side(f, v->daemon, &v->commit);
	if (v->kern)
		kernel(f, v->kern);
	if (v->dir) {
		gauge(f, "klog_segments", "Segment files in the log directory", (double)v->segments);
		gauge(f, "klog_segment_bytes", "Bytes the segment files take on disk",
		      (double)v->segment_bytes);
	}
	return fflush(f) || ferror(f) ? -EIO : 0;
}

/* The histogram as it is now, each field read once. */
static void hist_now(struct klogd_hist *out)
{
	const struct klogd_hist *h = &klogd_stats.commit;

	out->count = klogd_read(&h->count);
	out->sum_ns = klogd_read(&h->sum_ns);
	for (unsigned int i = 0; i < KLOGD_HIST_BUCKETS; i++)
		out->bucket[i] = klogd_read(&h->bucket[i]);
}

/* The scrape's text, malloc'd. */
static char *scrape(struct klogd_status *st, size_t *len)
{
	struct klog_status_kern k;
	struct klog_daemon_state d;
	struct klogd_metrics_view v = { .daemon = &d };
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	klogd_status_daemon(st, &d);
	hist_now(&v.commit);
	if (!klogd_status_kern(st, &k))
		v.kern = &k;
	v.dir = klogd_status_dir(st) &&
		!klog_status_dir(klogd_status_dir(st), &v.segments, &v.segment_bytes);
	if (klogd_metrics_format(f, &v)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req)
{
	static const char not_found[] = "not found: GET /metrics\n";
	struct klogd_metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned int code = MHD_HTTP_OK;
	size_t len = 0;
	char *body = NULL;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req;
	if (!strcmp(method, "GET") && !strcmp(url, "/metrics"))
		body = scrape(m->st, &len);
	if (body) {
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						"text/plain; version=0.0.4; charset=utf-8");
		else
			free(body);
	} else {
		bool ours = !strcmp(method, "GET") && !strcmp(url, "/metrics");

		code = ours ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_NOT_FOUND;
		r = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						    MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* The listening socket, made here so that a failure says what failed. */
static int listen_on(const char *addr)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd, one = 1;

	if (klogd_metrics_addr(addr, &sa, &len))
		return -EINVAL;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 16)) {
		int err = -errno;

		klogd_err("--metrics %s: cannot listen: %s", addr, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

int klogd_metrics_start(struct klogd_metrics **out, const char *addr, struct klogd_status *st)
{
	struct klogd_metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->st = st;
	if ((m->fd = listen_on(addr)) < 0) {
		int err = m->fd;

		free(m);
		return err;
	}
	/* A scraper or two: a slow or idle client may not hold more of klogd than that. */
	m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, m,
				  MHD_OPTION_LISTEN_SOCKET, m->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	if (!m->mhd) {
		klogd_err("--metrics %s: libmicrohttpd did not start", addr);
		close(m->fd);
		free(m);
		return -EIO;
	}
	*out = m;
	return 0;
}

void klogd_metrics_stop(struct klogd_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd); /* closes the listening socket too */
	free(m);
}
