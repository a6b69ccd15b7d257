/* New processes and threads: fork, vfork, clone and clone3. A child
 * without CLONE_VM gets a host process of its own with a copy-on-write
 * copy of the parent's memory (mm_fork); with CLONE_VM (vfork,
 * posix_spawn) it runs as another host thread of the parent's host
 * process until it execs or exits. A thread (CLONE_THREAD) is another
 * host thread of its process's host process, for good. */
#include <linux/capability.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/task.h"
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/pidfd.h"
#include "fs/file.h"
#include "fs/fs.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "platform/platform.h"
#include "kernel/cputime.h"
#include "ipc/ipc.h"

struct clone_req {
	uint64_t flags;
	int exit_signal;
	gaddr_t stack, parent_tid, child_tid, tls, pidfd;
	int set_tid_size;        /* clone3: pids asked for, checked for Linux's EINVAL */
	pid_t set_tid[1];
};

#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | 0x80 /* CLONE_NEWTIME */)

/* Linux's checks of kernel_clone() and copy_process(), in their order. */
static long check_flags(const struct clone_req *c)
{
	uint64_t f = c->flags;
	/* Legacy clone passes the pidfd in parent_tid: they cannot both be
	 * written there. */
	if ((f & CLONE_PIDFD) && (f & CLONE_PARENT_SETTID) && c->pidfd == c->parent_tid)
		return -EINVAL;
	if ((f & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS) ||
	    (f & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
		return -EINVAL;
	if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND))
		return -EINVAL; /* a thread group shares its signal handlers */
	if ((f & CLONE_SIGHAND) && !(f & CLONE_VM))
		return -EINVAL; /* and shared handlers need shared memory */
	if ((f & CLONE_PARENT) && current->proc->pid == 1)
		return -EINVAL; /* init's siblings would have no parent */
	if ((f & CLONE_THREAD) && (f & (CLONE_NEWUSER | CLONE_NEWPID)))
		return -EINVAL; /* a thread cannot move to other namespaces */
	if ((f & CLONE_PIDFD) && (f & CLONE_DETACHED))
		return -EINVAL;
	if (f & NAMESPACE_FLAGS)
		return -EPERM; /* no namespaces inside the sandbox */
	if (c->set_tid_size) {
		/* Linux's alloc_pid(): one pid per namespace level (the sandbox
		 * has one), in range; choosing one needs CAP_CHECKPOINT_RESTORE
		 * over the namespace, which the guest never has here. */
		if (c->set_tid_size > 1 || c->set_tid[0] < 1 || c->set_tid[0] >= PID_MAX)
			return -EINVAL;
		return -EPERM;
	}
	if (f & CLONE_INTO_CGROUP)
		return -EBADF; /* no cgroup file system: no fd names a cgroup */
	/* copy_thread's TLS goes through arch_prctl(ARCH_SET_FS)'s bound: a
	 * base the guest could not have is never loaded. */
	if ((f & CLONE_SETTLS) && c->tls >= TASK_SIZE_MAX)
		return -EPERM;
	return 0;
}

/* The new process's copy of (or share in) the parent's state. */
static int copy_process_state(struct process *p, struct process *parent, uint64_t f)
{
	pthread_mutex_lock(&parent->lock);
	/* Linux's copy_sighand: one more user of the parent's handlers, or
	 * a copy of them. */
	if (f & CLONE_SIGHAND) {
		sighand_put(p->sighand);
		p->sighand = parent->sighand;
		__atomic_add_fetch(&p->sighand->count, 1, __ATOMIC_ACQ_REL);
	} else {
		pthread_mutex_lock(&parent->sighand->lock);
		memcpy(p->sighand->action, parent->sighand->action, sizeof(p->sighand->action));
		pthread_mutex_unlock(&parent->sighand->lock);
	}
	memcpy(p->rlimits, parent->rlimits, sizeof(p->rlimits));
	/* The forking thread's name, which is the child's leader's. */
	memcpy(p->comm, current->comm, sizeof(p->comm));
	p->uid = parent->uid;
	p->gid = parent->gid;
	p->ruid = parent->ruid;
	p->suid = parent->suid;
	p->fsuid = parent->fsuid;
	p->rgid = parent->rgid;
	p->sgid = parent->sgid;
	p->fsgid = parent->fsgid;
	p->dumpable = parent->dumpable;
	proc_ext_fork(p, parent);
	struct file *exe = parent->exe ? file_get(parent->exe) : NULL;
	pthread_mutex_unlock(&parent->lock);
	process_set_exe(p, exe);
	return 0;
}

