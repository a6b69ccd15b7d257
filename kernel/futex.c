/* Futexes: keys, the hash of waiters, waiting and waking (WAIT, WAKE,
 * the bitset forms, WAKE_OP, futex_waitv), and what a thread's exit does
 * to futexes (robust lists, clear_child_tid). See kernel/futex.h. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kernel/futex_impl.h"
#include "kernel/ktime.h"
#include "kernel/signal.h"
#include "kernel/task.h"
#include "kernel/waitq.h"
#include "mm/mm.h"
#include "mm/uaccess.h"

static struct futex_bucket buckets[FUTEX_NR_BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
	for (int i = 0; i < FUTEX_NR_BUCKETS; i++)
		pthread_mutex_init(&buckets[i].lock, NULL);
}

struct futex_bucket *futex_bucket_at(int i)
{
	pthread_once(&buckets_once, buckets_init);
	return &buckets[i];
}

_Atomic unsigned futex_exit_gen;

/* ---- keys and buckets ------------------------------------------------- */

int futex_get_key(gaddr_t uaddr, unsigned flags, bool write, struct futex_key *key)
{
	if (uaddr & 3)
		return -EINVAL;
	if (uaddr > TASK_SIZE_MAX) /* access_ok checks where the word starts */
		return -EFAULT;
	struct mm *mm = current->proc->mm;
	if (!(flags & FLAGS_SHARED)) {
		*key = (struct futex_key){ mm, uaddr, KEY_PRIVATE };
		return 0;
	}
	uint64_t off;
	int r = mm_futex_backing(mm, uaddr, write, &off);
	if (r < 0)
		return r;
	*key = r ? (struct futex_key){ NULL, off, KEY_MEMFILE } : (struct futex_key){ mm, uaddr, KEY_MM_SHARED };
	return 0;
}

struct futex_bucket *futex_hash(const struct futex_key *key)
{
	pthread_once(&buckets_once, buckets_init);
	uint64_t h = (uint64_t)(uintptr_t)key->mm * 0x9e3779b97f4a7c15ULL ^ key->addr ^ (uint64_t)key->kind << 62;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return &buckets[h & (FUTEX_NR_BUCKETS - 1)];
}

void futex_bucket_lock(struct futex_bucket *b) { pthread_mutex_lock(&b->lock); }
void futex_bucket_unlock(struct futex_bucket *b) { pthread_mutex_unlock(&b->lock); }

void futex_double_lock(struct futex_bucket *a, struct futex_bucket *b)
{
	if (a > b) {
		struct futex_bucket *t = a;
		a = b;
		b = t;
	}
	pthread_mutex_lock(&a->lock);
	if (a != b)
		pthread_mutex_lock(&b->lock);
}

void futex_double_unlock(struct futex_bucket *a, struct futex_bucket *b)
{
	pthread_mutex_unlock(&a->lock);
	if (a != b)
		pthread_mutex_unlock(&b->lock);
}

void futex_q_init(struct futex_q *q)
{
	*q = (struct futex_q){ .bitset = FUTEX_BITSET_MATCH_ANY };
	q->tid = futex_tid();
	q->word = &current->wake_word;
}

struct futex_bucket *futex_q_lock(struct futex_q *q)
{
	struct futex_bucket *b = futex_hash(&q->key);
	/* Counted before the lock: a waker that misses the count cannot
	 * have missed the value the waiter is about to read. */
	atomic_fetch_add(&b->waiters, 1);
	atomic_store(&q->bucket, b);
	pthread_mutex_lock(&b->lock);
	return b;
}

void futex_q_unlock(struct futex_bucket *b)
{
	pthread_mutex_unlock(&b->lock);
	atomic_fetch_sub(&b->waiters, 1);
}

void futex_queue(struct futex_q *q, struct futex_bucket *b)
{
	q->next = NULL;
	q->prev = b->last;
	if (b->last)
		b->last->next = q;
	else
		b->first = q;
	b->last = q;
	atomic_store(&q->queued, true);
}

static void list_del(struct futex_bucket *b, struct futex_q *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		b->first = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		b->last = q->prev;
	q->next = q->prev = NULL;
	atomic_fetch_sub(&b->waiters, 1);
}

void futex_unlink(struct futex_q *q)
{
	list_del(atomic_load(&q->bucket), q);
	atomic_store(&q->queued, false);
}

void futex_requeue_q(struct futex_q *q, struct futex_bucket *b, const struct futex_key *key)
{
	struct futex_bucket *from = atomic_load(&q->bucket);
	q->key = *key;
	if (from == b)
		return;
	/* Still queued throughout: its waiter sleeps on. */
	list_del(from, q);
	atomic_fetch_add(&b->waiters, 1);
	atomic_store(&q->bucket, b);
	futex_queue(q, b);
}

