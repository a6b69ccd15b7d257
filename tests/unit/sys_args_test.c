/* Argument checking of the everyday system calls (sys_info, sys_time,
 * sys_limits, sys_sigstate, sys_random), against Linux's errno for every
 * bad argument, as measured on Linux 6.18.
 *
 * The handlers run in this process for a `current` whose address space
 * (no host process) has two writable pages, one read-only page, then
 * nothing. */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "fs/file.h"
#include "kernel/ktime.h"
#include "kernel/limits.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/memfile.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "tests/unit/check.h"

/* ---- guest memory ------------------------------------------------------------ */

#define GBASE 0x10000000UL
#define G(off) (GBASE + (off))
#define RO_PAGE G(2 * PAGE_SIZE)      /* readable only */
#define HOLE G(3 * PAGE_SIZE)         /* not mapped */
#define BAD 8UL                       /* never mapped */

static struct mm *mm;

/* Kernel pointer to guest memory (the two writable pages are one VMA, so
 * contiguous). */
static void *gp(gaddr_t addr)
{
	size_t avail;
	return mm_translate(mm, addr, false, &avail);
}

/* ---- harness ------------------------------------------------------------------ */

/* Until the lead's syscalls.def rows declare them. */
#define HANDLERS(X) X(uname) X(getpid) X(getppid) X(gettid) X(getuid) X(geteuid) X(getgid) \
	X(getegid) X(getresuid) X(getresgid) X(getpgid) X(getpgrp) X(getsid) \
	X(set_tid_address) X(set_robust_list) X(get_robust_list) X(rseq) X(umask) X(sysinfo) \
	X(clock_gettime) X(clock_getres) X(gettimeofday) X(time) X(nanosleep) X(clock_nanosleep) \
	X(getrlimit) X(setrlimit) X(prlimit64) X(getrusage) X(times) X(sched_getaffinity) \
	X(sched_setaffinity) X(sched_yield) X(getcpu) X(sched_getscheduler) X(sched_getparam) \
	X(sched_get_priority_max) X(sched_get_priority_min) X(getpriority) X(setpriority) \
	X(rt_sigaction) X(rt_sigprocmask) X(rt_sigpending) X(sigaltstack) X(getrandom)
#define DECLARE(n) long sys_##n(const struct sysargs *);
HANDLERS(DECLARE)

#define SYS(n, ...) sys_##n(&(struct sysargs){ .a = { __VA_ARGS__ } })

static struct process proc;
static struct thread th;

static uint64_t g64(gaddr_t addr) { uint64_t v; memcpy(&v, gp(addr), 8); return v; }
static uint32_t g32(gaddr_t addr) { uint32_t v; memcpy(&v, gp(addr), 4); return v; }
static void put(gaddr_t addr, const void *src, size_t n) { memcpy(gp(addr), src, n); }
static void put_ts(gaddr_t addr, int64_t sec, int64_t nsec)
{
	int64_t t[2] = { sec, nsec };
	put(addr, t, sizeof t);
}

static double now_mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* CPU-clock ids as Linux encodes them. */
#define PROC_CLOCK(pid, which) ((clockid_t)((~(unsigned)(pid) << 3) | (which)))
#define THREAD_CLOCK(pid, which) ((clockid_t)((~(unsigned)(pid) << 3) | 4 | (which)))

/* ---- identity and system info ------------------------------------------ */

