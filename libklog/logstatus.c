// SPDX-License-Identifier: GPL-2.0-only
/* logstatus.c - a running log's figures, for klogctl status and klogd (see logstatus.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <klog/klog.h>

#include "format.h"
#include "segdir.h"
#include "logstatus.h"

static int pin_get(const char *name, const char *map)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), KLOG_PIN_ROOT "/%s/%s", name, map);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int klog_status_open(struct klog_kern *k, const char *name)
{
	int err;

	memset(k, 0, sizeof(*k));
	k->ctl_fd = k->stats_fd = k->index_fd = k->pool_fd = -1;
	if ((k->ctl_fd = pin_get(name, "klog_ctl")) < 0 ||
	    (k->stats_fd = pin_get(name, "klog_stats")) < 0 ||
	    (k->index_fd = pin_get(name, "kerby_index")) < 0)
		goto fail;
	/* Read-only: status must never be able to move the log. */
	k->ctl = mmap(NULL, sizeof(*k->ctl), PROT_READ, MAP_SHARED, k->ctl_fd, 0);
	if (k->ctl == MAP_FAILED) {
		k->ctl = NULL;
		goto fail;
	}
	/* The settings the maps were made with, as the control map keeps them. */
	k->pool = k->ctl->pool_kind;
	k->window = k->ctl->window;
	k->pool_blocks = k->ctl->pool_blocks;
	k->pool_fd = pin_get(name, k->pool == KERBY_POOL_RING ? "kerby_ring" : "kerby_hash");
	if (k->pool_fd < 0)
		goto fail;
	k->ncpus = libbpf_num_possible_cpus();
	if (k->ncpus > 0)
		return 0;
	errno = k->ncpus < 0 ? -k->ncpus : EINVAL;
fail:
	err = -errno;
	klog_status_close(k);
	return err;
}

void klog_status_close(struct klog_kern *k)
{
	int *fds[] = { &k->ctl_fd, &k->stats_fd, &k->index_fd, &k->pool_fd };

	if (k->ctl)
		munmap(k->ctl, sizeof(*k->ctl));
	k->ctl = NULL;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int klog_status_read(struct klog_kern *k, struct klog_status_kern *o)
{
	const struct klog_ctl *c = k->ctl;
	int err;

	memset(o, 0, sizeof(*o));
	/* durable before next: a record made durable meanwhile cannot make lag negative. */
	o->truncated_lsn = __atomic_load_n(&c->truncated_lsn, __ATOMIC_ACQUIRE);
	o->durable_lsn = __atomic_load_n(&c->durable_lsn, __ATOMIC_ACQUIRE);
	o->next_lsn = __atomic_load_n(&c->next_lsn, __ATOMIC_ACQUIRE);
	o->log_id = c->log_id;
	o->window = k->window;
	o->pool_blocks = k->pool_blocks;
	o->block_size = c->block_size ? c->block_size : KLOG_BLOCK_SIZE;
	if ((err = klog_kern_pool_used(k, &o->pool_used)) || (err = klog_kern_stats(k, &o->stats)))
		return err;
	o->lag_records = o->next_lsn > o->durable_lsn ? o->next_lsn - o->durable_lsn : 0;
	o->lag_bytes = o->pool_used * o->block_size;
	if (o->window)
		o->window_fill = (double)(o->next_lsn - o->truncated_lsn) / o->window;
	if (o->pool_blocks)
		o->pool_fill = (double)o->pool_used / (double)o->pool_blocks;
	return 0;
}

int klog_status_dir(const char *dir, uint64_t *segments, uint64_t *bytes)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;
	uint64_t *firsts = NULL;
	size_t n = 0;

	*segments = *bytes = 0;
	if (dfd < 0)
		return -errno;
	if (!(err = klog_seg_list(dfd, false, &firsts, &n))) {
		for (size_t i = 0; i < n; i++) {
			char name[KLOG_SEG_NAME_MAX];
			struct stat st;

			klog_seg_name(name, firsts[i], false);
			/* Trimmed meanwhile (retention): not there, not counted. */
			if (fstatat(dfd, name, &st, 0))
				continue;
			(*segments)++;
			/* On disk, not the length: segments are preallocated. */
			*bytes += (uint64_t)st.st_blocks * 512;
		}
	}
	free(firsts);
	close(dfd);
	return err;
}

