/* PI futexes: LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI (EDEADLK, ESRCH,
 * EPERM, EINVAL for non-PI waiters, the word's FUTEX_WAITERS and
 * FUTEX_OWNER_DIED bits, hand-over on unlock, timeouts), across
 * processes, and the requeue-PI pair. Words are printed with the TIDs
 * replaced by who they are. */
#include "futex_util.h"

static volatile uint32_t word, cond;
static volatile int child_tid;
static volatile uint32_t seen; /* what a child saw in the word */

static int me(void)
{
	return (int)rsys(SYS_gettid);
}

/* The word with its TID named: "free", "me", "child", "nobody"... */
static const char *who(uint32_t v)
{
	static char buf[64];
	uint32_t tid = v & FUTEX_TID_MASK;
	const char *name = !tid ? "free" : (int)tid == me() ? "me" : (int)tid == child_tid ? "child" : "other";
	snprintf(buf, sizeof buf, "%s%s%s", name, v & FUTEX_WAITERS ? "|WAITERS" : "",
		 v & FUTEX_OWNER_DIED ? "|OWNER_DIED" : "");
	return buf;
}

static void show(const char *label, long r)
{
	printf("%s: %s (word %s)\n", label, rstr(r), who(word));
}

static void uncontended(void)
{
	printf("-- uncontended\n");
	word = 0;
	show("LOCK_PI", futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0));
	show("LOCK_PI again", futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0));
	show("TRYLOCK_PI", futex(&word, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
	show("LOCK_PI | CLOCK_REALTIME", futex(&word, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, 0, 0, 0));
	show("LOCK_PI2 | CLOCK_REALTIME", futex(&word, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 0, 0, 0, 0));
	show("UNLOCK_PI", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	show("UNLOCK_PI of a free word", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	show("TRYLOCK_PI", futex(&word, FUTEX_TRYLOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
	show("UNLOCK_PI private", futex(&word, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
	show("LOCK_PI2 private", futex(&word, FUTEX_LOCK_PI2 | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
	word |= FUTEX_OWNER_DIED;
	show("UNLOCK_PI drops OWNER_DIED", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	word = FUTEX_OWNER_DIED;
	show("LOCK_PI keeps OWNER_DIED", futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0));
	futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0);
	word = FUTEX_WAITERS; /* a stale bit, nobody waiting */
	show("LOCK_PI of free|WAITERS", futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0));
	show("UNLOCK_PI", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));

	/* A TID nobody has (above any pid_max). */
	word = 0x3ffffff0;
	show("LOCK_PI, owner does not exist", futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0));
	show("TRYLOCK_PI, owner does not exist", futex(&word, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
	show("UNLOCK_PI, not the owner", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));

	word = 0;
	struct timespec bad = { 0, -1 };
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	res("LOCK_PI misaligned", futex((uint32_t *)((char *)&word + 2), FUTEX_LOCK_PI, 0, 0, 0, 0));
	res("LOCK_PI NULL", futex(NULL, FUTEX_LOCK_PI, 0, 0, 0, 0));
	res("LOCK_PI NULL, private", futex(NULL, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0));
	res("LOCK_PI read-only", futex((uint32_t *)ro, FUTEX_LOCK_PI, 0, 0, 0, 0));
	res("LOCK_PI read-only, private", futex((uint32_t *)ro, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0));
	res("UNLOCK_PI read-only", futex((uint32_t *)ro, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	res("UNLOCK_PI NULL", futex(NULL, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	res("LOCK_PI bad timeout", futex(&word, FUTEX_LOCK_PI, 0, (long)&bad, 0, 0));
	res("LOCK_PI timeout pointer bad", futex(&word, FUTEX_LOCK_PI, 0, 8, 0, 0));
	munmap(ro, PAGE);
}

/* A vm child's PI operation; it records what it saw and, after a
 * successful lock, unlocks. */
struct pi_req {
	volatile uint32_t *f;
	int op;
	int64_t deadline_ns; /* absolute, 0: none */
	volatile uint32_t *uaddr2;
	uint32_t val;
};

static int pi_fn(void *arg)
{
	struct pi_req *r = arg;
	child_tid = me();
	struct timespec ts = ns_ts(r->deadline_ns);
	long ret = futex(r->f, r->op, r->val, r->deadline_ns ? (long)&ts : 0, r->uaddr2, 0);
	volatile uint32_t *lock = r->uaddr2 ? r->uaddr2 : r->f;
	seen = *lock;
	if (ret == 0 && (r->op & 0x7f) != FUTEX_UNLOCK_PI)
		futex(lock, FUTEX_UNLOCK_PI | (r->op & FUTEX_PRIVATE_FLAG), 0, 0, 0, 0);
	return code(ret);
}

static int start(struct pi_req *r)
{
	child_tid = 0;
	int pid = vm_child(pi_fn, r);
	while (!child_tid)
		nap_ms(1);
	return pid;
}

static void contended(void)
{
	printf("-- contended\n");
	word = 0;
	futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0);
	struct pi_req r = { &word, FUTEX_LOCK_PI, 0, NULL, 0 };
	int pid = start(&r);
	await_pi_waiter(&word);
	printf("a waiter: word %s\n", who(word));
	res("FUTEX_WAKE of a PI waiter", futex(&word, FUTEX_WAKE, 1, 0, 0, 0));
	res("WAIT on it", futex(&word, FUTEX_WAIT, 1, 0, 0, 0));
	res("REQUEUE of a PI waiter", futex(&word, FUTEX_REQUEUE, 0, 1, &cond, 0));
	struct pi_req t = { &word, FUTEX_TRYLOCK_PI, 0, NULL, 0 };
	int pid2 = start(&t);
	printf("another's TRYLOCK_PI: %s\n", errname(reap(pid2)));
	child_tid = pid;
	res("UNLOCK_PI hands over", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	int st = reap(pid);
	printf("child: %s, saw the word %s\n", errname(st), who(seen));
	printf("after its unlock: %s\n", who(word));

	/* Timeouts: absolute, on CLOCK_REALTIME for LOCK_PI, on MONOTONIC
	 * for LOCK_PI2. */
	futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0);
	r = (struct pi_req){ &word, FUTEX_LOCK_PI, clock_ns(CLOCK_REALTIME) + 30000000, NULL, 0 };
	pid = start(&r);
	st = reap(pid);
	printf("LOCK_PI until realtime +30 ms: %s, word %s\n", errname(st), who(word));
	r = (struct pi_req){ &word, FUTEX_LOCK_PI2, clock_ns(CLOCK_MONOTONIC) + 30000000, NULL, 0 };
	pid = start(&r);
	st = reap(pid);
	printf("LOCK_PI2 until monotonic +30 ms: %s, word %s\n", errname(st), who(word));
	r = (struct pi_req){ &word, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 1, NULL, 0 };
	pid = start(&r);
	printf("LOCK_PI2 | CLOCK_REALTIME, deadline past: %s\n", errname(reap(pid)));
	show("UNLOCK_PI with nobody left", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));

	/* TRYLOCK_PI on a held lock without waiters sets FUTEX_WAITERS. */
	futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0);
	pid = start(&t);
	st = reap(pid);
	printf("TRYLOCK_PI of a held lock: %s, word %s\n", errname(st), who(word));
	futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0);

	/* UNLOCK_PI by someone else than the owner. */
	futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0);
	struct pi_req u = { &word, FUTEX_UNLOCK_PI, 0, NULL, 0 };
	pid = start(&u);
	printf("another's UNLOCK_PI: %s\n", errname(reap(pid)));
	futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0);
}

static int plain_wait_fn(void *arg)
{
	(void)arg;
	return code(futex(&word, FUTEX_WAIT, word, 0, 0, 0));
}

static void mixed(void)
{
	printf("-- PI and plain waiters mixed\n");
	word = (uint32_t)me();
	int pid = vm_child(plain_wait_fn, NULL);
	await_waiters(&word, 0, 1);
	res("UNLOCK_PI with a plain waiter", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	struct pi_req r = { &word, FUTEX_LOCK_PI, 0, NULL, 0 };
	int pid2 = start(&r);
	printf("LOCK_PI with a plain waiter: %s\n", errname(reap(pid2)));
	word = 0;
	futex(&word, FUTEX_WAKE, 1, 0, 0, 0);
	printf("plain waiter: %s\n", errname(reap(pid)));
}

static void across_processes(void)
{
	printf("-- across processes\n");
	volatile uint32_t *w = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	futex(w, FUTEX_LOCK_PI, 0, 0, 0, 0);
	int pid = fork();
	if (pid == 0) {
		long r = futex(w, FUTEX_LOCK_PI, 0, 0, 0, 0);
		uint32_t v = *w;
		if (r == 0)
			r = futex(w, FUTEX_UNLOCK_PI, 0, 0, 0, 0);
		_exit(r ? 1 : (v & FUTEX_TID_MASK) == (uint32_t)me() && (v & FUTEX_WAITERS) ? 0 : 2);
	}
	await_pi_waiter(w);
	printf("a waiter in another process: WAITERS %s\n", *w & FUTEX_WAITERS ? "set" : "clear");
	res("UNLOCK_PI", futex(w, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	printf("child took it with its TID and WAITERS: %s\n", reap(pid) == 0 ? "yes" : "no");
	printf("word now: %#x\n", *w);

	/* The owner died without a robust list: nobody owns its TID. */
	pid = fork();
	if (pid == 0) {
		futex(w, FUTEX_LOCK_PI, 0, 0, 0, 0);
		_exit(0);
	}
	reap(pid);
	res("LOCK_PI of a dead owner's word", futex(w, FUTEX_LOCK_PI, 0, 0, 0, 0));
	printf("word has WAITERS: %s\n", *w & FUTEX_WAITERS ? "yes" : "no");
}

static void requeue_pi(void)
{
	printf("-- requeue-PI\n");
	word = 0;
	cond = 0;
	res("WAIT_REQUEUE_PI to itself", futex(&cond, FUTEX_WAIT_REQUEUE_PI, 0, 0, &cond, 0));
	res("WAIT_REQUEUE_PI value differs", futex(&cond, FUTEX_WAIT_REQUEUE_PI, 1, 0, &word, 0));
	res("WAIT_REQUEUE_PI misaligned target", futex(&cond, FUTEX_WAIT_REQUEUE_PI, 0, 0,
						       (uint32_t *)((char *)&word + 1), 0));
	struct timespec past = { 0, 1 };
	res("WAIT_REQUEUE_PI deadline past", futex(&cond, FUTEX_WAIT_REQUEUE_PI, 0, (long)&past, &word, 0));
	res("CMP_REQUEUE_PI nr_wake 2", futex(&cond, FUTEX_CMP_REQUEUE_PI, 2, 0, &word, 0));
	res("CMP_REQUEUE_PI nr_wake 0", futex(&cond, FUTEX_CMP_REQUEUE_PI, 0, 0, &word, 0));
	res("CMP_REQUEUE_PI to itself", futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &cond, 0));
	res("CMP_REQUEUE_PI value differs", futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &word, 5));
	resv("CMP_REQUEUE_PI with nobody", futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &word, 0));

	/* The lock is free: the waiter is woken owning it. */
	struct pi_req r = { &cond, FUTEX_WAIT_REQUEUE_PI, 0, &word, 0 };
	int pid = start(&r);
	while (futex(&cond, FUTEX_WAKE, 1, 0, 0, 0) != -EINVAL) /* EINVAL: a requeue-PI waiter is queued */
		nap_ms(1);
	res("REQUEUE of a requeue-PI waiter", futex(&cond, FUTEX_REQUEUE, 0, 1, &cond, 0));
	volatile uint32_t other = 0;
	res("CMP_REQUEUE_PI to another lock", futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &other, 0));
	resv("CMP_REQUEUE_PI, lock free", futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &word, 0));
	int st = reap(pid);
	printf("waiter: %s, saw the lock %s\n", errname(st), who(seen));

	/* The lock is held: the waiter moves to it and gets it on unlock. */
	futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0);
	pid = start(&r);
	while (futex(&cond, FUTEX_WAKE, 1, 0, 0, 0) != -EINVAL)
		nap_ms(1);
	resv("CMP_REQUEUE_PI, lock held", futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, INT_MAX, &word, 0));
	printf("word: %s\n", who(word));
	resv("a plain WAKE of the first futex now", futex(&cond, FUTEX_WAKE, 1, 0, 0, 0));
	res("UNLOCK_PI", futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
	st = reap(pid);
	printf("waiter: %s, saw the lock %s\n", errname(st), who(seen));
	printf("word after its unlock: %s\n", who(word));

	/* Held, nr_requeue 0: nothing moves. */
	futex(&word, FUTEX_LOCK_PI, 0, 0, 0, 0);
	r.deadline_ns = clock_ns(CLOCK_MONOTONIC) + 400000000;
	pid = start(&r);
	while (futex(&cond, FUTEX_WAKE, 1, 0, 0, 0) != -EINVAL)
		nap_ms(1);
	resv("CMP_REQUEUE_PI, lock held, nr_requeue 0", futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &word, 0));
	printf("waiter (400 ms): %s\n", errname(reap(pid)));
	futex(&word, FUTEX_UNLOCK_PI, 0, 0, 0, 0);

	/* The waiter owns the lock it is to get: EDEADLK for the requeuer. */
	word = 0;
	r = (struct pi_req){ &cond, FUTEX_WAIT_REQUEUE_PI, clock_ns(CLOCK_MONOTONIC) + 400000000, &word, 0 };
	pid = start(&r);
	while (futex(&cond, FUTEX_WAKE, 1, 0, 0, 0) != -EINVAL)
		nap_ms(1);
	word = (uint32_t)child_tid;
	res("CMP_REQUEUE_PI to a lock the waiter owns", futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &word, 0));
	printf("waiter (400 ms): %s\n", errname(reap(pid)));
	word = 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	uncontended();
	contended();
	mixed();
	across_processes();
	requeue_pi();
	return expect_failures != 0;
}
