/* Process file descriptors: a file that names one process, or with
 * PIDFD_THREAD (O_EXCL in its flags, as Linux's) one thread, for good.
 * It records the id and an identity (the process's start time, or a
 * thread's serial number), so a recycled id is never mistaken for it.
 * A process pidfd polls readable once the process has exited (and hung
 * up once it is reaped); a thread pidfd of a thread other than the
 * leader once that thread has gone (hung up too: nothing waits for a
 * thread), one of the leader as a process pidfd does (Linux 6.15's
 * pidfd_poll). pidfd_send_signal signals through it, to the thread by
 * default for a thread pidfd, to the process for a process pidfd. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/ktime.h"
#include "kernel/pidfd.h"
#include "kernel/task.h"
#include "kernel/syscall.h"
#include "fs/file.h"
#include "fs/vfs.h"
#include "fs/poll.h"
#include "fs/pseudofs.h"
#include "mm/uaccess.h"

#define PIDFD_THREAD O_EXCL

struct pidfd {
	int id;                 /* the process's pid, or the thread's tid */
	struct timespec start;  /* the process's identity */
	/* A thread that is not its process's leader: its serial (struct
	 * thread), 0 for a process or its leader. The leader's thread
	 * pidfd names the process's pid, like Linux's struct pid, which a
	 * thread that execs takes over. */
	uint64_t thread_serial;
};

/* Every pidfd poller waits here; woken whenever a process or thread ends. */
static struct waitq pidfd_wq = WAITQ_INIT(pidfd_wq);

void pidfd_notify_exit(void)
{
	if (waitq_active(&pidfd_wq))
		waitq_wake_all(&pidfd_wq);
}

/* What pd names now (tasklist_lock held): the process, NULL once it is
 * reaped (a thread's: once the thread has gone), and the thread (the
 * leader's for a process: NULL while none, e.g. after its exit). */
static struct process *pidfd_resolve(const struct pidfd *pd, struct thread **thread)
{
	struct thread *t = tid_lookup(pd->id);
	if (pd->thread_serial) {
		if (!t || t->serial != pd->thread_serial)
			t = NULL; /* gone, or the tid is another's (an exec took the pid) */
		*thread = t;
		return t ? t->proc : NULL;
	}
	struct process *p = pid_lookup(pd->id);
	bool same = p && p->start_time.tv_sec == pd->start.tv_sec && p->start_time.tv_nsec == pd->start.tv_nsec;
	*thread = same && t && t->proc == p ? t : NULL;
	return same ? p : NULL;
}

/* Whether pd names the calling thread (Linux's task_pid(current) == pid). */
static bool pidfd_names_current(const struct pidfd *pd)
{
	struct thread *me = current;
	if (pd->id != me->tid)
		return false;
	if (pd->thread_serial)
		return pd->thread_serial == me->serial;
	return me->tid == me->proc->pid && pd->start.tv_sec == me->proc->start_time.tv_sec &&
	       pd->start.tv_nsec == me->proc->start_time.tv_nsec;
}

/* The pidfd naming t's process, or t itself as PIDFD_THREAD names it
 * (t is the caller, or a thread not started yet: its ids are stable). */
static struct pidfd pidfd_of(const struct thread *t, bool thread)
{
	struct process *p = t->proc;
	if (thread && t->tid != p->pid)
		return (struct pidfd){ .id = t->tid, .thread_serial = t->serial };
	return (struct pidfd){ .id = p->pid, .start = p->start_time };
}

/* Linux's pidfd_poll: readable once what it names is done, hung up too
 * once nothing is left of it. */
static unsigned pidfd_poll(struct file *f, struct poll_table *pt)
{
	if (pt && pt->queue)
		poll_wait(f, &pidfd_wq, pt);
	const struct pidfd *pd = f->priv;
	struct thread *t;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = pidfd_resolve(pd, &t);
	unsigned mask = !p ? POLLIN | POLLRDNORM | POLLHUP
		: p->state != PROC_ALIVE ? POLLIN | POLLRDNORM : 0;
	pthread_mutex_unlock(&tasklist_lock);
	return mask;
}

/* Linux's pidfd_show_fdinfo: the id while it names a task, else -1. */
static void pidfd_show_fdinfo(struct file *f, struct seqbuf *s)
{
	const struct pidfd *pd = f->priv;
	struct thread *t;
	pthread_mutex_lock(&tasklist_lock);
	int nr = pidfd_resolve(pd, &t) ? pd->id : -1;
	pthread_mutex_unlock(&tasklist_lock);
	seq_printf(s, "Pid:\t%d\nNSpid:\t%d\n", nr, nr);
}

