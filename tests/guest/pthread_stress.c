/* pthreads under load, through the libc (glibc and musl): mutexes (normal,
 * recursive, error-checking, timed), condition variables (signal,
 * broadcast, timed waits on both clocks), barriers, rwlocks, semaphores,
 * spin locks, creation/exit storms (joined, detached, nested), deferred
 * and asynchronous pthread_cancel with cleanup handlers, pthread_once,
 * thread-local storage and key destructors, pthread_kill to one thread,
 * thread stacks and their guard pages. Everything printed is a count or
 * an errno name fixed by the program, never a timing. */
#include "util.h"
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NT 8 /* threads per contention test */

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static struct timespec after_ms(clockid_t clk, long ms)
{
	struct timespec t;
	clock_gettime(clk, &t);
	t.tv_nsec += ms * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	if (t.tv_nsec < 0) { /* a negative ms must still give a valid timespec */
		t.tv_nsec += 1000000000L;
		t.tv_sec--;
	}
	return t;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void start_all(pthread_t *t, int n, void *(*fn)(void *))
{
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, (void *)i))
			printf("NO: pthread_create %ld\n", i);
}

static void join_all(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* ---- mutexes ------------------------------------------------------------ */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *count_up(void *arg)
{
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&counter_lock);
		long c = counter;
		if ((i & 255) == 0)
			sched_yield(); /* hold it across a switch now and then */
		counter = c + 1;
		pthread_mutex_unlock(&counter_lock);
	}
	return NULL;
}

static pthread_mutex_t rec, chk, timed = PTHREAD_MUTEX_INITIALIZER;
static int other_rc[4];

static void *poke_mutexes(void *arg)
{
	other_rc[0] = pthread_mutex_trylock(&rec);
	other_rc[1] = pthread_mutex_unlock(&chk);
	struct timespec t0, dl;
	clock_gettime(CLOCK_MONOTONIC, &t0); /* first: the deadline is 30 ms after it */
	dl = after_ms(CLOCK_REALTIME, 30);
	other_rc[2] = pthread_mutex_timedlock(&timed, &dl);
	other_rc[3] = ms_since(&t0) >= 25;
	return NULL;
}

static void mutexes(void)
{
	pthread_t t[NT];
	start_all(t, NT, count_up);
	join_all(t, NT);
	printf("mutex: %d threads x 20000 increments = %ld\n", NT, counter);

	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&rec, &a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&chk, &a);
	pthread_mutexattr_destroy(&a);

	int r1 = pthread_mutex_lock(&rec), r2 = pthread_mutex_lock(&rec), r3 = pthread_mutex_trylock(&rec);
	printf("recursive: lock %s, again %s, trylock %s\n", errname(r1), errname(r2), errname(r3));
	pthread_mutex_lock(&chk);
	printf("errorcheck: relock %s\n", errname(pthread_mutex_lock(&chk)));
	pthread_mutex_lock(&timed);
	pthread_t o;
	pthread_create(&o, NULL, poke_mutexes, NULL);
	pthread_join(o, NULL);
	printf("other thread: trylock recursive %s, unlock errorcheck %s, timedlock %s after the timeout %d\n",
	       errname(other_rc[0]), errname(other_rc[1]), errname(other_rc[2]), other_rc[3]);
	int u1 = pthread_mutex_unlock(&rec), u2 = pthread_mutex_unlock(&rec), u3 = pthread_mutex_unlock(&rec);
	printf("recursive: three unlocks %s %s %s, a fourth %s\n", errname(u1), errname(u2), errname(u3),
	       errname(pthread_mutex_unlock(&rec)));
	u1 = pthread_mutex_unlock(&chk);
	u2 = pthread_mutex_unlock(&chk);
	printf("errorcheck: unlock %s, unlock again %s\n", errname(u1), errname(u2));
	pthread_mutex_unlock(&timed);
	u1 = pthread_mutex_trylock(&timed);
	u2 = pthread_mutex_trylock(&timed);
	printf("trylock free: %s, trylock held: %s\n", errname(u1), errname(u2));
	pthread_mutex_unlock(&timed);
}

