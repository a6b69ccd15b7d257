/* vfork, posix_spawn and clone with CLONE_VM: the parent is suspended
 * until the child execs or exits; the child shares the parent's memory
 * meanwhile (the errno-of-a-failed-exec pattern programs rely on);
 * posix_spawn and posix_spawnp with file actions and attributes, and the
 * errors they report (glibc and musl both use clone(CLONE_VM|CLONE_VFORK)).
 * The binary re-runs itself (argv[0]) with a mode in argv[1]. */
#include "proc_util.h"
#include <sched.h>
#include <spawn.h>
#include <sys/mman.h>

extern char **environ;

static volatile int shared_flag;
static volatile int child_errno;

/* On its own: the caller's locals are not live across vfork here. */
static __attribute__((noinline)) int vfork_true(void)
{
	pid_t pid = vfork();
	if (pid == 0) {
		execve("/bin/true", (char *[]){ "true", NULL }, environ);
		_exit(127);
	}
	return reap(pid);
}

static void vfork_cases(void)
{
	printf("-- vfork\n");
	pid_t me = getpid();

	/* The parent resumes only after the child's _exit. */
	shared_flag = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		struct timespec t = { 0, 50 * 1000000L };
		nanosleep(&t, NULL);
		shared_flag = getppid() == me ? 1 : 2;
		_exit(7);
	}
	expect(pid > 0, "vfork returns the child's pid in the parent");
	expect(shared_flag == 1, "the parent ran only after the child's _exit, and saw its write (getppid == parent)");
	printf("vfork child: %s\n", status_str(reap(pid)));

	/* A failed exec in the child: errno reaches the parent through memory. */
	child_errno = 0;
	pid = vfork();
	if (pid == 0) {
		execve("/nonexistent/program", (char *[]){ "x", NULL }, environ);
		child_errno = errno;
		_exit(127);
	}
	printf("errno of the child's failed execve, seen by the parent: %s\n", errname(child_errno));
	printf("vfork child: %s\n", status_str(reap(pid)));

	/* The parent resumes at the child's exec, while the child still runs:
	 * the exec'd program waits for a byte on fd 3. */
	int p[2];
	pipe(p);
	pid = vfork();
	if (pid == 0) {
		dup2(p[0], 3);
		execve(self_exe, (char *[]){ "x", "wait3", NULL }, environ);
		_exit(127);
	}
	int st = 0;
	pid_t r = waitpid(pid, &st, WNOHANG);
	expect(r == 0, "the parent resumed at exec, the child still runs (WNOHANG: 0)");
	write(p[1], "go", 1);
	close(p[0]);
	close(p[1]);
	printf("exec'd vfork child: %s\n", status_str(reap(pid)));

	/* Several vforks in a row, each exec'ing /bin/true. */
	int ok = 0;
	for (int i = 0; i < 20; i++) {
		st = vfork_true();
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	printf("20 vfork+exec of /bin/true: %d exited 0\n", ok);
}

/* clone(CLONE_VM|CLONE_VFORK): as posix_spawn does, on its own stack. */
static int vm_child(void *arg)
{
	int *x = arg;
	*x = 42;   /* the same memory as the parent's */
	return 5;
}
static int vm_exec_child(void *arg)
{
	execve(self_exe, (char *[]){ "x", "exit9", NULL }, environ);
	*(int *)arg = errno;
	return 127;
}

