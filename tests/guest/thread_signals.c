/* Signals and threads: tgkill reaches the named thread (its handler runs
 * there, even while it spins in guest code), a process-directed signal
 * goes to a thread that does not block it, a signal blocked everywhere
 * waits until some thread unblocks it, sigwait in one thread, a fault
 * is delivered to the faulting thread, a fatal signal kills every
 * thread, SIGSTOP/SIGCONT stop and continue the whole group (a parent
 * sees one stop and one continue), masks are per thread. */
#include "util.h"
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <sys/wait.h>

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static volatile pid_t handled_on;
static volatile int handled_sig;
static void on_sig(int sig)
{
	handled_on = gettid_();
	handled_sig = sig;
}

static volatile int stop_spinning;
static volatile pid_t spinner_tid;
static void *spinner(void *arg)
{
	spinner_tid = gettid_();
	while (!stop_spinning)
		__asm__ volatile("" ::: "memory");
	return NULL;
}

static void tgkill_spinning(void)
{
	signal(SIGUSR1, on_sig);
	stop_spinning = 0;
	spinner_tid = 0;
	pthread_t t;
	pthread_create(&t, NULL, spinner, NULL);
	while (!spinner_tid)
		sched_yield();
	handled_on = 0;
	syscall(SYS_tgkill, getpid(), spinner_tid, SIGUSR1);
	while (!handled_on)
		sched_yield();
	printf("tgkill: handler ran on the spinning thread %d\n", handled_on == spinner_tid);
	stop_spinning = 1;
	pthread_join(t, NULL);
}

/* kill(getpid()) while the main thread blocks the signal. */
static volatile pid_t waiter_tid;
static volatile int waiter_ready;
static void *unblocked_waiter(void *arg)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	waiter_tid = gettid_();
	waiter_ready = 1;
	while (!handled_on)
		pause();
	return NULL;
}

static void process_directed(void)
{
	signal(SIGUSR2, on_sig);
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	handled_on = 0;
	waiter_ready = 0;
	pthread_t t;
	pthread_create(&t, NULL, unblocked_waiter, NULL);
	while (!waiter_ready)
		sched_yield();
	kill(getpid(), SIGUSR2);
	pthread_join(t, NULL);
	printf("kill: taken by the thread that does not block it %d\n", handled_on == waiter_tid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Blocked by every thread: pending for the process until one unblocks. */
static void *unblock_later(void *arg)
{
	usleep(20000);
	waiter_tid = gettid_();
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	return NULL;
}

static void blocked_everywhere(void)
{
	sigset_t s, old, pend;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	handled_on = 0;
	kill(getpid(), SIGUSR2);
	sigpending(&pend);
	printf("blocked everywhere: pending %d handled %d\n", sigismember(&pend, SIGUSR2), handled_on != 0);
	pthread_t t;
	pthread_create(&t, NULL, unblock_later, NULL); /* inherits the mask */
	pthread_join(t, NULL);
	printf("after a thread unblocked it: handled there %d\n", handled_on == waiter_tid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void *sigwaiter(void *arg)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN);
	int sig = 0;
	sigwait(&s, &sig);
	return (void *)(long)sig;
}

static void sigwait_thread(void)
{
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	pthread_t t;
	pthread_create(&t, NULL, sigwaiter, NULL);
	usleep(10000);
	kill(getpid(), SIGRTMIN);
	void *r;
	pthread_join(t, &r);
	printf("sigwait in a thread: got SIGRTMIN %d\n", (long)r == SIGRTMIN);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static volatile pid_t fault_tid;
static __thread sigjmp_buf fault_jmp;
static void on_segv(int sig)
{
	fault_tid = gettid_();
	siglongjmp(fault_jmp, 1);
}

static void *faulter(void *arg)
{
	waiter_tid = gettid_();
	if (!sigsetjmp(fault_jmp, 1))
		*(volatile int *)16 = 1;
	return NULL;
}

static void fault_in_thread(void)
{
	signal(SIGSEGV, on_segv);
	pthread_t t;
	pthread_create(&t, NULL, faulter, NULL);
	pthread_join(t, NULL);
	printf("fault: SIGSEGV handled on the faulting thread %d\n", fault_tid == waiter_tid);
	signal(SIGSEGV, SIG_DFL);
}

static void fatal_kills_all(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t a, b;
		stop_spinning = 0;
		spinner_tid = 0; /* not the tid of tgkill_spinning's thread */
		pthread_create(&a, NULL, spinner, NULL);
		pthread_create(&b, NULL, (void *(*)(void *))pause, NULL);
		while (!spinner_tid)
			sched_yield();
		syscall(SYS_tgkill, getpid(), spinner_tid, SIGTERM);
		for (;;)
			pause();
	}
	int st;
	waitpid(pid, &st, 0);
	printf("fatal signal to one thread: killed by SIGTERM %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

static void group_stop(void)
{
	fflush(stdout);
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		pthread_t a;
		stop_spinning = 0;
		pthread_create(&a, NULL, spinner, NULL);
		write(p[1], "x", 1);
		pthread_join(a, NULL);
		_exit(0);
	}
	close(p[1]);
	char c;
	read(p[0], &c, 1);
	kill(pid, SIGSTOP);
	int st;
	waitpid(pid, &st, WUNTRACED);
	printf("group stop: stopped %d by SIGSTOP %d\n", WIFSTOPPED(st), WSTOPSIG(st) == SIGSTOP);
	kill(pid, SIGCONT);
	waitpid(pid, &st, WCONTINUED);
	printf("group continue: continued %d\n", WIFCONTINUED(st));
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	printf("then killed: %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void *report_mask(void *arg)
{
	sigset_t cur;
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	return (void *)(long)sigismember(&cur, SIGUSR1);
}

static void masks_per_thread(void)
{
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	pthread_t t;
	void *r;
	pthread_create(&t, NULL, report_mask, NULL);
	pthread_join(t, &r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_create(&t, NULL, report_mask, NULL);
	void *r2;
	pthread_join(t, &r2);
	printf("masks: a new thread inherits the creator's (%ld then %ld)\n", (long)r, (long)r2);
}

int main(void)
{
	tgkill_spinning();
	process_directed();
	blocked_everywhere();
	sigwait_thread();
	fault_in_thread();
	fatal_kills_all();
	group_stop();
	masks_per_thread();
	return 0;
}