/* ---- condition variables ------------------------------------------------ */
#define QCAP 4
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static int q[QCAP], qhead, qlen;
#define ITEMS 2000

static void *producer(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < ITEMS; i++) {
		pthread_mutex_lock(&qlock);
		while (qlen == QCAP)
			pthread_cond_wait(&not_full, &qlock);
		q[(qhead + qlen++) % QCAP] = (int)(id * ITEMS + i);
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&qlock);
	}
	return NULL;
}

static long consumed_sum, consumed_n;
static void *consumer(void *arg)
{
	for (;;) {
		pthread_mutex_lock(&qlock);
		while (qlen == 0)
			pthread_cond_wait(&not_empty, &qlock);
		int v = q[qhead];
		qhead = (qhead + 1) % QCAP;
		qlen--;
		pthread_cond_signal(&not_full);
		if (v < 0) { /* the end marker */
			pthread_mutex_unlock(&qlock);
			return NULL;
		}
		consumed_sum += v;
		consumed_n++;
		pthread_mutex_unlock(&qlock);
	}
}

static pthread_cond_t gen_cond = PTHREAD_COND_INITIALIZER;
static int generation, waiting;
static void *await_generation(void *arg)
{
	pthread_mutex_lock(&qlock);
	int g = generation;
	waiting++;
	pthread_cond_broadcast(&not_empty); /* tell the main thread */
	while (generation == g)
		pthread_cond_wait(&gen_cond, &qlock);
	waiting--;
	pthread_mutex_unlock(&qlock);
	return NULL;
}

static void condvars(void)
{
	pthread_t p[3], c[3];
	for (long i = 0; i < 3; i++) {
		pthread_create(&p[i], NULL, producer, (void *)i);
		pthread_create(&c[i], NULL, consumer, NULL);
	}
	join_all(p, 3);
	for (int i = 0; i < 3; i++) { /* one end marker per consumer */
		pthread_mutex_lock(&qlock);
		while (qlen == QCAP)
			pthread_cond_wait(&not_full, &qlock);
		q[(qhead + qlen++) % QCAP] = -1;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&qlock);
	}
	join_all(c, 3);
	long n = 3L * ITEMS;
	printf("cond: 3 producers, 3 consumers, %ld items, sum right %d\n", consumed_n,
	       consumed_sum == n * (n - 1) / 2);

	/* broadcast: every waiter of a generation wakes, five times over */
	int ok = 1;
	for (int round = 0; round < 5; round++) {
		pthread_t w[6];
		start_all(w, 6, await_generation);
		pthread_mutex_lock(&qlock);
		while (waiting < 6)
			pthread_cond_wait(&not_empty, &qlock);
		generation++;
		pthread_cond_broadcast(&gen_cond);
		pthread_mutex_unlock(&qlock);
		join_all(w, 6);
		ok &= waiting == 0;
	}
	printf("cond: broadcast woke all 6 waiters in 5 rounds %d\n", ok);

	/* timed waits: nobody signals */
	pthread_cond_t mono;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mono, &ca);
	pthread_condattr_destroy(&ca);
	struct timespec t0, dl;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&qlock);
	dl = after_ms(CLOCK_REALTIME, 30);
	int r1 = pthread_cond_timedwait(&gen_cond, &qlock, &dl);
	long e1 = ms_since(&t0);
	dl = after_ms(CLOCK_MONOTONIC, 30);
	int r2 = pthread_cond_timedwait(&mono, &qlock, &dl);
	long e2 = ms_since(&t0);
	dl = after_ms(CLOCK_MONOTONIC, -10);
	int r3 = pthread_cond_timedwait(&mono, &qlock, &dl);
	int relocked = pthread_mutex_trylock(&qlock); /* EBUSY (normal mutex held) or EDEADLK */
	pthread_mutex_unlock(&qlock);
	printf("cond timedwait: realtime %s (waited %d), monotonic %s (waited %d), past deadline %s, mutex held %d\n",
	       errname(r1), e1 >= 25, errname(r2), e2 - e1 >= 25, errname(r3), relocked != 0);
	pthread_cond_destroy(&mono);
}