/* The new thread's fd table and fs state: the current thread's, shared
 * or copied as the flags say (Linux's copy_files and copy_fs). */
static int copy_files_fs(struct thread *t, uint64_t f)
{
	struct thread *pt = current;
	t->files = (f & CLONE_FILES) ? fdtable_get(pt->files) : fdtable_copy(pt->files);
	t->fs = (f & CLONE_FS) ? fs_struct_get(pt->fs) : fs_struct_copy(pt->fs);
	return t->files && t->fs ? 0 : -ENOMEM;
}

static void put_files_fs(struct thread *t)
{
	if (t->files)
		fdtable_put(t->files);
	fs_struct_put(t->fs);
	t->files = NULL;
	t->fs = NULL;
}

/* The child's address space and its host thread. */
static int copy_mm(struct thread *t, struct process *p, struct process *parent, uint64_t f)
{
	struct mm *mm = parent->mm;
	if (f & CLONE_VM) {
		__atomic_add_fetch(&mm->users, 1, __ATOMIC_ACQ_REL);
		p->mm = mm;
		return platform_thread_create(mm->as, &t->plat);
	}
	struct platform_as *as;
	int err = platform_as_create(&as);
	if (err)
		return err;
	bool others_run = parent->nr_threads > 1 || __atomic_load_n(&mm->users, __ATOMIC_ACQUIRE) > 1;
	p->mm = mm_fork(mm, as, current->regs.rsp, others_run);
	if (!p->mm) {
		platform_as_destroy(as);
		return -ENOMEM;
	}
	return platform_thread_create(as, &t->plat);
}

static void free_unstarted(struct thread *t, struct process *p)
{
	if (p->mm) {
		if (t->plat && __atomic_load_n(&p->mm->users, __ATOMIC_ACQUIRE) > 1)
			platform_thread_release(t->plat);
		mm_put(p->mm);
	}
	sem_exit(t);
	put_files_fs(t);
	free(t);
	process_free(p);
}

/* The registers, TLS, mask and tid words of a new thread or child t of
 * the current thread (Linux's copy_thread and the settid parts). */
static void init_child_thread(struct thread *t, const struct clone_req *c)
{
	struct thread *pt = current;
	uint64_t f = c->flags;
	/* The child returns 0 from the same call, on its own stack if given. */
	t->regs = pt->regs;
	t->regs.rax = 0;
	if (c->stack)
		t->regs.rsp = c->stack;
	t->fs_base = (f & CLONE_SETTLS) ? c->tls : pt->fs_base;
	t->fs_base_dirty = true;
	t->sigmask = pt->sigmask;
	t->nice = pt->nice;
	t->no_new_privs = pt->no_new_privs;
	/* The creating thread's timer slack and name (another thread may be
	 * renaming it through /proc). */
	pthread_mutex_lock(&pt->proc->lock);
	t->timer_slack_ns = t->default_slack_ns = pt->timer_slack_ns;
	memcpy(t->comm, pt->comm, sizeof(t->comm));
	pthread_mutex_unlock(&pt->proc->lock);
	/* Linux: a child sharing memory without vfork's wait would share the
	 * alternate stack, so it starts without one. */
	if ((f & (CLONE_VM | CLONE_VFORK)) == CLONE_VM)
		t->altstack = (struct altstack){ .flags = SS_DISABLE };
	else
		t->altstack = pt->altstack;
	t->clear_child_tid = (f & CLONE_CHILD_CLEARTID) ? c->child_tid : 0;
	t->set_child_tid = (f & CLONE_CHILD_SETTID) ? c->child_tid : 0;
}

