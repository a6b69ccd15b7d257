/* Helpers for the benchmarks (the programs in bench/, built static with gcc -O2).
 * Each program measures one thing and prints one line:
 *     NAME MEDIAN UNIT
 * e.g. "getppid 172.4 ns/call". bench/run.sh runs it natively and under
 * cocoon and tabulates the medians. */
#ifndef COCOON_BENCH_H
#define COCOON_BENCH_H
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static inline long raw0(long n)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
	return r;
}

static inline uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof v[0], cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Run fn(iters) for `rounds` rounds; iters is chosen so that one round
 * takes about target_ms (at least min_iters, at most max_iters). Returns
 * the median time per iteration in ns. */
static inline double bench_adaptive(void (*fn)(long), int rounds, double target_ms,
			     long min_iters, long max_iters)
{
	long iters = min_iters;
	/* calibrate */
	for (;;) {
		uint64_t t0 = now_ns();
		fn(iters);
		double ms = (now_ns() - t0) / 1e6;
		if (ms >= target_ms / 4 || iters >= max_iters) {
			double per = ms / iters;
			iters = per > 0 ? (long)(target_ms / per) : max_iters;
			break;
		}
		iters *= 4;
	}
	if (iters < min_iters)
		iters = min_iters;
	if (iters > max_iters)
		iters = max_iters;
	double v[101];
	if (rounds > 101)
		rounds = 101;
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();
		fn(iters);
		v[r] = (double)(now_ns() - t0) / iters;
	}
	return median(v, rounds);
}
#endif
