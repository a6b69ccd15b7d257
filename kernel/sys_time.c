/* Clocks and sleeps: guest clock ids (kernel/ktime.h) and clock_gettime,
 * clock_getres, gettimeofday, time, nanosleep, clock_nanosleep.
 *
 * The fixed clocks are the sandbox's (kernel/ktime.c, the vDSO's clock);
 * the CPU-time clocks are the guests' (kernel/cputime.h). A sleep blocks the calling kernel
 * thread on the host, which is the design (one kernel thread per guest
 * thread), until the guest's clock reaches the deadline. */
#include <sys/resource.h>
#include <time.h>
#include "kernel/cputime.h"
#include "kernel/ktime.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/signal.h"
#include "mm/uaccess.h"

/* Linux's CPU-clock ids (kernel/cputime.h), where which 3 without
 * perthread is a posix clock fd (CLOCKFD). */
#define CLOCKFD_MASK 7
#define CLOCKFD 3

/* What clock_nanosleep does with a clock (Linux: no k_clock nsleep,
 * common_nsleep, alarm_timer_nsleep, posix_cpu_nsleep). */
enum nsleep_kind {
	NS_NONE,   /* EOPNOTSUPP, before the request is read */
	NS_HOST,   /* the host waits */
	NS_ALARM,  /* the host waits, after the alarm clocks' own checks */
	NS_CPU,    /* CPU time: polled */
	NS_INVAL,  /* the caller's own thread CPU clock: EINVAL */
};

/* A guest clock resolved to the sandbox's clocks, or to a guest's CPU
 * time. Absolute deadlines are on `read`, which the host waits on too
 * (the sandbox's REALTIME, MONOTONIC, BOOTTIME and TAI follow the host's
 * clocks of the same name). */
struct gclock {
	bool ok;
	int8_t cpu;           /* -1, or which CPU time (CPUCLOCK_*) */
	uint8_t nsleep;       /* enum nsleep_kind */
	clockid_t read;       /* sandbox clock read for it (CPU clocks: THREAD or PROCESS_CPUTIME_ID) */
	clockid_t rel;        /* sandbox clock a relative sleep is measured on */
	clockid_t probe;      /* host clock that must exist first (alarms), or -1 */
	int target;           /* CPU clocks: the thread or process id, 0 for the caller */
};

#define CLK(r, l, ns) { true, -1, ns, r, l, -1, 0 }
#define ALARM(r, id) { true, -1, NS_ALARM, r, r, id, 0 }
static const struct gclock fixed_clocks[] = {
	/* Relative REALTIME sleeps run on MONOTONIC, as Linux's hrtimers do. */
	[CLOCK_REALTIME] = CLK(CLOCK_REALTIME, CLOCK_MONOTONIC, NS_HOST),
	[CLOCK_MONOTONIC] = CLK(CLOCK_MONOTONIC, CLOCK_MONOTONIC, NS_HOST),
	[CLOCK_PROCESS_CPUTIME_ID] = { true, CPUCLOCK_SCHED, NS_CPU, CLOCK_PROCESS_CPUTIME_ID,
				       CLOCK_PROCESS_CPUTIME_ID, -1, 0 },
	/* Linux's static thread clock has no nsleep at all: EOPNOTSUPP. */
	[CLOCK_THREAD_CPUTIME_ID] = { true, CPUCLOCK_SCHED, NS_NONE, CLOCK_THREAD_CPUTIME_ID,
				      CLOCK_THREAD_CPUTIME_ID, -1, 0 },
	[CLOCK_MONOTONIC_RAW] = CLK(CLOCK_MONOTONIC_RAW, 0, NS_NONE),
	[CLOCK_REALTIME_COARSE] = CLK(CLOCK_REALTIME_COARSE, 0, NS_NONE),
	[CLOCK_MONOTONIC_COARSE] = CLK(CLOCK_MONOTONIC_COARSE, 0, NS_NONE),
	[CLOCK_BOOTTIME] = CLK(CLOCK_BOOTTIME, CLOCK_BOOTTIME, NS_HOST),
	/* Alarm clocks read like the plain ones once the host has them (EINVAL
	 * when it has no RTC); their sleeps run on the plain clocks too: a
	 * sandbox must not wake the host. */
	[CLOCK_REALTIME_ALARM] = ALARM(CLOCK_REALTIME, CLOCK_REALTIME_ALARM),
	[CLOCK_BOOTTIME_ALARM] = ALARM(CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM),
	/* 10 was CLOCK_SGI_CYCLE: invalid. */
	[CLOCK_TAI] = CLK(CLOCK_TAI, CLOCK_TAI, NS_HOST),
};

