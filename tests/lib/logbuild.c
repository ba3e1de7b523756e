// SPDX-License-Identifier: GPL-2.0-only
/* logbuild.c - see logbuild.h. */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "logbuild.h"

uint32_t logbuild_len(uint64_t lsn)
{
	return (uint32_t)(lsn * 37 % 96);
}

void logbuild_fill(uint8_t *p, uint64_t lsn)
{
	for (uint32_t k = 0; k < logbuild_len(lsn); k++)
		p[k] = (uint8_t)(lsn * 131 + k * 7);
}

uint64_t logbuild_salt(uint64_t first)
{
	return 0x5a17c0ffee123457ull ^ (first * 0x9e3779b97f4a7c15ull);
}

/* Write all of buf (n bytes) to path, a new file. */
static int put_file(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != (ssize_t)n)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/* One segment from LSN first: its file and its index, built in memory and written whole. */
static int put_segment(const char *dir, uint64_t first, const struct logbuild *b, uint8_t *seg,
		       uint64_t *idx)
{
	char path[PATH_MAX], name[KLOG_SEG_NAME_MAX];
	uint8_t payload[96];
	struct klog_seg_hdr h;
	size_t off = KLOG_SEG_HDR_SIZE;
	int err;

	memset(seg, 0, KLOG_SEG_HDR_SIZE);
	klog_seg_hdr_init(&h, first, logbuild_salt(first), LOGBUILD_SEG_SIZE, b->log_id);
	memcpy(seg, &h, sizeof(h));
	for (unsigned int i = 0; i < b->per_seg; i++) {
		uint64_t lsn = first + i;

		logbuild_fill(payload, lsn);
		idx[i] = htole64(off);
		off += klog_rec_encode(seg + off, lsn, lsn + 1000, 0, logbuild_salt(first), payload,
				       logbuild_len(lsn));
	}
	klog_seg_name(name, first, false);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((err = put_file(path, seg, off)))
		return err;
	klog_seg_name(name, first, true);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return put_file(path, idx, b->per_seg * sizeof(*idx));
}

int logbuild_write(const char *dir, const struct logbuild *b)
{
	uint64_t first = b->first_lsn ? b->first_lsn : 1;
	size_t seg_bytes = KLOG_SEG_HDR_SIZE + (size_t)b->per_seg * klog_rec_size(95);
	uint8_t *seg = malloc(seg_bytes);
	uint64_t *idx = malloc((b->per_seg + 1) * sizeof(*idx));
	int err = seg && idx ? 0 : -ENOMEM;

	if (!err && seg_bytes > LOGBUILD_SEG_SIZE)
		err = -EFBIG;
	if (!err && mkdir(dir, 0755))
		err = -errno;
	for (unsigned int s = 0; s < b->segments && !err; s++, first += b->per_seg)
		err = put_segment(dir, first, b, seg, idx);
	/* klog.meta, as klogd keeps it: the log's id and its newest segment. */
	if (!err && b->segments && b->log_id) {
		uint8_t meta[KLOG_META_SIZE];
		char path[PATH_MAX];

		klog_meta_encode(meta, &(struct klog_meta){ b->log_id, first - b->per_seg });
		snprintf(path, sizeof(path), "%s/%s", dir, KLOG_META_NAME);
		err = put_file(path, meta, sizeof(meta));
	}
	free(seg);
	free(idx);
	return err;
}
