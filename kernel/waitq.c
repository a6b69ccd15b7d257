/* Wait queues and wake words (see waitq.h). */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kernel/waitq.h"
#include "kernel/task.h"
#include "kernel/signal.h"
#include "platform/platform.h"

/* Threads that serve no guest thread (the main thread, unit tests) sleep
 * on a word of their own. */
static __thread _Atomic uint32_t own_word;

static _Atomic uint32_t *my_word(void)
{
	return current ? &current->wake_word : &own_word;
}

void waitq_init(struct waitq *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head.next = q->head.prev = &q->head;
	q->head.q = NULL;
	q->head.word = NULL;
}

static void word_bump(_Atomic uint32_t *w)
{
	atomic_fetch_add(w, 1);
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void waitq_wake_all(struct waitq *q)
{
	pthread_mutex_lock(&q->lock);
	for (struct wait_entry *e = q->head.next; e != &q->head; e = e->next)
		word_bump(e->word);
	pthread_mutex_unlock(&q->lock);
}

void waitq_wake_events(struct waitq *q, unsigned events)
{
	pthread_mutex_lock(&q->lock);
	for (struct wait_entry *e = q->head.next; e != &q->head; e = e->next)
		if (!e->key || (e->key & events))
			word_bump(e->word);
	pthread_mutex_unlock(&q->lock);
}

bool waitq_active(struct waitq *q)
{
	pthread_mutex_lock(&q->lock);
	bool active = q->head.next != &q->head;
	pthread_mutex_unlock(&q->lock);
	return active;
}

uint32_t sleep_prepare(void)
{
	return atomic_load(my_word());
}

void waitq_add(struct waitq *q, struct wait_entry *e)
{
	e->q = q;
	e->word = my_word();
	e->key = 0;
	pthread_mutex_lock(&q->lock);
	e->next = &q->head;
	e->prev = q->head.prev;
	q->head.prev->next = e;
	q->head.prev = e;
	pthread_mutex_unlock(&q->lock);
}

void waitq_remove(struct wait_entry *e)
{
	struct waitq *q = e->q;
	pthread_mutex_lock(&q->lock);
	e->prev->next = e->next;
	e->next->prev = e->prev;
	pthread_mutex_unlock(&q->lock);
}

void thread_wake(struct thread *t)
{
	word_bump(&t->wake_word);
}

struct timespec deadline_after(const struct timespec *rel)
{
	struct timespec d;
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec += rel->tv_sec;
	d.tv_nsec += rel->tv_nsec;
	if (d.tv_nsec >= 1000000000L) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000L;
	}
	return d;
}

/* The guest thread waiting for our reply should not spin for it now. */
static void about_to_sleep(void)
{
	if (current)
		platform_kernel_sleeps();
}

/* A sleep is a voluntary context switch of the guest thread (getrusage's
 * ru_nvcsw), as Linux's schedule() of a task that is not running. */
static void count_sleep(void)
{
	if (current)
		__atomic_add_fetch(&current->nvcsw, 1, __ATOMIC_RELAXED);
}

int sleep_until(uint32_t snap, const struct timespec *deadline)
{
	_Atomic uint32_t *w = my_word();
	about_to_sleep();
	for (;;) {
		if (current && signal_pending())
			return -EINTR;
		if (atomic_load(w) != snap)
			return 0;
		struct timespec rel, *relp = NULL;
		if (deadline) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			int64_t ns = (deadline->tv_sec - now.tv_sec) * 1000000000LL +
				     (deadline->tv_nsec - now.tv_nsec);
			if (ns <= 0)
				return -ETIMEDOUT;
			rel.tv_sec = ns / 1000000000LL;
			rel.tv_nsec = ns % 1000000000LL;
			relp = &rel;
		}
		count_sleep();
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, snap, relp, NULL, 0);
	}
}

void sleep_until_uninterruptible(uint32_t snap)
{
	_Atomic uint32_t *w = my_word();
	about_to_sleep();
	while (atomic_load(w) == snap) {
		count_sleep();
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, snap, NULL, NULL, 0);
	}
}
