/* POSIX per-process timers: timer_create, timer_settime, timer_gettime,
 * timer_getoverrun, timer_delete (Linux's kernel/time/posix-timers.c and
 * posix-cpu-timers.c).
 *
 * Ids are per process, handed out in order from 0 and not reused until
 * they wrap, like Linux's (a failed timer_create may use one up, too).
 * Timers run on the sandbox's REALTIME, MONOTONIC, BOOTTIME or TAI clock
 * (the alarm clocks behave like the plain ones) or on the calling
 * process's CPU time (kernel/timers.h).
 *
 * Overruns: Linux queues a timer's signal once and re-arms a periodic
 * timer when the signal is dequeued, counting the periods that passed
 * meanwhile into si_overrun; timer_getoverrun then returns that count.
 * Here the timer keeps its period; at each expiry while our signal is
 * still queued, the queued siginfo's si_overrun is counted up in place
 * (under the process lock, where delivery takes it), and once it is seen
 * gone that count becomes timer_getoverrun's answer. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/ktime.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/timers.h"
#include "mm/uaccess.h"

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif
#define CLOCKFD 3

/* The kernel's struct sigevent (64 bytes). */
struct ksigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid;
	int32_t pad[11];
};
_Static_assert(sizeof(struct ksigevent) == 64, "sigevent layout");

struct ptimer {
	struct ktimer k;
	struct ptimer *next;
	int id;
	bool valid;          /* fully made (an id in the making is only reserved) */
	int notify;          /* SIGEV_SIGNAL (also for SIGEV_THREAD), SIGEV_NONE, SIGEV_THREAD_ID */
	int signo;
	int tid;             /* SIGEV_THREAD_ID: the thread signalled */
	uint64_t value;      /* sigev_value */
	bool sent;           /* our last signal may still be queued */
	int overrun;         /* the si_overrun of that signal */
	int overrun_last;    /* the overrun count of the last signal taken */
};

#define ptimer_of(kt) ((struct ptimer *)((char *)(kt) - offsetof(struct ptimer, k)))

static struct ptimer *ptimer_find(struct proc_timers *pt, int id, bool any)
{
	for (struct ptimer *t = pt->posix; t; t = t->next)
		if (t->id == id && (any || t->valid))
			return t;
	return NULL;
}

static int clamp_int(int64_t v)
{
	return v > INT_MAX ? INT_MAX : (int)v;
}

/* The siginfo of t's signal while it is queued in p's pending sets
 * (p->lock held), or NULL. */
static siginfo_t *queued_info(struct process *p, struct ptimer *t)
{
	struct sigpending *sets[2] = { &p->shared_pending, p->thread ? &p->thread->pending : NULL };
	for (int i = 0; i < 2; i++)
		for (struct sigqueue *q = sets[i] ? sets[i]->head : NULL; q; q = q->next)
			if (q->info.si_signo == t->signo && q->info.si_code == SI_TIMER &&
			    q->info.si_timerid == t->id)
				return &q->info;
	return NULL;
}

/* Whether t's last signal is still queued; once it is not, its overrun
 * count is the one timer_getoverrun reports (timers_lock held). */
static bool still_queued(struct ptimer *t, int more_overruns)
{
	struct process *p = t->k.owner->proc;
	if (!t->sent)
		return false;
	pthread_mutex_lock(&p->lock);
	siginfo_t *q = queued_info(p, t);
	if (q) {
		q->si_overrun = t->overrun = clamp_int((int64_t)t->overrun + more_overruns);
	} else {
		t->overrun_last = t->overrun;
		t->sent = false;
	}
	pthread_mutex_unlock(&p->lock);
	return q != NULL;
}

/* Whether sig is dropped when sent to p now (Linux's sig_ignored; the
 * thread's mask keeps it). p->lock held. */
