/* Signals: pending sets, sending, delivery, job control and the restart
 * of interrupted system calls, after Linux's kernel/signal.c and
 * arch/x86/kernel/signal.c.
 *
 * A signal is sent into a pending set (the process's for kill, a
 * thread's for tgkill and faults); the target thread is woken if it
 * sleeps in the kernel and kicked if it runs guest code. Delivery happens
 * in the thread itself, in signal_deliver on its way back to the guest:
 * the lowest pending unblocked signal (synchronous faults first) gets its
 * default action, or a handler frame is built on the guest stack
 * (arch/x86_64/sigframe.c), and the loop goes on with the new mask. */
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel/proc_ext.h"
#include "kernel/signal.h"
#include "kernel/sigframe.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/timers.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "platform/platform.h"

enum sig_default { ACT_TERM, ACT_CORE, ACT_IGNORE, ACT_STOP, ACT_CONT };

static const unsigned char default_action[65] = {
	[SIGHUP] = ACT_TERM, [SIGINT] = ACT_TERM, [SIGQUIT] = ACT_CORE, [SIGILL] = ACT_CORE,
	[SIGTRAP] = ACT_CORE, [SIGABRT] = ACT_CORE, [SIGBUS] = ACT_CORE, [SIGFPE] = ACT_CORE,
	[SIGKILL] = ACT_TERM, [SIGUSR1] = ACT_TERM, [SIGSEGV] = ACT_CORE, [SIGUSR2] = ACT_TERM,
	[SIGPIPE] = ACT_TERM, [SIGALRM] = ACT_TERM, [SIGTERM] = ACT_TERM, [SIGSTKFLT] = ACT_TERM,
	[SIGCHLD] = ACT_IGNORE, [SIGCONT] = ACT_CONT, [SIGSTOP] = ACT_STOP, [SIGTSTP] = ACT_STOP,
	[SIGTTIN] = ACT_STOP, [SIGTTOU] = ACT_STOP, [SIGURG] = ACT_IGNORE, [SIGXCPU] = ACT_CORE,
	[SIGXFSZ] = ACT_CORE, [SIGVTALRM] = ACT_TERM, [SIGPROF] = ACT_TERM, [SIGWINCH] = ACT_IGNORE,
	[SIGIO] = ACT_TERM, [SIGPWR] = ACT_TERM, [SIGSYS] = ACT_CORE,
	/* 32..64 (real-time) terminate: ACT_TERM is 0. */
};

bool signal_default_ignored(int sig)
{
	return sig > 0 && sig <= 64 && (default_action[sig] == ACT_IGNORE || default_action[sig] == ACT_CONT);
}

/* ---- pending sets ------------------------------------------------------ */

/* Queued siginfos in the sandbox, against RLIMIT_SIGPENDING (Linux counts
 * per user; every guest is the same user). */
static atomic_long queued;

void sigpending_flush(struct sigpending *p)
{
	while (p->head) {
		struct sigqueue *q = p->head;
		p->head = q->next;
		free(q);
		atomic_fetch_sub(&queued, 1);
	}
	p->set = 0;
}

/* Drop every pending instance of the signals in mask. */
static void sigpending_remove(struct sigpending *p, uint64_t mask)
{
	if (!(p->set & mask))
		return;
	p->set &= ~mask;
	for (struct sigqueue **qq = &p->head; *qq;) {
		struct sigqueue *q = *qq;
		if (mask & SIGBIT(q->info.si_signo)) {
			*qq = q->next;
			free(q);
			atomic_fetch_sub(&queued, 1);
		} else {
			qq = &q->next;
		}
	}
}

/* Add sig to a pending set: standard signals coalesce, real-time ones
 * queue while RLIMIT_SIGPENDING allows (past it only the bit is set, or
 * -EAGAIN for rt_sigqueueinfo-style senders). */
static int sigpending_add(struct sigpending *p, int sig, const siginfo_t *info, uint64_t limit)
{
	if (sig < SIGRTMIN && (p->set & SIGBIT(sig)))
		return 0;
	struct sigqueue *q = NULL;
	if ((uint64_t)atomic_fetch_add(&queued, 1) < limit && (q = malloc(sizeof(*q)))) {
		q->next = NULL;
		q->info = *info;
		struct sigqueue **tail = &p->head;
		while (*tail)
			tail = &(*tail)->next;
		*tail = q;
	} else {
		atomic_fetch_sub(&queued, 1);
		if (sig >= SIGRTMIN && info->si_code != SI_USER)
			return -EAGAIN;
	}
	p->set |= SIGBIT(sig);
	return 0;
}

