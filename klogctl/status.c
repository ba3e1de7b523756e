// SPDX-License-Identifier: GPL-2.0-only
/*
 * status.c - `klogctl status`: is the klogd of a log running and keeping
 * up, and the log's figures (the kernel's maps, klogd's state file, the
 * log directory), as text or JSON; the exit status makes it a health check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

#include "klogctl.h"
#include "logstatus.h"
#include "parse.h"

/*
 * klogd rewrites its state file about once a second, and a drain that keeps
 * up moves durable_lsn about as often: CTL_STALL_S_DEFAULT without either is
 * a stall (--stall; a little slack, so that a busy moment is not called one).
 */

/* Output: "group" headings and "  key value" lines, or one JSON object of objects. */
struct out {
	bool json;
	bool group; /* a group is open */
	int n[2];   /* members written at the top, and in the open group */
};

static void key(struct out *o, const char *k)
{
	if (o->json)
		printf("%s\"%s\":", o->n[o->group]++ ? "," : "", k);
	else
		printf("%s%-22s ", o->group ? "  " : "", k);
}

static void end_group(struct out *o)
{
	if (o->group && o->json)
		printf("}");
	o->group = false;
}

static void group(struct out *o, const char *name)
{
	end_group(o);
	if (o->json) {
		key(o, name);
		printf("{");
	} else {
		printf("\n%s\n", name);
	}
	o->group = true;
	o->n[1] = 0;
}

static void put_u64(struct out *o, const char *k, uint64_t v)
{
	key(o, k);
	printf(o->json ? "%llu" : "%llu\n", (unsigned long long)v);
}

static void json_str(const char *v)
{
	putchar('"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void put_str(struct out *o, const char *k, const char *v)
{
	key(o, k);
	if (o->json)
		json_str(v);
	else
		printf("%s\n", *v ? v : "-");
}

static void put_pct(struct out *o, const char *k, double ratio)
{
	key(o, k);
	printf(o->json ? "%.2f" : "%.2f%%\n", ratio * 100);
}

static void put_time(struct out *o, const char *k, double t)
{
	char s[64];
	time_t sec = (time_t)t;
	struct tm tm;

	if (o->json) {
		key(o, k);
		printf("%.3f", t);
		return;
	}
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&sec, &tm));
	put_str(o, k, s);
}

/* Whether a klogd holds the log's lock: taking it must fail. */
static bool lock_held(const char *name)
{
	char path[256];
	int fd, held;

	snprintf(path, sizeof(path), KLOG_RUN_DIR "/%s.lock", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	held = flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd); /* lets go of it if we took it */
	return held;
}

struct view {
	const char *name;
	bool running, have_state, have_kern, have_dir;
	int kern_err; /* why the maps could not be read */
	double stall_s;
	struct klog_daemon_state d;
	struct klog_status_kern k;
	uint64_t segments, seg_bytes;
	char why[3][200];
	int nwhy;
};

#define WHY(v, ...) snprintf((v)->why[(v)->nwhy++], sizeof((v)->why[0]), __VA_ARGS__)

/* 0 healthy, 1 degraded, 2 not running, with the reasons in v->why. */
static int verdict(struct view *v, double now)
{
	if (!v->running)
		return 2;
	if (strcmp(v->d.health, "ok"))
		WHY(v, "klogd's health is %s%s%s", v->d.health, *v->d.why ? ": " : "", v->d.why);
	/* The state file is rewritten about once a second: a second of slack for it. */
	if (now - v->d.updated > v->stall_s + 1)
		WHY(v, "klogd has not updated its state file for %.0f s (stopped or stuck?)",
		    now - v->d.updated);
	if (!v->have_kern)
		WHY(v, "the log's maps under " KLOG_PIN_ROOT "/%s cannot be read: %s%s", v->name,
		    strerror(-v->kern_err), v->kern_err == -EPERM || v->kern_err == -EACCES
					    ? " (root needed)" : "");
	else if (v->k.next_lsn > v->k.durable_lsn && now - v->d.progress_at > v->stall_s + 1)
		WHY(v, "drain stalled: %llu records wait and the durable LSN has not moved "
		    "for %.0f s", (unsigned long long)v->k.lag_records, now - v->d.progress_at);
	return v->nwhy ? 1 : 0;
}

static void print_kernel(struct out *o, const struct klog_status_kern *k)
{
	const char *reason;

	group(o, "kernel");
	put_u64(o, "next_lsn", k->next_lsn);
	put_u64(o, "durable_lsn", k->durable_lsn);
	put_u64(o, "truncated_lsn", k->truncated_lsn);
	put_u64(o, "lag_records", k->lag_records);
	put_u64(o, "lag_bytes", k->lag_bytes);
	put_pct(o, "window_fill_pct", k->window_fill);
	put_u64(o, "window", k->window);
	put_pct(o, "pool_fill_pct", k->pool_fill);
	put_u64(o, "pool_blocks", k->pool_blocks);
	put_u64(o, "pool_blocks_used", k->pool_used);
	group(o, "counters");
	for (unsigned int i = 0; i < KLOG_STAT__MAX; i++)
		if (klog_stat_kind(i, &reason) == KLOG_STAT_KIND_OTHER)
			put_u64(o, reason, ((const __u64 *)&k->stats)[i]);
	for (int kind = KLOG_STAT_KIND_NACK; kind <= KLOG_STAT_KIND_DROP; kind++) {
		group(o, kind == KLOG_STAT_KIND_NACK ? "nacks" : "drops");
		for (unsigned int i = 0; i < KLOG_STAT__MAX; i++)
			if (klog_stat_kind(i, &reason) == (enum klog_stat_kind)kind)
				put_u64(o, reason, ((const __u64 *)&k->stats)[i]);
	}
}