static bool ignored_locked(struct process *p, int sig)
{
	struct thread *t = p->thread;
	if (t && ((t->sigmask | t->real_blocked) & SIGBIT(sig)))
		return false;
	uint64_t h = sigaction_get_locked(p, sig).handler;
	return h == (uint64_t)SIG_IGN || (h == (uint64_t)SIG_DFL && signal_default_ignored(sig));
}

/* Send t's signal for an expiry (missed: periods passed unnoticed), or
 * count it as an overrun of the one still queued. Whether the timer may
 * slow down: its signal is still queued, or ignored. */
static bool ptimer_signal(struct ptimer *t, int64_t missed)
{
	if (t->notify == SIGEV_NONE)
		return false;
	if (still_queued(t, clamp_int(missed + 1)))
		return true;
	struct process *p = t->k.owner->proc;
	pthread_mutex_lock(&p->lock);
	bool ignored = ignored_locked(p, t->signo);
	pthread_mutex_unlock(&p->lock);
	if (ignored)
		return true;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = t->signo;
	si.si_code = SI_TIMER;
	si.si_timerid = t->id;
	si.si_overrun = t->overrun = clamp_int(missed);
	memcpy(&si.si_value, &t->value, sizeof(t->value));
	t->sent = true;
	if (t->notify == SIGEV_THREAD_ID)
		signal_send_tid(p, t->tid, t->signo, &si);
	else
		signal_send_info(p, NULL, t->signo, &si);
	return false;
}

static void ptimer_fire(struct ktimer *k, int64_t now)
{
	int64_t missed = k->interval ? ktimer_forward(k, now) - 1 : 0;
	bool slow = ptimer_signal(ptimer_of(k), missed);
	if (k->interval)
		ktimer_rearm(k, k->expires, slow ? MAX(k->interval, PENDING_RECHECK_NS) : 0);
	else
		k->expires = 0;
}

/* Linux's common_timer_get / posix_cpu_timer_get. */
static void ptimer_get(struct ptimer *t, int64_t *value, int64_t *interval)
{
	struct ktimer *k = &t->k;
	*interval = k->interval;
	*value = 0;
	if (!k->expires)
		return;
	int64_t now = ktimer_now(k);
	if (now < 0)
		return; /* on the clock of a thread that is gone */
	if (t->notify == SIGEV_NONE && k->interval)
		ktimer_forward(k, now); /* never queued: it runs on paper */
	int64_t left = k->expires - now;
	if (left > 0)
		*value = left;
	else if (t->notify != SIGEV_NONE)
		*value = 1; /* expired, the signal not sent yet */
}

static void ptimer_set(struct ptimer *t, bool abs, int64_t value, int64_t interval)
{
	struct ktimer *k = &t->k;
	int64_t old_expiry = k->expires;
	ktimer_stop(k);
	t->sent = false; /* a signal still queued is not counted on */
	t->overrun = t->overrun_last = 0;
	/* Linux: CPU timers keep the interval even when disarmed. */
	k->interval = (value || k->cpu != CPU_NONE) ? interval : 0;
	if (!value) {
		/* Linux leaves a disarmed SIGEV_NONE timer's expiry, which
		 * timer_gettime still reports until it passes. */
		if (t->notify == SIGEV_NONE && k->cpu == CPU_NONE)
			k->expires = old_expiry;
		return;
	}
	int64_t expires = abs ? value : ns_add(ktimer_now(k), value);
	if (t->notify == SIGEV_NONE)
		k->expires = expires; /* nothing to fire: only timer_gettime looks */
	else
		ktimer_start(k, expires);
}

