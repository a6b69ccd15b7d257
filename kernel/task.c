/* Guest processes and threads: creation, the loop in which a kernel
 * thread serves its guest thread (run until trap, handle, resume), and
 * the end of a process (its memory and files go at once; a zombie stays
 * for its parent's wait, its children go to init). */
#include <linux/audit.h>
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kernel/task.h"
#include "ipc/ipc.h"
#include "kernel/cputime.h"
#include "kernel/exec.h"
#include "kernel/fault.h"
#include "kernel/kthread.h"
#include "kernel/limits.h"
#include "kernel/pidfd.h"
#include "kernel/tty.h"
#include "kernel/timers.h"
#include "kernel/syscall.h"
#include "fs/fs.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "platform/platform.h"

__thread struct thread *current;

/* Processes whose threads have not finished yet; the sandbox ends when
 * it is 0. tasklist_lock. */
static int nr_running;
static struct waitq sandbox_wq = WAITQ_INIT(sandbox_wq);

struct process *process_alloc(void)
{
	struct process *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (!(p->sighand = sighand_new())) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	waitq_init(&p->child_wq);
	waitq_init(&p->thread_exit_wq);
	rlimits_init_default(p->rlimits);
	p->uid = p->ruid = p->suid = p->fsuid = getuid();
	p->gid = p->rgid = p->sgid = p->fsgid = getgid();
	p->dumpable = 1;
	p->exit_signal = SIGCHLD;
	proc_ext_init(p);
	clock_gettime(CLOCK_MONOTONIC, &p->start_time);
	return p;
}

struct file *process_set_exe(struct process *p, struct file *f)
{
	pthread_mutex_lock(&p->lock);
	struct file *old = p->exe;
	if (old && p->exe_denies_write)
		file_allow_write(old);
	p->exe = f;
	/* Fails only if a writer slipped in since exec checked the file. */
	p->exe_denies_write = f && file_deny_write(f);
	pthread_mutex_unlock(&p->lock);
	return old;
}

struct sighand *sighand_new(void)
{
	struct sighand *sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	sh->count = 1;
	pthread_mutex_init(&sh->lock, NULL);
	return sh;
}

void sighand_put(struct sighand *sh)
{
	if (sh && __atomic_sub_fetch(&sh->count, 1, __ATOMIC_ACQ_REL) == 0) {
		pthread_mutex_destroy(&sh->lock);
		free(sh);
	}
}

int sighand_users_locked(const struct process *p)
{
	return __atomic_load_n(&p->sighand->count, __ATOMIC_ACQUIRE);
}

struct ksigaction sigaction_get_locked(struct process *p, int sig)
{
	struct sighand *sh = p->sighand;
	pthread_mutex_lock(&sh->lock);
	struct ksigaction ka = sh->action[sig - 1];
	pthread_mutex_unlock(&sh->lock);
	return ka;
}

struct ksigaction sigaction_get(struct process *p, int sig)
{
	pthread_mutex_lock(&p->lock);
	struct ksigaction ka = sigaction_get_locked(p, sig);
	pthread_mutex_unlock(&p->lock);
	return ka;
}

struct ksigaction sigaction_set_locked(struct process *p, int sig, const struct ksigaction *ka)
{
	struct sighand *sh = p->sighand;
	pthread_mutex_lock(&sh->lock);
	struct ksigaction old = sh->action[sig - 1];
	sh->action[sig - 1] = *ka;
	pthread_mutex_unlock(&sh->lock);
	return old;
}

