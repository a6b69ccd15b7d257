/* Process file descriptors: a file that names one process for good.
 * It records the pid and the process's identity (its start time), so a
 * recycled pid is never mistaken for it. It polls readable once the
 * process has exited (and hung up once it is reaped), and
 * pidfd_send_signal signals through it. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/ktime.h"
#include "kernel/pidfd.h"
#include "kernel/task.h"
#include "kernel/syscall.h"
#include "fs/file.h"
#include "fs/poll.h"
#include "fs/pseudofs.h"
#include "mm/uaccess.h"

struct pidfd {
	int pid;
	struct timespec start;
};

/* Every pidfd poller waits here; woken whenever a process ends. */
static struct waitq pidfd_wq = WAITQ_INIT(pidfd_wq);

void pidfd_notify_exit(void)
{
	if (waitq_active(&pidfd_wq))
		waitq_wake_all(&pidfd_wq);
}

/* The process pd names, or NULL once it is reaped (tasklist_lock held). */
static struct process *pidfd_process(const struct pidfd *pd)
{
	struct process *p = pid_lookup(pd->pid);
	bool same = p && p->start_time.tv_sec == pd->start.tv_sec &&
		    p->start_time.tv_nsec == pd->start.tv_nsec;
	return same ? p : NULL;
}

/* Linux's pidfd_poll: readable once the process exited, hung up too once
 * it is reaped. */
static unsigned pidfd_poll(struct file *f, struct poll_table *pt)
{
	if (pt && pt->queue)
		poll_wait(f, &pidfd_wq, pt);
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = pidfd_process(f->priv);
	unsigned mask = !p ? POLLIN | POLLRDNORM | POLLHUP
		: p->state != PROC_ALIVE ? POLLIN | POLLRDNORM : 0;
	pthread_mutex_unlock(&tasklist_lock);
	return mask;
}

static void pidfd_release(struct file *f)
{
	eventpoll_release(f);
	free(f->priv);
}

static const struct file_ops pidfd_ops = {
	.poll = pidfd_poll,
	.release = pidfd_release,
	.anon_name = "[pidfd]",
};

int pidfd_install(struct process *p)
{
	struct pidfd *pd = malloc(sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pd->pid = p->pid;
	pd->start = p->start_time;
	struct file *f = file_new(&pidfd_ops, O_RDWR, 0, pd);
	if (!f) {
		free(pd);
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, true);
	if (fd < 0)
		fput(f);
	return fd;
}

int pidfd_pid(int fd)
{
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	int pid = -EBADF; /* Linux's pidfd_get_pid: not a pidfd is EBADF too */
	if (f->ops == &pidfd_ops) {
		struct pidfd *pd = f->priv;
		pthread_mutex_lock(&tasklist_lock);
		struct process *p = pidfd_process(pd);
		pthread_mutex_unlock(&tasklist_lock);
		pid = p ? pd->pid : 0; /* 0: gone, names nobody */
	}
	fput(f);
	return pid;
}

long sys_pidfd_open(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	unsigned flags = (unsigned)a->a[1];
	if (flags & ~(unsigned)O_NONBLOCK)
		return -EINVAL;
	if (pid <= 0)
		return -EINVAL;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = pid_lookup(pid);
	/* Linux also refuses a process whose threads are all gone (ESRCH for
	 * a zombie is newer behaviour; older kernels allow it). */
	pthread_mutex_unlock(&tasklist_lock);
	if (!p)
		return -ESRCH;
	return pidfd_install(p);
}

/* Linux's pidfd_send_signal scopes (6.9) and its pidfds for the caller
 * itself (6.15). */
#define PIDFD_SIGNAL_THREAD 1u
#define PIDFD_SIGNAL_THREAD_GROUP 2u
#define PIDFD_SIGNAL_PROCESS_GROUP 4u
#define PIDFD_SELF_THREAD -10000
#define PIDFD_SELF_THREAD_GROUP -10001

/* kill_pgrp_info: 0 if any member took it, else the last error or ESRCH
 * (tasklist_lock held). */
static long signal_pgrp(int pgid, int sig, const siginfo_t *info)
{
	long err = -ESRCH;
	bool any = false;
	for (int pid = 1; pid < PID_MAX; pid++) {
		struct process *q = pid_lookup(pid);
		if (!q || q->pgid != pgid)
			continue;
		err = signal_send_info(q, NULL, sig, info);
		any |= !err;
	}
	return any ? 0 : err;
}

long sys_pidfd_send_signal(const struct sysargs *a)
{
	int fd = (int)a->a[0], sig = (int)a->a[1];
	gaddr_t uinfo = a->a[2];
	unsigned flags = (unsigned)a->a[3];
	const unsigned scopes = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;
	if ((flags & ~scopes) || __builtin_popcount(flags) > 1)
		return -EINVAL;
	struct pidfd self = { 0 };
	bool thread = flags == PIDFD_SIGNAL_THREAD;
	if (fd == PIDFD_SELF_THREAD || fd == PIDFD_SELF_THREAD_GROUP) {
		struct process *me = current->proc;
		self = (struct pidfd){ me->pid, me->start_time };
		if (fd == PIDFD_SELF_THREAD)
			thread = true; /* the fd decides, not the flags */
	} else {
		struct file *f = fget(fd);
		if (!f)
			return -EBADF;
		int pid;
		int64_t identity;
		if (f->ops == &pidfd_ops)
			self = *(struct pidfd *)f->priv;
		else if (proc_pid_dir_file(f, &pid, &identity))
			self = (struct pidfd){ pid, { identity / NSEC_PER_SEC, identity % NSEC_PER_SEC } };
		else {
			fput(f);
			return -EBADF;
		}
		fput(f);
	}
	bool pgrp = flags == PIDFD_SIGNAL_PROCESS_GROUP;
	siginfo_t info, *ip = NULL;
	if (uinfo) {
		if (copy_from_guest(&info, uinfo, sizeof(info)))
			return -EFAULT;
		if (info.si_signo != sig)
			return -EINVAL;
		/* Only the caller may pretend to be the kernel or kill. */
		bool to_self = self.pid == current->proc->pid && !pgrp;
		if (!to_self && (info.si_code >= 0 || info.si_code == SI_TKILL))
			return -EPERM;
		ip = &info;
	} else if (thread) {
		memset(&info, 0, sizeof(info));
		info.si_signo = sig;
		info.si_code = SI_TKILL;
		info.si_pid = current->proc->pid;
		info.si_uid = current->proc->uid;
		ip = &info;
	}
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = pidfd_process(&self);
	long err = -ESRCH;
	if (pgrp) {
		/* Linux: the group named by the process's pid, which lives on
		 * after the leader is reaped, as long as its pid is not reused. */
		if (p || !pid_lookup(self.pid))
			err = signal_pgrp(self.pid, sig, ip);
	} else if (p && (sig < 0 || sig > 64))
		err = -EINVAL;
	else if (p)
		err = signal_send_info(p, thread ? p->thread : NULL, sig, ip);
	pthread_mutex_unlock(&tasklist_lock);
	return err;
}