static void clone_vm_cases(void)
{
	printf("-- clone(CLONE_VM|CLONE_VFORK)\n");
	size_t stsz = 64 * 1024;
	char *stack = mmap(NULL, stsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	int x = 1;
	pid_t pid = clone(vm_child, stack + stsz, CLONE_VM | CLONE_VFORK | SIGCHLD, &x);
	expect(pid > 0, "clone returns the child's pid");
	expect(x == 42, "the parent sees the child's write when it resumes");
	printf("CLONE_VM|CLONE_VFORK child: %s\n", status_str(reap(pid)));
	x = 0;
	pid = clone(vm_exec_child, stack + stsz, CLONE_VM | CLONE_VFORK | SIGCHLD, &x);
	printf("CLONE_VM|CLONE_VFORK child that execs: %s (exec errno: %s)\n", status_str(reap(pid)), errname(x));
	munmap(stack, stsz);
}

static char out[16384];
static char my_pid[32];
static char *report_argv[] = { "x", "report", my_pid, NULL };

struct spawn_args {
	const char *path;
	char *const *argv;
	posix_spawn_file_actions_t *fa;
	posix_spawnattr_t *attr;
	int use_p;
	int err;
	pid_t pid;
};
/* posix_spawn with its stdout into a pipe; prints the child's output. */
static void spawn_show(const char *label, struct spawn_args a)
{
	int p[2];
	pipe(p);
	posix_spawn_file_actions_t fa;
	if (!a.fa) {
		posix_spawn_file_actions_init(&fa);
		a.fa = &fa;
	}
	posix_spawn_file_actions_adddup2(a.fa, p[1], 1);
	posix_spawn_file_actions_addclose(a.fa, p[0]);
	pid_t pid = 0;
	int e = a.use_p ? posix_spawnp(&pid, a.path, a.fa, a.attr, a.argv, environ)
			: posix_spawn(&pid, a.path, a.fa, a.attr, a.argv, environ);
	close(p[1]);
	ssize_t n = read_all(p[0], out, sizeof out - 1);
	out[n > 0 ? n : 0] = 0;
	close(p[0]);
	if (e) {
		printf("%s: posix_spawn returned %s\n", label, errname(e));
		/* glibc and musl reap a child that failed to exec. */
		return;
	}
	printf("%s: %s\n", label, status_str(reap(pid)));
	print_indented(out);
	posix_spawn_file_actions_destroy(a.fa);
}

static void spawn_cases(void)
{
	printf("-- posix_spawn\n");
	spawn_show("spawn self", (struct spawn_args){ .path = self_exe,
		.argv = report_argv });
	spawn_show("spawnp true", (struct spawn_args){ .path = "true",
		.argv = (char *[]){ "true", NULL }, .use_p = 1 });
	spawn_show("spawnp echo", (struct spawn_args){ .path = "echo",
		.argv = (char *[]){ "echo", "spawned", "echo", NULL }, .use_p = 1 });
	spawn_show("spawn a missing program", (struct spawn_args){ .path = "/nonexistent/program",
		.argv = (char *[]){ "x", NULL } });
	spawn_show("spawnp a missing program", (struct spawn_args){ .path = "no-such-program-anywhere",
		.argv = (char *[]){ "x", NULL }, .use_p = 1 });
	spawn_show("spawn a directory", (struct spawn_args){ .path = "/etc",
		.argv = (char *[]){ "x", NULL } });

	/* File actions: open a file on fd 5, close fd 6. */
	int six = open("/etc/passwd", O_RDONLY);
	dup2(six, 6);
	close(six);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 5, "/etc/passwd", O_RDONLY, 0);
	posix_spawn_file_actions_addclose(&fa, 6);
	spawn_show("file actions: open fd 5, close fd 6", (struct spawn_args){ .path = self_exe,
		.argv = (char *[]){ "x", "fds", NULL }, .fa = &fa });
	close(6);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 5, "/nonexistent/file", O_RDONLY, 0);
	spawn_show("file actions: an open that fails", (struct spawn_args){ .path = self_exe,
		.argv = (char *[]){ "x", "fds", NULL }, .fa = &fa });

	/* Attributes: a new process group, a signal mask, default signals. */
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	posix_spawnattr_setsigmask(&at, &m);
	sigset_t def;
	sigemptyset(&def);
	sigaddset(&def, SIGUSR1);
	posix_spawnattr_setsigdefault(&at, &def);
	signal(SIGUSR1, SIG_IGN);
	spawn_show("attributes: own group, SIGUSR2 blocked, SIGUSR1 default", (struct spawn_args){
		.path = self_exe, .argv = report_argv, .attr = &at });
	signal(SIGUSR1, SIG_DFL);
	posix_spawnattr_destroy(&at);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
	spawn_show("attributes: a new session", (struct spawn_args){
		.path = self_exe, .argv = report_argv, .attr = &at });
	posix_spawnattr_destroy(&at);
}

/* ---- modes of the re-run binary ------------------------------------------ */

static int mode_report(const char *spawner)
{
	/* The spawner's pid is our parent's: compare with getppid(). */
	printf("pid == pgid: %s\n", getpgid(0) == getpid() ? "yes" : "no");
	printf("pid == sid: %s\n", getsid(0) == getpid() ? "yes" : "no");
	sigset_t m;
	sigprocmask(SIG_BLOCK, NULL, &m);
	printf("SIGUSR2 blocked: %s\n", sigismember(&m, SIGUSR2) ? "yes" : "no");
	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	printf("SIGUSR1 ignored: %s\n", sa.sa_handler == SIG_IGN ? "yes" : "no");
	printf("ppid == spawner: %s\n", atol(spawner) == getppid() ? "yes" : "no");
	return 0;
}

static int mode_fds(void)
{
	char buf[5] = { 0 };
	printf("fd 5: %s\n", read(5, buf, 4) == 4 ? "reads the file" : errname(errno));
	printf("fd 6: %s\n", fcntl(6, F_GETFD) < 0 ? errname(errno) : "open");
	return 0;
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	if (argc > 1) {
		if (!strcmp(argv[1], "wait3")) {
			char c;
			return read(3, &c, 1) == 1 ? 3 : 4;
		}
		if (!strcmp(argv[1], "exit9"))
			return 9;
		if (!strcmp(argv[1], "report") && argc > 2)
			return mode_report(argv[2]);
		if (!strcmp(argv[1], "fds"))
			return mode_fds();
		printf("unknown mode %s\n", argv[1]);
		return 2;
	}
	snprintf(my_pid, sizeof my_pid, "%d", (int)getpid());
	vfork_cases();
	clone_vm_cases();
	spawn_cases();
	return expect_failures ? 1 : 0;
}
