/* futex: WAIT and WAKE (and their bitset forms) between the threads of a
 * process, keyed by (mm, address). A first cut for threads: no requeue,
 * no PI, no cross-process keys yet. */
#include <time.h>
#include <linux/futex.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/ktime.h"
#include "mm/uaccess.h"
#include "mm/mm.h"
#include "platform/platform.h"
#include <unistd.h>

struct futex_waiter {
	struct futex_waiter *next;
	struct mm *mm;
	gaddr_t uaddr;
	uint32_t bitset;
	struct thread *t;
	bool woken;
};

#define FUTEX_BUCKETS 64
static struct futex_bucket {
	pthread_mutex_t lock; /* a leaf, apart from reading guest memory */
	struct futex_waiter *head;
} buckets[FUTEX_BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
	for (int i = 0; i < FUTEX_BUCKETS; i++)
		pthread_mutex_init(&buckets[i].lock, NULL);
}

static struct futex_bucket *bucket_of(struct mm *mm, gaddr_t uaddr)
{
	pthread_once(&buckets_once, buckets_init);
	uint64_t h = ((uint64_t)(uintptr_t)mm ^ uaddr) * 0x9e3779b97f4a7c15ULL;
	return &buckets[h >> 58];
}

static void unqueue(struct futex_bucket *b, struct futex_waiter *w)
{
	for (struct futex_waiter **ww = &b->head; *ww; ww = &(*ww)->next)
		if (*ww == w) {
			*ww = w->next;
			break;
		}
}

/* Wake up to n waiters on uaddr whose bitset meets bitset. */
static long futex_wake(struct mm *mm, gaddr_t uaddr, uint32_t bitset, int n)
{
	struct futex_bucket *b = bucket_of(mm, uaddr);
	long woken = 0;
	pthread_mutex_lock(&b->lock);
	for (struct futex_waiter **ww = &b->head; *ww && woken < n;) {
		struct futex_waiter *w = *ww;
		if (w->mm == mm && w->uaddr == uaddr && (w->bitset & bitset)) {
			*ww = w->next;
			__atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
			thread_wake(w->t);
			woken++;
		} else {
			ww = &w->next;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return woken;
}

void futex_thread_exit(struct thread *t)
{
	if (t->clear_child_tid) {
		uint32_t zero = 0;
		if (!copy_to_guest(t->clear_child_tid, &zero, sizeof(zero)))
			futex_wake(t->proc->mm, t->clear_child_tid, ~0u, 1);
		t->clear_child_tid = 0;
	}
}

/* Sleep until dl (NULL: forever) or a signal: 0 on the timeout, or the
 * interrupted call's return: -ERESTARTSYS without a timeout; with one,
 * a restart block that waits on to the same deadline (Linux's
 * futex_wait_restart), so SIGSTOP/SIGCONT do not cut it short. */
static long futex_restart(struct restart_block *rb);

/* Queue on uaddr if it still holds val, and sleep until woken, dl or a
 * signal: 0 when woken, -EAGAIN, -EFAULT, -ETIMEDOUT, or the
 * interrupted call's return. */
static long futex_sleep(gaddr_t uaddr, uint32_t val, uint32_t bitset, const struct timespec *dl)
{
	struct mm *mm = current->proc->mm;
	struct futex_bucket *b = bucket_of(mm, uaddr);
	struct futex_waiter w = { .mm = mm, .uaddr = uaddr, .bitset = bitset, .t = current };
	uint32_t cur;
	pthread_mutex_lock(&b->lock);
	if (copy_from_guest(&cur, uaddr, sizeof(cur))) {
		pthread_mutex_unlock(&b->lock);
		return -EFAULT;
	}
	if (cur != val) {
		pthread_mutex_unlock(&b->lock);
		return -EAGAIN;
	}
	w.next = b->head;
	b->head = &w;
	pthread_mutex_unlock(&b->lock);
	long ret = 0;
	for (;;) {
		uint32_t snap = sleep_prepare();
		if (__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE))
			break;
		int r = sleep_until(snap, dl);
		if (__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE))
			break;
		if (r == -ETIMEDOUT) {
			ret = -ETIMEDOUT;
			break;
		}
		if (r == -EINTR) {
			if (!dl) {
				ret = -ERESTARTSYS;
			} else {
				current->restart = (struct restart_block){ futex_restart,
					{ (int64_t)uaddr, val, dl->tv_sec, dl->tv_nsec } };
				ret = -ERESTART_RESTARTBLOCK;
			}
			break;
		}
	}
	pthread_mutex_lock(&b->lock);
	if (!w.woken)
		unqueue(b, &w);
	pthread_mutex_unlock(&b->lock);
	return w.woken ? 0 : ret;
}

static long futex_restart(struct restart_block *rb)
{
	gaddr_t uaddr = (gaddr_t)rb->a[0];
	uint32_t val = (uint32_t)rb->a[1];
	struct timespec dl = { rb->a[2], rb->a[3] };
	return futex_sleep(uaddr, val, ~0u, &dl);
}

long sys_futex(const struct sysargs *a)
{
	gaddr_t uaddr = a->a[0];
	int op = (int)a->a[1] & FUTEX_CMD_MASK;
	uint32_t val;

	if (uaddr & 3)
		return -EINVAL;
	switch (op) {
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (op == FUTEX_WAKE_BITSET && (uint32_t)a->a[5] == 0)
			return -EINVAL;
		if ((int)a->a[2] <= 0)
			return 0;
		return futex_wake(current->proc->mm, uaddr, op == FUTEX_WAKE ? ~0u : (uint32_t)a->a[5],
				  (int)a->a[2]);
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		if (op == FUTEX_WAIT_BITSET && (uint32_t)a->a[5] == 0)
			return -EINVAL;
		struct timespec ts;
		bool timed = a->a[3] != 0;
		if (timed) {
			if (copy_from_guest(&ts, a->a[3], sizeof(ts)))
				return -EFAULT;
			if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
				return -EINVAL;
		}
		val = (uint32_t)a->a[2];
		struct timespec deadline, *dl = NULL;
		if (timed && op == FUTEX_WAIT) {
			deadline = deadline_after(&ts);
			dl = &deadline;
		} else if (timed) {
			/* WAIT_BITSET's timeout is absolute: monotonic, or
			 * realtime with FUTEX_CLOCK_REALTIME. */
			clockid_t clk = ((int)a->a[1] & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
			struct timespec now;
			ktime_get(clk, &now);
			int64_t ns = (ts.tv_sec - now.tv_sec) * 1000000000LL + (ts.tv_nsec - now.tv_nsec);
			struct timespec rel = { ns > 0 ? ns / 1000000000LL : 0, ns > 0 ? ns % 1000000000LL : 0 };
			deadline = deadline_after(&rel);
			dl = &deadline;
		}
		return futex_sleep(uaddr, val, op == FUTEX_WAIT ? ~0u : (uint32_t)a->a[5], dl);
	}
	default:
		kdebug("futex operation %d is not supported", op);
		return -ENOSYS;
	}
}
