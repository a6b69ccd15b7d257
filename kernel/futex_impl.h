/* What kernel/futex.c (waiting and waking), kernel/futex_pi.c (PI locks)
 * and kernel/futex_requeue.c share. See kernel/futex.h for the design
 * and the locking rules. */
#ifndef COCOON_FUTEX_IMPL_H
#define COCOON_FUTEX_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "kernel/futex.h"

/* futex flags, from the operation's FUTEX_PRIVATE_FLAG and
 * FUTEX_CLOCK_REALTIME (Linux's FLAGS_SHARED, FLAGS_CLOCKRT). */
#define FLAGS_SHARED  1u
#define FLAGS_CLOCKRT 2u

/* Linux's TASK_SIZE_MAX: a futex word must lie below it (access_ok). */

/* Internal results (never returned to a guest). */
#define FUTEX_RETRY_COW   1000 /* drop every lock, break copy-on-write, start again */
#define FUTEX_RETRY_OWNER 1001 /* look the PI owner up (no futex lock held), start again */
#define FUTEX_OWNER_BUSY  1002 /* the PI owner is exiting: wait a little, start again */

/* Which futex a word is (Linux's union futex_key). A private futex, or a
 * shared one in private memory, is the address in its address space; a
 * shared futex in shared memory is its place in the memory file. The
 * kinds never match each other, like Linux's FUT_OFF_* bits. */
enum futex_key_kind { KEY_PRIVATE, KEY_MM_SHARED, KEY_MEMFILE };
struct futex_key {
	const void *mm;  /* the address space, NULL for KEY_MEMFILE */
	uint64_t addr;   /* guest address, or memory-file offset */
	int kind;
};

static inline bool key_match(const struct futex_key *a, const struct futex_key *b)
{
	return a->mm == b->mm && a->addr == b->addr && a->kind == b->kind;
}

struct futex_q;
struct pi_state;

#define FUTEX_NR_BUCKETS 1024 /* a power of two */

/* Waiters hashed by key; its lock guards its list and the pi_states of
 * its keys. */
struct futex_bucket {
	pthread_mutex_t lock;
	/* Waiters queued or about to be (Linux's hb->waiters): a wake finds
	 * an empty bucket without its lock. */
	_Atomic int waiters;
	struct futex_q *first, *last;
} __attribute__((aligned(64)));

/* A requeue-PI waiter's progress (Linux's Q_REQUEUE_PI_*): still on the
 * first futex, moved to the PI futex's waiters, or given the PI lock. */
enum { RQ_NONE, RQ_DONE, RQ_LOCKED };

/* A waiter: one per futex a thread waits on, on its kernel stack. It is
 * in its bucket while `queued`; a waker takes it out, clears `queued` and
 * bumps `word` under the bucket lock. The waiter takes that lock once more
 * before it returns (futex_unqueue), so no waker still touches it then. */
struct futex_q {
	struct futex_q *next, *prev;        /* in the bucket, in arrival order */
	struct futex_bucket *_Atomic bucket; /* changes under its lock only (requeue: both) */
	_Atomic bool queued;
	struct futex_key key;
	uint32_t bitset;
	int tid;                            /* the waiting thread */
	_Atomic uint32_t *word;             /* its wake word (kernel/waitq.h) */
	/* PI (bucket lock): the lock state this waiter waits on; whether it
	 * was handed the lock, and must still write its TID into the word
	 * (a lock taken over from a dead owner: FUTEX_OWNER_DIED too). */
	struct pi_state *pi_state;
	bool pi_owner, pi_fixup;
	/* FUTEX_WAIT_REQUEUE_PI (Linux's rt_waiter): the PI futex it will
	 * be moved to, and how far it got (RQ_*). */
	bool requeue_pi;
	struct futex_key requeue_key;
	int requeue_state;
};

/* The kernel's side of a PI futex with waiters: who owns the lock (a
 * TID, 0 if nobody: the owner died with no one to hand it to). Lives in
 * its key's bucket, under its lock; freed when the last waiter lets go. */
struct pi_state {
	struct futex_key key;
	int owner;
	int refs;
};

/* An absolute deadline on a sandbox clock (CLOCK_MONOTONIC or REALTIME). */
struct futex_deadline {
	clockid_t clock;
	int64_t ns;
};

/* Wake-ups decided under a bucket lock; the host calls that end the
 * sleeps are made after it is dropped (futex_wake_flush). */
struct wake_batch {
	int n;
	_Atomic uint32_t *words[16];
};

/* ---- kernel/futex.c ---- */
/* Linux's get_futex_key: 0, -EINVAL (misaligned), -EFAULT. */
int futex_get_key(gaddr_t uaddr, unsigned flags, bool write, struct futex_key *key);
struct futex_bucket *futex_hash(const struct futex_key *key);
struct futex_bucket *futex_bucket_at(int i); /* 0 <= i < FUTEX_NR_BUCKETS */
/* Lock q's bucket (by q->key) counting q as a waiter there; q_unlock
 * undoes both when q does not wait after all. */