void process_free(struct process *p)
{
	/* Linux drops a task's sighand when it is released (__exit_signal):
	 * a zombie still counts. */
	sighand_put(p->sighand);
	cputime_process_free(p);
	fput(process_set_exe(p, NULL));
	proc_ext_free(p);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void thread_set_comm_locked(struct thread *t, const char name[16])
{
	memcpy(t->comm, name, sizeof(t->comm));
	t->comm[sizeof(t->comm) - 1] = '\0';
	if (t->tid == t->proc->pid)
		memcpy(t->proc->comm, t->comm, sizeof(t->proc->comm));
}

void thread_notify(struct thread *t)
{
	thread_wake(t);
	/* It sets in_guest before its last look at signals and exit flags;
	 * we set ours before reading in_guest. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&t->in_guest) && t->plat)
		platform_thread_kick(t->plat);
}

void process_exit(struct process *p, int wait_status)
{
	pthread_mutex_lock(&p->lock);
	if (!p->exited) {
		p->exited = true;
		p->exit_status = wait_status;
	}
	for (struct thread *t = p->threads; t; t = t->next_thread) {
		t->exiting = true;
		if (t != current)
			thread_notify(t);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Link t at the end of p's threads (both locks held). */
static void thread_link(struct process *p, struct thread *t)
{
	struct thread **tt = &p->threads;
	while (*tt)
		tt = &(*tt)->next_thread;
	*tt = t;
	t->next_thread = NULL;
	p->nr_threads++;
	p->thread = p->threads;
}

static void thread_unlink(struct process *p, struct thread *t)
{
	for (struct thread **tt = &p->threads; *tt; tt = &(*tt)->next_thread)
		if (*tt == t) {
			*tt = t->next_thread;
			p->nr_threads--;
			break;
		}
	p->thread = p->threads;
}

int thread_add(struct process *p, struct thread *t)
{
	pthread_mutex_lock(&tasklist_lock);
	int tid = t->tid ? t->tid : tid_alloc(t);
	if (tid < 0) {
		pthread_mutex_unlock(&tasklist_lock);
		return tid;
	}
	pthread_mutex_lock(&p->lock);
	/* A dying or exec-ing process takes no new thread (Linux: a fatal
	 * signal pending in the cloning thread). */
	bool dying = p->exited || p->execing || (current && current->proc == p && current->exiting);
	if (!dying) {
		t->tid = tid;
		thread_link(p, t);
	}
	pthread_mutex_unlock(&p->lock);
	if (dying && tid != p->pid)
		pid_free(tid);
	pthread_mutex_unlock(&tasklist_lock);
	return dying ? -ERESTARTNOINTR : 0;
}

void thread_discard(struct thread *t)
{
	struct process *p = t->proc;
	pthread_mutex_lock(&tasklist_lock);
	pthread_mutex_lock(&p->lock);
	thread_unlink(p, t);
	pid_free(t->tid);
	pthread_mutex_unlock(&p->lock);
	pidfd_notify_exit(); /* a CLONE_PIDFD pidfd may name it */
	pthread_mutex_unlock(&tasklist_lock);
	cputime_thread_exit(t);
	platform_thread_release(t->plat);
	sem_exit(t);
	thread_exit_files(t);
	free(t);
}

int process_single_thread(void)
{
	struct thread *me = current;
	struct process *p = me->proc;
	pthread_mutex_lock(&p->lock);
	if (p->execing || p->exited) { /* another thread's exec or exit kills us */
		me->exiting = true;
		pthread_mutex_unlock(&p->lock);
		return -EINTR;
	}
	p->execing = me;
	for (struct thread *t = p->threads; t; t = t->next_thread)
		if (t != me) {
			t->exiting = true;
			thread_notify(t);
		}
	pthread_mutex_unlock(&p->lock);
	/* Killable only, like Linux's de_thread. */
	while (wait_event(&p->thread_exit_wq, __atomic_load_n(&p->nr_threads, __ATOMIC_ACQUIRE) == 1, NULL) &&
	       !me->exiting && !p->exited)
		;
	pthread_mutex_lock(&tasklist_lock);
	pthread_mutex_lock(&p->lock);
	p->execing = NULL;
	bool killed = me->exiting || p->exited;
	if (!killed && me->tid != p->pid) {
		/* The exec-ing thread becomes the leader: it takes the pid.
		 * A thread pidfd of its own tid now names nobody. */
		pid_free(me->tid);
		for (struct process *c = p->children; c; c = c->sibling)
			if (c->parent_tid == me->tid)
				c->parent_tid = p->pid;
		me->tid = p->pid;
		tid_set(p->pid, me);
		memcpy(p->comm, me->comm, sizeof(p->comm)); /* the leader's name now */
		pidfd_notify_exit();
	}
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&tasklist_lock);
	return killed ? -EINTR : 0;
}

void vfork_release(struct process *p)
{
	pthread_mutex_lock(&tasklist_lock);
	struct vfork_done *vd = p->vfork;
	p->vfork = NULL;
	if (vd) {
		vd->done = true;
		waitq_wake_all(&vd->wq);
	}
	pthread_mutex_unlock(&tasklist_lock);
}

/* The host process died under us (killed from outside, or the stub
 * failed): report it the way the guest would have died. */
static int host_death_status(int host_status)
{
	if (WIFSIGNALED(host_status))
		return WTERMSIG(host_status);
	return SIGKILL;
}

/* A fault the kernel does not resolve becomes the guest's signal, with
 * the host's siginfo (what Linux would tell the guest on this CPU). */
static void fault_to_signal(struct thread *t, struct trap *trap)
{
	siginfo_t si;
	memcpy(&si, trap->siginfo, sizeof(si));
	int sig = trap->signo;
	if (sig == SIGSEGV && mm_fault_is_bus(t->proc->mm, trap->addr)) {
		sig = SIGBUS; /* past the end of a mapped file */
		si.si_code = BUS_ADRERR;
	} else if (sig == SIGSEGV && si.si_code == SEGV_MAPERR && mm_is_mapped(t->proc->mm, trap->addr)) {
		si.si_code = SEGV_ACCERR; /* PROT_NONE: mapped for Linux, not in the host */
	}
	si.si_signo = sig;
	kdebug("pid %d: signal %d (code %d) at rip %#lx, address %#lx", t->proc->pid, sig, si.si_code,
	       t->regs.rip, trap->addr);
	signal_force(sig, &si);
}

static void serve(struct thread *t)
{
	struct process *p = t->proc;
	unsigned stale_faults = 0; /* in a row: a bound, should the host disagree for good */
	while (!t->exiting) {
		/* Senders kick a thread in the guest: say so before the last
		 * look for signals (they set theirs before looking at ours). */
		atomic_store(&t->in_guest, true);
		if (signal_pending()) {
			atomic_store(&t->in_guest, false);
			signal_deliver(NULL, -1);
			continue;
		}
		struct trap trap;
		bool set_fs = t->fs_base_dirty;
		platform_thread_set_ids(t->plat, p->pid, t->tid);
		int err = platform_run(t->plat, &t->regs, &set_fs, t->fs_base, &trap);
		atomic_store(&t->in_guest, false);
		cputime_note_spin(t);
		t->fs_base_dirty = set_fs;
		if (err) {
			klog("pid %d: cannot resume the guest (%s); killing it", p->pid, strerror(-err));
			process_kill(p, SIGKILL);
			return;
		}
		if (trap.kind != TRAP_FAULT)
			stale_faults = 0;
		switch (trap.kind) {
		case TRAP_SYSCALL: {
			struct sysargs args = {
				.nr = (int)t->regs.rax,
				.a = { t->regs.rdi, t->regs.rsi, t->regs.rdx, t->regs.r10, t->regs.r8, t->regs.r9 },
			};
			long ret;
			if (trap.arch != AUDIT_ARCH_X86_64) {
				kdebug("pid %d: system call %d of another ABI (arch %#x)", p->pid, args.nr, trap.arch);
				ret = -ENOSYS;
			} else {
				ret = syscall_dispatch(&personality_x86_64, &args);
			}
			if (t->exiting)
				return;
			/* rt_sigreturn restored every register: no restart. */
			if (args.nr == SYS_rt_sigreturn)
				signal_deliver(NULL, -1);
			else
				signal_deliver(&ret, args.nr);
			break;
		}
		case TRAP_FAULT:
			/* A write to pages shared since fork: copied, retried. */
			if (trap.signo == SIGSEGV && (t->regs.err & 2) && mm_cow_fault(p->mm, trap.addr)) {
				__atomic_add_fetch(&t->kernel_minflt, 1, __ATOMIC_RELAXED);
				break;
			}
			/* Another thread already made the access valid. */
			if (trap.signo == SIGSEGV && stale_faults < 4 &&
			    mm_fault_stale(p->mm, trap.addr, t->regs.err)) {
				stale_faults++;
				break;
			}
			/* A shared file mapping past the file's end: the file grew. */
			if (trap.signo == SIGSEGV && mm_fault_file_grew(p->mm, trap.addr))
				break;
			stale_faults = 0;
			fault_to_signal(t, &trap);
			signal_deliver(NULL, -1);
			break;
		case TRAP_INTERRUPT: /* kicked: a signal came */
			signal_deliver(NULL, -1);
			break;
		case TRAP_DEAD:
			process_kill(p, host_death_status(trap.host_status));
			return;
		}
	}
}

/* Who adopts the orphans of p: the nearest living ancestor that is a
 * child subreaper, else init (Linux's find_new_reaper). tasklist_lock. */
static struct process *new_reaper(struct process *p)
{
	for (struct process *a = p->parent; a; a = a->parent)
		if (a->child_subreaper && a->state == PROC_ALIVE && !a->exited)
			return a;
	struct process *init = pid_lookup(1);
	return init == p ? NULL : init;
}

/* POSIX's rule for stopped jobs (Linux's kill_orphaned_pgrp): when p's
 * exit (parent NULL: p's own group, its parent being p->parent) or its
 * children's move to a new parent (parent: the exiting father, for the
 * group of child p) orphans a process group that has stopped members,
 * the group gets SIGHUP, then SIGCONT (tasklist_lock held). */
static void kill_orphaned_pgrp(struct process *p, struct process *parent)
{
	const struct process *ignored = parent ? NULL : p;
	if (!parent)
		parent = p->parent;
	if (!parent || parent->pgid == p->pgid || parent->sid != p->sid || !pgrp_will_orphan(p->pgid, ignored))
		return;
	bool stopped = false;
	for (int pid = 1; pid < PID_MAX && !stopped; pid++) {
		struct process *q = pid_lookup(pid);
		if (q && q->pgid == p->pgid && q->state == PROC_ALIVE) {
			pthread_mutex_lock(&q->lock);
			stopped = q->stopped;
			pthread_mutex_unlock(&q->lock);
		}
	}
	if (!stopped)
		return;
	static const int sigs[] = { SIGHUP, SIGCONT };
	for (int k = 0; k < 2; k++)
		for (int pid = 1; pid < PID_MAX; pid++) {
			struct process *q = pid_lookup(pid);
			if (q && q->pgid == p->pgid && q->state == PROC_ALIVE)
				signal_send_info(q, NULL, sigs[k], &(siginfo_t){ .si_signo = sigs[k], .si_code = SI_KERNEL });
		}
}

/* c's parent thread left (the last thread of p, or one of several):
 * send c the parent-death signal it asked for, from p, as Linux's
 * SEND_SIG_NOINFO (tasklist_lock held). */
static void send_pdeath(struct process *c, struct process *p)
{
	pthread_mutex_lock(&c->lock); /* c->thread may be ending */
	int pdeath = c->thread ? c->thread->pdeath_signal : 0;
	pthread_mutex_unlock(&c->lock);
	if (pdeath)
		signal_send_info(c, NULL, pdeath, &(siginfo_t){ .si_signo = pdeath, .si_code = SI_USER,
								._sifields._kill = { p->pid, p->uid } });
}

/* Thread t of p leaves while others stay: its children's parent becomes
 * another thread of p, heir (Linux's find_alive_thread in
 * forget_original_parent), and a parent-death signal fires, as for the
 * death of a parent process (tasklist_lock held, p->lock not). */
static void reparent_thread_children(struct process *p, const struct thread *t, int heir)
{
	for (struct process *c = p->children; c; c = c->sibling) {
		if (c->parent_tid != t->tid)
			continue;
		c->parent_tid = heir;
		send_pdeath(c, p);
	}
}

/* Give the children of p to their new reaper, and send the parent-death
 * signals they asked for (tasklist_lock held). */
static void reparent_children(struct process *p)
{
	struct process *reaper = new_reaper(p);
	int reaper_tid = 0; /* the thread of the reaper that adopts them */
	if (reaper) {
		pthread_mutex_lock(&reaper->lock);
		reaper_tid = reaper->thread ? reaper->thread->tid : reaper->pid;
		pthread_mutex_unlock(&reaper->lock);
	}
	while (p->children) {
		struct process *c = p->children;
		p->children = c->sibling;
		c->parent = reaper;
		c->parent_tid = reaper_tid;
		c->sibling = NULL;
		send_pdeath(c, p);
		if (c->state == PROC_ALIVE)
			kill_orphaned_pgrp(c, p);
		if (reaper) {
			c->sibling = reaper->children;
			reaper->children = c;
			if (c->state == PROC_ZOMBIE) {
				if (c->exit_signal > 0 && c->exit_signal <= 64)
					signal_send(reaper, c->exit_signal);
				waitq_wake_all(&reaper->child_wq);
			}
		}
	}
}

/* Whether p's parent lets its children vanish without a wait (SIGCHLD
 * ignored or SA_NOCLDWAIT): then they are never zombies. */
static bool parent_autoreaps(const struct ksigaction *parent_sigchld)
{
	return parent_sigchld->handler == (uint64_t)SIG_IGN || (parent_sigchld->flags & SA_NOCLDWAIT);
}

void process_unlink(struct process *p)
{
	struct process *parent = p->parent;
	if (parent)
		for (struct process **pp = &parent->children; *pp; pp = &(*pp)->sibling)
			if (*pp == p) {
				*pp = p->sibling;
				break;
			}
	p->parent = NULL;
	p->state = PROC_REAPED;
	pid_free(p->pid);
}

/* Address spaces of ended processes are freed by a janitor thread: the
 * host process must be dead and reaped first, which the parent's wait
 * need not wait for. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct mm **v;
	size_t n, cap;
	bool started;
} janitor = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER };

static void *janitor_main(void *arg)
{
	pthread_mutex_lock(&janitor.lock);
	for (;;) {
		while (!janitor.n)
			pthread_cond_wait(&janitor.more, &janitor.lock);
		struct mm *mm = janitor.v[--janitor.n];
		pthread_mutex_unlock(&janitor.lock);
		mm_put(mm);
		pthread_mutex_lock(&janitor.lock);
		if (!janitor.n)
			pthread_cond_broadcast(&janitor.more);
	}
	return NULL;
}

/* Drop mm in the background (synchronously if that cannot be done). */
static void mm_put_later(struct mm *mm)
{
	pthread_mutex_lock(&janitor.lock);
	if (!janitor.started) {
		pthread_t t;
		janitor.started = pthread_create(&t, NULL, janitor_main, NULL) == 0;
		if (janitor.started)
			pthread_detach(t);
	}
	if (janitor.started && janitor.n == janitor.cap) {
		size_t cap = janitor.cap ? 2 * janitor.cap : 16;
		struct mm **v = realloc(janitor.v, cap * sizeof(*v));
		if (v) {
			janitor.v = v;
			janitor.cap = cap;
		}
	}
	if (janitor.started && janitor.n < janitor.cap) {
		janitor.v[janitor.n++] = mm;
		pthread_cond_signal(&janitor.more);
		mm = NULL;
	}
	pthread_mutex_unlock(&janitor.lock);
	if (mm)
		mm_put(mm);
}

/* Wait until the janitor has freed everything queued (end of sandbox). */
static void janitor_drain(void)
{
	pthread_mutex_lock(&janitor.lock);
	while (janitor.n)
		pthread_cond_wait(&janitor.more, &janitor.lock);
	pthread_mutex_unlock(&janitor.lock);
}

/* The last thread of p is leaving: free what a zombie does not need,
 * then become one (or vanish) and tell the parent. */
void process_end(struct thread *t)
{
	struct process *p = t->proc;
	timers_exit(p); /* no timer fires for a dead process */
	sem_exit(t); /* SysV semaphore undo adjustments */
	/* A zombie has no exe, like Linux's mm-less task. */
	struct file *exe = process_set_exe(p, NULL);
	cputime_note_mm(p, p->mm); /* its peak resident set, for ru_maxrss */
	pthread_mutex_lock(&p->lock);
	struct mm *mm = p->mm;
	p->mm = NULL;
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_lock(&tasklist_lock);
	pthread_mutex_lock(&p->lock);
	thread_unlink(p, t);
	if (t->tid != p->pid)
		pid_free(t->tid);
	tid_set(p->pid, NULL);
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&tasklist_lock);
	fput(exe);
	if (mm) {
		if (__atomic_load_n(&mm->users, __ATOMIC_ACQUIRE) > 1) {
			platform_thread_release(t->plat); /* a vfork child's host thread */
			mm_put(mm);
		} else {
			mm_exit_close(mm); /* SysV shm detaches before the parent hears of the exit */
			platform_as_kill(mm->as);
			mm_put_later(mm);
		}
	}
	shm_exit(p); /* after the detaches, as Linux's exit_shm after exit_mm */
	vfork_release(p);
	thread_exit_files(t);
	tty_process_exit(p); /* a session leader's end hangs up its terminal */
	sigpending_flush(&t->pending);
	free(t);
	current = NULL; /* from here on we act for nobody */

	pthread_mutex_lock(&tasklist_lock);
	kill_orphaned_pgrp(p, NULL);
	reparent_children(p);
	if (p->pid == 1) {
		/* The sandbox's init is gone: like a pid namespace, all go. */
		for (int pid = 2; pid < PID_MAX; pid++) {
			struct process *q = pid_lookup(pid);
			if (q && q->state == PROC_ALIVE)
				process_kill(q, SIGKILL);
		}
	}
	struct process *parent = p->parent;
	p->state = PROC_ZOMBIE;
	if (parent) {
		/* Linux's do_notify_parent: with SA_NOCLDWAIT a handler still
		 * gets SIGCHLD, with SIG_IGN nobody does; both reap at once. */
		struct ksigaction sigchld = sigaction_get(parent, SIGCHLD);
		bool autoreap = parent_autoreaps(&sigchld);
		if (!autoreap || sigchld.handler != (uint64_t)SIG_IGN)
			signal_notify_parent_exit(p);
		if (autoreap) {
			process_unlink(p);
			process_free(p);
			waitq_wake_all(&parent->child_wq); /* wait may now see ECHILD */
		}
	}
	pidfd_notify_exit(); /* pollers of pidfds: p is a zombie or gone */
	nr_running--;
	waitq_wake_all(&sandbox_wq);
	pthread_mutex_unlock(&tasklist_lock);
}

