// SPDX-License-Identifier: GPL-2.0-only
/*
 * regress.c - a fuzz target without libFuzzer: run it once over each file
 * named, or each file of each directory named (the seed corpus, the
 * reproducers of tests/fuzz/regress/), as the gcc build's test of suite
 * fuzz.  A finding aborts, as under libFuzzer; a clean run prints the count.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned int runs;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "fuzz-regress: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	runs++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct dirent **e;
		struct stat st;
		int n;

		if (stat(argv[i], &st)) {
			if (i > 1)
				continue; /* no reproducers for this target (yet) */
			fprintf(stderr, "fuzz-regress: no %s\n", argv[i]);
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			run_file(argv[i]);
			continue;
		}
		n = scandir(argv[i], &e, NULL, by_name);
		for (int j = 0; j < n; j++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], e[j]->d_name);
			if (e[j]->d_name[0] != '.')
				run_file(path);
			free(e[j]);
		}
		free(e);
	}
	if (!runs) {
		fprintf(stderr, "fuzz-regress: no input ran\n");
		return 1;
	}
	printf("%u inputs, no finding\n", runs);
	return 0;
}
