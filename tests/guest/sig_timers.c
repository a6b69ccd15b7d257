/* Signals from timers and signal file descriptors (pending in tests/run.sh
 * until they are built): alarm (return values, SIGALRM), setitimer and
 * getitimer (ITIMER_REAL one-shot and periodic, ITIMER_VIRTUAL,
 * ITIMER_PROF, errors), POSIX timers (timer_create with SIGEV_SIGNAL,
 * SIGEV_THREAD_ID and SIGEV_NONE, si_code SI_TIMER with the value,
 * overruns, timer_gettime, timer_delete, errors), signalfd4 (reading
 * signalfd_siginfo, poll, changing the mask, errors) and
 * pidfd_send_signal (kill through a pidfd, siginfo rules, errors). Raw
 * system calls throughout: the libcs differ in their timer_t. */
#include "sig_util.h"
#include <poll.h>
#include <sys/time.h>
#include <sys/signalfd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#define KSIGEV_SIGNAL 0
#define KSIGEV_NONE 1
#define KSIGEV_THREAD_ID 4

struct ksigevent {
	union { int sival_int; void *sival_ptr; } value;
	int signo, notify;
	int tid;
	int pad[11];
};

static volatile int nalrm, nvt, nprof;
static void on_alrm(int s) { nalrm++; }
static void on_vt(int s) { nvt++; }
static void on_prof(int s) { nprof++; }

static long ms_of(struct timeval tv) { return tv.tv_sec * 1000 + tv.tv_usec / 1000; }

/* Wait for n signals, unless arming the timer failed (r < 0): then the
 * test goes on instead of hanging. */
static void wait_for(long r, volatile int *counter, int n)
{
	uint64_t none = 0;
	while (r >= 0 && *counter < n)
		rsys(SYS_rt_sigsuspend, &none, KSIGSET);
}
static const struct timespec two_s = { 2, 0 };

static void alarms(void)
{
	printf("-- alarm\n");
	resv("alarm(0)", rsys(SYS_alarm, 0));
	resv("alarm(10)", rsys(SYS_alarm, 10));
	resv("alarm(5) returns what was left, rounded", rsys(SYS_alarm, 5));
	resv("alarm(0)", rsys(SYS_alarm, 0));
	on_plain(SIGALRM, on_alrm, 0);
	block(SIGALRM);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	wait_for(rsys(SYS_alarm, 1), &nalrm, 1);
	long ms = ms_since(&t0);
	printf("SIGALRM after about 1 s: %d\n", ms >= 990 && ms < 1900);
	unblock(SIGALRM);
}

static void itimers(void)
{
	printf("-- setitimer and getitimer\n");
	struct itimerval it = { { 0, 0 }, { 1, 0 } }, old;
	nalrm = 0;
	block(SIGALRM);
	res("ITIMER_REAL 1 s", rsys(SYS_setitimer, ITIMER_REAL, &it, 0));
	struct itimerval now;
	rsys(SYS_getitimer, ITIMER_REAL, &now);
	printf("getitimer: value in (500, 1000] ms %d, interval %ld\n", ms_of(now.it_value) > 500 &&
	       ms_of(now.it_value) <= 1000, ms_of(now.it_interval));
	it.it_value = (struct timeval){ 0, 300000 };
	memset(&old, 0, sizeof old);
	long r = rsys(SYS_setitimer, ITIMER_REAL, &it, &old);
	printf("setitimer's old value in (500, 1000] ms %d\n", ms_of(old.it_value) > 500 && ms_of(old.it_value) <= 1000);
	wait_for(r, &nalrm, 1);
	rsys(SYS_getitimer, ITIMER_REAL, &now);
	printf("after it fired: value %ld interval %ld\n", ms_of(now.it_value), ms_of(now.it_interval));
	struct itimerval per = { { 0, 20000 }, { 0, 20000 } };
	nalrm = 0;
	wait_for(rsys(SYS_setitimer, ITIMER_REAL, &per, 0), &nalrm, 3);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	rsys(SYS_setitimer, ITIMER_REAL, &off, &old);
	printf("periodic: 3 signals, old interval %ld ms\n", ms_of(old.it_interval));
	unblock(SIGALRM);
	res("which 5", rsys(SYS_setitimer, 5, &it, 0));
	struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
	res("tv_usec 1000000", rsys(SYS_setitimer, ITIMER_REAL, &bad, 0));
	res("bad pointer", rsys(SYS_setitimer, ITIMER_REAL, 8, 0));
	res("getitimer which 5", rsys(SYS_getitimer, 5, &now));

	on_plain(SIGVTALRM, on_vt, 0);
	on_plain(SIGPROF, on_prof, 0);
	struct itimerval ten = { { 0, 0 }, { 0, 10000 } };
	r = rsys(SYS_setitimer, ITIMER_VIRTUAL, &ten, 0);
	res("ITIMER_VIRTUAL 10 ms", r);
	while (r >= 0 && !nvt)
		;
	printf("SIGVTALRM after spinning: %d\n", nvt);
	r = rsys(SYS_setitimer, ITIMER_PROF, &ten, 0);
	res("ITIMER_PROF 10 ms", r);
	while (r >= 0 && !nprof)
		;
	printf("SIGPROF after spinning: %d\n", nprof);
	dfl(SIGVTALRM);
	dfl(SIGPROF);
	dfl(SIGALRM);
}