enum klog_stat_kind klog_stat_kind(unsigned int id, const char **reason)
{
	const char *name = klog_stat_name(id);

	*reason = name;
	if (!name)
		return KLOG_STAT_KIND_OTHER;
	if (!strncmp(name, "nack_", 5)) {
		*reason = name + 5;
		return KLOG_STAT_KIND_NACK;
	}
	if (!strncmp(name, "drop_", 5)) {
		*reason = name + 5;
		return KLOG_STAT_KIND_DROP;
	}
	return KLOG_STAT_KIND_OTHER;
}

void klog_state_path(char *path, size_t n, const char *name)
{
	snprintf(path, n, KLOG_RUN_DIR "/%s.status", name);
}

/* One table for both directions, so the writer and the reader cannot disagree. */
enum field_type { F_U64, F_TIME, F_STR };

struct field {
	const char *key;
	enum field_type type;
	size_t off, size;
};

#define FIELD(key, type, member)                                                \
	{ key, type, offsetof(struct klog_daemon_state, member),                \
	  sizeof(((struct klog_daemon_state *)0)->member) }

static const struct field fields[] = {
	FIELD("pid", F_U64, pid),
	FIELD("started", F_TIME, started),
	FIELD("updated", F_TIME, updated),
	FIELD("backend", F_STR, backend),
	FIELD("dir", F_STR, dir),
	FIELD("stream", F_STR, stream),
	FIELD("health", F_STR, health),
	FIELD("health_why", F_STR, why),
	FIELD("health_since", F_TIME, health_since),
	FIELD("durable_lsn", F_U64, durable_lsn),
	FIELD("progress_at", F_TIME, progress_at),
	FIELD("commits", F_U64, commits),
	FIELD("records", F_U64, records),
	FIELD("bytes", F_U64, bytes),
	FIELD("tombstones", F_U64, tombstones),
	FIELD("write_errors", F_U64, write_errors),
	FIELD("jetstream_publishes", F_U64, publishes),
	FIELD("retain_bytes", F_U64, retain_bytes),
	FIELD("retain_age_s", F_U64, retain_age_s),
	FIELD("retain_segments", F_U64, retain_segments),
	FIELD("stats_interval_s", F_U64, stats_interval_s),
	FIELD("metrics", F_STR, metrics),
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

int klog_state_write(FILE *f, const struct klog_daemon_state *st)
{
	for (size_t i = 0; i < N_FIELDS; i++) {
		const void *p = (const char *)st + fields[i].off;

		if (fields[i].type == F_U64)
			fprintf(f, "%s=%llu\n", fields[i].key,
				(unsigned long long)*(const uint64_t *)p);
		else if (fields[i].type == F_TIME)
			fprintf(f, "%s=%.3f\n", fields[i].key, *(const double *)p);
		else
			fprintf(f, "%s=%s\n", fields[i].key, (const char *)p);
	}
	return ferror(f) ? -EIO : 0;
}

static void parse_field(const struct field *fd, const char *v, struct klog_daemon_state *st)
{
	void *p = (char *)st + fd->off;

	if (fd->type == F_U64)
		*(uint64_t *)p = strtoull(v, NULL, 10);
	else if (fd->type == F_TIME)
		*(double *)p = strtod(v, NULL);
	else
		snprintf(p, fd->size, "%s", v);
}

int klog_state_read(const char *path, struct klog_daemon_state *st)
{
	FILE *f = fopen(path, "re");
	char line[1024];

	memset(st, 0, sizeof(*st));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		line[strcspn(line, "\n")] = 0;
		if (!eq)
			continue;
		*eq = 0;
		for (size_t i = 0; i < N_FIELDS; i++)
			if (!strcmp(line, fields[i].key))
				parse_field(&fields[i], eq + 1, st);
	}
	fclose(f);
	return st->pid ? 0 : -EBADMSG;
}
