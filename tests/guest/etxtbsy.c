/* ETXTBSY: a running program cannot be opened for writing or truncated,
 * and a file open for writing cannot be executed; both work again once
 * the other side is gone. The test runs as a copy of itself in /tmp:
 * its own file may lie on a read-only mount (EROFS comes before
 * ETXTBSY), and the host's is never at stake. */
#include "util.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *err_of(int r) { return r < 0 ? errname(errno) : "ok"; }

static int copy_fd(int from, int to)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(to, buf, n) != n)
			return -1;
	return n < 0 ? -1 : 0;
}

/* Run path in a child: what execve said, or how the program ended. */
static void run(const char *what, const char *path)
{
	fflush(stdout);
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		fcntl(p[1], F_SETFD, FD_CLOEXEC);
		execl(path, path, "--exit", (char *)NULL);
		int e = errno;
		write(p[1], &e, sizeof(e));
		_exit(127);
	}
	close(p[1]);
	int e = 0, st;
	ssize_t n = read(p[0], &e, sizeof(e));
	close(p[0]);
	waitpid(pid, &st, 0);
	if (n == sizeof(e))
		printf("%s: exec %s\n", what, errname(e));
	else
		printf("%s: ran, exit %d\n", what, WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--exit"))
		return 3;
	if (argc > 1 && !strcmp(argv[1], "--wait")) { /* say we run, wait for EOF */
		char c;
		write(3, "r", 1);
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "--copy")) {
		char self[] = "/tmp/etxtbsy-selfXXXXXX";
		int w = mkstemp(self), r = open("/proc/self/exe", O_RDONLY);
		if (w < 0 || r < 0 || copy_fd(r, w) < 0 || fchmod(w, 0755) < 0)
			return 2;
		close(r);
		close(w);
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			execl(self, self, "--copy", (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(pid, &st, 0);
		unlink(self);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	printf("open /proc/self/exe O_WRONLY: %s\n", err_of(open("/proc/self/exe", O_WRONLY)));
	printf("open own program O_RDWR: %s\n", err_of(open(argv[0], O_RDWR)));
	printf("open own program O_RDONLY: %s\n", err_of(open(argv[0], O_RDONLY)));
	printf("truncate own program: %s\n", err_of(truncate(argv[0], 0)));

	/* A copy of ourselves in /tmp, still open for writing. */
	char tmp[] = "/tmp/etxtbsyXXXXXX";
	int w = mkstemp(tmp), r = open(argv[0], O_RDONLY);
	copy_fd(r, w);
	close(r);
	fchmod(w, 0755);
	run("copy open for writing", tmp);
	int ro = open(tmp, O_RDONLY);
	close(w);
	run("copy after close (a read-only fd stays)", tmp);
	close(ro);

	/* While a child runs the copy, it cannot be written; once it is
	 * gone, it can. */
	fflush(stdout);
	int go[2], ready[2];
	pipe(go);
	pipe(ready);
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		dup2(go[0], 0);
		dup2(ready[1], 3);
		execl(tmp, tmp, "--wait", (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	close(ready[1]);
	char c;
	read(ready[0], &c, 1); /* it runs */
	printf("open the copy for writing while it runs: %s\n", err_of(open(tmp, O_WRONLY)));
	close(go[1]);
	waitpid(pid, NULL, 0);
	printf("... after it exited: %s\n", err_of(open(tmp, O_WRONLY)));
	unlink(tmp);
	return 0;
}