/* ---- barriers ----------------------------------------------------------- */
static pthread_barrier_t bar;
static int serial_count, phase_errors, phase;
static void *barrier_rounds(void *arg)
{
	for (int r = 0; r < 200; r++) {
		if (__atomic_load_n(&phase, __ATOMIC_SEQ_CST) != r)
			__atomic_add_fetch(&phase_errors, 1, __ATOMIC_SEQ_CST);
		int rc = pthread_barrier_wait(&bar);
		if (rc == PTHREAD_BARRIER_SERIAL_THREAD) {
			serial_count++;
			__atomic_add_fetch(&phase, 1, __ATOMIC_SEQ_CST);
		} else if (rc) {
			__atomic_add_fetch(&phase_errors, 1, __ATOMIC_SEQ_CST);
		}
		pthread_barrier_wait(&bar); /* phase is seen by all before the next round */
	}
	return NULL;
}

static void barriers(void)
{
	pthread_t t[NT];
	pthread_barrier_init(&bar, NULL, NT);
	start_all(t, NT, barrier_rounds);
	join_all(t, NT);
	pthread_barrier_destroy(&bar);
	printf("barrier: %d threads, 200 rounds, serial thread %d times, phase errors %d\n", NT, serial_count,
	       phase_errors);
}

/* ---- rwlocks ------------------------------------------------------------ */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b; /* writers keep them equal */
static int rw_bad, readers_in, readers_max;

static void *rw_worker(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < 3000; i++) {
		if ((i + id) % 8 == 0) {
			pthread_rwlock_wrlock(&rw);
			if (__atomic_load_n(&readers_in, __ATOMIC_SEQ_CST))
				rw_bad++;
			rw_a++;
			if ((i & 63) == 0)
				sched_yield();
			rw_b++;
			pthread_rwlock_unlock(&rw);
		} else {
			pthread_rwlock_rdlock(&rw);
			int n = __atomic_add_fetch(&readers_in, 1, __ATOMIC_SEQ_CST);
			int m = __atomic_load_n(&readers_max, __ATOMIC_SEQ_CST);
			while (n > m && !__atomic_compare_exchange_n(&readers_max, &m, n, 0, __ATOMIC_SEQ_CST,
								     __ATOMIC_SEQ_CST))
				;
			if (rw_a != rw_b)
				__atomic_add_fetch(&rw_bad, 1, __ATOMIC_SEQ_CST);
			__atomic_sub_fetch(&readers_in, 1, __ATOMIC_SEQ_CST);
			pthread_rwlock_unlock(&rw);
		}
	}
	return NULL;
}

static pthread_barrier_t rbar;
static int rw_rc[3];
static void *reader_meets(void *arg)
{
	/* Both readers hold the lock at once, or this never returns. */
	pthread_rwlock_rdlock(&rw);
	pthread_barrier_wait(&rbar);
	pthread_rwlock_unlock(&rw);
	return NULL;
}

static void *rw_try(void *arg)
{
	struct timespec dl = after_ms(CLOCK_REALTIME, 20);
	rw_rc[0] = pthread_rwlock_trywrlock(&rw);
	rw_rc[1] = pthread_rwlock_timedwrlock(&rw, &dl);
	rw_rc[2] = pthread_rwlock_tryrdlock(&rw);
	if (!rw_rc[2])
		pthread_rwlock_unlock(&rw);
	return NULL;
}

static void rwlocks(void)
{
	pthread_t t[NT];
	start_all(t, NT, rw_worker);
	join_all(t, NT);
	printf("rwlock: %d threads, writes %ld, torn reads or readers under a writer %d\n", NT, rw_a, rw_bad);

	pthread_t a, b;
	pthread_barrier_init(&rbar, NULL, 2);
	pthread_create(&a, NULL, reader_meets, NULL);
	pthread_create(&b, NULL, reader_meets, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&rbar);
	printf("rwlock: two readers held it together\n");

	pthread_rwlock_rdlock(&rw);
	pthread_create(&a, NULL, rw_try, NULL);
	pthread_join(a, NULL);
	printf("rwlock read-held: trywrlock %s, timedwrlock %s, tryrdlock %s\n", errname(rw_rc[0]),
	       errname(rw_rc[1]), errname(rw_rc[2]));
	pthread_rwlock_unlock(&rw);
	pthread_rwlock_wrlock(&rw);
	pthread_create(&a, NULL, rw_try, NULL);
	pthread_join(a, NULL);
	printf("rwlock write-held: trywrlock %s, timedwrlock %s, tryrdlock %s\n", errname(rw_rc[0]),
	       errname(rw_rc[1]), errname(rw_rc[2]));
	pthread_rwlock_unlock(&rw);
}