/* Nanoseconds, wide enough for any timespec and its sums. */
typedef __int128 kns_t;

static kns_t ts_ns(const struct timespec *t)
{
	return (kns_t)t->tv_sec * NSEC_PER_SEC + t->tv_nsec;
}

/* Clamped to [0, largest timespec]: the host rejects negative times and
 * treats huge ones as "never", like Linux's KTIME_MAX. */
static struct timespec ns_ts(kns_t ns)
{
	const kns_t max = (kns_t)INT64_MAX * NSEC_PER_SEC + NSEC_PER_SEC - 1;
	if (ns < 0)
		ns = 0;
	if (ns > max)
		ns = max;
	return (struct timespec){ .tv_sec = (time_t)(ns / NSEC_PER_SEC),
				  .tv_nsec = (long)(ns % NSEC_PER_SEC) };
}

static int clock_resolve(clockid_t id, struct gclock *c)
{
	if (id >= 0) {
		if ((size_t)id >= ARRAY_SIZE(fixed_clocks) || !fixed_clocks[id].ok)
			return -EINVAL;
		*c = fixed_clocks[id];
		return 0;
	}
	if ((id & CLOCKFD_MASK) == CLOCKFD)
		return -EINVAL; /* posix clock fds: none exist here */
	int which = CPUCLOCK_WHICH(id);
	pid_t pid = CPUCLOCK_PID(id);
	bool thread = CPUCLOCK_PERTHREAD(id);
	if (which > CPUCLOCK_SCHED)
		return -EINVAL;
	/* The task is looked up when the clock is used (cputime_clock_ns);
	 * Linux refuses a sleep on the caller's own thread clock. */
	bool own_thread = thread && (pid == 0 || pid == current->tid);
	clockid_t h = thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID;
	*c = (struct gclock){ true, (int8_t)which, own_thread ? NS_INVAL : NS_CPU, h, h, -1, pid };
	return 0;
}

/* A CPU clock's time; gettime: for clock_gettime (Linux finds a process
 * clock of any thread then, else only of a process id). */
static int cpu_clock_read(const struct gclock *c, bool gettime, struct timespec *ts)
{
	int64_t ns;
	int err = cputime_clock_ns(c->cpu, c->read == CLOCK_THREAD_CPUTIME_ID, c->target, gettime, &ns);
	if (!err)
		*ts = (struct timespec){ ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };
	return err;
}

/* PROF counts like SCHED (user and system time); VIRT is user time. */
static int gclock_read(const struct gclock *c, struct timespec *ts)
{
	if (c->cpu >= 0)
		return cpu_clock_read(c, true, ts);
	if (c->probe >= 0 && clock_gettime(c->probe, ts) != 0)
		return -EINVAL; /* an alarm clock on a host without an RTC */
	*ts = ns_ts(ktime_sandbox_ns(c->read));
	return 0;
}

int ktime_get(clockid_t clk, struct timespec *ts)
{
	struct gclock c;
	int err = clock_resolve(clk, &c);
	return err ? err : gclock_read(&c, ts);
}

