/* Clock, p50/max over repeats and a fixed pseudo-random sequence for the
 * benchmark programs; see benchutil.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "benchutil.h"

double
bench_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int
bench_series_init(struct bench_series *s, const char *what, size_t cap)
{
	s->what = what;
	s->n = 0;
	s->cap = cap > 0 ? cap : 1;
	s->ms = calloc(s->cap, sizeof(*s->ms));
	return s->ms == NULL ? -ENOMEM : 0;
}

void
bench_series_add(struct bench_series *s, double ms)
{
	if (s->n < s->cap)
		s->ms[s->n++] = ms;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_series_p50(struct bench_series *s)
{
	if (s->n == 0)
		return 0;
	qsort(s->ms, s->n, sizeof(*s->ms), cmp_double);
	return s->ms[(s->n - 1) / 2];
}

void
bench_series_print(struct bench_series *s)
{
	double p50 = bench_series_p50(s);

	if (s->n == 0) {
		printf("  %-44s (no samples)\n", s->what);
		return;
	}
	printf("  %-44s p50 %9.3f ms   max %9.3f ms   (n=%zu)\n", s->what, p50,
	       s->ms[s->n - 1], s->n);
}

void
bench_series_free(struct bench_series *s)
{
	if (s == NULL)
		return;
	free(s->ms);
	s->ms = NULL;
	s->n = s->cap = 0;
}

uint64_t
bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
