/* Thread pidfds (Linux 6.9 on): pidfd_open's rules (a thread that is
 * not a leader needs PIDFD_THREAD, else ENOENT), PIDFD_THREAD shown as
 * O_EXCL by F_GETFL and fdinfo, fdinfo's Pid and NSpid, poll (a thread
 * pidfd is readable and hung up once its thread has gone; a leader's,
 * like a process pidfd, only once the whole process has exited, Linux
 * 6.15's rule), pidfd_send_signal's scopes (thread-directed by default
 * for a thread pidfd, the scope flags, PIDFD_SELF_*, who may send a
 * siginfo of their own), CLONE_PIDFD with CLONE_THREAD, a leader that
 * exits before its threads, and a thread that execs.
 *
 * Only relations are printed: "Pid is the thread's tid", never ids. */
#include "proc_util.h"
#include <poll.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sched.h>

#define PIDFD_THREAD O_EXCL
#define PIDFD_SIGNAL_THREAD 1
#define PIDFD_SIGNAL_THREAD_GROUP 2
#define PIDFD_SIGNAL_PROCESS_GROUP 4
#define PIDFD_SELF_THREAD -10000
#define PIDFD_SELF_THREAD_GROUP -10001
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#define FUTEX_WAIT_ 0
#define FUTEX_WAKE_ 1

/* Linux's struct clone_args (version 0: 64 bytes). */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static long pidfd_open(long id, unsigned flags)
{
	return rsys(SYS_pidfd_open, id, flags);
}

static long send(long fd, int sig, siginfo_t *info, unsigned flags)
{
	return rsys(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static unsigned revents(long fd)
{
	struct pollfd p = { (int)fd, POLLIN | POLLRDNORM, 0 };
	return rsys(SYS_poll, &p, 1, 0) < 0 ? 0xdead : p.revents;
}

/* A poll that waits (up to 5 s) for the pidfd to become readable. */
static unsigned wait_revents(long fd)
{
	struct pollfd p = { (int)fd, POLLIN | POLLRDNORM, 0 };
	return rsys(SYS_poll, &p, 1, 5000) != 1 ? 0xdead : p.revents;
}

/* After a thread's exit: Linux wakes pollers before it releases the
 * thread, so a poll may see it readable (POLLIN) but not yet hung up
 * for a moment. What it settles to (up to 5 s). */
static unsigned settled_revents(long fd)
{
	unsigned r = revents(fd);
	for (int i = 0; i < 5000 && r != 0xdead && !(r & POLLHUP); i++) {
		usleep(1000);
		r = revents(fd);
	}
	return r;
}

/* F_GETFL as names. */
static const char *flags_of(long fd)
{
	static char buf[96];
	long fl = rsys(SYS_fcntl, fd, F_GETFL);
	if (fl < 0)
		return errname((int)-fl);
	snprintf(buf, sizeof(buf), "%s%s%s", (fl & O_ACCMODE) == O_RDWR ? "O_RDWR" : "not O_RDWR",
		 fl & O_NONBLOCK ? "|O_NONBLOCK" : "", fl & O_EXCL ? "|O_EXCL" : "");
	long rest = fl & ~(long)(O_ACCMODE | O_NONBLOCK | O_EXCL);
	if (rest)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "|0%lo", rest);
	return buf;
}

/* fdinfo's value for key ("Pid"), or LONG_MIN. */
static long fdinfo_value(long fd, const char *key)
{
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%ld", fd);
	long f = rsys(SYS_open, path, O_RDONLY);
	if (f < 0)
		return -1000000 + f;
	long n = rsys(SYS_read, f, text, sizeof(text) - 1);
	rsys(SYS_close, f);
	text[n > 0 ? n : 0] = '\0';
	size_t len = strlen(key);
	for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, key, len) && line[len] == ':')
			return strtol(line + len + 1, NULL, 0);
	return -2000000;
}

