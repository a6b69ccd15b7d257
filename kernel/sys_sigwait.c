/* Waiting for signals: rt_sigsuspend, pause, rt_sigtimedwait, and
 * restart_syscall, which resumes a call interrupted by a signal that ran
 * no handler. */
#include <string.h>
#include <time.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define KSIGSET_SIZE 8

/* Sleep until a signal is pending (or the thread must exit). */
static void wait_for_signal(void)
{
	while (!signal_pending())
		sleep_until(sleep_prepare(), NULL);
}

long sys_rt_sigsuspend(const struct sysargs *a)
{
	uint64_t mask;
	if (a->a[1] != KSIGSET_SIZE)
		return -EINVAL;
	if (copy_from_guest(&mask, a->a[0], sizeof(mask)))
		return -EFAULT;
	uint64_t old = current->sigmask;
	sigmask_set(mask);
	wait_for_signal();
	/* The handler's frame saves the old mask; it comes back after. */
	sigmask_restore_after_delivery(old);
	return -ERESTARTNOHAND;
}

long sys_pause(const struct sysargs *a)
{
	wait_for_signal();
	return -ERESTARTNOHAND;
}

struct ktimespec {
	int64_t tv_sec, tv_nsec;
};

long sys_rt_sigtimedwait(const struct sysargs *a)
{
	uint64_t these;
	struct ktimespec ts;
	struct timespec deadline, *dl = NULL;
	if (a->a[3] != KSIGSET_SIZE)
		return -EINVAL;
	if (copy_from_guest(&these, a->a[0], sizeof(these)))
		return -EFAULT;
	if (a->a[2]) {
		if (copy_from_guest(&ts, a->a[2], sizeof(ts)))
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
			return -EINVAL;
		struct timespec rel = { ts.tv_sec, ts.tv_nsec };
		deadline = deadline_after(&rel);
		dl = &deadline;
	}
	these &= ~SIG_UNBLOCKABLE;
	siginfo_t info;
	int sig = signal_dequeue_mask(these, &info);
	if (!sig) {
		/* Linux: the awaited signals are unblocked while we sleep (so
		 * their sending wakes us), the old mask kept as real_blocked. */
		struct thread *t = current;
		uint64_t old = t->sigmask;
		t->real_blocked = old;
		sigmask_set(old & ~these);
		int r = 0;
		while (!signal_pending() && r != -ETIMEDOUT)
			r = sleep_until(sleep_prepare(), dl);
		sigmask_set(old);
		t->real_blocked = 0;
		sig = signal_dequeue_mask(these, &info);
		if (!sig)
			return r == -ETIMEDOUT ? -EAGAIN : -EINTR;
	}
	if (a->a[1] && copy_to_guest(a->a[1], &info, sizeof(info)))
		return -EFAULT;
	return sig;
}

long sys_restart_syscall(const struct sysargs *a)
{
	struct restart_block *rb = &current->restart;
	long (*fn)(struct restart_block *) = rb->fn;
	rb->fn = NULL;
	return fn ? fn(rb) : -EINTR;
}