int64_t ktime_get_ns(clockid_t clk)
{
	struct timespec ts = { 0, 0 };
	ktime_get(clk, &ts);
	return (int64_t)ts_ns(&ts);
}

/* The host's HZ, from its coarse clocks' resolution (one tick); at most
 * a million, so that a tick is never less than a microsecond to the
 * callers that divide by it. */
long ktime_hz(void)
{
	struct timespec r;
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &r) != 0 || r.tv_sec || r.tv_nsec <= 0)
		return 250;
	return MIN((NSEC_PER_SEC + r.tv_nsec / 2) / r.tv_nsec, 1000000L);
}

int ktime_getres(clockid_t clk, struct timespec *ts)
{
	struct gclock c;
	int err = clock_resolve(clk, &c);
	if (err)
		return err;
	if (c.cpu >= 0) {
		struct timespec now;
		if ((err = cpu_clock_read(&c, false, &now)))
			return err; /* no such task */
		/* Linux: sched_clock based clocks claim 1 ns, the others a tick. */
		long hz = ktime_hz();
		*ts = (struct timespec){ 0, c.cpu == CPUCLOCK_SCHED ? 1 : (NSEC_PER_SEC + hz - 1) / hz };
		return 0;
	}
	if (c.probe >= 0)
		return clock_getres(c.probe, ts) == 0 ? 0 : -EINVAL;
	*ts = (struct timespec){ 0, ktime_res_ns(c.read) };
	return 0;
}

int ktime_to_host(clockid_t clk, const struct timespec *guest, clockid_t *host_clk,
		  struct timespec *host)
{
	struct gclock c;
	int err = clock_resolve(clk, &c);
	if (err)
		return err;
	if (c.cpu >= 0 || c.nsleep == NS_NONE)
		return -EINVAL;
	*host_clk = c.read;
	*host = ns_ts(ts_ns(guest) - ktime_host_offset_ns(c.read, c.read));
	return 0;
}

/* ---- guest structures -------------------------------------------------- */

struct ktimespec { int64_t tv_sec, tv_nsec; };   /* __kernel_timespec */
struct ktimeval { int64_t tv_sec, tv_usec; };    /* __kernel_old_timeval */
struct ktimezone { int32_t minuteswest, dsttime; };

static long put_timespec(gaddr_t addr, const struct timespec *ts)
{
	struct ktimespec k = { ts->tv_sec, ts->tv_nsec };
	return copy_to_guest(addr, &k, sizeof k);
}

/* Read a request: -EFAULT, -EINVAL if Linux's timespec64_valid fails
 * (negative seconds, nanoseconds outside [0, 999999999]), else 0. */
static long get_request(gaddr_t addr, struct timespec *ts)
{
	struct ktimespec k;
	if (copy_from_guest(&k, addr, sizeof k))
		return -EFAULT;
	if (k.tv_sec < 0 || (uint64_t)k.tv_nsec >= (uint64_t)NSEC_PER_SEC)
		return -EINVAL;
	ts->tv_sec = k.tv_sec;
	ts->tv_nsec = k.tv_nsec;
	return 0;
}

/* ---- sleeping ------------------------------------------------------------ */

/* Sleep until the sandbox clock `on` reaches deadline (ns): 0, or -EINTR
 * when a signal comes. The wait is on the host's monotonic clock, the
 * deadline checked again on the sandbox clock after every wake-up. */
static int sleep_to(clockid_t on, kns_t deadline)
{
	for (;;) {
		kns_t left = deadline - ktime_sandbox_ns(on);
		if (left <= 0)
			return 0;
		struct timespec rel = ns_ts(left), dl = deadline_after(&rel);
		if (sleep_until(sleep_prepare(), &dl) == -EINTR)
			return -EINTR;
	}
}

/* An interrupted relative sleep: the time left goes to rmtp, and a
 * restart without a handler (restart_syscall) sleeps to the same end. */
static long nanosleep_restart(struct restart_block *rb);

