/* futex WAIT and WAKE: argument errors in Linux's order, EAGAIN,
 * timeouts (relative, absolute on either clock), wake counts, bitsets,
 * private against shared keys, and a signal during a wait. */
#include "futex_util.h"

static volatile uint32_t word, other;

static void errors(void)
{
	printf("-- errors\n");
	struct timespec ts = { 0, 1000000 }, bad_ns = { 0, 1000000000 }, neg = { -1, 0 };
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile uint32_t *mis = (uint32_t *)((char *)&word + 1);
	word = 5;
	res("WAIT misaligned", futex(mis, FUTEX_WAIT, 5, 0, 0, 0));
	res("WAIT misaligned, private", futex(mis, FUTEX_WAIT_PRIVATE, 5, 0, 0, 0));
	res("WAKE misaligned", futex(mis, FUTEX_WAKE, 1, 0, 0, 0));
	res("WAIT NULL", futex(NULL, FUTEX_WAIT, 0, 0, 0, 0));
	res("WAIT NULL, private", futex(NULL, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0));
	res("WAIT kernel address", futex((uint32_t *)0xffff800000000000ULL, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0));
	res("WAKE NULL, private (no access)", futex(NULL, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	res("WAKE NULL, shared", futex(NULL, FUTEX_WAKE, 1, 0, 0, 0));
	res("WAKE PROT_NONE, private", futex((uint32_t *)none, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	res("WAKE PROT_NONE, shared", futex((uint32_t *)none, FUTEX_WAKE, 1, 0, 0, 0));
	res("WAIT PROT_NONE, private", futex((uint32_t *)none, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0));
	res("WAIT read-only anonymous, shared", futex((uint32_t *)ro, FUTEX_WAIT, 0, (long)&ts, 0, 0));
	res("WAIT read-only anonymous, private", futex((uint32_t *)ro, FUTEX_WAIT_PRIVATE, 0, (long)&ts, 0, 0));
	res("WAIT value differs", futex(&word, FUTEX_WAIT, 4, 0, 0, 0));
	res("WAIT value differs, private", futex(&word, FUTEX_WAIT_PRIVATE, 4, 0, 0, 0));
	res("WAIT timeout pointer bad", futex(&word, FUTEX_WAIT, 5, 8, 0, 0));
	res("WAIT timeout nsec 1e9", futex(&word, FUTEX_WAIT, 5, (long)&bad_ns, 0, 0));
	res("WAIT timeout negative", futex(&word, FUTEX_WAIT, 5, (long)&neg, 0, 0));
	res("WAIT bad timeout before misalignment", futex(mis, FUTEX_WAIT, 5, (long)&bad_ns, 0, 0));
	res("WAIT bad timeout, value differs", futex(&word, FUTEX_WAIT, 4, (long)&bad_ns, 0, 0));
	res("WAIT | CLOCK_REALTIME", futex(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 5, 0, 0, 0));
	res("WAIT | CLOCK_REALTIME, bad timeout pointer", futex(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 5, 8, 0, 0));
	res("WAKE | CLOCK_REALTIME", futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0));
	res("WAIT_BITSET bitset 0", futex(&word, FUTEX_WAIT_BITSET, 5, 0, 0, 0));
	res("WAIT_BITSET bitset 0, value differs", futex(&word, FUTEX_WAIT_BITSET, 4, 0, 0, 0));
	res("WAKE_BITSET bitset 0", futex(&word, FUTEX_WAKE_BITSET, 1, 0, 0, 0));
	res("FUTEX_FD", futex(&word, FUTEX_FD, 0, 0, 0, 0));
	res("op 14", futex(&word, 14, 0, 0, 0, 0));
	res("op 15 private", futex(&word, 15 | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
	resv("WAKE nobody", futex(&word, FUTEX_WAKE, 1, 0, 0, 0));
	resv("WAKE nobody, private", futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0));
	/* The timeout argument of WAKE is not read. */
	resv("WAKE with a bad 'timeout'", futex(&word, FUTEX_WAKE, 1, 8, 0, 0));
	munmap(ro, PAGE);
	munmap(none, PAGE);
}

static void timeouts(void)
{
	printf("-- timeouts\n");
	word = 7;
	struct timespec rel = { 0, 20000000 };
	int64_t t0 = clock_ns(CLOCK_MONOTONIC);
	res("WAIT 20 ms", futex(&word, FUTEX_WAIT, 7, (long)&rel, 0, 0));
	expect(clock_ns(CLOCK_MONOTONIC) - t0 >= 20000000, "WAIT waited 20 ms");
	t0 = clock_ns(CLOCK_MONOTONIC);
	res("WAIT_PRIVATE 20 ms", futex(&word, FUTEX_WAIT_PRIVATE, 7, (long)&rel, 0, 0));
	expect(clock_ns(CLOCK_MONOTONIC) - t0 >= 20000000, "WAIT_PRIVATE waited 20 ms");
	struct timespec zero = { 0, 0 };
	res("WAIT 0 s", futex(&word, FUTEX_WAIT, 7, (long)&zero, 0, 0));
	res("WAIT 0 s, value differs", futex(&word, FUTEX_WAIT, 8, (long)&zero, 0, 0));

	t0 = clock_ns(CLOCK_MONOTONIC);
	struct timespec abs = ns_ts(t0 + 20000000);
	res("WAIT_BITSET monotonic +20 ms", futex(&word, FUTEX_WAIT_BITSET, 7, (long)&abs, 0, FUTEX_BITSET_MATCH_ANY));
	expect(clock_ns(CLOCK_MONOTONIC) >= t0 + 20000000, "the monotonic deadline passed");
	int64_t r0 = clock_ns(CLOCK_REALTIME);
	abs = ns_ts(r0 + 20000000);
	res("WAIT_BITSET realtime +20 ms",
	    futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 7, (long)&abs, 0, FUTEX_BITSET_MATCH_ANY));
	expect(clock_ns(CLOCK_REALTIME) >= r0 + 20000000, "the realtime deadline passed");
	abs = ns_ts(1000);
	res("WAIT_BITSET deadline long past", futex(&word, FUTEX_WAIT_BITSET, 7, (long)&abs, 0, 1));
	res("WAIT_BITSET past deadline, value differs", futex(&word, FUTEX_WAIT_BITSET, 6, (long)&abs, 0, 1));
	res("WAIT_BITSET | CLOCK_REALTIME past", futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME | FUTEX_PRIVATE_FLAG,
						      7, (long)&abs, 0, 1));
}

/* A vm child waiting on `word` with the op and bitset in its argument. */
struct waiter {
	volatile uint32_t *f;
	int op;
	uint32_t val, bitset;
};

static int wait_fn(void *arg)
{
	struct waiter *w = arg;
	return code(futex(w->f, w->op, w->val, 0, 0, w->bitset));
}

static int start_waiter(struct waiter *w)
{
	return vm_child(wait_fn, w);
}

static void wake_counts(void)
{
	printf("-- wake counts\n");
	word = 0;
	struct waiter w = { &word, FUTEX_WAIT, 0, 0 };
	int pids[4];
	for (int i = 0; i < 4; i++)
		pids[i] = start_waiter(&w);
	await_waiters(&word, 0, 4);
	resv("waiters queued", nwaiters(&word, 0));
	resv("WAKE_PRIVATE of shared waiters", futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0));
	resv("WAKE 2", futex(&word, FUTEX_WAKE, 2, 0, 0, 0));
	resv("waiters left", nwaiters(&word, 0));
	resv("WAKE 0 (wakes one)", futex(&word, FUTEX_WAKE, 0, 0, 0, 0));
	resv("WAKE -1 (wakes one)", futex(&word, FUTEX_WAKE, (uint32_t)-1, 0, 0, 0));
	resv("WAKE again", futex(&word, FUTEX_WAKE, INT_MAX, 0, 0, 0));
	for (int i = 0; i < 4; i++)
		printf("waiter %d: %s\n", i, errname(reap(pids[i])));

	/* Private waiters: a shared wake does not see them. */
	struct waiter wp = { &word, FUTEX_WAIT_PRIVATE, 0, 0 };
	int pid = start_waiter(&wp);
	await_waiters(&word, FUTEX_PRIVATE_FLAG, 1);
	resv("WAKE (shared) of a private waiter", futex(&word, FUTEX_WAKE, 1, 0, 0, 0));
	resv("WAKE_PRIVATE", futex(&word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	printf("private waiter: %s\n", errname(reap(pid)));
}

static void bitsets(void)
{
	printf("-- bitsets\n");
	word = 0;
	struct waiter w[3] = {
		{ &word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, 1 },
		{ &word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, 2 },
		{ &word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, 3 },
	};
	int pids[3];
	for (int i = 0; i < 3; i++)
		pids[i] = start_waiter(&w[i]);
	await_waiters(&word, FUTEX_PRIVATE_FLAG, 3);
	resv("WAKE_BITSET 4", futex(&word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, INT_MAX, 0, 0, 4));
	resv("WAKE_BITSET 2", futex(&word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, INT_MAX, 0, 0, 2));
	printf("waiter 2: %s, waiter 3: %s\n", errname(reap(pids[1])), errname(reap(pids[2])));
	resv("waiters left", nwaiters(&word, FUTEX_PRIVATE_FLAG));
	/* FUTEX_WAKE is WAKE_BITSET with every bit. */
	resv("WAKE", futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0));
	printf("waiter 1: %s\n", errname(reap(pids[0])));
}

static void on_usr1(int s) { (void)s; }

static void signals(void)
{
	printf("-- signals\n");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	word = 0;
	/* A vm child waits; a signal with a handler (no SA_RESTART) ends
	 * the wait with EINTR, and the waiter is gone from the queue. */
	struct waiter w = { &word, FUTEX_WAIT_PRIVATE, 0, 0 };
	int pid = start_waiter(&w);
	await_waiters(&word, FUTEX_PRIVATE_FLAG, 1);
	kill(pid, SIGUSR1);
	printf("waiter after a signal: %s\n", errname(reap(pid)));
	resv("waiters left", nwaiters(&word, FUTEX_PRIVATE_FLAG));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	errors();
	timeouts();
	wake_counts();
	bitsets();
	signals();
	return expect_failures != 0;
}
