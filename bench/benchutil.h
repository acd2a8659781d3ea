/* What every benchmark program needs: a monotonic clock, figures over
 * repeats (p50 and max), and a deterministic pseudo-random sequence so
 * that every run measures the same input.  No timing is ever asserted.
 */
#ifndef XM_BENCHUTIL_H
#define XM_BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
double bench_now_ms(void);

/* Samples of one measured step. */
struct bench_series {
	const char *what;
	size_t n;
	size_t cap;
	double *ms;
};

int bench_series_init(struct bench_series *s, const char *what, size_t cap);
void bench_series_add(struct bench_series *s, double ms);
/* "  WHAT   p50 X ms   max Y ms   (n=N)"; sorts the samples. */
void bench_series_print(struct bench_series *s);
double bench_series_p50(struct bench_series *s);
void bench_series_free(struct bench_series *s);

/* splitmix64: the same sequence for the same seed, on every machine. */
uint64_t bench_rand(uint64_t *state);

#endif