struct user_tasks {
	uint32_t ruid;
	long n;
};

static void count_user_tasks(struct process *p, void *ctx)
{
	struct user_tasks *c = ctx;
	if (p->ruid == c->ruid)
		c->n += p->state == PROC_ALIVE ? (long)p->nr_threads : p->state == PROC_ZOMBIE;
}

/* RLIMIT_NPROC (Linux's copy_process): a new task may not take the
 * caller's real user's tasks (threads, and zombies until reaped) past
 * the limit, unless that user is root or the caller holds
 * CAP_SYS_RESOURCE or CAP_SYS_ADMIN. */
static bool nproc_exceeded(void)
{
	struct process *me = current->proc;
	rlim_t lim = me->rlimits[RLIMIT_NPROC].rlim_cur;
	if (lim == RLIM_INFINITY || me->ruid == 0 || capable(CAP_SYS_RESOURCE) || capable(CAP_SYS_ADMIN))
		return false;
	struct user_tasks c = { me->ruid, 0 };
	pthread_mutex_lock(&tasklist_lock);
	for_each_process(count_user_tasks, &c);
	pthread_mutex_unlock(&tasklist_lock);
	return (rlim_t)c.n >= lim;
}

/* CLONE_THREAD: a new thread of the current process, on a new host
 * thread of its host process. With CLONE_PIDFD, a PIDFD_THREAD pidfd
 * naming it (Linux 6.9 on). */
static long clone_thread(const struct clone_req *c)
{
	struct thread *pt = current;
	struct process *p = pt->proc;
	if (nproc_exceeded())
		return -EAGAIN;
	if ((c->flags & CLONE_PIDFD) && fd_check_free())
		return -EMFILE;
	struct thread *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->proc = p;
	init_child_thread(t, c);
	long err = copy_files_fs(t, c->flags);
	if (!err)
		err = sem_copy_undo(t, c->flags & CLONE_SYSVSEM);
	if (err) {
		put_files_fs(t);
		free(t);
		return err;
	}
	err = platform_thread_create(p->mm->as, &t->plat);
	if (!err && (err = platform_thread_fpu_inherit(t->plat, pt->plat)))
		platform_thread_release(t->plat);
	if (err) {
		sem_exit(t);
		put_files_fs(t);
		free(t);
		return err;
	}
	sched_fork(t, pt); /* after t->plat: affinity goes to the host thread */
	if ((err = thread_add(p, t))) {
		cputime_thread_exit(t);
		platform_thread_release(t->plat);
		sem_exit(t);
		put_files_fs(t);
		free(t);
		return err;
	}
	int tid = t->tid;
	if (c->flags & CLONE_PIDFD) {
		/* Written before the thread runs; a bad pointer undoes the
		 * clone, as Linux's copy_process does. The word is tried
		 * before the fd exists: nothing to take back from the table,
		 * which other threads may be changing. */
		int pidfd = -1;
		if (copy_to_guest(c->pidfd, &pidfd, sizeof(pidfd)))
			pidfd = -EFAULT;
		else if ((pidfd = pidfd_install_thread(t)) >= 0)
			copy_to_guest(c->pidfd, &pidfd, sizeof(pidfd));
		if (pidfd < 0) {
			thread_discard(t);
			return pidfd;
		}
	}
	if (c->flags & CLONE_PARENT_SETTID)
		copy_to_guest(c->parent_tid, &tid, sizeof(tid));
	if (thread_start(t)) {
		thread_discard(t); /* it never ran */
		return -EAGAIN;
	}
	return tid;
}