/* fdinfo's Pid and NSpid against what they should be. */
static void show_fdinfo(const char *label, long fd, long want, const char *want_name)
{
	long pid = fdinfo_value(fd, "Pid"), nspid = fdinfo_value(fd, "NSpid");
	if (pid == want && nspid == want)
		printf("%s: fdinfo Pid and NSpid %s\n", label, want_name);
	else
		printf("%s: fdinfo Pid %ld NSpid %ld, not %s\n", label, pid, nspid, want_name);
}

static const char *code_name(int code)
{
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_TKILL: return "SI_TKILL";
	case SI_QUEUE: return "SI_QUEUE";
	}
	return "other";
}

/* ---- worker threads --------------------------------------------------- */

struct worker {
	const char *name;
	pthread_t th;
	int cmd[2], rep[2];
	volatile int tid;
};
static struct worker w1 = { "w1" }, w2 = { "w2" };
static int main_tid;

static volatile int got_tid, got_code, got_count;
static void on_usr1(int s, siginfo_t *si, void *uc)
{
	got_tid = (int)rsys(SYS_gettid);
	got_code = si->si_code;
	got_count++;
}

static const char *who(int tid)
{
	return tid == main_tid ? "main" : tid == w1.tid ? "w1" : tid == w2.tid ? "w2" : tid ? "another" : "nobody";
}

/* Who took the last SIGUSR1, and how; then forget it. */
static void taken(const char *label)
{
	printf("%s%staken by %s, %s, %d time(s)\n", label ? label : "  ", label ? ": " : "", who(got_tid),
	       code_name(got_code), got_count);
	got_tid = got_code = got_count = 0;
}

static void worker_checks(struct worker *w);
static void worker_sends(struct worker *w);
static void worker_to_process(struct worker *w);

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->tid = (int)rsys(SYS_gettid);
	char c = 'r';
	(void)!write(w->rep[1], &c, 1);
	while (read(w->cmd[0], &c, 1) == 1 && c != 'x') {
		if (c == 'f')
			worker_checks(w);
		else if (c == 's')
			worker_sends(w);
		else if (c == 'g')
			worker_to_process(w);
		(void)!write(w->rep[1], &c, 1);
	}
	return NULL;
}

static void worker_start(struct worker *w)
{
	if (pipe(w->cmd) || pipe(w->rep) || pthread_create(&w->th, NULL, worker_main, w))
		exit(1);
	char c;
	(void)!read(w->rep[0], &c, 1);
}

/* A command, answered once done (and after any signal it took). */
static void ask(struct worker *w, char c)
{
	(void)!write(w->cmd[1], &c, 1);
	(void)!read(w->rep[0], &c, 1);
}

static long self_pidfd; /* our process's */

/* From inside a worker: its own tid is no process; a PIDFD_THREAD
 * pidfd of it is fine. */
static void worker_checks(struct worker *w)
{
	int tid = (int)rsys(SYS_gettid);
	res("worker: pidfd_open(own tid, 0)", pidfd_open(tid, 0));
	long own = pidfd_open(tid, PIDFD_THREAD);
	res("worker: pidfd_open(own tid, PIDFD_THREAD)", own);
	show_fdinfo("worker: own thread pidfd", own, tid, "the worker's tid");
	long proc = pidfd_open(getpid(), 0);
	res("worker: pidfd_open(getpid(), 0)", proc);
	show_fdinfo("worker: its process's pidfd", proc, getpid(), "the pid");
	rsys(SYS_close, own);
	rsys(SYS_close, proc);
}