/* pidfs (Linux 6.9+): mode 0700 and no file type, owned by root, one
 * inode per pid, so two pidfds of one process or thread share st_ino;
 * Linux's times are when that inode was made; here, the stat's. */
static int pidfd_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	(void)flags;
	(void)mask;
	const struct pidfd *pd = f->priv;
	anon_inode_statx(x);
	x->stx_mode = S_IRWXU;
	x->stx_ino = ((uint64_t)pd->start.tv_sec * 1000000000u + (uint64_t)pd->start.tv_nsec) ^
		     (pd->thread_serial << 1);
	struct timespec now;
	time_now(&now);
	x->stx_atime = x->stx_mtime = x->stx_ctime =
		(struct statx_timestamp){ .tv_sec = now.tv_sec, .tv_nsec = (uint32_t)now.tv_nsec };
	return 0;
}

static void pidfd_release(struct file *f)
{
	eventpoll_release(f);
	free(f->priv);
}

static const struct file_ops pidfd_ops = {
	.poll = pidfd_poll,
	.release = pidfd_release,
	.show_fdinfo = pidfd_show_fdinfo,
	.statx = pidfd_statx,
	.anon_name = "[pidfd]",
	.fs_magic = 0x50494446, /* PID_FS_MAGIC: pidfs (Linux 6.9+) */
};

