/* Identity and system information: the get*id calls, umask,
 * set_tid_address, the robust-list calls, rseq, sysinfo. */
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include "fs/fs.h"
#include "kernel/ktime.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"


_Static_assert(sizeof(struct sysinfo) == 112, "Linux struct sysinfo");

#define ROBUST_LIST_HEAD_SIZE 24 /* struct robust_list_head on x86-64 */

long sys_gettid(const struct sysargs *a) { return current->tid; }
/* Real and effective ids; the set* calls are in kernel/sys_cred.c. */
long sys_getuid(const struct sysargs *a) { return current->proc->ruid; }
long sys_geteuid(const struct sysargs *a) { return current->proc->uid; }
long sys_getgid(const struct sysargs *a) { return current->proc->rgid; }
long sys_getegid(const struct sysargs *a) { return current->proc->gid; }

/* Three separate stores in order, stopping at the first fault, as Linux. */
static long put_res_ids(const struct sysargs *a, uint32_t r, uint32_t e, uint32_t s)
{
	uint32_t id[3] = { r, e, s };
	for (int i = 0; i < 3; i++)
		if (copy_to_guest(a->a[i], &id[i], sizeof id[i]))
			return -EFAULT;
	return 0;
}

long sys_getresuid(const struct sysargs *a)
{
	struct process *p = current->proc;
	return put_res_ids(a, p->ruid, p->uid, p->suid);
}

long sys_getresgid(const struct sysargs *a)
{
	struct process *p = current->proc;
	return put_res_ids(a, p->rgid, p->gid, p->sgid);
}

long sys_set_tid_address(const struct sysargs *a)
{
	current->clear_child_tid = a->a[0];
	return current->tid;
}

long sys_set_robust_list(const struct sysargs *a)
{
	if (a->a[1] != ROBUST_LIST_HEAD_SIZE)
		return -EINVAL;
	current->robust_list = a->a[0];
	return 0;
}

/* Only the caller's own list can be read for now (other threads are not
 * found: ESRCH). Linux writes the length first, then the head. */
long sys_get_robust_list(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	uint64_t len = ROBUST_LIST_HEAD_SIZE, head = current->robust_list;
	if (pid != 0 && pid != current->tid) {
		/* Any thread the caller may inspect (ptrace_may_access,
		 * PTRACE_MODE_READ_REALCREDS). */
		long err = 0;
		pthread_mutex_lock(&tasklist_lock);
		struct thread *t = pid > 0 ? tid_lookup(pid) : NULL;
		if (!t)
			err = -ESRCH;
		else if (!may_inspect_locked(current->proc, t->proc))
			err = -EPERM;
		else
			head = __atomic_load_n(&t->robust_list, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&tasklist_lock);
		if (err)
			return err;
	}
	if (copy_to_guest(a->a[2], &len, sizeof len) || copy_to_guest(a->a[1], &head, sizeof head))
		return -EFAULT;
	return 0;
}

/* Restartable sequences are not supported: glibc and others then run
 * without them (glibc's sched_getcpu falls back to getcpu). */
long sys_rseq(const struct sysargs *a)
{
	return -ENOSYS;
}

long sys_umask(const struct sysargs *a)
{
	return cur_umask_set((mode_t)a->a[0] & 0777);
}

/* Linux's nr_threads: every thread; a zombie (no thread left) counts one. */
static void count_one(struct process *p, void *ctx)
{
	int n = __atomic_load_n(&p->nr_threads, __ATOMIC_RELAXED);
	*(unsigned *)ctx += n > 0 ? (unsigned)n : 1;
}

/* Uptime from the guest's boot-time clock, rounded up like Linux; procs
 * is the number of guest threads (Linux's nr_threads), zombies
 * included; memory and load are the
 * host's (the sandbox has no memory limit of its own). */
long sys_sysinfo(const struct sysargs *a)
{
	struct sysinfo host, si;
	struct timespec up;
	memset(&si, 0, sizeof si);
	if (sysinfo(&host) == 0) {
		memcpy(si.loads, host.loads, sizeof si.loads);
		si.totalram = host.totalram;
		si.freeram = host.freeram;
		si.sharedram = host.sharedram;
		si.bufferram = host.bufferram;
		si.totalswap = host.totalswap;
		si.freeswap = host.freeswap;
		si.procs = host.procs;
		si.totalhigh = host.totalhigh;
		si.freehigh = host.freehigh;
		si.mem_unit = host.mem_unit;
	}
	unsigned procs = 0;
	pthread_mutex_lock(&tasklist_lock);
	for_each_process(count_one, &procs);
	pthread_mutex_unlock(&tasklist_lock);
	si.procs = (unsigned short)procs;
	ktime_get(CLOCK_BOOTTIME, &up);
	si.uptime = up.tv_sec + (up.tv_nsec ? 1 : 0);
	return copy_to_guest(a->a[0], &si, sizeof si);
}