static void ptimer_delete(struct proc_timers *pt, struct ptimer *t)
{
	for (struct ptimer **pp = &pt->posix; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	ktimer_stop(&t->k);
	pt->nposix--;
	free(t);
}

void posix_timers_delete_all(struct proc_timers *pt)
{
	while (pt->posix)
		ptimer_delete(pt, pt->posix);
}

/* ---- clocks ------------------------------------------------------------- */

#define CPUCLOCK_PID(c) ((pid_t)~((c) >> 3))
#define CPUCLOCK_PERTHREAD(c) (((c) & 4) != 0)
#define CPUCLOCK_WHICH(c) ((c) & 3)

enum tclock_kind { TC_WALL, TC_ALARM, TC_CPU };

/* What timer_create needs of a clock id: 0, or Linux's early errors
 * (unknown clock, clock without timers). *late gets the errors Linux
 * finds only once the id is handed out (its k_clock's timer_create). */
static bool own_thread(int tid);

static int timer_clock(clockid_t id, enum tclock_kind *kind, clockid_t *wall, int *cpu, int *tid, int *late)
{
	*late = 0;
	*tid = 0;
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		*kind = TC_WALL;
		*wall = id;
		return 0;
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
		*kind = TC_ALARM;
		*wall = timer_wall_clock(id);
		return 0;
	case CLOCK_THREAD_CPUTIME_ID:
		*tid = current->tid;
		/* fall through */
	case CLOCK_PROCESS_CPUTIME_ID:
		*kind = TC_CPU;
		*cpu = CPU_SCHED;
		return 0;
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
		return -EOPNOTSUPP;
	}
	if (id >= 0)
		return -EINVAL;
	if ((id & 7) == CLOCKFD)
		return -EOPNOTSUPP; /* posix clock fds have no timers */
	*kind = TC_CPU;
	*cpu = CPUCLOCK_WHICH(id);
	pid_t pid = CPUCLOCK_PID(id);
	if (CPUCLOCK_PERTHREAD(id)) {
		/* A thread of the caller's process (Linux's lookup_task). */
		*tid = pid ? pid : current->tid;
		if (*cpu > CPU_SCHED || (pid != 0 && !own_thread(pid)))
			*late = -EINVAL;
		return 0;
	}
	/* Only the caller's own CPU time is measured (kernel/timers.h);
	 * Linux also takes other processes' process clocks. */
	if (*cpu > CPU_SCHED || (pid != 0 && pid != current->proc->pid))
		*late = -EINVAL;
	return 0;
}

/* Whether tid names a live thread of the current process. */
static bool own_thread(int tid)
{
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	struct thread *t = p->threads;
	while (t && t->tid != tid)
		t = t->next_thread;
	pthread_mutex_unlock(&p->lock);
	return t != NULL;
}

/* Linux's good_sigevent: SIGEV_THREAD_ID names any thread of the
 * caller's process (glibc's SIGEV_THREAD timers name its helper thread). */
static bool sigevent_ok(const struct ksigevent *ev)
{
	switch (ev->notify) {
	case SIGEV_SIGNAL | SIGEV_THREAD_ID:
		if (!own_thread(ev->tid))
			return false;
		/* fall through */
	case SIGEV_SIGNAL:
	case SIGEV_THREAD:
		return ev->signo > 0 && ev->signo <= 64;
	case SIGEV_NONE:
		return true;
	default:
		return false;
	}
}

/* ---- system calls ------------------------------------------------------- */