static void test_info(void)
{
	struct utsname *u = gp(G(0));
	CHECK_EQ(SYS(uname, G(0)), 0, "uname");
	CHECK(!strcmp(u->sysname, "Linux") && !strcmp(u->machine, "x86_64") &&
	      !strcmp(u->domainname, "(none)") && u->release[0], "uname fields");
	CHECK_EQ(SYS(uname, RO_PAGE), -EFAULT, "uname read-only");
	CHECK_EQ(SYS(uname, RO_PAGE - 100), -EFAULT, "uname crossing into read-only");

	CHECK_EQ(SYS(getpid), 7, "getpid");
	CHECK_EQ(SYS(getppid), 3, "getppid");
	CHECK_EQ(SYS(gettid), 9, "gettid");
	CHECK_EQ(SYS(getuid), 1000, "getuid");
	CHECK_EQ(SYS(getegid), 1001, "getegid");
	memset(gp(G(0)), 0, 16);
	CHECK_EQ(SYS(getresuid, G(0), G(4), RO_PAGE), -EFAULT, "getresuid third faults");
	CHECK(g32(G(0)) == 1000 && g32(G(4)) == 1000, "getresuid wrote the first two");
	CHECK_EQ(SYS(getresgid, G(0), G(4), G(8)), 0, "getresgid");
	CHECK_EQ(g32(G(8)), 1001, "getresgid saved gid");
	CHECK_EQ(SYS(getpgid, 0), 7, "getpgid 0");
	CHECK_EQ(SYS(getpgid, 99999), -ESRCH, "getpgid unknown");
	CHECK_EQ(SYS(getpgid, -1), -ESRCH, "getpgid -1");
	CHECK_EQ(SYS(getsid, 99999), -ESRCH, "getsid unknown");
	CHECK_EQ(SYS(getpgrp), 7, "getpgrp");

	CHECK_EQ(SYS(set_tid_address, G(0x100)), 9, "set_tid_address returns tid");
	CHECK_EQ(th.clear_child_tid, G(0x100), "set_tid_address stored");
	CHECK_EQ(SYS(set_robust_list, G(0x200), 0), -EINVAL, "set_robust_list len 0");
	CHECK_EQ(SYS(set_robust_list, G(0x200), 25), -EINVAL, "set_robust_list len 25");
	CHECK_EQ(SYS(set_robust_list, G(0x200), 24), 0, "set_robust_list");
	CHECK_EQ(SYS(get_robust_list, 0, G(0), G(8)), 0, "get_robust_list");
	CHECK(g64(G(0)) == G(0x200) && g64(G(8)) == 24, "get_robust_list values");
	CHECK_EQ(SYS(get_robust_list, 99999, G(0), G(8)), -ESRCH, "get_robust_list unknown");
	CHECK_EQ(SYS(get_robust_list, 0, G(0), BAD), -EFAULT, "get_robust_list bad len ptr");
	CHECK_EQ(SYS(rseq, G(0), 32, 0, 0), -ENOSYS, "rseq");

	CHECK_EQ(SYS(umask, 0xffff), 022, "umask returns old");
	CHECK_EQ(SYS(umask, 022), 0777, "umask keeps mask & 0777");

	CHECK_EQ(SYS(sysinfo, G(0)), 0, "sysinfo");
	CHECK(g64(G(0)) > 0 && g32(G(104)) >= 1, "sysinfo uptime and mem_unit");
	CHECK_EQ(SYS(sysinfo, RO_PAGE), -EFAULT, "sysinfo read-only");
}

/* ---- clocks and sleeps ----------------------------------------------------- */

