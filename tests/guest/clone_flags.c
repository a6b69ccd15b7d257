/* clone and clone3 flag rules: a table of flag combinations and what
 * each gets (Linux's copy_process, kernel_clone and clone3 checks). A
 * combination that succeeds makes a child that exits at once (status 7,
 * from the raw syscall sequence itself, before touching any memory);
 * threads are waited for through CLONE_CHILD_CLEARTID, processes are
 * reaped with the wait flags their exit signal needs (__WCLONE for a
 * child that does not send SIGCHLD, which plain waitpid does not see).
 *
 * CLONE_PIDFD with CLONE_THREAD (Linux 6.9 on) gives a PIDFD_THREAD
 * pidfd; pidfd_thread.c tests those further. A pidfd word the kernel
 * cannot write is EFAULT, and no child is left.
 *
 * Not here: namespace flags that Linux accepts for root (the tests may
 * run as root natively; cocoon gives EPERM), CLONE_PARENT from init. */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_IO
#define CLONE_IO 0x80000000
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* clone(flags, stack, ptid, ctid, tls); the child exits with 7 at once. */
static long clone_exit7(unsigned long flags, void *stack, void *ptid, void *ctid, unsigned long tls)
{
	long ret;
	register long r10 __asm__("r10") = (long)ctid;
	register long r8 __asm__("r8") = (long)tls;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t"
			 "mov $7, %%edi\n\t"
			 "syscall\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(SYS_clone), "D"(flags), "S"(stack), "d"(ptid), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static long clone3_exit7(void *args, unsigned long size)
{
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t"
			 "mov $7, %%edi\n\t"
			 "syscall\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(435), "D"(args), "S"(size)
			 : "rcx", "r11", "memory");
	return ret;
}

static char stack_area[65536] __attribute__((aligned(16)));
#define STACK_TOP (stack_area + sizeof(stack_area))
static volatile int ptid_word, ctid_word;

/* What became of a successful clone's child: "thread exited", or the
 * wait result with and without __WCLONE. */
static void reap(const char *label, long r, uint64_t flags, int exit_signal)
{
	if (r < 0) {
		printf("%s: %s\n", label, errname((int)-r));
		return;
	}
	if (flags & CLONE_THREAD) {
		/* The kernel zeroes the word and wakes it when the thread is gone. */
		while (ctid_word != 0)
			syscall(SYS_futex, &ctid_word, FUTEX_WAIT, ctid_word, NULL, NULL, 0);
		printf("%s: thread ran and exited, ptid set %d\n", label,
		       !(flags & CLONE_PARENT_SETTID) || ptid_word == r);
		return;
	}
	int status = 0;
	/* The wrong kind of wait does not see the child at all. */
	int wrong = exit_signal == SIGCHLD ? __WCLONE : 0;
	pid_t w1 = waitpid((pid_t)r, &status, wrong | WNOHANG);
	const char *e1 = w1 < 0 ? errname(errno) : "found";
	pid_t w2 = waitpid((pid_t)r, &status, exit_signal == SIGCHLD ? 0 : __WCLONE);
	printf("%s: child; wrong wait %s, right wait %s status %d, ptid set %d\n", label, e1,
	       w2 == r ? "reaped" : errname(errno), WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	       !(flags & CLONE_PARENT_SETTID) || ptid_word == r);
}

struct legacy_case {
	const char *name;
	uint64_t flags;   /* the exit signal in the low byte */
	int wait_signal;  /* the exit signal the child really has */
};

#define THREAD_FLAGS (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_CHILD_CLEARTID)

