/* Thread creation: pthread_create of a thread that returns at once, then
 * pthread_join. Median of 15 rounds of ~50 ms (at least 20 threads
 * each), in µs per create+join. */
#include "bench.h"
#include <pthread.h>

static void *nothing(void *arg)
{
	return arg;
}

static void run(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, nothing, NULL) || pthread_join(t, NULL))
			abort();
	}
}

int main(void)
{
	printf("thread_create_join %.1f us/op\n", bench_adaptive(run, 15, 50, 20, 20000) / 1000);
	return 0;
}