static void test_time(void)
{
	static const struct { clockid_t id; long want; const char *what; } ids[] = {
		{ CLOCK_REALTIME, 0, "REALTIME" }, { CLOCK_MONOTONIC, 0, "MONOTONIC" },
		{ CLOCK_PROCESS_CPUTIME_ID, 0, "PROCESS_CPUTIME_ID" },
		{ CLOCK_THREAD_CPUTIME_ID, 0, "THREAD_CPUTIME_ID" },
		{ CLOCK_MONOTONIC_RAW, 0, "MONOTONIC_RAW" }, { CLOCK_REALTIME_COARSE, 0, "REALTIME_COARSE" },
		{ CLOCK_MONOTONIC_COARSE, 0, "MONOTONIC_COARSE" }, { CLOCK_BOOTTIME, 0, "BOOTTIME" },
		{ CLOCK_TAI, 0, "TAI" }, { 10, -EINVAL, "SGI_CYCLE" }, { 12, -EINVAL, "12" },
		{ 16, -EINVAL, "aux 16" }, { INT_MAX, -EINVAL, "INT_MAX" },
		{ PROC_CLOCK(0, 2), 0, "own process SCHED" }, { PROC_CLOCK(7, 0), 0, "own pid PROF" },
		{ PROC_CLOCK(0, 1), 0, "own process VIRT" }, { THREAD_CLOCK(9, 2), 0, "own tid thread" },
		{ THREAD_CLOCK(0, 3), -EINVAL, "which 3" }, { PROC_CLOCK(0, 3), -EINVAL, "clock fd" },
		{ PROC_CLOCK(2, 2), -EINVAL, "other pid" }, { THREAD_CLOCK(7 + 100, 2), -EINVAL, "other tid" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		CHECK_EQ(SYS(clock_gettime, (uint64_t)(uint32_t)ids[i].id, G(0)), ids[i].want,
			 "clock_gettime %s", ids[i].what);
		CHECK_EQ(SYS(clock_getres, (uint64_t)(uint32_t)ids[i].id, G(0)), ids[i].want,
			 "clock_getres %s", ids[i].what);
	}
	struct timespec host;
	long host_alarm = clock_gettime(CLOCK_REALTIME_ALARM, &host) ? -EINVAL : 0;
	CHECK_EQ(SYS(clock_gettime, CLOCK_REALTIME_ALARM, G(0)), host_alarm, "alarm clock like the host's");
	CHECK_EQ(SYS(clock_gettime, 0x100000000UL | CLOCK_MONOTONIC, G(0)), 0, "clock id is an int");
	CHECK_EQ(SYS(clock_gettime, CLOCK_MONOTONIC, RO_PAGE), -EFAULT, "clock_gettime read-only");
	CHECK_EQ(SYS(clock_gettime, CLOCK_MONOTONIC, 0), -EFAULT, "clock_gettime NULL");
	clock_gettime(CLOCK_MONOTONIC, &host);
	SYS(clock_gettime, CLOCK_MONOTONIC, G(0));
	CHECK((int64_t)g64(G(0)) - host.tv_sec <= 1 && g64(G(8)) < 1000000000, "MONOTONIC is the host's");
	CHECK_EQ(SYS(clock_getres, CLOCK_MONOTONIC, 0), 0, "clock_getres NULL res");
	SYS(clock_getres, CLOCK_MONOTONIC_COARSE, G(0));
	clock_getres(CLOCK_MONOTONIC_COARSE, &host);
	CHECK_EQ(g64(G(8)), host.tv_nsec, "coarse resolution is a host tick");
	long hz = ktime_hz();
	SYS(clock_getres, (uint32_t)PROC_CLOCK(0, 0), G(0));
	CHECK_EQ(g64(G(8)), (1000000000 + hz - 1) / hz, "PROF resolution is a tick");
	SYS(clock_getres, (uint32_t)PROC_CLOCK(0, 2), G(0));
	CHECK_EQ(g64(G(8)), 1, "SCHED resolution is 1 ns");

	CHECK_EQ(SYS(gettimeofday, 0, 0), 0, "gettimeofday NULL NULL");
	CHECK_EQ(SYS(gettimeofday, G(0), RO_PAGE), -EFAULT, "gettimeofday bad tz");
	CHECK_EQ(SYS(gettimeofday, RO_PAGE, 0), -EFAULT, "gettimeofday bad tv");
	memset(gp(G(0)), 0xff, 32);
	CHECK_EQ(SYS(gettimeofday, G(0), G(16)), 0, "gettimeofday");
	CHECK(g64(G(0)) >= (uint64_t)time(NULL) - 1 && g64(G(8)) < 1000000 && g64(G(16)) == 0,
	      "gettimeofday values, tz zero");
	long t = SYS(time, 0);
	CHECK(t >= time(NULL) - 1 && t <= time(NULL), "time(NULL)");
	CHECK_EQ(SYS(time, RO_PAGE), -EFAULT, "time read-only");

	/* clock_nanosleep: Linux's order of checks. */
	put_ts(G(0), 0, 0);
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, BAD, 0), -EOPNOTSUPP, "nsleep RAW");
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, G(0), 0), -EOPNOTSUPP, "nsleep THREAD_CPUTIME");
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_REALTIME_COARSE, 0, G(0), 0), -EOPNOTSUPP, "nsleep COARSE");
	CHECK_EQ(SYS(clock_nanosleep, 10, 0, G(0), 0), -EINVAL, "nsleep clock 10");
	CHECK_EQ(SYS(clock_nanosleep, (uint32_t)PROC_CLOCK(0, 3), 0, G(0), 0), -EOPNOTSUPP, "nsleep clock fd");
	CHECK_EQ(SYS(clock_nanosleep, (uint32_t)THREAD_CLOCK(0, 2), 0, BAD, 0), -EFAULT, "nsleep own thread, bad req");
	CHECK_EQ(SYS(clock_nanosleep, (uint32_t)THREAD_CLOCK(0, 2), 0, G(0), 0), -EINVAL, "nsleep own thread clock");
	CHECK_EQ(SYS(clock_nanosleep, (uint32_t)PROC_CLOCK(99, 2), 0, BAD, 0), -EFAULT, "nsleep unknown pid, bad req");
	CHECK_EQ(SYS(clock_nanosleep, (uint32_t)PROC_CLOCK(99, 2), 0, G(0), 0), -EINVAL, "nsleep unknown pid");
	CHECK_EQ(SYS(clock_nanosleep, (uint32_t)PROC_CLOCK(0, 2), 0, G(0), 0), 0, "nsleep own process 0");
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 1, G(0), 0), 0, "nsleep process abs past");
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_REALTIME, 0, BAD, 0), -EFAULT, "nsleep bad req");
	put_ts(G(0), 0, -1);
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_REALTIME, 0, G(0), 0), -EINVAL, "nsleep nsec -1");
	put_ts(G(0), 0, 1000000000);
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_REALTIME, 0, G(0), 0), -EINVAL, "nsleep nsec 1e9");
	put_ts(G(0), -1, 0);
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_REALTIME, 1, G(0), 0), -EINVAL, "nsleep sec -1");
	put_ts(G(0), 0, 0);
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_MONOTONIC, 2, G(0), 0), 0, "nsleep other flag bits ignored");
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_REALTIME, 1, G(0), BAD), 0, "nsleep abs past");
	long alarm_want = clock_getres(CLOCK_REALTIME_ALARM, &host) ? -EOPNOTSUPP : -EPERM;
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_BOOTTIME_ALARM, 0, G(0), 0), alarm_want, "nsleep alarm like the host");
	put_ts(G(0), 0, 20000000);
	double t0 = now_mono();
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_BOOTTIME, 0, G(0), 0), 0, "nsleep 20 ms");
	CHECK(now_mono() - t0 >= 0.020, "slept 20 ms");
	clock_gettime(CLOCK_REALTIME, &host);
	put_ts(G(0), host.tv_sec, host.tv_nsec);
	((int64_t *)gp(G(0)))[1] += 20000000;
	if (((int64_t *)gp(G(0)))[1] >= 1000000000) {
		((int64_t *)gp(G(0)))[0]++;
		((int64_t *)gp(G(0)))[1] -= 1000000000;
	}
	t0 = now_mono();
	CHECK_EQ(SYS(clock_nanosleep, CLOCK_REALTIME, 1, G(0), 0), 0, "nsleep until REALTIME + 20 ms");
	CHECK(now_mono() - t0 >= 0.015, "slept until the deadline");

	put_ts(G(0), 0, 10000000);
	t0 = now_mono();
	CHECK_EQ(SYS(nanosleep, G(0), BAD), 0, "nanosleep, rmtp unused");
	CHECK(now_mono() - t0 >= 0.010, "nanosleep slept 10 ms");
	CHECK_EQ(SYS(nanosleep, BAD, 0), -EFAULT, "nanosleep bad req");
	put_ts(G(0), 1, 1000000000);
	CHECK_EQ(SYS(nanosleep, G(0), 0), -EINVAL, "nanosleep nsec 1e9");
}

