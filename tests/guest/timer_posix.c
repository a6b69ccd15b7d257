/* POSIX timers through the raw calls: timer_create errors in Linux's
 * order (and the ids failed calls use up), SIGEV_SIGNAL/NONE/THREAD_ID,
 * SI_TIMER siginfo, absolute and relative times on several clocks,
 * overruns while the signal is blocked, CPU-time clocks, fork (not
 * inherited) and exec (deleted). Times are printed only as relations. */
#include "proc_util.h"

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

struct ksev {
	uint64_t value;
	int signo, notify, tid, pad[11];
};
struct kits {
	long isec, insec, vsec, vnsec;
};

static long long now_on(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static long long now_ns(void) { return now_on(CLOCK_MONOTONIC); }
static long long val_ns(const struct kits *k) { return k->vsec * 1000000000LL + k->vnsec; }

static long create(clockid_t clk, int notify, int signo, uint64_t value, int *id)
{
	struct ksev ev = { value, signo, notify, (int)rsys(SYS_gettid) };
	return rsys(SYS_timer_create, clk, &ev, id);
}

static long settime(int id, int flags, long vsec, long vnsec, long isec, long insec)
{
	struct kits k = { isec, insec, vsec, vnsec };
	return rsys(SYS_timer_settime, id, flags, &k, 0);
}

static struct kits gettime(int id)
{
	struct kits k = { -1, -1, -1, -1 };
	rsys(SYS_timer_gettime, id, &k);
	return k;
}

static volatile int hits, h_code, h_timerid, h_overrun, h_value, h_getoverrun;
static volatile int first_overrun, first_getoverrun; /* of the first signal since hits = 0 */
static void on_sig(int s, siginfo_t *si, void *uc)
{
	if (!hits) {
		first_overrun = si->si_overrun;
		first_getoverrun = (int)rsys(SYS_timer_getoverrun, si->si_timerid);
	}
	hits++;
	h_code = si->si_code;
	h_timerid = si->si_timerid;
	h_overrun = si->si_overrun;
	h_value = si->si_value.sival_int;
	h_getoverrun = (int)rsys(SYS_timer_getoverrun, si->si_timerid);
}

static void handle(int sig)
{
	struct sigaction sa = { .sa_sigaction = on_sig, .sa_flags = SA_SIGINFO };
	sigaction(sig, &sa, NULL);
}

static void wait_hits(int n)
{
	long long t0 = now_ns();
	while (hits < n && now_ns() - t0 < 10000000000LL)
		usleep(1000);
}

static void errors(void)
{
	int id = -1;
	struct ksev ev = { 0, SIGUSR1, SIGEV_SIGNAL, 0 };
	res("create clock 10", rsys(SYS_timer_create, 10, &ev, &id));
	res("create clock 100", rsys(SYS_timer_create, 100, &ev, &id));
	res("create MONOTONIC_RAW", rsys(SYS_timer_create, CLOCK_MONOTONIC_RAW, &ev, &id));
	res("create REALTIME_COARSE", rsys(SYS_timer_create, CLOCK_REALTIME_COARSE, &ev, &id));
	res("create clock fd", rsys(SYS_timer_create, (~0 << 3) | 3, &ev, &id));
	res("create bad sigevent pointer", rsys(SYS_timer_create, 10, 8, &id));
	/* These are found once an id is handed out: they use it up. */
	ev.signo = 0;
	res("create signo 0", rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	ev.signo = 65;
	res("create signo 65", rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	ev = (struct ksev){ 0, SIGUSR1, 7, 0 };
	res("create notify 7", rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	ev = (struct ksev){ 0, SIGUSR1, SIGEV_THREAD_ID, 999999999 };
	res("create THREAD_ID of nobody", rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	res("create bad id pointer", rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, 8));
	id = -1;
	res("create CPU clock with which 3", rsys(SYS_timer_create, -1, 0, &id));
	printf("  and it wrote id %d\n", id);
	ev = (struct ksev){ 0, SIGUSR1, SIGEV_THREAD, 0 };
	res("create SIGEV_THREAD (a signal to the kernel)", rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	printf("  id %d\n", id);
	resv("delete it", rsys(SYS_timer_delete, id));
	resv("delete it again", rsys(SYS_timer_delete, id));

	res("create NULL sigevent", rsys(SYS_timer_create, CLOCK_REALTIME, 0, &id));
	printf("  id %d\n", id);
	struct kits k = { 0, 0, 1, 0 }, bad = { 0, 0, 0, 1000000000 };
	res("settime NULL", rsys(SYS_timer_settime, id, 0, 0, 0));
	res("settime bad pointer", rsys(SYS_timer_settime, id, 0, 8, 0));
	res("settime nsec 1e9", rsys(SYS_timer_settime, id, 0, &bad, 0));
	bad = (struct kits){ 0, -1, 1, 0 };
	res("settime negative interval", rsys(SYS_timer_settime, id, 0, &bad, 0));
	res("settime bad id", rsys(SYS_timer_settime, 12345, 0, &k, 0));
	res("settime id -1", rsys(SYS_timer_settime, -1, 0, &k, 0));
	res("settime bad id and bad value", rsys(SYS_timer_settime, 12345, 0, &bad, 0));
	res("settime bad old pointer", rsys(SYS_timer_settime, id, 0, &k, 8));
	struct kits g = gettime(id);
	expect(g.vsec == 0 && g.vnsec > 900000000, "armed all the same");
	res("gettime bad id", rsys(SYS_timer_gettime, 12345, &g));
	res("gettime bad pointer", rsys(SYS_timer_gettime, id, 8));
	res("getoverrun bad id", rsys(SYS_timer_getoverrun, 12345));
	resv("getoverrun", rsys(SYS_timer_getoverrun, id));
	res("settime with unknown flags", settime(id, 0xff00, 1, 0, 0, 0));
	res("delete bad id", rsys(SYS_timer_delete, 12345));
	res("delete", rsys(SYS_timer_delete, id));
	res("gettime deleted", rsys(SYS_timer_gettime, id, &g));
}

static void notify_none(void)
{
	int id;
	res("create SIGEV_NONE", create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, &id));
	struct kits g = gettime(id);
	printf("unarmed: %ld %ld %ld %ld\n", g.isec, g.insec, g.vsec, g.vnsec);
	settime(id, 0, 1, 0, 0, 0);
	g = gettime(id);
	expect(val_ns(&g) > 900000000 && val_ns(&g) <= 1000000000, "1 s: 0.9 s < left <= 1 s");
	settime(id, TIMER_ABSTIME, 0, 1, 0, 0);
	g = gettime(id);
	printf("absolute time in the past: %ld %ld %ld %ld\n", g.isec, g.insec, g.vsec, g.vnsec);
	settime(id, 0, 0, 10000000, 0, 0);
	usleep(30000);
	g = gettime(id);
	printf("one-shot, expired: %ld %ld %ld %ld\n", g.isec, g.insec, g.vsec, g.vnsec);
	/* 100 ms periods: 50 ms left after 350 ms, room for a loaded machine */
	settime(id, 0, 0, 100000000, 0, 100000000);
	usleep(350000);
	g = gettime(id);
	expect(val_ns(&g) > 0 && val_ns(&g) <= 100000000, "periodic 100 ms after 350 ms: 0 < left <= 100 ms");
	printf("periodic interval: %ld %ld\n", g.isec, g.insec);
	struct kits old = { -1, -1, -1, -1 }, k = { 0, 0, 0, 0 };
	rsys(SYS_timer_settime, id, 0, &k, &old);
	expect(old.isec == 0 && old.insec == 100000000 && val_ns(&old) > 0, "disarming returns the old setting");
	/* Linux keeps the old expiry of a SIGEV_NONE timer: it still shows. */
	g = gettime(id);
	printf("disarmed: interval %ld %ld, value %s\n", g.isec, g.insec,
	       val_ns(&g) > 0 && val_ns(&g) <= 100000000 ? "the old one's rest" : "other");
	rsys(SYS_timer_delete, id);
}

static void signals(void)
{
	handle(SIGUSR1);
	int id;
	create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 42, &id);
	printf("new id %d\n", id);
	hits = 0;
	long long t0 = now_ns();
	settime(id, 0, 0, 30000000, 0, 0);
	wait_hits(1);
	long long dt = now_ns() - t0;
	expect(dt >= 30000000 && dt < 5000000000LL, "fired after 30 ms .. 5 s");
	printf("siginfo: code %s, timerid %s, overrun %d, value %d, getoverrun %d\n",
	       h_code == SI_TIMER ? "SI_TIMER" : "other", h_timerid == id ? "= id" : "other", h_overrun,
	       h_value, h_getoverrun);
	struct kits g = gettime(id);
	printf("after firing: %ld %ld %ld %ld\n", g.isec, g.insec, g.vsec, g.vnsec);

	/* settime returns the old setting. */
	settime(id, 0, 1, 0, 0, 500000000);
	struct kits k = { 0, 0, 2, 0 }, old;
	rsys(SYS_timer_settime, id, 0, &k, &old);
	expect(val_ns(&old) > 900000000 && val_ns(&old) <= 1000000000 && old.insec == 500000000,
	       "old setting: about 1 s, interval 0.5 s");
	settime(id, 0, 0, 0, 0, 0);

	/* Absolute times on MONOTONIC, REALTIME and BOOTTIME. */
	clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME };
	const char *names[] = { "MONOTONIC", "REALTIME", "BOOTTIME" };
	for (int i = 0; i < 3; i++) {
		int t;
		create(clocks[i], SIGEV_SIGNAL, SIGUSR1, i, &t);
		hits = 0;
		long long m0 = now_ns(), at = now_on(clocks[i]) + 40000000; /* 40 ms after m0 too */
		settime(t, TIMER_ABSTIME, at / 1000000000, at % 1000000000, 0, 0);
		wait_hits(1);
		long long late = now_on(clocks[i]) - at;
		expect(hits == 1 && late >= 0 && now_ns() - m0 >= 39000000, "%s absolute: not before its time",
		       names[i]);
		rsys(SYS_timer_delete, t);
	}
	/* In the past: at once. */
	hits = 0;
	settime(id, TIMER_ABSTIME, 1, 0, 0, 0);
	wait_hits(1);
	printf("absolute time in the past: %s\n", hits == 1 ? "fired" : "did not fire");

	/* Overruns while the signal is blocked. */
	sigset_t s, o;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, &o);
	hits = 0;
	settime(id, 0, 0, 10000000, 0, 10000000);
	usleep(105000);
	struct kits g2 = gettime(id);
	expect(val_ns(&g2) > 0 && val_ns(&g2) <= 10000000, "periodic with its signal pending: 0 < left <= 10 ms");
	sigprocmask(SIG_SETMASK, &o, NULL);
	/* (Another period may end before we look: count only the first.) */
	printf("handler ran on unblocking: %s\n", hits ? "yes" : "no");
	expect(first_overrun >= 5 && first_overrun < 500, "si_overrun counts the missed periods");
	expect(first_getoverrun == first_overrun, "timer_getoverrun in the handler = si_overrun");
	wait_hits(2);
	/* Blocked, so no later signal of the 10 ms period lands between the
	 * two reads. */
	sigprocmask(SIG_BLOCK, &s, &o);
	expect(rsys(SYS_timer_getoverrun, id) == h_overrun, "after the next: timer_getoverrun = its si_overrun");
	/* Counted afresh: fewer than the first one's (about 10), unless the
	 * process was held off its CPU for as long as the signal was blocked. */
	expect(h_overrun < first_overrun, "the next signal has few overruns");
	sigprocmask(SIG_SETMASK, &o, NULL);
	settime(id, 0, 0, 0, 0, 0);
	resv("getoverrun after settime", rsys(SYS_timer_getoverrun, id));
	rsys(SYS_timer_delete, id);

	/* NULL sigevent: SIGALRM with the id as value. */
	handle(SIGALRM);
	rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, &id);
	hits = 0;
	settime(id, 0, 0, 1000000, 0, 0);
	wait_hits(1);
	printf("NULL sigevent: code %s, value %s\n", h_code == SI_TIMER ? "SI_TIMER" : "other",
	       h_value == id ? "= id" : "other");
	rsys(SYS_timer_delete, id);

	/* SIGEV_THREAD_ID to ourselves. */
	res("create THREAD_ID", create(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGUSR1, 7, &id));
	hits = 0;
	settime(id, 0, 0, 1000000, 0, 0);
	wait_hits(1);
	printf("THREAD_ID: code %s, value %d\n", h_code == SI_TIMER ? "SI_TIMER" : "other", h_value);
	rsys(SYS_timer_delete, id);
}

