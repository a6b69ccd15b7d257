/* The timer core: the sandbox's timer thread, the heap of wall-clock
 * deadlines, CPU-time accounting and ticks, per-process timer state, and
 * the helpers the timer system calls share (kernel/timers.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/cputime.h"
#include "kernel/ktime.h"
#include "kernel/limits.h"
#include "kernel/task.h"
#include "kernel/timers.h"
#include "mm/uaccess.h"

pthread_mutex_t timers_lock = PTHREAD_MUTEX_INITIALIZER;

/* A re-armed timer is looked at no sooner than this after it fired. */
#define REARM_MIN_NS 100000LL

static struct {
	pthread_cond_t cond;      /* the earliest deadline changed */
	bool started;
	struct ktimer **heap;     /* min-heap on wake_at */
	int n, cap;
	struct ktimer *cpu;       /* armed CPU timers */
	int64_t next_tick;        /* host monotonic ns of the next CPU tick */
} tq;

static int64_t host_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int64_t ns_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int64_t timespec_ns(int64_t sec, int64_t nsec)
{
	if (sec >= INT64_MAX / NSEC_PER_SEC)
		return INT64_MAX;
	return ns_add(sec * NSEC_PER_SEC, nsec);
}

int64_t tick_ns(void)
{
	long hz = ktime_hz();
	return (NSEC_PER_SEC + hz / 2) / hz;
}

/* ---- the heap ---------------------------------------------------------- */

static void heap_set(int i, struct ktimer *k)
{
	tq.heap[i] = k;
	k->slot = i;
}

static void heap_up(int i)
{
	struct ktimer *k = tq.heap[i];
	while (i > 0) {
		int parent = (i - 1) / 2;
		if (tq.heap[parent]->wake_at <= k->wake_at)
			break;
		heap_set(i, tq.heap[parent]);
		i = parent;
	}
	heap_set(i, k);
}

static void heap_down(int i)
{
	struct ktimer *k = tq.heap[i];
	for (;;) {
		int c = 2 * i + 1;
		if (c >= tq.n)
			break;
		if (c + 1 < tq.n && tq.heap[c + 1]->wake_at < tq.heap[c]->wake_at)
			c++;
		if (tq.heap[c]->wake_at >= k->wake_at)
			break;
		heap_set(i, tq.heap[c]);
		i = c;
	}
	heap_set(i, k);
}

/* false if out of memory (the timer then stays unarmed). */
static bool heap_push(struct ktimer *k)
{
	if (tq.n == tq.cap) {
		int cap = tq.cap ? 2 * tq.cap : 64;
		struct ktimer **v = realloc(tq.heap, cap * sizeof(*v));
		if (!v)
			return false;
		tq.heap = v;
		tq.cap = cap;
	}
	heap_set(tq.n++, k);
	heap_up(k->slot);
	return true;
}

static void heap_remove(struct ktimer *k)
{
	int i = k->slot;
	k->slot = -1;
	struct ktimer *last = tq.heap[--tq.n];
	if (i == tq.n)
		return;
	heap_set(i, last);
	heap_up(i);
	heap_down(last->slot);
}

/* ---- CPU time ---------------------------------------------------------- */

int64_t proc_cpu_ns(struct proc_timers *pt, int which)
{
	struct cputime c;
	cputime_process(pt->proc, &c, NULL);
	return which == CPU_VIRT ? c.user : c.user + c.sys;
}

/* The CPU time k runs on: its process's, or one thread's (a clock of
 * a thread that is gone stays at -1, before any expiry). */
static int64_t timer_cpu_ns(const struct ktimer *k)
{
	if (!k->tid)
		return proc_cpu_ns(k->owner, k->cpu);
	struct process *p = k->owner->proc;
	struct cputime c;
	bool found = false;
	pthread_mutex_lock(&p->lock);
	for (struct thread *t = p->threads; t && !found; t = t->next_thread)
		if (t->tid == k->tid && !__atomic_load_n(&t->leaving, __ATOMIC_ACQUIRE)) {
			cputime_thread_locked(t, &c);
			found = true;
		}
	pthread_mutex_unlock(&p->lock);
	if (!found)
		return -1;
	return k->cpu == CPU_VIRT ? c.user : c.user + c.sys;
}

static void cpu_list_add(struct ktimer *k)
{
	k->cpu_next = tq.cpu;
	if (tq.cpu)
		tq.cpu->cpu_pprev = &k->cpu_next;
	k->cpu_pprev = &tq.cpu;
	tq.cpu = k;
}

static void cpu_list_del(struct ktimer *k)
{
	*k->cpu_pprev = k->cpu_next;
	if (k->cpu_next)
		k->cpu_next->cpu_pprev = k->cpu_pprev;
	k->cpu_pprev = NULL;
}

