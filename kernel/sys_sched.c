/* Scheduling: CPU affinity, policies and priorities, nice values
 * (sched_setaffinity, sched_getaffinity, sched_yield, getcpu,
 * sched_setscheduler, sched_getscheduler, sched_setparam,
 * sched_getparam, sched_setattr, sched_getattr, sched_get_priority_max,
 * sched_get_priority_min, sched_rr_get_interval, getpriority,
 * setpriority, ioprio_get, ioprio_set), with Linux's checks and errors (kernel/sched/syscalls.c,
 * kernel/sys.c).
 *
 * Everything is per thread and stored (struct thread_cpu, kernel/
 * cputime.h; the nice value is t->nice), under the process's lock. The
 * host scheduler keeps running guests its own way: policies and nice
 * values are not applied. Affinity is: a guest thread's host thread stays
 * on CPUs of its mask (platform_thread_set_cpus), so getcpu and the vDSO
 * agree with it. The CPUs the sandbox shows are those cocoon may run on.
 *
 * Privileges: the sandbox's root (euid 0) holds CAP_SYS_NICE until there
 * is a capability model. */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kernel/cputime.h"
#include "kernel/ktime.h"
#include "kernel/limits.h"
#include "kernel/timers.h"
#include "kernel/syscall.h"
#include "kernel/proc_ext.h"
#include "kernel/task.h"
#include "mm/uaccess.h"
#include "platform/platform.h"

#define MIN_NICE -20
#define MAX_NICE 19
#define MAX_RT_PRIO 100
#define SCHED_DEADLINE_ 6
#define SCHED_EXT_ 7
#define SCHED_RESET_ON_FORK_ 0x40000000
#define SETPARAM_POLICY -1
#define RR_TIMESLICE_NS 100000000LL /* Linux's RR_TIMESLICE: 100 ms */
#define UCLAMP_MAX 1024

/* sched_attr's flags. */
#define SCHED_FLAG_RESET_ON_FORK 0x01
#define SCHED_FLAG_RECLAIM 0x02
#define SCHED_FLAG_DL_OVERRUN 0x04
#define SCHED_FLAG_KEEP_POLICY 0x08
#define SCHED_FLAG_KEEP_PARAMS 0x10
#define SCHED_FLAG_UTIL_CLAMP_MIN 0x20
#define SCHED_FLAG_UTIL_CLAMP_MAX 0x40
#define SCHED_FLAG_UTIL_CLAMP (SCHED_FLAG_UTIL_CLAMP_MIN | SCHED_FLAG_UTIL_CLAMP_MAX)
#define SCHED_FLAG_ALL 0x7f
#define SCHED_FLAG_SUGOV 0x10000000

struct ksched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};
#define SCHED_ATTR_SIZE_VER0 48
#define SCHED_ATTR_SIZE_VER1 56
_Static_assert(sizeof(struct ksched_attr) == SCHED_ATTR_SIZE_VER1, "struct sched_attr");

/* ---- the sandbox's CPUs ---------------------------------------------- */

/* The CPUs guests may use: those cocoon may run on (its main thread's
 * mask: kernel threads are bound to the CPUs of their guests). The
 * kernel's cpumask size and its nr_cpu_ids rule (a buffer of fewer bits
 * is EINVAL) are the host's, found by asking it. */
static struct {
	unsigned nr_cpu_ids, mask_bytes;
	uint64_t mask[CPUMASK_WORDS];
} cpus;
static pthread_once_t cpus_once = PTHREAD_ONCE_INIT;

static void cpus_init(void)
{
	uint64_t m[CPUMASK_WORDS] = { 0 };
	long size = syscall(SYS_sched_getaffinity, getpid(), sizeof(m), m);
	if (size <= 0) {
		size = 8;
		m[0] = 1;
	}
	memcpy(cpus.mask, m, sizeof(m));
	cpus.mask_bytes = (unsigned)size;
	unsigned len = 8;
	while (len < sizeof(m) && syscall(SYS_sched_getaffinity, getpid(), len, m) < 0)
		len += 8;
	cpus.nr_cpu_ids = len * 8;
}

void sched_thread_init(struct thread_cpu *tc)
{
	pthread_once(&cpus_once, cpus_init);
	tc->policy = SCHED_OTHER;
	tc->util_max = UCLAMP_MAX;
	memcpy(tc->affinity, cpus.mask, sizeof(tc->affinity));
}

