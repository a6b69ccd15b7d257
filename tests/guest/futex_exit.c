/* What a dying thread does to futexes: its robust list (FUTEX_OWNER_DIED,
 * one waiter woken; the pending entry; PI entries; the 2048-entry limit;
 * the same at execve), the PI locks it owns going to their waiters, and
 * clear_child_tid (only when another user of the memory is left).
 *
 * With the argument "exec", the robust list at execve instead. */
// RUN:
// RUN: exec
#include "futex_util.h"
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* struct robust_list_head, and a lock with its list entry, in shared
 * memory. */
struct robust_head {
	void *next;
	long futex_offset;
	void *pending;
};
struct lock {
	void *next;          /* the list entry */
	volatile uint32_t word;
};

struct shared {
	struct lock locks[4];
	volatile uint32_t go, ready;
	volatile uint32_t tid_word, tid_word2;
	struct robust_head head; /* the owner's (a vm child's is ours too) */
};

static struct shared *sh;

static int me(void)
{
	return (int)rsys(SYS_gettid);
}

static const char *bits(uint32_t v, uint32_t tid)
{
	static char buf[64];
	uint32_t t = v & FUTEX_TID_MASK;
	snprintf(buf, sizeof buf, "%s%s%s", !t ? "no owner" : t == tid ? "owner" : "someone", v & FUTEX_WAITERS ? "|WAITERS" : "",
		 v & FUTEX_OWNER_DIED ? "|OWNER_DIED" : "");
	return buf;
}

/* Wait for sh->go, in the kernel. */
static void await_go(void)
{
	sh->ready = 1;
	while (!sh->go)
		futex(&sh->go, FUTEX_WAIT, 0, 0, 0, 0);
}

static void release(void)
{
	sh->go = 1;
	futex(&sh->go, FUTEX_WAKE, INT_MAX, 0, 0, 0);
}

static void await_ready(void)
{
	while (!sh->ready)
		nap_ms(1);
	await_waiters(&sh->go, 0, 1);
}

/* An owner process: holds locks[0..n) (PI ones by LOCK_PI) on a robust
 * list, and dies (exit, kill or exec) when told. */
enum how { BY_EXIT, BY_KILL, BY_EXEC };
static int owner(int n, bool pi, bool pending_unlocked, enum how how)
{
	int pid = fork();
	if (pid)
		return pid;
	struct robust_head *h = &sh->head;
	h->futex_offset = offsetof(struct lock, word);
	h->next = h;
	h->pending = NULL;
	for (int i = 0; i < n; i++) {
		struct lock *l = &sh->locks[i];
		if (pi)
			futex(&l->word, FUTEX_LOCK_PI, 0, 0, 0, 0);
		else
			l->word = (uint32_t)me();
		l->next = h->next;
		h->next = (void *)((uintptr_t)l | (pi ? 1 : 0));
	}
	if (pending_unlocked)
		h->pending = &sh->locks[3]; /* an unlock cut short: the word is 0 */
	rsys(SYS_set_robust_list, h, sizeof(*h));
	if (how == BY_EXEC) {
		char *argv[] = { "/bin/true", NULL };
		await_go();
		execv("/bin/true", argv);
		_exit(99);
	}
	await_go();
	if (how == BY_KILL)
		raise(SIGKILL);
	_exit(0);
}

static int wait_fn(void *arg)
{
	struct lock *l = arg;
	uint32_t v = l->word;
	return code(futex(&l->word, FUTEX_WAIT, v, 0, 0, 0));
}

static int lock_pi_fn(void *arg)
{
	struct lock *l = arg;
	long r = futex(&l->word, FUTEX_LOCK_PI, 0, 0, 0, 0);
	if (r)
		return code(r);
	uint32_t v = l->word;
	int ok = (v & FUTEX_TID_MASK) == (uint32_t)me() && (v & FUTEX_OWNER_DIED) && (v & FUTEX_WAITERS);
	futex(&l->word, FUTEX_UNLOCK_PI, 0, 0, 0, 0);
	return ok ? 0 : 99;
}

static void reset(void)
{
	memset(sh, 0, sizeof(*sh));
}

static void robust(enum how how, const char *what)
{
	printf("-- robust list, owner dies by %s\n", what);
	reset();
	int pid = owner(2, false, false, how);
	await_ready();
	/* A waiter on the first lock (FUTEX_WAITERS set as a locker would). */
	__atomic_fetch_or(&sh->locks[1].word, FUTEX_WAITERS, __ATOMIC_SEQ_CST);
	int w = vm_child(wait_fn, &sh->locks[1]);
	await_waiters(&sh->locks[1].word, 0, 1);
	uint32_t tid = sh->locks[0].word & FUTEX_TID_MASK;
	release();
	int st = reap(pid);
	printf("owner: %s\n", st == 200 + SIGKILL ? "killed" : st == 0 ? "exited" : "?");
	printf("waiter: %s\n", errname(reap(w)));
	printf("lock 0: %s\n", bits(sh->locks[0].word, tid));
	printf("lock 1: %s\n", bits(sh->locks[1].word, tid));
}

static void pending(void)
{
	printf("-- robust list, pending unlock\n");
	reset();
	int pid = owner(1, false, true, BY_EXIT);
	await_ready();
	int w = vm_child(wait_fn, &sh->locks[3]);
	await_waiters(&sh->locks[3].word, 0, 1);
	release();
	reap(pid);
	printf("waiter on the free word: %s, word %#x\n", errname(reap(w)), sh->locks[3].word);
}

