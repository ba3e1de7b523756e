// SPDX-License-Identifier: GPL-2.0-only
/*
 * segtrim.c - deleting a log directory's oldest whole segments (see
 * segtrim.h): the policy, the lock, and the deletion itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "segdir.h"
#include "segtrim.h"

static size_t max_sz(size_t a, size_t b)
{
	return a > b ? a : b;
}

size_t klog_trim_count(const struct klog_trim_seg *s, size_t n, const struct klog_trim_policy *p)
{
	size_t cap = 0, want = 0, k;
	uint64_t total = 0;

	if (n < 2)
		return 0;
	/* Segment i holds LSNs up to s[i + 1].first - 1; the newest is being written. */
	while (cap < n - 1 && (!p->durable || s[cap + 1].first <= p->durable))
		cap++;
	if (p->below)
		for (k = 0; k < n - 1 && s[k + 1].first <= p->below; k++)
			want = k + 1;
	if (p->segments && n > p->segments)
		want = max_sz(want, n - p->segments);
	if (p->bytes) {
		for (k = 0; k < n; k++)
			total += s[k].bytes;
		for (k = 0; k < n && total > p->bytes; k++)
			total -= s[k].bytes;
		want = max_sz(want, k);
	}
	if (p->age_s) {
		/* Stop at the first young one: an older file touched since is kept, with what follows. */
		for (k = 0; k < n && s[k].mtime < p->now && (uint64_t)(p->now - s[k].mtime) > p->age_s;
		     k++)
			;
		want = max_sz(want, k);
	}
	return want < cap ? want : cap;
}

int klog_trim_lock(int dirfd, bool shared, bool wait)
{
	/* Only a deleter creates it: a reader's check must not write in the directory. */
	int fd = openat(dirfd, KLOG_TRIM_LOCK, shared ? O_RDONLY | O_CLOEXEC
					    : O_RDWR | O_CREAT | O_CLOEXEC, 0644), err;

	if (fd < 0)
		return -errno;
	while (flock(fd, (shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB))) {
		if (errno == EINTR)
			continue;
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The sizes and time of the segment of first LSN first. */
static int seg_stat(int dirfd, uint64_t first, struct klog_trim_seg *s)
{
	char name[KLOG_SEG_NAME_MAX];
	struct stat st;

	*s = (struct klog_trim_seg){ .first = first };
	klog_seg_name(name, first, false);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	s->bytes = (uint64_t)st.st_size;
	s->mtime = st.st_mtim.tv_sec;
	klog_seg_name(name, first, true);
	if (!fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		s->bytes += (uint64_t)st.st_size;
	return 0;
}

/* Indexes of segments below first_kept, left by a deletion a crash cut short. */
static void sweep_indexes(int dirfd, uint64_t first_kept)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		char name[KLOG_SEG_NAME_MAX + 8];
		size_t len = strlen(de->d_name);
		uint64_t first;

		/* NAME.idx is an index if NAME.klog is a segment name. */
		if (len < 5 || len >= sizeof(name) || strcmp(de->d_name + len - 4, ".idx"))
			continue;
		memcpy(name, de->d_name, len - 4);
		strcpy(name + len - 4, ".klog");
		if (!klog_seg_parse_name(name, &first) && first < first_kept)
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

/* Delete segment s: its file (then the directory synced, so deletions land in order), its index. */
static int seg_delete(int dirfd, const struct klog_trim_seg *s)
{
	char name[KLOG_SEG_NAME_MAX];

	klog_seg_name(name, s->first, false);
	if (unlinkat(dirfd, name, 0) || fsync(dirfd))
		return -errno;
	klog_seg_name(name, s->first, true);
	if (unlinkat(dirfd, name, 0) && errno != ENOENT)
		return -errno;
	return 0;
}

int klog_seg_trim(int dirfd, const struct klog_trim_policy *p, struct klog_trim_result *r)
{
	struct klog_trim_seg *segs = NULL;
	uint64_t *firsts = NULL;
	size_t n = 0, k = 0, i;
	int lock, err;

	*r = (struct klog_trim_result){ 0 };
	if ((lock = klog_trim_lock(dirfd, false, p->wait)) < 0)
		return lock;
	err = klog_seg_list(dirfd, false, &firsts, &n);
	if (!err && !n)
		err = -ENOENT;
	if (!err && !(segs = calloc(n, sizeof(*segs))))
		err = -ENOMEM;
	for (i = 0; !err && i < n; i++)
		err = seg_stat(dirfd, firsts[i], &segs[i]);
	if (!err)
		k = klog_trim_count(segs, n, p);
	for (i = 0; !err && i < k; i++) {
		if (!(err = seg_delete(dirfd, &segs[i]))) {
			r->segments++;
			r->bytes += segs[i].bytes;
		}
	}
	if (n) {
		r->first = firsts[0];
		r->kept = n - r->segments;
		r->first_kept = firsts[r->segments];
		for (i = r->segments; i < n && segs; i++)
			r->kept_bytes += segs[i].bytes;
		sweep_indexes(dirfd, r->first_kept);
		if (r->segments && fsync(dirfd) && !err)
			err = -errno;
	}
	free(segs);
	free(firsts);
	close(lock);
	return err;
}
