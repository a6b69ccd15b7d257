/* First touch of anonymous memory: mmap 64 MiB, write one byte to each
 * 4 KiB page once, munmap. Median of 9 rounds, in ns per page (the mmap
 * and munmap are outside the timed part). */
#include "bench.h"
#include <sys/mman.h>

#define SIZE (64UL << 20)

int main(void)
{
	double v[9];
	for (int r = 0; r < 9; r++) {
		volatile char *p = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		uint64_t t0 = now_ns();
		for (unsigned long off = 0; off < SIZE; off += 4096)
			p[off] = 1;
		v[r] = (double)(now_ns() - t0) / (SIZE / 4096);
		munmap((void *)p, SIZE);
	}
	printf("page_first_touch %.1f ns/page\n", median(v, 9));
	return 0;
}