static void posix_timers(void)
{
	printf("-- POSIX timers\n");
	int q = SIGRTMIN + 1;
	block(q);
	struct ksigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.notify = KSIGEV_SIGNAL;
	ev.signo = q;
	ev.value.sival_int = 77;
	int id = -1;
	res("timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL)", rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	/* 250 ms: still running when read back, on a loaded machine too. */
	struct itimerspec its = { { 0, 0 }, { 0, 250000000 } }, cur;
	res("timer_settime 250 ms", rsys(SYS_timer_settime, id, 0, &its, 0));
	rsys(SYS_timer_gettime, id, &cur);
	printf("timer_gettime: in (0, 250] ms %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
	       cur.it_value.tv_nsec <= 250000000);
	uint64_t set = sigbit(q);
	siginfo_t si;
	long s = rsys(SYS_rt_sigtimedwait, &set, &si, &two_s, KSIGSET);
	printf("got %s, si_code %s, value %d, si_overrun %d\n", s == q ? "it" : rstr(s),
	       si.si_code == SI_TIMER ? "SI_TIMER" : "other", si.si_value.sival_int, si.si_overrun);
	/* Periodic at 1 ms while the signal is blocked: one signal, overruns. */
	struct itimerspec fast = { { 0, 1000000 }, { 0, 1000000 } };
	rsys(SYS_timer_settime, id, 0, &fast, 0);
	sleep_ms(50);
	s = rsys(SYS_rt_sigtimedwait, &set, &si, &two_s, KSIGSET);
	long ov = rsys(SYS_timer_getoverrun, id);
	printf("after 50 ms blocked: one signal %d, si_overrun > 10 %d, timer_getoverrun >= 0 %d\n", s == q,
	       si.si_overrun > 10, ov >= 0);
	struct itimerspec zero = { { 0, 0 }, { 0, 0 } };
	rsys(SYS_timer_settime, id, 0, &zero, 0);
	struct timespec z = { 0, 0 };
	while (rsys(SYS_rt_sigtimedwait, &set, &si, &z, KSIGSET) == q)
		;
	res("timer_delete", rsys(SYS_timer_delete, id));
	res("timer_gettime after delete", rsys(SYS_timer_gettime, id, &cur));
	res("timer_delete again", rsys(SYS_timer_delete, id));

	memset(&ev, 0, sizeof ev);
	ev.notify = KSIGEV_NONE;
	res("timer_create(SIGEV_NONE)", rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	struct itimerspec one = { { 0, 0 }, { 1, 0 } };
	rsys(SYS_timer_settime, id, 0, &one, 0);
	sleep_ms(20);
	rsys(SYS_timer_gettime, id, &cur);
	printf("SIGEV_NONE: counting down %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec < 990000000);
	rsys(SYS_timer_delete, id);

	memset(&ev, 0, sizeof ev);
	ev.notify = KSIGEV_THREAD_ID;
	ev.signo = q;
	ev.tid = (int)rsys(SYS_gettid);
	ev.value.sival_int = 78;
	res("timer_create(SIGEV_THREAD_ID)", rsys(SYS_timer_create, CLOCK_REALTIME, &ev, &id));
	struct itimerspec ms10 = { { 0, 0 }, { 0, 10000000 } };
	rsys(SYS_timer_settime, id, 0, &ms10, 0);
	s = rsys(SYS_rt_sigtimedwait, &set, &si, &two_s, KSIGSET);
	printf("SIGEV_THREAD_ID: got %s, si_code %s, value %d\n", s == q ? "it" : rstr(s),
	       si.si_code == SI_TIMER ? "SI_TIMER" : "other", si.si_value.sival_int);
	rsys(SYS_timer_delete, id);
	ev.tid = 999999;
	res("SIGEV_THREAD_ID to another tid", rsys(SYS_timer_create, CLOCK_REALTIME, &ev, &id));
	res("bad clock", rsys(SYS_timer_create, 99, 0, &id));
	memset(&ev, 0, sizeof ev);
	ev.notify = 99;
	res("bad sigev_notify", rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	unblock(q);
}

static void signalfds(void)
{
	printf("-- signalfd\n");
	block(SIGUSR1);
	block(SIGUSR2);
	uint64_t m = sigbit(SIGUSR1);
	long fd = rsys(SYS_signalfd4, -1, &m, KSIGSET, SFD_NONBLOCK | SFD_CLOEXEC);
	res("signalfd4", fd);
	struct signalfd_siginfo ssi;
	res("read with nothing pending", rsys(SYS_read, fd, &ssi, sizeof ssi));
	struct pollfd p = { (int)fd, POLLIN, 0 };
	long n = rsys(SYS_poll, &p, 1, 0);
	printf("poll: %ld, revents %#x\n", n, p.revents);
	self_kill(SIGUSR1);
	p.revents = 0;
	n = rsys(SYS_poll, &p, 1, 0);
	printf("poll after kill: %ld, revents %#x\n", n, p.revents);
	res("read with a short buffer", rsys(SYS_read, fd, &ssi, sizeof ssi - 1));
	memset(&ssi, 0, sizeof ssi);
	resv("read", rsys(SYS_read, fd, &ssi, sizeof ssi));
	printf("ssi_signo %s, ssi_code %d, from us %d\n", sname(ssi.ssi_signo), ssi.ssi_code,
	       ssi.ssi_pid == (uint32_t)getpid() && ssi.ssi_uid == getuid());
	printf("pending after the read: %s\n", maskstr(cur_pending()));
	union sigval v = { .sival_int = 99 };
	sigqueue(getpid(), SIGUSR2, v);
	resv("read of SIGUSR2 (not in the mask)", rsys(SYS_read, fd, &ssi, sizeof ssi));
	m = sigbit(SIGUSR2);
	resv("signalfd4 changing the mask", rsys(SYS_signalfd4, fd, &m, KSIGSET, 0) == fd);
	memset(&ssi, 0, sizeof ssi);
	resv("read", rsys(SYS_read, fd, &ssi, sizeof ssi));
	printf("ssi_signo %s, ssi_code %d, ssi_int %d\n", sname(ssi.ssi_signo), ssi.ssi_code, ssi.ssi_int);
	res("bad flags", rsys(SYS_signalfd4, -1, &m, KSIGSET, 1));
	res("sizemask 4", rsys(SYS_signalfd4, -1, &m, 4, 0));
	res("not a signalfd", rsys(SYS_signalfd4, 1, &m, KSIGSET, 0));
	close((int)fd);
	unblock(SIGUSR1);
	unblock(SIGUSR2);
}

static void pidfd_signals(void)
{
	printf("-- pidfd_send_signal\n");
	pid_t c = xfork();
	if (c == 0) {
		for (;;)
			pause();
	}
	long pfd = rsys(SYS_pidfd_open, c, 0);
	res("pidfd_open", pfd);
	res("flags 8 (unknown)", rsys(SYS_pidfd_send_signal, pfd, SIGTERM, 0, 8));
	res("signal 0", rsys(SYS_pidfd_send_signal, pfd, 0, 0, 0));
	res("signal 65", rsys(SYS_pidfd_send_signal, pfd, 65, 0, 0));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGTERM;
	si.si_code = SI_USER;
	res("siginfo with SI_USER to another process", rsys(SYS_pidfd_send_signal, pfd, SIGTERM, &si, 0));
	res("not a pidfd", rsys(SYS_pidfd_send_signal, 1, SIGTERM, 0, 0));
	res("SIGTERM", rsys(SYS_pidfd_send_signal, pfd, SIGTERM, 0, 0));
	reap_print("child", c);
	res("after it was reaped", rsys(SYS_pidfd_send_signal, pfd, SIGTERM, 0, 0));
	close((int)pfd);
	long me = rsys(SYS_pidfd_open, getpid(), 0);
	block(SIGUSR1);
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 5;
	res("siginfo SI_QUEUE to self", rsys(SYS_pidfd_send_signal, me, SIGUSR1, &si, 0));
	uint64_t set = sigbit(SIGUSR1);
	siginfo_t got;
	long s = rsys(SYS_rt_sigtimedwait, &set, &got, &two_s, KSIGSET);
	printf("self got %s: si_code %d, value %d\n", s == SIGUSR1 ? "it" : rstr(s), got.si_code,
	       got.si_value.sival_int);
	unblock(SIGUSR1);
	close((int)me);
}

int main(int argc, char **argv)
{
	sig_start(argc, argv);
	alarms();
	itimers();
	posix_timers();
	signalfds();
	pidfd_signals();
	return sig_end();
}
