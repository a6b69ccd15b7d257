/* The vDSO's functions through libc, which calls the vDSO for them (no
 * trap when the kernel provides one): clock_gettime(CLOCK_MONOTONIC)
 * first (the line bench/run.sh tabulates), then gettimeofday, time and
 * getcpu. Each: median of 20 rounds of ~20 ms. */
#include "bench.h"
#include <sched.h>
#include <sys/time.h>

static volatile long sink;

static void run_clock_gettime(long n)
{
	struct timespec t;
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		sink += t.tv_nsec;
	}
}

static void run_gettimeofday(long n)
{
	struct timeval tv;
	for (long i = 0; i < n; i++) {
		gettimeofday(&tv, NULL);
		sink += tv.tv_usec;
	}
}

static void run_time(long n)
{
	for (long i = 0; i < n; i++)
		sink += time(NULL);
}

static void run_getcpu(long n)
{
	for (long i = 0; i < n; i++)
		sink += sched_getcpu();
}

int main(void)
{
	printf("clock_gettime %.1f ns/call\n", bench_adaptive(run_clock_gettime, 20, 20, 100, 10000000));
	printf("gettimeofday %.1f ns/call\n", bench_adaptive(run_gettimeofday, 20, 20, 100, 10000000));
	printf("time %.1f ns/call\n", bench_adaptive(run_time, 20, 20, 100, 10000000));
	printf("getcpu %.1f ns/call\n", bench_adaptive(run_getcpu, 20, 20, 100, 10000000));
	return 0;
}