struct futex_bucket *futex_q_lock(struct futex_q *q);
void futex_q_unlock(struct futex_bucket *b);
void futex_bucket_lock(struct futex_bucket *b);
void futex_bucket_unlock(struct futex_bucket *b);
/* Both buckets, in a fixed order (the same one twice is locked once). */
void futex_double_lock(struct futex_bucket *a, struct futex_bucket *b);
void futex_double_unlock(struct futex_bucket *a, struct futex_bucket *b);
/* Queue q in b (locked by futex_q_lock). */
void futex_queue(struct futex_q *q, struct futex_bucket *b);
/* Take q out of its bucket (locked) without waking it. */
void futex_unlink(struct futex_q *q);
/* Move q from its bucket to b with key (both locked). */
void futex_requeue_q(struct futex_q *q, struct futex_bucket *b, const struct futex_key *key);
/* The first waiter on key in b (locked), or NULL. */
struct futex_q *futex_top_waiter(struct futex_bucket *b, const struct futex_key *key);
/* Wake q (its bucket locked): out of the bucket, `queued` cleared, its
 * word bumped; the host wake-up is left in wb. */
void futex_wake_mark(struct futex_q *q, struct wake_batch *wb);
void futex_wake_flush(struct wake_batch *wb);
/* After a sleep: 1 if q was still queued (taken out now), 0 if a waker
 * took it out. Locks its bucket either way (see struct futex_q). */
int futex_unqueue(struct futex_q *q);
/* Read *uaddr and queue q on it if it holds val: 0 (queued), -EAGAIN,
 * -EFAULT, -EINVAL; q->key must be set. With `forbid`, a q->key equal to
 * it is refused with -EINVAL (requeue-PI to the same futex). */
int futex_wait_setup(gaddr_t uaddr, uint32_t val, struct futex_q *q, const struct futex_key *forbid);
/* Sleep until one of the n waiters is woken (0), the deadline passes
 * (-ETIMEDOUT) or a signal comes (-EINTR). */
int futex_sleep(struct futex_q *qs, int n, const struct futex_deadline *dl);
void futex_q_init(struct futex_q *q);

/* ---- kernel/futex_pi.c ---- */
/* What an owner lookup found (futex_pi.c), carried across retries. */
struct pi_owner_info {
	int tid;             /* looked up; 0: nothing looked up yet */
	int state;           /* OWNER_* */
	unsigned exit_gen;   /* futex_exit_gen when looked up */
};
/* Linux's futex_lock_pi_atomic, with b locked and the current mm
 * read-locked: 1 (taken for tid), 0 (*ps attached: wait), or an error
 * (-EDEADLK, -ESRCH, -EINVAL, -EFAULT, -EAGAIN, FUTEX_RETRY_*). */
int futex_lock_pi_atomic(gaddr_t uaddr, struct futex_bucket *b, const struct futex_key *key,
			 struct pi_state **ps, int tid, bool set_waiters, struct pi_owner_info *oi);
/* The retry of an FUTEX_RETRY_* / -EAGAIN from futex_lock_pi_atomic,
 * every lock dropped: 0 to try again, or an error for the caller. */
int futex_pi_retry(int err, gaddr_t uaddr, struct pi_owner_info *oi);
void pi_state_get(struct pi_state *ps);
void pi_state_put(struct pi_state *ps); /* bucket locked */
/* After a PI wait that was handed the lock: write the TID into the word
 * where the hand-over left that to us; drops q's pi_state. 0 or -EFAULT. */
int futex_pi_finish(gaddr_t uaddr, struct futex_q *q);
/* The current thread's TID as futex words hold it. */
int futex_tid(void);
/* A thread with this TID is going: the PI locks it owns go to their
 * first waiters. */
void futex_pi_exit(int tid);

/* ---- the operations (kernel/sys_futex.c decodes the calls) ---- */
long futex_wait(gaddr_t uaddr, unsigned flags, uint32_t val, const struct futex_deadline *dl,
		uint32_t bitset);
long futex_wake(gaddr_t uaddr, unsigned flags, int nr, uint32_t bitset);
long futex_wake_op(gaddr_t uaddr1, unsigned flags, gaddr_t uaddr2, int nr1, int nr2, uint32_t op);
/* Wait on n futexes (futex_waitv): q[i] waits for uaddrs[i] to be woken
 * while it holds vals[i]. The index of a woken one, or -errno. */
long futex_wait_multiple(struct futex_q *qs, const uint64_t *uaddrs, const uint32_t *vals,
			 const unsigned *flags, int n, const struct futex_deadline *dl);
long futex_requeue(gaddr_t uaddr1, unsigned flags, gaddr_t uaddr2, int nr_wake, int nr_requeue,
		   const uint32_t *cmpval, bool requeue_pi);
long futex_wait_requeue_pi(gaddr_t uaddr, unsigned flags, uint32_t val,
			   const struct futex_deadline *dl, gaddr_t uaddr2);
long futex_lock_pi(gaddr_t uaddr, unsigned flags, const struct futex_deadline *dl, bool trylock);
long futex_unlock_pi(gaddr_t uaddr, unsigned flags);

/* Thread exits begun (futex_thread_exit): a PI owner looked up before a
 * change may be gone. */
extern _Atomic unsigned futex_exit_gen;

#endif