static const struct legacy_case legacy[] = {
	/* The rules, in Linux's order. */
	{ "THREAD alone", CLONE_THREAD, 0 },
	{ "THREAD|SIGHAND (no VM)", CLONE_THREAD | CLONE_SIGHAND, 0 },
	{ "SIGHAND alone", CLONE_SIGHAND | SIGCHLD, 0 },
	{ "NEWNS|FS", CLONE_NEWNS | CLONE_FS | SIGCHLD, 0 },
	{ "NEWUSER|FS", CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0 },
	{ "NEWNS|FS thread", THREAD_FLAGS | CLONE_NEWNS | CLONE_FS, 0 },
	{ "thread with NEWPID", THREAD_FLAGS | CLONE_NEWPID, 0 },
	{ "thread with NEWUSER", THREAD_FLAGS | CLONE_NEWUSER, 0 },
	{ "PIDFD|DETACHED", CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0 },
	{ "PIDFD|PARENT_SETTID", CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0 },
	/* A thread's pidfd (Linux 6.9 on) is refused by the same two rules. */
	{ "PIDFD|PARENT_SETTID thread", THREAD_FLAGS | CLONE_PIDFD | CLONE_PARENT_SETTID, 0 },
	{ "PIDFD|DETACHED thread", THREAD_FLAGS | CLONE_PIDFD | CLONE_DETACHED, 0 },
	/* Accepted combinations. */
	{ "fork-like SIGCHLD", SIGCHLD, SIGCHLD },
	{ "fork-like no signal", 0, 0 },
	{ "fork-like SIGWINCH", SIGWINCH, SIGWINCH },
	{ "exit signal 65 (none sent)", 65, 65 },
	{ "exit signal 255 (none sent)", 255, 255 },
	{ "high bits dropped", (1ULL << 32) | (1ULL << 40) | SIGCHLD, SIGCHLD },
	{ "DETACHED ignored", CLONE_DETACHED | SIGCHLD, SIGCHLD },
	{ "FILES|FS process", CLONE_FILES | CLONE_FS | SIGCHLD, SIGCHLD },
	{ "SYSVSEM|IO|PTRACE|UNTRACED", CLONE_SYSVSEM | CLONE_IO | CLONE_PTRACE | CLONE_UNTRACED | SIGCHLD, SIGCHLD },
	{ "SETTLS process", CLONE_SETTLS | SIGCHLD, SIGCHLD },
	{ "PARENT_SETTID process", CLONE_PARENT_SETTID | SIGCHLD, SIGCHLD },
	{ "VM process", CLONE_VM | SIGCHLD, SIGCHLD },
	{ "VM|SIGHAND process", CLONE_VM | CLONE_SIGHAND | SIGCHLD, SIGCHLD },
	{ "VM|VFORK", CLONE_VM | CLONE_VFORK | SIGCHLD, SIGCHLD },
	{ "VFORK without VM", CLONE_VFORK | SIGCHLD, SIGCHLD },
	{ "VM|FILES|FS|SIGHAND no signal", CLONE_VM | CLONE_FILES | CLONE_FS | CLONE_SIGHAND, 0 },
	{ "thread, files and fs shared", THREAD_FLAGS | CLONE_FILES | CLONE_FS | CLONE_PARENT_SETTID, 0 },
	{ "thread, own files and fs", THREAD_FLAGS | CLONE_PARENT_SETTID, 0 },
	{ "thread, own files", THREAD_FLAGS | CLONE_FS, 0 },
	{ "thread, own fs", THREAD_FLAGS | CLONE_FILES | CLONE_SYSVSEM, 0 },
	{ "thread, exit signal ignored", THREAD_FLAGS | CLONE_FILES | CLONE_FS | SIGCHLD, 0 },
};

static void legacy_clone(void)
{
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
		const struct legacy_case *c = &legacy[i];
		char label[96];
		snprintf(label, sizeof(label), "clone %s", c->name);
		ptid_word = 0;
		ctid_word = -1;
		void *stack = (c->flags & CLONE_VM) ? STACK_TOP : NULL;
		long r = clone_exit7(c->flags, stack, (void *)&ptid_word, (void *)&ctid_word, 0);
		reap(label, r, c->flags, c->wait_signal);
	}
	/* CLONE_PIDFD: the pidfd lands in the parent_tid argument. */
	int pidfd = -1;
	long r = clone_exit7(CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
	printf("clone PIDFD: pidfd given %d\n", r > 0 && pidfd >= 0);
	if (r > 0) {
		int status;
		waitpid((pid_t)r, &status, 0);
		close(pidfd);
	}
	/* A pidfd word it cannot write: EFAULT and no child (Linux writes
	 * it before the child is made visible). */
	res("clone PIDFD, bad pointer", clone_exit7(CLONE_PIDFD | SIGCHLD, NULL, (void *)8, NULL, 0));
	res("clone PIDFD, read-only pointer",
	    clone_exit7(CLONE_PIDFD | SIGCHLD, NULL, (void *)(uintptr_t)clone_exit7, NULL, 0));
	printf("clone PIDFD, bad pointers: children left %s\n",
	       waitpid(-1, NULL, WNOHANG) < 0 ? errname(errno) : "some");
	/* With CLONE_THREAD: a PIDFD_THREAD pidfd (O_EXCL), readable once
	 * the thread has gone (hung up too a moment later, once Linux has
	 * released it: pidfd_thread.c waits for that). */
	pidfd = -1;
	ctid_word = -1;
	r = clone_exit7(THREAD_FLAGS | CLONE_PIDFD, STACK_TOP, &pidfd, (void *)&ctid_word, 0);
	if (r < 0) {
		printf("clone PIDFD thread: %s\n", errname((int)-r));
		return;
	}
	while (ctid_word != 0)
		syscall(SYS_futex, &ctid_word, FUTEX_WAIT, ctid_word, NULL, NULL, 0);
	struct pollfd p = { pidfd, POLLIN, 0 };
	int polled = poll(&p, 1, 5000);
	printf("clone PIDFD thread: pidfd given %d, O_EXCL %d, poll after its exit %d, readable %d\n", pidfd >= 0,
	       (fcntl(pidfd, F_GETFL) & O_EXCL) != 0, polled, !!(p.revents & POLLIN));
	close(pidfd);
}

