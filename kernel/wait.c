/* wait4 and waitid: a parent collects its children's ends, stops and
 * continues. Children that exit become zombies (kernel/task.c), stopped
 * or continued ones are marked (kernel/signal.c); both wake their
 * parent's child_wq, where a waiter sleeps between scans of its children
 * under tasklist_lock. */
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "kernel/task.h"
#include "kernel/cputime.h"
#include "kernel/syscall.h"
#include "kernel/pidfd.h"
#include "mm/uaccess.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

enum wait_type { WAIT_ALL, WAIT_PID, WAIT_PGID };

struct wait_opts {
	enum wait_type type;
	int id;
	int options;
};

struct wait_result {
	int pid;
	uint32_t uid; /* the child's real uid (waitid's si_uid) */
	int status; /* wait status */
	int code;   /* waitid's si_code: CLD_EXITED, CLD_STOPPED... */
	struct rusage ru;
};

/* Linux's eligible_child(): the id matches, and __WCLONE/__WALL say
 * whether children with an exit signal other than SIGCHLD count. */
static bool eligible(const struct wait_opts *w, const struct process *c)
{
	if (w->type == WAIT_PID && c->pid != w->id)
		return false;
	if (w->type == WAIT_PGID && c->pgid != w->id)
		return false;
	/* Only the children the calling thread itself is the parent of. */
	if ((w->options & __WNOTHREAD) && c->parent_tid != current->tid)
		return false;
	if (w->options & __WALL)
		return true;
	return (c->exit_signal != SIGCHLD) == !!(w->options & __WCLONE);
}

/* A stop (WSTOPPED/WUNTRACED) or continue (WCONTINUED) of a living child
 * not reported yet: true with *r (tasklist_lock held). */
static bool stop_or_continue(const struct wait_opts *w, struct process *c, struct wait_result *r)
{
	bool found = false;
	pthread_mutex_lock(&c->lock);
	if ((w->options & WSTOPPED) && c->stopped && c->report_stop) {
		r->status = (c->stop_sig << 8) | 0x7f;
		r->code = CLD_STOPPED;
		found = true;
		if (!(w->options & WNOWAIT))
			c->report_stop = false;
	} else if ((w->options & WCONTINUED) && c->report_cont) {
		r->status = 0xffff;
		r->code = CLD_CONTINUED;
		found = true;
		if (!(w->options & WNOWAIT))
			c->report_cont = false;
	}
	pthread_mutex_unlock(&c->lock);
	r->pid = c->pid;
	r->uid = c->ruid;
	if (found) /* Linux's wait_task_stopped/continued report it too */
		cputime_rusage(c, RUSAGE_BOTH, &r->ru);
	return found;
}

/* One pass over the children: 1 and *r if one was collected, 0 if some
 * may still qualify later, -ECHILD if none ever can. */
static int scan(const struct wait_opts *w, struct wait_result *r)
{
	struct process *me = current->proc;
	bool any = false;
	pthread_mutex_lock(&tasklist_lock);
	for (struct process *c = me->children; c; c = c->sibling) {
		if (!eligible(w, c))
			continue;
		any = true;
		if (c->state == PROC_ALIVE && stop_or_continue(w, c, r)) {
			pthread_mutex_unlock(&tasklist_lock);
			return 1;
		}
		if (c->state != PROC_ZOMBIE || !(w->options & WEXITED))
			continue;
		r->pid = c->pid;
		r->uid = c->ruid;
		cputime_rusage(c, RUSAGE_BOTH, &r->ru);
		r->status = c->exit_status;
		r->code = WIFEXITED(r->status) ? CLD_EXITED : WCOREDUMP(r->status) ? CLD_DUMPED : CLD_KILLED;
		if (!(w->options & WNOWAIT)) {
			cputime_reap(me, c);
			process_unlink(c);
			process_free(c);
		}
		pthread_mutex_unlock(&tasklist_lock);
		return 1;
	}
	pthread_mutex_unlock(&tasklist_lock);
	return any ? 0 : -ECHILD;
}

