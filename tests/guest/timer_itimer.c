/* Interval timers: alarm, setitimer, getitimer. Errors in Linux's order,
 * remaining times, SIGALRM/SIGVTALRM/SIGPROF with SI_KERNEL, periods,
 * Linux's stopped ITIMER_REAL while SIGALRM is pending or ignored, the
 * tick added to CPU itimers, fork (not inherited) and exec (kept).
 * Times are printed only as relations. */
#include "proc_util.h"
#include <sys/time.h>

struct kitv { long isec, iusec, vsec, vusec; };

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long us(long sec, long usec) { return sec * 1000000LL + usec; }

static volatile int hits, last_code, last_pid, last_sig;
static void on_sig(int s, siginfo_t *si, void *uc)
{
	hits++;
	last_sig = s;
	last_code = si->si_code;
	last_pid = si->si_pid;
}

static void handle(int sig)
{
	struct sigaction sa = { .sa_sigaction = on_sig, .sa_flags = SA_SIGINFO };
	sigaction(sig, &sa, NULL);
}

static void set(int which, long vsec, long vusec, long isec, long iusec)
{
	struct kitv v = { isec, iusec, vsec, vusec };
	rsys(SYS_setitimer, which, &v, 0);
}

static struct kitv get(int which)
{
	struct kitv v = { -1, -1, -1, -1 };
	rsys(SYS_getitimer, which, &v);
	return v;
}

static void errors(void)
{
	struct kitv v = { 0, 0, 0, 0 }, bad = { 0, 0, 0, 1000000 };
	res("getitimer which 3", rsys(SYS_getitimer, 3, &v));
	res("getitimer which -1", rsys(SYS_getitimer, -1, &v));
	res("getitimer NULL", rsys(SYS_getitimer, ITIMER_REAL, 0));
	res("getitimer bad which and NULL", rsys(SYS_getitimer, 7, 0));
	res("setitimer which 3", rsys(SYS_setitimer, 3, &v, 0));
	res("setitimer usec 1000000", rsys(SYS_setitimer, ITIMER_REAL, &bad, 0));
	bad = (struct kitv){ 0, 0, -1, 0 };
	res("setitimer negative sec", rsys(SYS_setitimer, ITIMER_REAL, &bad, 0));
	bad = (struct kitv){ 0, -1, 0, 5 };
	res("setitimer negative interval usec", rsys(SYS_setitimer, ITIMER_REAL, &bad, 0));
	res("setitimer bad pointer", rsys(SYS_setitimer, ITIMER_REAL, 8, 0));
	res("setitimer bad which and bad pointer", rsys(SYS_setitimer, 9, 8, 0));
	res("setitimer bad which and bad value", rsys(SYS_setitimer, 9, &bad, 0));
	v = (struct kitv){ 0, 0, 100, 0 };
	res("setitimer bad old pointer", rsys(SYS_setitimer, ITIMER_REAL, &v, 8));
	struct kitv g = get(ITIMER_REAL);
	expect(g.vsec == 99 || g.vsec == 100, "the timer was set all the same");
	struct kitv old;
	res("setitimer NULL value", rsys(SYS_setitimer, ITIMER_REAL, 0, &old));
	expect(old.vsec == 99 || old.vsec == 100, "old value returned");
	g = get(ITIMER_REAL);
	expect(g.vsec == 0 && g.vusec == 0, "NULL disarmed it");
}