/* CLONE_PARENT: the child is its maker's sibling, and its exit signal
 * is its maker's (SIGCHLD), not the one asked for. */
static void clone_parent(void)
{
	int fds[2];
	if (pipe(fds))
		return;
	pid_t helper = fork();
	if (helper == 0) {
		long r = clone_exit7(CLONE_PARENT | 0, NULL, NULL, NULL, 0);
		(void)!write(fds[1], &r, sizeof(r));
		_exit(0);
	}
	long sibling = -1;
	int status;
	waitpid(helper, &status, 0);
	(void)!read(fds[0], &sibling, sizeof(sibling));
	close(fds[0]);
	close(fds[1]);
	if (sibling < 0) {
		printf("clone PARENT: %s\n", errname((int)-sibling));
		return;
	}
	pid_t w = waitpid((pid_t)sibling, &status, 0);
	printf("clone PARENT: reaped by the grandparent with plain wait %d, status %d\n",
	       w == sibling, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size, cgroup;
};

struct clone3_case {
	const char *name;
	struct clone_args_v2 args;
	unsigned long size;
	int wait_signal;
};

static pid_t set_tid_zero[1] = { 0 };

static void clone3_table(void)
{
	uint64_t ptid = (uint64_t)(uintptr_t)&ptid_word, ctid = (uint64_t)(uintptr_t)&ctid_word;
	uint64_t stack = (uint64_t)(uintptr_t)stack_area;
	const struct clone3_case cases[] = {
		{ "size 0", { .exit_signal = SIGCHLD }, 0, 0 },
		{ "size 63", { .exit_signal = SIGCHLD }, 63, 0 },
		{ "size 4097", { .exit_signal = SIGCHLD }, 4097, 0 },
		{ "exit_signal 65", { .exit_signal = 65 }, 64, 0 },
		{ "exit_signal high bits", { .exit_signal = (1ULL << 32) | SIGCHLD }, 64, 0 },
		{ "CSIGNAL in flags", { .flags = SIGCHLD }, 64, 0 },
		{ "DETACHED", { .flags = CLONE_DETACHED, .exit_signal = SIGCHLD }, 64, 0 },
		{ "unknown flag", { .flags = 1ULL << 40, .exit_signal = SIGCHLD }, 64, 0 },
		{ "SIGHAND|CLEAR_SIGHAND", { .flags = CLONE_VM | CLONE_SIGHAND | CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD, .stack = stack, .stack_size = sizeof(stack_area) }, 64, 0 },
		{ "THREAD with exit_signal", { .flags = THREAD_FLAGS, .exit_signal = SIGCHLD, .child_tid = ctid, .stack = stack, .stack_size = sizeof(stack_area) }, 64, 0 },
		{ "PARENT with exit_signal", { .flags = CLONE_PARENT, .exit_signal = SIGCHLD }, 64, 0 },
		{ "stack without size", { .exit_signal = SIGCHLD, .stack = stack }, 64, 0 },
		{ "size without stack", { .exit_signal = SIGCHLD, .stack_size = 4096 }, 64, 0 },
		{ "stack past user space", { .exit_signal = SIGCHLD, .stack = 0x7ffffffff000ULL, .stack_size = 0x2000 }, 64, 0 },
		{ "set_tid_size 33", { .exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)set_tid_zero, .set_tid_size = 33 }, 80, 0 },
		{ "set_tid_size without set_tid", { .exit_signal = SIGCHLD, .set_tid_size = 1 }, 80, 0 },
		{ "set_tid without size", { .exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)set_tid_zero }, 80, 0 },
		{ "set_tid {0}", { .exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)set_tid_zero, .set_tid_size = 1 }, 80, 0 },
		{ "INTO_CGROUP with size 64", { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD }, 64, 0 },
		{ "INTO_CGROUP cgroup > INT_MAX", { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = 1ULL << 31 }, 88, 0 },
		{ "PIDFD and PARENT_SETTID same word", { .flags = CLONE_PIDFD | CLONE_PARENT_SETTID, .exit_signal = SIGCHLD, .pidfd = ptid, .parent_tid = ptid }, 64, 0 },
		{ "NEWNS|FS", { .flags = CLONE_NEWNS | CLONE_FS, .exit_signal = SIGCHLD }, 64, 0 },
		{ "THREAD without SIGHAND", { .flags = CLONE_VM | CLONE_THREAD, .stack = stack, .stack_size = sizeof(stack_area) }, 64, 0 },
		{ "SIGHAND without VM", { .flags = CLONE_SIGHAND, .exit_signal = SIGCHLD }, 64, 0 },
		/* Accepted. */
		{ "fork-like", { .exit_signal = SIGCHLD }, 64, SIGCHLD },
		{ "fork-like, no signal", { 0 }, 64, 0 },
		{ "size 88", { .exit_signal = SIGCHLD }, 88, SIGCHLD },
		{ "PARENT_SETTID", { .flags = CLONE_PARENT_SETTID, .exit_signal = SIGCHLD, .parent_tid = ptid }, 64, SIGCHLD },
		{ "CLEAR_SIGHAND", { .flags = CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD }, 64, SIGCHLD },
		{ "VM with stack", { .flags = CLONE_VM, .exit_signal = SIGCHLD, .stack = stack, .stack_size = sizeof(stack_area) }, 64, SIGCHLD },
		{ "VM|VFORK with stack", { .flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD, .stack = stack, .stack_size = sizeof(stack_area) }, 64, SIGCHLD },
		{ "thread, own files and fs", { .flags = THREAD_FLAGS | CLONE_PARENT_SETTID, .child_tid = ctid, .parent_tid = ptid, .stack = stack, .stack_size = sizeof(stack_area) }, 64, 0 },
		{ "thread, shared files and fs", { .flags = THREAD_FLAGS | CLONE_FILES | CLONE_FS, .child_tid = ctid, .stack = stack, .stack_size = sizeof(stack_area) }, 64, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct clone3_case *c = &cases[i];
		char label[96], buf[4200];
		snprintf(label, sizeof(label), "clone3 %s", c->name);
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &c->args, sizeof(c->args));
		ptid_word = 0;
		ctid_word = -1;
		long r = clone3_exit7(buf, c->size);
		reap(label, r, c->args.flags, c->wait_signal);
	}

	/* A bigger struct than the kernel knows: the tail must be zero. */
	char big[128] = { 0 };
	struct clone_args_v2 a = { .exit_signal = SIGCHLD };
	memcpy(big, &a, sizeof(a));
	big[100] = 1;
	res("clone3 size 128, tail not zero", clone3_exit7(big, sizeof(big)));
	big[100] = 0;
	reap("clone3 size 128, tail zero", clone3_exit7(big, sizeof(big)), 0, SIGCHLD);
	res("clone3 bad pointer", clone3_exit7((void *)8, 64));

	/* A pidfd word it cannot write: EFAULT and no child. */
	struct clone_args_v2 bad = { .flags = CLONE_PIDFD, .exit_signal = SIGCHLD, .pidfd = 8 };
	res("clone3 PIDFD, bad pointer", clone3_exit7(&bad, 64));
	printf("clone3 PIDFD, bad pointer: children left %s\n", waitpid(-1, NULL, WNOHANG) < 0 ? errname(errno) : "some");

	/* pidfd and parent_tid in different words: both written. */
	int pidfd = -1;
	struct clone_args_v2 pa = { .flags = CLONE_PIDFD | CLONE_PARENT_SETTID, .exit_signal = SIGCHLD,
				    .pidfd = (uint64_t)(uintptr_t)&pidfd, .parent_tid = ptid };
	ptid_word = 0;
	long r = clone3_exit7(&pa, 64);
	printf("clone3 PIDFD|PARENT_SETTID: pidfd given %d, ptid set %d\n", r > 0 && pidfd >= 0,
	       r > 0 && ptid_word == r);
	if (r > 0) {
		int status;
		waitpid((pid_t)r, &status, 0);
		close(pidfd);
	}
}

int main(void)
{
	legacy_clone();
	clone_parent();
	clone3_table();
	return 0;
}