/* Collect a child per w: 1 with *r, 0 (WNOHANG, nothing yet) or -errno. */
static int do_wait(const struct wait_opts *w, struct wait_result *r)
{
	struct waitq *q = &current->proc->child_wq;
	struct wait_entry e;
	waitq_add(q, &e);
	int ret;
	for (;;) {
		uint32_t snap = sleep_prepare();
		ret = scan(w, r);
		if (ret != 0 || (w->options & WNOHANG))
			break;
		if (sleep_until(snap, NULL) < 0) {
			/* A child that became waitable meanwhile wins. */
			ret = scan(w, r);
			if (ret == 0)
				ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&e);
	return ret;
}

static int put_rusage(gaddr_t addr, const struct rusage *ru)
{
	return addr && copy_to_guest(addr, ru, sizeof(*ru)) ? -EFAULT : 0;
}

long sys_wait4(const struct sysargs *a)
{
	int upid = (int)a->a[0];
	int options = (int)a->a[2];
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
		return -EINVAL;
	if (upid == INT_MIN)
		return -ESRCH; /* -INT_MIN is no pgid */
	struct wait_opts w = { .options = options | WEXITED };
	if (upid == -1) {
		w.type = WAIT_ALL;
	} else if (upid < 0) {
		w.type = WAIT_PGID;
		w.id = -upid;
	} else if (upid == 0) {
		w.type = WAIT_PGID;
		pthread_mutex_lock(&tasklist_lock);
		w.id = current->proc->pgid;
		pthread_mutex_unlock(&tasklist_lock);
	} else {
		w.type = WAIT_PID;
		w.id = upid;
	}
	struct wait_result r;
	int ret = do_wait(&w, &r);
	if (ret <= 0)
		return ret;
	if (a->a[1] && copy_to_guest(a->a[1], &r.status, sizeof(r.status)))
		return -EFAULT;
	if (put_rusage(a->a[3], &r.ru))
		return -EFAULT;
	return r.pid;
}

/* The part of siginfo_t waitid fills. */
struct chld_info {
	int32_t signo, errno_, code, pad;
	int32_t pid;
	uint32_t uid;
	int32_t status;
};

long sys_waitid(const struct sysargs *a)
{
	int which = (int)a->a[0], upid = (int)a->a[1], options = (int)a->a[3];
	gaddr_t infop = a->a[2];
	if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
		return -EINVAL;
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	struct wait_opts w = { .options = options };
	bool nonblock = false; /* a P_PIDFD pidfd opened O_NONBLOCK */
	switch (which) {
	case P_ALL:
		w.type = WAIT_ALL;
		break;
	case P_PID:
		if (upid <= 0)
			return -EINVAL;
		w.type = WAIT_PID;
		w.id = upid;
		break;
	case P_PGID:
		if (upid < 0)
			return -EINVAL;
		w.type = WAIT_PGID;
		if (upid) {
			w.id = upid;
		} else {
			pthread_mutex_lock(&tasklist_lock);
			w.id = current->proc->pgid;
			pthread_mutex_unlock(&tasklist_lock);
		}
		break;
	case P_PIDFD: {
		if (upid < 0)
			return -EINVAL;
		int pid = pidfd_pid(upid, &nonblock);
		if (pid < 0)
			return pid;
		w.type = WAIT_PID;
		w.id = pid ? pid : -1; /* gone: matches no child (ECHILD) */
		if (nonblock)
			w.options |= WNOHANG;
		break;
	}
	default:
		return -EINVAL;
	}
	struct wait_result r;
	int ret = do_wait(&w, &r);
	if (ret < 0)
		return ret;
	if (ret == 0 && nonblock && !(options & WNOHANG))
		return -EAGAIN; /* Linux's kernel_waitid: a non-blocking pidfd's child is not done */
	struct chld_info info = { 0 };
	if (ret > 0) {
		info.signo = SIGCHLD;
		info.pid = r.pid;
		info.uid = r.uid; /* Linux: task_uid(child), its real uid */
		info.code = r.code;
		info.status = r.code == CLD_EXITED ? WEXITSTATUS(r.status)
			: r.code == CLD_STOPPED ? WSTOPSIG(r.status)
			: r.code == CLD_CONTINUED ? SIGCONT : WTERMSIG(r.status);
	}
	/* Field by field like Linux: the padding after si_code stays. */
	if (infop && (copy_to_guest(infop, &info, 12) ||
		      copy_to_guest(infop + 16, &info.pid, sizeof(info) - 16)))
		return -EFAULT;
	if (put_rusage(a->a[4], ret > 0 ? &r.ru : &(struct rusage){ 0 }))
		return -EFAULT;
	return 0;
}
