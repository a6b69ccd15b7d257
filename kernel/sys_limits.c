/* Resource limits, usage, CPU affinity and scheduling: getrlimit,
 * setrlimit, prlimit64, getrusage, times, sched_getaffinity,
 * sched_setaffinity, sched_yield, getcpu, sched_getscheduler,
 * sched_getparam, sched_get_priority_max/min, getpriority, setpriority.
 *
 * Locking: p->lock guards p->rlimits; it is a leaf lock here (no guest
 * copy and no other lock while it is held). */
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <unistd.h>
#include "kernel/ktime.h"
#include "kernel/limits.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define NR_OPEN 1048576 /* Linux's default fs.nr_open: RLIMIT_NOFILE's ceiling */
#define MIN_NICE -20
#define MAX_NICE 19

_Static_assert(sizeof(struct rlimit) == 16, "Linux struct rlimit");
_Static_assert(sizeof(struct rusage) == 144, "Linux struct rusage");

/* Thread ids this process can find: itself, its process, and 0 (= self).
 * TODO: the other threads of the group once task.h can look them up. */
static bool own_task(int pid)
{
	return pid == 0 || pid == current->tid || pid == current->proc->pid;
}

/* ---- rlimits --------------------------------------------------------------- */

/* The limits cocoon was started with, before it raised its own. */
static struct rlimit host_limits[RLIM_NLIMITS];
static bool host_limits_taken;

void rlimits_snapshot_host(void)
{
	for (unsigned i = 0; i < RLIM_NLIMITS; i++)
		if (getrlimit(i, &host_limits[i]) != 0)
			host_limits[i] = (struct rlimit){ RLIM_INFINITY, RLIM_INFINITY };
	host_limits_taken = true;
}

void rlimits_init_default(struct rlimit *r)
{
	if (!host_limits_taken)
		rlimits_snapshot_host();
	memcpy(r, host_limits, sizeof(host_limits));
}

rlim_t rlimit_cur(struct process *p, unsigned res)
{
	pthread_mutex_lock(&p->lock);
	rlim_t v = p->rlimits[res].rlim_cur;
	pthread_mutex_unlock(&p->lock);
	return v;
}

/* Linux's do_prlimit. Limits are stored and reported; enforcing them is
 * up to the code that consumes each resource (RLIMIT_CPU is not). */
