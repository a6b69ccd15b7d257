/* Timers: itimers (kernel/itimer.c), POSIX timers (kernel/posix_timers.c)
 * and timerfds (fs/timerfd.c) are all `struct ktimer`s, fired by one timer
 * thread for the whole sandbox (kernel/timers.c). It sleeps on a condition
 * variable until the earliest deadline of a heap of wall-clock timers, and
 * while any CPU-time timer is armed it also wakes every CPU_TICK_NS to
 * account the CPU time of their processes and fire those that are due.
 *
 * A process's timer state (struct proc_timers, p->timers) is made on first
 * use by the process itself, kept across exec (itimers survive exec, POSIX
 * timers do not), never inherited by fork (a child starts without), and
 * freed by timers_exit before the process becomes a zombie: no timer fires
 * for a dead process. The same object carries the wait queue that signalfd
 * readers and pollers sleep on (woken for every signal queued to p).
 *
 * CPU timers (ITIMER_VIRTUAL, ITIMER_PROF, POSIX timers on CPU clocks,
 * RLIMIT_CPU) run on the process's CPU time as kernel/cputime.h counts
 * it, checked every CPU_TICK_NS like Linux's tick (one signal per check
 * at most).
 *
 * Lock order: tasklist_lock -> timers_lock -> process.lock -> waitq.lock.
 * timers_lock guards every ktimer, every proc_timers and the timerfds'
 * state; fire callbacks run with it held and may send signals. */
#ifndef COCOON_TIMERS_H
#define COCOON_TIMERS_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include "kernel/kernel.h"
#include "kernel/waitq.h"

struct process;
struct thread;

/* ---- calls from the life cycle of processes and signals -------------- */

/* execve past the point of no return: POSIX timers are deleted (and
 * RLIMIT_CPU watched, see timers_rlimit_cpu). */
void timers_exec(struct process *p);
/* p's RLIMIT_CPU may have changed (setrlimit, a new process): watch it
 * (SIGXCPU at the soft limit and each second past it, SIGKILL at the
 * hard one) or stop watching. */
void timers_rlimit_cpu(struct process *p);
/* The last thread of p is leaving (process_end, p->thread still set):
 * every timer of p stops and its state is freed. */
void timers_exit(struct process *p);
/* kernel/signal.c: a signal was queued for p (p->lock held): wake the
 * signalfd readers and pollers of p. */
void signalfd_notify(struct process *p);

/* ---- the timer core (kernel/timers.c) ------------------------------- */

extern pthread_mutex_t timers_lock;

/* Which CPU time a CPU clock counts (Linux's CPUCLOCK_*). */
enum { CPU_PROF, CPU_VIRT, CPU_SCHED, CPU_NONE = -1 };

/* How often CPU-time timers are checked (and user time sampled). */
#define CPU_TICK_NS 10000000LL

/* A signalfd wait queue; pollers pin it, so it may outlive its process. */
struct sigwake {
	atomic_int refs;
	struct waitq wq;
};
void sigwake_put(void *obj);
struct sigwake *sigwake_get(struct sigwake *w);

struct proc_timers;

struct ktimer {
	/* Set by ktimer_init. */
	clockid_t clk;              /* a sandbox clock (REALTIME, MONOTONIC, BOOTTIME, TAI) */
	int cpu;                    /* CPU_NONE: clk; else that CPU time of owner */
	int tid;                    /* CPU timers: of this thread of owner's (0: all) */
	struct proc_timers *owner;  /* NULL for timerfds */
	/* Called by the timer thread (timers_lock held) once the clock has
	 * reached expires, with k no longer queued and expires still the
	 * expiry that passed: it re-arms k (ktimer_rearm) or sets expires to
	 * 0. now: the clock's time. */
	void (*fire)(struct ktimer *k, int64_t now);
	/* timers_lock */
	int64_t expires;            /* ns on the clock; 0: not armed */
	int64_t interval;           /* ns, 0: one-shot (the owner's business) */
	int64_t wake_at;            /* host CLOCK_MONOTONIC ns to look at it */
	int slot;                   /* index in the heap, or -1 */
	struct ktimer *cpu_next, **cpu_pprev; /* armed CPU timers (cpu_pprev NULL: not) */
};