void thread_exit_files(struct thread *t)
{
	/* Detached under the lock: /proc readers take references under it. */
	struct process *p = t->proc;
	pthread_mutex_lock(&p->lock);
	struct fdtable *files = t->files;
	struct fs_struct *fs = t->fs;
	t->files = NULL;
	t->fs = NULL;
	pthread_mutex_unlock(&p->lock);
	if (files)
		fdtable_put(files);
	fs_struct_put(fs);
}

/* What a leaving thread does to its memory while it still has it:
 * clear and wake its CLONE_CHILD_CLEARTID word, walk its robust futexes
 * (Linux's mm_release). */
static void thread_exit_mm(struct thread *t)
{
	futex_thread_exit(t);
}

/* t has left its serve loop. The last thread ends the process; any
 * other just goes. */
static void thread_exit(struct thread *t)
{
	struct process *p = t->proc;
	/* Its host thread's memory may be freed by whoever reaps p. */
	platform_thread_unserve(t->plat);
	/* Gone from /proc before its child-tid word says so (what a
	 * pthread_join that returned sees), though counted until below. */
	__atomic_store_n(&t->leaving, true, __ATOMIC_RELEASE);
	/* Its children go to a sibling before its child-tid word says it
	 * left: a pthread_join that returned finds them there. */
	pthread_mutex_lock(&tasklist_lock);
	if (p->children) {
		pthread_mutex_lock(&p->lock);
		int heir = 0; /* none when the whole group goes: one signal, at its end */
		for (struct thread *o = p->exited ? NULL : p->threads; o && !heir; o = o->next_thread)
			if (o != t && !__atomic_load_n(&o->leaving, __ATOMIC_ACQUIRE))
				heir = o->tid;
		pthread_mutex_unlock(&p->lock);
		if (heir)
			reparent_thread_children(p, t, heir);
	}
	pthread_mutex_unlock(&tasklist_lock);
	if (p->mm)
		thread_exit_mm(t);
	cputime_thread_exit(t); /* while its host thread is there */
	/* Before it stops counting: an execve waiting for the other threads
	 * to go then finds the fd table no longer shared with them. The
	 * last thread keeps its files until its process ends (after its mm,
	 * as before). */
	pthread_mutex_lock(&p->lock);
	bool others = p->nr_threads > 1;
	pthread_mutex_unlock(&p->lock);
	if (others)
		thread_exit_files(t);
	pthread_mutex_lock(&tasklist_lock);
	pthread_mutex_lock(&p->lock);
	bool last = p->nr_threads == 1;
	if (last) {
		if (!p->exited) { /* exit(2) of the last thread */
			p->exited = true;
			p->exit_status = t->exit_code;
		}
	} else {
		thread_unlink(p, t);
		if (t->tid == p->pid)
			tid_set(p->pid, NULL); /* the pid stays the process's */
		else
			pid_free(t->tid);
		/* Signals for the process that t was to take go to another. */
		signal_retarget_locked(p, p->shared_pending.set, t);
		/* Now, while p still counts t: once the lock is dropped the last
		 * thread may end p, and whoever drops its mm destroys the host
		 * process with every host thread in it, ours too. */
		platform_thread_release(t->plat);
		pidfd_notify_exit(); /* thread pidfds naming t */
	}
	pthread_mutex_unlock(&p->lock);
	waitq_wake_all(&p->thread_exit_wq);
	pthread_mutex_unlock(&tasklist_lock);
	if (last) {
		process_end(t);
		return;
	}
	sem_exit(t);
	sigpending_flush(&t->pending);
	free(t);
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	fault_thread_init();
	current = t;
	cputime_thread_start(t);
	if (t->set_child_tid) { /* CLONE_CHILD_SETTID, in the child's memory */
		int tid = t->tid;
		copy_to_guest(t->set_child_tid, &tid, sizeof(tid));
	}
	serve(t);
	thread_exit(t);
	current = NULL;
	return NULL;
}

