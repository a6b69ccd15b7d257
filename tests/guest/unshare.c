/* unshare(2): unknown flags, the thread group, handlers and memory
 * "unshared" only when nothing shares them (CLONE_NEWUSER drags in
 * CLONE_THREAD; CLONE_VM drags in CLONE_SIGHAND, which needs handlers
 * nobody else uses: not a CLONE_SIGHAND child's, even a zombie's, until
 * it execs or is reaped), and CLONE_FILES / CLONE_FS really giving the caller its
 * own fd table and cwd while a thread that shared them keeps the old
 * ones. Namespaces are left out: Linux grants them to root. */
#include "util.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

static void flags(void)
{
	res("unshare 0", rsys(SYS_unshare, 0));
	res("unshare CLONE_PTRACE", rsys(SYS_unshare, CLONE_PTRACE));
	res("unshare CLONE_VFORK", rsys(SYS_unshare, CLONE_VFORK));
	res("unshare CLONE_SETTLS|CLONE_FILES", rsys(SYS_unshare, CLONE_SETTLS | CLONE_FILES));
	res("unshare exit signal bits", rsys(SYS_unshare, SIGCHLD));
	res("unshare bit 33", rsys(SYS_unshare, 1UL << 33));
	res("unshare bit 63", rsys(SYS_unshare, 1UL << 63));
	res("unshare THREAD|SIGHAND|VM, single-threaded", rsys(SYS_unshare, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM));
	res("unshare SYSVSEM", rsys(SYS_unshare, CLONE_SYSVSEM));
	res("unshare FILES|FS, nothing shared", rsys(SYS_unshare, CLONE_FILES | CLONE_FS));
}

static int pipe_in[2], pipe_out[2];
static int probe_fd;

/* Waits for a word from main, then reports what it sees: probe_fd's
 * state and its cwd. */
static void *watcher(void *arg)
{
	char c, cwd[256];
	while (read(pipe_in[0], &c, 1) == 1 && c != 'q') {
		char msg[300];
		int open_ = fcntl(probe_fd, F_GETFD) >= 0;
		snprintf(msg, sizeof(msg), "fd %s, cwd %s", open_ ? "open" : "closed",
			 getcwd(cwd, sizeof(cwd)) ? cwd : "?");
		size_t len = strlen(msg) + 1;
		if (write(pipe_out[1], msg, len) != (ssize_t)len)
			break;
	}
	return NULL;
}

static void ask(const char *label)
{
	char msg[300] = "";
	if (write(pipe_in[1], "x", 1) != 1 || read(pipe_out[0], msg, sizeof(msg)) <= 0)
		strcpy(msg, "no answer");
	printf("%s: other thread sees %s\n", label, msg);
}

static void with_thread(void)
{
	if (pipe(pipe_in) || pipe(pipe_out) || chdir("/"))
		return;
	probe_fd = open("/dev/null", O_RDONLY);
	pthread_t t;
	pthread_create(&t, NULL, watcher, NULL);
	res("threaded: unshare THREAD", rsys(SYS_unshare, CLONE_THREAD));
	res("threaded: unshare SIGHAND", rsys(SYS_unshare, CLONE_SIGHAND));
	res("threaded: unshare VM", rsys(SYS_unshare, CLONE_VM));
	res("threaded: unshare NEWUSER (implies THREAD)", rsys(SYS_unshare, CLONE_NEWUSER));
	res("threaded: unshare NEWUSER|FILES", rsys(SYS_unshare, CLONE_NEWUSER | CLONE_FILES));
	ask("before");
	/* Shared: the thread sees main's close and chdir... */
	close(probe_fd);
	(void)!chdir("/proc");
	ask("shared, main closed the fd and went to /proc");
	probe_fd = open("/dev/null", O_RDONLY);
	(void)!chdir("/");
	/* ...until main takes its own copies. */
	res("threaded: unshare FILES", rsys(SYS_unshare, CLONE_FILES));
	res("threaded: unshare FS", rsys(SYS_unshare, CLONE_FS));
	close(probe_fd);
	(void)!chdir("/proc");
	ask("unshared, main closed the fd and went to /proc");
	int fd = open("/dev/null", O_RDONLY);
	printf("main: new fd reuses the closed number %d\n", fd == probe_fd);
	/* Its copy of pipe_in's write end lives on in the thread's table: it
	 * would never see EOF. */
	(void)!write(pipe_in[1], "q", 1);
	pthread_join(t, NULL);
	close(pipe_in[1]);
	close(fd);
	close(pipe_in[0]);
	close(pipe_out[0]);
	close(pipe_out[1]);
	(void)!chdir("/");
}

/* A process sharing our memory (CLONE_VM, like vfork) cannot unshare it;
 * one made by fork can (nothing to do). */
static long vm_child_result;
static int vm_child(void *arg)
{
	vm_child_result = rsys(SYS_unshare, CLONE_VM);
	return 0;
}

