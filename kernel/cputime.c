/* CPU time of guest threads and processes (kernel/cputime.h says what is
 * counted), getrusage, times, and the figures of the CPU clocks. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/times.h>
#include "kernel/cputime.h"
#include "kernel/ktime.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "platform/platform.h"

/* What a thread's state is after cputime_thread_exit: its time is its
 * process's `exited`, and nothing is made for it again. */
static struct thread_cpu gone;

/* Fields of struct thread_cpu only this file uses. */
struct thread_cpu_host {
	struct platform_thread *plat; /* the host thread last read */
	struct cputime last;          /* its figures then */
	struct cputime before;        /* from earlier host threads (a vfork child's exec) */
	struct usage_counts faults_last, faults_before; /* the host's faults, the same way */
};

struct thread_cpu_all {
	struct thread_cpu tc;
	struct thread_cpu_host host;
};

#define host_of(tc) (&((struct thread_cpu_all *)(tc))->host)

/* The live threads of p (proc->lock held). */
static struct thread *first_thread(struct process *p)
{
	return p->threads;
}

static struct thread *next_thread(struct thread *t)
{
	return t->next_thread;
}

static void add(struct cputime *a, const struct cputime *b)
{
	a->user += b->user;
	a->sys += b->sys;
}

static void add_counts(struct usage_counts *a, const struct usage_counts *b)
{
	a->minflt += b->minflt;
	a->majflt += b->majflt;
	a->nvcsw += b->nvcsw;
	a->nivcsw += b->nivcsw;
}

/* ---- state ------------------------------------------------------------ */

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts))
		return 0;
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* By the kernel thread itself, as it starts serving the thread. */
static void take_kclock(struct thread_cpu *tc)
{
	tc->has_kclock = pthread_getcpuclockid(pthread_self(), &tc->kclock) == 0;
	tc->kbase_ns = tc->has_kclock ? clock_ns(tc->kclock) : 0;
	tc->kspin_base_ns = platform_spin_ns();
	tc->kspin_ns = 0;
}

struct thread_cpu *thread_cpu_locked(struct thread *t)
{
	if (t->cpu == &gone)
		return NULL;
	if (!t->cpu) {
		struct thread_cpu_all *all = calloc(1, sizeof(*all));
		if (!all)
			return NULL;
		sched_thread_init(&all->tc);
		t->cpu = &all->tc;
	}
	if (!t->cpu->has_kclock && current == t)
		take_kclock(t->cpu);
	return t->cpu;
}

struct proc_cpu *proc_cpu_locked(struct process *p)
{
	if (!p->cpu)
		p->cpu = calloc(1, sizeof(*p->cpu));
	return p->cpu;
}

/* ---- figures ------------------------------------------------------------ */

/* The serving kernel thread's CPU time for this guest thread: since it
 * took it on, less its spins (tc->last keeps the figures monotonic). */
static int64_t kthread_ns(const struct thread_cpu *tc)
{
	if (!tc->has_kclock)
		return 0;
	return MAX(clock_ns(tc->kclock) - tc->kbase_ns - __atomic_load_n(&tc->kspin_ns, __ATOMIC_RELAXED), 0);
}

void cputime_note_spin(struct thread *t)
{
	static __thread int64_t noted = -1;
	int64_t spun = platform_spin_ns();
	if (spun == noted)
		return;
	noted = spun;
	pthread_mutex_lock(&t->proc->lock);
	struct thread_cpu *tc = t->cpu;
	if (tc && tc != &gone && tc->has_kclock)
		__atomic_store_n(&tc->kspin_ns, spun - tc->kspin_base_ns, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&t->proc->lock);
}

void cputime_thread_locked(struct thread *t, struct cputime *out)
{
	struct thread_cpu *tc = thread_cpu_locked(t);
	*out = (struct cputime){ 0, 0 };
	if (!tc)
		return;
	struct thread_cpu_host *h = host_of(tc);
	if (h->plat != t->plat) { /* moved to another host thread */
		add(&h->before, &h->last);
		h->last = (struct cputime){ 0, 0 };
		add_counts(&h->faults_before, &h->faults_last);
		h->faults_last = (struct usage_counts){ 0 };
		h->plat = t->plat;
	}
	if (t->plat) {
		struct thread_usage u;
		platform_thread_usage(t->plat, &u);
		h->last = (struct cputime){ u.user_ns, u.sys_ns };
		h->faults_last.minflt = MAX(h->faults_last.minflt, u.minflt);
		h->faults_last.majflt = MAX(h->faults_last.majflt, u.majflt);
	}
	struct cputime now = h->before;
	add(&now, &h->last);
	now.sys += kthread_ns(tc);
	/* Never back: a host thread that vanished reads its last figures. */
	tc->last.user = MAX(tc->last.user, now.user);
	tc->last.sys = MAX(tc->last.sys, now.sys);
	*out = tc->last;
}

