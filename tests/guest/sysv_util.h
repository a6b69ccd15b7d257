/* Helpers for the SysV IPC tests: every object a test makes is removed at
 * exit (IPC_RMID), also when it fails, since natively they live in the
 * host's namespace; keys are derived from the pid so that parallel runs
 * never meet. */
#include "util.h"
#include <signal.h>
#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/wait.h>

enum { IPC_KIND_SHM, IPC_KIND_SEM, IPC_KIND_MSG };
static struct { int kind, id; } ipc_made[64];
static int ipc_nmade;
static int ipc_owner_pid;

static void ipc_cleanup(void)
{
	if (getpid() != ipc_owner_pid)
		return;
	for (int i = 0; i < ipc_nmade; i++) {
		int id = ipc_made[i].id;
		switch (ipc_made[i].kind) {
		case IPC_KIND_SHM: rsys(SYS_shmctl, id, IPC_RMID, 0); break;
		case IPC_KIND_SEM: rsys(SYS_semctl, id, 0, IPC_RMID, 0); break;
		case IPC_KIND_MSG: rsys(SYS_msgctl, id, IPC_RMID, 0); break;
		}
	}
}

static void ipc_track(int kind, long id)
{
	if (!ipc_owner_pid) {
		ipc_owner_pid = getpid();
		atexit(ipc_cleanup);
	}
	if (id >= 0 && ipc_nmade < 64)
		ipc_made[ipc_nmade++] = (typeof(ipc_made[0])){ kind, (int)id };
}

/* A key of our own: not IPC_PRIVATE, unique to this process. */
static int ipc_key(int n)
{
	return (int)(0x7c000000 | ((unsigned)getpid() << 4) | (unsigned)n);
}

static const char *child_status(int st)
{
	static char buf[40];
	if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "signal %s", WTERMSIG(st) == SIGSEGV ? "SIGSEGV" :
			 WTERMSIG(st) == SIGKILL ? "SIGKILL" : "other");
	else
		snprintf(buf, sizeof buf, "?");
	return buf;
}

static const char *wait_child(int pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return child_status(st);
}

/* /proc/sysvipc/<file>: its header, and the given columns (1-based) of
 * the line of object id (the others hold ids, pids and times). */
static void sysvipc_show(const char *file, long id, const int *cols, int ncols)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/sysvipc/%s", file);
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("%s: %s\n", path, errname(errno));
		return;
	}
	bool found = false;
	if (fgets(line, sizeof line, f))
		printf("%s header:%s", path, line);
	while (fgets(line, sizeof line, f)) {
		char *tok[20];
		int n = 0;
		for (char *t = strtok(line, " \n"); t && n < 20; t = strtok(NULL, " \n"))
			tok[n++] = t;
		if (n < 2 || atol(tok[1]) != id)
			continue;
		found = true;
		printf("%s line:", path);
		for (int i = 0; i < ncols; i++)
			printf(" %s", cols[i] <= n ? tok[cols[i] - 1] : "?");
		printf(" (%d columns)\n", n);
	}
	if (!found)
		printf("%s: no line for the id\n", path);
	fclose(f);
}

/* In a child: become uid/gid 65534 without capabilities (when root). */
#include <grp.h>
static void become_nobody(void)
{
	if (geteuid() == 0) {
		setgroups(0, NULL);
		if (setgid(65534) || setuid(65534))
			printf("NO: could not become nobody\n");
	}
}
