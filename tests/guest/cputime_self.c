/* CPU time of the calling process and thread: getrusage, times, clock(),
 * the CPU clocks (fixed ids, clock_getcpuclockid, pthread_getcpuclockid,
 * Linux's pid/tid encoding and its EINVAL/ESRCH rules), clock_getres,
 * /proc/self/stat's utime and stime. Busy work is measured by the
 * process clock itself, so only relations are printed. */
#include "proc_util.h"
#include <pthread.h>
#include <sys/resource.h>
#include <sys/times.h>

#define MS 1000000LL

static long long clk_ns(clockid_t c)
{
	struct timespec ts = { 0, 0 };
	if (clock_gettime(c, &ts))
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_ns(struct timeval tv)
{
	return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

static volatile unsigned long sink;

/* Pure user-mode work until the process clock has advanced by ns (or 30
 * seconds of wall time went by). */
static void burn(long long ns)
{
	long long start = clk_ns(CLOCK_PROCESS_CPUTIME_ID), wall = clk_ns(CLOCK_MONOTONIC);
	while (clk_ns(CLOCK_PROCESS_CPUTIME_ID) - start < ns && clk_ns(CLOCK_MONOTONIC) - wall < 30000 * MS)
		for (int i = 0; i < 200000; i++)
			sink += i * 7;
}

/* System-call work for ns of process CPU time. */
static void syscalls(long long ns)
{
	long long start = clk_ns(CLOCK_PROCESS_CPUTIME_ID), wall = clk_ns(CLOCK_MONOTONIC);
	while (clk_ns(CLOCK_PROCESS_CPUTIME_ID) - start < ns && clk_ns(CLOCK_MONOTONIC) - wall < 30000 * MS)
		for (int i = 0; i < 200; i++)
			rsys(SYS_getppid);
}

/* utime + stime (ticks) of a /proc stat file. */
static long long stat_ticks(const char *path)
{
	char buf[1024];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* The space before field 14 (utime): the ')' ends field 2. */
	char *s = strrchr(buf, ')');
	for (int field = 3; s && field <= 14; field++)
		s = strchr(s + 1, ' ');
	if (!s)
		return -1;
	char *end;
	long long ut = strtoll(s, &end, 10), st = strtoll(end, NULL, 10);
	return ut + st;
}

static void times_and_usage(void)
{
	struct rusage r0, r1, th;
	getrusage(RUSAGE_SELF, &r0);
	long long p0 = clk_ns(CLOCK_PROCESS_CPUTIME_ID);
	burn(200 * MS);
	long long t1 = clk_ns(CLOCK_THREAD_CPUTIME_ID);
	long long p1 = clk_ns(CLOCK_PROCESS_CPUTIME_ID);
	getrusage(RUSAGE_THREAD, &th);
	getrusage(RUSAGE_SELF, &r1);
	expect(p1 - p0 >= 200 * MS, "the process clock advanced by 200 ms of busy work");
	expect(tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime) >= 100 * MS, "user time grew by at least 100 ms");
	expect(tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime) < 100 * MS, "system time grew by less than 100 ms");
	expect(t1 <= p1, "thread clock <= process clock (one thread)");
	expect(t1 >= p1 - 50 * MS, "thread clock close to the process clock (one thread)");
	/* Linux splits each one's run time into user and system by its own
	 * tick samples, taken at slightly different times: up to 20 ms
	 * apart, as below (natively the thread's user time was seen above
	 * the process's). */
	expect(tv_ns(th.ru_utime) <= tv_ns(r1.ru_utime) + 20 * MS, "RUSAGE_THREAD user <= RUSAGE_SELF user");
	long long usage = tv_ns(r1.ru_utime) + tv_ns(r1.ru_stime);
	expect(usage <= p1 + 20 * MS && usage >= p1 - 20 * MS, "getrusage user+system agrees with the process clock");

	struct tms tm;
	clock_t ret = times(&tm);
	expect(ret != (clock_t)-1, "times returns a tick count");
	expect(tm.tms_utime + tm.tms_stime >= 15, "times: user+system >= 15 ticks");
	expect(tm.tms_cutime == 0 && tm.tms_cstime == 0, "times: no children yet");
	expect(clock() >= 200000, "clock() >= 0.2 s");
	long long ticks = stat_ticks("/proc/self/stat");
	expect(ticks >= 15, "/proc/self/stat utime+stime >= 15 ticks");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)rsys(SYS_gettid));
	expect(stat_ticks(path) >= 15, "/proc/self/task/<tid>/stat utime+stime >= 15 ticks");

	/* How system-call time splits is the host's tick sampling: only
	 * the total is checked. */
	struct rusage s0, s1;
	getrusage(RUSAGE_SELF, &s0);
	syscalls(100 * MS);
	getrusage(RUSAGE_SELF, &s1);
	expect(tv_ns(s1.ru_stime) + tv_ns(s1.ru_utime) - tv_ns(s0.ru_stime) - tv_ns(s0.ru_utime) >= 80 * MS,
	       "user+system time grew by about 100 ms of system calls");

	/* Monotonic, read after read. */
	int back = 0;
	long long last = 0, lastt = 0;
	for (int i = 0; i < 2000; i++) {
		long long p = clk_ns(CLOCK_PROCESS_CPUTIME_ID), t = clk_ns(CLOCK_THREAD_CPUTIME_ID);
		back += p < last || t < lastt;
		last = p;
		lastt = t;
	}
	expect(back == 0, "CPU clocks never go back");
}