/* ---- limits, usage, CPUs, priorities ------------------------------------- */

static void test_limits(void)
{
	struct rlimit host, *rl = gp(G(0));
	getrlimit(RLIMIT_NOFILE, &host);
	CHECK_EQ(SYS(getrlimit, RLIM_NLIMITS, G(0)), -EINVAL, "getrlimit RLIM_NLIMITS");
	CHECK_EQ(SYS(getrlimit, RLIMIT_NOFILE, G(0)), 0, "getrlimit NOFILE");
	CHECK(rl->rlim_cur == host.rlim_cur && rl->rlim_max == host.rlim_max, "NOFILE is the host's");
	CHECK_EQ(SYS(getrlimit, RLIMIT_NOFILE, RO_PAGE), -EFAULT, "getrlimit read-only");
	CHECK_EQ(SYS(setrlimit, 99, BAD), -EFAULT, "setrlimit copies first");
	CHECK_EQ(SYS(setrlimit, 99, G(0)), -EINVAL, "setrlimit bad resource");
	*rl = (struct rlimit){ 10, 5 };
	CHECK_EQ(SYS(setrlimit, RLIMIT_CORE, G(0)), -EINVAL, "setrlimit soft > hard");
	proc.rlimits[RLIMIT_CORE] = (struct rlimit){ 100, 1000 };
	*rl = (struct rlimit){ 10, 100 };
	CHECK_EQ(SYS(setrlimit, RLIMIT_CORE, G(0)), 0, "setrlimit lower");
	*rl = (struct rlimit){ 10, 101 };
	CHECK_EQ(SYS(setrlimit, RLIMIT_CORE, G(0)), -EPERM, "setrlimit raise hard");
	proc.uid = 0;
	proc.ext.caps.eff = ~0ULL; /* root's capabilities (CAP_SYS_RESOURCE) */
	CHECK_EQ(SYS(setrlimit, RLIMIT_CORE, G(0)), 0, "setrlimit raise hard as root");
	*rl = (struct rlimit){ 10, 2000000 };
	CHECK_EQ(SYS(setrlimit, RLIMIT_NOFILE, G(0)), -EPERM, "NOFILE above nr_open, even root");
	proc.uid = 1000;
	proc.ext.caps.eff = 0;
	CHECK_EQ(SYS(prlimit64, 0, RLIMIT_CORE, 0, G(16)), 0, "prlimit64 read");
	CHECK(g64(G(16)) == 10 && g64(G(24)) == 101, "prlimit64 old value");
	CHECK_EQ(SYS(prlimit64, 99999, RLIMIT_CORE, 0, G(16)), -ESRCH, "prlimit64 unknown pid");
	CHECK_EQ(SYS(prlimit64, -1, RLIMIT_CORE, 0, G(16)), -ESRCH, "prlimit64 pid -1");
	CHECK_EQ(SYS(prlimit64, 99999, RLIMIT_CORE, BAD, G(16)), -EFAULT, "prlimit64 copies new first");
	CHECK_EQ(SYS(prlimit64, 7, 99, 0, G(16)), -EINVAL, "prlimit64 bad resource");
	*rl = (struct rlimit){ 5, 50 };
	CHECK_EQ(SYS(prlimit64, 9, RLIMIT_CORE, G(0), RO_PAGE), -EFAULT, "prlimit64 bad old");
	CHECK_EQ(rlimit_cur(&proc, RLIMIT_CORE), 5, "... but the new limit is set");

	CHECK_EQ(SYS(getrusage, -2, G(0)), -EINVAL, "getrusage -2");
	CHECK_EQ(SYS(getrusage, 2, G(0)), -EINVAL, "getrusage 2");
	CHECK_EQ(SYS(getrusage, RUSAGE_CHILDREN, G(0)), 0, "getrusage children");
	CHECK_EQ(SYS(getrusage, RUSAGE_THREAD, RO_PAGE), -EFAULT, "getrusage read-only");
	struct tms tms;
	long ticks = SYS(times, 0), host_ticks = (long)times(&tms);
	CHECK(labs(ticks - host_ticks) <= 2, "times() counts like the host's (%ld vs %ld)", ticks, host_ticks);
	CHECK_EQ(SYS(times, RO_PAGE), -EFAULT, "times read-only");

	cpu_set_t set;
	sched_getaffinity(0, sizeof set, &set);
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	long bytes = syscall(SYS_sched_getaffinity, 0, sizeof set, &set); /* the host's cpumask size */
	CHECK_EQ(SYS(sched_getaffinity, 0, 0, G(0)), -EINVAL, "getaffinity len 0");
	CHECK_EQ(SYS(sched_getaffinity, 0, 4, G(0)), -EINVAL, "getaffinity len 4");
	CHECK_EQ(SYS(sched_getaffinity, 0, 12, G(0)), -EINVAL, "getaffinity len 12");
	CHECK_EQ(SYS(sched_getaffinity, 0, 0x20000000, G(0)), -EINVAL, "getaffinity len * 8 wraps");
	CHECK_EQ(SYS(sched_getaffinity, 0, 1024, G(0)), bytes, "getaffinity returns the mask size");
	CHECK(g64(G(0)) == (uint64_t)set.__bits[0], "getaffinity mask is the host's");
	CHECK_EQ(SYS(sched_getaffinity, 99999, 1024, BAD), -ESRCH, "getaffinity unknown pid");
	CHECK_EQ(SYS(sched_getaffinity, 7, 1024, RO_PAGE), -EFAULT, "getaffinity read-only");
	memset(gp(G(0)), 0, 16);
	CHECK_EQ(SYS(sched_setaffinity, 0, 8, G(0)), -EINVAL, "setaffinity empty");
	CHECK_EQ(SYS(sched_setaffinity, 0, 0, BAD), -EINVAL, "setaffinity len 0");
	CHECK_EQ(SYS(sched_setaffinity, 0, 8, BAD), -EFAULT, "setaffinity bad mask");
	CHECK_EQ(SYS(sched_setaffinity, 99999, 8, BAD), -EFAULT, "setaffinity copies first");
	CHECK_EQ(SYS(sched_setaffinity, 99999, 8, G(0)), -ESRCH, "setaffinity unknown pid");
	put(G(0), &set.__bits[0], 8);
	CHECK_EQ(SYS(sched_setaffinity, 0, 3, G(0)), 0, "setaffinity 3 bytes");
	CHECK_EQ(SYS(sched_yield), 0, "sched_yield");
	CHECK_EQ(SYS(getcpu, G(0), G(4), 0), 0, "getcpu");
	CHECK(g32(G(0)) < (uint32_t)ncpu, "getcpu cpu");
	CHECK_EQ(SYS(getcpu, RO_PAGE, G(4), 0), -EFAULT, "getcpu bad cpu");
	CHECK_EQ(SYS(getcpu, 0, 0, 0), 0, "getcpu NULL NULL");

	CHECK_EQ(SYS(sched_getscheduler, -1), -EINVAL, "getscheduler -1");
	CHECK_EQ(SYS(sched_getscheduler, 99999), -ESRCH, "getscheduler unknown");
	CHECK_EQ(SYS(sched_getscheduler, 0), SCHED_OTHER, "getscheduler");
	CHECK_EQ(SYS(sched_getparam, 0, 0), -EINVAL, "getparam NULL");
	CHECK_EQ(SYS(sched_getparam, -1, G(0)), -EINVAL, "getparam -1");
	CHECK_EQ(SYS(sched_getparam, 0, RO_PAGE), -EFAULT, "getparam read-only");
	CHECK_EQ(SYS(sched_getparam, 99999, RO_PAGE), -ESRCH, "getparam unknown first");
	CHECK_EQ(SYS(sched_get_priority_max, SCHED_FIFO), 99, "priority max FIFO");
	CHECK_EQ(SYS(sched_get_priority_min, SCHED_RR), 1, "priority min RR");
	CHECK_EQ(SYS(sched_get_priority_max, 7), 0, "priority max SCHED_EXT");
	CHECK_EQ(SYS(sched_get_priority_max, 4), -EINVAL, "priority max 4");
	CHECK_EQ(SYS(sched_get_priority_min, -1), -EINVAL, "priority min -1");

	CHECK_EQ(SYS(getpriority, PRIO_PROCESS, 0), 20, "getpriority is 20 - nice");
	CHECK_EQ(SYS(getpriority, 3, 0), -EINVAL, "getpriority which 3");
	CHECK_EQ(SYS(getpriority, -1, 0), -EINVAL, "getpriority which -1");
	CHECK_EQ(SYS(getpriority, PRIO_PROCESS, 99999), -ESRCH, "getpriority unknown");
	CHECK_EQ(SYS(getpriority, PRIO_USER, 12345), -ESRCH, "getpriority other user");
	CHECK_EQ(SYS(getpriority, PRIO_USER, 1000), 20, "getpriority own user");
	CHECK_EQ(SYS(setpriority, PRIO_PROCESS, 0, 5), 0, "setpriority 5");
	CHECK_EQ(SYS(getpriority, PRIO_PGRP, 0), 15, "nice 5");
	CHECK_EQ(SYS(setpriority, PRIO_PROCESS, 0, 100), 0, "setpriority clamps");
	CHECK_EQ(SYS(getpriority, PRIO_PROCESS, 9), 1, "nice 19");
	CHECK_EQ(SYS(setpriority, PRIO_PROCESS, 0, 0), -EACCES, "raising priority needs RLIMIT_NICE");
	proc.rlimits[RLIMIT_NICE].rlim_cur = 20;
	CHECK_EQ(SYS(setpriority, PRIO_PROCESS, 0, 0), 0, "... and RLIMIT_NICE 20 allows nice 0");
	CHECK_EQ(SYS(setpriority, 3, 0, 0), -EINVAL, "setpriority which 3");
	CHECK_EQ(SYS(setpriority, PRIO_PROCESS, 99999, 0), -ESRCH, "setpriority unknown");
}