struct ptimer;

struct proc_timers {
	struct process *proc;
	struct sigwake *sigwake;
	struct ktimer rlim_cpu;     /* RLIMIT_CPU on CPU_PROF (kernel/itimer.c) */
	/* itimers (kernel/itimer.c) */
	struct ktimer real, virt, prof;
	bool real_sent;             /* SIGALRM sent and maybe still pending */
	/* POSIX timers (kernel/posix_timers.c) */
	struct ptimer *posix;
	int next_id, nposix;
};

/* The current process's timer state, made on first use (timers_lock
 * held); NULL if out of memory. */
struct proc_timers *proc_timers_get(void);
/* The same for any live process p (timers_lock held). */
struct proc_timers *proc_timers_of(struct process *p);
/* Set up the itimers of a new pt (kernel/itimer.c). */
void itimers_init(struct proc_timers *pt);
/* Delete every POSIX timer of pt (kernel/posix_timers.c; timers_lock). */
void posix_timers_delete_all(struct proc_timers *pt);

void ktimer_init(struct ktimer *k, clockid_t clk, int cpu, struct proc_timers *owner,
		 void (*fire)(struct ktimer *, int64_t));
/* The time on k's clock now. */
int64_t ktimer_now(const struct ktimer *k);
/* Arm k to fire when its clock reaches expires (0: disarm). */
void ktimer_start(struct ktimer *k, int64_t expires);
/* The same from a fire callback: the thread looks again no sooner than
 * min_gap (and at least 100 us) from now, whatever the interval, so a
 * tiny period cannot keep it busy (callers count missed periods from the
 * clock). */
void ktimer_rearm(struct ktimer *k, int64_t expires, int64_t min_gap);
/* While a timer's signal waits to be taken (or is ignored), Linux's timer
 * stands still; ours looks again at most this often. */
#define PENDING_RECHECK_NS 1000000LL
void ktimer_stop(struct ktimer *k);
/* For a periodic k whose expiry is at or before now: move expires to the
 * first period boundary after now (not armed); the periods it passed. */
int64_t ktimer_forward(struct ktimer *k, int64_t now);
/* The CPU time of a process (which: CPU_PROF, CPU_VIRT, CPU_SCHED), ns. */
int64_t proc_cpu_ns(struct proc_timers *pt, int which);
/* Arm the RLIMIT_CPU watch of pt from its process's limits (timers_lock). */
void rlimit_cpu_arm(struct proc_timers *pt);

/* ---- shared helpers ------------------------------------------------ */

/* The kernel's struct __kernel_itimerspec and __kernel_old_itimerval. */
struct kitimerspec {
	int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};
/* sec/nsec (valid, nsec < 1e9) as nanoseconds, saturated like Linux's
 * timespec64_to_ktime. */
int64_t timespec_ns(int64_t sec, int64_t nsec);
/* a + b, saturated at INT64_MAX (both >= 0). */
int64_t ns_add(int64_t a, int64_t b);
/* Read a guest itimerspec: 0, -EFAULT or -EINVAL (Linux's
 * itimerspec64_valid); *value and *interval in ns. */
int get_itimerspec(gaddr_t addr, int64_t *value, int64_t *interval);
int put_itimerspec(gaddr_t addr, int64_t value, int64_t interval);
/* The host's tick (TICK_NSEC). */
int64_t tick_ns(void);
/* A sandbox clock a timer can run on, for timer_create and timerfd:
 * REALTIME, MONOTONIC, BOOTTIME, TAI; alarm clocks map to the plain ones
 * (the sandbox never wakes the host). */
clockid_t timer_wall_clock(clockid_t id);
/* The checks of the alarm clocks (CAP_WAKE_ALARM: uid 0 here): 0 or -EPERM. */
int alarm_clock_permitted(void);

#endif
