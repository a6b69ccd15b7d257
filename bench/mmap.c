/* mmap + munmap of 1 MiB of anonymous memory, untouched. Median of 20
 * rounds of ~30 ms, in ns per pair. */
#include "bench.h"
#include <sys/mman.h>

static void run(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			abort();
		munmap(p, 1 << 20);
	}
}

int main(void)
{
	printf("mmap_munmap_1MiB %.1f ns/pair\n", bench_adaptive(run, 20, 30, 10, 100000));
	return 0;
}
