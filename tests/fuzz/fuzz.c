// SPDX-License-Identifier: GPL-2.0-only
/* fuzz.c - the fuzz targets' scratch directory, checks and input chunks (fuzz.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char dir[64];

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FUZZ FINDING %s:%d: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void remove_all(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static void remove_dir(void)
{
	remove_all();
	rmdir(dir);
}

const char *fuzz_dir(void)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/klog-fuzz-XXXXXX",
			 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
		if (!mkdtemp(dir)) {
			perror("fuzz: mkdtemp");
			exit(2);
		}
		atexit(remove_dir);
	}
	return dir;
}

void fuzz_clear(void)
{
	fuzz_dir();
	remove_all();
}

void fuzz_path(char *path, const char *name)
{
	snprintf(path, 4096, "%s/%s", fuzz_dir(), name);
}

void fuzz_write(const char *name, const void *p, size_t n)
{
	char path[4096];
	int fd;

	fuzz_path(path, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n)) {
		perror("fuzz: writing the scratch directory");
		exit(2);
	}
	close(fd);
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t b = 0;

	if (in->n) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | fuzz_u8(in) << 8);
}

const uint8_t *fuzz_chunk(struct fuzz_in *in, size_t *len)
{
	const uint8_t *p;

	*len = fuzz_u16(in);
	if (*len > in->n)
		*len = in->n;
	p = in->p;
	in->p += *len;
	in->n -= *len;
	return p;
}