static long do_clone(const struct clone_req *c)
{
	long err = check_flags(c);
	if (err)
		return err;
	uint64_t f = c->flags;
	if (f & CLONE_THREAD)
		return clone_thread(c);
	if (nproc_exceeded())
		return -EAGAIN;
	struct thread *pt = current;
	struct process *parent = pt->proc;
	struct process *p = process_alloc();
	struct thread *t = calloc(1, sizeof(*t));
	if (!p || !t) {
		free(t);
		if (p)
			process_free(p);
		return -ENOMEM;
	}
	t->proc = p;
	p->threads = p->thread = t;
	p->nr_threads = 1;
	err = copy_process_state(p, parent, f);
	if (!err)
		err = copy_files_fs(t, f);
	if (!err)
		err = sem_copy_undo(t, f & CLONE_SYSVSEM);
	/* Handlers back to default, ignoring stays: on the child's own copy
	 * (clone3 refuses CLONE_CLEAR_SIGHAND with CLONE_SIGHAND). */
	if (f & CLONE_CLEAR_SIGHAND)
		for (int i = 0; i < 64; i++)
			if (p->sighand->action[i].handler != (uint64_t)SIG_IGN)
				p->sighand->action[i] = (struct ksigaction){ 0 };
	if (!err)
		err = copy_mm(t, p, parent, f);
	if (!err)
		err = platform_thread_fpu_inherit(t->plat, pt->plat);
	if (!err && (f & CLONE_PIDFD))
		err = fd_check_free();
	if (!err && (f & CLONE_PIDFD)) {
		/* Linux's copy_process writes the pidfd word before the child
		 * is visible and fails the clone with EFAULT: try it now, while
		 * nobody can see the child (the number is written below). */
		int none = -1;
		if (copy_to_guest(c->pidfd, &none, sizeof(none)))
			err = -EFAULT;
	}
	if (err < 0) {
		free_unstarted(t, p);
		return err;
	}

	init_child_thread(t, c);
	sched_fork(t, pt);

	struct vfork_done vd = { .done = false };
	waitq_init(&vd.wq);
	pthread_mutex_lock(&tasklist_lock);
	int pid = pid_alloc(p);
	if (pid < 0) {
		pthread_mutex_unlock(&tasklist_lock);
		free_unstarted(t, p);
		return pid;
	}
	p->pid = t->tid = pid;
	tid_set(pid, t);
	p->pgid = parent->pgid;
	p->sid = parent->sid;
	if (f & CLONE_PARENT) {
		process_attach(p, parent->parent);
		p->parent_tid = parent->parent_tid;
		p->exit_signal = parent->exit_signal;
	} else {
		process_attach(p, parent);
		p->parent_tid = current->tid;
		p->exit_signal = c->exit_signal;
	}
	if (f & CLONE_VFORK)
		p->vfork = &vd;
	pthread_mutex_unlock(&tasklist_lock);
	int pidfd = (f & CLONE_PIDFD) ? pidfd_install(p) : -1; /* a free fd was checked */

	/* Written in the parent's memory, as Linux does before the child runs. */
	if (f & CLONE_PARENT_SETTID)
		copy_to_guest(c->parent_tid, &pid, sizeof(pid));
	if (f & CLONE_PIDFD)
		copy_to_guest(c->pidfd, &pidfd, sizeof(pidfd));

	if (thread_start(t)) {
		klog("cannot start a kernel thread for pid %d", pid);
		process_exit(p, SIGKILL);
		process_end(t); /* it never ran: end it as its thread would */
	}
	if (f & CLONE_VFORK) {
		/* Killable only, like Linux's wait_for_vfork_done(). */
		while (wait_event(&vd.wq, __atomic_load_n(&vd.done, __ATOMIC_ACQUIRE), NULL) &&
		       !pt->exiting && !parent->exited)
			;
		pthread_mutex_lock(&tasklist_lock);
		if (p == pid_lookup(pid) && p->vfork == &vd)
			p->vfork = NULL; /* we were killed first */
		pthread_mutex_unlock(&tasklist_lock);
	}
	return pid;
}

long sys_fork(const struct sysargs *a)
{
	return do_clone(&(struct clone_req){ .exit_signal = SIGCHLD });
}

long sys_vfork(const struct sysargs *a)
{
	return do_clone(&(struct clone_req){ .flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD });
}