/* ---- semaphores and spin locks ------------------------------------------ */
static sem_t items, slots;
static long sem_sum;
static void *sem_producer(void *arg)
{
	for (int i = 1; i <= 2000; i++) {
		sem_wait(&slots);
		__atomic_add_fetch(&sem_sum, i, __ATOMIC_SEQ_CST);
		sem_post(&items);
	}
	return NULL;
}

static void *sem_consumer(void *arg)
{
	for (int i = 0; i < 2000; i++) {
		while (sem_wait(&items) && errno == EINTR)
			;
		sem_post(&slots);
	}
	return NULL;
}

static pthread_spinlock_t spin;
static long spun;
static void *spin_up(void *arg)
{
	for (int i = 0; i < 20000; i++) {
		pthread_spin_lock(&spin);
		spun++;
		pthread_spin_unlock(&spin);
	}
	return NULL;
}

static void semaphores(void)
{
	sem_init(&items, 0, 0);
	sem_init(&slots, 0, 3);
	pthread_t p[2], c[2];
	for (int i = 0; i < 2; i++) {
		pthread_create(&p[i], NULL, sem_producer, NULL);
		pthread_create(&c[i], NULL, sem_consumer, NULL);
	}
	join_all(p, 2);
	join_all(c, 2);
	int vi, vs;
	sem_getvalue(&items, &vi);
	sem_getvalue(&slots, &vs);
	printf("sem: 2 producers x 2000, sum %ld, values after: items %d slots %d\n", sem_sum, vi, vs);
	int r = sem_trywait(&items);
	printf("sem_trywait empty: %s\n", r ? errname(errno) : "ok");
	struct timespec t0, dl;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dl = after_ms(CLOCK_REALTIME, 30);
	r = sem_timedwait(&items, &dl);
	printf("sem_timedwait empty: %s after the timeout %d\n", r ? errname(errno) : "ok", ms_since(&t0) >= 25);
	dl.tv_nsec = 1000000000L;
	r = sem_timedwait(&items, &dl);
	printf("sem_timedwait empty with a bad time: %s\n", r ? errname(errno) : "ok");
	sem_destroy(&items);
	sem_destroy(&slots);

	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	pthread_t t[4];
	start_all(t, 4, spin_up);
	join_all(t, 4);
	printf("spinlock: 4 threads x 20000 = %ld, trylock free %s", spun, errname(pthread_spin_trylock(&spin)));
	printf(", held %s\n", errname(pthread_spin_trylock(&spin)));
	pthread_spin_unlock(&spin);
	pthread_spin_destroy(&spin);
}

/* ---- creation and exit storms ------------------------------------------- */
static void *ret_arg(void *arg) { return arg; }

static int detached_done;
static pthread_mutex_t det_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t det_cond = PTHREAD_COND_INITIALIZER;
static void *detached_fn(void *arg)
{
	pthread_mutex_lock(&det_lock);
	detached_done++;
	pthread_cond_signal(&det_cond);
	pthread_mutex_unlock(&det_lock);
	return NULL;
}

/* A binary tree of threads: each creates two children until depth 0 and
 * returns the number of threads in its subtree. */
static void *tree(void *arg)
{
	long depth = (long)arg;
	if (depth == 0)
		return (void *)1L;
	pthread_t l, r;
	void *a, *b;
	pthread_create(&l, NULL, tree, (void *)(depth - 1));
	pthread_create(&r, NULL, tree, (void *)(depth - 1));
	pthread_join(l, &a);
	pthread_join(r, &b);
	return (void *)(1 + (long)a + (long)b);
}

