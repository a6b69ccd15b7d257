/* New processes and threads: fork, vfork, clone and clone3. A child
 * without CLONE_VM gets a host process of its own with a copy-on-write
 * copy of the parent's memory (mm_fork); with CLONE_VM (vfork,
 * posix_spawn) it runs as another host thread of the parent's host
 * process until it execs or exits. A thread (CLONE_THREAD) is another
 * host thread of its process's host process, for good. */
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/task.h"
#include "kernel/syscall.h"
#include "kernel/pidfd.h"
#include "fs/file.h"
#include "fs/fs.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "platform/platform.h"
#include "kernel/cputime.h"

struct clone_req {
	uint64_t flags;
	int exit_signal;
	gaddr_t stack, parent_tid, child_tid, tls, pidfd;
	bool clone3;
};

#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | 0x80 /* CLONE_NEWTIME */)

/* Linux's checks in copy_process(), in its order. */
static long check_flags(const struct clone_req *c)
{
	uint64_t f = c->flags;
	if ((f & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS) ||
	    (f & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
		return -EINVAL;
	if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND))
		return -EINVAL;
	if ((f & CLONE_SIGHAND) && !(f & CLONE_VM))
		return -EINVAL;
	if ((f & CLONE_PARENT) && current->proc->pid == 1)
		return -EINVAL; /* init's siblings would have no parent */
	if (f & CLONE_PIDFD) {
		if (f & (CLONE_DETACHED | CLONE_THREAD))
			return -EINVAL;
		if (!c->clone3 && (f & CLONE_PARENT_SETTID))
			return -EINVAL; /* both use parent_tid */
	}
	if (f & NAMESPACE_FLAGS)
		return -EPERM; /* no namespaces inside the sandbox */
	if ((f & CLONE_THREAD) && (f & (CLONE_FILES | CLONE_FS)) != (CLONE_FILES | CLONE_FS)) {
		/* fd tables and cwd/root belong to processes here, not to
		 * threads; every libc and Go share both. */
		kdebug("clone: a thread with its own files or fs is not supported");
		return -EINVAL;
	}
	return 0;
}

/* The new process's copy of (or share in) the parent's state. */
static int copy_process_state(struct process *p, struct process *parent, uint64_t f)
{
	pthread_mutex_lock(&parent->lock);
	memcpy(p->sigactions, parent->sigactions, sizeof(p->sigactions));
	memcpy(p->rlimits, parent->rlimits, sizeof(p->rlimits));
	memcpy(p->comm, parent->comm, sizeof(p->comm));
	p->uid = parent->uid;
	p->gid = parent->gid;
	p->ruid = parent->ruid;
	p->suid = parent->suid;
	p->fsuid = parent->fsuid;
	p->rgid = parent->rgid;
	p->sgid = parent->sgid;
	p->fsgid = parent->fsgid;
	p->umask = parent->umask;
	p->dumpable = parent->dumpable;
	proc_ext_fork(p, parent);
	struct file *exe = parent->exe ? file_get(parent->exe) : NULL;
	pthread_mutex_unlock(&parent->lock);
	process_set_exe(p, exe);
	p->files = (f & CLONE_FILES) ? fdtable_get(parent->files) : fdtable_copy(parent->files);
	p->fs = (f & CLONE_FS) ? fs_struct_get(parent->fs) : fs_struct_copy(parent->fs);
	return p->files && p->fs ? 0 : -ENOMEM;
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
	if (p->files)
		fdtable_put(p->files);
	if (p->fs)
		fs_struct_put(p->fs);
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
	/* Linux: a child sharing memory without vfork's wait would share the
	 * alternate stack, so it starts without one. */
	if ((f & (CLONE_VM | CLONE_VFORK)) == CLONE_VM)
		t->altstack = (struct altstack){ .flags = SS_DISABLE };
	else
		t->altstack = pt->altstack;
	t->clear_child_tid = (f & CLONE_CHILD_CLEARTID) ? c->child_tid : 0;
	t->set_child_tid = (f & CLONE_CHILD_SETTID) ? c->child_tid : 0;
}