/* Install a pidfd for pd with status flags (O_NONBLOCK, PIDFD_THREAD). */
static int pidfd_install_named(const struct pidfd *named, int flags)
{
	struct pidfd *pd = malloc(sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	*pd = *named;
	struct file *f = file_new(&pidfd_ops, O_RDWR | flags, 0, pd);
	if (!f) {
		free(pd);
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, true);
	if (fd < 0)
		fput(f);
	return fd;
}

int pidfd_install(struct process *p)
{
	return pidfd_install_named(&(struct pidfd){ .id = p->pid, .start = p->start_time }, 0);
}

int pidfd_install_thread(struct thread *t)
{
	struct pidfd pd = pidfd_of(t, true);
	return pidfd_install_named(&pd, PIDFD_THREAD);
}

int pidfd_pid(int fd, bool *nonblock)
{
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	int pid = -EBADF; /* Linux's pidfd_get_pid: not a pidfd is EBADF too */
	if (f->ops == &pidfd_ops) {
		struct pidfd *pd = f->priv;
		struct thread *t;
		pthread_mutex_lock(&tasklist_lock);
		struct process *p = pidfd_resolve(pd, &t);
		pthread_mutex_unlock(&tasklist_lock);
		pid = p ? pd->id : 0; /* 0: gone, names nobody */
		*nonblock = f->flags & O_NONBLOCK;
	}
	fput(f);
	return pid;
}

/* Linux's pidfd_open and pidfd_prepare: any live or zombie task's id,
 * a thread that is not a leader only with PIDFD_THREAD. */
long sys_pidfd_open(const struct sysargs *a)
{
	int id = (int)a->a[0];
	unsigned flags = (unsigned)a->a[1];
	if (flags & ~(unsigned)(O_NONBLOCK | PIDFD_THREAD))
		return -EINVAL;
	if (id <= 0)
		return -EINVAL;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = pid_lookup(id);
	struct thread *t = tid_lookup(id);
	long err = 0;
	struct pidfd pd;
	if (p) /* a process, its leader alive or not: the process's pidfd */
		pd = (struct pidfd){ .id = id, .start = p->start_time };
	else if (!t)
		err = -ESRCH;
	else if (!(flags & PIDFD_THREAD))
		err = -ENOENT; /* a thread, not a thread group */
	else
		pd = pidfd_of(t, true);
	pthread_mutex_unlock(&tasklist_lock);
	return err ? err : pidfd_install_named(&pd, (int)flags);
}

/* Linux's pidfd_send_signal scopes (6.9) and its pidfds for the caller
 * itself (6.15). */
#define PIDFD_SIGNAL_THREAD 1u
#define PIDFD_SIGNAL_THREAD_GROUP 2u
#define PIDFD_SIGNAL_PROCESS_GROUP 4u
#define PIDFD_SELF_THREAD -10000
#define PIDFD_SELF_THREAD_GROUP -10001

/* Who a signal through a pidfd goes to (Linux's pid types). */
enum pidfd_scope { SCOPE_THREAD, SCOPE_PROCESS, SCOPE_PGRP };

/* kill_pgrp_info: 0 if any member took it, else the last error or ESRCH
 * (tasklist_lock held). Each member is checked as kill checks it, a bad
 * signal number before the permission (check_kill_permission). */
static long signal_pgrp(int pgid, int sig, const siginfo_t *info)
{
	long err = -ESRCH;
	bool any = false;
	for (int pid = 1; pid < PID_MAX; pid++) {
		struct process *q = pid_lookup(pid);
		if (!q || q->pgid != pgid)
			continue;
		bool valid = sig >= 0 && sig <= 64;
		err = valid && !signal_may_send(q, sig) ? -EPERM : signal_send_info(q, NULL, sig, info);
		any |= !err;
	}
	return any ? 0 : err;
}

/* The pidfd that fd is (an open /proc/<pid> directory names a process
 * too), with the scope its kind gives: 0 or -EBADF. */
static int pidfd_from_fd(int fd, struct pidfd *named, enum pidfd_scope *scope)
{
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	int pid, err = 0;
	int64_t identity;
	if (f->ops == &pidfd_ops) {
		*named = *(struct pidfd *)f->priv;
		*scope = (f->flags & PIDFD_THREAD) ? SCOPE_THREAD : SCOPE_PROCESS;
	} else if (proc_pid_dir_file(f, &pid, &identity)) {
		*named = (struct pidfd){ .id = pid, .start = { identity / NSEC_PER_SEC, identity % NSEC_PER_SEC } };
		*scope = SCOPE_PROCESS;
	} else {
		err = -EBADF;
	}
	fput(f);
	return err;
}

long sys_pidfd_send_signal(const struct sysargs *a)
{
	int fd = (int)a->a[0], sig = (int)a->a[1];
	gaddr_t uinfo = a->a[2];
	unsigned flags = (unsigned)a->a[3];
	const unsigned scopes = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;
	if ((flags & ~scopes) || __builtin_popcount(flags) > 1)
		return -EINVAL;
	struct pidfd named;
	enum pidfd_scope scope;
	if (fd == PIDFD_SELF_THREAD) {
		named = pidfd_of(current, true);
		scope = SCOPE_THREAD;
	} else if (fd == PIDFD_SELF_THREAD_GROUP) {
		named = pidfd_of(current, false);
		scope = SCOPE_PROCESS;
	} else {
		int err = pidfd_from_fd(fd, &named, &scope);
		if (err)
			return err;
	}
	/* Flags choose the scope; without any, the pidfd's kind does. */
	if (flags == PIDFD_SIGNAL_THREAD)
		scope = SCOPE_THREAD;
	else if (flags == PIDFD_SIGNAL_THREAD_GROUP)
		scope = SCOPE_PROCESS;
	else if (flags == PIDFD_SIGNAL_PROCESS_GROUP)
		scope = SCOPE_PGRP;
	siginfo_t info, *ip = NULL;
	if (uinfo) {
		if (copy_from_guest(&info, uinfo, sizeof(info)))
			return -EFAULT;
		if (info.si_signo != sig)
			return -EINVAL;
		/* Only the calling thread may pretend to be the kernel or kill,
		 * and only to itself or its process. */
		bool to_self = pidfd_names_current(&named) && scope != SCOPE_PGRP;
		if (!to_self && (info.si_code >= 0 || info.si_code == SI_TKILL))
			return -EPERM;
		ip = &info;
	} else if (scope == SCOPE_THREAD) {
		memset(&info, 0, sizeof(info));
		info.si_signo = sig;
		info.si_code = SI_TKILL;
		info.si_pid = current->proc->pid;
		info.si_uid = current->proc->ruid; /* prepare_kill_siginfo: the real uid */
		ip = &info;
	}
	pthread_mutex_lock(&tasklist_lock);
	struct thread *t;
	struct process *p = pidfd_resolve(&named, &t);
	long err = -ESRCH;
	if (scope == SCOPE_PGRP) {
		/* Linux: the group of the id's struct pid, which lives on after
		 * its process is reaped, as long as its pid is not reused. A
		 * thread's id names no group. */
		if (!named.thread_serial && (p || !pid_lookup(named.id)))
			err = signal_pgrp(named.id, sig, ip);
	} else if (p && (sig < 0 || sig > 64)) {
		err = -EINVAL;
	} else if (p && !signal_may_send(p, sig)) {
		err = -EPERM; /* kill's check (signal 0 too) */
	} else if (p && scope == SCOPE_THREAD) {
		/* A leader that has exited while others run takes it and never
		 * sees it, as Linux's zombie leader. */
		err = t ? signal_send_info(p, t, sig, ip) : 0;
	} else if (p) {
		err = signal_send_via(p, named.thread_serial ? t : NULL, sig, ip);
	}
	pthread_mutex_unlock(&tasklist_lock);
	return err;
}
