/* Moving waiters between futexes (Linux's kernel/futex/requeue.c):
 * REQUEUE and CMP_REQUEUE, and the PI pair WAIT_REQUEUE_PI (wait on a
 * plain futex, return owning a PI futex) and CMP_REQUEUE_PI (wake the
 * first such waiter with the PI lock taken for it if it is free, move the
 * others to the PI lock's waiters). */
#include <linux/futex.h>
#include "kernel/futex_impl.h"
#include "kernel/signal.h"
#include "mm/uaccess.h"

/* Take uaddr2 for the first waiter on k1 if the lock is free (Linux's
 * futex_proxy_trylock_atomic): 1 (taken, the waiter woken), 0 (held:
 * *ps is its state, the waiter is moved by the caller), or an error. */
static int proxy_trylock(gaddr_t uaddr2, struct futex_bucket *b1, struct futex_bucket *b2,
			 const struct futex_key *k1, const struct futex_key *k2, struct pi_state **ps,
			 bool set_waiters, struct pi_owner_info *oi, struct wake_batch *wb)
{
	uint32_t cur;
	if (guest_load32_locked(uaddr2, &cur))
		return -EFAULT;
	struct futex_q *top = futex_top_waiter(b1, k1);
	if (!top)
		return 0;
	/* Only WAIT_REQUEUE_PI waiters, and for this very PI futex. */
	if (!top->requeue_pi || top->pi_state || !key_match(&top->requeue_key, k2))
		return -EINVAL;
	int ret = futex_lock_pi_atomic(uaddr2, b2, k2, ps, top->tid, set_waiters, oi);
	if (ret == 1) {
		top->requeue_state = RQ_LOCKED;
		futex_wake_mark(top, wb);
	}
	return ret;
}

long futex_requeue(gaddr_t uaddr1, unsigned flags, gaddr_t uaddr2, int nr_wake, int nr_requeue,
		   const uint32_t *cmpval, bool requeue_pi)
{
	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	/* Requeue-PI moves to another futex and wakes only the waiter it
	 * took the lock for. */
	if (requeue_pi && (uaddr1 == uaddr2 || nr_wake != 1))
		return -EINVAL;
	struct pi_owner_info oi = { 0 };
	for (;;) {
		struct futex_key k1, k2;
		int ret = futex_get_key(uaddr1, flags, false, &k1);
		if (!ret)
			ret = futex_get_key(uaddr2, flags, requeue_pi, &k2);
		if (ret)
			return ret;
		if (requeue_pi && key_match(&k1, &k2))
			return -EINVAL; /* shared futexes: the same word */
		if (requeue_pi)
			guest_prepare_write(uaddr2, sizeof(uint32_t));
		struct futex_bucket *b1 = futex_hash(&k1), *b2 = futex_hash(&k2);
		struct wake_batch wb = { 0 };
		struct pi_state *ps = NULL;
		int count = 0;
		/* Waiters moving to b2 count there before the lock (see
		 * futex_q_lock). */
		atomic_fetch_add(&b2->waiters, 1);
		guest_mem_lock();
		futex_double_lock(b1, b2);
		if (cmpval) {
			uint32_t cur;
			ret = guest_load32_locked(uaddr1, &cur);
			if (!ret && cur != *cmpval)
				ret = -EAGAIN;
		}
		bool again = false;
		if (!ret && requeue_pi) {
			ret = proxy_trylock(uaddr2, b1, b2, &k1, &k2, &ps, nr_requeue != 0, &oi, &wb);
			if (ret == 1) {
				count++;
				ret = 0;
			} else if (ret) {
				again = ret == -EAGAIN || ret >= FUTEX_RETRY_COW;
			}
		}
		for (struct futex_q *q = b1->first, *next; !ret && q; q = next) {
			next = q->next;
			if (count - nr_wake >= nr_requeue)
				break;
			if (!key_match(&q->key, &k1))
				continue;
			/* WAIT_REQUEUE_PI pairs with CMP_REQUEUE_PI only. */
			if (requeue_pi != q->requeue_pi || q->pi_state) {
				ret = -EINVAL;
				break;
			}
			if (!requeue_pi) {
				if (++count <= nr_wake)
					futex_wake_mark(q, &wb);
				else
					futex_requeue_q(q, b2, &k2);
				continue;
			}
			if (!key_match(&q->requeue_key, &k2)) {
				ret = -EINVAL;
				break;
			}
			if (ps->owner == q->tid) { /* it would wait for itself */
				ret = -EDEADLK;
				break;
			}
			pi_state_get(ps);
			q->pi_state = ps;
			if (!ps->owner) {
				/* A dead owner's lock nobody took: this one's. */
				ps->owner = q->tid;
				q->pi_owner = q->pi_fixup = true;
				q->requeue_state = RQ_LOCKED;
				futex_wake_mark(q, &wb);
			} else {
				futex_requeue_q(q, b2, &k2);
				q->requeue_state = RQ_DONE;
			}
			count++;
		}
		pi_state_put(ps); /* the reference proxy_trylock took */
		futex_double_unlock(b1, b2);
		guest_mem_unlock();
		atomic_fetch_sub(&b2->waiters, 1);
		futex_wake_flush(&wb);
		if (again) {
			if ((ret = futex_pi_retry(ret, uaddr2, &oi)))
				return ret;
			continue;
		}
		return ret ? ret : count;
	}
}

long futex_wait_requeue_pi(gaddr_t uaddr, unsigned flags, uint32_t val,
			   const struct futex_deadline *dl, gaddr_t uaddr2)
{
	if (uaddr == uaddr2)
		return -EINVAL;
	struct futex_q q;
	futex_q_init(&q);
	q.requeue_pi = true;
	int err = futex_get_key(uaddr2, flags, true, &q.requeue_key);
	if (!err)
		err = futex_get_key(uaddr, flags, false, &q.key);
	if (!err)
		err = futex_wait_setup(uaddr, val, &q, &q.requeue_key);
	if (err)
		return err;
	int r = futex_sleep(&q, 1, dl);
	if (futex_unqueue(&q)) {
		/* Not given the lock: still on the first futex (woken early),
		 * or waiting for the PI lock after the requeue, where a signal
		 * makes EWOULDBLOCK (a restart would find the value changed). */
		if (q.requeue_state == RQ_DONE) {
			futex_pi_finish(uaddr2, &q);
			return r == -ETIMEDOUT ? -ETIMEDOUT : -EAGAIN;
		}
		if (r == -ETIMEDOUT)
			return -ETIMEDOUT;
		return r == -EINTR ? -ERESTARTNOINTR : -EAGAIN;
	}
	/* The lock is ours: taken by the requeue, or handed over later. */
	return futex_pi_finish(uaddr2, &q);
}