/* Keep t's host thread on the CPUs of its mask (proc->lock held). */
static void apply_affinity(struct thread *t, const struct thread_cpu *tc)
{
	if (t->plat)
		platform_thread_set_cpus(t->plat, tc->affinity[0]);
}

/* Linux's sched_fork: a child thread or process inherits its creator's
 * policy, priority, nice value and affinity, except that
 * SCHED_RESET_ON_FORK gives it the default policy and a nice value no
 * better than 0. */
void sched_fork(struct thread *child, struct thread *parent)
{
	struct thread_cpu pc;
	int nice;
	pthread_mutex_lock(&parent->proc->lock);
	struct thread_cpu *ptc = thread_cpu_locked(parent);
	if (ptc)
		pc = *ptc;
	else
		sched_thread_init(&pc);
	nice = parent->nice;
	pthread_mutex_unlock(&parent->proc->lock);
	if (pc.reset_on_fork) {
		if (pc.policy == SCHED_FIFO || pc.policy == SCHED_RR || pc.policy == SCHED_DEADLINE_) {
			pc.policy = SCHED_OTHER;
			pc.rt_priority = 0;
			nice = 0;
		} else if (nice < 0) {
			nice = 0;
		}
		pc.reset_on_fork = false;
		pc.util_min = 0;
		pc.util_max = UCLAMP_MAX;
	}
	pthread_mutex_lock(&child->proc->lock);
	struct thread_cpu *tc = thread_cpu_locked(child);
	if (tc) {
		tc->policy = pc.policy;
		tc->rt_priority = pc.rt_priority;
		tc->reset_on_fork = pc.reset_on_fork;
		tc->util_min = pc.util_min;
		tc->util_max = pc.util_max;
		tc->ioprio = pc.ioprio; /* Linux's copy_io */
		memcpy(tc->affinity, pc.affinity, sizeof(tc->affinity));
		apply_affinity(child, tc);
	}
	child->nice = nice;
	pthread_mutex_unlock(&child->proc->lock);
	if (child->proc != parent->proc)
		timers_rlimit_cpu(child->proc); /* the inherited RLIMIT_CPU */
}

/* ---- finding threads and checking rights -------------------------------- */

/* Linux's find_process_by_pid: the thread with id `id` (0: the caller),
 * returned with its process's lock held, or NULL. */
static struct thread *lock_thread(int id)
{
	struct process *me = current->proc;
	if (id == 0 || id == current->tid) {
		pthread_mutex_lock(&me->lock);
		return current;
	}
	if (id == me->pid) { /* the caller's process: its leader, else the caller */
		pthread_mutex_lock(&me->lock);
		return me->thread && me->thread->tid == id ? me->thread : current;
	}
	/* Threads are unlinked under both locks: holding p->lock keeps t. */
	pthread_mutex_lock(&tasklist_lock);
	struct thread *t = tid_lookup(id);
	if (t)
		pthread_mutex_lock(&t->proc->lock);
	pthread_mutex_unlock(&tasklist_lock);
	return t;
}

static void unlock_thread(struct thread *t)
{
	pthread_mutex_unlock(&t->proc->lock);
}

static bool capable_nice(void)
{
	return capable(CAP_SYS_NICE);
}

/* Linux's check_same_owner (p->lock held; the caller's ids are its own). */
static bool same_owner(const struct process *p)
{
	uint32_t euid = current->proc->uid;
	return euid == p->uid || euid == p->ruid;
}

/* Linux's is_nice_reduction: RLIMIT_NICE of t's process allows nice
 * (p->lock held). */
static bool nice_allowed(const struct thread *t, int nice)
{
	return (rlim_t)(20 - nice) <= t->proc->rlimits[RLIMIT_NICE].rlim_cur;
}

/* ---- affinity ------------------------------------------------------------- */

long sys_sched_getaffinity(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	uint32_t len = (uint32_t)a->a[1]; /* unsigned int: len * 8 wraps as in Linux */
	pthread_once(&cpus_once, cpus_init);
	if (len * 8u < cpus.nr_cpu_ids || (len & (sizeof(long) - 1)))
		return -EINVAL;
	uint64_t m[CPUMASK_WORDS];
	struct thread *t = lock_thread(pid);
	if (!t)
		return -ESRCH;
	struct thread_cpu *tc = thread_cpu_locked(t);
	for (size_t i = 0; i < CPUMASK_WORDS; i++)
		m[i] = (tc ? tc->affinity[i] : cpus.mask[i]) & cpus.mask[i];
	unlock_thread(t);
	uint32_t n = MIN(len, cpus.mask_bytes);
	return copy_to_guest(a->a[2], m, n) ? -EFAULT : (long)n;
}