/* CLONE_THREAD: a new thread of the current process, on a new host
 * thread of its host process. */
static long clone_thread(const struct clone_req *c)
{
	struct thread *pt = current;
	struct process *p = pt->proc;
	struct thread *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->proc = p;
	init_child_thread(t, c);
	long err = platform_thread_create(p->mm->as, &t->plat);
	if (!err && (err = platform_thread_fpu_inherit(t->plat, pt->plat)))
		platform_thread_release(t->plat);
	if (err) {
		free(t);
		return err;
	}
	sched_fork(t, pt); /* after t->plat: affinity goes to the host thread */
	if ((err = thread_add(p, t))) {
		cputime_thread_exit(t);
		platform_thread_release(t->plat);
		free(t);
		return err;
	}
	int tid = t->tid;
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
	if (f & CLONE_CLEAR_SIGHAND) /* handlers back to default, ignoring stays */
		for (int i = 0; i < 64; i++)
			if (p->sigactions[i].handler != (uint64_t)SIG_IGN)
				p->sigactions[i] = (struct ksigaction){ 0 };
	if (!err)
		err = copy_mm(t, p, parent, f);
	if (!err)
		err = platform_thread_fpu_inherit(t->plat, pt->plat);
	if (!err && (f & CLONE_PIDFD))
		err = fd_check_free();
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
		p->exit_signal = parent->exit_signal;
	} else {
		process_attach(p, parent);
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
	struct clone_req c = {
		.flags = a->a[0] & ~(uint64_t)CSIGNAL, .exit_signal = (int)(a->a[0] & CSIGNAL),
		.stack = a->a[1], .parent_tid = a->a[2], .child_tid = a->a[3], .tls = a->a[4],
		.pidfd = a->a[2],
	};
	if (c.flags >> 32)
		c.flags &= 0xffffffffULL; /* clone takes an int's worth of flags */
	if (c.exit_signal > 64)
		return -EINVAL;
	return do_clone(&c);
}

#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88

long sys_clone3(const struct sysargs *a)
{
	struct clone_args ca;
	uint64_t size = a->a[1];
	memset(&ca, 0, sizeof(ca));
	if (size < CLONE_ARGS_SIZE_VER0 || size > PAGE_SIZE)
		return -EINVAL;
	if (copy_from_guest(&ca, a->a[0], MIN(size, sizeof(ca))))
		return -EFAULT;
	if (size > sizeof(ca)) { /* a newer struct: the rest must be zero */
		uint8_t rest[256];
		for (uint64_t at = sizeof(ca); at < size; at += sizeof(rest)) {
			size_t n = MIN(sizeof(rest), size - at);
			if (copy_from_guest(rest, a->a[0] + at, n))
				return -EFAULT;
			for (size_t i = 0; i < n; i++)
				if (rest[i])
					return -E2BIG;
		}
	}
	if (ca.exit_signal & ~(uint64_t)CSIGNAL || ca.exit_signal > 64)
		return -EINVAL;
	if ((ca.flags & CSIGNAL) || (ca.flags & (CLONE_DETACHED)))
		return -EINVAL;
	if ((ca.stack == 0) != (ca.stack_size == 0))
		return -EINVAL;
	if (ca.set_tid || ca.set_tid_size)
		return -EPERM; /* choosing pids needs privileges */
	if (ca.flags & CLONE_INTO_CGROUP)
		return -EINVAL; /* no cgroups in the sandbox */
	if ((ca.flags & CLONE_CLEAR_SIGHAND) && (ca.flags & CLONE_SIGHAND))
		return -EINVAL;
	struct clone_req c = {
		.flags = ca.flags, .exit_signal = (int)ca.exit_signal,
		.stack = ca.stack ? ca.stack + ca.stack_size : 0,
		.parent_tid = ca.parent_tid, .child_tid = ca.child_tid, .tls = ca.tls,
		.pidfd = ca.pidfd, .clone3 = true,
	};
	return do_clone(&c);
}