/* From inside a worker: signals to itself, and siginfos of its own. */
static void worker_sends(struct worker *w)
{
	res("worker: PIDFD_SELF_THREAD, signal 0", send(PIDFD_SELF_THREAD, 0, NULL, 0));
	send(PIDFD_SELF_THREAD, SIGUSR1, NULL, 0);
	taken("worker: PIDFD_SELF_THREAD");
	send(PIDFD_SELF_THREAD, SIGUSR1, NULL, PIDFD_SIGNAL_THREAD_GROUP);
	taken("worker: PIDFD_SELF_THREAD with THREAD_GROUP scope");
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_USER;
	res("worker: own SI_USER siginfo through its process's pidfd", send(self_pidfd, SIGUSR1, &si, 0));
	long own = pidfd_open(rsys(SYS_gettid), PIDFD_THREAD);
	res("worker: own SI_USER siginfo through its own thread pidfd", send(own, SIGUSR1, &si, 0));
	taken(NULL);
	res("worker: own SI_USER siginfo through PIDFD_SELF_THREAD", send(PIDFD_SELF_THREAD, SIGUSR1, &si, 0));
	taken(NULL);
	res("worker: own SI_USER siginfo, PIDFD_SELF_THREAD, PROCESS_GROUP scope",
	    send(PIDFD_SELF_THREAD, SIGUSR1, &si, PIDFD_SIGNAL_PROCESS_GROUP));
	rsys(SYS_close, own);
}

/* From inside a worker, to the whole process: blocked here (for good),
 * it goes to the main thread, asleep waiting for our answer. */
static void worker_to_process(struct worker *w)
{
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	res("worker: PIDFD_SELF_THREAD_GROUP", send(PIDFD_SELF_THREAD_GROUP, SIGUSR1, NULL, 0));
}

/* ---- pidfd_open --------------------------------------------------------- */

static long t1, t2; /* the workers' thread pidfds */

static void open_rules(void)
{
	self_pidfd = pidfd_open(getpid(), 0);
	res("pidfd_open(getpid(), 0)", self_pidfd);
	printf("  F_GETFL %s, close-on-exec %ld\n", flags_of(self_pidfd), rsys(SYS_fcntl, self_pidfd, F_GETFD));
	long fd = pidfd_open(getpid(), PIDFD_THREAD);
	res("pidfd_open(getpid(), PIDFD_THREAD)", fd);
	printf("  F_GETFL %s, close-on-exec %ld\n", flags_of(fd), rsys(SYS_fcntl, fd, F_GETFD));
	show_fdinfo("  the leader's thread pidfd", fd, getpid(), "the pid");
	rsys(SYS_close, fd);
	fd = pidfd_open(getpid(), O_NONBLOCK);
	printf("pidfd_open(getpid(), O_NONBLOCK): F_GETFL %s\n", flags_of(fd));
	rsys(SYS_close, fd);
	fd = pidfd_open(getpid(), O_NONBLOCK | PIDFD_THREAD);
	printf("pidfd_open(getpid(), O_NONBLOCK|PIDFD_THREAD): F_GETFL %s\n", flags_of(fd));
	rsys(SYS_close, fd);
	res("pidfd_open(getpid(), O_CLOEXEC)", pidfd_open(getpid(), O_CLOEXEC));
	res("pidfd_open(getpid(), 1)", pidfd_open(getpid(), 1));
	res("pidfd_open(0, PIDFD_THREAD)", pidfd_open(0, PIDFD_THREAD));
	res("pidfd_open(-1, PIDFD_THREAD)", pidfd_open(-1, PIDFD_THREAD));
	show_fdinfo("process pidfd", self_pidfd, getpid(), "the pid");

	worker_start(&w1);
	worker_start(&w2);
	res("pidfd_open(worker's tid, 0)", pidfd_open(w1.tid, 0));
	res("pidfd_open(worker's tid, O_NONBLOCK)", pidfd_open(w1.tid, O_NONBLOCK));
	t1 = pidfd_open(w1.tid, PIDFD_THREAD);
	res("pidfd_open(worker's tid, PIDFD_THREAD)", t1);
	printf("  F_GETFL %s, close-on-exec %ld\n", flags_of(t1), rsys(SYS_fcntl, t1, F_GETFD));
	show_fdinfo("  thread pidfd", t1, w1.tid, "the worker's tid");
	res("  F_SETFL O_NONBLOCK", rsys(SYS_fcntl, t1, F_SETFL, O_NONBLOCK));
	printf("  F_GETFL %s\n", flags_of(t1));
	res("  F_SETFL 0", rsys(SYS_fcntl, t1, F_SETFL, 0));
	printf("  F_GETFL %s\n", flags_of(t1));
	printf("  poll while the worker runs: %#x\n", revents(t1));
	siginfo_t si;
	res("  waitid(P_PIDFD) of a thread", rsys(SYS_waitid, P_PIDFD, t1, &si, WEXITED | WNOHANG));
	t2 = pidfd_open(w2.tid, PIDFD_THREAD | O_NONBLOCK);
	res("pidfd_open(another worker's tid, PIDFD_THREAD|O_NONBLOCK)", t2);
	ask(&w1, 'f');
}

