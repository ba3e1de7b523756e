// SPDX-License-Identifier: GPL-2.0-only
/*
 * retain.c - klogd's retention (see retain.h): the deletion itself is
 * libklog's klog_seg_trim(), which klogctl trim runs too; this decides when
 * to run it from the drain loop, cheaply, and says what it did.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "retain.h"
#include "segtrim.h"

/* How often the limits are looked at when no segment was created (for --retain-age). */
#define RETAIN_PERIOD_NS 5000000000ull

struct klogd_retain {
	const struct klogd_retain_cfg *cfg;
	const char *dir;
	int dirfd;
	struct timespec dir_mtime; /* the directory's at the last run */
	uint64_t next_ns;          /* the next run, whatever changed */
	int last_err;              /* logged once until it changes */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The limits set, in words: "at most 3 segments, at most 3145728 bytes". */
static void say_limits(const struct klogd_retain_cfg *c, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = 0;
	if (c->segments)
		len += snprintf(buf + len, n - len, "at most %llu segments",
				(unsigned long long)c->segments);
	if (c->bytes && len < n)
		len += snprintf(buf + len, n - len, "%sat most %llu bytes", len ? ", " : "",
				(unsigned long long)c->bytes);
	if (c->age_s && len < n)
		snprintf(buf + len, n - len, "%sthose written in the last %llu s", len ? ", " : "",
			 (unsigned long long)c->age_s);
}

int klogd_retain_open(struct klogd_retain **out, const struct klogd_retain_cfg *cfg,
		      const char *dir)
{
	struct klogd_retain *r;
	char what[160];

	*out = NULL;
	if (!klogd_retain_any(cfg))
		return 0;
	if (!(r = calloc(1, sizeof(*r))))
		return -ENOMEM;
	*r = (struct klogd_retain){ .cfg = cfg, .dir = dir, .dirfd = -1 };
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		int err = -errno;

		klogd_err("retention: cannot open %s: %s", dir, strerror(-err));
		free(r);
		return err;
	}
	say_limits(cfg, what, sizeof(what));
	klogd_log("retention: %s keeps %s (whole segments, oldest first, never the one being "
		  "written)", dir, what);
	*out = r;
	return 0;
}

static void run(struct klogd_retain *r, uint64_t durable)
{
	struct klog_trim_policy p = { .bytes = r->cfg->bytes, .age_s = r->cfg->age_s,
				      .segments = r->cfg->segments, .durable = durable,
				      .now = time(NULL) };
	struct klog_trim_result res;
	int err = klog_seg_trim(r->dirfd, &p, &res);

	if (res.segments)
		klogd_log("retention: deleted %llu segment%s of LSNs %llu..%llu, %llu bytes; the "
			  "log starts at LSN %llu (%llu segments, %llu bytes kept)",
			  (unsigned long long)res.segments, res.segments == 1 ? "" : "s",
			  (unsigned long long)res.first, (unsigned long long)res.first_kept - 1,
			  (unsigned long long)res.bytes, (unsigned long long)res.first_kept,
			  (unsigned long long)res.kept, (unsigned long long)res.kept_bytes);
	if (err == -EWOULDBLOCK)
		return; /* klogctl trim is deleting: the next run looks again */
	if (err && err != r->last_err)
		klogd_warn("retention: deleting segments in %s failed: %s (retrying; records are "
			  "kept)", r->dir, strerror(-err));
	r->last_err = err;
}

void klogd_retain_tick(struct klogd_retain *r, uint64_t durable)
{
	uint64_t now;
	struct stat st;
	bool changed;

	if (!r)
		return;
	now = mono_ns();
	changed = !fstat(r->dirfd, &st) && (st.st_mtim.tv_sec != r->dir_mtime.tv_sec ||
					    st.st_mtim.tv_nsec != r->dir_mtime.tv_nsec);
	if (!changed && now < r->next_ns)
		return;
	run(r, durable);
	/* After the run: its own deletions are not a change to look at again. */
	if (!fstat(r->dirfd, &st))
		r->dir_mtime = st.st_mtim;
	r->next_ns = now + RETAIN_PERIOD_NS;
}

void klogd_retain_close(struct klogd_retain *r)
{
	if (!r)
		return;
	close(r->dirfd);
	free(r);
}