/* The next signal to deliver from a set: synchronous faults first, then
 * the lowest number. 0 if none. */
static int next_signal(const struct sigpending *p, uint64_t blocked)
{
	uint64_t x = p->set & ~blocked;
	if (!x)
		return 0;
	if (x & SIG_SYNC_MASK)
		x &= SIG_SYNC_MASK;
	return __builtin_ctzll(x) + 1;
}

/* Take sig out of a set with its siginfo (the first queued one; a bit
 * without a queued entry gets SI_USER with no sender). */
static void collect(struct sigpending *p, int sig, siginfo_t *info)
{
	struct sigqueue *found = NULL;
	for (struct sigqueue **qq = &p->head; *qq; qq = &(*qq)->next)
		if ((*qq)->info.si_signo == sig) {
			found = *qq;
			*qq = found->next;
			break;
		}
	bool more = false;
	for (struct sigqueue *q = p->head; q && !more; q = q->next)
		more = q->info.si_signo == sig;
	if (!more)
		p->set &= ~SIGBIT(sig);
	if (found) {
		*info = found->info;
		free(found);
		atomic_fetch_sub(&queued, 1);
	} else {
		memset(info, 0, sizeof(*info));
		info->si_signo = sig;
		info->si_code = SI_USER;
	}
}

void signal_discard_locked(struct process *p, int sig)
{
	sigpending_remove(&p->shared_pending, SIGBIT(sig));
	for (struct thread *t = p->threads; t; t = t->next_thread)
		sigpending_remove(&t->pending, SIGBIT(sig));
}

/* ---- sending ----------------------------------------------------------- */

static bool sig_ignored(struct process *p, struct thread *t, int sig)
{
	if (t && ((t->sigmask | t->real_blocked) & SIGBIT(sig)))
		return false; /* the handler may change before it is unblocked */
	uint64_t h = sigaction_get_locked(p, sig).handler;
	return h == (uint64_t)SIG_IGN || (h == (uint64_t)SIG_DFL && signal_default_ignored(sig));
}

static bool sig_fatal(struct process *p, struct thread *t, int sig)
{
	if (sig == SIGKILL)
		return true;
	if (t && ((t->sigmask | t->real_blocked) & SIGBIT(sig)))
		return false;
	int act = default_action[sig];
	return sigaction_get_locked(p, sig).handler == (uint64_t)SIG_DFL && (act == ACT_TERM || act == ACT_CORE);
}

/* Whether t would take sig now (Linux's wants_signal). */
static bool wants_signal(const struct thread *t, int sig)
{
	return !(t->sigmask & SIGBIT(sig)) && !t->exiting;
}

/* The thread that takes a process-directed sig: the leader if it can,
 * else another that does not block it; NULL if all block it (then it
 * waits in the shared set for the first to unblock it). p->lock held. */
static struct thread *pick_thread(struct process *p, int sig)
{
	for (struct thread *t = p->threads; t; t = t->next_thread)
		if (wants_signal(t, sig))
			return t;
	return NULL;
}

/* Claims. Linux wakes the thread complete_signal chose for a
 * process-directed signal, and only a woken thread looks at the shared
 * set (TIF_SIGPENDING); here every thread looks at it on each way back to
 * its guest. So a thread a sender named (kill or rt_sigqueueinfo by its
 * tid, a thread pidfd) claims the signal: the others leave it while it is
 * pending and the claimer can take it. One claimer per signal at most;
 * p->lock held to change them. */
static void claims_drop(struct process *p, uint64_t sigs)
{
	if (!(p->shared_claims & sigs))
		return;
	for (struct thread *o = p->threads; o; o = o->next_thread)
		__atomic_and_fetch(&o->shared_claims, ~sigs, __ATOMIC_RELEASE);
	__atomic_and_fetch(&p->shared_claims, ~sigs, __ATOMIC_RELEASE);
}

/* The shared signals another thread of t's process claims (no lock). */
static uint64_t claimed_by_others(const struct thread *t)
{
	return __atomic_load_n(&t->proc->shared_claims, __ATOMIC_ACQUIRE) &
	       ~__atomic_load_n(&t->shared_claims, __ATOMIC_ACQUIRE);
}