struct futex_q *futex_top_waiter(struct futex_bucket *b, const struct futex_key *key)
{
	for (struct futex_q *q = b->first; q; q = q->next)
		if (key_match(&q->key, key))
			return q;
	return NULL;
}

static void host_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void futex_wake_mark(struct futex_q *q, struct wake_batch *wb)
{
	_Atomic uint32_t *w = q->word;
	futex_unlink(q);
	/* After `queued` is clear: a waiter that still saw it set took its
	 * snapshot of the word before this bump (both seq_cst). */
	atomic_fetch_add(w, 1);
	if (wb->n < (int)ARRAY_SIZE(wb->words))
		wb->words[wb->n++] = w;
	else
		host_wake(w);
}

/* The host wake-up may reach a word whose thread has already gone: the
 * memory is the kernel's own heap, and every futex user in it takes
 * spurious wake-ups. */
void futex_wake_flush(struct wake_batch *wb)
{
	for (int i = 0; i < wb->n; i++)
		host_wake(wb->words[i]);
	wb->n = 0;
}

int futex_unqueue(struct futex_q *q)
{
	for (;;) {
		struct futex_bucket *b = atomic_load(&q->bucket);
		pthread_mutex_lock(&b->lock);
		if (b != atomic_load(&q->bucket)) { /* requeued meanwhile */
			pthread_mutex_unlock(&b->lock);
			continue;
		}
		int was_queued = atomic_load(&q->queued);
		if (was_queued)
			futex_unlink(q);
		pthread_mutex_unlock(&b->lock);
		return was_queued;
	}
}

/* ---- sleeping ---------------------------------------------------------- */

int futex_sleep(struct futex_q *qs, int n, const struct futex_deadline *dl)
{
	for (;;) {
		uint32_t snap = sleep_prepare();
		for (int i = 0; i < n; i++)
			if (!atomic_load(&qs[i].queued))
				return 0;
		struct timespec host_dl, *hp = NULL;
		if (dl) {
			int64_t left = dl->ns - ktime_sandbox_ns(dl->clock);
			if (left <= 0)
				return -ETIMEDOUT;
			struct timespec rel = { left / NSEC_PER_SEC, left % NSEC_PER_SEC };
			host_dl = deadline_after(&rel);
			hp = &host_dl;
		}
		/* Woken or timed out on the host's clock: look again (the
		 * sandbox's clock decides the timeout). */
		if (sleep_until(snap, hp) == -EINTR)
			return -EINTR;
	}
}

