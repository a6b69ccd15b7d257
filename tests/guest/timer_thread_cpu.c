/* POSIX timers on a thread's CPU clock (CLOCK_THREAD_CPUTIME_ID, or
 * pthread_getcpuclockid of another thread) count that thread's CPU time
 * only: an idle main thread's timer stays armed while a worker spins,
 * and a timer on the worker's clock fires. No timing thresholds: the
 * worker spins until the timer on its clock has fired. */
#include "util.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t fired_main, fired_worker, fired_self;
static volatile int worker_done;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	switch (si->si_value.sival_int) {
	case 1: fired_main = 1; break;
	case 2: fired_worker = 1; break;
	case 3: fired_self = 1; break;
	}
}

static timer_t make_timer(clockid_t clk, int which, long ns)
{
	struct sigevent se = { 0 };
	se.sigev_notify = SIGEV_SIGNAL;
	se.sigev_signo = SIGRTMIN;
	se.sigev_value.sival_int = which;
	timer_t t;
	if (timer_create(clk, &se, &t) != 0) {
		printf("timer_create: %s\n", errname(errno));
		exit(1);
	}
	struct itimerspec its = { { 0, 0 }, { 0, ns } };
	timer_settime(t, 0, &its, NULL);
	return t;
}

static void *worker(void *arg)
{
	(void)arg;
	/* Its own thread clock: fires once it has run 30 ms. */
	timer_t self = make_timer(CLOCK_THREAD_CPUTIME_ID, 3, 30000000);
	while (!fired_self || !fired_worker)
		;
	timer_delete(self);
	worker_done = 1;
	return NULL;
}

int main(void)
{
	alarm(20);
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN, &sa, NULL);

	/* Main's own thread clock: 50 ms of main's CPU, which it never uses. */
	timer_t tmain = make_timer(CLOCK_THREAD_CPUTIME_ID, 1, 50000000);
	pthread_t w;
	pthread_create(&w, NULL, worker, NULL);
	clockid_t wclk;
	int e = pthread_getcpuclockid(w, &wclk);
	printf("pthread_getcpuclockid: %s\n", e ? errname(e) : "ok");
	timer_t tw = make_timer(wclk, 2, 40000000);
	while (!worker_done)
		usleep(10000);
	pthread_join(w, NULL);

	struct itimerspec left;
	timer_gettime(tmain, &left);
	printf("timer on the worker's clock fired: %s\n", fired_worker ? "yes" : "no");
	printf("timer on the worker's own thread clock fired: %s\n", fired_self ? "yes" : "no");
	printf("timer on main's thread clock fired: %s\n", fired_main ? "yes" : "no");
	printf("main's timer still armed: %s\n", left.it_value.tv_sec || left.it_value.tv_nsec ? "yes" : "no");
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	printf("main's thread CPU under 50 ms: %s\n", ts.tv_sec == 0 && ts.tv_nsec < 50000000 ? "yes" : "no");
	timer_delete(tw);
	timer_delete(tmain);
	return 0;
}