int thread_start(struct thread *t)
{
	return kthread_run(thread_main, t);
}

/* Link a new process into the tree under parent and count it
 * (tasklist_lock held). */
void process_attach(struct process *p, struct process *parent)
{
	p->parent = parent;
	if (parent) {
		p->sibling = parent->children;
		parent->children = p;
	}
	p->state = PROC_ALIVE;
	nr_running++;
}

static bool sandbox_empty(void)
{
	pthread_mutex_lock(&tasklist_lock);
	bool empty = nr_running == 0;
	pthread_mutex_unlock(&tasklist_lock);
	return empty;
}

/* The program to run: a name without a slash is looked up in the PATH of
 * the guest's environment, inside the sandbox, like execvp. *found gets
 * the path used; the file opened for exec, or NULL with *err. */
static struct file *open_program(const char *name, char *const envp[], char *found, size_t size,
				 int *err)
{
	if (strchr(name, '/') || !*name) {
		snprintf(found, size, "%s", name);
		return fs_open_exec_file(name, err);
	}
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], "PATH=", 5))
			path = envp[i] + 5;
	int best = -ENOENT;
	for (const char *dir = path;; dir++) {
		size_t len = strcspn(dir, ":");
		snprintf(found, size, "%.*s%s%s", (int)len, dir, len ? "/" : "", name);
		struct file *f = fs_open_exec_file(found, err);
		if (f)
			return f;
		if (*err == -EACCES)
			best = *err; /* execvp reports EACCES if nothing better turns up */
		dir += len;
		if (!*dir) {
			*err = best;
			return NULL;
		}
	}
}