static void robust_pi(void)
{
	printf("-- robust PI lock\n");
	reset();
	int pid = owner(1, true, false, BY_EXIT);
	await_ready();
	int w = vm_child(lock_pi_fn, &sh->locks[0]);
	await_pi_waiter(&sh->locks[0].word);
	nap_ms(20); /* the waiter's WAITERS bit comes just before it sleeps */
	release();
	reap(pid);
	printf("PI waiter took the lock with OWNER_DIED: %s\n", errname(reap(w)));
	printf("lock after its unlock: %#x\n", sh->locks[0].word);
}

static void pi_no_list(void)
{
	printf("-- PI lock, owner dies without a robust list\n");
	reset();
	int pid = fork();
	if (pid == 0) {
		rsys(SYS_set_robust_list, 0, sizeof(struct robust_head));
		futex(&sh->locks[0].word, FUTEX_LOCK_PI, 0, 0, 0, 0);
		await_go();
		_exit(0);
	}
	await_ready();
	int w = vm_child(lock_pi_fn, &sh->locks[0]);
	await_pi_waiter(&sh->locks[0].word);
	nap_ms(20);
	release();
	reap(pid);
	printf("PI waiter took the lock with OWNER_DIED: %s\n", errname(reap(w)));
}

static void long_list(void)
{
	printf("-- a list longer than 2048 entries\n");
	reset();
	int pid = fork();
	if (pid == 0) {
		enum { N = 2100 };
		struct lock *many = calloc(N, sizeof(*many));
		struct robust_head *h = &sh->head;
		h->futex_offset = offsetof(struct lock, word);
		h->next = h;
		/* sh->locks[0] last: entry 2101, past the limit; locks[1] first. */
		sh->locks[0].word = (uint32_t)me();
		sh->locks[0].next = h->next;
		h->next = &sh->locks[0];
		for (int i = 0; i < N; i++) {
			many[i].next = h->next;
			h->next = &many[i];
		}
		sh->locks[1].word = (uint32_t)me();
		sh->locks[1].next = h->next;
		h->next = &sh->locks[1];
		rsys(SYS_set_robust_list, h, sizeof(*h));
		_exit(0);
	}
	reap(pid);
	printf("first entry: %s\n", sh->locks[1].word & FUTEX_OWNER_DIED ? "OWNER_DIED" : "untouched");
	printf("entry 2102: %s\n", sh->locks[0].word & FUTEX_OWNER_DIED ? "OWNER_DIED" : "untouched");
}

static void glibc_robust_mutex(void)
{
	printf("-- pthread robust mutex across processes\n");
	pthread_mutex_t *m = (pthread_mutex_t *)&sh->locks[2];
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_t *pm = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	(void)m;
	pthread_mutex_init(pm, &a);
	int pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(pm);
		_exit(0);
	}
	reap(pid);
	int r = pthread_mutex_lock(pm);
	printf("lock after the owner died: %s\n", errname(r));
	printf("consistent: %s\n", errname(pthread_mutex_consistent(pm)));
	printf("unlock: %s\n", errname(pthread_mutex_unlock(pm)));
	printf("lock again: %s\n", errname(pthread_mutex_lock(pm)));
	pthread_mutex_unlock(pm);
}

static int clear_fn(void *arg)
{
	(void)arg;
	await_go();
	return 0;
}

static int set_tid_fn(void *arg)
{
	(void)arg;
	rsys(SYS_set_tid_address, &sh->tid_word2);
	sh->tid_word2 = (uint32_t)me();
	return 0;
}

static void clear_child_tid(void)
{
	printf("-- clear_child_tid\n");
	reset();
	/* A child sharing our memory: 0 is written, a waiter woken. */
	char *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int pid = clone(clear_fn, stack + 65536, CLONE_VM | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID | SIGCHLD, NULL,
			&sh->tid_word, NULL, &sh->tid_word);
	printf("tid word set: %s\n", sh->tid_word == (uint32_t)pid ? "yes" : "no");
	await_ready();
	int w = vm_child(wait_fn, (struct lock *)((char *)&sh->tid_word - offsetof(struct lock, word)));
	await_waiters(&sh->tid_word, 0, 1);
	release();
	reap(pid);
	printf("waiter: %s, tid word %u\n", errname(reap(w)), sh->tid_word);

	/* set_tid_address in a child sharing our memory. */
	pid = vm_child(set_tid_fn, NULL);
	reap(pid);
	printf("set_tid_address word after exit: %u\n", sh->tid_word2);

	/* A forked child's word (in shared memory) is left alone: nobody
	 * shares its address space. */
	pid = fork();
	if (pid == 0) {
		rsys(SYS_set_tid_address, &sh->tid_word2);
		sh->tid_word2 = 77;
		_exit(0);
	}
	reap(pid);
	printf("forked child's word after exit: %u\n", sh->tid_word2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		robust(BY_EXEC, "execve");
		return 0;
	}
	robust(BY_EXIT, "exit");
	robust(BY_KILL, "SIGKILL");
	pending();
	robust_pi();
	pi_no_list();
	long_list();
	glibc_robust_mutex();
	clear_child_tid();
	return expect_failures != 0;
}
