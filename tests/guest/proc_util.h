/* Helpers shared by the process tests (tests/guest/proc_*.c), on top of
 * util.h.
 *
 * Output rules for tests that fork: stdout is line-buffered (set by
 * proc_init) so nothing buffered is duplicated by fork, and a parent
 * waits for a child before it prints again, so lines never interleave.
 * Children report what they saw with their exit status or through a
 * pipe; only relations are printed ("ppid == parent's pid"), never pids.
 *
 * Helper programs: a test re-runs its own binary with a mode argument
 * (argv[0], which the runner gives as an absolute path: /proc/self/exe
 * may not exist), and runs the scripts in tests/guest/data/, found
 * through $COCOON_TESTDATA (set by tests/run.sh) or else next to the
 * build directory. */
#ifndef COCOON_GUEST_PROC_UTIL_H
#define COCOON_GUEST_PROC_UTIL_H

#include "util.h"
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>

static const char *self_exe;   /* argv[0] */

static void proc_init(int argc, char **argv)
{
	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	self_exe = argv[0];
}

static const char *signame(int s)
{
	switch (s) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGTRAP: return "SIGTRAP";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	case SIGUSR1: return "SIGUSR1";
	case SIGSEGV: return "SIGSEGV";
	case SIGUSR2: return "SIGUSR2";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM";
	case SIGTERM: return "SIGTERM";
	case SIGCHLD: return "SIGCHLD";
	case SIGCONT: return "SIGCONT";
	case SIGSTOP: return "SIGSTOP";
	case SIGTSTP: return "SIGTSTP";
	case SIGTTIN: return "SIGTTIN";
	case SIGTTOU: return "SIGTTOU";
	case 0: return "0";
	}
	static char buf[16];
	snprintf(buf, sizeof buf, "SIG%d", s);
	return buf;
}

/* A wait status as text. The core-dump bit is left out on purpose: it
 * depends on the host's core_pattern and limits. */
static const char *status_str(int st)
{
	static char buf[64];
	if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "killed by %s", signame(WTERMSIG(st)));
	else if (WIFSTOPPED(st))
		snprintf(buf, sizeof buf, "stopped by %s", signame(WSTOPSIG(st)));
	else if (WIFCONTINUED(st))
		snprintf(buf, sizeof buf, "continued");
	else
		snprintf(buf, sizeof buf, "status 0x%x", st);
	return buf;
}

/* waitpid for one pid, retried on EINTR; prints "label: exited 0" etc. */
static int reap(pid_t pid)
{
	int st = -1;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r != pid)
		return -1;
	return st;
}
static void reap_print(const char *label, pid_t pid)
{
	int st = reap(pid);
	printf("%s: %s\n", label, st == -1 ? "waitpid failed" : status_str(st));
}

/* fork, or end the test: carrying on with pid -1 would be dangerous
 * (kill(-1, sig) signals every process the caller may signal). */
static pid_t xfork(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork failed: %s\n", errname(errno));
		fflush(stdout);
		_exit(1);
	}
	return pid;
}

/* kill for a child's pid or group: refuses anything that is not one. */
static int kill_child(pid_t pid, int sig)
{
	if (pid > 1 || pid < -1)
		return kill(pid, sig);
	printf("refusing kill(%d, %d)\n", (int)pid, sig);
	errno = ESRCH;
	return -1;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* Full-length pipe I/O (children exit on EOF, so no one blocks forever). */
static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
static ssize_t read_all(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, c + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* tests/guest/data/NAME as an absolute path. */
static const char *data_path(const char *name)
{
	static char buf[4096];
	const char *d = getenv("COCOON_TESTDATA");
	if (d && *d) {
		snprintf(buf, sizeof buf, "%s/%s", d, name);
		return buf;
	}
	/* argv[0] is BUILD/tests/guest/X.variant; BUILD sits in the tree. */
	snprintf(buf, sizeof buf, "%s", self_exe);
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	size_t n = strlen(buf);
	snprintf(buf + n, sizeof buf - n, "/../../../tests/guest/data/%s", name);
	return buf;
}

/* Run fn(ctx) in a child with stdout into a pipe (stdin /dev/null,
 * stderr kept); fn normally execs. Returns the child's wait status and
 * its output in out (NUL-terminated). If fn returns, the child prints
 * errno's name and exits 127. */
static int capture(void (*fn)(void *), void *ctx, char *out, size_t outsz)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = xfork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0 && nul != 0) {
			dup2(nul, 0);
			close(nul);
		}
		errno = 0;
		fn(ctx);
		printf("exec failed: %s\n", errname(errno));
		fflush(stdout);
		_exit(127);
	}
	close(p[1]);
	ssize_t n = read_all(p[0], out, outsz - 1);
	out[n < 0 ? 0 : n] = 0;
	close(p[0]);
	return reap(pid);
}

struct exec_args { const char *path; char *const *argv, *const *envp; };
static void do_execve(void *ctx)
{
	extern char **environ;
	struct exec_args *a = ctx;
	execve(a->path, a->argv, a->envp ? a->envp : environ);
}
/* execve(path, argv, envp or the current environment) under capture(). */
static int run_capture(const char *path, char *const argv[], char *const envp[],
		       char *out, size_t outsz)
{
	struct exec_args a = { path, argv, envp };
	return capture(do_execve, &a, out, outsz);
}

/* Replace every occurrence of `from` in s (in place, with room) by `to`. */
static void replace_all(char *s, size_t sz, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	if (!fl)
		return;
	for (char *p = strstr(s, from); p; p = strstr(p + tl, from)) {
		size_t rest = strlen(p + fl);
		if ((size_t)(p - s) + tl + rest + 1 > sz)
			return;
		memmove(p + tl, p + fl, rest + 1);
		memcpy(p, to, tl);
	}
}

/* Print captured output, each line indented by "  | ". */
static void print_indented(const char *s)
{
	while (*s) {
		const char *e = strchr(s, '\n');
		int n = e ? (int)(e - s) : (int)strlen(s);
		printf("  | %.*s\n", n, s);
		s += n + (e ? 1 : 0);
	}
}

#endif
