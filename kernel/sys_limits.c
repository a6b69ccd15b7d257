/* Resource limits: getrlimit, setrlimit, prlimit64 (usage is
 * kernel/cputime.c's, scheduling kernel/sys_sched.c's).
 *
 * Locking: p->lock guards p->rlimits; it is a leaf lock here (no guest
 * copy and no other lock while it is held). */
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include "kernel/limits.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/timers.h"
#include "mm/uaccess.h"

#define NR_OPEN 1048576 /* Linux's default fs.nr_open: RLIMIT_NOFILE's ceiling */

_Static_assert(sizeof(struct rlimit) == 16, "Linux struct rlimit");

/* Ids this process can find: 0 (= self), its pid and its threads' ids. */
static bool own_task(int pid)
{
	if (pid == 0 || pid == current->tid || pid == current->proc->pid)
		return true;
	pthread_mutex_lock(&tasklist_lock);
	struct thread *t = tid_lookup(pid);
	bool own = t && t->proc == current->proc;
	pthread_mutex_unlock(&tasklist_lock);
	return own;
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
 * up to the code that consumes each resource (RLIMIT_CPU: kernel/
 * itimer.c). */
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
	if (!err && nw && res == RLIMIT_CPU)
		timers_rlimit_cpu(p);
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