static void cpu_clocks(void)
{
	handle(SIGUSR2);
	clockid_t clocks[] = { CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
			       (clockid_t)((~getpid() << 3) | 2) };
	const char *names[] = { "PROCESS_CPUTIME_ID", "THREAD_CPUTIME_ID", "own pid's CPU clock" };
	for (int i = 0; i < 3; i++) {
		int id;
		res(names[i], create(clocks[i], SIGEV_SIGNAL, SIGUSR2, i, &id));
		settime(id, 0, 1, 0, 0, 0);
		struct kits g = gettime(id);
		expect(val_ns(&g) > 900000000 && val_ns(&g) <= 1000000000, "1 s of CPU: 0.9 s < left <= 1 s");
		hits = 0;
		long long t0 = now_ns();
		settime(id, 0, 0, 50000000, 0, 0);
		volatile unsigned long spin = 0;
		while (!hits && now_ns() - t0 < 10000000000LL)
			spin++;
		printf("  busy loop: %s, code %s, value %d\n", hits ? "fired" : "did not fire",
		       h_code == SI_TIMER ? "SI_TIMER" : "other", h_value);
		expect(now_ns() - t0 >= 50000000, "  not before 50 ms of wall time");
		rsys(SYS_timer_delete, id);
	}
}

static void ids_fork_exec(void)
{
	int a, b, c, d;
	rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, &a);
	rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, &b);
	rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, &c);
	rsys(SYS_timer_delete, b);
	rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, &d);
	printf("ids in order: %d %d %d, after deleting the middle one: %d\n", a - a, b - a, c - a, d - a);
	settime(a, 0, 10, 0, 0, 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct kits g;
		int ok = rsys(SYS_timer_gettime, a, &g) == -EINVAL;
		int id = -1, id2 = -1;
		rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, &id);
		rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, &id2);
		if (!ok || id != 0 || id2 != 1)
			_exit(1);
		/* Armed, with a signal that would kill it after exec. */
		signal(SIGUSR1, SIG_DFL);
		create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 0, &id);
		settime(id, 0, 0, 300000000, 0, 10000000);
		execl(self_exe, self_exe, "after-exec", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: no timers of the parent, its ids start at 0");
	struct kits g = gettime(a);
	expect(g.vsec >= 9, "the parent's timer runs on");

	/* A process that ends with timers armed: none fires for it. */
	for (int i = 0; i < 5; i++) {
		pid = fork();
		if (pid == 0) {
			int t1, t2;
			create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 0, &t1);
			settime(t1, 0, 0, 100000, 0, 100000);
			create(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, 0, &t2);
			settime(t2, 0, 0, 1000000, 0, 1000000);
			_exit(0);
		}
		waitpid(pid, &st, 0);
	}
	usleep(20000);
	printf("children that exited with armed timers are gone\n");
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "after-exec")) {
		struct kits g;
		res("after exec: gettime of timer 0", rsys(SYS_timer_gettime, 0, &g));
		res("after exec: gettime of timer 1", rsys(SYS_timer_gettime, 1, &g));
		int id = -1;
		rsys(SYS_timer_create, CLOCK_MONOTONIC, 0, &id);
		printf("after exec: the next id is %d\n", id);
		usleep(400000);
		printf("after exec: the timer armed before did not fire\n");
		return 0;
	}
	errors();
	notify_none();
	signals();
	cpu_clocks();
	ids_fork_exec();
	return expect_failures != 0;
}
