/* signalfd: reading a file dequeues the reader's pending signals in the
 * file's mask (Linux's fs/signalfd.c). Like Linux, the file acts for
 * whoever reads or polls it: the signals are the calling thread's and its
 * process's, whichever process opened it. Readers and pollers sleep on
 * the process's signalfd queue (kernel/timers.h), woken for every signal
 * queued to it. */
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include "fs/file.h"
#include "fs/poll.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/timers.h"
#include "mm/copy.h"
#include "mm/uaccess.h"

struct signalfd {
	_Atomic uint64_t mask; /* the signals it reads (never KILL or STOP) */
};

_Static_assert(sizeof(struct signalfd_siginfo) == 128, "signalfd_siginfo layout");

/* Linux's siginfo_layout(): which union member a siginfo uses. */
enum layout { SIL_KILL, SIL_TIMER, SIL_POLL, SIL_FAULT, SIL_FAULT_MCEERR, SIL_CHLD, SIL_RT, SIL_SYS };

static enum layout siginfo_layout(int sig, int code)
{
	static const struct { unsigned char limit, layout; } specific[] = {
		[SIGILL] = { 11, SIL_FAULT }, [SIGFPE] = { 15, SIL_FAULT }, [SIGSEGV] = { 10, SIL_FAULT },
		[SIGBUS] = { 5, SIL_FAULT },  [SIGTRAP] = { 6, SIL_FAULT }, [SIGCHLD] = { 6, SIL_CHLD },
		[SIGPOLL] = { 6, SIL_POLL },  [SIGSYS] = { 2, SIL_SYS },
	};
	if (code > SI_USER && code < SI_KERNEL) {
		if ((unsigned)sig < ARRAY_SIZE(specific) && specific[sig].limit && code <= specific[sig].limit) {
			if (sig == SIGBUS && (code == BUS_MCEERR_AR || code == BUS_MCEERR_AO))
				return SIL_FAULT_MCEERR;
			return specific[sig].layout;
		}
		return code <= 6 ? SIL_POLL : SIL_KILL; /* NSIGPOLL */
	}
	if (code == SI_TIMER)
		return SIL_TIMER;
	if (code == SI_SIGIO)
		return SIL_POLL;
	return code < 0 ? SIL_RT : SIL_KILL;
}

/* Linux's signalfd_copyinfo: only the fields of the siginfo's kind. */
static void to_signalfd_siginfo(const siginfo_t *si, struct signalfd_siginfo *o)
{
	memset(o, 0, sizeof(*o));
	o->ssi_signo = si->si_signo;
	o->ssi_errno = si->si_errno;
	o->ssi_code = si->si_code;
	switch (siginfo_layout(si->si_signo, si->si_code)) {
	case SIL_KILL:
		o->ssi_pid = si->si_pid;
		o->ssi_uid = si->si_uid;
		break;
	case SIL_TIMER:
		o->ssi_tid = si->si_timerid;
		o->ssi_overrun = si->si_overrun;
		o->ssi_ptr = (uint64_t)(uintptr_t)si->si_ptr;
		o->ssi_int = si->si_int;
		break;
	case SIL_POLL:
		o->ssi_band = si->si_band;
		o->ssi_fd = si->si_fd;
		break;
	case SIL_FAULT:
		o->ssi_addr = (uint64_t)(uintptr_t)si->si_addr;
		break;
	case SIL_FAULT_MCEERR:
		o->ssi_addr = (uint64_t)(uintptr_t)si->si_addr;
		o->ssi_addr_lsb = si->si_addr_lsb;
		break;
	case SIL_CHLD:
		o->ssi_pid = si->si_pid;
		o->ssi_uid = si->si_uid;
		o->ssi_status = si->si_status;
		o->ssi_utime = si->si_utime;
		o->ssi_stime = si->si_stime;
		break;
	case SIL_RT:
		o->ssi_pid = si->si_pid;
		o->ssi_uid = si->si_uid;
		o->ssi_ptr = (uint64_t)(uintptr_t)si->si_ptr;
		o->ssi_int = si->si_int;
		break;
	case SIL_SYS:
		o->ssi_call_addr = (uint64_t)(uintptr_t)si->si_call_addr;
		o->ssi_syscall = si->si_syscall;
		o->ssi_arch = si->si_arch;
		break;
	}
}

/* The current process's signalfd queue, pinned; NULL if out of memory. */
static struct sigwake *current_sigwake(void)
{
	pthread_mutex_lock(&timers_lock);
	struct proc_timers *pt = proc_timers_get();
	struct sigwake *w = pt ? sigwake_get(pt->sigwake) : NULL;
	pthread_mutex_unlock(&timers_lock);
	return w;
}