static void *exit_early(void *arg)
{
	if ((long)arg & 1)
		pthread_exit((void *)((long)arg * 3));
	return (void *)((long)arg * 3);
}

static void storms(void)
{
	/* 40 at a time, 6 rounds */
	long sum = 0;
	int ok = 1;
	for (int round = 0; round < 6; round++) {
		pthread_t t[40];
		for (long i = 0; i < 40; i++)
			ok &= !pthread_create(&t[i], NULL, (i & 2) ? exit_early : ret_arg, (void *)i);
		for (int i = 0; i < 40; i++) {
			void *r;
			ok &= !pthread_join(t[i], &r);
			sum += (long)r;
		}
	}
	printf("storm: 240 threads, 40 alive at a time, created and joined ok %d, sum %ld\n", ok, sum);

	/* detached: nobody joins them */
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int made = 0;
	for (int i = 0; i < 100; i++) {
		pthread_t t;
		if (i % 2) {
			made += !pthread_create(&t, &a, detached_fn, NULL);
		} else if (!pthread_create(&t, NULL, detached_fn, NULL)) {
			made++;
			pthread_detach(t);
		}
	}
	pthread_attr_destroy(&a);
	pthread_mutex_lock(&det_lock);
	while (detached_done < made)
		pthread_cond_wait(&det_cond, &det_lock);
	pthread_mutex_unlock(&det_lock);
	printf("storm: %d detached threads all ran\n", made);

	void *n;
	pthread_t root;
	pthread_create(&root, NULL, tree, (void *)5L);
	pthread_join(root, &n);
	printf("storm: a tree of depth 5 made %ld threads\n", (long)n);
}

/* ---- cancellation ------------------------------------------------------- */
static int cleanups;
static void cleanup(void *arg)
{
	__atomic_add_fetch(&cleanups, 1, __ATOMIC_SEQ_CST);
	if (arg)
		pthread_mutex_unlock(arg);
}

static int pipefd[2];
static pthread_barrier_t cbar;
static void *cancel_in_read(void *arg)
{
	char c;
	pthread_cleanup_push(cleanup, NULL);
	pthread_barrier_wait(&cbar);
	read(pipefd[0], &c, 1);
	pthread_cleanup_pop(0);
	return (void *)1L;
}

static void *cancel_in_sleep(void *arg)
{
	pthread_cleanup_push(cleanup, NULL);
	pthread_barrier_wait(&cbar);
	for (;;)
		nanosleep(&(struct timespec){ 10, 0 }, NULL);
	pthread_cleanup_pop(0);
	return NULL;
}

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cc = PTHREAD_COND_INITIALIZER;
static void *cancel_in_condwait(void *arg)
{
	pthread_mutex_lock(&cm);
	pthread_cleanup_push(cleanup, &cm); /* the mutex is held again when it runs */
	pthread_barrier_wait(&cbar);
	for (;;)
		pthread_cond_wait(&cc, &cm);
	pthread_cleanup_pop(0);
	return NULL;
}

static sem_t never;
static void *cancel_in_semwait(void *arg)
{
	pthread_cleanup_push(cleanup, NULL);
	pthread_barrier_wait(&cbar);
	sem_wait(&never);
	pthread_cleanup_pop(0);
	return NULL;
}

static volatile int disabled_reached;
static void *cancel_disabled(void *arg)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_barrier_wait(&cbar); /* cancelled after this */
	pthread_barrier_wait(&cbar);
	usleep(1000); /* a cancellation point, but disabled */
	disabled_reached = 1;
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	pthread_testcancel();
	return (void *)2L;
}

static volatile unsigned long spins;
static void *cancel_async(void *arg)
{
	int old;
	pthread_cleanup_push(cleanup, NULL);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
	pthread_barrier_wait(&cbar);
	for (;;)
		spins++; /* no system call: only a signal stops it */
	pthread_cleanup_pop(0);
	return NULL;
}

