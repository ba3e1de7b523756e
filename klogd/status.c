// SPDX-License-Identifier: GPL-2.0-only
/* status.c - klogd's state file and stats line (see status.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "status.h"

struct klogd_status {
	struct klogd_status_cfg cfg;
	const struct klogd_drain *d;
	struct klogd_metrics *metrics;
	char path[PATH_MAX];
	pthread_mutex_t lock;         /* guards snap: the metrics thread reads it */
	struct klog_daemon_state snap; /* what the drain thread last saw */
	uint64_t last_write_ns, last_durable;
	enum klogd_health_state last_health;
	bool write_failed;            /* said once */
	/* The stats line: the figures at the last one. */
	uint64_t next_line_ns, line_appends, line_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *health_name(enum klogd_health_state s)
{
	switch (s) {
	case KLOGD_HEALTH_OK: return "ok";
	case KLOGD_HEALTH_NOSPACE: return "nospace";
	case KLOGD_HEALTH_STORE_WAIT: return "store_wait";
	case KLOGD_HEALTH_STOPPING: return "stopping";
	}
	return "unknown";
}

/* A monotonic instant as wall-clock time. */
static double mono_to_wall(uint64_t ns)
{
	return wall() - ((double)mono_ns() - (double)ns) / 1e9;
}

/* The drain's counters now (relaxed loads: the drain thread writes them). */
static void live_counters(const struct klogd_drain *d, struct klog_daemon_state *o)
{
	o->commits = klogd_read(&d->commits);
	o->records = klogd_read(&d->records);
	o->bytes = klogd_read(&d->bytes);
	o->tombstones = klogd_read(&d->tombstones);
	o->write_errors = klogd_read(&klogd_stats.write_errors);
	o->publishes = klogd_read(&klogd_stats.publishes);
}

/* Write the state file: a temporary beside it, renamed over it, so a reader sees it whole. */
static void write_state(struct klogd_status *st)
{
	char tmp[PATH_MAX + 8];
	struct klog_daemon_state s;
	FILE *f;
	int err = 0;

	klogd_status_daemon(st, &s);
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
	if (!(f = fopen(tmp, "we")))
		err = -errno;
	else if ((err = klog_state_write(f, &s)) | fclose(f))
		err = err ? err : -errno;
	if (!err && rename(tmp, st->path))
		err = -errno;
	if (err && !st->write_failed)
		klogd_warn("cannot write the state file %s: %s (klogctl status will call klogd "
			  "stale)", st->path, strerror(-err));
	st->write_failed = err != 0;
	if (err)
		unlink(tmp);
}

/* The drain thread's view: health, and when the drain last made progress. */
static void snapshot(struct klogd_status *st, uint64_t now)
{
	const struct klogd_drain *d = st->d;
	uint64_t durable = __atomic_load_n(&d->k->ctl->durable_lsn, __ATOMIC_ACQUIRE);
	uint64_t next = __atomic_load_n(&d->k->ctl->next_lsn, __ATOMIC_ACQUIRE);

	pthread_mutex_lock(&st->lock);
	if (durable != st->last_durable || durable >= next)
		st->snap.progress_at = mono_to_wall(now);
	st->last_durable = durable;
	st->snap.durable_lsn = durable;
	snprintf(st->snap.health, sizeof(st->snap.health), "%s", health_name(d->health.state));
	snprintf(st->snap.why, sizeof(st->snap.why), "%s", d->health.why);
	st->snap.health_since = d->health.since_ns ? mono_to_wall(d->health.since_ns)
						    : st->snap.started;
	pthread_mutex_unlock(&st->lock);
	st->last_health = d->health.state;
}

