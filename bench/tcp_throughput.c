/* 1 GiB over a loopback TCP connection between two processes: the child
 * connects and writes 64 KiB blocks, the parent accepts and reads them.
 * Each 128 MiB is timed on its own; the median of the 8 rates, in MB/s
 * (10^6 bytes per second; higher is better). */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define BLOCK (64 * 1024)
#define SEGMENT (128UL << 20)
#define SEGMENTS 8

int main(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (void *)&a, &al) < 0)
		return 1;
	static char buf[BLOCK];
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (void *)&a, sizeof(a)) < 0)
			_exit(1);
		memset(buf, 'x', sizeof buf);
		for (unsigned long sent = 0; sent < SEGMENT * SEGMENTS; ) {
			ssize_t w = write(c, buf, sizeof buf);
			if (w <= 0)
				_exit(1);
			sent += (unsigned long)w;
		}
		_exit(0);
	}
	int s = accept(l, NULL, NULL);
	if (s < 0)
		return 1;
	double rate[SEGMENTS];
	for (int seg = 0; seg < SEGMENTS; seg++) {
		uint64_t t0 = now_ns();
		for (unsigned long got = 0; got < SEGMENT; ) {
			size_t want = SEGMENT - got < BLOCK ? SEGMENT - got : BLOCK;
			ssize_t r = read(s, buf, want);
			if (r <= 0)
				return 1;
			got += (unsigned long)r;
		}
		rate[seg] = SEGMENT / ((now_ns() - t0) / 1e9) / 1e6;
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || st != 0)
		return 1;
	printf("tcp_1GiB %.0f MB/s\n", median(rate, SEGMENTS));
	return 0;
}
