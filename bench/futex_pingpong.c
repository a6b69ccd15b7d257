/* Futex ping-pong between two guest tasks sharing memory (a clone(CLONE_VM)
 * child until threads come; then the same with a thread): each wakes the
 * other through a futex word and waits on its own. 8 rounds of 5000
 * round trips; the median rate, in round trips per second. */
#include "bench.h"
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/futex.h>

#define ROUNDS 8
#define TRIPS 5000

static volatile uint32_t turn; /* 0: the parent's, 1: the child's */

static long futex(volatile uint32_t *f, int op, uint32_t val)
{
	return syscall(SYS_futex, f, op, val, NULL, NULL, 0);
}

/* Wait until turn == mine, then give it to the other side. */
static void play(uint32_t mine)
{
	while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != mine)
		futex(&turn, FUTEX_WAIT_PRIVATE, !mine);
	__atomic_store_n(&turn, !mine, __ATOMIC_RELEASE);
	futex(&turn, FUTEX_WAKE_PRIVATE, 1);
}

static int child(void *arg)
{
	(void)arg;
	for (long i = 0; i < (long)ROUNDS * TRIPS; i++)
		play(1);
	return 0;
}

int main(void)
{
	size_t size = 256 * 1024;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		return 1;
	int pid = clone(child, stack + size, CLONE_VM | SIGCHLD, NULL);
	if (pid < 0)
		return 1;
	double rate[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < TRIPS; i++)
			play(0);
		rate[r] = TRIPS / ((now_ns() - t0) / 1e9);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || st != 0)
		return 1;
	printf("futex_pingpong %.0f roundtrips/s\n", median(rate, ROUNDS));
	return 0;
}