int run_init_process(const char *name, char *const argv[], char *const envp[])
{
	char path[PATH_MAX];
	int err;
	struct file *file = open_program(name, envp, path, sizeof(path), &err);
	if (!file)
		return err;
	struct process *p = process_alloc();
	struct thread *t = calloc(1, sizeof(*t));
	if (!p || !t)
		return -ENOMEM;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	memcpy(p->comm, base, strnlen(base, sizeof(p->comm) - 1));
	memcpy(t->comm, p->comm, sizeof(t->comm));
	t->timer_slack_ns = t->default_slack_ns = DEFAULT_TIMER_SLACK_NS;

	/* Load into a bare mm first, so a bad program fails before any host
	 * process exists; then create the host process and map it all. */
	struct mm *mm = mm_new(NULL);
	if (!mm)
		return -ENOMEM;
	/* A vector of our own, which a #! script may rewrite. */
	size_t argc = 0;
	while (argv && argv[argc])
		argc++;
	char **args = calloc(argc + 1, sizeof(*args));
	for (size_t i = 0; args && i < argc; i++)
		if (!(args[i] = strdup(argv[i])))
			return -ENOMEM;
	if (!args)
		return -ENOMEM;
	struct file *exe = NULL;
	err = exec_image(mm, file, path, &args, envp, &t->regs, false, &exe);
	if (!err)
		process_set_exe(p, exe);
	for (size_t i = 0; args && args[i]; i++)
		free(args[i]);
	free(args);
	if (err) {
		mm_put(mm);
		return err;
	}
	err = platform_as_create(&mm->as);
	for (size_t i = 0; !err && i < mm->vmas.n; i++)
		err = mm_host_map(mm, &mm->vmas.v[i]);
	if (!err)
		err = platform_thread_create(mm->as, &t->plat);
	if (err) {
		klog("cannot create the guest process: %s", strerror(-err));
		mm_put(mm);
		return -EAGAIN;
	}
	p->mm = mm;
	t->files = fdtable_new_stdio();
	t->fs = fs_struct_new();
	if (!t->files || !t->fs)
		return -ENOMEM;
	t->proc = p;
	p->threads = p->thread = t;
	p->nr_threads = 1;

	pthread_mutex_lock(&tasklist_lock);
	p->pid = t->tid = pid_alloc(p); /* 1 */
	tid_set(p->pid, t);
	p->pgid = p->sid = p->pid;
	process_attach(p, NULL);
	pthread_mutex_unlock(&tasklist_lock);

	if (thread_start(t))
		return -EAGAIN;
	wait_event(&sandbox_wq, sandbox_empty(), NULL);
	janitor_drain();

	/* Everyone is gone; init and orphans left as zombies go now. */
	pthread_mutex_lock(&tasklist_lock);
	int status = p->exit_status;
	for (int pid = 1; pid < PID_MAX; pid++) {
		struct process *q = pid_lookup(pid);
		if (q) {
			process_unlink(q);
			process_free(q);
		}
	}
	pthread_mutex_unlock(&tasklist_lock);
	return status;
}