static void print_daemon(struct out *o, const struct klog_daemon_state *d)
{
	group(o, "klogd");
	put_u64(o, "pid", d->pid);
	put_time(o, "started", d->started);
	put_time(o, "updated", d->updated);
	put_str(o, "backend", d->backend);
	put_str(o, *d->dir ? "dir" : "stream", *d->dir ? d->dir : d->stream);
	put_str(o, "health", d->health);
	put_str(o, "health_why", d->why);
	put_time(o, "health_since", d->health_since);
	put_time(o, "progress_at", d->progress_at);
	put_str(o, "metrics", d->metrics);
	put_u64(o, "stats_interval_s", d->stats_interval_s);
	group(o, "drain");
	put_u64(o, "commits", d->commits);
	put_u64(o, "records", d->records);
	put_u64(o, "bytes", d->bytes);
	put_u64(o, "tombstones", d->tombstones);
	put_u64(o, "write_errors", d->write_errors);
	put_u64(o, "jetstream_publishes", d->publishes);
	group(o, "retention");
	put_u64(o, "bytes", d->retain_bytes);
	put_u64(o, "age_s", d->retain_age_s);
	put_u64(o, "segments", d->retain_segments);
}

static void print(struct view *v, bool json, int code)
{
	static const char *const verdicts[] = { "healthy", "degraded", "not running" };
	struct out o = { .json = json };

	if (json)
		printf("{");
	put_str(&o, "name", v->name);
	put_str(&o, "status", verdicts[code]);
	if (json) {
		key(&o, "reasons");
		printf("[");
		for (int i = 0; i < v->nwhy; i++) {
			printf("%s", i ? "," : "");
			json_str(v->why[i]);
		}
		printf("]");
	} else {
		for (int i = 0; i < v->nwhy; i++)
			put_str(&o, "reason", v->why[i]);
	}
	key(&o, "running");
	printf(json ? "%s" : "%s\n", v->running ? (json ? "true" : "yes") : (json ? "false" : "no"));
	if (v->have_state)
		print_daemon(&o, &v->d);
	if (v->have_kern)
		print_kernel(&o, &v->k);
	if (v->have_dir) {
		group(&o, "disk");
		put_u64(&o, "segments", v->segments);
		put_u64(&o, "bytes", v->seg_bytes);
	}
	end_group(&o);
	printf(json ? "}\n" : "");
	fflush(stdout);
}

static int parse(int argc, char **argv, struct view *v, bool *json)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "stall", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t secs = CTL_STALL_S_DEFAULT;
	int c;

	while ((c = getopt_long(argc, argv, "n:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': v->name = optarg; break;
		case 's':
			if (klog_parse_duration(optarg, &secs) || !secs) {
				fprintf(stderr, "klogctl status: --stall %s: a duration of 1 s or more "
					"(90, 90s, 15m, 12h, 7d)\n", optarg);
				return 2;
			}
			break;
		case 'j': *json = true; break;
		case 'h': ctl_cmd_usage(stdout, "status", true); exit(0);
		default: return ctl_usage_error("status");
		}
	}
	if (optind < argc) {
		fprintf(stderr, "klogctl status: unexpected argument '%s'\n", argv[optind]);
		return ctl_usage_error("status");
	}
	if (!*v->name || strchr(v->name, '/') || strlen(v->name) > 64) {
		fprintf(stderr, "klogctl status: --name '%s': 1..64 characters without '/'\n",
			v->name);
		return 2;
	}
	v->stall_s = (double)secs;
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct view v = { .name = "default" };
	struct klog_kern k;
	char path[256];
	struct timespec now;
	bool json = false;
	int code;

	if ((code = parse(argc, argv, &v, &json)))
		return code;
	klog_state_path(path, sizeof(path), v.name);
	v.have_state = !klog_state_read(path, &v.d);
	v.running = lock_held(v.name) && v.have_state &&
		    (!kill((pid_t)v.d.pid, 0) || errno == EPERM);
	if (!(v.kern_err = klog_status_open(&k, v.name))) {
		v.kern_err = klog_status_read(&k, &v.k);
		v.have_kern = !v.kern_err;
		klog_status_close(&k);
	}
	v.have_dir = v.have_state && *v.d.dir &&
		     !klog_status_dir(v.d.dir, &v.segments, &v.seg_bytes);
	clock_gettime(CLOCK_REALTIME, &now);
	code = verdict(&v, (double)now.tv_sec + now.tv_nsec / 1e9);
	if (!v.running && v.have_state)
		WHY(&v, "klogd (pid %llu) is not running: its state file is left from a klogd "
		    "that did not exit cleanly", (unsigned long long)v.d.pid);
	else if (!v.running)
		WHY(&v, "no klogd is running for --name %s", v.name);
	print(&v, json, code);
	return code;
}
