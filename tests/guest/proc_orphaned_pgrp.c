/* POSIX's orphaned process groups: when the exit of a process leaves a
 * group with stopped members without a parent in another group of the
 * same session, every member gets SIGHUP and then SIGCONT (Linux's
 * kill_orphaned_pgrp). Here a session leader's job stops, and the leader
 * exits: its job's new parent is in another session. A job whose group
 * keeps such a link, or has no stopped member, gets nothing. */
#include "util.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t hup, cont;
static void on_sig(int sig) { if (sig == SIGHUP) hup++; else cont++; }

/* A job in a group of its own that stops; prints what it got later. */
static pid_t job(int pipe_w, int stop)
{
	pid_t j = fork();
	if (j == 0) {
		setpgid(0, 0);
		signal(SIGHUP, on_sig);
		signal(SIGCONT, on_sig);
		if (stop)
			raise(SIGSTOP);
		for (int i = 0; i < 100 && !hup; i++)
			usleep(5000);
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "%s job: SIGHUP %d, SIGCONT %d\n", stop ? "stopped" : "running",
				 (int)hup, (int)cont);
		write(pipe_w, msg, n);
		_exit(0);
	}
	setpgid(j, j);
	return j;
}

static void leader_exits(int stop)
{
	int p[2];
	pipe(p);
	pid_t mid = fork();
	if (mid == 0) {
		setsid(); /* a session of its own, as a login shell's */
		pid_t j = job(p[1], stop);
		int st;
		if (stop)
			waitpid(j, &st, WUNTRACED);
		_exit(0);
	}
	close(p[1]);
	waitpid(mid, NULL, 0);
	char buf[128] = { 0 };
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	printf("%s", n > 0 ? buf : "the job said nothing\n");
	close(p[0]);
	while (wait(NULL) > 0) /* the job, now ours or init's */
		;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(20);
	leader_exits(1);
	leader_exits(0);
	return 0;
}
