/* pthreads over futexes: mutexes (normal, recursive, error-checking,
 * PI, robust), condition variables (signal, broadcast, timed), barriers,
 * rwlocks, semaphores, thread creation and exit storms, pthread_join
 * (clear_child_tid), pthread_cancel at a cancellation point. Prints only
 * totals that do not depend on scheduling. */
#include "futex_util.h"
#include <pthread.h>
#include <semaphore.h>

enum { THREADS = 8, ROUNDS = 20000 };

static pthread_mutex_t mtx;
static long counter;

static void *add_fn(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&mtx);
		counter++;
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

static void mutexes(int type, int protocol, int robust, const char *name)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	pthread_mutexattr_setprotocol(&a, protocol);
	pthread_mutexattr_setrobust(&a, robust);
	pthread_mutex_init(&mtx, &a);
	counter = 0;
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, add_fn, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("%s mutex: %ld\n", name, counter);
	pthread_mutex_destroy(&mtx);
}

/* A bounded queue through a mutex and two condition variables. */
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static int queue[16], qn, qhead;
static long consumed_sum;

static void *producer(void *arg)
{
	long base = (long)arg;
	for (int i = 1; i <= ROUNDS / 4; i++) {
		pthread_mutex_lock(&mtx);
		while (qn == 16)
			pthread_cond_wait(&not_full, &mtx);
		queue[(qhead + qn++) % 16] = (int)(base + i);
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	long n = (long)arg, sum = 0;
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&mtx);
		while (qn == 0)
			pthread_cond_wait(&not_empty, &mtx);
		sum += queue[qhead];
		qhead = (qhead + 1) % 16;
		qn--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&mtx);
	}
	pthread_mutex_lock(&mtx);
	consumed_sum += sum;
	pthread_mutex_unlock(&mtx);
	return NULL;
}

static void condvars(void)
{
	pthread_mutex_init(&mtx, NULL);
	pthread_t p[4], c[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&c[i], NULL, consumer, (void *)(long)(ROUNDS / 2));
	for (int i = 0; i < 4; i++)
		pthread_create(&p[i], NULL, producer, (void *)(long)(i * 100000));
	for (int i = 0; i < 4; i++)
		pthread_join(p[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(c[i], NULL);
	printf("producer/consumer sum: %ld\n", consumed_sum);

	/* Broadcast wakes every waiter; a timed wait times out. */
	static int go;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mtx);
	printf("timed wait: %s\n", errname(pthread_cond_timedwait(&not_empty, &mtx, &ts)));
	pthread_mutex_unlock(&mtx);
	(void)go;
}

static pthread_barrier_t barrier;
static int phase_count[4];

static void *barrier_fn(void *arg)
{
	(void)arg;
	for (int ph = 0; ph < 4; ph++) {
		__atomic_fetch_add(&phase_count[ph], 1, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&barrier);
		if (__atomic_load_n(&phase_count[ph], __ATOMIC_SEQ_CST) != THREADS)
			return (void *)1;
	}
	return NULL;
}

static void barriers(void)
{
	pthread_barrier_init(&barrier, NULL, THREADS);
	pthread_t t[THREADS];
	long bad = 0;
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, barrier_fn, NULL);
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	printf("barrier phases complete: %s\n", bad ? "no" : "yes");
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t sem;

static void *rw_fn(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS / 10; i++) {
		if (i % 4 == 0) {
			pthread_rwlock_wrlock(&rw);
			counter++;
			pthread_rwlock_unlock(&rw);
		} else {
			pthread_rwlock_rdlock(&rw);
			(void)counter;
			pthread_rwlock_unlock(&rw);
		}
		sem_post(&sem);
	}
	return NULL;
}

static void rwlocks_sems(void)
{
	counter = 0;
	sem_init(&sem, 0, 0);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, rw_fn, NULL);
	for (int i = 0; i < THREADS * ROUNDS / 10; i++)
		sem_wait(&sem);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("rwlock writes: %ld, semaphore drained\n", counter);
}

static void *nothing(void *arg)
{
	return arg;
}

static void storms(void)
{
	long sum = 0;
	for (int i = 0; i < 500; i++) {
		pthread_t t;
		void *r;
		pthread_create(&t, NULL, nothing, (void *)(long)i);
		pthread_join(t, &r);
		sum += (long)r;
	}
	for (int i = 0; i < 100; i++) {
		pthread_t t;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		pthread_create(&t, &a, nothing, NULL);
	}
	printf("create/join storm: %ld\n", sum);
}

static void *cancel_fn(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mtx);
	for (;;)
		pthread_cond_wait(&not_empty, &mtx); /* a cancellation point */
	return NULL;
}

static void cleanup_unlock(void *m)
{
	pthread_mutex_unlock(m);
}

static void *cancel_cleanup_fn(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mtx);
	pthread_cleanup_push(cleanup_unlock, &mtx);
	for (;;)
		pthread_cond_wait(&not_empty, &mtx);
	pthread_cleanup_pop(0);
	return NULL;
}

static void cancels(void)
{
	pthread_mutex_init(&mtx, NULL);
	pthread_t t;
	void *r;
	pthread_create(&t, NULL, cancel_cleanup_fn, NULL);
	nap_ms(20);
	pthread_cancel(t);
	pthread_join(t, &r);
	printf("cancelled: %s\n", r == PTHREAD_CANCELED ? "yes" : "no");
	printf("mutex free after the clean-up: %s\n", pthread_mutex_trylock(&mtx) == 0 ? "yes" : "no");
	pthread_mutex_unlock(&mtx);
	(void)cancel_fn;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	mutexes(PTHREAD_MUTEX_NORMAL, PTHREAD_PRIO_NONE, PTHREAD_MUTEX_STALLED, "normal");
	mutexes(PTHREAD_MUTEX_RECURSIVE, PTHREAD_PRIO_NONE, PTHREAD_MUTEX_STALLED, "recursive");
	mutexes(PTHREAD_MUTEX_ERRORCHECK, PTHREAD_PRIO_NONE, PTHREAD_MUTEX_STALLED, "error-checking");
	mutexes(PTHREAD_MUTEX_NORMAL, PTHREAD_PRIO_INHERIT, PTHREAD_MUTEX_STALLED, "PI");
	mutexes(PTHREAD_MUTEX_NORMAL, PTHREAD_PRIO_NONE, PTHREAD_MUTEX_ROBUST, "robust");
	mutexes(PTHREAD_MUTEX_NORMAL, PTHREAD_PRIO_INHERIT, PTHREAD_MUTEX_ROBUST, "robust PI");
	condvars();
	barriers();
	rwlocks_sems();
	storms();
	cancels();
	return expect_failures != 0;
}
