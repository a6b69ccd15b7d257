/* 1 GiB through a pipe between two processes: the child writes 64 KiB
 * blocks, the parent reads them. Each 128 MiB is timed on its own; the
 * median of the 8 rates, in MB/s (10^6 bytes per second; higher is
 * better: bench/run.sh shows native/cocoon as the ratio). */
#include "bench.h"
#include <sys/wait.h>

#define BLOCK (64 * 1024)
#define SEGMENT (128UL << 20)
#define SEGMENTS 8

int main(void)
{
	int p[2];
	if (pipe(p) < 0)
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	static char buf[BLOCK];
	if (pid == 0) {
		close(p[0]);
		memset(buf, 'x', sizeof buf);
		for (unsigned long sent = 0; sent < SEGMENT * SEGMENTS; ) {
			ssize_t w = write(p[1], buf, sizeof buf);
			if (w <= 0)
				_exit(1);
			sent += (unsigned long)w;
		}
		_exit(0);
	}
	close(p[1]);
	double rate[SEGMENTS];
	for (int s = 0; s < SEGMENTS; s++) {
		uint64_t t0 = now_ns();
		for (unsigned long got = 0; got < SEGMENT; ) {
			size_t want = SEGMENT - got < BLOCK ? SEGMENT - got : BLOCK;
			ssize_t r = read(p[0], buf, want);
			if (r <= 0)
				return 1;
			got += (unsigned long)r;
		}
		rate[s] = SEGMENT / ((now_ns() - t0) / 1e9) / 1e6;
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || st != 0)
		return 1;
	printf("pipe_1GiB %.0f MB/s\n", median(rate, SEGMENTS));
	return 0;
}
