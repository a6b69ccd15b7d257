/* Futex ping-pong between two guest threads: each hands the turn to the
 * other through a futex word, waking it, and waits for it to come back.
 * 8 rounds of 5000 round trips; the median rate, in round trips per
 * second. */
#include "bench.h"
#include <pthread.h>
#include <stdint.h>
#include <linux/futex.h>

#define ROUNDS 8
#define TRIPS 5000

static volatile uint32_t turn; /* 0: the main thread's, 1: the other's */

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

static void *other(void *arg)
{
	(void)arg;
	for (long i = 0; i < (long)ROUNDS * TRIPS; i++)
		play(1);
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, other, NULL))
		return 1;
	double rate[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < TRIPS; i++)
			play(0);
		rate[r] = TRIPS / ((now_ns() - t0) / 1e9);
	}
	pthread_join(t, NULL);
	printf("futex_pingpong %.0f roundtrips/s\n", median(rate, ROUNDS));
	return 0;
}
