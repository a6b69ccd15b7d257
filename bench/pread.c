/* Bulk reads of a host file: pread in 1 MiB chunks, cycling through the
 * file (argv[1], made by bench/run.sh), 1 GiB per round. Median of 3
 * rounds, in microseconds per 1 MiB pread. */
#include "bench.h"
#include <fcntl.h>

#define CHUNK (1L << 20)
#define TOTAL (1L << 30)

static char buf[CHUNK];

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pread FILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < CHUNK) {
		fprintf(stderr, "%s: smaller than 1 MiB\n", argv[1]);
		return 1;
	}
	long chunks = size / CHUNK;
	double v[3];
	for (int r = 0; r < 3; r++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < TOTAL / CHUNK; i++) {
			if (pread(fd, buf, CHUNK, (i % chunks) * CHUNK) != CHUNK) {
				perror("pread");
				return 1;
			}
		}
		v[r] = (double)(now_ns() - t0) / 1000.0 / (TOTAL / CHUNK);
	}
	printf("pread_1MiB %.1f us/call\n", median(v, 3));
	return 0;
}
