/* The uid a parent is told about its child: SIGCHLD's si_uid (exit and
 * stop) and waitid's si_uid are the child's real uid, not its effective
 * one nor the waiter's. Needs root to give the child two uids. */
#include "util.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t chld_uid = -1, chld_code;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	chld_uid = (int)si->si_uid;
	chld_code = si->si_code;
}

/* A child with real uid 1000 and effective uid 2000 that stops, then
 * exits when continued. */
static pid_t two_uid_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setresuid(1000, 2000, 2000) != 0)
			_exit(99);
		raise(SIGSTOP);
		_exit(7);
	}
	return pid;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("not root: skipped\n");
		return 0;
	}
	struct sigaction sa = { .sa_sigaction = on_chld, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);

	pid_t pid = two_uid_child();
	siginfo_t si = { 0 };
	int r = waitid(P_PID, (id_t)pid, &si, WSTOPPED);
	printf("waitid stopped: %d code %s uid %d status %d\n", r,
	       si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "other", (int)si.si_uid, si.si_status);
	for (int i = 0; i < 200 && chld_uid == -1; i++)
		usleep(10000);
	printf("SIGCHLD for the stop: code %s uid %d\n", chld_code == CLD_STOPPED ? "CLD_STOPPED" : "other",
	       (int)chld_uid);

	/* No SIGCHLD for the continue: it would merge with the exit's. */
	sa.sa_flags |= SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	chld_uid = -1;
	kill(pid, SIGCONT);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	printf("waitid exited (WNOWAIT): %d code %s uid %d status %d\n", r,
	       si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", (int)si.si_uid, si.si_status);
	for (int i = 0; i < 200 && (chld_uid == -1 || chld_code != CLD_EXITED); i++)
		usleep(10000);
	printf("SIGCHLD for the exit: code %s uid %d\n", chld_code == CLD_EXITED ? "CLD_EXITED" : "other",
	       (int)chld_uid);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, (id_t)pid, &si, WEXITED);
	printf("waitid exited: %d uid %d\n", r, (int)si.si_uid);
	return 0;
}
