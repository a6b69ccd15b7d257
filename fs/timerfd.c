/* timerfd: a timer as a file (Linux's fs/timerfd.c). An expiry counts one
 * tick and wakes readers; a periodic timer is not re-armed then but when
 * the count is read (or timerfd_gettime/settime looks), which adds the
 * periods that passed meanwhile, as Linux does. read returns the count as
 * 8 bytes and waits while it is 0. The timer belongs to the file: shared
 * across fork, kept across exec. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include "fs/file.h"
#include "fs/poll.h"
#include "kernel/ktime.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/timers.h"
#include "mm/copy.h"
#include "mm/uaccess.h"

#ifndef TFD_TIMER_CANCEL_ON_SET
#define TFD_TIMER_CANCEL_ON_SET (1 << 1)
#endif
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

struct timerfd {
	atomic_int refs;     /* the file and poll-table pins */
	struct waitq wq;
	clockid_t clockid;   /* as created (the alarm clocks need a capability) */
	/* timers_lock */
	struct ktimer k;
	uint64_t ticks;
	bool expired;        /* fired and not yet re-armed */
};

#define tfd_of(kt) ((struct timerfd *)((char *)(kt) - offsetof(struct timerfd, k)))

static struct timerfd *tfd_ref(struct timerfd *t)
{
	atomic_fetch_add(&t->refs, 1);
	return t;
}

static void tfd_put(void *obj)
{
	struct timerfd *t = obj;
	if (atomic_fetch_sub(&t->refs, 1) == 1)
		free(t);
}

static const struct file_ops timerfd_ops;

/* expires stays: read and gettime count the periods from it. */
static void tfd_fire(struct ktimer *k, int64_t now)
{
	struct timerfd *t = tfd_of(k);
	t->expired = true;
	t->ticks++;
	if (waitq_active(&t->wq))
		waitq_wake_all(&t->wq);
}

/* A periodic timer that fired: re-arm it past now, counting the periods
 * passed beyond the tick already counted (timers_lock held). */
static void tfd_catch_up(struct timerfd *t)
{
	if (!t->expired || !t->k.interval)
		return;
	t->expired = false;
	int64_t n = ktimer_forward(&t->k, ktimer_now(&t->k));
	if (n > 1)
		t->ticks += n - 1;
	ktimer_start(&t->k, t->k.expires);
}

static int64_t tfd_remaining(struct timerfd *t)
{
	if (!t->k.expires || t->expired)
		return 0;
	int64_t left = t->k.expires - ktimer_now(&t->k);
	return left > 0 ? left : 0;
}

static ssize_t tfd_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct timerfd *t = f->priv;
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (total < sizeof(uint64_t))
		return -EINVAL;
	bool nonblock = (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT);
	struct wait_entry w;
	int r = 0;
	pthread_mutex_lock(&timers_lock);
	if (!t->ticks && !nonblock) {
		waitq_add(&t->wq, &w);
		for (;;) {
			uint32_t snap = sleep_prepare();
			if (t->ticks)
				break;
			pthread_mutex_unlock(&timers_lock);
			r = sleep_until(snap, NULL);
			pthread_mutex_lock(&timers_lock);
			if (r && !t->ticks) {
				r = -ERESTARTSYS;
				break;
			}
			r = 0;
		}
		waitq_remove(&w);
	}
	uint64_t ticks = t->ticks;
	if (ticks) {
		tfd_catch_up(t);
		ticks = t->ticks;
		t->ticks = 0;
		t->expired = false;
	}
	pthread_mutex_unlock(&timers_lock);
	if (!ticks)
		return r ? r : -EAGAIN;
	const char *src = (const char *)&ticks;
	size_t done = 0;
	for (int i = 0; i < n && done < sizeof(ticks); i++) {
		size_t c = MIN(iov[i].iov_len, sizeof(ticks) - done);
		if (raw_copy(iov[i].iov_base, src + done, c))
			return -EFAULT;
		done += c;
	}
	return sizeof(ticks);
}

static unsigned tfd_poll(struct file *f, struct poll_table *pt)
{
	struct timerfd *t = f->priv;
	if (pt && pt->queue)
		poll_wait_obj(&t->wq, pt, tfd_put, tfd_ref(t));
	pthread_mutex_lock(&timers_lock);
	bool ready = t->ticks > 0;
	pthread_mutex_unlock(&timers_lock);
	return ready ? POLLIN : 0; /* Linux says EPOLLIN only */
}

/* TFD_IOC_SET_TICKS (checkpoint/restore): the count is set, the timer
 * stopped. */