static void cancel_one(const char *what, void *(*fn)(void *), int meet_twice)
{
	pthread_t t;
	void *r;
	pthread_barrier_init(&cbar, NULL, 2);
	pthread_create(&t, NULL, fn, NULL);
	pthread_barrier_wait(&cbar);
	if (fn != cancel_disabled)
		usleep(2000); /* let it block (cancellation is right either way) */
	int rc = pthread_cancel(t);
	if (meet_twice)
		pthread_barrier_wait(&cbar);
	pthread_join(t, &r);
	pthread_barrier_destroy(&cbar);
	printf("cancel %s: pthread_cancel %s, joined %s\n", what, errname(rc),
	       r == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value");
}

static void cancellation(void)
{
	pipe(pipefd);
	sem_init(&never, 0, 0);
	cancel_one("in read", cancel_in_read, 0);
	cancel_one("in nanosleep", cancel_in_sleep, 0);
	cancel_one("in cond_wait", cancel_in_condwait, 0);
	printf("cancel in cond_wait: the mutex was released by the cleanup: %s\n",
	       errname(pthread_mutex_trylock(&cm)));
	pthread_mutex_unlock(&cm);
	cancel_one("in sem_wait", cancel_in_semwait, 0);
	cancel_one("while disabled", cancel_disabled, 1);
	printf("cancel while disabled: ran on past usleep %d\n", disabled_reached);
	cancel_one("asynchronous, spinning", cancel_async, 0);
	printf("cancel: cleanup handlers ran %d times\n", cleanups);
	/* many at once, in a blocking read */
	pthread_t t[16];
	pthread_barrier_init(&cbar, NULL, 17);
	start_all(t, 16, cancel_in_read);
	pthread_barrier_wait(&cbar);
	int canceled = 0;
	for (int i = 0; i < 16; i++)
		pthread_cancel(t[i]);
	for (int i = 0; i < 16; i++) {
		void *r;
		pthread_join(t[i], &r);
		canceled += r == PTHREAD_CANCELED;
	}
	pthread_barrier_destroy(&cbar);
	printf("cancel 16 readers at once: %d cancelled, cleanups now %d\n", canceled, cleanups);
	close(pipefd[0]);
	close(pipefd[1]);
	sem_destroy(&never);
}

/* ---- once, TLS, keys ------------------------------------------------------ */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs, once_seen;
static void once_init(void)
{
	usleep(5000); /* the others must wait for it */
	once_runs++;
}

static void *call_once(void *arg)
{
	pthread_once(&once, once_init);
	__atomic_add_fetch(&once_seen, once_runs, __ATOMIC_SEQ_CST);
	return NULL;
}

static __thread long tls_counter = 100;
static __thread char tls_buf[256];
static pthread_key_t key;
static int destructor_calls;
static long destructor_sum;
static void key_destructor(void *v)
{
	__atomic_add_fetch(&destructor_calls, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&destructor_sum, (long)v, __ATOMIC_SEQ_CST);
}

static void *tls_worker(void *arg)
{
	long id = (long)arg;
	int ok = tls_counter == 100 && tls_buf[0] == 0;
	for (int i = 0; i < 1000; i++) {
		tls_counter += id;
		tls_buf[i % 256] = (char)id;
		if (i % 100 == 0)
			sched_yield();
	}
	ok &= tls_counter == 100 + 1000 * id;
	for (int i = 0; i < 256; i++)
		ok &= tls_buf[i] == (char)id;
	ok &= pthread_getspecific(key) == NULL;
	pthread_setspecific(key, (void *)(id + 1));
	sched_yield();
	ok &= pthread_getspecific(key) == (void *)(id + 1);
	return (void *)(long)ok;
}

static void once_tls(void)
{
	pthread_t t[NT];
	start_all(t, NT, call_once);
	join_all(t, NT);
	printf("once: init ran %d time(s), every caller saw it done %d\n", once_runs, once_seen == NT);

	pthread_key_create(&key, key_destructor);
	int ok = 1;
	start_all(t, NT, tls_worker);
	for (int i = 0; i < NT; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok &= (long)r;
	}
	printf("tls: each thread had its own variables %d, main's untouched %d, destructors %d (sum %ld)\n", ok,
	       tls_counter == 100, destructor_calls, destructor_sum);
	pthread_key_delete(key);
}

/* ---- pthread_kill ---------------------------------------------------------- */
static volatile pid_t handled_on;
static volatile sig_atomic_t handled;
static void on_usr1(int sig)
{
	handled_on = gettid_();
	handled++;
}

static pthread_barrier_t kbar;
static pid_t target_tid;
static void *kill_target(void *arg)
{
	target_tid = gettid_();
	pthread_barrier_wait(&kbar);
	while (!handled)
		pause();
	return NULL;
}

static pthread_barrier_t kbar_done;
static void *kill_bystander(void *arg)
{
	pthread_barrier_wait(&kbar);
	pthread_barrier_wait(&kbar_done); /* until the target is done */
	return NULL;
}

static void thread_kill(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	pthread_barrier_init(&kbar, NULL, 3);
	pthread_barrier_init(&kbar_done, NULL, 2);
	pthread_t t, b;
	pthread_create(&t, NULL, kill_target, NULL);
	pthread_create(&b, NULL, kill_bystander, NULL);
	pthread_barrier_wait(&kbar);
	int r0 = pthread_kill(t, 0);
	int r1 = pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	pthread_barrier_wait(&kbar_done);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&kbar);
	pthread_barrier_destroy(&kbar_done);
	printf("pthread_kill: probe %s, send %s, handled %d time(s) on the target %d, bad signal %s\n",
	       errname(r0), errname(r1), handled, handled_on == target_tid, errname(pthread_kill(pthread_self(), 999)));
	signal(SIGUSR1, SIG_DFL);
}

