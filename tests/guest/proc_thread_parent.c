/* A child's parent is the thread that forked it (Linux's real_parent is
 * a task): __WNOTHREAD waits see only the caller's own children, a
 * parent-death signal fires when that thread exits while its siblings
 * run on, and its children then belong to a sibling. Calls that take a
 * pid accept any thread's id (find_task_by_vpid), and setpgid refuses
 * one that does not lead its group. */
#include "util.h"
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

static pid_t child;
static int pipefd[2];

static const char *wait_result(pid_t w)
{
	return w == child ? "reaped" : w == 0 ? "0 (not yet)" : errname(errno);
}

static void *wait_nothread(void *arg)
{
	int st;
	pid_t w = waitpid(child, &st, __WNOTHREAD | WNOHANG);
	printf("sibling thread, waitpid(__WNOTHREAD) for main's child: %s\n", wait_result(w));
	w = waitpid(-1, &st, __WNOTHREAD | WNOHANG);
	printf("sibling thread, waitpid(-1, __WNOTHREAD): %s\n", w < 0 ? errname(errno) : "found one");
	return arg;
}

static void *fork_and_leave(void *arg)
{
	child = fork();
	if (child == 0)
		_exit(7);
	usleep(50000);
	return arg;
}

/* The child asks for SIGUSR1 when its parent goes, and waits for it. */
static void *fork_pdeath_child(void *arg)
{
	pid_t c = fork();
	if (c == 0) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		sigprocmask(SIG_BLOCK, &s, NULL);
		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		write(pipefd[1], "r", 1);
		struct timespec to = { 2, 0 };
		siginfo_t si;
		int sig = sigtimedwait(&s, &si, &to);
		printf("child: parent thread exited, pdeath signal: %s, from our process: %s\n",
		       sig == SIGUSR1 ? "SIGUSR1" : "none", sig == SIGUSR1 && si.si_pid == getppid() ? "yes" : "no");
		_exit(0);
	}
	char x;
	read(pipefd[0], &x, 1);
	return arg;
}

static pid_t other_tid;
static volatile int stop, ready;

static void *idle_thread(void *arg)
{
	other_tid = (pid_t)syscall(SYS_gettid);
	ready = 1;
	while (!stop)
		usleep(2000);
	return arg;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(10);
	pthread_t t;
	int st;

	/* __WNOTHREAD: main's child is not the sibling's. */
	child = fork();
	if (child == 0)
		_exit(6);
	usleep(100000);
	pthread_create(&t, NULL, wait_nothread, NULL);
	pthread_join(t, NULL);
	pid_t w = waitpid(child, &st, __WNOTHREAD);
	printf("main, waitpid(__WNOTHREAD) for its own child: %s, status %d\n", wait_result(w), WEXITSTATUS(st));

	/* A thread forks and exits: main inherits the child. */
	pthread_create(&t, NULL, fork_and_leave, NULL);
	pthread_join(t, NULL);
	w = waitpid(child, &st, __WNOTHREAD);
	printf("main, waitpid(__WNOTHREAD) for an exited thread's child: %s, status %d\n", wait_result(w),
	       WEXITSTATUS(st));

	/* The parent-death signal follows the thread, not the process. */
	pipe(pipefd);
	pthread_create(&t, NULL, fork_pdeath_child, NULL);
	pthread_join(t, NULL);
	w = wait(&st);
	printf("main reaped the pdeath child: %s\n", w > 0 ? "yes" : errname(errno));

	/* Ids of other threads. */
	pthread_create(&t, NULL, idle_thread, NULL);
	while (!ready)
		usleep(1000);
	struct rlimit rl;
	res("prlimit64(other thread)", rsys(SYS_prlimit64, other_tid, RLIMIT_NOFILE, 0, &rl));
	long r = rsys(SYS_getpgid, other_tid);
	printf("getpgid(other thread): %s\n", r < 0 ? errname((int)-r) : r == getpgid(0) ? "our group" : "another");
	r = rsys(SYS_getsid, other_tid);
	printf("getsid(other thread): %s\n", r < 0 ? errname((int)-r) : r == getsid(0) ? "our session" : "another");
	res("kill(other thread, 0)", rsys(SYS_kill, other_tid, 0));
	res("setpgid(other thread, 0)", rsys(SYS_setpgid, other_tid, 0));
	res("setpgid(other thread, own pgid)", rsys(SYS_setpgid, other_tid, getpgid(0)));
	stop = 1;
	pthread_join(t, NULL);
	return 0;
}