/* One signal from the file's mask: its number, or -EAGAIN, -ERESTARTSYS
 * (another signal must be acted on), -ENOMEM. */
static int sfd_dequeue(struct signalfd *s, siginfo_t *info, bool nonblock)
{
	int sig = signal_dequeue_mask(atomic_load(&s->mask), info);
	if (sig || nonblock)
		return sig ? sig : -EAGAIN;
	struct sigwake *w = current_sigwake();
	if (!w)
		return -ENOMEM;
	struct wait_entry e;
	waitq_add(&w->wq, &e);
	for (;;) {
		uint32_t snap = sleep_prepare();
		sig = signal_dequeue_mask(atomic_load(&s->mask), info);
		if (sig)
			break;
		if (sleep_until(snap, NULL) == -EINTR) {
			sig = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&e);
	sigwake_put(w);
	return sig;
}

/* Copy len bytes to the iovecs at offset off: 0 or -EFAULT. */
static int iov_write(const struct iovec *iov, int n, size_t off, const void *src, size_t len)
{
	const char *p = src;
	for (int i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t c = MIN(iov[i].iov_len - off, len);
		if (raw_copy((char *)iov[i].iov_base + off, p, c))
			return -EFAULT;
		p += c;
		len -= c;
		off = 0;
	}
	return 0;
}

static ssize_t sfd_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct signalfd *s = f->priv;
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	size_t count = total / sizeof(struct signalfd_siginfo);
	if (!count)
		return -EINVAL;
	bool nonblock = (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT);
	size_t done = 0;
	while (count--) {
		siginfo_t info;
		int sig = sfd_dequeue(s, &info, nonblock);
		if (sig <= 0)
			return done ? (ssize_t)done : sig;
		struct signalfd_siginfo ss;
		to_signalfd_siginfo(&info, &ss);
		if (iov_write(iov, n, done, &ss, sizeof(ss)))
			return done ? (ssize_t)done : -EFAULT;
		done += sizeof(ss);
		nonblock = true; /* only the first waits */
	}
	return done;
}

static unsigned sfd_poll(struct file *f, struct poll_table *pt)
{
	struct signalfd *s = f->priv;
	struct thread *t = current;
	if (!t)
		return 0;
	if (pt && pt->queue) {
		struct sigwake *w = current_sigwake();
		if (w)
			poll_wait_obj(&w->wq, pt, sigwake_put, w);
	}
	struct process *p = t->proc;
	pthread_mutex_lock(&p->lock);
	uint64_t pending = (t->pending.set | p->shared_pending.set) & atomic_load(&s->mask);
	pthread_mutex_unlock(&p->lock);
	return pending ? POLLIN : 0; /* Linux says EPOLLIN only */
}

static off_t noop_llseek(struct file *f, off_t off, int whence)
{
	return 0;
}

static int sfd_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	return anon_inode_statx(x);
}

static void sfd_release(struct file *f)
{
	eventpoll_release(f);
	free(f->priv);
}

static const struct file_ops signalfd_ops = {
	.read = sfd_read,
	.llseek = noop_llseek,
	.poll = sfd_poll,
	.statx = sfd_statx,
	.release = sfd_release,
};

static long do_signalfd4(int ufd, gaddr_t umask, uint64_t sizemask, int flags)
{
	uint64_t mask;
	if (sizemask != sizeof(mask))
		return -EINVAL;
	if (copy_from_guest(&mask, umask, sizeof(mask)))
		return -EFAULT;
	if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
		return -EINVAL;
	mask &= ~SIG_UNBLOCKABLE;
	if (ufd != -1) {
		/* A new mask for an existing signalfd; the flags are not used. */
		struct file *f = fget(ufd);
		if (!f)
			return -EBADF;
		if (f->ops != &signalfd_ops) {
			fput(f);
			return -EINVAL;
		}
		atomic_store(&((struct signalfd *)f->priv)->mask, mask);
		fput(f);
		struct sigwake *w = current_sigwake();
		if (w) {
			waitq_wake_all(&w->wq);
			sigwake_put(w);
		}
		return ufd;
	}
	struct signalfd *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	atomic_init(&s->mask, mask);
	struct file *f = file_new(&signalfd_ops, O_RDWR | (flags & O_NONBLOCK), 0, s);
	if (!f) {
		free(s);
		return -ENOMEM;
	}
	f->no_pread = true;
	f->may_block = true; /* read sleeps: no guest memory lock held meanwhile */
	int fd = fd_install(f, 0, flags & SFD_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

long sys_signalfd4(const struct sysargs *a)
{
	return do_signalfd4((int)a->a[0], a->a[1], a->a[2], (int)a->a[3]);
}

long sys_signalfd(const struct sysargs *a)
{
	return do_signalfd4((int)a->a[0], a->a[1], a->a[2], 0);
}