/* The mask is read first (a short one is zero-extended, a long one cut
 * to the kernel's size), then the thread looked up and the rights
 * checked; CPUs the sandbox does not have are dropped, and a mask left
 * empty is EINVAL. */
long sys_sched_setaffinity(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	uint32_t len = (uint32_t)a->a[1];
	uint64_t m[CPUMASK_WORDS] = { 0 };
	pthread_once(&cpus_once, cpus_init);
	uint32_t n = MIN(len, cpus.mask_bytes);
	if (n && copy_from_guest(m, a->a[2], n))
		return -EFAULT;
	struct thread *t = lock_thread(pid);
	if (!t)
		return -ESRCH;
	long err = 0;
	bool any = false;
	for (size_t i = 0; i < CPUMASK_WORDS; i++) {
		m[i] &= cpus.mask[i];
		any |= m[i] != 0;
	}
	struct thread_cpu *tc = NULL;
	if (!same_owner(t->proc) && !capable_nice())
		err = -EPERM;
	else if (!any)
		err = -EINVAL;
	else if (!(tc = thread_cpu_locked(t)))
		err = -ENOMEM;
	if (!err) {
		memcpy(tc->affinity, m, sizeof(m));
		apply_affinity(t, tc);
	}
	unlock_thread(t);
	return err;
}

long sys_sched_yield(const struct sysargs *a)
{
	sched_yield();
	return 0;
}

/* The CPU the guest thread runs on: its kernel thread follows it there
 * (where the host allows); a CPU outside the thread's mask is never
 * reported. One NUMA node. Both outputs are attempted. */
long sys_getcpu(const struct sysargs *a)
{
	unsigned cpu = 0, node = 0;
	int err = 0;
	getcpu(&cpu, &node);
	pthread_mutex_lock(&current->proc->lock);
	struct thread_cpu *tc = thread_cpu_locked(current);
	if (tc && (cpu >= CPU_SETSIZE || !(tc->affinity[cpu / 64] & (1ULL << (cpu % 64))))) {
		for (unsigned i = 0; i < CPU_SETSIZE; i++)
			if (tc->affinity[i / 64] & (1ULL << (i % 64))) {
				cpu = i;
				break;
			}
	}
	pthread_mutex_unlock(&current->proc->lock);
	node = 0;
	if (a->a[0])
		err |= copy_to_guest(a->a[0], &cpu, sizeof cpu);
	if (a->a[1])
		err |= copy_to_guest(a->a[1], &node, sizeof node);
	return err ? -EFAULT : 0;
}

/* ---- policies ---------------------------------------------------------------- */

