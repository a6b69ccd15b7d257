/* Kernel threads kept for reuse (kernel/kthread.h). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include "kernel/kthread.h"
#include "kernel/fault.h"

#define KTHREAD_IDLE_SECONDS 5
#define KTHREAD_MAX_IDLE 64 /* more than that exit at once */

struct kworker {
	struct kworker *next;      /* on the idle list */
	void *(*fn)(void *);
	void *arg;
	uint32_t job;              /* futex: 1 when fn is set */
};

static struct {
	pthread_mutex_t lock;
	struct kworker *idle;      /* most recently idle first */
	unsigned nidle;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Wait for a job until the idle time is up. Returns whether one came;
 * without one the worker has taken itself off the list. */
static int wait_job(struct kworker *w)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += KTHREAD_IDLE_SECONDS;
	for (;;) {
		if (__atomic_load_n(&w->job, __ATOMIC_ACQUIRE))
			return 1;
		struct timespec now, rel;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ns = (dl.tv_sec - now.tv_sec) * 1000000000LL + (dl.tv_nsec - now.tv_nsec);
		if (ns <= 0) {
			pthread_mutex_lock(&pool.lock);
			if (__atomic_load_n(&w->job, __ATOMIC_ACQUIRE)) { /* taken just now */
				pthread_mutex_unlock(&pool.lock);
				return 1;
			}
			for (struct kworker **p = &pool.idle; *p; p = &(*p)->next)
				if (*p == w) {
					*p = w->next;
					pool.nidle--;
					break;
				}
			pthread_mutex_unlock(&pool.lock);
			return 0;
		}
		rel.tv_sec = ns / 1000000000LL;
		rel.tv_nsec = ns % 1000000000LL;
		syscall(SYS_futex, &w->job, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
	}
}

static void *worker_main(void *arg)
{
	struct kworker *w = arg;
	fault_thread_init();
	for (;;) {
		w->fn(w->arg);
		pthread_mutex_lock(&pool.lock);
		if (pool.nidle >= KTHREAD_MAX_IDLE) {
			pthread_mutex_unlock(&pool.lock);
			break;
		}
		__atomic_store_n(&w->job, 0, __ATOMIC_RELAXED);
		w->next = pool.idle;
		pool.idle = w;
		pool.nidle++;
		pthread_mutex_unlock(&pool.lock);
		if (!wait_job(w))
			break;
	}
	free(w);
	return NULL;
}

int kthread_run(void *(*fn)(void *), void *arg)
{
	pthread_mutex_lock(&pool.lock);
	struct kworker *w = pool.idle;
	if (w) {
		pool.idle = w->next;
		pool.nidle--;
		w->fn = fn;
		w->arg = arg;
		__atomic_store_n(&w->job, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&pool.lock);
		syscall(SYS_futex, &w->job, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		return 0;
	}
	pthread_mutex_unlock(&pool.lock);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -EAGAIN;
	w->fn = fn;
	w->arg = arg;
	w->job = 1;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	pthread_t kt;
	int err = pthread_create(&kt, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (err) {
		free(w);
		return -EAGAIN;
	}
	return 0;
}
