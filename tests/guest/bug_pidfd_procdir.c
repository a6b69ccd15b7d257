/* pidfd_send_signal takes an open /proc/<pid> directory as a pidfd
 * (Python's test_signal does this); other /proc directories and plain
 * files stay EBADF, and a directory of a reaped child gives ESRCH. */
#include "util.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static volatile sig_atomic_t got;
static void on_usr1(int s) { (void)s; got++; }

static int open_pid_dir(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", pid);
	return open(path, O_RDONLY | O_DIRECTORY);
}

static void show(const char *what, long r)
{
	printf("%s: %s\n", what, r < 0 ? errname((int)-r) : "0");
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	int me = open_pid_dir(getpid());
	show("self dir", rsys(SYS_pidfd_send_signal, me, SIGUSR1, 0, 0));
	printf("handled: %d\n", (int)got);
	show("self dir sig 0", rsys(SYS_pidfd_send_signal, me, 0, 0, 0));
	show("bad flags", rsys(SYS_pidfd_send_signal, me, 0, 0, 8));

	int sub = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	show("fd dir", rsys(SYS_pidfd_send_signal, sub, 0, 0, 0));
	int procroot = open("/proc", O_RDONLY | O_DIRECTORY);
	show("/proc", rsys(SYS_pidfd_send_signal, procroot, 0, 0, 0));
	int file = open("/proc/self/status", O_RDONLY);
	show("status file", rsys(SYS_pidfd_send_signal, file, 0, 0, 0));

	pid_t child = fork();
	if (child == 0) {
		alarm(5); /* ends it should the kill not come */
		pause();
		_exit(0);
	}
	int cd = open_pid_dir(child);
	show("child dir kill", rsys(SYS_pidfd_send_signal, cd, SIGTERM, 0, 0));
	int st;
	waitpid(child, &st, 0);
	printf("child: %s %d\n", WIFSIGNALED(st) ? "signaled" : "exited",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	show("reaped child dir", rsys(SYS_pidfd_send_signal, cd, 0, 0, 0));
	return 0;
}