/* ---- signal state ------------------------------------------------------------ */

static void test_sigstate(void)
{
	const uint64_t kill_stop = (1ULL << 8) | (1ULL << 18);
	uint64_t act[4] = { 1, ~0ULL, 0x1234, ~0ULL };
	put(G(0), act, sizeof act);
	CHECK_EQ(SYS(rt_sigaction, 10, G(0), 0, 8), 0, "sigaction all flags");
	CHECK_EQ(SYS(rt_sigaction, 10, 0, G(64), 8), 0, "sigaction query");
	CHECK(g64(G(64)) == 1 && g64(G(72)) == 0xdc000807 && g64(G(80)) == 0x1234 &&
	      g64(G(88)) == ~kill_stop, "flags masked to Linux's, KILL and STOP not blockable");
	CHECK_EQ(SYS(rt_sigaction, 0, 0, G(64), 8), -EINVAL, "sigaction 0");
	CHECK_EQ(SYS(rt_sigaction, 65, 0, G(64), 8), -EINVAL, "sigaction 65");
	CHECK_EQ(SYS(rt_sigaction, 64, 0, G(64), 8), 0, "sigaction 64");
	CHECK_EQ(SYS(rt_sigaction, 9, G(0), 0, 8), -EINVAL, "sigaction KILL");
	CHECK_EQ(SYS(rt_sigaction, 19, G(0), 0, 8), -EINVAL, "sigaction STOP");
	CHECK_EQ(SYS(rt_sigaction, 9, 0, G(64), 8), 0, "sigaction KILL query");
	CHECK_EQ(SYS(rt_sigaction, 10, 0, G(64), 4), -EINVAL, "sigaction sigsetsize 4");
	CHECK_EQ(SYS(rt_sigaction, 99, BAD, 0, 8), -EFAULT, "sigaction copies act first");
	CHECK_EQ(SYS(rt_sigaction, 99, 0, BAD, 8), -EINVAL, "sigaction bad sig before oact");
	CHECK_EQ(SYS(rt_sigaction, 0x10000000cUL, 0, G(64), 8), 0, "sig is an int");
	act[0] = 2;
	put(G(0), act, sizeof act);
	CHECK_EQ(SYS(rt_sigaction, 12, G(0), RO_PAGE, 8), -EFAULT, "sigaction bad oact");
	CHECK_EQ(proc.sighand->action[11].handler, 2, "... but the action is set");

	uint64_t all = ~0ULL;
	put(G(0), &all, 8);
	CHECK_EQ(SYS(rt_sigprocmask, 5, 0, G(8), 8), 0, "sigprocmask bad how, no set");
	CHECK_EQ(SYS(rt_sigprocmask, 5, G(0), G(8), 8), -EINVAL, "sigprocmask bad how");
	CHECK_EQ(SYS(rt_sigprocmask, SIG_BLOCK, G(0), 0, 8), 0, "sigprocmask block all");
	CHECK_EQ(th.sigmask, ~kill_stop, "KILL and STOP dropped");
	CHECK_EQ(SYS(rt_sigprocmask, SIG_UNBLOCK, G(0), G(8), 8), 0, "sigprocmask unblock all");
	CHECK(th.sigmask == 0 && g64(G(8)) == ~kill_stop, "old mask reported");
	CHECK_EQ(SYS(rt_sigprocmask, SIG_SETMASK, 0, 0, 4), -EINVAL, "sigprocmask size 4");
	CHECK_EQ(SYS(rt_sigprocmask, 9, BAD, 0, 8), -EFAULT, "sigprocmask bad set");
	CHECK_EQ(SYS(rt_sigprocmask, 9, 0, RO_PAGE, 8), -EFAULT, "sigprocmask bad oset");
	CHECK_EQ(SYS(rt_sigpending, G(0), 9), -EINVAL, "sigpending size 9");
	CHECK_EQ(SYS(rt_sigpending, BAD, 0), 0, "sigpending size 0");
	CHECK_EQ(SYS(rt_sigpending, G(0), 4), 0, "sigpending size 4");
	CHECK_EQ(SYS(rt_sigpending, RO_PAGE, 8), -EFAULT, "sigpending read-only");

	/* sigaltstack; stack_t is {sp, flags (int), size}. */
#define SS(sp, flags, size) do { uint64_t s_[3] = { (sp), (uint32_t)(flags), (size) }; \
	put(G(0), s_, sizeof s_); } while (0)
	SS(0, 0, 0);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), 0, "{0, 0, 0} on a fresh thread: no change");
	SS(G(4096), 0, 1000);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), -ENOMEM, "altstack < MINSIGSTKSZ");
	SS(G(4096), 4, 4096);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), -EINVAL, "altstack flags 4");
	SS(G(4096), 3, 4096);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), -EINVAL, "altstack flags 3");
	SS(G(4096), SS_DISABLE, 5);
	CHECK_EQ(SYS(sigaltstack, G(0), G(32)), 0, "altstack disable");
	CHECK(g64(G(32)) == 0 && g32(G(40)) == SS_DISABLE && g64(G(48)) == 0, "old: disabled");
	SS(0, 0, 0);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), -ENOMEM, "{0, 0, 0} after a disable");
	SS(0, SS_DISABLE | (1U << 31), 0);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), 0, "disable with AUTODISARM");
	CHECK_EQ(SYS(sigaltstack, 0, G(32)), 0, "query");
	CHECK_EQ(g32(G(40)), SS_DISABLE | (1U << 31), "AUTODISARM reported");
	SS(G(4096), 0, 2047);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), -ENOMEM, "altstack 2047");
	SS(G(4096), SS_ONSTACK, 2048);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), 0, "altstack 2048, SS_ONSTACK mode");
	CHECK_EQ(SYS(sigaltstack, 0, G(32)), 0, "query");
	CHECK(g64(G(32)) == G(4096) && g32(G(40)) == 0 && g64(G(48)) == 2048, "old: set, not on it");
	th.regs.rsp = G(4096) + 100;
	CHECK_EQ(SYS(sigaltstack, 0, G(32)), 0, "query on the stack");
	CHECK_EQ(g32(G(40)), SS_ONSTACK, "SS_ONSTACK while on it");
	SS(0, SS_DISABLE, 0);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), -EPERM, "change while on it");
	th.regs.rsp = G(4096);
	CHECK_EQ(SYS(sigaltstack, 0, G(32)), 0, "query at the stack's base");
	CHECK_EQ(g32(G(40)), 0, "sp == ss_sp is not on it");
	SS(G(4096), 1U << 31, 4096);
	CHECK_EQ(SYS(sigaltstack, G(0), 0), 0, "altstack with AUTODISARM");
	th.regs.rsp = G(4096) + 100;
	CHECK_EQ(SYS(sigaltstack, 0, G(32)), 0, "query, autodisarmed");
	CHECK_EQ(g32(G(40)), 1U << 31, "AUTODISARM: never on it");
	CHECK_EQ(SYS(sigaltstack, BAD, 0), -EFAULT, "altstack bad ss");
	CHECK_EQ(SYS(sigaltstack, 0, RO_PAGE), -EFAULT, "altstack bad old");
	th.regs.rsp = 0;
}