static long interrupted(clockid_t on, kns_t deadline, gaddr_t rmtp)
{
	if (rmtp) {
		kns_t left = deadline - ktime_sandbox_ns(on);
		struct timespec ts = ns_ts(left > 0 ? left : 0);
		if (put_timespec(rmtp, &ts))
			return -EFAULT;
	}
	current->restart = (struct restart_block){ nanosleep_restart, { on, (int64_t)deadline, (int64_t)rmtp } };
	return -ERESTART_RESTARTBLOCK;
}

static long nanosleep_restart(struct restart_block *rb)
{
	clockid_t on = (clockid_t)rb->a[0];
	kns_t deadline = rb->a[1];
	return sleep_to(on, deadline) ? interrupted(on, deadline, (gaddr_t)rb->a[2]) : 0;
}

static long host_sleep(const struct gclock *c, bool abs, const struct timespec *req, gaddr_t rmtp)
{
	clockid_t on = abs ? c->read : c->rel;
	kns_t deadline = ts_ns(req) + (abs ? 0 : ktime_sandbox_ns(on));
	if (!sleep_to(on, deadline))
		return 0;
	/* Absolute sleeps just start again (Linux: -ERESTARTNOHAND). */
	return abs ? -ERESTARTNOHAND : interrupted(on, deadline, rmtp);
}

/* The host cannot wait on a guest's CPU time: poll it. It can run faster
 * than real time (several threads), so nap at most 10 ms. A task that is
 * gone ends the sleep. */
static long cpu_sleep(const struct gclock *c, bool abs, const struct timespec *req)
{
	struct timespec now;
	int err = cpu_clock_read(c, false, &now);
	if (err)
		return err;
	kns_t deadline = abs ? ts_ns(req) : ts_ns(&now) + ts_ns(req);
	for (;;) {
		kns_t left = deadline - ts_ns(&now);
		if (left <= 0)
			return 0;
		struct timespec nap = ns_ts(MIN(left, (kns_t)10000000)), dl = deadline_after(&nap);
		if (sleep_until(sleep_prepare(), &dl) == -EINTR)
			return abs ? -ERESTARTNOHAND : -EINTR;
		if (cpu_clock_read(c, true, &now))
			return 0;
	}
}

static long do_nsleep(const struct gclock *c, int flags, const struct timespec *req, gaddr_t rmtp)
{
	bool abs = flags & TIMER_ABSTIME;
	struct timespec r;
	switch (c->nsleep) {
	case NS_INVAL:
		return -EINVAL;
	case NS_CPU:
		return cpu_sleep(c, abs, req);
	case NS_ALARM:
		if (clock_getres(c->probe, &r) != 0)
			return -EOPNOTSUPP; /* no RTC on the host */
		if (flags & ~TIMER_ABSTIME)
			return -EINVAL;
		/* CAP_WAKE_ALARM: the sandbox's root has every capability
		 * until there is a capability model. */
		if (current->proc->uid != 0)
			return -EPERM;
		break;
	}
	return host_sleep(c, abs, req, rmtp);
}

/* ---- system calls -------------------------------------------------------- */

long sys_clock_gettime(const struct sysargs *a)
{
	struct timespec ts;
	int err = ktime_get((clockid_t)a->a[0], &ts);
	return err ? err : put_timespec(a->a[1], &ts);
}

/* Setting a clock: Linux's checks in their order (only REALTIME has a
 * clock_set, CPU clocks refuse with EPERM after reading the value; a
 * valid time, then CAP_SYS_TIME). The sandbox's clock follows the
 * host's and is nobody's to set, root's included: EPERM. */