void usage_thread_locked(struct thread *t, struct usage_counts *out)
{
	*out = (struct usage_counts){ 0 };
	if (t->cpu && t->cpu != &gone) {
		struct thread_cpu_host *h = host_of(t->cpu);
		int64_t nivcsw;
		/* The host thread's preemptions, read here only: getrusage,
		 * /proc and the exit of a thread want them, CPU clocks not. */
		if (t->plat && h->plat == t->plat && !platform_thread_nivcsw(t->plat, &nivcsw))
			h->faults_last.nivcsw = MAX(h->faults_last.nivcsw, nivcsw);
		add_counts(out, &h->faults_before);
		add_counts(out, &h->faults_last);
	}
	out->minflt += (int64_t)__atomic_load_n(&t->kernel_minflt, __ATOMIC_RELAXED);
	out->nvcsw += (int64_t)__atomic_load_n(&t->nvcsw, __ATOMIC_RELAXED);
}

void usage_process_locked(struct process *p, struct usage_counts *self, struct usage_counts *children)
{
	struct proc_cpu *pc = proc_cpu_locked(p);
	if (self) {
		*self = pc ? pc->exited_counts : (struct usage_counts){ 0 };
		for (struct thread *t = first_thread(p); t; t = next_thread(t)) {
			struct usage_counts u;
			usage_thread_locked(t, &u);
			add_counts(self, &u);
		}
	}
	if (children)
		*children = pc ? pc->children_counts : (struct usage_counts){ 0 };
}

void cputime_process_locked(struct process *p, struct cputime *self, struct cputime *children)
{
	struct proc_cpu *pc = proc_cpu_locked(p);
	struct cputime sum = pc ? pc->exited : (struct cputime){ 0, 0 };
	for (struct thread *t = first_thread(p); t; t = next_thread(t)) {
		struct cputime c;
		cputime_thread_locked(t, &c);
		add(&sum, &c);
	}
	if (self)
		*self = sum;
	if (children)
		*children = pc ? pc->children : (struct cputime){ 0, 0 };
}

void cputime_process(struct process *p, struct cputime *self, struct cputime *children)
{
	pthread_mutex_lock(&p->lock);
	cputime_process_locked(p, self, children);
	pthread_mutex_unlock(&p->lock);
}

/* ---- the life cycle ------------------------------------------------------ */

void cputime_thread_start(struct thread *t)
{
	pthread_mutex_lock(&t->proc->lock);
	thread_cpu_locked(t);
	pthread_mutex_unlock(&t->proc->lock);
}

