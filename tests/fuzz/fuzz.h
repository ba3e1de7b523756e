/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz.h - what the fuzz targets share: a scratch directory on tmpfs that
 * an input becomes files in, the check that aborts (a finding), and the
 * input cut into chunks.  Each target defines LLVMFuzzerTestOneInput; it is
 * linked with libFuzzer (-Dfuzz=enabled) or with regress.c, which runs it
 * over files (the seed corpus and the reproducers in the gcc build).
 */
#ifndef KLOG_FUZZ_H
#define KLOG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding: say what, where, and abort (libFuzzer keeps the input). */
#define FUZZ_CHECK(cond, ...)                                                        \
	do {                                                                         \
		if (!(cond))                                                         \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);           \
	} while (0)
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/*
 * The process's scratch directory (made at the first call, under
 * /dev/shm where it exists, removed at exit), emptied of every file;
 * the path of name in it into path (4096 bytes).
 */
const char *fuzz_dir(void);
void fuzz_clear(void);
void fuzz_path(char *path, const char *name);
/* Write n bytes at p to the file name of the scratch directory. */
void fuzz_write(const char *name, const void *p, size_t n);

/* An input read front to back; reads past its end give zeroes / empty chunks. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};
uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in); /* little-endian */
/* The next chunk: a 16-bit little-endian length, then that many bytes (fewer at the end). */
const uint8_t *fuzz_chunk(struct fuzz_in *in, size_t *len);

#endif