void signal_retarget_locked(struct process *p, uint64_t sigs, struct thread *except)
{
	/* except blocks them or leaves: its claims on them go too. */
	claims_drop(p, except->shared_claims & sigs);
	for (int sig = 1; sigs && sig <= 64; sig++) {
		if (!(sigs & SIGBIT(sig)))
			continue;
		for (struct thread *t = p->threads; t; t = t->next_thread)
			if (t != except && wants_signal(t, sig)) {
				thread_notify(t);
				sigs &= t->sigmask; /* t takes all it does not block */
				break;
			}
		sigs &= ~SIGBIT(sig);
	}
}

static void wake_all_threads(struct process *p)
{
	for (struct thread *t = p->threads; t; t = t->next_thread)
		thread_wake(t);
}

static bool core_pattern_is_pipe(void)
{
	static int cached = -1;
	if (cached < 0) {
		char c = 0;
		int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (read(fd, &c, 1) != 1)
				c = 0;
			close(fd);
		}
		cached = c == '|';
	}
	return cached;
}

/* The wait status of death by sig: with the core-dump bit when Linux
 * would have dumped one here (a dumpable process, and a core limit or a
 * pipe as the host's core pattern). No core file is written. */
static int death_status(struct process *p, int sig)
{
	bool core = default_action[sig] == ACT_CORE && p->dumpable &&
		    (p->rlimits[RLIMIT_CORE].rlim_cur > 0 || core_pattern_is_pipe());
	return sig | (core ? 0x80 : 0);
}

/* Send to thread t, or to the process with via (or the leader, at the
 * head of p's threads) first in line to take it; tid > 0: to p's thread
 * of that id, found under p->lock (none: the signal is dropped). */
