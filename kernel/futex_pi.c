/* PI futexes (Linux's kernel/futex/pi.c): LOCK_PI, LOCK_PI2, TRYLOCK_PI,
 * UNLOCK_PI, and the hand-over of a dying owner's locks. The word holds
 * the owner's TID, FUTEX_WAITERS while the kernel keeps waiters, and
 * FUTEX_OWNER_DIED after an owner died holding it. The kernel's side of a
 * contended lock is a struct pi_state: its owner and, as its waiters,
 * the futex_qs on its key that point at it, served in arrival order (no
 * priority inheritance). */
#include <stdlib.h>
#include <linux/futex.h>
#include "kernel/futex_impl.h"
#include "kernel/signal.h"
#include "kernel/task.h"
#include "kernel/waitq.h"
#include "mm/uaccess.h"

/* Live pi_states: a thread exit looks for the ones it owns only if any. */
static _Atomic int nr_pi_states;

int futex_tid(void)
{
	return current->tid;
}

static struct pi_state *pi_state_new(const struct futex_key *key, int owner)
{
	struct pi_state *ps = malloc(sizeof(*ps));
	if (ps) {
		*ps = (struct pi_state){ *key, owner, 1 };
		atomic_fetch_add(&nr_pi_states, 1);
	}
	return ps;
}

void pi_state_get(struct pi_state *ps)
{
	ps->refs++;
}

void pi_state_put(struct pi_state *ps)
{
	if (ps && --ps->refs == 0) {
		free(ps);
		atomic_fetch_sub(&nr_pi_states, 1);
	}
}

/* Drop q's pi_state (its bucket is the pi_state's). */
static void q_drop_pi(struct futex_q *q)
{
	if (!q->pi_state)
		return;
	for (;;) {
		struct futex_bucket *b = atomic_load(&q->bucket);
		futex_bucket_lock(b);
		if (b == atomic_load(&q->bucket)) {
			pi_state_put(q->pi_state);
			q->pi_state = NULL;
			futex_bucket_unlock(b);
			return;
		}
		futex_bucket_unlock(b);
	}
}

/* ---- the owner of a word: looked up without futex locks held ---------- */

enum { OWNER_NONE, OWNER_ALIVE, OWNER_EXITING };

/* Whether the thread with this TID lives. A thread counts as exiting from
 * the moment it is told to go: its futex clean-up comes soon. The lookup
 * stays valid while futex_exit_gen is unchanged: a thread that was alive
 * then has not begun that clean-up, so a pi_state attached to it now will
 * be found by it. */
