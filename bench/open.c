/* Path lookup: open("/etc/passwd") + close. Median of 20 rounds of ~30 ms,
 * in ns per pair. */
#include "bench.h"
#include <fcntl.h>

static void run(long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open("/etc/passwd", O_RDONLY);
		if (fd < 0)
			abort();
		close(fd);
	}
}

int main(void)
{
	printf("open_close %.1f ns/pair\n", bench_adaptive(run, 20, 30, 10, 1000000));
	return 0;
}