/* ---- pidfd_send_signal -------------------------------------------------- */

static void scopes(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	got_tid = got_code = got_count = 0;

	res("thread pidfd, default scope", send(t1, SIGUSR1, NULL, 0));
	ask(&w1, 'n');
	taken(NULL);
	res("process pidfd, default scope", send(self_pidfd, SIGUSR1, NULL, 0));
	taken(NULL);
	res("process pidfd, THREAD scope", send(self_pidfd, SIGUSR1, NULL, PIDFD_SIGNAL_THREAD));
	taken(NULL);
	res("thread pidfd, THREAD scope", send(t2, SIGUSR1, NULL, PIDFD_SIGNAL_THREAD));
	ask(&w2, 'n');
	taken(NULL);
	/* To the process, through w2: w2 takes it, though w1 could too (we
	 * block it, or we would as the sender). */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	res("thread pidfd, THREAD_GROUP scope", send(t2, SIGUSR1, NULL, PIDFD_SIGNAL_THREAD_GROUP));
	ask(&w2, 'n');
	ask(&w1, 'n');
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	taken(NULL);
	res("thread pidfd, PROCESS_GROUP scope, signal 0", send(t1, 0, NULL, PIDFD_SIGNAL_PROCESS_GROUP));
	res("thread pidfd, signal 65", send(t1, 65, NULL, 0));

	/* A siginfo of our own to another thread: not as the kernel or kill. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_USER;
	res("SI_USER siginfo to a worker", send(t1, SIGUSR1, &si, 0));
	si.si_code = SI_TKILL;
	res("SI_TKILL siginfo to a worker", send(t1, SIGUSR1, &si, 0));
	si.si_code = SI_QUEUE;
	res("SI_QUEUE siginfo to a worker", send(t1, SIGUSR1, &si, 0));
	ask(&w1, 'n');
	taken(NULL);
	si.si_code = SI_USER;
	res("SI_USER siginfo to ourselves through our process pidfd", send(self_pidfd, SIGUSR1, &si, 0));
	taken(NULL);

	ask(&w1, 's');
	ask(&w1, 'g');
	taken(NULL);
}

/* ---- a thread that goes ------------------------------------------------- */

static void thread_exit_seen(void)
{
	int old_tid = w1.tid;
	(void)!write(w1.cmd[1], "x", 1);
	pthread_join(w1.th, NULL);
	printf("worker gone: readable %d", !!(wait_revents(t1) & POLLIN));
	printf(", then poll %#x\n", settled_revents(t1));
	printf("  process pidfd: poll %#x\n", revents(self_pidfd));
	res("  signal 0", send(t1, 0, NULL, 0));
	res("  signal 65", send(t1, 65, NULL, 0));
	res("  signal 0, THREAD_GROUP scope", send(t1, 0, NULL, PIDFD_SIGNAL_THREAD_GROUP));
	show_fdinfo("  thread pidfd", t1, -1, "-1");
	res("  pidfd_open(its tid, PIDFD_THREAD)", pidfd_open(old_tid, PIDFD_THREAD));
	siginfo_t si;
	res("  waitid(P_PIDFD)", rsys(SYS_waitid, P_PIDFD, t1, &si, WEXITED | WNOHANG));
	rsys(SYS_close, t1);

	/* A poll that sleeps until the thread leaves. */
	(void)!write(w2.cmd[1], "x", 1);
	printf("second worker: a sleeping poll wakes, readable %d", !!(wait_revents(t2) & POLLIN));
	printf(", then poll %#x\n", settled_revents(t2));
	pthread_join(w2.th, NULL);
	rsys(SYS_close, t2);
}

/* ---- CLONE_PIDFD with CLONE_THREAD -------------------------------------- */

static volatile int release_word, ctid_word;
static char stack_area[65536] __attribute__((aligned(16)));

/* clone3 making a thread that waits (raw futex calls, no memory of its
 * own) until release_word is set, then exits. */
static long clone3_waiting(struct clone3_args *args)
{
	long ret;
	register long r12 __asm__("r12") = (long)&release_word;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 2f\n"
			 "1:\n\t"
			 "cmpl $0, (%%r12)\n\t"
			 "jne 3f\n\t"
			 "mov $202, %%eax\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "xor %%esi, %%esi\n\t"
			 "xor %%edx, %%edx\n\t"
			 "xor %%r10d, %%r10d\n\t"
			 "syscall\n\t"
			 "jmp 1b\n"
			 "3:\n\t"
			 "mov $60, %%eax\n\t"
			 "mov $7, %%edi\n\t"
			 "syscall\n"
			 "2:"
			 : "=a"(ret)
			 : "a"(435), "D"(args), "S"(sizeof(*args)), "r"(r12)
			 : "rcx", "r11", "rdx", "r10", "memory");
	return ret;
}

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | \
		      CLONE_CHILD_CLEARTID)