long sys_timer_create(const struct sysargs *a)
{
	clockid_t clk = (clockid_t)a->a[0];
	gaddr_t uev = a->a[1], uid = a->a[2];
	struct ksigevent ev;
	if (uev && copy_from_guest(&ev, uev, sizeof(ev)))
		return -EFAULT;
	enum tclock_kind kind;
	clockid_t wall = CLOCK_MONOTONIC;
	int cpu = CPU_NONE, tid, late;
	int err = timer_clock(clk, &kind, &wall, &cpu, &tid, &late);
	if (err)
		return err;
	struct ptimer *t = calloc(1, sizeof(*t));
	if (!t)
		return -EAGAIN;

	pthread_mutex_lock(&timers_lock);
	struct proc_timers *pt = proc_timers_get();
	if (!pt || (uint64_t)pt->nposix >= current->proc->rlimits[RLIMIT_SIGPENDING].rlim_cur) {
		pthread_mutex_unlock(&timers_lock);
		free(t);
		return -EAGAIN;
	}
	/* Reserve the next free id (it is used up even if we fail later). */
	int id = -1;
	for (unsigned n = 0; n <= INT_MAX && id < 0; n++) {
		int cand = pt->next_id;
		pt->next_id = cand == INT_MAX ? 0 : cand + 1;
		if (!ptimer_find(pt, cand, true))
			id = cand;
	}
	t->id = id;
	t->next = pt->posix;
	pt->posix = t;
	pt->nposix++;
	ktimer_init(&t->k, wall, cpu, pt, ptimer_fire);
	t->k.tid = tid;
	pthread_mutex_unlock(&timers_lock);

	if (uev) {
		err = sigevent_ok(&ev) ? 0 : -EINVAL;
		t->notify = ev.notify == SIGEV_THREAD ? SIGEV_SIGNAL : ev.notify;
		t->signo = ev.signo;
		t->tid = ev.tid;
		t->value = ev.value;
	} else {
		t->notify = SIGEV_SIGNAL;
		t->signo = SIGALRM;
		t->value = (uint32_t)id; /* sival_int is the id */
	}
	if (!err && copy_to_guest(uid, &id, sizeof(id)))
		err = -EFAULT;
	if (!err)
		err = late;
	if (!err && kind == TC_ALARM) {
		struct timespec r;
		if (clock_getres(clk, &r) != 0)
			err = -EOPNOTSUPP; /* the host has no RTC */
		else
			err = alarm_clock_permitted();
	}
	pthread_mutex_lock(&timers_lock);
	if (err)
		ptimer_delete(pt, t);
	else
		t->valid = true;
	pthread_mutex_unlock(&timers_lock);
	return err;
}

/* The caller's timer id (timers_lock held), or NULL. */
static struct ptimer *lookup(int id)
{
	struct proc_timers *pt = current->proc->timers;
	return pt && id >= 0 ? ptimer_find(pt, id, false) : NULL;
}

long sys_timer_settime(const struct sysargs *a)
{
	int id = (int)a->a[0], flags = (int)a->a[1];
	gaddr_t unew = a->a[2], uold = a->a[3];
	int64_t value, interval, ov = 0, oi = 0;
	if (!unew)
		return -EINVAL;
	int err = get_itimerspec(unew, &value, &interval);
	if (err)
		return err;
	pthread_mutex_lock(&timers_lock);
	struct ptimer *t = lookup(id);
	if (t) {
		ptimer_get(t, &ov, &oi);
		ptimer_set(t, flags & TIMER_ABSTIME, value, interval);
	}
	pthread_mutex_unlock(&timers_lock);
	if (!t)
		return -EINVAL;
	return uold ? put_itimerspec(uold, ov, oi) : 0;
}

long sys_timer_gettime(const struct sysargs *a)
{
	int64_t value = 0, interval = 0;
	pthread_mutex_lock(&timers_lock);
	struct ptimer *t = lookup((int)a->a[0]);
	if (t)
		ptimer_get(t, &value, &interval);
	pthread_mutex_unlock(&timers_lock);
	if (!t)
		return -EINVAL;
	return put_itimerspec(a->a[1], value, interval);
}

long sys_timer_getoverrun(const struct sysargs *a)
{
	pthread_mutex_lock(&timers_lock);
	struct ptimer *t = lookup((int)a->a[0]);
	int r = -EINVAL;
	if (t) {
		still_queued(t, 0);
		r = t->overrun_last;
	}
	pthread_mutex_unlock(&timers_lock);
	return r;
}

long sys_timer_delete(const struct sysargs *a)
{
	pthread_mutex_lock(&timers_lock);
	struct ptimer *t = lookup((int)a->a[0]);
	if (t)
		ptimer_delete(current->proc->timers, t);
	pthread_mutex_unlock(&timers_lock);
	return t ? 0 : -EINVAL;
}
