/* Virtual pids and the process tree's ids: the pid table, process groups
 * and sessions (getpid, getppid, getpgid, getpgrp, setpgid, getsid,
 * setsid). Pids start at 1 for the sandbox's first process and are handed
 * out in order, wrapping at PID_MAX, like Linux's alloc_pid; a pid stays
 * taken while its process is a zombie. */
#include "kernel/task.h"
#include "kernel/syscall.h"

pthread_mutex_t tasklist_lock = PTHREAD_MUTEX_INITIALIZER;

/* What an id names: a process (its pid, which is also its leader's tid)
 * and/or a thread (the leader's while it lives, or a thread that is not
 * a leader). An id is free when both are NULL. */
static struct pid_slot {
	struct process *proc;
	struct thread *thread;
} pid_table[PID_MAX];
static int last_pid;

/* The next free id after the last one handed out, or -EAGAIN. */
static int id_next(void)
{
	for (int i = 0; i < PID_MAX - 1; i++) {
		int pid = last_pid + 1 + i;
		if (pid >= PID_MAX)
			pid = pid - PID_MAX + 300; /* Linux's RESERVED_PIDS after a wrap */
		if (pid >= PID_MAX || pid_table[pid].proc || pid_table[pid].thread)
			continue;
		last_pid = pid;
		return pid;
	}
	return -EAGAIN;
}

int pid_alloc(struct process *p)
{
	int pid = id_next();
	if (pid > 0)
		pid_table[pid].proc = p;
	return pid;
}

int tid_alloc(struct thread *t)
{
	static uint64_t last_serial;
	int tid = id_next();
	if (tid > 0) {
		pid_table[tid].thread = t;
		t->serial = ++last_serial;
	}
	return tid;
}

void tid_set(int tid, struct thread *t)
{
	if (tid > 0 && tid < PID_MAX)
		pid_table[tid].thread = t;
}

void pid_free(int pid)
{
	if (pid > 0 && pid < PID_MAX)
		pid_table[pid] = (struct pid_slot){ 0 };
}

struct process *pid_lookup(int pid)
{
	if (pid <= 0 || pid >= PID_MAX)
		return NULL;
	struct process *p = pid_table[pid].proc;
	return p && p->state != PROC_REAPED ? p : NULL;
}

struct thread *tid_lookup(int tid)
{
	if (tid <= 0 || tid >= PID_MAX)
		return NULL;
	return pid_table[tid].thread;
}

struct process *pid_or_tid_lookup(int id)
{
	struct process *p = pid_lookup(id);
	if (p)
		return p;
	struct thread *t = tid_lookup(id);
	return t ? t->proc : NULL;
}

void for_each_process(void (*fn)(struct process *p, void *ctx), void *ctx)
{
	for (int pid = 1; pid < PID_MAX; pid++)
		if (pid_table[pid].proc && pid_table[pid].proc->state != PROC_REAPED)
			fn(pid_table[pid].proc, ctx);
}

long sys_getpid(const struct sysargs *a) { return current->proc->pid; }

long sys_getppid(const struct sysargs *a)
{
	pthread_mutex_lock(&tasklist_lock);
	struct process *parent = current->proc->parent;
	int ppid = parent ? parent->pid : 0;
	pthread_mutex_unlock(&tasklist_lock);
	return ppid;
}

/* getpgid and getsid: the id of process pid (0: the caller). */
static long get_id(int pid, bool session)
{
	if (pid < 0)
		return -ESRCH;
	pthread_mutex_lock(&tasklist_lock);
	/* Any thread's id names its process (Linux's find_task_by_vpid). */
	struct process *p = pid ? pid_or_tid_lookup(pid) : current->proc;
	long ret = !p ? -ESRCH : session ? p->sid : p->pgid;
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}

long sys_getpgid(const struct sysargs *a) { return get_id((int)a->a[0], false); }
long sys_getsid(const struct sysargs *a) { return get_id((int)a->a[0], true); }
long sys_getpgrp(const struct sysargs *a) { return get_id(0, false); }

/* Whether some process is in group pgid of session sid. */
static bool group_in_session(int pgid, int sid)
{
	for (int pid = 1; pid < PID_MAX; pid++) {
		struct process *p = pid_lookup(pid);
		if (p && p->pgid == pgid && p->sid == sid)
			return true;
	}
	return false;
}

/* Linux's setpgid (kernel/sys.c), rule for rule. */
long sys_setpgid(const struct sysargs *a)
{
	int pid = (int)a->a[0], pgid = (int)a->a[1];
	struct process *me = current->proc;
	if (!pid)
		pid = me->pid;
	if (!pgid)
		pgid = pid;
	if (pgid < 0)
		return -EINVAL;
	pthread_mutex_lock(&tasklist_lock);
	long ret = -ESRCH;
	struct process *p = pid_lookup(pid);
	if (!p && tid_lookup(pid))
		ret = -EINVAL; /* a thread that does not lead its group */
	if (!p || (p != me && p->parent != me))
		goto out;
	if (p != me) {
		ret = -EPERM;
		if (p->sid != me->sid)
			goto out;
		ret = -EACCES;
		if (p->did_exec)
			goto out;
	}
	ret = -EPERM;
	if (p->sid == p->pid) /* a session leader */
		goto out;
	if (pgid != pid && !group_in_session(pgid, me->sid))
		goto out;
	p->pgid = pgid;
	ret = 0;
out:
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}

long sys_setsid(const struct sysargs *a)
{
	struct process *me = current->proc;
	pthread_mutex_lock(&tasklist_lock);
	long ret = -EPERM;
	bool used = false; /* is our pid some group's id? */
	for (int pid = 1; pid < PID_MAX && !used; pid++) {
		struct process *p = pid_lookup(pid);
		used = p && p->pgid == me->pid;
	}
	if (!used) {
		me->sid = me->pgid = me->pid;
		ret = me->sid;
	}
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}