static void values(void)
{
	struct kitv g = get(ITIMER_REAL);
	printf("fresh: %ld %ld %ld %ld\n", g.isec, g.iusec, g.vsec, g.vusec);
	resv("alarm(0)", rsys(SYS_alarm, 0));
	resv("alarm(5)", rsys(SYS_alarm, 5));
	resv("alarm(3) returns 5 (4.99 s rounded)", rsys(SYS_alarm, 3));
	g = get(ITIMER_REAL);
	expect(us(g.vsec, g.vusec) > 2900000 && us(g.vsec, g.vusec) <= 3000000, "alarm(3): 2.9 s < left <= 3 s");
	expect(g.isec == 0 && g.iusec == 0, "alarm has no interval");
	resv("alarm(0) returns 3", rsys(SYS_alarm, 0));
	/* A remaining 0.4 s reads as 1, 1.5 s as 2. */
	set(ITIMER_REAL, 0, 400000, 0, 0);
	resv("alarm(0) after 0.4 s", rsys(SYS_alarm, 0));
	set(ITIMER_REAL, 1, 600000, 0, 0);
	resv("alarm(0) after 1.6 s", rsys(SYS_alarm, 0));

	struct kitv v = { 0, 500000, 1, 0 }, old = { -1, -1, -1, -1 };
	res("setitimer REAL 1 s / 0.5 s", rsys(SYS_setitimer, ITIMER_REAL, &v, &old));
	printf("old: %ld %ld %ld %ld\n", old.isec, old.iusec, old.vsec, old.vusec);
	g = get(ITIMER_REAL);
	expect(us(g.vsec, g.vusec) > 900000 && us(g.vsec, g.vusec) <= 1000000, "0.9 s < left <= 1 s");
	printf("interval: %ld %ld\n", g.isec, g.iusec);
	v = (struct kitv){ 5, 0, 0, 0 };
	rsys(SYS_setitimer, ITIMER_REAL, &v, &old);
	expect(us(old.vsec, old.vusec) > 900000 && old.iusec == 500000, "old value and interval");
	g = get(ITIMER_REAL);
	printf("REAL set to 0 with an interval: %ld %ld %ld %ld\n", g.isec, g.iusec, g.vsec, g.vusec);
	/* CPU itimers keep the interval even when disarmed. */
	rsys(SYS_setitimer, ITIMER_VIRTUAL, &v, 0);
	g = get(ITIMER_VIRTUAL);
	printf("VIRTUAL set to 0 with an interval: %ld %ld %ld %ld\n", g.isec, g.iusec, g.vsec, g.vusec);
	set(ITIMER_VIRTUAL, 0, 0, 0, 0);
	/* A CPU itimer runs a tick longer than asked. */
	set(ITIMER_PROF, 0, 100000, 0, 0);
	g = get(ITIMER_PROF);
	long long left = us(g.vsec, g.vusec);
	expect(left > 100000 && left <= 120000, "PROF 100 ms: 100 ms < left <= 120 ms");
	set(ITIMER_PROF, 0, 0, 0, 0);
	g = get(ITIMER_PROF);
	printf("PROF disarmed: %ld %ld %ld %ld\n", g.isec, g.iusec, g.vsec, g.vusec);
}

static void real_signals(void)
{
	handle(SIGALRM);
	hits = 0;
	long long t0 = now_ns();
	set(ITIMER_REAL, 0, 50000, 0, 0);
	while (!hits)
		pause();
	long long dt = now_ns() - t0;
	expect(dt >= 50000000 && dt < 3000000000LL, "SIGALRM after 50 ms .. 3 s");
	printf("SIGALRM: code %s, pid %d\n", last_code == SI_KERNEL ? "SI_KERNEL" : "other", last_pid);
	struct kitv g = get(ITIMER_REAL);
	printf("one-shot after firing: %ld %ld %ld %ld\n", g.isec, g.iusec, g.vsec, g.vusec);

	hits = 0;
	t0 = now_ns();
	set(ITIMER_REAL, 0, 20000, 0, 20000);
	while (hits < 5)
		pause();
	dt = now_ns() - t0;
	set(ITIMER_REAL, 0, 0, 0, 0);
	expect(dt >= 100000000, "5 periods of 20 ms took at least 100 ms");

	/* Blocked: Linux re-arms only when SIGALRM is taken, so meanwhile the
	 * timer reads 0 (its interval stays). */
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigprocmask(SIG_BLOCK, &s, &old);
	hits = 0;
	set(ITIMER_REAL, 0, 10000, 0, 10000);
	usleep(60000);
	g = get(ITIMER_REAL);
	printf("periodic, SIGALRM pending: value %ld %ld, interval %ld %ld\n", g.vsec, g.vusec, g.isec,
	       g.iusec);
	sigset_t p;
	sigpending(&p);
	expect(sigismember(&p, SIGALRM), "SIGALRM pending");
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* (The next period may end before we look: it must have run once.) */
	printf("handler ran on unblocking: %s\n", hits ? "yes" : "no");
	while (hits < 2)
		pause();
	/* When the 10 ms period ends while getitimer is being served (a slow
	 * trap: a sanitizer build, a busy machine), it finds the next SIGALRM
	 * pending and the timer at 0: that signal is delivered as it returns. */
	int before = hits;
	g = get(ITIMER_REAL);
	long long left = us(g.vsec, g.vusec);
	expect((left > 0 && left <= 10000) || (left == 0 && hits > before), "running again after the signal was taken");
	set(ITIMER_REAL, 0, 0, 0, 0);

	/* Ignored: the signal is dropped and the timer stays stopped. */
	signal(SIGALRM, SIG_IGN);
	set(ITIMER_REAL, 0, 10000, 0, 10000);
	usleep(50000);
	g = get(ITIMER_REAL);
	printf("periodic, SIGALRM ignored: value %ld %ld, interval %ld %ld\n", g.vsec, g.vusec, g.isec,
	       g.iusec);
	set(ITIMER_REAL, 0, 0, 0, 0);
	signal(SIGALRM, SIG_DFL);
}