/* ---- getrandom -------------------------------------------------------------- */

static void test_random(void)
{
	memset(gp(G(0)), 0, 64);
	CHECK_EQ(SYS(getrandom, G(0), 64, 0), 64, "getrandom 64");
	int nonzero = 0;
	for (int i = 0; i < 64; i++)
		nonzero += ((unsigned char *)gp(G(0)))[i] != 0;
	CHECK(nonzero > 32, "getrandom filled the buffer");
	CHECK_EQ(SYS(getrandom, G(0), 8, 8), -EINVAL, "getrandom flag 8");
	CHECK_EQ(SYS(getrandom, G(0), 8, 6), -EINVAL, "getrandom INSECURE|RANDOM");
	CHECK_EQ(SYS(getrandom, G(0), 8, 0x100000000UL), 8, "flags are an unsigned int");
	CHECK_EQ(SYS(getrandom, G(0), 8, 7 & ~2), 8, "getrandom NONBLOCK|INSECURE");
	CHECK_EQ(SYS(getrandom, BAD, 8, 0), -EFAULT, "getrandom bad buffer");
	CHECK_EQ(SYS(getrandom, HOLE, 8, 0), -EFAULT, "getrandom into a hole");
	CHECK_EQ(SYS(getrandom, BAD, 0, 0), 0, "getrandom length 0");
	CHECK_EQ(SYS(getrandom, 0x7ffffffff000UL, 0, 0), 0, "length 0 at the top of user space");
	CHECK_EQ(SYS(getrandom, 0x7ffffffff001UL, 0, 0), -EFAULT, "length 0 above it");
	CHECK_EQ(SYS(getrandom, 0xffff800000000000UL, 0, 0), -EFAULT, "length 0, kernel address");
	CHECK_EQ(SYS(getrandom, RO_PAGE - 10, 100, 0), 10, "short count up to the read-only page");
	CHECK_EQ(SYS(getrandom, G(0), 1UL << 62, 0), 2 * PAGE_SIZE, "huge length: capped, short");
	CHECK_EQ(SYS(getrandom, 0x7ffffffff000UL - 10, 100, 0), -EFAULT, "range past user space");
}