static long do_prlimit(struct process *p, unsigned res, const struct rlimit *nw,
		       struct rlimit *old)
{
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (nw) {
		if (nw->rlim_cur > nw->rlim_max)
			return -EINVAL;
		if (res == RLIMIT_NOFILE && nw->rlim_max > NR_OPEN)
			return -EPERM;
	}
	long err = 0;
	pthread_mutex_lock(&p->lock);
	struct rlimit *r = &p->rlimits[res];
	if (nw && nw->rlim_max > r->rlim_max && !capable(CAP_SYS_RESOURCE))
		err = -EPERM;
	if (!err) {
		if (old)
			*old = *r;
		if (nw)
			*r = *nw;
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

long sys_getrlimit(const struct sysargs *a)
{
	struct rlimit old;
	long err = do_prlimit(current->proc, (unsigned)a->a[0], NULL, &old);
	return err ? err : copy_to_guest(a->a[1], &old, sizeof old);
}

/* Linux reads the new limit before it looks at the resource number. */
long sys_setrlimit(const struct sysargs *a)
{
	struct rlimit nw;
	if (copy_from_guest(&nw, a->a[1], sizeof nw))
		return -EFAULT;
	return do_prlimit(current->proc, (unsigned)a->a[0], &nw, NULL);
}

/* struct rlimit64 is struct rlimit on x86-64. A failed copy-out of the old
 * limit still leaves the new one set, as in Linux. */
long sys_prlimit64(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	gaddr_t newp = a->a[2], oldp = a->a[3];
	struct rlimit nw, old;
	if (newp && copy_from_guest(&nw, newp, sizeof nw))
		return -EFAULT;
	if (!own_task(pid))
		return -ESRCH;
	long err = do_prlimit(current->proc, (unsigned)a->a[1], newp ? &nw : NULL,
			      oldp ? &old : NULL);
	if (!err && oldp && copy_to_guest(oldp, &old, sizeof old))
		err = -EFAULT;
	return err;
}

/* ---- usage ---------------------------------------------------------------- */

/* TODO: these are the host's figures for the whole cocoon process (and its
 * reaped children), not the guest's, until the kernel accounts guest CPU
 * time and memory per task. */
long sys_getrusage(const struct sysargs *a)
{
	int who = (int)a->a[0];
	struct rusage ru;
	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
		return -EINVAL;
	getrusage(who, &ru);
	return copy_to_guest(a->a[1], &ru, sizeof ru);
}

/* Linux returns jiffies in USER_HZ (100) ticks, counted from
 * INITIAL_JIFFIES (five minutes before 32-bit wrap-around) at an instant
 * near boot; derived from the guest's CLOCK_MONOTONIC, with the host's
 * starting point measured once. */
static long ticks_since_boot(void)
{
	return (long)(ktime_get_ns(CLOCK_MONOTONIC) / (NSEC_PER_SEC / 100));
}

static long ticks_base;
static pthread_once_t ticks_once = PTHREAD_ONCE_INIT;

static void ticks_init(void)
{
	struct tms t;
	ticks_base = (long)times(&t) - ticks_since_boot();
}

long sys_times(const struct sysargs *a)
{
	if (a->a[0]) {
		struct tms t;
		times(&t);
		int64_t k[4] = { t.tms_utime, t.tms_stime, t.tms_cutime, t.tms_cstime };
		if (copy_to_guest(a->a[0], k, sizeof k))
			return -EFAULT;
	}
	pthread_once(&ticks_once, ticks_init);
	return ticks_base + ticks_since_boot();
}

/* ---- CPUs ----------------------------------------------------------------- */

/* The CPUs the guest is told about: those cocoon's main thread may run on
 * (so cpusets and taskset are honoured; kernel threads may be pinned
 * later). nr_cpu_ids is Linux's number of possible CPUs, and a kernel cpumask
 * is that many bits in whole longs (cpumask_size() with
 * CONFIG_CPUMASK_OFFSTACK, as in distribution kernels). */
static struct {
	unsigned nr_cpu_ids, mask_bytes;
	uint64_t mask[CPU_SETSIZE / 64];
} cpus;
static pthread_once_t cpus_once = PTHREAD_ONCE_INIT;

static void cpus_init(void)
{
	cpu_set_t set;
	unsigned n = 0;
	CPU_ZERO(&set);
	if (sched_getaffinity(getpid(), sizeof set, &set) != 0)
		CPU_SET(0, &set);
	for (unsigned i = 0; i < CPU_SETSIZE; i++) {
		if (CPU_ISSET(i, &set)) {
			cpus.mask[i / 64] |= 1ULL << (i % 64);
			n = i + 1;
		}
	}
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	if (conf > (long)n)
		n = (unsigned)MIN(conf, CPU_SETSIZE);
	cpus.nr_cpu_ids = n;
	cpus.mask_bytes = (n + 63) / 64 * 8;
}

long sys_sched_getaffinity(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	uint32_t len = (uint32_t)a->a[1]; /* unsigned int: len * 8 wraps as in Linux */
	pthread_once(&cpus_once, cpus_init);
	if (len * 8u < cpus.nr_cpu_ids || (len & (sizeof(long) - 1)))
		return -EINVAL;
	if (!own_task(pid))
		return -ESRCH;
	uint32_t n = MIN(len, cpus.mask_bytes);
	return copy_to_guest(a->a[2], cpus.mask, n) ? -EFAULT : (long)n;
}

/* Checked like Linux (a mask without a usable CPU is EINVAL) but not
 * applied: the guest's host threads keep the host's affinity. */
long sys_sched_setaffinity(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	uint32_t len = (uint32_t)a->a[1];
	uint64_t m[CPU_SETSIZE / 64] = { 0 };
	pthread_once(&cpus_once, cpus_init);
	uint32_t n = MIN(len, cpus.mask_bytes); /* shorter: the rest is zero */
	if (n && copy_from_guest(m, a->a[2], n))
		return -EFAULT;
	if (!own_task(pid))
		return -ESRCH;
	for (size_t i = 0; i < ARRAY_SIZE(m); i++)
		if (m[i] & cpus.mask[i])
			return 0;
	return -EINVAL;
}

long sys_sched_yield(const struct sysargs *a)
{
	sched_yield();
	return 0;
}

/* The CPU the serving kernel thread is on; the guest thread it serves is
 * woken on the same CPU where possible. Both outputs are attempted. */
long sys_getcpu(const struct sysargs *a)
{
	unsigned cpu = 0, node = 0;
	int err = 0;
	getcpu(&cpu, &node);
	if (a->a[0])
		err |= copy_to_guest(a->a[0], &cpu, sizeof cpu);
	if (a->a[1])
		err |= copy_to_guest(a->a[1], &node, sizeof node);
	return err ? -EFAULT : 0;
}

/* ---- scheduling policy and priority ------------------------------------- */

/* Every task is SCHED_OTHER with static priority 0 (nothing sets them). */
long sys_sched_getscheduler(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	if (pid < 0)
		return -EINVAL;
	return own_task(pid) ? SCHED_OTHER : -ESRCH;
}

long sys_sched_getparam(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	int32_t prio = 0;
	if (!a->a[1] || pid < 0)
		return -EINVAL;
	if (!own_task(pid))
		return -ESRCH;
	return copy_to_guest(a->a[1], &prio, sizeof prio);
}

/* Real-time policies have priorities 1..99, the others only 0. */
static long prio_range(int policy, bool max)
{
	switch (policy) {
	case SCHED_FIFO:
	case SCHED_RR:
		return max ? 99 : 1;
	case SCHED_OTHER:
	case SCHED_BATCH:
	case SCHED_IDLE:
	case 6: /* SCHED_DEADLINE */
	case 7: /* SCHED_EXT */
		return 0;
	}
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

#define THREAD_NICE (current->nice)

/* Whether (which, who) names the caller. Other matches (other threads, the
 * rest of a process group or of a user's processes) are not found yet. */
static bool prio_match(int which, int who)
{
	switch (which) {
	case PRIO_PROCESS:
		return own_task(who);
	case PRIO_PGRP:
		return who == 0 || who == current->proc->pid; /* pgid == pid for now */
	default: /* PRIO_USER */
		return who == 0 || (uint32_t)who == current->proc->uid;
	}
}

/* The raw call returns 20 - nice (1..40) so that it is never negative;
 * glibc converts it back. */
long sys_getpriority(const struct sysargs *a)
{
	int which = (int)a->a[0], who = (int)a->a[1];
	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	return prio_match(which, who) ? 20 - THREAD_NICE : -ESRCH;
}

/* Stored only: the guest's host thread keeps its host nice value. */
long sys_setpriority(const struct sysargs *a)
{
	int which = (int)a->a[0], who = (int)a->a[1], nice = (int)a->a[2];
	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	nice = MAX(MIN_NICE, MIN(nice, MAX_NICE));
	if (!prio_match(which, who))
		return -ESRCH;
	/* Raising priority needs RLIMIT_NICE >= 20 - nice, or CAP_SYS_NICE. */
	if (nice < THREAD_NICE && (rlim_t)(20 - nice) > rlimit_cur(current->proc, RLIMIT_NICE) &&
	    !capable(CAP_SYS_NICE))
		return -EACCES;
	THREAD_NICE = nice;
	return 0;
}
