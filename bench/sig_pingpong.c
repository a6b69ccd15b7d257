/* Signal ping-pong between two processes: the parent sends SIGUSR1 to the
 * child, whose handler's return wakes its sigsuspend, and it answers with
 * SIGUSR1; the parent waits the same way. Both keep SIGUSR1 blocked
 * outside sigsuspend, so no signal is lost. 8 rounds of 2000 round trips;
 * the median rate, in round trips per second. */
#include "bench.h"
#include <signal.h>
#include <sys/wait.h>

#define ROUNDS 8
#define TRIPS 2000

static volatile sig_atomic_t got;
static void handler(int s) { (void)s; got = 1; }

static void await(const sigset_t *open)
{
	while (!got)
		sigsuspend(open);
	got = 0;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, open;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &open);
	sigdelset(&open, SIGUSR1);
	pid_t parent = getpid();
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		for (long i = 0; i < (long)ROUNDS * TRIPS; i++) {
			await(&open);
			kill(parent, SIGUSR1);
		}
		_exit(0);
	}
	double rate[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < TRIPS; i++) {
			kill(child, SIGUSR1);
			await(&open);
		}
		rate[r] = TRIPS / ((now_ns() - t0) / 1e9);
	}
	int st;
	if (waitpid(child, &st, 0) != child || st != 0)
		return 1;
	printf("sig_pingpong %.0f roundtrips/s\n", median(rate, ROUNDS));
	return 0;
}