int main(void)
{
	CHECK_EQ(memfile_init(), 0, "memfile_init");
	mm = mm_new(NULL);
	CHECK_EQ(mm_mmap_anon(mm, GBASE, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_FIXED, VMA_ANON), GBASE, "writable pages");
	CHECK_EQ(mm_mmap_anon(mm, RO_PAGE, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, VMA_ANON),
		 RO_PAGE, "read-only page");
	proc.mm = mm;
	proc.pid = 7;
	static struct process parent = { .pid = 3 };
	proc.parent = &parent;
	proc.pgid = proc.sid = 7;
	proc.uid = proc.ruid = proc.suid = proc.fsuid = 1000;
	proc.gid = proc.rgid = proc.sgid = proc.fsgid = 1001;
	static struct fs_struct fs = { .umask = 022 };
	pthread_mutex_init(&fs.lock, NULL);
	atomic_init(&fs.refs, 1);
	th.fs = &fs;
	pthread_mutex_init(&proc.lock, NULL);
	proc.sighand = sighand_new();
	rlimits_init_default(proc.rlimits);
	proc.rlimits[RLIMIT_NICE].rlim_cur = 0;
	th.tid = 9;
	th.proc = &proc;
	proc.thread = proc.threads = &th;
	proc.nr_threads = 1;
	current = &th;

	test_info();
	test_time();
	test_limits();
	test_sigstate();
	test_random();
	CHECK_DONE();
}
