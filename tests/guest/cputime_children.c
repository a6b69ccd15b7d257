/* Children's CPU time: wait4's rusage, RUSAGE_CHILDREN and times' cutime
 * and cstime count a child once it is reaped (not while it is a zombie),
 * with the children it reaped itself; children reaped automatically
 * (SIGCHLD ignored) never count. Needs the calls kernel/cputime.h lists
 * in the wait path. */
#include "proc_util.h"
#include <sys/resource.h>
#include <sys/times.h>

#define MS 1000000LL

static long long clk_ns(clockid_t c)
{
	struct timespec ts = { 0, 0 };
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_ns(struct timeval tv)
{
	return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

static volatile unsigned long sink;

/* Pure user-mode work until the process clock has advanced by ns. The
 * clock is read about every half millisecond: under cocoon each reading
 * is a system call whose cost is system time (a fifth of the work, on a
 * loaded machine, when read ten times as often). */
static void burn(long long ns)
{
	long long start = clk_ns(CLOCK_PROCESS_CPUTIME_ID), wall = clk_ns(CLOCK_MONOTONIC);
	while (clk_ns(CLOCK_PROCESS_CPUTIME_ID) - start < ns && clk_ns(CLOCK_MONOTONIC) - wall < 30000 * MS)
		for (int i = 0; i < 2000000; i++)
			sink += i * 7;
}

static long long children_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	expect(children_ns() == 0, "no children's time at first");

	pid_t c = xfork();
	if (c == 0) {
		burn(150 * MS);
		_exit(0);
	}
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	expect(children_ns() == 0, "a zombie's time does not count yet");
	struct rusage ru;
	int st;
	wait4(c, &st, 0, &ru);
	expect(tv_ns(ru.ru_utime) >= 100 * MS, "wait4's rusage: the child's user time (>= 100 ms)");
	long long after_one = children_ns();
	expect(after_one >= 100 * MS, "RUSAGE_CHILDREN has it after the wait");
	struct tms tm;
	times(&tm);
	expect(tm.tms_cutime + tm.tms_cstime >= 10, "times: cutime+cstime >= 10 ticks");

	/* A child that reaps a grandchild brings the grandchild's time. */
	c = xfork();
	if (c == 0) {
		pid_t g = xfork();
		if (g == 0) {
			burn(100 * MS);
			_exit(0);
		}
		reap(g);
		_exit(0);
	}
	wait4(c, &st, 0, &ru);
	expect(tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 80 * MS, "wait4's rusage includes the grandchild");
	expect(children_ns() - after_one >= 80 * MS, "so does RUSAGE_CHILDREN");

	/* SIGCHLD ignored: reaped at once, never counted. */
	long long before = children_ns();
	signal(SIGCHLD, SIG_IGN);
	c = xfork();
	if (c == 0) {
		burn(100 * MS);
		_exit(0);
	}
	long long wall = clk_ns(CLOCK_MONOTONIC);
	while (kill(c, 0) == 0 && clk_ns(CLOCK_MONOTONIC) - wall < 30000 * MS)
		sleep_ms(10);
	expect(children_ns() - before < 50 * MS, "an automatically reaped child does not count");
	return expect_failures != 0;
}
