/* Sleeping in the kernel: wait queues and the per-thread wake word.
 *
 * Every kernel thread that serves a guest thread has one wake word (a
 * futex). To sleep, a thread snapshots its word (sleep_prepare), adds
 * itself to the wait queues of what it waits for, re-checks its condition
 * and only then sleeps until the word changes (sleep_until). Anything that
 * may end the wait -- data in a pipe, a child's exit, a signal -- bumps the
 * words of the threads queued on it (waitq_wake_all) or of one thread
 * (thread_wake). A wake between the check and the sleep is never lost,
 * since the word then differs from the snapshot.
 *
 * Sleeps are interruptible: sleep_until returns -EINTR when the thread has
 * a signal to act on (signal_pending), which the caller turns into EINTR
 * or a restart, as Linux does.
 *
 * Locking: waitq.lock is a leaf; wakers may hold their own object's lock
 * while calling waitq_wake_all. */
#ifndef COCOON_WAITQ_H
#define COCOON_WAITQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "kernel/kernel.h"

struct thread;

struct wait_entry {
	struct wait_entry *next, *prev;
	struct waitq *q;
	_Atomic uint32_t *word; /* the sleeper's wake word */
	/* The poll events this entry wants to hear of (0: every wake): an
	 * edge-triggered epoll item is not woken by a wake about other
	 * events, as Linux's ep_poll_callback filters on the wake's key. */
	unsigned key;
};

struct waitq {
	pthread_mutex_t lock;
	struct wait_entry head; /* circular list */
};

#define WAITQ_INIT(q) { PTHREAD_MUTEX_INITIALIZER, { &(q).head, &(q).head, NULL, NULL, 0 } }
void waitq_init(struct waitq *q);
/* Wake every thread queued on q. */
void waitq_wake_all(struct waitq *q);
/* Wake the threads queued on q whose entry's key is 0 or shares a bit
 * with events (Linux's keyed wake_up_poll). */
void waitq_wake_events(struct waitq *q, unsigned events);
/* Whether anyone is queued (a cheap test before waking). */
bool waitq_active(struct waitq *q);

/* The calling thread's wake word now; pass it to sleep_until. */
uint32_t sleep_prepare(void);
/* Queue the calling thread on q with entry e (e lives on the caller's
 * stack until waitq_remove). */
void waitq_add(struct waitq *q, struct wait_entry *e);
void waitq_remove(struct wait_entry *e);
/* Sleep until the wake word differs from snap, a signal is pending, or the
 * CLOCK_MONOTONIC (host clock) deadline passes (NULL: no deadline).
 * Returns 0 (woken: re-check the condition), -EINTR (signal pending) or
 * -ETIMEDOUT. */
int sleep_until(uint32_t snap, const struct timespec *deadline);
/* The same without a deadline, ended only by a wake-up (a stopped
 * process waits for SIGCONT or SIGKILL this way). */
void sleep_until_uninterruptible(uint32_t snap);
/* Make t's current or next sleep return (signals, kills). */
void thread_wake(struct thread *t);

/* A deadline rel from now on the host's CLOCK_MONOTONIC. */
struct timespec deadline_after(const struct timespec *rel);

/* Sleep until cond is true: 0, -EINTR or -ETIMEDOUT. cond is evaluated
 * with whatever lock the caller needs taken inside it. */
#define wait_event(q, cond, deadline) ({                                   \
	int __r = 0;                                                        \
	struct wait_entry __e;                                              \
	waitq_add((q), &__e);                                               \
	for (;;) {                                                          \
		uint32_t __snap = sleep_prepare();                          \
		if (cond)                                                   \
			break;                                              \
		__r = sleep_until(__snap, (deadline));                      \
		if (__r && !(cond))                                         \
			break;                                              \
		__r = 0;                                                    \
	}                                                                   \
	waitq_remove(&__e);                                                 \
	__r;                                                                \
})

#endif