static long tfd_ioctl(struct file *f, unsigned cmd, gaddr_t arg)
{
	struct timerfd *t = f->priv;
	uint64_t ticks;
	if (cmd != TFD_IOC_SET_TICKS)
		return -ENOTTY;
	if (copy_from_guest(&ticks, arg, sizeof(ticks)))
		return -EFAULT;
	if (!ticks)
		return -EINVAL;
	pthread_mutex_lock(&timers_lock);
	ktimer_stop(&t->k);
	t->ticks = ticks;
	t->expired = false;
	pthread_mutex_unlock(&timers_lock);
	waitq_wake_all(&t->wq);
	return 0;
}

static off_t noop_llseek(struct file *f, off_t off, int whence)
{
	return 0;
}

static int tfd_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	return anon_inode_statx(x);
}

static void tfd_release(struct file *f)
{
	struct timerfd *t = f->priv;
	eventpoll_release(f);
	pthread_mutex_lock(&timers_lock);
	ktimer_stop(&t->k);
	pthread_mutex_unlock(&timers_lock);
	tfd_put(t);
}

static const struct file_ops timerfd_ops = {
	.read = tfd_read,
	.llseek = noop_llseek,
	.ioctl = tfd_ioctl,
	.poll = tfd_poll,
	.statx = tfd_statx,
	.release = tfd_release,
};

long sys_timerfd_create(const struct sysargs *a)
{
	clockid_t clk = (clockid_t)a->a[0];
	int flags = (int)a->a[1];
	if ((flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) ||
	    (clk != CLOCK_MONOTONIC && clk != CLOCK_REALTIME && clk != CLOCK_REALTIME_ALARM &&
	     clk != CLOCK_BOOTTIME && clk != CLOCK_BOOTTIME_ALARM))
		return -EINVAL;
	if ((clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM) && alarm_clock_permitted())
		return -EPERM;
	struct timerfd *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	atomic_init(&t->refs, 1);
	waitq_init(&t->wq);
	t->clockid = clk;
	ktimer_init(&t->k, timer_wall_clock(clk), CPU_NONE, NULL, tfd_fire);
	struct file *f = file_new(&timerfd_ops, O_RDWR | (flags & O_NONBLOCK), 0, t);
	if (!f) {
		free(t);
		return -ENOMEM;
	}
	f->no_pread = true;
	f->may_block = true; /* read sleeps: no guest memory lock held meanwhile */
	int fd = fd_install(f, 0, flags & TFD_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

/* The timerfd behind fd (a reference), or NULL with *err: EBADF, or
 * EINVAL for another kind of file. */
static struct file *timerfd_fget(int fd, int *err)
{
	struct file *f = fget(fd);
	*err = -EBADF;
	if (f && f->ops != &timerfd_ops) {
		fput(f);
		f = NULL;
		*err = -EINVAL;
	}
	return f;
}

long sys_timerfd_settime(const struct sysargs *a)
{
	int flags = (int)a->a[1];
	int64_t value, interval, ov, oi;
	int err = get_itimerspec(a->a[2], &value, &interval);
	if (err)
		return err;
	if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return -EINVAL;
	struct file *f = timerfd_fget((int)a->a[0], &err);
	if (!f)
		return err;
	struct timerfd *t = f->priv;
	if ((t->clockid == CLOCK_REALTIME_ALARM || t->clockid == CLOCK_BOOTTIME_ALARM) &&
	    alarm_clock_permitted()) {
		fput(f);
		return -EPERM;
	}
	/* TFD_TIMER_CANCEL_ON_SET: the sandbox's REALTIME is never set, so
	 * there is nothing to cancel on. */
	pthread_mutex_lock(&timers_lock);
	if (t->expired && t->k.interval) /* the old value is the next expiry */
		ktimer_forward(&t->k, ktimer_now(&t->k));
	t->expired = false;
	ov = t->k.expires ? MAX(t->k.expires - ktimer_now(&t->k), 0) : 0;
	oi = t->k.interval;
	ktimer_stop(&t->k);
	t->ticks = 0;
	t->k.interval = interval;
	if (value)
		ktimer_start(&t->k, (flags & TFD_TIMER_ABSTIME) ? value : ns_add(ktimer_now(&t->k), value));
	pthread_mutex_unlock(&timers_lock);
	fput(f);
	return a->a[3] ? put_itimerspec(a->a[3], ov, oi) : 0;
}

long sys_timerfd_gettime(const struct sysargs *a)
{
	int err;
	struct file *f = timerfd_fget((int)a->a[0], &err);
	if (!f)
		return err;
	struct timerfd *t = f->priv;
	pthread_mutex_lock(&timers_lock);
	tfd_catch_up(t);
	int64_t value = tfd_remaining(t), interval = t->k.interval;
	pthread_mutex_unlock(&timers_lock);
	fput(f);
	return put_itimerspec(a->a[1], value, interval);
}
