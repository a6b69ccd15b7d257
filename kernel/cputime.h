/* CPU time of guest threads and processes (kernel/cputime.c), and the
 * scheduling attributes kept per thread (kernel/sys_sched.c).
 *
 * A guest thread's user time is the host's user time of its host thread
 * (platform_thread_usage: the guest's own code, plus the stub's trap
 * handler). Its system time is the host's system time of that thread
 * (trap delivery, the hand-off) plus the CPU time of the kernel thread
 * that serves it: cocoon's system-call work is the guest's system time,
 * as Linux's would be. A process's time is that of its live threads plus
 * what its threads that have left used; its children's is what its
 * reaped children (and theirs) used, added at wait time like Linux's
 * cutime/cstime (children reaped automatically do not count).
 *
 * getrusage's other figures: page faults (ru_minflt, ru_majflt) are
 * those the host resolved for the guest thread's host thread (its
 * /proc/.../stat, read with the CPU time) plus the copy-on-write faults
 * the kernel resolved; voluntary context switches (ru_nvcsw) are the
 * thread's sleeps on wait queues; involuntary ones (ru_nivcsw) are the
 * host's of the host thread (its preemptions, platform_thread_nivcsw:
 * cocoon's own work for the call is not counted); ru_maxrss is the peak of the memory's resident set
 * (mm/rss.c), kept per process at exec and exit. They add up like the
 * CPU time: exited threads into the process, reaped children into
 * the parent's children figures (maxrss: the largest).
 *
 * State is made on first use: struct thread_cpu per thread (t->cpu) and
 * struct proc_cpu per process (p->cpu), both under proc->lock.
 *
 * Calls the life cycle must make (kernel/task.c, fork.c, wait.c):
 *  - cputime_thread_start(t): first thing on t's kernel thread;
 *  - sched_fork(child, parent): when a thread or process is cloned,
 *    before the child runs (it inherits nice, policy and affinity);
 *  - cputime_thread_exit(t): on t's kernel thread when it leaves its
 *    serve loop, before its host thread is released or its host process
 *    killed, and before t is freed (idempotent);
 *  - cputime_reap(parent, child): when wait reaps a zombie (not for
 *    children reaped automatically), with tasklist_lock held;
 *  - cputime_process_free(p): in process_free.
 *
 * Lock order: tasklist_lock -> timers_lock -> process.lock ->
 * hostcpu_lock -> plat.lock (platform/hostcpu.h). */
#ifndef COCOON_CPUTIME_H
#define COCOON_CPUTIME_H

#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>
#include "kernel/kernel.h"

struct process;
struct thread;
struct mm;

/* Nanoseconds of user and system time. */
struct cputime {
	int64_t user, sys;
};

#define CPUMASK_WORDS (CPU_SETSIZE / 64)

struct thread_cpu {
	/* Scheduling (kernel/sys_sched.c); the nice value is t->nice. */
	int policy;               /* SCHED_OTHER, BATCH, IDLE (FIFO/RR need privileges) */
	int rt_priority;          /* 0 for the policies above */
	bool reset_on_fork;       /* SCHED_RESET_ON_FORK / SCHED_FLAG_RESET_ON_FORK */
	uint32_t util_min, util_max; /* sched_setattr's utilization clamps */
	uint16_t ioprio;          /* ioprio_set's class and level (0: none set) */
	uint64_t affinity[CPUMASK_WORDS];
	/* CPU time */
	clockid_t kclock;         /* the serving kernel thread's CPU clock */
	bool has_kclock;
	/* Kernel threads are reused: the clock counts from kbase_ns; and
	 * their spins for the guest (remote) are waiting, not its system
	 * time: kspin_ns of them since kspin_base_ns (cputime_note_spin). */
	int64_t kbase_ns, kspin_base_ns, kspin_ns;
	struct cputime last;      /* the figures last given (monotonic; kept once the host thread is gone) */
};

/* getrusage's counters besides the CPU time. */
struct usage_counts {
	int64_t minflt, majflt, nvcsw, nivcsw;
};

struct proc_cpu {
	struct cputime exited;    /* threads that have left */
	struct cputime children;  /* reaped children, with their own children */
	struct usage_counts exited_counts, children_counts;
	int64_t maxrss;           /* KiB, of memories left behind (exec, exit) */
	int64_t children_maxrss;  /* KiB, the largest of the reaped children's */
};

/* ---- the life cycle ------------------------------------------------ */

void cputime_thread_start(struct thread *t);
/* By t's kernel thread after each platform_run: its spins since the
 * last call stop counting as t's system time (cheap when it did not spin). */
void cputime_note_spin(struct thread *t);
void sched_fork(struct thread *child, struct thread *parent);
void cputime_thread_exit(struct thread *t);
void cputime_reap(struct process *parent, struct process *child);
void cputime_process_free(struct process *p);
/* p leaves memory mm (exec, exit): its peak resident set counts for p's
 * ru_maxrss. Takes proc->lock and mm->lock. */
void cputime_note_mm(struct process *p, struct mm *mm);

/* ---- state (proc->lock held) ------------------------------------------ */

/* t's state, made now if needed (defaults: SCHED_OTHER, every CPU), or
 * NULL if out of memory. */
struct thread_cpu *thread_cpu_locked(struct thread *t);
/* A new thread_cpu's scheduling defaults (kernel/sys_sched.c). */
void sched_thread_init(struct thread_cpu *tc);
struct proc_cpu *proc_cpu_locked(struct process *p);

/* ---- figures ------------------------------------------------------------ */

/* CPU time of thread t of p (proc->lock held, t one of p's live threads). */
void cputime_thread_locked(struct thread *t, struct cputime *out);
/* CPU time of process p, and of its reaped children (either may be
 * NULL); takes proc->lock. */
void cputime_process(struct process *p, struct cputime *self, struct cputime *children);
void cputime_process_locked(struct process *p, struct cputime *self, struct cputime *children);
/* t's counters (proc->lock held; the host's faults as of t's last
 * cputime_thread_locked). */
void usage_thread_locked(struct thread *t, struct usage_counts *out);
/* The counters of process p (live threads and exited ones) and of its
 * reaped children (either may be NULL); proc->lock held, the host's
 * faults as of the last cputime_process_locked. */
void usage_process_locked(struct process *p, struct usage_counts *self, struct usage_counts *children);
/* getrusage's struct for who (RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD
 * of the caller, or RUSAGE_BOTH = -2 for wait4's child p). */
void cputime_rusage(struct process *p, int who, struct rusage *ru);
#define RUSAGE_BOTH (-2)

/* Linux's CPU-clock ids: ~pid << 3 | perthread << 2 | which. */
#define CPUCLOCK_PID(c)       ((pid_t)~((c) >> 3))
#define CPUCLOCK_PERTHREAD(c) (((c) & 4) != 0)
#define CPUCLOCK_WHICH(c)     ((c) & 3)
enum { CPUCLOCK_PROF, CPUCLOCK_VIRT, CPUCLOCK_SCHED };

/* The time on a CPU clock (which: CPUCLOCK_*) of thread or process id
 * (0: the caller's), found as Linux's lookup_task does: a thread clock
 * only within the caller's thread group; a process clock of any thread's
 * process when gettime, else only of a process id. 0, or -EINVAL if
 * there is no such task. */
int cputime_clock_ns(int which, bool thread, int id, bool gettime, int64_t *ns);

#endif
