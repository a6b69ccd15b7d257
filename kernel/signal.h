/* Signals (kernel/signal.c): pending sets, sending, delivery with Linux's
 * frames (arch/x86_64/sigframe.c), job control, system-call restart.
 *
 * Locking: a process's signal state (its shared pending set, its threads'
 * pending sets and masks, dispositions, stop state) is guarded by
 * process.lock; tasklist_lock comes before it. A thread changes its own
 * mask under the lock too, since senders read it. */
#ifndef COCOON_SIGNAL_H
#define COCOON_SIGNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct process;
struct thread;

/* Linux's internal restart codes: a sleeping call interrupted by a signal
 * returns one, and delivery turns it into EINTR or a restart. They never
 * reach the guest. */
#define ERESTARTSYS 512           /* restart if SA_RESTART, else EINTR */
#define ERESTARTNOINTR 513        /* always restart */
#define ERESTARTNOHAND 514        /* restart unless a handler ran */
#define ERESTART_RESTARTBLOCK 516 /* restart_syscall() unless a handler ran */

#define SIGBIT(s) (1ULL << ((s) - 1))
#define SIG_UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define SIG_STOP_MASK (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))
#define SIG_SYNC_MASK (SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) | \
		       SIGBIT(SIGFPE) | SIGBIT(SIGSYS))

/* Queued signals with their siginfo; standard signals appear at most once. */
struct sigqueue {
	struct sigqueue *next;
	siginfo_t info;
};
struct sigpending {
	uint64_t set;
	struct sigqueue *head;
};

/* What restart_syscall(2) resumes (Linux's restart_block). */
struct restart_block {
	long (*fn)(struct restart_block *rb);
	int64_t a[4];
};

void sigpending_flush(struct sigpending *p);

/* Send sig with info (NULL: SI_USER from the current process, or
 * SI_KERNEL without one) to process p (t NULL) or to its thread t.
 * Ignored signals are dropped, a fatal default action kills the process
 * at once, SIGCONT/stop signals do their job-control part at once; the
 * rest waits in a pending set for delivery. 0, -EINVAL (bad number) or
 * -EAGAIN (real-time queue full, rt_sigqueueinfo). */
int signal_send_info(struct process *p, struct thread *t, int sig, const siginfo_t *info);
/* The same for p, sent through one of its threads (a thread pidfd's
 * process scope): via takes it if it can (Linux's complete_signal tries
 * the task the id named first), else another thread. */
int signal_send_via(struct process *p, struct thread *via, int sig, const siginfo_t *info);
/* The same to p's thread whose id is tid, if it still lives (else the
 * signal is dropped, like a POSIX timer's whose target thread left). */
int signal_send_tid(struct process *p, int tid, int sig, const siginfo_t *info);
/* The same with SI_USER from the current process (kill). */
int signal_send(struct process *p, int sig);
/* Linux's will_become_orphaned_pgrp: no member of the group but ignored
 * (NULL: none) has a parent in another group of the same session
 * (tasklist_lock held). */
bool pgrp_will_orphan(int pgid, const struct process *ignored);
/* Whether the current process may send sig to target (Linux's
 * check_kill_permission for a sender's own siginfo): else -EPERM. */
bool signal_may_send(const struct process *target, int sig);
/* Send sig to the current thread (SIGPIPE, SIGXFSZ: thread-directed). */
void signal_raise(int sig);
/* A synchronous fault of the current thread: delivered at once even if
 * blocked or ignored (then it kills, like Linux's force_sig_info). */
void signal_force(int sig, const siginfo_t *info);

/* Take the lowest pending signal in mask from the current thread's sets
 * (blocked or not): its number and info, or 0 (rt_sigtimedwait,
 * signalfd). */
int signal_dequeue_mask(uint64_t mask, siginfo_t *info);

/* Whether the current thread must leave an interruptible sleep: a
 * signal it does not block, a stop, or its exit. */
bool signal_pending(void);
/* The work before the current thread resumes its guest: the stop of job
 * control, default actions, handler frames, restart of an interrupted
 * call (syscall_ret: its return value, or NULL after a fault). */
void signal_deliver(long *syscall_ret, int syscall_nr);

/* A call that waits with a temporary mask (sigsuspend, ppoll, pselect,
 * epoll_pwait): the thread's old mask, to restore once the signal that
 * ended the wait has been delivered (its frame saves this one). */
void sigmask_restore_after_delivery(uint64_t old);
/* Set the current thread's blocked mask (SIGKILL/SIGSTOP dropped). */
void sigmask_set(uint64_t mask);

/* Wake a thread of p other than `except` that can take one of the
 * process-directed signals in sigs (p->lock held): the one that would
 * have taken them blocks them now or is leaving. */
void signal_retarget_locked(struct process *p, uint64_t sigs, struct thread *except);

/* Drop pending instances of sig from p's sets (its action became
 * "ignore"; p->lock held). */
void signal_discard_locked(struct process *p, int sig);

/* sigaltstack's change of t's alternate stack while t's stack pointer is
 * sp (kernel/sys_sigstate.c); 0, -EPERM (on it), -EINVAL, -ENOMEM. */
struct altstack_req {
	uint64_t sp;
	uint32_t flags;
	uint64_t size;
};
int altstack_set(struct thread *t, const struct altstack_req *req, uint64_t sp);

/* Whether a signal's default action is to ignore it (CHLD, URG, WINCH;
 * CONT does its job at send time). */
bool signal_default_ignored(int sig);
/* The default action of a signal kills the process: do it. */
void process_kill(struct process *p, int signo);
/* Tell the parent of p that p ended: its exit signal with CLD_EXITED,
 * CLD_KILLED or CLD_DUMPED, and a wake-up for wait (tasklist_lock held). */
void signal_notify_parent_exit(struct process *p);
/* Send the parent of p its SIGCHLD for a stop or continue (why:
 * CLD_STOPPED or CLD_CONTINUED; tasklist_lock held). */
void signal_notify_parent_stop(struct process *p, int why, int sig);

#endif
