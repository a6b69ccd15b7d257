/* RLIMIT_CPU: SIGXCPU at the soft limit with the soft limit raised by a
 * second each time (getrlimit shows it), SIGKILL at the hard limit; a
 * limit set before execve holds in the new program. Also ITIMER_PROF and
 * a POSIX timer on the process CPU clock firing after CPU time, not
 * wall time. */
#include "proc_util.h"
#include <sys/resource.h>
#include <sys/time.h>

#define MS 1000000LL

static long long clk_ns(clockid_t c)
{
	struct timespec ts = { 0, 0 };
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile unsigned long sink;
static volatile int xcpu, prof, timer;
static volatile long soft_seen[4];

static void on_xcpu(int s)
{
	struct rlimit r;
	getrlimit(RLIMIT_CPU, &r);
	if (xcpu < 4)
		soft_seen[xcpu] = (long)r.rlim_cur;
	xcpu++;
}

static void on_prof(int s) { prof++; }
static void on_timer(int s) { timer++; }

/* Busy until the flag is set or the wall-clock limit passes. */
static void burn_until(volatile int *flag, long long wall_ns)
{
	long long wall = clk_ns(CLOCK_MONOTONIC);
	while (!*flag && clk_ns(CLOCK_MONOTONIC) - wall < wall_ns)
		for (int i = 0; i < 100000; i++)
			sink += i * 7;
}

static void timers(void)
{
	signal(SIGPROF, on_prof);
	struct itimerval it = { { 0, 0 }, { 0, 100000 } };
	setitimer(ITIMER_PROF, &it, NULL);
	long long c0 = clk_ns(CLOCK_PROCESS_CPUTIME_ID);
	burn_until(&prof, 30000 * MS);
	expect(prof == 1, "ITIMER_PROF fired once");
	expect(clk_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 >= 50 * MS, "after CPU time, not at once (>= 50 ms)");

	signal(SIGALRM, on_timer);
	timer_t id;
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
	timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &id);
	struct itimerspec ts = { { 0, 0 }, { 0, 100 * MS } };
	c0 = clk_ns(CLOCK_PROCESS_CPUTIME_ID);
	timer_settime(id, 0, &ts, NULL);
	burn_until(&timer, 30000 * MS);
	expect(timer == 1, "a timer on CLOCK_PROCESS_CPUTIME_ID fired");
	expect(clk_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 >= 100 * MS, "after 100 ms of CPU time");
	timer_delete(id);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "burn")) { /* the exec'd program */
		burn_until(&xcpu, 60000 * MS);
		_exit(9);
	}
	timers();

	pid_t c = xfork();
	if (c == 0) {
		signal(SIGXCPU, on_xcpu);
		struct rlimit r = { 1, 2 };
		setrlimit(RLIMIT_CPU, &r);
		burn_until(&xcpu, 60000 * MS);
		printf("child: SIGXCPU at the soft limit, which is now %ld\n", soft_seen[0]);
		xcpu = 0;
		burn_until(&xcpu, 60000 * MS); /* killed at the hard limit */
		printf("child: not killed\n");
		_exit(0);
	}
	reap_print("soft 1 s, hard 2 s", c);

	c = xfork();
	if (c == 0) {
		struct rlimit r = { 1, 1 };
		setrlimit(RLIMIT_CPU, &r);
		execl(self_exe, self_exe, "burn", (char *)NULL);
		_exit(8);
	}
	reap_print("soft = hard = 1 s, then execve", c);
	return expect_failures != 0;
}