long sys_clock_settime(const struct sysargs *a)
{
	clockid_t clk = (clockid_t)a->a[0];
	struct gclock c;
	struct timespec now;
	/* A CPU clock by id that names a thread or process one may read. */
	bool cpu = clk < 0 && clock_resolve(clk, &c) == 0 && c.cpu >= 0 && ktime_get(clk, &now) == 0;
	if (clk != CLOCK_REALTIME && !cpu)
		return -EINVAL;
	struct ktimespec k;
	if (copy_from_guest(&k, a->a[1], sizeof k))
		return -EFAULT;
	if (!cpu && (k.tv_sec < 0 || (uint64_t)k.tv_nsec >= (uint64_t)NSEC_PER_SEC))
		return -EINVAL;
	return -EPERM;
}

long sys_settimeofday(const struct sysargs *a)
{
	struct ktimeval tv;
	struct ktimezone tz;
	if (a->a[0]) {
		if (copy_from_guest(&tv, a->a[0], sizeof tv))
			return -EFAULT;
		if (tv.tv_sec < 0 || (uint64_t)tv.tv_usec >= 1000000)
			return -EINVAL;
	}
	if (a->a[1]) {
		if (copy_from_guest(&tz, a->a[1], sizeof tz))
			return -EFAULT;
		if (tz.minuteswest > 15 * 60 || tz.minuteswest < -15 * 60)
			return -EINVAL;
	}
	return -EPERM; /* as clock_settime */
}

long sys_clock_getres(const struct sysargs *a)
{
	struct timespec ts;
	int err = ktime_getres((clockid_t)a->a[0], &ts);
	if (err)
		return err;
	return a->a[1] ? put_timespec(a->a[1], &ts) : 0; /* res may be NULL */
}

long sys_gettimeofday(const struct sysargs *a)
{
	gaddr_t tv = a->a[0], tz = a->a[1];
	if (tv) {
		struct timespec ts;
		ktime_get(CLOCK_REALTIME, &ts);
		struct ktimeval k = { ts.tv_sec, ts.tv_nsec / 1000 };
		if (copy_to_guest(tv, &k, sizeof k))
			return -EFAULT;
	}
	if (tz) {
		/* Linux's sys_tz, which only settimeofday changes: UTC. */
		struct ktimezone z = { 0, 0 };
		if (copy_to_guest(tz, &z, sizeof z))
			return -EFAULT;
	}
	return 0;
}

/* Linux's time() is the second of the last tick (the coarse clock), as
 * the vDSO's is. */
long sys_time(const struct sysargs *a)
{
	struct timespec ts;
	ktime_get(CLOCK_REALTIME_COARSE, &ts);
	int64_t t = ts.tv_sec;
	if (a->a[0] && copy_to_guest(a->a[0], &t, sizeof t))
		return -EFAULT;
	return t;
}

/* rmtp (a->a[1]) is only written when a signal interrupts the sleep. */
long sys_nanosleep(const struct sysargs *a)
{
	struct timespec req;
	long err = get_request(a->a[0], &req);
	return err ? err : host_sleep(&fixed_clocks[CLOCK_MONOTONIC], false, &req, a->a[1]);
}

/* The raw call returns -errno like any other; glibc's clock_nanosleep
 * turns it into a positive return value. */
long sys_clock_nanosleep(const struct sysargs *a)
{
	clockid_t id = (clockid_t)a->a[0];
	int flags = (int)a->a[1];
	struct gclock c;
	struct timespec req;
	/* Linux's order: unknown clock, clock without nsleep, request read
	 * and checked, then the clock's own checks (CPU clocks look up their
	 * task only now). */
	int cerr = clock_resolve(id, &c);
	if (id >= 0) {
		if (cerr)
			return cerr;
		if (c.nsleep == NS_NONE)
			return -EOPNOTSUPP;
	} else if ((id & CLOCKFD_MASK) == CLOCKFD) {
		return -EOPNOTSUPP;
	}
	long err = get_request(a->a[2], &req);
	if (err)
		return err;
	if (cerr)
		return cerr;
	return do_nsleep(&c, flags, &req, a->a[3]);
}
