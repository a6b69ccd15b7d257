/* futex while every process has one thread: a wake finds no waiter, and a
 * wait whose value matches can only end by its timeout or a signal (or
 * never, as on Linux). Real futexes come with threads. */
#include <time.h>
#include <linux/futex.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/ktime.h"
#include "mm/uaccess.h"
#include "mm/mm.h"
#include "platform/platform.h"
#include <unistd.h>

/* Sleep until dl (NULL: forever) or a signal: 0 on the timeout, or the
 * interrupted call's return: -ERESTARTSYS without a timeout; with one,
 * a restart block that waits on to the same deadline (Linux's
 * futex_wait_restart), so SIGSTOP/SIGCONT do not cut it short. */
static long futex_restart(struct restart_block *rb);

static long futex_sleep(gaddr_t uaddr, uint32_t val, const struct timespec *dl)
{
	for (;;) {
		int r = sleep_until(sleep_prepare(), dl);
		if (r == -ETIMEDOUT)
			return -ETIMEDOUT;
		if (r == -EINTR) {
			if (!dl)
				return -ERESTARTSYS;
			current->restart = (struct restart_block){ futex_restart,
				{ (int64_t)uaddr, val, dl->tv_sec, dl->tv_nsec } };
			return -ERESTART_RESTARTBLOCK;
		}
	}
}

static long futex_restart(struct restart_block *rb)
{
	gaddr_t uaddr = (gaddr_t)rb->a[0];
	uint32_t val = (uint32_t)rb->a[1], cur;
	struct timespec dl = { rb->a[2], rb->a[3] };
	if (copy_from_guest(&cur, uaddr, sizeof(cur)))
		return -EFAULT;
	if (cur != val)
		return -EAGAIN;
	return futex_sleep(uaddr, val, &dl);
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
		return 0;
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
		if (copy_from_guest(&val, uaddr, sizeof(val)))
			return -EFAULT;
		if (val != (uint32_t)a->a[2])
			return -EAGAIN;
		/* Nothing can wake it but a signal (or its timeout). */
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
		return futex_sleep(uaddr, val, dl);
	}
	default:
		kdebug("futex operation %d is not supported", op);
		return -ENOSYS;
	}
}
