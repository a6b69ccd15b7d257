/* Interval timers: alarm, setitimer, getitimer (Linux's kernel/time/
 * itimer.c). ITIMER_REAL runs on the sandbox's MONOTONIC clock and sends
 * SIGALRM; ITIMER_VIRTUAL and ITIMER_PROF run on the process's user and
 * user+system CPU time (kernel/cputime.h says how it is measured) and send
 * SIGVTALRM and SIGPROF. All three are process-wide, survive exec and are
 * not inherited by fork. RLIMIT_CPU is watched the same way (Linux's
 * check_process_timers). */
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include "kernel/ktime.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/timers.h"
#include "mm/uaccess.h"

struct kitimerval {
	int64_t interval_sec, interval_usec, value_sec, value_usec;
};

/* The signal Linux sends for an itimer: SEND_SIG_PRIV, i.e. SI_KERNEL. */
static void send_kernel_signal(struct process *p, int sig)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_KERNEL;
	signal_send_info(p, NULL, sig, &si);
}

/* A CPU itimer's signal is the process's, offered first to a thread that
 * is running guest code, as Linux names the thread the tick charged
 * (check_process_timers): a profiler's SIGPROF lands where the time goes. */
static void send_cpu_signal(struct process *p, int sig)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_KERNEL;
	pthread_mutex_lock(&p->lock);
	struct thread *running = NULL;
	for (struct thread *t = p->threads; t && !running; t = t->next_thread)
		if (atomic_load(&t->in_guest))
			running = t;
	pthread_mutex_unlock(&p->lock);
	/* (The thread may leave meanwhile: signal_send_via checks that it
	 * is still one of p's.) */
	signal_send_via(p, running, sig, &si);
}

/* Linux sends SIGALRM and re-arms a periodic ITIMER_REAL only when the
 * signal is dequeued. Here the period goes on, but while our SIGALRM is
 * still pending nothing is sent (it would merge anyway) and getitimer
 * says 0, as Linux's stopped timer does; an ignored SIGALRM is dropped,
 * and then Linux's timer stays stopped. */
static bool sigalrm_pending(struct proc_timers *pt)
{
	struct process *p = pt->proc;
	pthread_mutex_lock(&p->lock);
	bool pending = pt->real_sent && (p->shared_pending.set & SIGBIT(SIGALRM));
	if (!pending)
		pt->real_sent = false;
	pthread_mutex_unlock(&p->lock);
	return pending;
}

static void real_fire(struct ktimer *k, int64_t now)
{
	struct proc_timers *pt = k->owner;
	struct process *p = pt->proc;
	pthread_mutex_lock(&p->lock);
	struct thread *t = p->thread;
	bool ignored = sigaction_get_locked(p, SIGALRM).handler == (uint64_t)SIG_IGN &&
		       !(t && (t->sigmask & SIGBIT(SIGALRM)));
	pthread_mutex_unlock(&p->lock);
	if (ignored) {
		k->expires = 0;
		return;
	}
	bool pending = sigalrm_pending(pt);
	if (k->interval) {
		ktimer_forward(k, now);
		ktimer_rearm(k, k->expires, pending ? MAX(k->interval, PENDING_RECHECK_NS) : 0);
	} else {
		k->expires = 0;
	}
	if (!pending) {
		pt->real_sent = true;
		send_kernel_signal(p, SIGALRM);
	}
}

/* Linux's check_cpu_itimer: one signal per expiry seen, the next expiry
 * one interval later. */
static void cpu_fire(struct ktimer *k, int64_t now)
{
	struct proc_timers *pt = k->owner;
	int sig = k->cpu == CPU_VIRT ? SIGVTALRM : SIGPROF;
	if (k->interval)
		ktimer_start(k, ns_add(k->expires, k->interval));
	else
		k->expires = 0;
	send_cpu_signal(pt->proc, sig);
}

/* RLIMIT_CPU: SIGKILL once the process's CPU time reaches the hard
 * limit; at the soft limit SIGXCPU, and the soft limit goes one second
 * up (which getrlimit shows, as on Linux). */
static void rlimit_cpu_fire(struct ktimer *k, int64_t now)
{
	struct process *p = k->owner->proc;
	int sig = 0;
	pthread_mutex_lock(&p->lock);
	struct rlimit *r = &p->rlimits[RLIMIT_CPU];
	if (r->rlim_max != RLIM_INFINITY && now >= timespec_ns((int64_t)r->rlim_max, 0)) {
		sig = SIGKILL;
	} else if (r->rlim_cur != RLIM_INFINITY && now >= timespec_ns((int64_t)r->rlim_cur, 0)) {
		sig = SIGXCPU;
		r->rlim_cur++;
	}
	pthread_mutex_unlock(&p->lock);
	k->expires = 0;
	if (sig != SIGKILL)
		rlimit_cpu_arm(k->owner);
	if (sig)
		send_kernel_signal(p, sig);
}

void rlimit_cpu_arm(struct proc_timers *pt)
{
	struct process *p = pt->proc;
	pthread_mutex_lock(&p->lock);
	rlim_t soft = p->rlimits[RLIMIT_CPU].rlim_cur;
	pthread_mutex_unlock(&p->lock);
	if (soft == RLIM_INFINITY || soft > (rlim_t)(INT64_MAX / NSEC_PER_SEC))
		ktimer_stop(&pt->rlim_cpu);
	else
		ktimer_start(&pt->rlim_cpu, MAX(timespec_ns((int64_t)soft, 0), 1));
}

