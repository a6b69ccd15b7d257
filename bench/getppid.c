/* One trapped system call: getppid round trip (raw `syscall`, so no libc
 * caching). 20 rounds; each round's size is chosen to take ~50 ms (at most
 * 20000 calls); the median of the rounds, in ns per call. */
#include "bench.h"

static void run(long n)
{
	for (long i = 0; i < n; i++)
		raw0(SYS_getppid);
}

int main(void)
{
	printf("getppid %.1f ns/call\n", bench_adaptive(run, 20, 50, 100, 20000));
	return 0;
}