void cputime_thread_exit(struct thread *t)
{
	struct process *p = t->proc;
	pthread_mutex_lock(&p->lock);
	if (t->cpu != &gone) {
		struct cputime last;
		struct usage_counts counts;
		cputime_thread_locked(t, &last);
		usage_thread_locked(t, &counts);
		struct proc_cpu *pc = proc_cpu_locked(p);
		if (pc) {
			add(&pc->exited, &last);
			add_counts(&pc->exited_counts, &counts);
		}
		free(t->cpu);
		t->cpu = &gone;
		/* Counted in the process now; the thread may still sleep on its
		 * way out. */
		__atomic_store_n(&t->nvcsw, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&t->kernel_minflt, 0, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&p->lock);
}

void cputime_reap(struct process *parent, struct process *child)
{
	struct cputime self, children;
	struct usage_counts self_counts, children_counts;
	pthread_mutex_lock(&child->lock);
	cputime_process_locked(child, &self, &children);
	usage_process_locked(child, &self_counts, &children_counts);
	struct proc_cpu *cc = proc_cpu_locked(child);
	int64_t maxrss = cc ? MAX(cc->maxrss, cc->children_maxrss) : 0;
	pthread_mutex_unlock(&child->lock);
	add(&self, &children);
	add_counts(&self_counts, &children_counts);
	pthread_mutex_lock(&parent->lock);
	struct proc_cpu *pc = proc_cpu_locked(parent);
	if (pc) {
		add(&pc->children, &self);
		add_counts(&pc->children_counts, &self_counts);
		pc->children_maxrss = MAX(pc->children_maxrss, maxrss);
	}
	pthread_mutex_unlock(&parent->lock);
}

void cputime_note_mm(struct process *p, struct mm *mm)
{
	if (!mm)
		return;
	int64_t kib = (int64_t)(mm_hiwater_rss(mm) / 1024);
	pthread_mutex_lock(&p->lock);
	struct proc_cpu *pc = proc_cpu_locked(p);
	if (pc)
		pc->maxrss = MAX(pc->maxrss, kib);
	pthread_mutex_unlock(&p->lock);
}

void cputime_process_free(struct process *p)
{
	free(p->cpu);
	p->cpu = NULL;
}

/* ---- getrusage and times ------------------------------------------------- */

static struct timeval ns_tv(int64_t ns)
{
	return (struct timeval){ .tv_sec = ns / NSEC_PER_SEC, .tv_usec = ns % NSEC_PER_SEC / 1000 };
}

/* Linux's getrusage(): who's sums, and the largest resident set: the
 * children's (RUSAGE_CHILDREN, RUSAGE_BOTH), the process's own and its
 * live memory's peak (all but RUSAGE_CHILDREN). */
void cputime_rusage(struct process *p, int who, struct rusage *ru)
{
	struct cputime self = { 0, 0 }, children = { 0, 0 };
	struct usage_counts uself = { 0 }, uchildren = { 0 };
	int64_t maxrss = 0;
	memset(ru, 0, sizeof(*ru));
	pthread_mutex_lock(&p->lock);
	struct proc_cpu *pc = proc_cpu_locked(p);
	if (who == RUSAGE_THREAD) {
		cputime_thread_locked(current, &self);
		usage_thread_locked(current, &uself);
	} else {
		cputime_process_locked(p, who == RUSAGE_CHILDREN ? NULL : &self, &children);
		usage_process_locked(p, who == RUSAGE_CHILDREN ? NULL : &uself, &uchildren);
	}
	if (pc && (who == RUSAGE_CHILDREN || who == RUSAGE_BOTH))
		maxrss = pc->children_maxrss;
	struct mm *mm = NULL;
	if (who != RUSAGE_CHILDREN) {
		if (pc)
			maxrss = MAX(maxrss, pc->maxrss);
		if ((mm = p->mm)) /* read below: mm.lock comes before process.lock */
			__atomic_add_fetch(&mm->users, 1, __ATOMIC_ACQ_REL); /* Linux's mmget */
	}
	pthread_mutex_unlock(&p->lock);
	if (mm) {
		maxrss = MAX(maxrss, (int64_t)(mm_hiwater_rss(mm) / 1024));
		mm_put(mm);
	}
	if (who == RUSAGE_CHILDREN) {
		self = children;
		uself = uchildren;
	} else if (who == RUSAGE_BOTH) {
		add(&self, &children);
		add_counts(&uself, &uchildren);
	}
	ru->ru_utime = ns_tv(self.user);
	ru->ru_stime = ns_tv(self.sys);
	ru->ru_maxrss = maxrss;
	ru->ru_minflt = uself.minflt;
	ru->ru_majflt = uself.majflt;
	ru->ru_nvcsw = uself.nvcsw;
	ru->ru_nivcsw = uself.nivcsw;
}

_Static_assert(sizeof(struct rusage) == 144, "Linux struct rusage");

long sys_getrusage(const struct sysargs *a)
{
	int who = (int)a->a[0];
	struct rusage ru;
	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
		return -EINVAL;
	cputime_rusage(current->proc, who, &ru);
	return copy_to_guest(a->a[1], &ru, sizeof ru) ? -EFAULT : 0;
}

#define USER_HZ 100 /* clock_t ticks, as sysconf(_SC_CLK_TCK) says */

static int64_t ns_ticks(int64_t ns)
{
	return ns / (NSEC_PER_SEC / USER_HZ);
}

/* Linux returns jiffies in USER_HZ ticks, counted from INITIAL_JIFFIES
 * (five minutes before 32-bit wrap-around) at an instant near boot;
 * derived from the guest's CLOCK_MONOTONIC, with the host's starting
 * point measured once. */
static long ticks_since_boot(void)
{
	return (long)ns_ticks(ktime_get_ns(CLOCK_MONOTONIC));
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
		struct cputime self, children;
		cputime_process(current->proc, &self, &children);
		int64_t k[4] = { ns_ticks(self.user), ns_ticks(self.sys), ns_ticks(children.user),
				 ns_ticks(children.sys) };
		if (copy_to_guest(a->a[0], k, sizeof k))
			return -EFAULT;
	}
	pthread_once(&ticks_once, ticks_init);
	return ticks_base + ticks_since_boot();
}

/* ---- CPU clocks ---------------------------------------------------------- */

/* A thread of the caller's process by id (proc->lock held). */
static struct thread *own_thread_locked(int tid)
{
	struct process *p = current->proc;
	for (struct thread *t = first_thread(p); t; t = next_thread(t))
		if (t->tid == tid)
			return t;
	return NULL;
}

static int64_t pick(const struct cputime *c, int which)
{
	return which == CPUCLOCK_VIRT ? c->user : c->user + c->sys;
}

int cputime_clock_ns(int which, bool thread, int id, bool gettime, int64_t *ns)
{
	struct cputime c;
	if (thread) {
		struct process *p = current->proc;
		pthread_mutex_lock(&p->lock);
		struct thread *t = !id || id == current->tid ? current : own_thread_locked(id);
		if (t)
			cputime_thread_locked(t, &c);
		pthread_mutex_unlock(&p->lock);
		if (!t)
			return -EINVAL;
	} else if (!id || id == current->proc->pid) {
		cputime_process(current->proc, &c, NULL);
	} else {
		/* Any thread's process for clock_gettime; only a process id
		 * otherwise. */
		pthread_mutex_lock(&tasklist_lock);
		struct process *p = gettime ? pid_or_tid_lookup(id) : pid_lookup(id);
		if (p)
			cputime_process(p, &c, NULL);
		pthread_mutex_unlock(&tasklist_lock);
		if (!p)
			return -EINVAL;
	}
	*ns = pick(&c, which);
	return 0;
}