/* x86-64 clone(flags, stack, parent_tid, child_tid, tls). */
long sys_clone(const struct sysargs *a)
{
	/* An int's worth of flags; an exit signal above 64 is taken, and no
	 * signal is sent (Linux's do_notify_parent checks it then). */
	uint32_t flags = (uint32_t)a->a[0];
	struct clone_req c = {
		.flags = flags & ~(uint32_t)CSIGNAL, .exit_signal = (int)(flags & CSIGNAL),
		.stack = a->a[1], .parent_tid = a->a[2], .child_tid = a->a[3], .tls = a->a[4],
		.pidfd = a->a[2],
	};
	return do_clone(&c);
}

#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88
#define MAX_PID_NS_LEVEL 32
#define CLONE3_KNOWN_FLAGS (0xffffffffULL | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP)
#define CLONE_NEWTIME_FLAG 0x80ULL

/* Linux's copy_struct_from_user(): a shorter struct is zero-extended,
 * a longer one must have a zero tail (E2BIG). */
static int copy_clone_args(struct clone_args *ca, gaddr_t uargs, uint64_t size)
{
	memset(ca, 0, sizeof(*ca));
	if (copy_from_guest(ca, uargs, MIN(size, sizeof(*ca))))
		return -EFAULT;
	uint8_t rest[256];
	for (uint64_t at = sizeof(*ca); at < size; at += sizeof(rest)) {
		size_t n = MIN(sizeof(rest), size - at);
		if (copy_from_guest(rest, uargs + at, n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++)
			if (rest[i])
				return -E2BIG;
	}
	return 0;
}

/* Linux's clone3_args_valid(). */
static bool clone3_args_valid(const struct clone_args *ca)
{
	if (ca->flags & ~CLONE3_KNOWN_FLAGS)
		return false;
	/* Reserved for clone3's own use: CLONE_DETACHED and the exit signal
	 * byte, save CLONE_NEWTIME which lives there. */
	if (ca->flags & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME_FLAG)))
		return false;
	if ((ca->flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) == (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND))
		return false;
	if ((ca->flags & (CLONE_THREAD | CLONE_PARENT)) && ca->exit_signal)
		return false;
	if ((ca->stack == 0) != (ca->stack_size == 0))
		return false;
	if (ca->stack && (ca->stack_size > TASK_SIZE_MAX || ca->stack > TASK_SIZE_MAX - ca->stack_size))
		return false; /* access_ok() */
	return true;
}

long sys_clone3(const struct sysargs *a)
{
	struct clone_args ca;
	uint64_t size = a->a[1];
	if (size > PAGE_SIZE)
		return -E2BIG;
	if (size < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	int err = copy_clone_args(&ca, a->a[0], size);
	if (err)
		return err;
	if (ca.set_tid_size > MAX_PID_NS_LEVEL || (!ca.set_tid && ca.set_tid_size) ||
	    (ca.set_tid && !ca.set_tid_size))
		return -EINVAL;
	if (ca.exit_signal & ~(uint64_t)CSIGNAL || ca.exit_signal > 64)
		return -EINVAL;
	if ((ca.flags & CLONE_INTO_CGROUP) && (ca.cgroup > INT32_MAX || size < CLONE_ARGS_SIZE_VER2))
		return -EINVAL;
	struct clone_req c = {
		.flags = ca.flags, .exit_signal = (int)ca.exit_signal,
		.stack = ca.stack ? ca.stack + ca.stack_size : 0,
		.parent_tid = ca.parent_tid, .child_tid = ca.child_tid, .tls = ca.tls,
		.pidfd = ca.pidfd, .set_tid_size = (int)ca.set_tid_size,
	};
	pid_t set_tid[MAX_PID_NS_LEVEL] = { 0 };
	if (ca.set_tid && copy_from_guest(set_tid, ca.set_tid, ca.set_tid_size * sizeof(pid_t)))
		return -EFAULT;
	c.set_tid[0] = set_tid[0]; /* the innermost namespace's */
	if (!clone3_args_valid(&ca))
		return -EINVAL;
	return do_clone(&c);
}
