/* Unix-socket ping-pong between two processes: the parent sends one byte
 * on a SOCK_STREAM socketpair, the child reads it and answers with one
 * byte. 8 rounds of 2000 round trips; the median rate, in round trips
 * per second. */
#include "bench.h"
#include <sys/socket.h>
#include <sys/wait.h>

#define ROUNDS 8
#define TRIPS 2000

int main(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	pid_t child = fork();
	if (child < 0)
		return 1;
	char c = 'x';
	if (child == 0) {
		close(sv[0]);
		for (long i = 0; i < (long)ROUNDS * TRIPS; i++)
			if (read(sv[1], &c, 1) != 1 || write(sv[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(sv[1]);
	double rate[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < TRIPS; i++)
			if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1)
				return 1;
		rate[r] = TRIPS / ((now_ns() - t0) / 1e9);
	}
	int st;
	if (waitpid(child, &st, 0) != child || st != 0)
		return 1;
	printf("unix_pingpong %.0f roundtrips/s\n", median(rate, ROUNDS));
	return 0;
}