static void memory(void)
{
	static char stack[65536] __attribute__((aligned(16)));
	vm_child_result = 1;
	int pid = clone(vm_child, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	int status;
	if (pid > 0)
		waitpid(pid, &status, 0);
	res("CLONE_VM child: unshare VM", vm_child_result);
	int p[2];
	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		long r = rsys(SYS_unshare, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD);
		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	long r = 1;
	waitpid(pid, &status, 0);
	(void)!read(p[0], &r, sizeof(r));
	res("forked child: unshare VM|SIGHAND|THREAD", r);
	close(p[0]);
	close(p[1]);
}

/* A process made with CLONE_FILES stops sharing with unshare. */
static void process_files(void)
{
	int fd = open("/dev/null", O_RDONLY);
	long pid = rsys(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		long r = rsys(SYS_unshare, CLONE_FILES);
		rsys(SYS_close, fd);
		rsys(SYS_exit_group, r == 0 ? 0 : 1);
	}
	int status;
	waitpid((pid_t)pid, &status, 0);
	printf("CLONE_FILES child unshared, then closed: status %d, ours %s\n", WEXITSTATUS(status),
	       fcntl(fd, F_GETFD) >= 0 ? "open" : errname(errno));
	close(fd);
}

/* Signal handlers shared with another process (CLONE_VM|CLONE_SIGHAND
 * without CLONE_THREAD): neither side may unshare them, nor the memory;
 * the thread group (empty) unshares. The child uses raw calls only: it
 * shares our memory, errno included. */
static int sh_go[2], sh_done[2];
static long sh_child_res[4];
static int sighand_child(void *arg)
{
	char c;
	sh_child_res[0] = rsys(SYS_unshare, CLONE_SIGHAND);
	sh_child_res[1] = rsys(SYS_unshare, CLONE_VM);
	sh_child_res[2] = rsys(SYS_unshare, CLONE_THREAD);
	sh_child_res[3] = rsys(SYS_unshare, CLONE_FILES | CLONE_FS);
	rsys(SYS_write, sh_done[1], "x", 1);
	rsys(SYS_read, sh_go[0], &c, 1);
	return 0;
}

static char sh_stack[65536] __attribute__((aligned(16)));
static char self_exe[] = "/proc/self/exe";

/* The CLONE_SIGHAND child after its exec: says so, then waits for EOF. */
static int exec_sleeper(int done_fd, int go_fd)
{
	char c;
	(void)!write(done_fd, "x", 1);
	(void)!read(go_fd, &c, 1);
	return 0;
}

static int exec_child(void *arg)
{
	char done[16], go[16];
	snprintf(done, sizeof(done), "%d", sh_done[1]);
	snprintf(go, sizeof(go), "%d", sh_go[0]);
	char *argv[] = { self_exe, "sleeper", done, go, NULL };
	char *envp[] = { NULL };
	rsys(SYS_execve, self_exe, argv, envp);
	rsys(SYS_exit, 99);
	return 0;
}

static void sighand(void)
{
	if (pipe(sh_go) || pipe(sh_done))
		return;
	char c;
	int status;
	int pid = clone(sighand_child, sh_stack + sizeof(sh_stack), CLONE_VM | CLONE_SIGHAND | SIGCHLD, NULL);
	if (pid < 0) {
		printf("clone VM|SIGHAND: %s\n", errname(errno));
		return;
	}
	(void)!read(sh_done[0], &c, 1);
	res("SIGHAND child: unshare SIGHAND", sh_child_res[0]);
	res("SIGHAND child: unshare VM", sh_child_res[1]);
	res("SIGHAND child: unshare THREAD", sh_child_res[2]);
	res("SIGHAND child: unshare FILES|FS", sh_child_res[3]);
	res("SIGHAND parent: unshare SIGHAND", rsys(SYS_unshare, CLONE_SIGHAND));
	res("SIGHAND parent: unshare VM", rsys(SYS_unshare, CLONE_VM));
	res("SIGHAND parent: unshare THREAD", rsys(SYS_unshare, CLONE_THREAD));
	(void)!write(sh_go[1], "x", 1);
	/* A zombie still holds the handlers (Linux drops them when it is
	 * released), not the memory (dropped at exit). */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	res("SIGHAND parent, child a zombie: unshare SIGHAND", rsys(SYS_unshare, CLONE_SIGHAND));
	res("SIGHAND parent, child a zombie: unshare THREAD", rsys(SYS_unshare, CLONE_THREAD));
	res("SIGHAND parent, child a zombie: unshare VM", rsys(SYS_unshare, CLONE_VM));
	waitpid(pid, &status, 0);
	res("SIGHAND parent, child reaped: unshare SIGHAND", rsys(SYS_unshare, CLONE_SIGHAND));
	res("SIGHAND parent, child reaped: unshare VM", rsys(SYS_unshare, CLONE_VM));

	/* A child that execs gets handlers of its own. */
	pid = clone(exec_child, sh_stack + sizeof(sh_stack), CLONE_VM | CLONE_SIGHAND | CLONE_VFORK | SIGCHLD, NULL);
	if (pid > 0) {
		long n = read(sh_done[0], &c, 1);
		printf("SIGHAND child exec'd: %s\n", n == 1 ? "running" : "gone");
		res("SIGHAND parent, child exec'd: unshare SIGHAND", rsys(SYS_unshare, CLONE_SIGHAND));
		res("SIGHAND parent, child exec'd: unshare VM", rsys(SYS_unshare, CLONE_VM));
		(void)!write(sh_go[1], "x", 1);
		waitpid(pid, &status, 0);
		printf("SIGHAND child exec'd: exit status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}

	/* CLONE_VM without CLONE_SIGHAND: the handlers are the child's own. */
	pid = clone(sighand_child, sh_stack + sizeof(sh_stack), CLONE_VM | SIGCHLD, NULL);
	if (pid > 0) {
		(void)!read(sh_done[0], &c, 1);
		res("VM child: unshare SIGHAND", sh_child_res[0]);
		res("VM child: unshare VM", sh_child_res[1]);
		res("VM parent: unshare SIGHAND", rsys(SYS_unshare, CLONE_SIGHAND));
		(void)!write(sh_go[1], "x", 1);
		waitpid(pid, &status, 0);
	}
	close(sh_go[0]);
	close(sh_go[1]);
	close(sh_done[0]);
	close(sh_done[1]);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "sleeper"))
		return exec_sleeper(atoi(argv[2]), atoi(argv[3]));
	flags();
	with_thread();
	memory();
	process_files();
	sighand();
	return 0;
}