static int send_signal_tid(struct process *p, struct thread *t, struct thread *via, int tid, int sig,
			   const siginfo_t *info)
{
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig == 0)
		return 0;
	siginfo_t si;
	if (!info) {
		memset(&si, 0, sizeof(si));
		si.si_signo = sig;
		si.si_code = current ? SI_USER : SI_KERNEL;
		if (current) { /* Linux's prepare_kill_siginfo: the real uid */
			si.si_pid = current->proc->pid;
			si.si_uid = current->proc->ruid;
		}
		info = &si;
	}
	pthread_mutex_lock(&p->lock);
	if (via) { /* a hint the caller took without the lock: still ours? */
		struct thread *o = p->threads;
		while (o && o != via)
			o = o->next_thread;
		via = o;
	}
	if (tid > 0) {
		for (t = p->threads; t && t->tid != tid; t = t->next_thread)
			;
		if (!t) {
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
	}
	/* Whose mask decides whether the signal is ignored: the thread's,
	 * or for the process the one it was sent through, by default the
	 * leader's (the task kill found). */
	struct thread *target = t ? t : via ? via : p->thread;
	if (p->exited || !target) { /* a zombie, or on its way */
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	/* Job control acts at send time (Linux's prepare_signal). */
	if (sig == SIGCONT || sig == SIGKILL) {
		p->cont_seq++;
		sigpending_remove(&p->shared_pending, SIG_STOP_MASK);
		for (struct thread *o = p->threads; o; o = o->next_thread)
			sigpending_remove(&o->pending, SIG_STOP_MASK);
		if (p->stopped) {
			p->stopped = false;
			if (sig == SIGCONT) {
				p->report_cont = true;
				p->report_stop = false;
			}
			wake_all_threads(p);
		}
	} else if (SIGBIT(sig) & SIG_STOP_MASK) {
		sigpending_remove(&p->shared_pending, SIGBIT(SIGCONT));
		for (struct thread *o = p->threads; o; o = o->next_thread)
			sigpending_remove(&o->pending, SIGBIT(SIGCONT));
	}
	if (sig_ignored(p, target, sig)) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	/* Who will take it (Linux's complete_signal): the thread it was
	 * sent to, or one of the process's that does not block it. */
	struct thread *taker = t ? (wants_signal(t, sig) ? t : NULL)
		: via && wants_signal(via, sig) ? via : pick_thread(p, sig);
	/* A stopped process wants nothing but SIGKILL (Linux's
	 * wants_signal): a fatal signal waits for SIGCONT. */
	if ((sig == SIGKILL || (taker && sig_fatal(p, taker, sig) && !p->stopped))) {
		int status = death_status(p, sig);
		pthread_mutex_unlock(&p->lock);
		process_kill(p, status);
		return 0;
	}
	int err = sigpending_add(t ? &t->pending : &p->shared_pending, sig, info,
				 p->rlimits[RLIMIT_SIGPENDING].rlim_cur);
	if (!err) {
		if (!t) { /* the latest sender decides who claims it */
			claims_drop(p, SIGBIT(sig));
			if (via && taker == via) {
				__atomic_or_fetch(&via->shared_claims, SIGBIT(sig), __ATOMIC_RELEASE);
				__atomic_or_fetch(&p->shared_claims, SIGBIT(sig), __ATOMIC_RELEASE);
			}
		}
		if (taker)
			thread_notify(taker);
		signalfd_notify(p); /* timers: wake signalfd readers and pollers */
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

int signal_send_info(struct process *p, struct thread *t, int sig, const siginfo_t *info)
{
	return send_signal_tid(p, t, NULL, 0, sig, info);
}

int signal_send_via(struct process *p, struct thread *via, int sig, const siginfo_t *info)
{
	return send_signal_tid(p, NULL, via, 0, sig, info);
}

int signal_send_tid(struct process *p, int tid, int sig, const siginfo_t *info)
{
	return send_signal_tid(p, NULL, NULL, tid, sig, info);
}

int signal_send(struct process *p, int sig)
{
	return signal_send_info(p, NULL, sig, NULL);
}

void signal_raise(int sig)
{
	struct thread *t = current;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_KERNEL;
	signal_send_info(t->proc, t, sig, &si);
}

void signal_force(int sig, const siginfo_t *info)
{
	struct thread *t = current;
	struct process *p = t->proc;
	pthread_mutex_lock(&p->lock);
	/* Linux's force_sig_info_to_task: the (shared) action itself goes
	 * back to SIG_DFL. */
	pthread_mutex_lock(&p->sighand->lock);
	struct ksigaction *ka = &p->sighand->action[sig - 1];
	bool blocked = t->sigmask & SIGBIT(sig);
	if (blocked || ka->handler == (uint64_t)SIG_IGN) {
		ka->handler = (uint64_t)SIG_DFL;
		t->sigmask &= ~SIGBIT(sig);
	}
	pthread_mutex_unlock(&p->sighand->lock);
	siginfo_t si = *info;
	si.si_signo = sig;
	/* A fault is never coalesced away: deliver this one. */
	sigpending_remove(&t->pending, SIGBIT(sig));
	sigpending_add(&t->pending, sig, &si, UINT64_MAX);
	pthread_mutex_unlock(&p->lock);
}

bool signal_pending(void)
{
	struct thread *t = current;
	struct process *p = t->proc;
	uint64_t set = __atomic_load_n(&t->pending.set, __ATOMIC_ACQUIRE) |
		       (__atomic_load_n(&p->shared_pending.set, __ATOMIC_ACQUIRE) & ~claimed_by_others(t));
	return (set & ~__atomic_load_n(&t->sigmask, __ATOMIC_ACQUIRE)) || t->exiting || p->exited ||
	       __atomic_load_n(&p->stopped, __ATOMIC_ACQUIRE);
}

void sigmask_set(uint64_t mask)
{
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	uint64_t newly = mask & ~current->sigmask & ~SIG_UNBLOCKABLE;
	current->sigmask = mask & ~SIG_UNBLOCKABLE;
	if (p->shared_pending.set & newly) /* Linux's retarget_shared_pending */
		signal_retarget_locked(p, p->shared_pending.set & newly, current);
	pthread_mutex_unlock(&p->lock);
}

void sigmask_restore_after_delivery(uint64_t old)
{
	current->saved_sigmask = old;
	current->restore_sigmask = true;
}

/* ---- notifying the parent ---------------------------------------------- */

void signal_notify_parent_stop(struct process *p, int why, int sig)
{
	struct process *parent = p->parent;
	if (!parent)
		return;
	if (!(sigaction_get(parent, SIGCHLD).flags & SA_NOCLDSTOP)) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGCHLD;
		si.si_code = why;
		si.si_pid = p->pid;
		si.si_uid = p->ruid; /* Linux: task_uid(), the real uid */
		si.si_status = sig;
		signal_send_info(parent, NULL, SIGCHLD, &si);
	}
	waitq_wake_all(&parent->child_wq);
}

void signal_notify_parent_exit(struct process *p)
{
	struct process *parent = p->parent;
	if (!parent)
		return;
	if (p->exit_signal > 0 && p->exit_signal <= 64) { /* clone takes up to 255 */
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		si.si_signo = p->exit_signal;
		si.si_pid = p->pid;
		si.si_uid = p->ruid; /* Linux: task_uid(), the real uid */
		int st = p->exit_status;
		if ((st & 0x7f) == 0) {
			si.si_code = CLD_EXITED;
			si.si_status = (st >> 8) & 0xff;
		} else {
			si.si_code = (st & 0x80) ? CLD_DUMPED : CLD_KILLED;
			si.si_status = st & 0x7f;
		}
		signal_send_info(parent, NULL, p->exit_signal, &si);
	}
	waitq_wake_all(&parent->child_wq);
}

/* ---- job control ------------------------------------------------------- */

bool pgrp_will_orphan(int pgid, const struct process *ignored)
{
	for (int pid = 1; pid < PID_MAX; pid++) {
		struct process *q = pid_lookup(pid);
		if (!q || q == ignored || q->pgid != pgid || q->state != PROC_ALIVE)
			continue;
		struct process *par = q->parent;
		if (par && par->pgid != pgid && par->sid == q->sid)
			return false;
	}
	return true;
}

/* Sleep while the process is stopped (every thread does, Linux's group
 * stop); false at once if it is not. */
static bool stop_wait(struct thread *t)
{
	struct process *p = t->proc;
	bool slept = false;
	for (;;) {
		uint32_t snap = sleep_prepare();
		pthread_mutex_lock(&p->lock);
		bool still = p->stopped && !p->exited && !t->exiting;
		pthread_mutex_unlock(&p->lock);
		if (!still)
			return slept;
		sleep_until_uninterruptible(snap);
		slept = true;
	}
}

/* Stop the process for sig and sleep until SIGCONT or death. The other
 * threads stop at their next look at signals (kicked now); the parent
 * hears of the stop at once, not when the last thread has stopped. */
static void do_signal_stop(int sig, unsigned cont_seq)
{
	struct thread *t = current;
	struct process *p = t->proc;
	pthread_mutex_lock(&tasklist_lock);
	if (sig != SIGSTOP && pgrp_will_orphan(p->pgid, NULL)) {
		pthread_mutex_unlock(&tasklist_lock);
		return; /* Linux discards tty stops of orphaned groups */
	}
	pthread_mutex_lock(&p->lock);
	bool stop = !p->exited && !t->exiting && p->cont_seq == cont_seq;
	if (stop) {
		p->stopped = true;
		p->stop_sig = sig;
		p->report_stop = true;
		p->report_cont = false;
		for (struct thread *o = p->threads; o; o = o->next_thread)
			if (o != t)
				thread_notify(o);
	}
	pthread_mutex_unlock(&p->lock);
	if (stop)
		signal_notify_parent_stop(p, CLD_STOPPED, sig);
	pthread_mutex_unlock(&tasklist_lock);
	stop_wait(t);
	/* Continued: the parent hears it from us, as in Linux. */
	pthread_mutex_lock(&tasklist_lock);
	pthread_mutex_lock(&p->lock);
	bool cont = p->report_cont && !p->exited;
	pthread_mutex_unlock(&p->lock);
	if (cont)
		signal_notify_parent_stop(p, CLD_CONTINUED, SIGCONT);
	pthread_mutex_unlock(&tasklist_lock);
}

int signal_dequeue_mask(uint64_t mask, siginfo_t *info)
{
	struct thread *t = current;
	struct process *p = t->proc;
	pthread_mutex_lock(&p->lock);
	int sig = next_signal(&t->pending, ~mask);
	if (sig) {
		collect(&t->pending, sig, info);
	} else if ((sig = next_signal(&p->shared_pending, ~mask))) {
		/* A waiter takes what it waits for, claimed or not (Linux's
		 * dequeue_signal reads the shared set). */
		collect(&p->shared_pending, sig, info);
		if (!(p->shared_pending.set & SIGBIT(sig)))
			claims_drop(p, SIGBIT(sig));
	}
	pthread_mutex_unlock(&p->lock);
	return sig;
}

/* ---- delivery ---------------------------------------------------------- */

/* The next deliverable signal of the current thread (p->lock held): its
 * own pending set first, then the process's. */
static int dequeue(struct thread *t, siginfo_t *info)
{
	struct process *p = t->proc;
	int sig = next_signal(&t->pending, t->sigmask);
	if (sig) {
		collect(&t->pending, sig, info);
		return sig;
	}
	sig = next_signal(&p->shared_pending, t->sigmask | claimed_by_others(t));
	if (sig) {
		collect(&p->shared_pending, sig, info);
		if (!(p->shared_pending.set & SIGBIT(sig)))
			claims_drop(p, SIGBIT(sig));
	}
	return sig;
}

#define SYSCALL_INSN_LEN 2 /* syscall is 0f 05 */
#define NR_RESTART_SYSCALL 219

/* Linux's handle_signal() part for an interrupted call when a handler
 * runs. */
static void restart_for_handler(struct guest_regs *r, int nr, const struct ksigaction *ka)
{
	switch ((long)r->rax) {
	case -ERESTART_RESTARTBLOCK:
	case -ERESTARTNOHAND:
		r->rax = (uint64_t)-EINTR;
		break;
	case -ERESTARTSYS:
		if (!(ka->flags & SA_RESTART)) {
			r->rax = (uint64_t)-EINTR;
			break;
		}
		/* fall through */
	case -ERESTARTNOINTR:
		r->rax = (uint64_t)nr;
		r->rip -= SYSCALL_INSN_LEN;
		break;
	}
}

/* ... and when no handler runs: every interrupted call starts again. */
static void restart_without_handler(struct guest_regs *r, int nr)
{
	switch ((long)r->rax) {
	case -ERESTARTNOHAND:
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
		r->rax = (uint64_t)nr;
		r->rip -= SYSCALL_INSN_LEN;
		break;
	case -ERESTART_RESTARTBLOCK:
		r->rax = NR_RESTART_SYSCALL;
		r->rip -= SYSCALL_INSN_LEN;
		break;
	}
}

void signal_deliver(long *syscall_ret, int syscall_nr)
{
	struct thread *t = current;
	struct process *p = t->proc;
	bool in_syscall = syscall_ret != NULL, handled = false;
	if (in_syscall)
		t->regs.rax = (uint64_t)*syscall_ret;
	for (;;) {
		if (t->exiting)
			return;
		if (stop_wait(t)) /* another thread stopped the process */
			continue;
		pthread_mutex_lock(&p->lock);
		if (p->exited) {
			pthread_mutex_unlock(&p->lock);
			t->exiting = true;
			return;
		}
		siginfo_t info;
		int sig = dequeue(t, &info);
		if (!sig) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		/* Read, and reset if one-shot, in one go: of processes sharing
		 * the handlers, only one runs a SA_RESETHAND handler. */
		pthread_mutex_lock(&p->sighand->lock);
		struct ksigaction ka = p->sighand->action[sig - 1];
		if ((ka.flags & SA_RESETHAND) && ka.handler != (uint64_t)SIG_IGN && ka.handler != (uint64_t)SIG_DFL)
			p->sighand->action[sig - 1].handler = (uint64_t)SIG_DFL;
		pthread_mutex_unlock(&p->sighand->lock);
		if (ka.handler == (uint64_t)SIG_IGN && sig != SIGKILL) {
			pthread_mutex_unlock(&p->lock);
			continue;
		}
		if (ka.handler == (uint64_t)SIG_DFL || sig == SIGKILL || sig == SIGSTOP) {
			int act = default_action[sig];
			int status = death_status(p, sig);
			unsigned cont_seq = p->cont_seq;
			pthread_mutex_unlock(&p->lock);
			if (act == ACT_IGNORE || act == ACT_CONT)
				continue;
			if (act == ACT_STOP) {
				do_signal_stop(sig, cont_seq);
				continue;
			}
			process_kill(p, status);
			t->exiting = true;
			return;
		}
		uint64_t oldmask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
		pthread_mutex_unlock(&p->lock);

		if (in_syscall && !handled)
			restart_for_handler(&t->regs, syscall_nr, &ka);
		if (sigframe_setup(t, sig, &ka, &info, oldmask)) {
			/* No room for the frame: Linux's force_sigsegv. A SIGSEGV
			 * handler gets its chance (on its alternate stack, say),
			 * unless it is SIGSEGV's own frame that failed. */
			if (sig == SIGSEGV) {
				pthread_mutex_lock(&p->lock);
				pthread_mutex_lock(&p->sighand->lock);
				p->sighand->action[SIGSEGV - 1].handler = (uint64_t)SIG_DFL;
				pthread_mutex_unlock(&p->sighand->lock);
				pthread_mutex_unlock(&p->lock);
			}
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			si.si_code = SI_KERNEL;
			signal_force(SIGSEGV, &si);
			continue;
		}
		pthread_mutex_lock(&p->lock);
		t->sigmask |= ka.mask | ((ka.flags & SA_NODEFER) ? 0 : SIGBIT(sig));
		t->sigmask &= ~SIG_UNBLOCKABLE;
		/* Claims the handler's mask now blocks go to another thread. */
		uint64_t claims_blocked = t->shared_claims & t->sigmask;
		if (claims_blocked) {
			claims_drop(p, claims_blocked);
			signal_retarget_locked(p, claims_blocked & p->shared_pending.set, t);
		}
		t->restore_sigmask = false;
		pthread_mutex_unlock(&p->lock);
		handled = true;
	}
	if (in_syscall && !handled)
		restart_without_handler(&t->regs, syscall_nr);
	if (t->restore_sigmask) {
		t->restore_sigmask = false;
		sigmask_set(t->saved_sigmask);
	}
}

void process_kill(struct process *p, int status)
{
	process_exit(p, status & 0xff); /* every thread is told and kicked */
	if (current && p == current->proc)
		return; /* we leave the serve loop ourselves */
	/* Kill the host process at once, unless a vfork child shares it
	 * (its threads then stop at their next trap, kicked above). */
	pthread_mutex_lock(&p->lock);
	if (p->mm && __atomic_load_n(&p->mm->users, __ATOMIC_ACQUIRE) == 1)
		platform_as_kill(p->mm->as);
	pthread_mutex_unlock(&p->lock);
}

/* ---- system calls ------------------------------------------------------ */

/* Linux's check_kill_permission for a signal from the current process:
 * itself, a holder of CAP_KILL, or a sender whose real or effective uid
 * is the target's real or saved one (kill_ok_by_cred); SIGCONT within a
 * session is always allowed. */
bool signal_may_send(const struct process *target, int sig)
{
	const struct process *me = current->proc;
	if (me == target || capable(CAP_KILL))
		return true;
	if (me->uid == target->ruid || me->uid == target->suid || me->ruid == target->ruid ||
	    me->ruid == target->suid)
		return true;
	return sig == SIGCONT && me->sid == target->sid;
}

/* Linux's check_kill_permission: a bad signal number is EINVAL only once
 * the target was found (a missing one is ESRCH), then EPERM. */
static int check_kill(struct process *p, int sig)
{
	if (sig < 0 || sig > 64)
		return -EINVAL;
	return signal_may_send(p, sig) ? 0 : -EPERM;
}

/* Send to one process with the checks, through its thread via (the id
 * named a thread that is not the leader) or NULL: 0, -EINVAL or -EPERM. */
static int kill_one(struct process *p, struct thread *via, int sig)
{
	int err = check_kill(p, sig);
	return err ? err : signal_send_via(p, via, sig, NULL);
}

/* The process id names, and in *via the thread if id is the tid of one
 * that is not the leader: Linux's kill and rt_sigqueueinfo find that
 * task, and complete_signal offers the signal to it first
 * (tasklist_lock held). */
static struct process *process_named(int id, struct thread **via)
{
	*via = NULL;
	struct process *p = pid_lookup(id);
	if (p)
		return p;
	struct thread *t = tid_lookup(id);
	if (!t)
		return NULL;
	*via = t;
	return t->proc;
}

/* kill(2): pid > 0 one process, 0 the caller's group, -1 everyone but
 * init and the caller, < -1 group -pid. */
long sys_kill(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	int sig = (int)a->a[1];
	struct process *me = current->proc;
	if (pid == INT_MIN)
		return -ESRCH;
	long ret = -ESRCH;
	pthread_mutex_lock(&tasklist_lock);
	if (pid > 0) {
		struct thread *via;
		struct process *p = process_named(pid, &via);
		if (p)
			ret = kill_one(p, via, sig);
	} else {
		/* Linux: a group gives 0 if any was signalled, else the last
		 * error; -1 gives ESRCH only if nobody was tried, and ignores
		 * EPERM. */
		int pgid = pid == 0 ? me->pgid : -pid;
		bool any = false, tried = false;
		long last = -ESRCH, not_eperm = 0;
		for (int i = 1; i < PID_MAX; i++) {
			struct process *p = pid_lookup(i);
			if (!p || (pid == -1 ? (i == 1 || p == me) : p->pgid != pgid))
				continue;
			int r = kill_one(p, NULL, sig);
			tried = true;
			any |= !r;
			last = r;
			if (r != -EPERM)
				not_eperm = r;
		}
		if (pid == -1)
			ret = tried ? not_eperm : -ESRCH;
		else
			ret = any ? 0 : last;
	}
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}

/* The thread with id tid (in process tgid if tgid > 0), tasklist_lock held. */
static struct thread *find_thread(int tgid, int tid)
{
	struct thread *t = tid_lookup(tid);
	if (!t || (tgid > 0 && t->proc->pid != tgid))
		return NULL;
	return t;
}

static long send_to_thread(int tgid, int tid, int sig, const siginfo_t *info)
{
	siginfo_t tk;
	if (!info) { /* tkill/tgkill: SI_TKILL from the caller */
		memset(&tk, 0, sizeof(tk));
		tk.si_signo = sig;
		tk.si_code = SI_TKILL;
		tk.si_pid = current->proc->pid;
		tk.si_uid = current->proc->ruid;
		info = &tk;
	}
	pthread_mutex_lock(&tasklist_lock);
	struct thread *t = find_thread(tgid, tid);
	long ret = !t ? -ESRCH : check_kill(t->proc, sig);
	if (!ret)
		ret = signal_send_info(t->proc, t, sig, info);
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}

long sys_tgkill(const struct sysargs *a)
{
	int tgid = (int)a->a[0], tid = (int)a->a[1];
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	return send_to_thread(tgid, tid, (int)a->a[2], NULL);
}

long sys_tkill(const struct sysargs *a)
{
	int tid = (int)a->a[0];
	if (tid <= 0)
		return -EINVAL;
	return send_to_thread(0, tid, (int)a->a[1], NULL);
}

/* rt_sigqueueinfo and rt_tgsigqueueinfo: the caller's siginfo, but it may
 * not pretend to be the kernel or kill (si_code >= 0 or SI_TKILL) unless
 * the id is its own thread's (Linux compares with the caller's tid: not
 * even another thread of its process). */
static long get_user_info(gaddr_t uinfo, int sig, siginfo_t *info)
{
	if (copy_from_guest(info, uinfo, sizeof(*info)))
		return -EFAULT;
	info->si_signo = sig;
	return 0;
}

static long check_user_info(const siginfo_t *info, bool self)
{
	return !self && (info->si_code >= 0 || info->si_code == SI_TKILL) ? -EPERM : 0;
}

long sys_rt_sigqueueinfo(const struct sysargs *a)
{
	int pid = (int)a->a[0], sig = (int)a->a[1];
	siginfo_t info;
	long err = get_user_info(a->a[2], sig, &info);
	if (!err)
		err = check_user_info(&info, pid == current->tid);
	if (err)
		return err;
	pthread_mutex_lock(&tasklist_lock);
	struct thread *via = NULL;
	struct process *p = pid > 0 ? process_named(pid, &via) : NULL;
	err = !p ? -ESRCH : check_kill(p, sig);
	if (!err)
		err = signal_send_via(p, via, sig, &info);
	pthread_mutex_unlock(&tasklist_lock);
	return err;
}

long sys_rt_tgsigqueueinfo(const struct sysargs *a)
{
	int tgid = (int)a->a[0], tid = (int)a->a[1], sig = (int)a->a[2];
	siginfo_t info;
	long err = get_user_info(a->a[3], sig, &info);
	if (!err && (tgid <= 0 || tid <= 0))
		err = -EINVAL;
	if (!err)
		err = check_user_info(&info, tid == current->tid);
	return err ? err : send_to_thread(tgid, tid, sig, &info);
}
