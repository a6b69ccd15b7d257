/* Process and system information: uname, ids, clocks (vDSO and raw),
 * nanosleep, getrandom, resource limits, CPU affinity, umask, prctl
 * names, arch_prctl. Only stable facts are printed. */
#include "util.h"
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

#ifndef ARCH_GET_FS
#define ARCH_GET_FS 0x1003
#endif
#ifndef GRND_NONBLOCK
#define GRND_NONBLOCK 1
#define GRND_RANDOM 2
#endif

static long long ns(struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static __thread int tls_var = 42;

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("-- uname\n");
	struct utsname u;
	res("uname", rsys(SYS_uname, &u));
	printf("sysname: %s\nmachine: %s\n", u.sysname, u.machine);
	expect(strlen(u.release) > 0 && strchr(u.release, '.'), "release looks like a version");
	expect(strlen(u.nodename) > 0, "nodename not empty");

	printf("-- ids\n");
	long pid = rsys(SYS_getpid);
	expect(pid > 0, "getpid > 0");
	expect(rsys(SYS_gettid) == pid, "gettid == getpid (one thread)");
	expect(getpid() == pid, "libc getpid agrees");
	expect(rsys(SYS_getppid) >= 0, "getppid >= 0");
	expect(rsys(SYS_set_tid_address, (int[1]){0}) == pid, "set_tid_address returns the tid");
	resv("getuid", rsys(SYS_getuid));
	resv("getgid", rsys(SYS_getgid));
	expect(rsys(SYS_geteuid) == rsys(SYS_getuid), "euid == uid");
	expect(rsys(SYS_getegid) == rsys(SYS_getgid), "egid == gid");
	unsigned r1, r2, r3;
	res("getresuid", rsys(SYS_getresuid, &r1, &r2, &r3));
	expect(r1 == getuid() && r2 == getuid() && r3 == getuid(), "getresuid all equal");
	expect(rsys(SYS_getpgid, 0) >= 0, "getpgid(0) >= 0 (0 when the group leader is outside our pid namespace)");
	expect(rsys(SYS_getsid, 0) >= 0, "getsid(0) >= 0 (0 when the session leader is outside our pid namespace)");
	res("getpgid of a missing pid", rsys(SYS_getpgid, 0x3ffffff0));

	printf("-- clocks\n");
	struct timespec a, b, res_ts;
	int mono_ok = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 20000; i++) {
		if (i % 2)
			clock_gettime(CLOCK_MONOTONIC, &b);          /* vDSO */
		else
			rsys(SYS_clock_gettime, CLOCK_MONOTONIC, &b); /* trap */
		if (ns(&b) < ns(&a))
			mono_ok = 0;
		a = b;
	}
	expect(mono_ok, "CLOCK_MONOTONIC never goes back (vDSO and syscall interleaved)");
	const int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
		CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
		CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID };
	const char *cname[] = { "REALTIME", "MONOTONIC", "MONOTONIC_RAW", "REALTIME_COARSE",
		"MONOTONIC_COARSE", "BOOTTIME", "PROCESS_CPUTIME", "THREAD_CPUTIME" };
	for (int i = 0; i < 8; i++) {
		char lbl[64];
		snprintf(lbl, sizeof lbl, "clock_gettime %s", cname[i]);
		long r = rsys(SYS_clock_gettime, clocks[i], &a);
		res(lbl, r);
		if (r == 0)
			expect(a.tv_nsec >= 0 && a.tv_nsec < 1000000000 && (a.tv_sec > 0 || a.tv_nsec > 0),
			       "%s value is sane", cname[i]);
	}
	rsys(SYS_clock_getres, CLOCK_MONOTONIC, &res_ts);
	printf("clock_getres MONOTONIC: %ld.%09ld\n", (long)res_ts.tv_sec, res_ts.tv_nsec);
	rsys(SYS_clock_getres, CLOCK_REALTIME, &res_ts);
	printf("clock_getres REALTIME: %ld.%09ld\n", (long)res_ts.tv_sec, res_ts.tv_nsec);
	res("clock_gettime bad clock", rsys(SYS_clock_gettime, 12345, &a));
	res("clock_getres bad clock", rsys(SYS_clock_getres, -100, &a));
	rsys(SYS_clock_gettime, CLOCK_REALTIME, &a);
	expect(a.tv_sec > 1600000000, "CLOCK_REALTIME after 2020");
	struct timeval tv;
	res("gettimeofday", rsys(SYS_gettimeofday, &tv, 0));
	expect(tv.tv_sec - a.tv_sec <= 2 && tv.tv_sec >= a.tv_sec, "gettimeofday agrees with CLOCK_REALTIME");
	long t = rsys(SYS_time, 0);
	/* time() reads the coarse clock, which may lag a tick behind. */
	expect(t - a.tv_sec <= 2 && t >= a.tv_sec - 1, "time() agrees with CLOCK_REALTIME");
	gettimeofday(&tv, 0);
	expect(tv.tv_sec - a.tv_sec <= 2, "libc gettimeofday (vDSO) agrees");

	printf("-- sleeping\n");
	struct timespec d = { 0, 1000000 };
	clock_gettime(CLOCK_MONOTONIC, &a);
	res("nanosleep 1 ms", rsys(SYS_nanosleep, &d, 0));
	clock_gettime(CLOCK_MONOTONIC, &b);
	long long el = ns(&b) - ns(&a);
	expect(el >= 1000000 && el < 1000000000LL, "slept at least 1 ms and less than 1 s");
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += 2000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	res("clock_nanosleep MONOTONIC ABSTIME +2 ms", rsys(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &until, 0));
	clock_gettime(CLOCK_MONOTONIC, &b);
	expect(ns(&b) >= ns(&until), "woke after the deadline");
	struct timespec bad1 = { 0, 1000000000 }, bad2 = { -1, 0 }, zero = { 0, 0 }, past = { 0, 1 };
	res("nanosleep tv_nsec = 1e9", rsys(SYS_nanosleep, &bad1, 0));
	res("nanosleep negative", rsys(SYS_nanosleep, &bad2, 0));
	res("nanosleep 0", rsys(SYS_nanosleep, &zero, 0));
	res("clock_nanosleep bad clock", rsys(SYS_clock_nanosleep, 12345, 0, &d, 0));
	res("clock_nanosleep in the past", rsys(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &past, 0));
	res("sched_yield", rsys(SYS_sched_yield));

	printf("-- getrandom\n");
	unsigned char r_a[32] = { 0 }, r_b[32] = { 0 };
	resv("getrandom 32", rsys(SYS_getrandom, r_a, 32, 0));
	resv("getrandom 32 NONBLOCK", rsys(SYS_getrandom, r_b, 32, GRND_NONBLOCK));
	int nz = 0;
	for (int i = 0; i < 32; i++)
		nz |= r_a[i];
	expect(nz, "random bytes are not all zero");
	expect(memcmp(r_a, r_b, 32) != 0, "two draws differ");
	static unsigned char bigr[1 << 20];
	resv("getrandom 1 MiB", rsys(SYS_getrandom, bigr, sizeof bigr, 0));
	resv("getrandom RANDOM|NONBLOCK 16", rsys(SYS_getrandom, r_a, 16, GRND_RANDOM | GRND_NONBLOCK) > 0);
	res("getrandom bad flags", rsys(SYS_getrandom, r_a, 16, 0x100));

	printf("-- limits\n");
	struct rlimit rl, pl, ql;
	res("getrlimit NOFILE", rsys(SYS_getrlimit, RLIMIT_NOFILE, &rl));
	res("prlimit64 NOFILE", rsys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &pl));
	res("prlimit64 NOFILE by own pid", rsys(SYS_prlimit64, pid, RLIMIT_NOFILE, 0, &ql));
	expect(rl.rlim_cur == pl.rlim_cur && rl.rlim_max == pl.rlim_max &&
	       ql.rlim_cur == pl.rlim_cur && ql.rlim_max == pl.rlim_max, "NOFILE limits agree");
	expect(rl.rlim_cur <= rl.rlim_max && rl.rlim_cur >= 3, "NOFILE soft <= hard and >= 3");
	struct rlimit nl = { 64, rl.rlim_max };
	res("setrlimit NOFILE soft 64", rsys(SYS_setrlimit, RLIMIT_NOFILE, &nl));
	rsys(SYS_getrlimit, RLIMIT_NOFILE, &pl);
	resv("NOFILE soft now", (long)pl.rlim_cur);
	nl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? RLIM_INFINITY : rl.rlim_max + 1;
	nl.rlim_max = rl.rlim_max;
	if (rl.rlim_max != RLIM_INFINITY)
		res("setrlimit soft > hard", rsys(SYS_setrlimit, RLIMIT_NOFILE, &nl));
	else
		printf("setrlimit soft > hard: EINVAL\n");
	res("restore NOFILE", rsys(SYS_setrlimit, RLIMIT_NOFILE, &rl));
	res("getrlimit bad resource", rsys(SYS_getrlimit, 1000, &rl));
	res("prlimit64 bad resource", rsys(SYS_prlimit64, 0, 1000, 0, &rl));
	res("prlimit64 missing pid", rsys(SYS_prlimit64, 0x3ffffff0, RLIMIT_NOFILE, 0, &rl));
	res("getrlimit STACK", rsys(SYS_getrlimit, RLIMIT_STACK, &rl));
	expect(rl.rlim_cur >= 65536, "stack limit at least 64 KiB");
	res("getrusage SELF", rsys(SYS_getrusage, RUSAGE_SELF, &(struct rusage){ 0 }));

	printf("-- affinity\n");
	cpu_set_t set;
	CPU_ZERO(&set);
	long r = rsys(SYS_sched_getaffinity, 0, sizeof set, &set);
	expect(r > 0 && r % 8 == 0, "sched_getaffinity returns a size in longs");
	expect(CPU_COUNT(&set) >= 1, "at least one CPU allowed");
	res("sched_getaffinity size 1", rsys(SYS_sched_getaffinity, 0, 1, &set));
	res("sched_getaffinity size 12 (not a multiple of 8)", rsys(SYS_sched_getaffinity, 0, 12, &set));
	res("sched_getaffinity missing pid", rsys(SYS_sched_getaffinity, 0x3ffffff0, sizeof set, &set));
	expect(sysconf(_SC_NPROCESSORS_ONLN) >= 1, "sysconf NPROCESSORS_ONLN >= 1");
	unsigned cpu = 12345, node = 12345;
	res("getcpu", rsys(SYS_getcpu, &cpu, &node, 0));
	expect(cpu < 4096, "getcpu gives a CPU number");

	printf("-- misc\n");
	rsys(SYS_umask, 022);
	resv("umask(077) returns the old mask", rsys(SYS_umask, 077));
	resv("umask(022) returns 077", rsys(SYS_umask, 022));
	char name[32] = { 0 };
	res("prctl PR_GET_NAME", rsys(SYS_prctl, PR_GET_NAME, name));
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	expect(strncmp(name, base, 15) == 0 && strlen(name) == (strlen(base) < 15 ? strlen(base) : 15),
	       "comm is the program's base name, cut to 15 bytes");
	res("prctl PR_SET_NAME", rsys(SYS_prctl, PR_SET_NAME, "cocoon-test-name-long"));
	rsys(SYS_prctl, PR_GET_NAME, name);
	printf("name now: %s\n", name);
	res("prctl bad option", rsys(SYS_prctl, 0x7fff0000, 0, 0, 0, 0));
	unsigned long fs = 0;
	res("arch_prctl ARCH_GET_FS", rsys(SYS_arch_prctl, ARCH_GET_FS, &fs));
	expect(fs != 0 && tls_var == 42, "FS base is set and TLS works");
	res("arch_prctl bad code", rsys(SYS_arch_prctl, 0x9999, 0));
	(void)argc;
	return expect_failures ? 1 : 0;
}
