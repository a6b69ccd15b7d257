/* Threads with and without their own fd table and fs state: a thread
 * made with CLONE_THREAD but without CLONE_FS has its own cwd and umask
 * (a chdir there leaves the others' alone), one without CLONE_FILES its
 * own fd table (a close there does not close in the others, an fd it
 * opens is not theirs, and its copy of the table goes when it exits); with
 * the flags, the changes are seen by all. A process made with
 * CLONE_FILES shares the table in the same way. The threads use raw
 * system calls only: they run on the main thread's TLS. */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#endif

static char thread_stack[65536] __attribute__((aligned(16)));
static volatile int ctid_word;

/* Run fn in a new thread of this process (clone flags: a thread plus
 * extra), and wait until it has exited. */
static int run_thread(int (*fn)(void *), int extra)
{
	ctid_word = -1;
	int flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID | extra;
	int tid = clone(fn, thread_stack + sizeof(thread_stack), flags, NULL, NULL, NULL, (int *)&ctid_word);
	if (tid < 0)
		return -errno;
	while (ctid_word != 0)
		syscall(SYS_futex, &ctid_word, FUTEX_WAIT, ctid_word, NULL, NULL, 0);
	return 0;
}

static char thread_cwd[256], proc_cwds[512];
static long thread_old_umask;
static int main_tid;

/* What /proc says of a thread's cwd (raw calls: the thread has no TLS). */
static void proc_cwd(const char *label, const char *path)
{
	char buf[256];
	long n = rsys(SYS_readlink, path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	size_t o = strlen(proc_cwds);
	snprintf(proc_cwds + o, sizeof(proc_cwds) - o, " %s %s", label, n > 0 ? buf : "?");
}

static int fs_thread(void *arg)
{
	rsys(SYS_chdir, "/tmp");
	if (rsys(SYS_getcwd, thread_cwd, sizeof(thread_cwd)) < 0)
		strcpy(thread_cwd, "?");
	thread_old_umask = rsys(SYS_umask, 077);
	/* /proc/<pid>/task/<tid>/cwd is that thread's own. */
	char path[64];
	proc_cwds[0] = 0;
	proc_cwd("thread-self", "/proc/thread-self/cwd");
	snprintf(path, sizeof(path), "/proc/self/task/%d/cwd", main_tid);
	proc_cwd("main's task", path);
	return 0;
}

static void cwd_umask(void)
{
	char cwd[256];
	if (chdir("/") || chdir("/proc"))
		return;
	main_tid = (int)syscall(SYS_gettid);
	umask(022);
	int r = run_thread(fs_thread, 0);
	mode_t now = umask(022);
	printf("own fs: clone %s, thread cwd %s, thread's umask was %03lo, main cwd %s, main umask %03o\n",
	       errname(-r), thread_cwd, thread_old_umask, getcwd(cwd, sizeof(cwd)) ? cwd : "?", (unsigned)now);
	printf("own fs: /proc seen from the thread:%s\n", proc_cwds);

	r = run_thread(fs_thread, CLONE_FS);
	now = umask(022);
	printf("shared fs: clone %s, thread cwd %s, main cwd %s, main umask %03o\n", errname(-r), thread_cwd,
	       getcwd(cwd, sizeof(cwd)) ? cwd : "?", (unsigned)now);
	printf("shared fs: /proc seen from the thread:%s\n", proc_cwds);
	/* A relative path resolves against the thread's own cwd. */
	(void)!chdir("/");
}

static int shared_fd;
static long thread_close, thread_open;

static int files_thread(void *arg)
{
	thread_open = rsys(SYS_open, "/dev/null", O_RDONLY);
	thread_close = rsys(SYS_close, shared_fd);
	return 0;
}

static const char *fd_state(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 ? "open" : errname(errno);
}

static void files(void)
{
	int p[2];
	if (pipe(p))
		return;
	shared_fd = p[1];
	int r = run_thread(files_thread, CLONE_FS);
	printf("own files: clone %s, close in thread %s, fd in main %s, thread's new fd in main %s\n",
	       errname(-r), rstr(thread_close), fd_state(p[1]), thread_open >= 0 ? fd_state((int)thread_open) : "-");
	/* The thread's table went with it: the only write end left is ours. */
	close(p[1]);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	char c;
	int ready = poll(&pfd, 1, 2000);
	printf("own files: EOF once main closes the write end %d\n", ready == 1 && read(p[0], &c, 1) == 0);
	close(p[0]);

	if (pipe(p))
		return;
	shared_fd = p[1];
	r = run_thread(files_thread, CLONE_FS | CLONE_FILES);
	printf("shared files: clone %s, close in thread %s, fd in main %s, thread's new fd in main %s\n",
	       errname(-r), rstr(thread_close), fd_state(p[1]), thread_open >= 0 ? fd_state((int)thread_open) : "-");
	if (thread_open >= 0)
		close((int)thread_open);
	close(p[0]);
}

/* A process (no CLONE_THREAD, no CLONE_VM) sharing the fd table. */
static void process_files(void)
{
	int fd = open("/dev/null", O_RDONLY);
	long pid = rsys(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		rsys(SYS_close, fd);
		rsys(SYS_exit_group, 0);
	}
	int status;
	waitpid((pid_t)pid, &status, 0);
	printf("process with CLONE_FILES: its close closed ours: %s\n", fd_state(fd));

	fd = open("/dev/null", O_RDONLY);
	pid = rsys(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		rsys(SYS_close, fd);
		rsys(SYS_exit_group, 0);
	}
	waitpid((pid_t)pid, &status, 0);
	printf("process without: ours %s\n", fd_state(fd));
	close(fd);
}

int main(void)
{
	cwd_umask();
	files();
	process_files();
	return 0;
}