static bool rt_policy(int policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

static bool fair_policy(int policy)
{
	return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_EXT_;
}

static bool valid_policy(int policy)
{
	return fair_policy(policy) || rt_policy(policy) || policy == SCHED_IDLE ||
	       policy == SCHED_DEADLINE_;
}

/* Linux's user_check_sched_setscheduler: 0 or -EPERM (p->lock held). */
static int user_check(const struct thread *t, const struct thread_cpu *tc, const struct ksched_attr *at,
		      int policy, bool reset_on_fork)
{
	bool priv = false;
	if (fair_policy(policy) && at->nice < t->nice && !nice_allowed(t, at->nice))
		priv = true;
	if (rt_policy(policy)) {
		rlim_t rtprio = t->proc->rlimits[RLIMIT_RTPRIO].rlim_cur;
		if (policy != tc->policy && !rtprio)
			priv = true;
		if ((int)at->priority > tc->rt_priority && at->priority > rtprio)
			priv = true;
	}
	if (policy == SCHED_DEADLINE_)
		priv = true;
	/* SCHED_IDLE counts as nice 20: leaving it is like raising priority. */
	if (tc->policy == SCHED_IDLE && policy != SCHED_IDLE && !nice_allowed(t, t->nice))
		priv = true;
	if (!same_owner(t->proc))
		priv = true;
	if (tc->reset_on_fork && !reset_on_fork)
		priv = true;
	return priv && !capable_nice() ? -EPERM : 0;
}

/* Linux's __sched_setscheduler for a user (p->lock held). Policy
 * SETPARAM_POLICY keeps the thread's. Deadline parameters are never
 * accepted: SCHED_DEADLINE needs privileges Linux does not grant
 * unprivileged, and the sandbox does not schedule by them. */
static int setscheduler(struct thread *t, struct ksched_attr *at)
{
	struct thread_cpu *tc = thread_cpu_locked(t);
	if (!tc)
		return -ENOMEM;
	int policy = (int)at->policy;
	bool reset_on_fork;
	if (policy < 0) {
		reset_on_fork = tc->reset_on_fork;
		policy = tc->policy;
	} else {
		reset_on_fork = at->flags & SCHED_FLAG_RESET_ON_FORK;
		if (!valid_policy(policy))
			return -EINVAL;
	}
	if (at->flags & ~(uint64_t)(SCHED_FLAG_ALL | SCHED_FLAG_SUGOV))
		return -EINVAL;
	if (at->priority > MAX_RT_PRIO - 1)
		return -EINVAL;
	if (policy == SCHED_DEADLINE_ || rt_policy(policy) != (at->priority != 0))
		return -EINVAL;
	if (at->flags & SCHED_FLAG_SUGOV)
		return -EINVAL;
	int err = user_check(t, tc, at, policy, reset_on_fork);
	if (err)
		return err;
	if (at->flags & SCHED_FLAG_UTIL_CLAMP) {
		uint32_t lo = at->flags & SCHED_FLAG_UTIL_CLAMP_MIN ? at->util_min : tc->util_min;
		uint32_t hi = at->flags & SCHED_FLAG_UTIL_CLAMP_MAX ? at->util_max : tc->util_max;
		if ((lo != (uint32_t)-1 && lo > UCLAMP_MAX) || (hi != (uint32_t)-1 && hi > UCLAMP_MAX))
			return -EINVAL;
		if (lo != (uint32_t)-1 && hi != (uint32_t)-1 && lo > hi)
			return -EINVAL;
		tc->util_min = lo == (uint32_t)-1 ? 0 : lo;
		tc->util_max = hi == (uint32_t)-1 ? UCLAMP_MAX : hi;
	}
	tc->policy = policy;
	tc->rt_priority = rt_policy(policy) ? (int)at->priority : 0;
	tc->reset_on_fork = reset_on_fork;
	if (fair_policy(policy))
		t->nice = at->nice;
	return 0;
}

/* sched_setscheduler and sched_setparam (policy SETPARAM_POLICY). */
static long do_setscheduler(int pid, int policy, gaddr_t uparam)
{
	int32_t prio;
	if (!uparam || pid < 0)
		return -EINVAL;
	if (copy_from_guest(&prio, uparam, sizeof(prio)))
		return -EFAULT;
	struct thread *t = lock_thread(pid);
	if (!t)
		return -ESRCH;
	struct ksched_attr at = { .policy = (uint32_t)policy, .priority = (uint32_t)prio, .nice = t->nice };
	if (policy >= 0 && (policy & SCHED_RESET_ON_FORK_)) {
		at.flags |= SCHED_FLAG_RESET_ON_FORK;
		at.policy = (uint32_t)(policy & ~SCHED_RESET_ON_FORK_);
	}
	long err = setscheduler(t, &at);
	unlock_thread(t);
	return err;
}

long sys_sched_setscheduler(const struct sysargs *a)
{
	return do_setscheduler((int)a->a[0], (int)a->a[1], a->a[2]);
}

long sys_sched_setparam(const struct sysargs *a)
{
	return do_setscheduler((int)a->a[0], SETPARAM_POLICY, a->a[1]);
}

long sys_sched_getscheduler(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	if (pid < 0)
		return -EINVAL;
	struct thread *t = lock_thread(pid);
	if (!t)
		return -ESRCH;
	struct thread_cpu *tc = thread_cpu_locked(t);
	long r = tc ? tc->policy | (tc->reset_on_fork ? SCHED_RESET_ON_FORK_ : 0) : SCHED_OTHER;
	unlock_thread(t);
	return r;
}

long sys_sched_getparam(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	if (!a->a[1] || pid < 0)
		return -EINVAL;
	struct thread *t = lock_thread(pid);
	if (!t)
		return -ESRCH;
	struct thread_cpu *tc = thread_cpu_locked(t);
	int32_t prio = tc ? tc->rt_priority : 0;
	unlock_thread(t);
	return copy_to_guest(a->a[1], &prio, sizeof prio) ? -EFAULT : 0;
}

/* Linux's sched_copy_attr: 0, -EFAULT, -EINVAL or -E2BIG (the kernel's
 * size written back). */
static int get_sched_attr(gaddr_t uattr, struct ksched_attr *at)
{
	uint32_t size;
	memset(at, 0, sizeof(*at));
	if (copy_from_guest(&size, uattr, sizeof(size)))
		return -EFAULT;
	if (!size)
		size = SCHED_ATTR_SIZE_VER0;
	int err = 0;
	if (size < SCHED_ATTR_SIZE_VER0 || size > PAGE_SIZE) {
		err = -E2BIG;
	} else {
		if (copy_from_guest(at, uattr, MIN(size, sizeof(*at))))
			return -EFAULT;
		/* A larger struct from a newer libc: the rest must be zero. */
		for (uint32_t off = sizeof(*at); off < size; off += 8) {
			uint8_t rest[8];
			uint32_t n = MIN(8u, size - off);
			if (copy_from_guest(rest, uattr + off, n))
				return -EFAULT;
			for (uint32_t i = 0; i < n; i++)
				if (rest[i])
					err = -E2BIG;
		}
	}
	if (err) {
		uint32_t ksize = sizeof(*at);
		copy_to_guest(uattr, &ksize, sizeof(ksize));
		return err;
	}
	if ((at->flags & SCHED_FLAG_UTIL_CLAMP) && size < SCHED_ATTR_SIZE_VER1)
		return -EINVAL;
	at->nice = MAX(MIN_NICE, MIN(at->nice, MAX_NICE));
	return 0;
}

/* Linux's get_params: what KEEP_PARAMS keeps and getattr reports. */
static void get_params(const struct thread *t, const struct thread_cpu *tc, struct ksched_attr *at)
{
	if (rt_policy(tc->policy))
		at->priority = (uint32_t)tc->rt_priority;
	else
		at->nice = t->nice;
}

long sys_sched_setattr(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	gaddr_t uattr = a->a[1];
	unsigned flags = (unsigned)a->a[2];
	struct ksched_attr at;
	if (!uattr || pid < 0 || flags)
		return -EINVAL;
	int err = get_sched_attr(uattr, &at);
	if (err)
		return err;
	if ((int)at.policy < 0)
		return -EINVAL;
	if (at.flags & SCHED_FLAG_KEEP_POLICY)
		at.policy = (uint32_t)SETPARAM_POLICY;
	struct thread *t = lock_thread(pid);
	if (!t)
		return -ESRCH;
	struct thread_cpu *tc = thread_cpu_locked(t);
	if (!tc)
		err = -ENOMEM;
	else {
		if (at.flags & SCHED_FLAG_KEEP_PARAMS)
			get_params(t, tc, &at);
		err = setscheduler(t, &at);
	}
	unlock_thread(t);
	return err;
}

long sys_sched_getattr(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	gaddr_t uattr = a->a[1];
	uint32_t usize = (uint32_t)a->a[2];
	unsigned flags = (unsigned)a->a[3];
	if (!uattr || pid < 0 || usize > PAGE_SIZE || usize < SCHED_ATTR_SIZE_VER0 || flags)
		return -EINVAL;
	struct thread *t = lock_thread(pid);
	if (!t)
		return -ESRCH;
	struct ksched_attr at = { 0 };
	struct thread_cpu *tc = thread_cpu_locked(t);
	if (tc) {
		at.policy = (uint32_t)tc->policy;
		if (tc->reset_on_fork)
			at.flags |= SCHED_FLAG_RESET_ON_FORK;
		get_params(t, tc, &at);
		at.util_min = tc->util_min;
		at.util_max = tc->util_max;
	} else {
		at.nice = t->nice;
		at.util_max = UCLAMP_MAX;
	}
	unlock_thread(t);
	/* A larger struct of a newer libc: its tail is cleared (Linux's
	 * copy_struct_to_user); size says how much the kernel knows. */
	at.size = MIN(usize, (uint32_t)sizeof(at));
	if (copy_to_guest(uattr, &at, at.size))
		return -EFAULT;
	static const uint8_t zero[PAGE_SIZE];
	if (usize > at.size && copy_to_guest(uattr + at.size, zero, usize - at.size))
		return -EFAULT;
	return 0;
}

/* Real-time policies have priorities 1..99, the others only 0. */
static long prio_range(int policy, bool max)
{
	if (rt_policy(policy))
		return max ? MAX_RT_PRIO - 1 : 1;
	if (valid_policy(policy))
		return 0;
	return -EINVAL;
}

long sys_sched_get_priority_max(const struct sysargs *a)
{
	return prio_range((int)a->a[0], true);
}

long sys_sched_get_priority_min(const struct sysargs *a)
{
	return prio_range((int)a->a[0], false);
}

/* SCHED_RR's slice is Linux's RR_TIMESLICE, FIFO has none; the fair
 * class's is the host's (its base slice in jiffies, as Linux computes
 * it for a runnable task), asked of the host for the calling kernel
 * thread. */
long sys_sched_rr_get_interval(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	if (pid < 0)
		return -EINVAL;
	struct thread *t = lock_thread(pid);
	if (!t)
		return -ESRCH;
	struct thread_cpu *tc = thread_cpu_locked(t);
	int policy = tc ? tc->policy : SCHED_OTHER;
	unlock_thread(t);
	struct timespec ts = { 0, 0 };
	if (policy == SCHED_RR)
		ts = (struct timespec){ RR_TIMESLICE_NS / NSEC_PER_SEC, RR_TIMESLICE_NS % NSEC_PER_SEC };
	else if (policy != SCHED_FIFO && sched_rr_get_interval(0, &ts) != 0)
		ts = (struct timespec){ 0, 0 };
	int64_t k[2] = { ts.tv_sec, ts.tv_nsec };
	return copy_to_guest(a->a[1], k, sizeof(k)) ? -EFAULT : 0;
}

/* ---- nice values -------------------------------------------------------------- */

/* Each thread (which, who) names, with its process's lock held. Linux's
 * PRIO_PROCESS names one thread, PRIO_PGRP every thread of a process
 * group, PRIO_USER every thread whose real uid is who (0: the caller's
 * group, the caller's real uid). fn folds a result over them. */
struct prio_walk {
	int which, who;
	int (*fn)(struct thread *t, int acc, void *arg);
	void *arg;
	int acc;
};

/* The caller's own process is visited first, then every other one. */
static void prio_visit_one(struct process *p, struct prio_walk *w)
{
	if (p->state != PROC_ALIVE)
		return;
	pthread_mutex_lock(&p->lock);
	bool match = w->which == PRIO_PGRP ? p->pgid == w->who : p->ruid == (uint32_t)w->who;
	for (struct thread *t = p->threads; match && t; t = t->next_thread)
		w->acc = w->fn(t, w->acc, w->arg);
	pthread_mutex_unlock(&p->lock);
}

static void prio_visit(struct process *p, void *arg)
{
	if (p != current->proc)
		prio_visit_one(p, arg);
}

static int prio_walk(struct prio_walk *w)
{
	if (w->which == PRIO_PROCESS) {
		struct thread *t = lock_thread(w->who);
		if (t) {
			w->acc = w->fn(t, w->acc, w->arg);
			unlock_thread(t);
		}
		return w->acc;
	}
	pthread_mutex_lock(&tasklist_lock);
	if (!w->who)
		w->who = w->which == PRIO_PGRP ? current->proc->pgid : (int)current->proc->ruid;
	prio_visit_one(current->proc, w);
	for_each_process(prio_visit, w);
	pthread_mutex_unlock(&tasklist_lock);
	return w->acc;
}

static int get_one(struct thread *t, int acc, void *arg)
{
	return MAX(acc, 20 - t->nice);
}

/* The raw call returns 20 - nice (1..40) so that it is never negative;
 * glibc converts it back. */
long sys_getpriority(const struct sysargs *a)
{
	int which = (int)a->a[0], who = (int)a->a[1];
	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	struct prio_walk w = { which, who, get_one, NULL, -ESRCH };
	return prio_walk(&w);
}

/* Linux's set_one_prio: the error of the last thread refused wins, any
 * success turns "none found" into 0. */
static int set_one(struct thread *t, int acc, void *arg)
{
	int nice = *(int *)arg;
	uint32_t euid = current->proc->uid;
	if (t->proc->ruid != euid && t->proc->uid != euid && !capable_nice())
		return -EPERM;
	if (nice < t->nice && !nice_allowed(t, nice) && !capable_nice())
		return -EACCES;
	t->nice = nice;
	return acc == -ESRCH ? 0 : acc;
}

/* Stored: the guest's host thread keeps the host's nice value. */
long sys_setpriority(const struct sysargs *a)
{
	int which = (int)a->a[0], who = (int)a->a[1], nice = (int)a->a[2];
	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	nice = MAX(MIN_NICE, MIN(nice, MAX_NICE));
	struct prio_walk w = { which, who, set_one, &nice, -ESRCH };
	return prio_walk(&w);
}

/* ---- I/O priorities ----------------------------------------------------------- */

/* Linux's ioprio values (block/ioprio.c): a class in bits 13-15 and a
 * level in the low 3 bits. Stored per thread, like Linux's io_context;
 * the host's I/O is not scheduled by them. IOPRIO_WHO_* are PRIO_* + 1. */
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS(v) (((v) >> IOPRIO_CLASS_SHIFT) & 7)
#define IOPRIO_LEVEL(v) ((v) & 7)
#define IOPRIO_VALUE(c, l) (((c) << IOPRIO_CLASS_SHIFT) | (l))
enum { IOPRIO_NONE, IOPRIO_RT, IOPRIO_BE, IOPRIO_IDLE };

static int thread_ioprio(struct thread *t)
{
	struct thread_cpu *tc = thread_cpu_locked(t);
	return tc ? tc->ioprio : 0;
}

/* Linux's __get_task_ioprio: what the thread's I/O gets, its class
 * following its policy and the level its nice value when none is set. */
static int effective_ioprio(struct thread *t)
{
	int v = thread_ioprio(t);
	if (IOPRIO_CLASS(v) != IOPRIO_NONE)
		return v;
	struct thread_cpu *tc = thread_cpu_locked(t);
	int policy = tc ? tc->policy : SCHED_OTHER;
	int cls = policy == SCHED_IDLE ? IOPRIO_IDLE
		: policy == SCHED_FIFO || policy == SCHED_RR ? IOPRIO_RT : IOPRIO_BE;
	return IOPRIO_VALUE(cls, (t->nice + 20) / 5);
}

/* ioprio_best over a group: the numerically smallest. */
static int ioget_one(struct thread *t, int acc, void *arg)
{
	int v = effective_ioprio(t);
	return acc == -ESRCH ? v : MIN(acc, v);
}

long sys_ioprio_get(const struct sysargs *a)
{
	int which = (int)a->a[0] - 1, who = (int)a->a[1];
	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	if (which == PRIO_PROCESS) {
		struct thread *t = lock_thread(who);
		if (!t)
			return -ESRCH;
		int v = thread_ioprio(t);
		unlock_thread(t);
		return v;
	}
	struct prio_walk w = { which, who, ioget_one, NULL, -ESRCH };
	return prio_walk(&w);
}

/* Linux's set_task_ioprio; a group stops at the first refusal. */
static int ioset_one(struct thread *t, int acc, void *arg)
{
	if (acc < 0 && acc != -ESRCH)
		return acc;
	uint32_t euid = current->proc->uid, ruid = current->proc->ruid;
	if (t->proc->ruid != euid && t->proc->ruid != ruid && !capable_nice())
		return -EPERM;
	struct thread_cpu *tc = thread_cpu_locked(t);
	if (tc)
		tc->ioprio = (uint16_t)*(int *)arg;
	return 0;
}

/* Linux's ioprio_check_cap, then the walk. */
long sys_ioprio_set(const struct sysargs *a)
{
	int which = (int)a->a[0] - 1, who = (int)a->a[1], v = (int)a->a[2];
	switch (IOPRIO_CLASS(v)) {
	case IOPRIO_RT:
		if (!capable_nice() && !capable(CAP_SYS_ADMIN))
			return -EPERM;
		break;
	case IOPRIO_BE:
	case IOPRIO_IDLE:
		break;
	case IOPRIO_NONE:
		if (IOPRIO_LEVEL(v))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	v &= 0xffff;
	struct prio_walk w = { which, who, ioset_one, &v, -ESRCH };
	return prio_walk(&w);
}