int futex_wait_setup(gaddr_t uaddr, uint32_t val, struct futex_q *q, const struct futex_key *forbid)
{
	uint32_t uval;
	guest_mem_lock();
	struct futex_bucket *b = futex_q_lock(q);
	int err = guest_load32_locked(uaddr, &uval);
	guest_mem_unlock();
	if (!err && uval != val)
		err = -EAGAIN;
	if (!err && forbid && key_match(&q->key, forbid))
		err = -EINVAL;
	if (err) {
		futex_q_unlock(b);
		return err;
	}
	futex_queue(q, b);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* ---- WAIT and WAKE ------------------------------------------------------ */

long futex_wait(gaddr_t uaddr, unsigned flags, uint32_t val, const struct futex_deadline *dl,
		uint32_t bitset)
{
	if (!bitset)
		return -EINVAL;
	struct futex_q q;
	futex_q_init(&q);
	q.bitset = bitset;
	for (;;) {
		int err = futex_get_key(uaddr, flags, false, &q.key);
		if (!err)
			err = futex_wait_setup(uaddr, val, &q, NULL);
		if (err)
			return err;
		int r = futex_sleep(&q, 1, dl);
		/* Woken, whatever else happened meanwhile: success. */
		if (!futex_unqueue(&q))
			return 0;
		if (r == -ETIMEDOUT)
			return -ETIMEDOUT;
		if (r == -EINTR)
			return -ERESTARTSYS;
	}
}

/* Wake up to nr waiters on key whose bitset meets `bitset` in b (locked);
 * the count, or -EINVAL if a PI waiter is among them (Linux refuses to
 * wake those). nr <= 0 still wakes one, as on Linux. */
static int wake_waiters(struct futex_bucket *b, const struct futex_key *key, int nr, uint32_t bitset,
			struct wake_batch *wb)
{
	int woken = 0;
	for (struct futex_q *q = b->first, *next; q; q = next) {
		next = q->next;
		if (!key_match(&q->key, key))
			continue;
		if (q->pi_state || q->requeue_pi)
			return -EINVAL;
		if (!(q->bitset & bitset))
			continue;
		futex_wake_mark(q, wb);
		if (++woken >= nr)
			break;
	}
	return woken;
}

long futex_wake(gaddr_t uaddr, unsigned flags, int nr, uint32_t bitset)
{
	if (!bitset)
		return -EINVAL;
	struct futex_key key;
	int err = futex_get_key(uaddr, flags, false, &key);
	if (err)
		return err;
	struct futex_bucket *b = futex_hash(&key);
	if (!atomic_load(&b->waiters))
		return 0;
	struct wake_batch wb = { 0 };
	pthread_mutex_lock(&b->lock);
	int ret = wake_waiters(b, &key, nr, bitset, &wb);
	pthread_mutex_unlock(&b->lock);
	futex_wake_flush(&wb);
	return ret;
}

long futex_wake_kernel(gaddr_t uaddr, bool shared, int nr)
{
	return futex_wake(uaddr, shared ? FLAGS_SHARED : 0, nr, FUTEX_BITSET_MATCH_ANY);
}

/* FUTEX_WAKE_OP's encoded operation on the word at uaddr2 (current mm
 * locked): 1 if its comparison holds, 0 if not, FUTEX_RETRY_COW, -EFAULT,
 * or -ENOSYS (an unknown operation changes nothing; an unknown
 * comparison comes after the change, as on Linux). */
static int wake_op_apply(uint32_t encoded, gaddr_t uaddr2)
{
	unsigned op = (encoded & 0x70000000) >> 28, cmp = (encoded & 0x0f000000) >> 24;
	int32_t oparg = (int32_t)(encoded << 8) >> 20, cmparg = (int32_t)(encoded << 20) >> 20;
	if (encoded & ((uint32_t)FUTEX_OP_OPARG_SHIFT << 28)) {
		/* Linux masks bad shifts (and complains in its log). */
		oparg = (int32_t)(1u << (oparg & 31));
	}
	if (op > FUTEX_OP_XOR)
		return -ENOSYS;
	uint32_t old;
	int err = guest_op32_locked(uaddr2, (int)op, (uint32_t)oparg, &old);
	if (err)
		return err == GUEST_WORD_COW ? FUTEX_RETRY_COW : err;
	int32_t o = (int32_t)old;
	switch (cmp) {
	case FUTEX_OP_CMP_EQ: return o == cmparg;
	case FUTEX_OP_CMP_NE: return o != cmparg;
	case FUTEX_OP_CMP_LT: return o < cmparg;
	case FUTEX_OP_CMP_GE: return o >= cmparg;
	case FUTEX_OP_CMP_LE: return o <= cmparg;
	case FUTEX_OP_CMP_GT: return o > cmparg;
	default: return -ENOSYS;
	}
}

long futex_wake_op(gaddr_t uaddr1, unsigned flags, gaddr_t uaddr2, int nr1, int nr2, uint32_t op)
{
	struct futex_key k1, k2;
	for (;;) {
		int err = futex_get_key(uaddr1, flags, false, &k1);
		if (!err)
			err = futex_get_key(uaddr2, flags, true, &k2);
		if (err)
			return err;
		struct futex_bucket *b1 = futex_hash(&k1), *b2 = futex_hash(&k2);
		guest_mem_lock();
		futex_double_lock(b1, b2);
		int op_ret = wake_op_apply(op, uaddr2);
		guest_mem_unlock();
		if (op_ret < 0 || op_ret == FUTEX_RETRY_COW) {
			futex_double_unlock(b1, b2);
			if (op_ret != FUTEX_RETRY_COW)
				return op_ret;
			if (guest_unshare_word(uaddr2))
				return -EFAULT;
			continue;
		}
		struct wake_batch wb = { 0 };
		int ret = wake_waiters(b1, &k1, nr1, FUTEX_BITSET_MATCH_ANY, &wb);
		if (ret >= 0 && op_ret > 0) {
			int more = wake_waiters(b2, &k2, nr2, FUTEX_BITSET_MATCH_ANY, &wb);
			ret = more < 0 ? more : ret + more;
		}
		futex_double_unlock(b1, b2);
		futex_wake_flush(&wb);
		return ret;
	}
}

/* ---- futex_waitv -------------------------------------------------------- */

/* Take every waiter of qs[0..n) out: the index of the last one a waker
 * had taken out, or -1 (Linux's futex_unqueue_multiple). */
static int unqueue_multiple(struct futex_q *qs, int n)
{
	int woken = -1;
	for (int i = 0; i < n; i++)
		if (!futex_unqueue(&qs[i]))
			woken = i;
	return woken;
}

long futex_wait_multiple(struct futex_q *qs, const uint64_t *uaddrs, const uint32_t *vals,
			 const unsigned *flags, int n, const struct futex_deadline *dl)
{
	for (int i = 0; i < n; i++) {
		int err = futex_get_key(uaddrs[i], flags[i], false, &qs[i].key);
		if (err)
			return err;
	}
	for (;;) {
		for (int i = 0; i < n; i++) {
			int err = futex_wait_setup(uaddrs[i], vals[i], &qs[i], NULL);
			if (!err)
				continue;
			/* A futex woken meanwhile wins over any error. */
			int woken = unqueue_multiple(qs, i);
			return woken >= 0 ? woken : err;
		}
		int r = futex_sleep(qs, n, dl);
		int woken = unqueue_multiple(qs, n);
		if (woken >= 0)
			return woken;
		if (r == -ETIMEDOUT)
			return -ETIMEDOUT;
		if (r == -EINTR)
			return -ERESTARTSYS;
	}
}

/* ---- thread exit: robust lists and clear_child_tid ---------------------- */

/* struct robust_list_head on x86-64. */
struct robust_head {
	uint64_t next;          /* struct robust_list *, bit 0: a PI futex */
	int64_t futex_offset;   /* from a list entry to its futex word */
	uint64_t op_pending;    /* an entry being added or removed */
};

/* The dying thread holds the futex at uaddr (Linux's handle_futex_death):
 * mark it FUTEX_OWNER_DIED and wake one waiter. 0, or -1 to stop the
 * walk (a bad address). */
static int handle_futex_death(gaddr_t uaddr, int tid, bool pi, bool pending)
{
	if (uaddr & 3)
		return -1;
	for (;;) {
		uint32_t uval, cur;
		if (futex_load_guest(uaddr, &uval))
			return -1;
		/* An unlock (or a waiter's take-over) cut short by death: the
		 * word is free, but a waiter may be left asleep. */
		if (pending && !pi && !uval) {
			futex_wake_kernel(uaddr, true, 1);
			return 0;
		}
		if ((uval & FUTEX_TID_MASK) != (uint32_t)tid)
			return 0;
		uint32_t mval = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		if (futex_atomic_cmpxchg_guest(uaddr, uval, mval, &cur))
			return -1;
		if (cur != uval)
			continue;
		/* PI waiters get the lock from futex_pi_exit. */
		if (!pi && (uval & FUTEX_WAITERS))
			futex_wake_kernel(uaddr, true, 1);
		return 0;
	}
}

static int fetch_entry(gaddr_t at, gaddr_t *entry, bool *pi)
{
	uint64_t v;
	if (copy_from_guest(&v, at, sizeof(v)))
		return -EFAULT;
	*entry = v & ~1ULL;
	*pi = v & 1;
	return 0;
}

/* Linux's exit_robust_list: every sign of a broken list ends the walk. */
static void exit_robust_list(gaddr_t head, int tid)
{
	gaddr_t entry, pending;
	bool pi, pending_pi;
	int64_t off;
	if (fetch_entry(head, &entry, &pi) ||
	    copy_from_guest(&off, head + offsetof(struct robust_head, futex_offset), sizeof(off)) ||
	    fetch_entry(head + offsetof(struct robust_head, op_pending), &pending, &pending_pi))
		return;
	for (int limit = ROBUST_LIST_LIMIT; entry != head; ) {
		gaddr_t next = 0;
		bool next_pi = false;
		int rc = fetch_entry(entry, &next, &next_pi);
		/* The pending entry may be on the list too: once only. */
		if (entry != pending && handle_futex_death(entry + (uint64_t)off, tid, pi, false))
			return;
		if (rc)
			return;
		entry = next;
		pi = next_pi;
		if (!--limit)
			break;
	}
	if (pending)
		handle_futex_death(pending + (uint64_t)off, tid, pending_pi, true);
}

/* Whether another thread, or another process (CLONE_VM), uses t's
 * memory: only they can wait for its clear_child_tid word (Linux's
 * mm_users > 1). */
static bool memory_shared(struct thread *t)
{
	struct process *p = t->proc;
	pthread_mutex_lock(&p->lock);
	bool shared = p->nr_threads > 1 || (p->mm && __atomic_load_n(&p->mm->users, __ATOMIC_ACQUIRE) > 1);
	pthread_mutex_unlock(&p->lock);
	return shared;
}

/* Linux's futex_exit_release and mm_release. */
static void release(struct thread *t)
{
	atomic_fetch_add(&futex_exit_gen, 1);
	if (t->robust_list)
		exit_robust_list(t->robust_list, t->tid);
	t->robust_list = 0;
	futex_pi_exit(t->tid);
	if (t->clear_child_tid && memory_shared(t)) {
		uint32_t zero = 0;
		copy_to_guest(t->clear_child_tid, &zero, sizeof(zero)); /* a bad pointer: tough luck */
		futex_wake_kernel(t->clear_child_tid, true, 1);
	}
	t->clear_child_tid = 0;
}

void futex_thread_exit(struct thread *t)
{
	release(t);
}

void futex_exec_release(struct thread *t)
{
	release(t);
}
