/* Signals before delivery lands: each process has one thread, signals are
 * sent only to it, and what can happen without building a frame does
 * happen — default actions that terminate, ignoring, and pending while
 * blocked. A signal whose action is a handler is dropped with a --debug
 * line (delivery comes with the signals issue). */
#include <limits.h>
#include <signal.h>
#include "kernel/syscall.h"
#include "kernel/task.h"

enum sig_default { SIG_TERM, SIG_CORE, SIG_IGNORE, SIG_STOP_, SIG_CONT_ };

static const unsigned char default_action[65] = {
	[SIGHUP] = SIG_TERM, [SIGINT] = SIG_TERM, [SIGQUIT] = SIG_CORE, [SIGILL] = SIG_CORE,
	[SIGTRAP] = SIG_CORE, [SIGABRT] = SIG_CORE, [SIGBUS] = SIG_CORE, [SIGFPE] = SIG_CORE,
	[SIGKILL] = SIG_TERM, [SIGUSR1] = SIG_TERM, [SIGSEGV] = SIG_CORE, [SIGUSR2] = SIG_TERM,
	[SIGPIPE] = SIG_TERM, [SIGALRM] = SIG_TERM, [SIGTERM] = SIG_TERM, [SIGSTKFLT] = SIG_TERM,
	[SIGCHLD] = SIG_IGNORE, [SIGCONT] = SIG_CONT_, [SIGSTOP] = SIG_STOP_, [SIGTSTP] = SIG_STOP_,
	[SIGTTIN] = SIG_STOP_, [SIGTTOU] = SIG_STOP_, [SIGURG] = SIG_IGNORE, [SIGXCPU] = SIG_CORE,
	[SIGXFSZ] = SIG_CORE, [SIGVTALRM] = SIG_TERM, [SIGPROF] = SIG_TERM, [SIGWINCH] = SIG_IGNORE,
	[SIGIO] = SIG_TERM, [SIGPWR] = SIG_TERM, [SIGSYS] = SIG_CORE,
	/* 32..64 (real-time) terminate: SIG_TERM is 0. */
};

bool signal_default_ignored(int sig)
{
	return sig > 0 && sig <= 64 && (default_action[sig] == SIG_IGNORE || default_action[sig] == SIG_CONT_);
}

static inline uint64_t sigbit(int sig) { return 1ULL << (sig - 1); }
static long send_self(int sig);

/* Act on one unblocked signal. */
static void act(int sig)
{
	struct ksigaction *ka = &current->proc->sigactions[sig - 1];
	bool dfl = ka->handler == (uint64_t)SIG_DFL || sig == SIGKILL || sig == SIGSTOP;
	if (!dfl) {
		if (ka->handler != (uint64_t)SIG_IGN)
			kdebug("signal %d has a handler; delivery is not supported yet, dropped", sig);
		return;
	}
	switch (default_action[sig]) {
	case SIG_TERM:
	case SIG_CORE:
		process_kill(current->proc, sig);
		current->exiting = true;
		return;
	case SIG_STOP_:
		kdebug("stop signals are not supported yet; %d ignored", sig);
		return;
	default:
		return;
	}
}

void signal_act_on_pending(void)
{
	uint64_t ready;
	while (!current->exiting && (ready = __atomic_load_n(&current->pending, __ATOMIC_ACQUIRE) & ~current->sigmask)) {
		int sig = __builtin_ctzll(ready) + 1;
		__atomic_and_fetch(&current->pending, ~sigbit(sig), __ATOMIC_ACQ_REL);
		act(sig);
	}
}

int signal_send(struct process *p, int sig)
{
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig == 0)
		return 0;
	pthread_mutex_lock(&p->lock);
	struct thread *t = p->thread;
	if (!t || p->exited) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	struct ksigaction *ka = &p->sigactions[sig - 1];
	bool unstoppable = sig == SIGKILL || sig == SIGSTOP;
	bool blocked = !unstoppable && (t->sigmask & sigbit(sig));
	bool dfl = unstoppable || ka->handler == (uint64_t)SIG_DFL;
	bool ignored = !unstoppable && (ka->handler == (uint64_t)SIG_IGN || (dfl && signal_default_ignored(sig)));
	if (ignored && !blocked) { /* never queued, like Linux's sig_ignored() */
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	if (!blocked && dfl && (default_action[sig] == SIG_TERM || default_action[sig] == SIG_CORE)) {
		pthread_mutex_unlock(&p->lock);
		process_kill(p, sig);
		return 0;
	}
	__atomic_or_fetch(&t->pending, sigbit(sig), __ATOMIC_ACQ_REL);
	thread_wake(t);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void signal_raise(int sig)
{
	send_self(sig);
}

static long send_self(int sig)
{
	if (sig == 0)
		return 0;
	current->pending |= sigbit(sig);
	if (sig == SIGKILL || sig == SIGSTOP)
		current->sigmask &= ~sigbit(sig);
	signal_act_on_pending();
	return 0;
}

/* kill(2): pid > 0 one process, 0 the caller's group, -1 everyone but
 * init and the caller, < -1 group -pid. Every guest has the same
 * credentials, so permission is never the problem. */
long sys_kill(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	if (a->a[1] > 64)
		return -EINVAL;
	int sig = (int)a->a[1];
	struct process *me = current->proc;
	if (pid == INT_MIN)
		return -ESRCH;
	bool self = false, found = false;
	pthread_mutex_lock(&tasklist_lock);
	if (pid > 0) {
		struct process *p = pid_lookup(pid);
		found = p != NULL;
		if (p == me)
			self = true;
		else if (p)
			signal_send(p, sig);
	} else {
		int pgid = pid == 0 ? me->pgid : -pid;
		for (int i = 1; i < PID_MAX; i++) {
			struct process *p = pid_lookup(i);
			if (!p || (pid == -1 ? (i == 1 || p == me) : p->pgid != pgid))
				continue;
			found = true;
			if (p == me)
				self = true;
			else
				signal_send(p, sig);
		}
	}
	pthread_mutex_unlock(&tasklist_lock);
	if (self)
		send_self(sig);
	return found ? 0 : -ESRCH;
}

long sys_tgkill(const struct sysargs *a)
{
	int tgid = (int)a->a[0], tid = (int)a->a[1];
	if (tgid <= 0 || tid <= 0 || a->a[2] > 64)
		return -EINVAL;
	if (tgid != current->proc->pid || tid != current->tid)
		return -ESRCH;
	return send_self((int)a->a[2]);
}

long sys_tkill(const struct sysargs *a)
{
	int tid = (int)a->a[0];
	if (tid <= 0 || a->a[1] > 64)
		return -EINVAL;
	if (tid != current->tid)
		return -ESRCH;
	return send_self((int)a->a[1]);
}

bool signal_pending(void)
{
	struct thread *t = current;
	return (t->pending & ~t->sigmask) || t->exiting || t->proc->exited;
}
