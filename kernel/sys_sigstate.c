/* Signal state: rt_sigaction, rt_sigprocmask, rt_sigpending, sigaltstack.
 * The state is stored and reported exactly like Linux; kernel/signal.c
 * delivers by it.
 *
 * Locking: the actions are in p->sighand (shared with CLONE_SIGHAND
 * relatives), changed under p->lock and the table's own lock; no guest
 * copy while they are held. A thread's sigmask and altstack are changed
 * only by the thread itself. */
#include <string.h>
#include <signal.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define KSIGSET_SIZE 8
#define NSIG_LINUX 64
#define SIGKILL_NR 9
#define SIGSTOP_NR 19
#define SIGBIT(s) (1ULL << ((s) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL_NR) | SIGBIT(SIGSTOP_NR))

/* The sa_flags Linux keeps and reports (UAPI_SA_FLAGS on x86): NOCLDSTOP,
 * NOCLDWAIT, SIGINFO, EXPOSE_TAGBITS, RESTORER, ONSTACK, RESTART, NODEFER,
 * RESETHAND. Others (SA_UNSUPPORTED, probed by libcs) read back cleared. */
#define SA_KNOWN_FLAGS 0xdc000807ULL

#define K_SIG_BLOCK 0
#define K_SIG_UNBLOCK 1
#define K_SIG_SETMASK 2

#define K_SS_ONSTACK 1
#define K_SS_DISABLE 2
#define K_SS_AUTODISARM (1U << 31)
#define K_MINSIGSTKSZ 2048

_Static_assert(sizeof(struct ksigaction) == 32, "Linux struct k_sigaction (x86-64)");

long sys_rt_sigaction(const struct sysargs *a)
{
	int sig = (int)a->a[0];
	gaddr_t act = a->a[1], oact = a->a[2];
	struct ksigaction nw, old;
	if (a->a[3] != KSIGSET_SIZE)
		return -EINVAL;
	if (act && copy_from_guest(&nw, act, sizeof nw))
		return -EFAULT;
	if (sig < 1 || sig > NSIG_LINUX || (act && (sig == SIGKILL_NR || sig == SIGSTOP_NR)))
		return -EINVAL;
	/* x86-64 requires SA_RESTORER only when a frame is built, not here. */
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	if (!act) {
		old = sigaction_get_locked(p, sig);
	} else {
		nw.flags &= SA_KNOWN_FLAGS;
		nw.mask &= ~UNBLOCKABLE;
		old = sigaction_set_locked(p, sig, &nw);
		/* SIG_IGN, or SIG_DFL for a signal ignored by default,
		 * discards the pending instance (POSIX 3.3.1.3): in our own
		 * threads only, as Linux's do_sigaction, not in the other
		 * processes sharing the handlers. */
		if (nw.handler == (uint64_t)SIG_IGN ||
		    (nw.handler == (uint64_t)SIG_DFL && signal_default_ignored(sig)))
			signal_discard_locked(p, sig);
	}
	pthread_mutex_unlock(&p->lock);
	/* A failed copy-out leaves the new action in place, as in Linux. */
	if (oact && copy_to_guest(oact, &old, sizeof old))
		return -EFAULT;
	return 0;
}

/* `how` is checked only when there is a new set. */
long sys_rt_sigprocmask(const struct sysargs *a)
{
	int how = (int)a->a[0];
	gaddr_t nset = a->a[1], oset = a->a[2];
	uint64_t old = current->sigmask, set;
	if (a->a[3] != KSIGSET_SIZE)
		return -EINVAL;
	if (nset) {
		if (copy_from_guest(&set, nset, sizeof set))
			return -EFAULT;
		switch (how) {
		case K_SIG_BLOCK:
			sigmask_set(old | set);
			break;
		case K_SIG_UNBLOCK:
			sigmask_set(old & ~set);
			break;
		case K_SIG_SETMASK:
			sigmask_set(set);
			break;
		default:
			return -EINVAL;
		}
		/* Unblocking can make a pending signal deliverable: the serve
		 * loop acts on it on the way out of this call. */
	}
	if (oset && copy_to_guest(oset, &old, sizeof old))
		return -EFAULT;
	return 0;
}

/* Any size up to 8 bytes is accepted and copied (Linux's check is only
 * sigsetsize > sizeof(sigset_t)). Linux reports pending & blocked. */
long sys_rt_sigpending(const struct sysargs *a)
{
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	uint64_t pending = (current->pending.set | p->shared_pending.set) & current->sigmask, size = a->a[1];
	pthread_mutex_unlock(&p->lock);
	if (size > KSIGSET_SIZE)
		return -EINVAL;
	if (size == 0)
		return 0;
	return copy_to_guest(a->a[0], &pending, size);
}

/* ---- sigaltstack ------------------------------------------------------------ */

/* Linux's stack_t. */
struct kstack {
	uint64_t ss_sp;
	int32_t ss_flags;
	uint32_t pad;
	uint64_t ss_size;
};

#define THREAD_ALTSTACK(t) (&(t)->altstack)

/* Linux's on_sig_stack: an auto-disarmed stack never counts as in use. */
static bool on_altstack(const struct altstack *s, uint64_t sp)
{
	if (s->flags & K_SS_AUTODISARM)
		return false;
	return sp > s->sp && sp - s->sp <= s->size;
}

int altstack_set(struct thread *t, const struct altstack_req *nw, uint64_t sp)
{
	struct altstack *s = &t->altstack;
	uint32_t flags = nw->flags, mode = flags & ~K_SS_AUTODISARM;
	if (on_altstack(s, sp))
		return -EPERM;
	if (mode != K_SS_DISABLE && mode != K_SS_ONSTACK && mode != 0)
		return -EINVAL;
	/* Linux returns early when nothing changes, before the size check:
	 * {0, 0, 0} is accepted on a never-set stack. */
	if (s->sp == nw->sp && s->size == nw->size && s->flags == flags)
		return 0;
	if (mode == K_SS_DISABLE)
		*s = (struct altstack){ 0, 0, flags };
	else if (nw->size < K_MINSIGSTKSZ)
		return -ENOMEM;
	else
		*s = (struct altstack){ nw->sp, nw->size, flags };
	return 0;
}

long sys_sigaltstack(const struct sysargs *a)
{
	gaddr_t uss = a->a[0], uoss = a->a[1];
	struct altstack *s = THREAD_ALTSTACK(current);
	uint64_t sp = current->regs.rsp;
	struct kstack nw, old;
	if (uss && copy_from_guest(&nw, uss, sizeof nw))
		return -EFAULT;
	if (uoss) {
		memset(&old, 0, sizeof old);
		old.ss_sp = s->sp;
		old.ss_size = s->size;
		/* The stored flags are never reported as such: SS_DISABLE when
		 * there is no stack, SS_ONSTACK while on it, and AUTODISARM. */
		old.ss_flags = (int32_t)((s->size == 0 ? K_SS_DISABLE
					  : on_altstack(s, sp) ? K_SS_ONSTACK : 0) |
					 (s->flags & K_SS_AUTODISARM));
	}
	if (uss) {
		struct altstack_req req = { nw.ss_sp, (uint32_t)nw.ss_flags, nw.ss_size };
		int err = altstack_set(current, &req, sp);
		if (err)
			return err;
	}
	if (uoss && copy_to_guest(uoss, &old, sizeof old))
		return -EFAULT;
	return 0;
}