/* One CPU tick: fire the due CPU timers (at most once per tick each, like
 * Linux); neighbours in the list with one owner share a reading. */
static void cpu_tick(void)
{
	struct ktimer *due = NULL, **tail = &due, *next;
	struct proc_timers *last = NULL;
	int64_t prof = 0, virt = 0;
	for (struct ktimer *k = tq.cpu; k; k = next) {
		next = k->cpu_next;
		if (k->tid) { /* a thread's clock */
			if (timer_cpu_ns(k) < k->expires)
				continue;
		} else if (k->owner != last) {
			last = k->owner;
			struct cputime c;
			cputime_process(last->proc, &c, NULL);
			virt = c.user;
			prof = c.user + c.sys;
		}
		if (!k->tid && (k->cpu == CPU_VIRT ? virt : prof) < k->expires)
			continue;
		cpu_list_del(k);
		k->cpu_next = NULL;
		*tail = k;
		tail = &k->cpu_next;
	}
	for (struct ktimer *k = due; k; k = next) {
		next = k->cpu_next;
		k->fire(k, timer_cpu_ns(k));
	}
}

/* ---- the timer thread --------------------------------------------------- */

static void *timer_main(void *arg)
{
	pthread_mutex_lock(&timers_lock);
	for (;;) {
		int64_t now = host_mono_ns();
		if (tq.cpu && now >= tq.next_tick) {
			cpu_tick();
			tq.next_tick = now + CPU_TICK_NS;
		}
		while (tq.n && tq.heap[0]->wake_at <= now) {
			struct ktimer *k = tq.heap[0];
			heap_remove(k);
			int64_t cnow = ktimer_now(k);
			if (cnow < k->expires) { /* the clocks drifted apart: not yet */
				k->wake_at = now + (k->expires - cnow);
				heap_push(k);
				continue;
			}
			k->fire(k, cnow);
		}
		int64_t wake = INT64_MAX;
		if (tq.n)
			wake = tq.heap[0]->wake_at;
		if (tq.cpu)
			wake = MIN(wake, tq.next_tick);
		if (wake == INT64_MAX) {
			pthread_cond_wait(&tq.cond, &timers_lock);
		} else if (wake > host_mono_ns()) {
			struct timespec ts = { wake / NSEC_PER_SEC, wake % NSEC_PER_SEC };
			pthread_cond_timedwait(&tq.cond, &timers_lock, &ts);
		}
	}
	return NULL;
}

/* Start the thread on first use (timers_lock held). */
static void timer_thread_start(void)
{
	if (tq.started)
		return;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tq.cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 << 10);
	pthread_t t;
	if (pthread_create(&t, &attr, timer_main, NULL))
		kpanic("cannot start the timer thread");
	pthread_attr_destroy(&attr);
	tq.started = true;
}

/* ---- ktimers ------------------------------------------------------------ */

void ktimer_init(struct ktimer *k, clockid_t clk, int cpu, struct proc_timers *owner,
		 void (*fire)(struct ktimer *, int64_t))
{
	memset(k, 0, sizeof(*k));
	k->clk = clk;
	k->cpu = cpu;
	k->owner = owner;
	k->fire = fire;
	k->slot = -1;
}

int64_t ktimer_now(const struct ktimer *k)
{
	if (k->cpu != CPU_NONE)
		return timer_cpu_ns(k);
	return ktime_sandbox_ns(k->clk);
}

void ktimer_stop(struct ktimer *k)
{
	if (k->slot >= 0)
		heap_remove(k);
	if (k->cpu_pprev)
		cpu_list_del(k);
	k->expires = 0;
}

static void arm(struct ktimer *k, int64_t expires, int64_t min_gap)
{
	ktimer_stop(k);
	if (expires <= 0)
		return;
	timer_thread_start();
	k->expires = expires;
	if (k->cpu != CPU_NONE) {
		bool first = !tq.cpu;
		cpu_list_add(k);
		if (first) {
			tq.next_tick = host_mono_ns() + CPU_TICK_NS;
			pthread_cond_signal(&tq.cond);
		}
		return;
	}
	int64_t now = host_mono_ns(), left = expires - ktimer_now(k);
	k->wake_at = ns_add(now, MAX(left, min_gap));
	if (!heap_push(k)) {
		k->expires = 0;
		return;
	}
	if (k->slot == 0)
		pthread_cond_signal(&tq.cond);
}

void ktimer_start(struct ktimer *k, int64_t expires)
{
	arm(k, expires, 0);
}

void ktimer_rearm(struct ktimer *k, int64_t expires, int64_t min_gap)
{
	arm(k, expires, MAX(min_gap, REARM_MIN_NS));
}