static void owner_lookup(struct pi_owner_info *oi)
{
	oi->exit_gen = atomic_load(&futex_exit_gen);
	oi->state = OWNER_NONE;
	pthread_mutex_lock(&tasklist_lock);
	struct thread *t = tid_lookup(oi->tid);
	if (t) {
		struct process *p = t->proc;
		pthread_mutex_lock(&p->lock);
		oi->state = t->exiting || p->exited ? OWNER_EXITING : OWNER_ALIVE;
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
}

int futex_pi_retry(int err, gaddr_t uaddr, struct pi_owner_info *oi)
{
	switch (err) {
	case -EAGAIN: /* the word changed under us */
		return 0;
	case FUTEX_RETRY_COW:
		return guest_unshare_word(uaddr);
	case FUTEX_RETRY_OWNER:
		owner_lookup(oi);
		return 0;
	case FUTEX_OWNER_BUSY: {
		/* Linux waits for the owner's futex clean-up to finish. */
		struct timespec nap = { 0, 1000000 }, dl = deadline_after(&nap);
		oi->tid = 0;
		while (sleep_until(sleep_prepare(), &dl) == 0)
			;
		return signal_pending() ? -ERESTARTNOINTR : 0;
	}
	default:
		return err;
	}
}

/* ---- taking a lock -------------------------------------------------------- */

/* Set the word from uval to newval: 0, -EAGAIN if it changed, or an
 * access error. */
static int update_word(gaddr_t uaddr, uint32_t uval, uint32_t newval)
{
	uint32_t cur;
	int err = guest_cmpxchg32_locked(uaddr, uval, newval, &cur);
	if (err)
		return err == GUEST_WORD_COW ? FUTEX_RETRY_COW : err;
	return cur == uval ? 0 : -EAGAIN;
}

/* Join the waiters of an existing pi_state, after checking that the word
 * agrees with it (Linux's attach_to_pi_state and its table of states). */
static int attach_to_pi_state(gaddr_t uaddr, uint32_t uval, struct pi_state *ps, struct pi_state **out)
{
	int pid = uval & FUTEX_TID_MASK;
	uint32_t again;
	if (!ps)
		return -EINVAL; /* waiters of a non-PI futex on it */
	if (guest_load32_locked(uaddr, &again))
		return -EFAULT;
	if (again != uval)
		return -EAGAIN;
	if (uval & FUTEX_OWNER_DIED) {
		if (!ps->owner) {
			if (pid)
				return -EINVAL;
			goto attach;
		}
		if (!pid) /* being handed over after the owner's death */
			goto attach;
	} else if (!ps->owner) {
		return -EINVAL;
	}
	if (pid != ps->owner)
		return -EINVAL;
attach:
	pi_state_get(ps);
	*out = ps;
	return 0;
}

/* First waiter: a pi_state for the owner named in the word, if it lives
 * (Linux's attach_to_pi_owner and handle_exit_race). */
static int attach_to_pi_owner(gaddr_t uaddr, uint32_t uval, const struct futex_key *key,
			      struct pi_state **out, struct pi_owner_info *oi)
{
	int pid = uval & FUTEX_TID_MASK;
	if (!pid)
		return -EAGAIN;
	if (oi->tid != pid || oi->exit_gen != atomic_load(&futex_exit_gen)) {
		oi->tid = pid;
		return FUTEX_RETRY_OWNER;
	}
	if (oi->state == OWNER_ALIVE) {
		*out = pi_state_new(key, pid);
		return *out ? 0 : -ENOMEM;
	}
	if (oi->state == OWNER_EXITING)
		return FUTEX_OWNER_BUSY;
	/* Gone. If its exit changed the word (robust list), try again;
	 * otherwise the word names nobody. */
	uint32_t again;
	if (guest_load32_locked(uaddr, &again))
		return -EFAULT;
	return again != uval ? -EAGAIN : -ESRCH;
}

int futex_lock_pi_atomic(gaddr_t uaddr, struct futex_bucket *b, const struct futex_key *key,
			 struct pi_state **ps, int tid, bool set_waiters, struct pi_owner_info *oi)
{
	uint32_t uval;
	if (guest_load32_locked(uaddr, &uval))
		return -EFAULT;
	if ((uval & FUTEX_TID_MASK) == (uint32_t)tid)
		return -EDEADLK;
	struct futex_q *top = futex_top_waiter(b, key);
	if (top)
		return attach_to_pi_state(uaddr, uval, top->pi_state, ps);
	if (!(uval & FUTEX_TID_MASK)) {
		/* Free: take it, keeping FUTEX_OWNER_DIED. */
		uint32_t newval = (uval & FUTEX_OWNER_DIED) | (uint32_t)tid;
		struct pi_state *fresh = NULL;
		if (set_waiters) {
			newval |= FUTEX_WAITERS;
			if (!(fresh = pi_state_new(key, tid)))
				return -ENOMEM;
		}
		int err = update_word(uaddr, uval, newval);
		if (err) {
			pi_state_put(fresh);
			return err;
		}
		if (fresh)
			*ps = fresh;
		return 1;
	}
	/* Held: the owner must come to the kernel to unlock. */
	int err = update_word(uaddr, uval, uval | FUTEX_WAITERS);
	if (err)
		return err;
	return attach_to_pi_owner(uaddr, uval | FUTEX_WAITERS, key, ps, oi);
}

int futex_pi_finish(gaddr_t uaddr, struct futex_q *q)
{
	int err = 0;
	while (q->pi_fixup) {
		/* The lock came from a dead owner: the word gets our TID with
		 * FUTEX_OWNER_DIED (Linux's fixup_pi_state_owner). */
		guest_prepare_write(uaddr, sizeof(uint32_t));
		guest_mem_lock();
		struct futex_bucket *b = atomic_load(&q->bucket);
		futex_bucket_lock(b);
		uint32_t uval, cur;
		err = guest_load32_locked(uaddr, &uval);
		while (!err) {
			uint32_t newval = (uint32_t)q->tid | FUTEX_WAITERS | FUTEX_OWNER_DIED;
			err = guest_cmpxchg32_locked(uaddr, uval, newval, &cur);
			if (err || cur == uval)
				break;
			uval = cur;
		}
		futex_bucket_unlock(b);
		guest_mem_unlock();
		if (err == GUEST_WORD_COW) {
			if ((err = guest_unshare_word(uaddr)))
				break;
			continue;
		}
		q->pi_fixup = false;
	}
	q_drop_pi(q);
	return err;
}

long futex_lock_pi(gaddr_t uaddr, unsigned flags, const struct futex_deadline *dl, bool trylock)
{
	struct futex_q q;
	futex_q_init(&q);
	struct pi_owner_info oi = { 0 };
	struct futex_bucket *b;
	for (;;) {
		int ret = futex_get_key(uaddr, flags, true, &q.key);
		if (ret)
			return ret;
		guest_prepare_write(uaddr, sizeof(uint32_t));
		guest_mem_lock();
		b = futex_q_lock(&q);
		ret = futex_lock_pi_atomic(uaddr, b, &q.key, &q.pi_state, q.tid, false, &oi);
		guest_mem_unlock();
		if (!ret)
			break;
		futex_q_unlock(b);
		if (ret == 1)
			return 0;
		if ((ret = futex_pi_retry(ret, uaddr, &oi)))
			return ret;
	}
	struct pi_state *ps = q.pi_state;
	if (!ps->owner) {
		/* A dead owner's lock that nobody took: ours at once. */
		ps->owner = q.tid;
		q.pi_fixup = true;
		futex_q_unlock(b);
		return futex_pi_finish(uaddr, &q);
	}
	if (trylock) {
		/* The FUTEX_WAITERS bit stays set, as on Linux. */
		pi_state_put(ps);
		futex_q_unlock(b);
		return -EAGAIN;
	}
	futex_queue(&q, b);
	futex_bucket_unlock(b);
	int r = futex_sleep(&q, 1, dl);
	if (futex_unqueue(&q)) { /* not handed the lock */
		q_drop_pi(&q);
		return r == -ETIMEDOUT ? -ETIMEDOUT : -ERESTARTNOINTR;
	}
	return futex_pi_finish(uaddr, &q);
}

/* ---- unlocking ------------------------------------------------------------- */

long futex_unlock_pi(gaddr_t uaddr, unsigned flags)
{
	uint32_t me = (uint32_t)futex_tid();
	for (;;) {
		uint32_t uval, cur;
		if (futex_load_guest(uaddr, &uval))
			return -EFAULT;
		if ((uval & FUTEX_TID_MASK) != me)
			return -EPERM;
		struct futex_key key;
		int err = futex_get_key(uaddr, flags, true, &key);
		if (err)
			return err;
		guest_prepare_write(uaddr, sizeof(uint32_t));
		struct futex_bucket *b = futex_hash(&key);
		struct wake_batch wb = { 0 };
		bool retry = false;
		guest_mem_lock();
		futex_bucket_lock(b);
		struct futex_q *top = futex_top_waiter(b, &key);
		if (top) {
			/* Hand it to the first waiter, with our word's consent. */
			struct pi_state *ps = top->pi_state;
			if (!ps || ps->owner != (int)me) {
				err = -EINVAL;
			} else {
				err = guest_cmpxchg32_locked(uaddr, uval, FUTEX_WAITERS | (uint32_t)top->tid, &cur);
				if (!err && cur != uval) {
					/* An unconditional unlock raced with a new
					 * waiter's FUTEX_WAITERS: again. */
					err = (cur & FUTEX_TID_MASK) == uval ? -EAGAIN : -EINVAL;
					retry = err == -EAGAIN;
				}
				if (!err) {
					ps->owner = top->tid;
					top->pi_owner = true;
					futex_wake_mark(top, &wb);
				}
			}
		} else {
			/* Nobody waits in the kernel: free the word, dropping
			 * FUTEX_WAITERS and FUTEX_OWNER_DIED. A word changed
			 * meanwhile is user space's problem (EAGAIN). */
			err = guest_cmpxchg32_locked(uaddr, uval, 0, &cur);
			if (!err && cur != uval)
				err = -EAGAIN;
		}
		futex_bucket_unlock(b);
		guest_mem_unlock();
		futex_wake_flush(&wb);
		if (err == GUEST_WORD_COW) {
			if (guest_unshare_word(uaddr))
				return -EFAULT;
			continue;
		}
		if (!retry)
			return err;
	}
}

/* ---- the owner's death ------------------------------------------------------ */

void futex_pi_exit(int tid)
{
	if (!atomic_load(&nr_pi_states))
		return;
	for (int i = 0; i < FUTEX_NR_BUCKETS; i++) {
		struct futex_bucket *b = futex_bucket_at(i);
		struct wake_batch wb = { 0 };
		futex_bucket_lock(b);
		/* Each lock it owns goes to its first waiter (queues are in
		 * arrival order), who writes its TID with FUTEX_OWNER_DIED. */
		for (struct futex_q *q = b->first; q; ) {
			struct pi_state *ps = q->pi_state;
			if (!ps || ps->owner != tid) {
				q = q->next;
				continue;
			}
			ps->owner = q->tid;
			q->pi_owner = true;
			q->pi_fixup = true;
			futex_wake_mark(q, &wb);
			q = b->first;
		}
		futex_bucket_unlock(b);
		futex_wake_flush(&wb);
	}
}