static void clone_pidfd(void)
{
	int pidfd = -1;
	struct clone3_args ca = {
		.flags = THREAD_FLAGS | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.child_tid = (uint64_t)(uintptr_t)&ctid_word,
		.stack = (uint64_t)(uintptr_t)stack_area,
		.stack_size = sizeof(stack_area),
	};
	release_word = 0;
	ctid_word = -1;
	long tid = clone3_waiting(&ca);
	res("clone3 THREAD|PIDFD", tid);
	if (tid < 0)
		return;
	printf("  pidfd given %d, F_GETFL %s, close-on-exec %ld\n", pidfd >= 0, flags_of(pidfd),
	       rsys(SYS_fcntl, pidfd, F_GETFD));
	show_fdinfo("  its pidfd", pidfd, tid, "the new thread's tid");
	printf("  poll while it waits: %#x\n", revents(pidfd));
	res("  signal 0", send(pidfd, 0, NULL, 0));
	res("  pidfd_open(its tid, 0)", pidfd_open(tid, 0));
	release_word = 1;
	rsys(SYS_futex, &release_word, FUTEX_WAKE_, 1);
	printf("  released: readable %d", !!(wait_revents(pidfd) & POLLIN));
	printf(", then poll %#x\n", settled_revents(pidfd));
	while (ctid_word != 0)
		rsys(SYS_futex, &ctid_word, FUTEX_WAIT_, ctid_word, NULL);
	res("  signal 0 once gone", send(pidfd, 0, NULL, 0));
	rsys(SYS_close, pidfd);

	/* A bad pidfd pointer: no thread. */
	ca.pidfd = 8;
	release_word = 1;
	res("clone3 THREAD|PIDFD, bad pidfd pointer", clone3_waiting(&ca));
	/* The pidfd and the parent tid in one word, as legacy clone has it. */
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.parent_tid = ca.pidfd;
	ca.flags |= CLONE_PARENT_SETTID;
	res("clone3 THREAD|PIDFD|PARENT_SETTID, one word", clone3_waiting(&ca));
}

/* ---- a leader that exits first ------------------------------------------ */

static int leader_pipe[2], leader_go[2];

static void *lingering(void *arg)
{
	char c;
	(void)!read(leader_go[0], &c, 1);
	/* The last thread: the process ends. Not through pthread_exit: after
	 * fork musl's leader left its thread-list lock held. */
	rsys(SYS_exit_group, 0);
	return NULL;
}

