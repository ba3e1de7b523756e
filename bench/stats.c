// SPDX-License-Identifier: GPL-2.0-only
/* stats.c - see stats.h. */
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct bench_stat bench_stat_of(const double *v, int n)
{
	double t[BENCH_MAX_ROUNDS];

	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), cmp_double);
	return (struct bench_stat){
		.median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2,
		.min = t[0],
		.max = t[n - 1],
	};
}
