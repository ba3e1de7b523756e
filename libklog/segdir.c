// SPDX-License-Identifier: GPL-2.0-only
/*
 * segdir.c - a log directory's segment files: which there are, and opening
 * one without trusting what is at its name (see segdir.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "segdir.h"

int klog_open_regular(int dirfd, const char *name, char *why, size_t wn)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC), err;
	struct stat st;

	if (fd < 0) {
		err = errno;
		snprintf(why, wn, "cannot open: %s", strerror(err));
		if (err == ENOENT || err == EMFILE || err == ENFILE || err == ENOMEM)
			return -err;
		return -ENOLINK;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(why, wn, "not a regular file");
		close(fd);
		return -ENOLINK;
	}
	return fd;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int klog_seg_list(int dirfd, bool unlink_tmp, uint64_t **firsts, size_t *n)
{
	int fd = dup(dirfd), err = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	size_t cap = 0;
	struct dirent *de;
	uint64_t first;

	*firsts = NULL;
	*n = 0;
	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	rewinddir(d); /* the dup shares its position with dirfd's earlier listings */
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (unlink_tmp && len > 4 && !strcmp(de->d_name + len - 4, ".tmp"))
			unlinkat(dirfd, de->d_name, 0);
		if (klog_seg_parse_name(de->d_name, &first))
			continue; /* klog.meta, klogd.lock, NAME.tmp, indexes */
		if (*n == cap) {
			uint64_t *p = realloc(*firsts, (cap = cap ? 2 * cap : 64) * sizeof(*p));

			if (!p) {
				err = -ENOMEM;
				break;
			}
			*firsts = p;
		}
		(*firsts)[(*n)++] = first;
	}
	closedir(d);
	if (err) {
		free(*firsts);
		*firsts = NULL;
		*n = 0;
	} else if (*n > 1) {
		/* Never qsort(NULL, 0): an empty directory has no array. */
		qsort(*firsts, *n, sizeof(**firsts), cmp_u64);
	}
	return err;
}
