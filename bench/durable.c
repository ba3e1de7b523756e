// SPDX-License-Identifier: GPL-2.0-only
/* durable.c - see durable.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "durable.h"
#include "format.h"
#include "frame.h"

_Static_assert(MIX_LARGE <= KLOG_MAX_RECORD, "the mix needs 1024-byte records");

int mix_init(struct mix *m, uint64_t n)
{
	uint64_t s = MIX_SEED;

	memset(m, 0, sizeof(*m));
	m->sizes = malloc(n * sizeof(*m->sizes));
	if (!m->sizes)
		return -ENOMEM;
	m->n = n;
	for (uint64_t i = 0; i < n; i++) {
		uint16_t len = splitmix64(&s) % 4 == 0 ? MIX_LARGE : MIX_SMALL;

		m->sizes[i] = len;
		m->n_large += len == MIX_LARGE;
		m->payload_bytes += len;
		m->disk_bytes += klog_rec_size(len);
		m->blocks += KLOG_DIV_ROUND_UP(len, KLOG_BLOCK_SIZE);
	}
	fill_payload(m->payload[0], MIX_SMALL, MIX_SMALL);
	fill_payload(m->payload[1], MIX_LARGE, MIX_LARGE);
	return 0;
}

void mix_free(struct mix *m)
{
	free(m->sizes);
	m->sizes = NULL;
}

const uint8_t *mix_payload(const struct mix *m, uint64_t i)
{
	return m->payload[m->sizes[i] == MIX_LARGE];
}

bool mix_holds(const struct mix *m, uint64_t i, const struct klog_record *rec,
	       const void *payload)
{
	return i < m->n && rec->len == m->sizes[i] && rec->txid == i + 1 &&
	       !memcmp(payload, mix_payload(m, i), rec->len);
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void remove_log_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}