static void errors(void)
{
	struct rusage ru;
	res("getrusage(99)", rsys(SYS_getrusage, 99, &ru));
	res("getrusage(-2)", rsys(SYS_getrusage, -2, &ru));
	res("getrusage(SELF, bad)", rsys(SYS_getrusage, RUSAGE_SELF, 8));
	res("getrusage(THREAD)", rsys(SYS_getrusage, RUSAGE_THREAD, &ru));
	res("getrusage(CHILDREN)", rsys(SYS_getrusage, RUSAGE_CHILDREN, &ru));
	res("times(bad)", rsys(SYS_times, 8));
	expect(rsys(SYS_times, 0) > 0, "times(NULL) returns the tick count");
}

/* Linux's encoding: ~pid << 3 | perthread << 2 | which. */
static clockid_t cpuclock(int pid, int thread, int which)
{
	return (clockid_t)((~(unsigned)pid << 3) | (thread ? 4 : 0) | which);
}

static void clocks(void)
{
	struct timespec ts;
	res("getres(PROCESS)", rsys(SYS_clock_getres, CLOCK_PROCESS_CPUTIME_ID, &ts));
	printf("  %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	res("getres(THREAD)", rsys(SYS_clock_getres, CLOCK_THREAD_CPUTIME_ID, &ts));
	printf("  %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	res("getres(own PROF)", rsys(SYS_clock_getres, cpuclock(0, 0, 0), &ts));
	struct timespec prof = ts;
	res("getres(own VIRT)", rsys(SYS_clock_getres, cpuclock(0, 0, 1), &ts));
	expect(ts.tv_nsec == prof.tv_nsec && ts.tv_nsec > 1, "PROF and VIRT clocks have a tick's resolution");

	clockid_t c;
	printf("clock_getcpuclockid(0): %s\n", errname(clock_getcpuclockid(0, &c)));
	expect(c == cpuclock(0, 0, 2), "clock_getcpuclockid(0) is pid 0's SCHED clock");
	printf("clock_getcpuclockid(getpid()): %s\n", errname(clock_getcpuclockid(getpid(), &c)));
	expect(c == cpuclock(getpid(), 0, 2), "it is Linux's encoding of the pid's SCHED clock");
	long long a = clk_ns(CLOCK_PROCESS_CPUTIME_ID), b = clk_ns(c);
	expect(b >= a, "the pid's clock reads the process clock");

	pthread_getcpuclockid(pthread_self(), &c);
	expect(c == cpuclock((int)rsys(SYS_gettid), 1, 2), "pthread_getcpuclockid: the tid's thread SCHED clock");
	a = clk_ns(CLOCK_THREAD_CPUTIME_ID);
	b = clk_ns(c);
	expect(b >= a, "the tid's thread clock reads the thread clock");
	int tid = (int)rsys(SYS_gettid), pid = getpid();
	res("gettime(own tid VIRT)", rsys(SYS_clock_gettime, cpuclock(tid, 1, 1), &ts));
	res("gettime(own pid PROF)", rsys(SYS_clock_gettime, cpuclock(pid, 0, 0), &ts));
	res("gettime(which 3 perthread)", rsys(SYS_clock_gettime, cpuclock(0, 1, 3), &ts));
	res("gettime(CLOCKFD)", rsys(SYS_clock_gettime, cpuclock(pid, 0, 3), &ts));
	res("gettime(no such pid)", rsys(SYS_clock_gettime, cpuclock(4000000, 0, 2), &ts));
	res("gettime(no such tid, thread)", rsys(SYS_clock_gettime, cpuclock(4000000, 1, 2), &ts));
	res("getres(no such pid)", rsys(SYS_clock_getres, cpuclock(4000000, 0, 2), &ts));
	res("gettime(PROCESS, bad)", rsys(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, 8));

	/* Another process: its process clock yes, its thread clock no. */
	int p[2];
	if (pipe(p))
		return;
	pid_t child = xfork();
	if (child == 0) {
		close(p[0]);
		burn(50 * MS);
		write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	char x;
	read(p[0], &x, 1);
	printf("clock_getcpuclockid(child): %s\n", errname(clock_getcpuclockid(child, &c)));
	expect(clk_ns(c) >= 50 * MS, "the child's clock shows its 50 ms of work");
	res("getres(child's process clock)", rsys(SYS_clock_getres, cpuclock(child, 0, 2), &ts));
	res("gettime(child's thread clock)", rsys(SYS_clock_gettime, cpuclock(child, 1, 2), &ts));
	res("getres(child's thread clock)", rsys(SYS_clock_getres, cpuclock(child, 1, 2), &ts));
	kill(child, SIGKILL);
	reap(child);
	res("gettime(reaped child)", rsys(SYS_clock_gettime, cpuclock(child, 0, 2), &ts));

	struct timespec req = { 0, 1000 };
	res("nanosleep(THREAD clock)", rsys(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &req, 0));
	res("nanosleep(own tid clock)", rsys(SYS_clock_nanosleep, cpuclock(0, 1, 2), 0, &req, 0));
}

/* A process starts with no CPU time of its own, however busy the ones
 * before it were (cocoon reuses the kernel threads that serve them). */
static void fresh_process(void)
{
	pid_t busy = fork();
	if (busy == 0) {
		for (int i = 0; i < 100000; i++)
			rsys(SYS_getppid);
		_exit(0);
	}
	waitpid(busy, NULL, 0);
	pid_t fresh = fork();
	if (fresh == 0) {
		struct tms tm;
		times(&tm);
		long long ticks = stat_ticks("/proc/self/stat");
		printf("%s: a new process starts with no system time (times)\n", tm.tms_stime <= 3 ? "yes" : "NO");
		printf("%s: ... nor in /proc/self/stat\n", ticks >= 0 && ticks <= 3 ? "yes" : "NO");
		_exit(0);
	}
	waitpid(fresh, NULL, 0);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	times_and_usage();
	errors();
	clocks();
	fresh_process(); /* last: its children's times would count above */
	return expect_failures != 0;
}
