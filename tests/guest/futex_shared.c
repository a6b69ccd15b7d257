/* Shared futexes across processes: fork with MAP_SHARED anonymous memory,
 * a memfd mapped at different addresses by two processes, private
 * futexes that stay within their process, copies made by fork that are
 * separate futexes, and a ping-pong between two processes. */
#include "futex_util.h"
#include <fcntl.h>

/* A forked child waits on f with op; returns its pid once it sleeps
 * there (counted through the parent's view `seen`, with `priv`). */
static int fork_waiter(volatile uint32_t *f, int op, uint32_t val, volatile uint32_t *seen, int priv)
{
	int pid = fork();
	if (pid == 0)
		_exit(code(futex(f, op, val, 0, 0, 0)));
	await_waiters(seen, priv, 1);
	return pid;
}

static void anon_shared(void)
{
	printf("-- MAP_SHARED anonymous, fork\n");
	volatile uint32_t *w = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	w[1] = 3;
	int pid = fork_waiter(&w[1], FUTEX_WAIT, 3, &w[1], 0);
	resv("waiters seen by the parent", nwaiters(&w[1], 0));
	resv("private WAKE from the parent", futex(&w[1], FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	resv("WAKE of the neighbour word", futex(&w[0], FUTEX_WAKE, 1, 0, 0, 0));
	resv("shared WAKE from the parent", futex(&w[1], FUTEX_WAKE, 1, 0, 0, 0));
	printf("child: %s\n", errname(reap(pid)));

	/* A private waiter in the child is its own process's. */
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 300000000 };
		_exit(code(futex(&w[1], FUTEX_WAIT_PRIVATE, 3, (long)&ts, 0, 0)));
	}
	nap_ms(50);
	resv("parent's private WAKE of the child's private waiter", futex(&w[1], FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	resv("parent's shared WAKE of it", futex(&w[1], FUTEX_WAKE, 1, 0, 0, 0));
	printf("child: %s\n", errname(reap(pid)));

	/* Shared memory mapped read-only still makes a shared futex. */
	volatile uint32_t *ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid = fork_waiter(ro, FUTEX_WAIT, 0, ro, 0);
	resv("WAKE on a read-only shared page", futex(ro, FUTEX_WAKE, 1, 0, 0, 0));
	printf("child: %s\n", errname(reap(pid)));
	munmap((void *)ro, PAGE);
	munmap((void *)w, PAGE);
}

static void private_after_fork(void)
{
	printf("-- private memory after fork\n");
	/* The child's copy of a private page is another futex, whether the
	 * operation says shared or not. */
	volatile uint32_t *w = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	w[0] = 1;
	int pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 300000000 };
		_exit(code(futex(&w[0], FUTEX_WAIT, 1, (long)&ts, 0, 0)));
	}
	nap_ms(50);
	resv("WAKE of the child's copy", futex(&w[0], FUTEX_WAKE, 1, 0, 0, 0));
	printf("child: %s\n", errname(reap(pid)));
	munmap((void *)w, 64 * PAGE);
}

static void memfd_shared(void)
{
	printf("-- memfd mapped twice\n");
	int fd = memfd_create("futex", 0);
	ftruncate(fd, 2 * PAGE);
	volatile uint32_t *a = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	/* The second page alone, at another address. */
	volatile uint32_t *b = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
	a[1024 + 4] = 11;
	expect(b[4] == 11, "both mappings show the same word");
	int pid = fork();
	if (pid == 0) {
		/* The child maps it once more, elsewhere, and waits there. */
		volatile uint32_t *c = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		_exit(code(futex(&c[1024 + 4], FUTEX_WAIT, 11, 0, 0, 0)));
	}
	await_waiters(&b[4], 0, 1);
	resv("waiters seen through the other mapping", nwaiters(&a[1024 + 4], 0));
	resv("WAKE through the second mapping", futex(&b[4], FUTEX_WAKE, 1, 0, 0, 0));
	printf("child: %s\n", errname(reap(pid)));

	/* Requeue between two files' words, across processes. */
	pid = fork();
	if (pid == 0)
		_exit(code(futex(&a[0], FUTEX_WAIT, 0, 0, 0, 0)));
	await_waiters(&a[0], 0, 1);
	resv("CMP_REQUEUE to the other page", futex(&a[0], FUTEX_CMP_REQUEUE, 0, 1, &b[0], 0));
	resv("waiters on it", nwaiters(&a[1024], 0));
	resv("WAKE there", futex(&b[0], FUTEX_WAKE, 1, 0, 0, 0));
	printf("child: %s\n", errname(reap(pid)));
	close(fd);
}

/* Two processes take turns through two futex words. */
static void ping_pong(void)
{
	printf("-- ping-pong\n");
	volatile uint32_t *w = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	enum { ROUNDS = 2000 };
	int pid = fork();
	if (pid == 0) {
		for (int i = 0; i < ROUNDS; i++) {
			while (w[0] == 0)
				futex(&w[0], FUTEX_WAIT, 0, 0, 0, 0);
			w[0] = 0;
			w[1] = 1;
			futex(&w[1], FUTEX_WAKE, 1, 0, 0, 0);
		}
		_exit(0);
	}
	for (int i = 0; i < ROUNDS; i++) {
		w[0] = 1;
		futex(&w[0], FUTEX_WAKE, 1, 0, 0, 0);
		while (w[1] == 0)
			futex(&w[1], FUTEX_WAIT, 0, 0, 0, 0);
		w[1] = 0;
	}
	printf("%d rounds, child: %s\n", ROUNDS, errname(reap(pid)));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	anon_shared();
	private_after_fork();
	memfd_shared();
	ping_pong();
	return expect_failures != 0;
}
