/* open + read + close of a small file (argv[1]; bench/run.sh passes a
 * 100-byte file, default /etc/hostname). Median of 20 rounds of ~30 ms,
 * in µs per triple. */
#include "bench.h"
#include <fcntl.h>

static const char *path = "/etc/hostname";

static void run(long n)
{
	char buf[4096];
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0 || read(fd, buf, sizeof buf) < 0)
			abort();
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		path = argv[1];
	printf("open_read_close %.2f us/op\n", bench_adaptive(run, 20, 30, 10, 1000000) / 1000);
	return 0;
}