/* ---- stacks and guard pages ------------------------------------------------ */
static sigjmp_buf guard_jmp;
static volatile void *fault_addr;
static volatile int fault_code;
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	fault_addr = si->si_addr;
	fault_code = si->si_code;
	siglongjmp(guard_jmp, 1);
}

static void *stack_check(void *arg)
{
	pthread_attr_t a;
	void *lo;
	size_t size, guard;
	int local;
	pthread_getattr_np(pthread_self(), &a);
	pthread_attr_getstack(&a, &lo, &size);
	pthread_attr_getguardsize(&a, &guard);
	pthread_attr_destroy(&a);
	int inside = (char *)&local > (char *)lo && (char *)&local < (char *)lo + size;
	/* The guard page below the stack faults, with SEGV_ACCERR: it is
	 * mapped PROT_NONE. The handler runs on an alternate stack. */
	static char alt[65536];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt) };
	sigaltstack(&ss, NULL);
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	sigaction(SIGSEGV, &sa, NULL);
	volatile char *below = (char *)lo - 1;
	int faulted = 0;
	if (!sigsetjmp(guard_jmp, 1))
		*below = 1;
	else
		faulted = 1;
	signal(SIGSEGV, SIG_DFL);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	printf("stack: size at least asked %d, guard at least a page %d, a local inside %d, "
	       "below it faults %d with %s at the address %d\n",
	       size >= 256 * 1024, guard >= 4096, inside, faulted,
	       fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : "?",
	       fault_addr == below);
	return NULL;
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

static void *overflow(void *arg)
{
	return (void *)(long)recurse(0);
}

static void stacks(void)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 * 1024);
	pthread_attr_setguardsize(&a, 8192);
	pthread_t t;
	pthread_create(&t, &a, stack_check, NULL);
	pthread_join(t, NULL);

	/* A thread running off its stack kills the process with SIGSEGV. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_create(&t, &a, overflow, NULL);
		pthread_join(t, NULL);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("stack overflow in a thread: killed by SIGSEGV %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);

	/* A caller-provided stack. */
	size_t sz = 128 * 1024;
	char *mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_attr_setstack(&a, mem, sz);
	void *r;
	int rc = pthread_create(&t, &a, tree, (void *)2L);
	pthread_join(t, &r);
	printf("own stack: create %s, ran %ld threads\n", errname(rc), (long)r);
	munmap(mem, sz);
	pthread_attr_destroy(&a);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	mutexes();
	condvars();
	barriers();
	rwlocks();
	semaphores();
	storms();
	cancellation();
	once_tls();
	thread_kill();
	stacks();
	return expect_failures != 0;
}