void itimers_init(struct proc_timers *pt)
{
	ktimer_init(&pt->rlim_cpu, CLOCK_MONOTONIC, CPU_PROF, pt, rlimit_cpu_fire);
	ktimer_init(&pt->real, CLOCK_MONOTONIC, CPU_NONE, pt, real_fire);
	ktimer_init(&pt->virt, CLOCK_MONOTONIC, CPU_VIRT, pt, cpu_fire);
	ktimer_init(&pt->prof, CLOCK_MONOTONIC, CPU_PROF, pt, cpu_fire);
}

static struct ktimer *itimer_of(struct proc_timers *pt, int which)
{
	switch (which) {
	case ITIMER_REAL: return &pt->real;
	case ITIMER_VIRTUAL: return &pt->virt;
	case ITIMER_PROF: return &pt->prof;
	default: return NULL;
	}
}

/* The remaining time and interval of an itimer (timers_lock held). */
static void itimer_get(struct proc_timers *pt, struct ktimer *k, int64_t *value, int64_t *interval)
{
	*interval = k->interval;
	*value = 0;
	if (!k->expires)
		return;
	int64_t now = ktimer_now(k);
	if (k == &pt->real) {
		/* Linux's itimer_get_remtime: at least 1 us while armed. */
		if (!(k->interval && sigalrm_pending(pt)))
			*value = MAX(k->expires - now, 1000);
	} else {
		/* get_cpu_itimer: "about to fire" is one tick. */
		*value = k->expires < now ? tick_ns() : k->expires - now;
	}
}

/* Linux's do_setitimer; old may be NULL. */
static void itimer_set(struct proc_timers *pt, struct ktimer *k, int64_t value, int64_t interval,
		       int64_t *old_value, int64_t *old_interval)
{
	int64_t ov = 0, oi = 0;
	itimer_get(pt, k, &ov, &oi);
	if (k == &pt->real) {
		pt->real_sent = false;
		k->interval = value ? interval : 0;
		ktimer_start(k, value ? ns_add(ktimer_now(k), value) : 0);
	} else {
		/* set_cpu_itimer: a tick more than asked, the old value is
		 * what is left (a tick if overdue), the interval always set. */
		k->interval = interval;
		ktimer_start(k, value ? ns_add(ns_add(ktimer_now(k), value), tick_ns()) : 0);
	}
	if (old_value) {
		*old_value = ov;
		*old_interval = oi;
	}
}

static int put_itimerval(gaddr_t addr, int64_t value, int64_t interval)
{
	struct kitimerval v = { interval / NSEC_PER_SEC, interval % NSEC_PER_SEC / 1000,
				value / NSEC_PER_SEC, value % NSEC_PER_SEC / 1000 };
	return copy_to_guest(addr, &v, sizeof(v)) ? -EFAULT : 0;
}

long sys_getitimer(const struct sysargs *a)
{
	int which = (int)a->a[0];
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	int64_t value = 0, interval = 0;
	pthread_mutex_lock(&timers_lock);
	struct proc_timers *pt = current->proc->timers;
	if (pt)
		itimer_get(pt, itimer_of(pt, which), &value, &interval);
	pthread_mutex_unlock(&timers_lock);
	return put_itimerval(a->a[1], value, interval);
}

long sys_setitimer(const struct sysargs *a)
{
	int which = (int)a->a[0];
	gaddr_t unew = a->a[1], uold = a->a[2];
	int64_t value = 0, interval = 0, ov, oi;
	if (unew) {
		struct kitimerval v;
		if (copy_from_guest(&v, unew, sizeof(v)))
			return -EFAULT;
		if (v.value_sec < 0 || (uint64_t)v.value_usec >= 1000000 || v.interval_sec < 0 ||
		    (uint64_t)v.interval_usec >= 1000000)
			return -EINVAL;
		value = timespec_ns(v.value_sec, v.value_usec * 1000);
		interval = timespec_ns(v.interval_sec, v.interval_usec * 1000);
	} /* NULL: Linux still disarms (a "misfeature" it keeps) */
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	pthread_mutex_lock(&timers_lock);
	struct proc_timers *pt = proc_timers_get();
	if (pt)
		itimer_set(pt, itimer_of(pt, which), value, interval, &ov, &oi);
	pthread_mutex_unlock(&timers_lock);
	if (!pt)
		return -ENOMEM;
	return uold ? put_itimerval(uold, ov, oi) : 0;
}

/* alarm(2): Linux's alarm_setitimer, rounding the old value so that a
 * pending alarm never reads as 0 and half seconds round up. */
long sys_alarm(const struct sysargs *a)
{
	unsigned seconds = (unsigned)a->a[0];
	int64_t ov = 0, oi;
	pthread_mutex_lock(&timers_lock);
	struct proc_timers *pt = proc_timers_get();
	if (pt)
		itimer_set(pt, &pt->real, (int64_t)seconds * NSEC_PER_SEC, 0, &ov, &oi);
	pthread_mutex_unlock(&timers_lock);
	if (!pt)
		return -ENOMEM;
	int64_t sec = ov / NSEC_PER_SEC, nsec = ov % NSEC_PER_SEC;
	if ((!sec && nsec) || nsec >= NSEC_PER_SEC / 2)
		sec++;
	return (unsigned)sec;
}