static void stats_line(struct klogd_status *st, uint64_t now)
{
	struct klog_status_kern k;
	struct klog_daemon_state s;
	double secs = (double)(now - st->line_ns) / 1e9;
	int err = klog_status_read(st->d->k, &k);

	if (err) {
		klogd_warn("stats: cannot read the kernel log's counters: %s", strerror(-err));
		return;
	}
	klogd_status_daemon(st, &s);
	klogd_log("stats: %.1f appends/s, durable LSN %llu, lag %llu records (%llu bytes), "
		  "window %.1f%%, pool %.1f%%, %llu commits, %llu records, %llu bytes drained, "
		  "%llu write errors, health %s",
		  secs > 0 ? (double)(k.stats.appends - st->line_appends) / secs : 0.0,
		  (unsigned long long)k.durable_lsn, (unsigned long long)k.lag_records,
		  (unsigned long long)k.lag_bytes, k.window_fill * 100, k.pool_fill * 100,
		  (unsigned long long)s.commits, (unsigned long long)s.records,
		  (unsigned long long)s.bytes, (unsigned long long)s.write_errors, s.health);
	st->line_appends = k.stats.appends;
	st->line_ns = now;
}

void klogd_status_tick(struct klogd_status *st)
{
	uint64_t now = mono_ns();

	if (!st)
		return;
	if (now - st->last_write_ns >= 1000000000ull || st->d->health.state != st->last_health) {
		snapshot(st, now);
		write_state(st);
		st->last_write_ns = now;
	}
	if (st->cfg.stats_interval_s && now >= st->next_line_ns) {
		stats_line(st, now);
		st->next_line_ns = now + st->cfg.stats_interval_s * 1000000000ull;
	}
}

void klogd_status_daemon(struct klogd_status *st, struct klog_daemon_state *out)
{
	pthread_mutex_lock(&st->lock);
	*out = st->snap;
	pthread_mutex_unlock(&st->lock);
	out->updated = wall();
	live_counters(st->d, out);
}

int klogd_status_kern(struct klogd_status *st, struct klog_status_kern *out)
{
	return klog_status_read(st->d->k, out);
}

const char *klogd_status_dir(const struct klogd_status *st)
{
	return st->cfg.dir;
}

/* What does not change while klogd runs. */
static void fixed_state(struct klogd_status *st)
{
	const struct klogd_status_cfg *c = &st->cfg;
	struct klog_daemon_state *s = &st->snap;

	s->pid = (uint64_t)getpid();
	s->started = wall();
	snprintf(s->backend, sizeof(s->backend), "%s", c->backend);
	snprintf(s->dir, sizeof(s->dir), "%s", c->dir ? c->dir : "");
	snprintf(s->stream, sizeof(s->stream), "%s", c->stream ? c->stream : "");
	s->retain_bytes = c->retain->bytes;
	s->retain_age_s = c->retain->age_s;
	s->retain_segments = c->retain->segments;
	s->stats_interval_s = c->stats_interval_s;
	snprintf(s->metrics, sizeof(s->metrics), "%s", c->metrics ? c->metrics : "");
}

int klogd_status_start(struct klogd_status **out, const struct klogd_status_cfg *cfg,
		       const struct klogd_drain *d)
{
	struct klogd_status *st = calloc(1, sizeof(*st));
	struct klog_status_kern k;
	int err;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	st->cfg = *cfg;
	st->d = d;
	pthread_mutex_init(&st->lock, NULL);
	klog_state_path(st->path, sizeof(st->path), cfg->name);
	fixed_state(st);
	st->line_ns = mono_ns();
	st->next_line_ns = st->line_ns + cfg->stats_interval_s * 1000000000ull;
	if (!klog_status_read(d->k, &k))
		st->line_appends = k.stats.appends;
	snapshot(st, st->line_ns);
	write_state(st);
	st->last_write_ns = st->line_ns;
	if (cfg->metrics && (err = klogd_metrics_start(&st->metrics, cfg->metrics, st))) {
		klogd_status_stop(st);
		return err;
	}
	*out = st;
	return 0;
}

void klogd_status_stop(struct klogd_status *st)
{
	if (!st)
		return;
	klogd_metrics_stop(st->metrics);
	unlink(st->path);
	pthread_mutex_destroy(&st->lock);
	free(st);
}