static void leader_exits_first(void)
{
	if (pipe(leader_pipe) || pipe(leader_go))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, lingering, NULL);
		(void)!write(leader_pipe[1], "r", 1);
		pthread_exit(NULL);
	}
	long pfd = pidfd_open(pid, 0), lfd = pidfd_open(pid, PIDFD_THREAD);
	char c;
	(void)!read(leader_pipe[0], &c, 1);
	usleep(50000); /* the leader's exit, most likely done: what follows holds either way */
	printf("leader gone, a thread left: process pidfd poll %#x, leader's thread pidfd poll %#x\n", revents(pfd),
	       revents(lfd));
	res("  signal 0 through the leader's thread pidfd", send(lfd, 0, NULL, 0));
	show_fdinfo("  leader's thread pidfd", lfd, pid, "the pid");
	(void)!write(leader_go[1], "x", 1);
	printf("last thread gone: process pidfd poll %#x", wait_revents(pfd));
	printf(", leader's thread pidfd poll %#x\n", revents(lfd));
	int st;
	waitpid(pid, &st, 0);
	printf("  child %s; reaped: polls %#x and %#x\n", status_str(st), revents(pfd), revents(lfd));
	show_fdinfo("  leader's thread pidfd", lfd, -1, "-1");
	rsys(SYS_close, pfd);
	rsys(SYS_close, lfd);
}

/* ---- a thread that execs ------------------------------------------------ */

static int exec_report[2], exec_cmd[2];
static char fd_text[2][16];

static void *execing(void *arg)
{
	int tid = (int)rsys(SYS_gettid);
	(void)!write(exec_report[1], &tid, sizeof(tid));
	char c;
	(void)!read(exec_cmd[0], &c, 1);
	char *argv[] = { (char *)self_exe, "exec-child", fd_text[0], fd_text[1], NULL };
	execv(self_exe, argv);
	_exit(99);
}

static int exec_child(int report_fd, int cmd_fd)
{
	int ids[2] = { (int)rsys(SYS_gettid), getpid() };
	(void)!write(report_fd, ids, sizeof(ids)); /* one write: one read gets both */
	char c;
	(void)!read(cmd_fd, &c, 1);
	return 0;
}

static void thread_execs(void)
{
	if (pipe(exec_report) || pipe(exec_cmd))
		return;
	snprintf(fd_text[0], sizeof(fd_text[0]), "%d", exec_report[1]);
	snprintf(fd_text[1], sizeof(fd_text[1]), "%d", exec_cmd[0]);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, execing, NULL);
		for (;;)
			pause();
	}
	int tid, after[2];
	(void)!read(exec_report[0], &tid, sizeof(tid));
	long tfd = pidfd_open(tid, PIDFD_THREAD), pfd = pidfd_open(pid, 0), lfd = pidfd_open(pid, PIDFD_THREAD);
	res("a child's thread: pidfd_open(tid, PIDFD_THREAD)", tfd);
	(void)!write(exec_cmd[1], "e", 1);
	(void)!read(exec_report[0], after, sizeof(after));
	printf("after its exec: it has the pid %d; polls: its thread pidfd %#x", after[0] == pid && after[1] == pid,
	       wait_revents(tfd));
	printf(", process pidfd %#x, the leader's thread pidfd %#x\n", revents(pfd), revents(lfd));
	res("  signal 0 through its old thread pidfd", send(tfd, 0, NULL, 0));
	res("  signal 0 through the leader's thread pidfd", send(lfd, 0, NULL, 0));
	show_fdinfo("  its old thread pidfd", tfd, -1, "-1");
	show_fdinfo("  the leader's thread pidfd", lfd, pid, "the pid");
	(void)!write(exec_cmd[1], "q", 1);
	int st;
	waitpid(pid, &st, 0);
	printf("  child %s\n", status_str(st));
	rsys(SYS_close, tfd);
	rsys(SYS_close, pfd);
	rsys(SYS_close, lfd);
}