int64_t ktimer_forward(struct ktimer *k, int64_t now)
{
	if (!k->interval || now < k->expires)
		return 0;
	int64_t n = (now - k->expires) / k->interval + 1;
	k->expires = ns_add(k->expires, n > INT64_MAX / k->interval ? INT64_MAX : n * k->interval);
	return n;
}

/* ---- per-process state -------------------------------------------------- */

struct sigwake *sigwake_get(struct sigwake *w)
{
	atomic_fetch_add(&w->refs, 1);
	return w;
}

void sigwake_put(void *obj)
{
	struct sigwake *w = obj;
	if (atomic_fetch_sub(&w->refs, 1) == 1)
		free(w);
}

struct proc_timers *proc_timers_get(void)
{
	return proc_timers_of(current->proc);
}

struct proc_timers *proc_timers_of(struct process *p)
{
	if (p->timers)
		return p->timers;
	struct proc_timers *pt = calloc(1, sizeof(*pt));
	struct sigwake *w = calloc(1, sizeof(*w));
	if (!pt || !w) {
		free(pt);
		free(w);
		return NULL;
	}
	atomic_init(&w->refs, 1);
	waitq_init(&w->wq);
	pt->sigwake = w;
	pt->proc = p;
	itimers_init(pt);
	pthread_mutex_lock(&p->lock);
	p->timers = pt;
	pthread_mutex_unlock(&p->lock);
	return pt;
}

void timers_exec(struct process *p)
{
	pthread_mutex_lock(&timers_lock);
	if (p->timers)
		posix_timers_delete_all(p->timers);
	pthread_mutex_unlock(&timers_lock);
	timers_rlimit_cpu(p);
}

void timers_rlimit_cpu(struct process *p)
{
	bool limited = rlimit_cur(p, RLIMIT_CPU) != RLIM_INFINITY;
	pthread_mutex_lock(&timers_lock);
	struct proc_timers *pt = limited ? proc_timers_of(p) : p->timers;
	if (pt)
		rlimit_cpu_arm(pt);
	pthread_mutex_unlock(&timers_lock);
}

void timers_exit(struct process *p)
{
	/* The last thread's CPU time, read while its host thread is there. */
	if (p->thread)
		cputime_thread_exit(p->thread);
	pthread_mutex_lock(&timers_lock);
	pthread_mutex_lock(&p->lock);
	struct proc_timers *pt = p->timers;
	p->timers = NULL;
	pthread_mutex_unlock(&p->lock);
	if (pt) {
		posix_timers_delete_all(pt);
		ktimer_stop(&pt->real);
		ktimer_stop(&pt->virt);
		ktimer_stop(&pt->prof);
		ktimer_stop(&pt->rlim_cpu);
	}
	pthread_mutex_unlock(&timers_lock);
	if (pt) {
		/* Readers of an inherited signalfd poll their own process. */
		waitq_wake_all(&pt->sigwake->wq);
		sigwake_put(pt->sigwake);
		free(pt);
	}
}

void signalfd_notify(struct process *p)
{
	struct proc_timers *pt = p->timers;
	if (pt && waitq_active(&pt->sigwake->wq))
		waitq_wake_all(&pt->sigwake->wq);
}

/* ---- guest structures and clocks ------------------------------------------ */

int get_itimerspec(gaddr_t addr, int64_t *value, int64_t *interval)
{
	struct kitimerspec k;
	if (copy_from_guest(&k, addr, sizeof(k)))
		return -EFAULT;
	if (k.value_sec < 0 || (uint64_t)k.value_nsec >= (uint64_t)NSEC_PER_SEC ||
	    k.interval_sec < 0 || (uint64_t)k.interval_nsec >= (uint64_t)NSEC_PER_SEC)
		return -EINVAL;
	*value = timespec_ns(k.value_sec, k.value_nsec);
	*interval = timespec_ns(k.interval_sec, k.interval_nsec);
	return 0;
}

int put_itimerspec(gaddr_t addr, int64_t value, int64_t interval)
{
	struct kitimerspec k = { interval / NSEC_PER_SEC, interval % NSEC_PER_SEC,
				 value / NSEC_PER_SEC, value % NSEC_PER_SEC };
	return copy_to_guest(addr, &k, sizeof(k)) ? -EFAULT : 0;
}

clockid_t timer_wall_clock(clockid_t id)
{
	switch (id) {
	case CLOCK_REALTIME_ALARM:
		return CLOCK_REALTIME;
	case CLOCK_BOOTTIME_ALARM:
		return CLOCK_BOOTTIME;
	default:
		return id;
	}
}

int alarm_clock_permitted(void)
{
	/* CAP_WAKE_ALARM: the sandbox's root has every capability until
	 * there is a capability model (as clock_nanosleep does). */
	return current->proc->uid == 0 ? 0 : -EPERM;
}
