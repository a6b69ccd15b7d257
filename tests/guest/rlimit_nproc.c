/* RLIMIT_NPROC against Linux: a new process or thread may not take its
 * real user's tasks past the limit (EAGAIN), zombies count until reaped,
 * and root is not limited. Needs root to become a user of its own (54329,
 * which nothing else runs as); as another user it checks nothing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"

static void *idle(void *arg) { return arg; }

/* A child that exits at once, or (p given) once p[1] is closed. */
static pid_t spawn(const char *label, const int *p)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		if (p) {
			close(p[1]);
			if (read(p[0], &c, 1) < 0)
				_exit(1);
		}
		_exit(0);
	}
	printf("%s: %s\n", label, pid > 0 ? "ok" : errname(errno));
	return pid;
}

static void as_user(void)
{
	struct rlimit r = { 3, 3 };
	res("setresgid(54329)", rsys(SYS_setresgid, 54329, 54329, 54329));
	res("setresuid(54329)", rsys(SYS_setresuid, 54329, 54329, 54329));
	res("setrlimit NPROC 3", setrlimit(RLIMIT_NPROC, &r) ? -errno : 0);
	int p[2];
	if (pipe(p))
		return;
	pid_t a = spawn("fork 2nd task", p);
	pid_t b = spawn("fork 3rd task (exits at once)", NULL);
	if (b > 0)
		waitid(P_PID, b, &(siginfo_t){ 0 }, WEXITED | WNOWAIT);
	spawn("fork 4th task while the 3rd is a zombie", NULL);
	pthread_t t;
	int e = pthread_create(&t, NULL, idle, NULL);
	printf("pthread_create: %s\n", e ? errname(e) : "ok");
	if (!e)
		pthread_join(t, NULL);
	if (b > 0)
		waitpid(b, NULL, 0);
	pid_t c = spawn("fork once the zombie is reaped", NULL);
	if (c > 0)
		waitpid(c, NULL, 0);
	e = pthread_create(&t, NULL, idle, NULL);
	printf("pthread_create then: %s\n", e ? errname(e) : "ok");
	if (!e)
		pthread_join(t, NULL);
	close(p[1]);
	if (a > 0)
		waitpid(a, NULL, 0);
}

int main(void)
{
	if (geteuid() != 0) {
		puts("not root: nothing to check");
		return 0;
	}
	struct rlimit r = { 1, RLIM_INFINITY };
	setrlimit(RLIMIT_NPROC, &r);
	pid_t pid = spawn("root with NPROC 1 forks", NULL);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	r.rlim_cur = RLIM_INFINITY;
	setrlimit(RLIMIT_NPROC, &r);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		as_user();
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return 0;
}