/* ---- a zombie ------------------------------------------------------------ */

static void zombie(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	siginfo_t si;
	waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	long fd = pidfd_open(pid, 0), tfd = pidfd_open(pid, PIDFD_THREAD);
	res("a zombie: pidfd_open(pid, 0)", fd);
	res("a zombie: pidfd_open(pid, PIDFD_THREAD)", tfd);
	printf("  polls %#x and %#x\n", revents(fd), revents(tfd));
	show_fdinfo("  its thread pidfd", tfd, pid, "the pid");
	res("  waitid(P_PIDFD, WNOWAIT)", rsys(SYS_waitid, P_PIDFD, fd, &si, WEXITED | WNOWAIT));
	long nb = pidfd_open(pid, O_NONBLOCK);
	res("  waitid(P_PIDFD) of its thread pidfd", rsys(SYS_waitid, P_PIDFD, tfd, &si, WEXITED));
	printf("  reaped it: %d, status %d\n", si.si_pid == pid, si.si_status);
	res("reaped: pidfd_open(pid, PIDFD_THREAD)", pidfd_open(pid, PIDFD_THREAD));
	res("  waitid(P_PIDFD) of a non-blocking pidfd", rsys(SYS_waitid, P_PIDFD, nb, &si, WEXITED));
	rsys(SYS_close, fd);
	rsys(SYS_close, tfd);
	rsys(SYS_close, nb);

	/* A non-blocking pidfd of a child still running: EAGAIN, not a wait. */
	int go[2];
	if (pipe(go))
		return;
	pid = fork();
	if (pid == 0) {
		alarm(10); /* should the parent's waitid block after all */
		char c;
		(void)!read(go[0], &c, 1);
		_exit(4);
	}
	nb = pidfd_open(pid, O_NONBLOCK);
	res("a running child: waitid(P_PIDFD) of a non-blocking pidfd", rsys(SYS_waitid, P_PIDFD, nb, &si, WEXITED));
	res("  with WNOHANG", rsys(SYS_waitid, P_PIDFD, nb, &si, WEXITED | WNOHANG));
	(void)!write(go[1], "x", 1);
	fd = pidfd_open(pid, 0);
	res("  blocking waitid(P_PIDFD)", rsys(SYS_waitid, P_PIDFD, fd, &si, WEXITED));
	printf("  status %d\n", si.si_status);
	rsys(SYS_close, fd);
	rsys(SYS_close, nb);
	close(go[0]);
	close(go[1]);
}

/* fstat of a pidfd (pidfs, Linux 6.9+): mode 0700 with no file type, one
 * inode per process or thread. */
static void pidfd_stat(void)
{
	puts("-- fstat");
	int a = (int)rsys(SYS_pidfd_open, getpid(), 0), b = (int)rsys(SYS_pidfd_open, getpid(), 0);
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	int c = (int)rsys(SYS_pidfd_open, child, 0);
	struct stat sa, sb, sc;
	res("fstat", rsys(SYS_fstat, a, &sa));
	rsys(SYS_fstat, b, &sb);
	rsys(SYS_fstat, c, &sc);
	printf("mode %o nlink %lu size %ld\n", (unsigned)sa.st_mode, (unsigned long)sa.st_nlink, (long)sa.st_size);
	expect(sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev, "two pidfds of one process share an inode");
	expect(sa.st_ino != sc.st_ino, "another process's has another");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(a);
	close(b);
	close(c);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	if (argc == 4 && !strcmp(argv[1], "exec-child"))
		return exec_child(atoi(argv[2]), atoi(argv[3]));
	main_tid = (int)rsys(SYS_gettid);
	open_rules();
	scopes();
	thread_exit_seen();
	clone_pidfd();
	leader_exits_first();
	thread_execs();
	zombie();
	pidfd_stat();
	return expect_failures != 0;
}