static void cpu_signals(int which, int sig, const char *name)
{
	handle(sig);
	hits = 0;
	long long t0 = now_ns();
	set(which, 0, 50000, 0, 0);
	volatile unsigned long spin = 0;
	while (!hits && now_ns() - t0 < 10000000000LL)
		spin++;
	long long dt = now_ns() - t0;
	printf("%s during a busy loop: %s, code %s\n", name, hits ? "came" : "did not come",
	       last_code == SI_KERNEL ? "SI_KERNEL" : "other");
	expect(dt >= 50000000, "%s: not before 50 ms of wall time", name);
	struct kitv g = get(which);
	printf("%s one-shot after firing: %ld %ld %ld %ld\n", name, g.isec, g.iusec, g.vsec, g.vusec);
	/* Periodic: three signals. */
	hits = 0;
	t0 = now_ns();
	set(which, 0, 20000, 0, 20000);
	while (hits < 3 && now_ns() - t0 < 10000000000LL)
		spin++;
	set(which, 0, 0, 0, 0);
	printf("%s periodic: %s\n", name, hits >= 3 ? "3 signals" : "fewer");
	signal(sig, SIG_DFL);
}

static void across_fork_and_exec(void)
{
	set(ITIMER_REAL, 10, 0, 2, 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct kitv g = get(ITIMER_REAL);
		int ok = g.vsec == 0 && g.vusec == 0 && g.isec == 0;
		_exit(ok ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child does not inherit the itimer");
	struct kitv g = get(ITIMER_REAL);
	expect(g.vsec >= 9, "the parent's itimer runs on");

	pid = fork();
	if (pid == 0) {
		execl(self_exe, self_exe, "after-exec", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child saw nothing before exec");
	set(ITIMER_REAL, 0, 0, 0, 0);

	/* SIGALRM's default action ends a child. */
	pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		set(ITIMER_REAL, 0, 10000, 0, 0);
		for (;;)
			pause();
	}
	waitpid(pid, &st, 0);
	printf("child with an itimer and no handler: %s\n",
	       WIFSIGNALED(st) ? signame(WTERMSIG(st)) : "not killed");
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "after-exec")) {
		/* Only the forked child execs; it has no itimer to keep. The
		 * exec case proper: arm, then exec ourselves. */
		struct kitv g = get(ITIMER_REAL);
		if (argc > 2) {
			expect(g.vsec >= 8 && g.vsec <= 10, "after exec: the itimer is still armed");
			printf("after exec: interval %ld %ld\n", g.isec, g.iusec);
			set(ITIMER_REAL, 0, 0, 0, 0);
			return expect_failures != 0;
		}
		if (g.vsec || g.vusec)
			return 1;
		set(ITIMER_REAL, 10, 0, 2, 0);
		execl(self_exe, self_exe, "after-exec", "armed", (char *)NULL);
		return 127;
	}
	errors();
	values();
	real_signals();
	cpu_signals(ITIMER_VIRTUAL, SIGVTALRM, "SIGVTALRM");
	cpu_signals(ITIMER_PROF, SIGPROF, "SIGPROF");
	across_fork_and_exec();
	return expect_failures != 0;
}
