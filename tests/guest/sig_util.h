/* Helpers shared by the signal tests (tests/guest/sig_*.c), on top of
 * proc_util.h.
 *
 * Watchdog: sig_start() forks; the test runs in the child, the parent
 * waits for it and a third process kills it after SIG_WATCHDOG_S seconds
 * (no alarm(): timers may be missing). So no test hangs, the test never
 * runs as pid 1 (cocoon's first guest is pid 1, natively it is not) and
 * it has no children but its own. The test leads a process group of its
 * own, which the watchdog kills as a whole (helpers left behind too).
 *
 * Output must not depend on the libc: SIGRTMIN is 34 in glibc and 35 in
 * musl, so real-time signals are printed as "SIGRTMIN+k". Handlers only
 * record into globals; main code prints. The frame is read through the
 * kernel's own layout (struct kucontext), not libc's ucontext_t. */
#ifndef COCOON_GUEST_SIG_UTIL_H
#define COCOON_GUEST_SIG_UTIL_H

#include "proc_util.h"
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define SIG_WATCHDOG_S 20

/* The kernel's struct sigcontext (x86-64) and struct ucontext. */
struct ksigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* address of the fxsave/xsave image */
	uint64_t reserved1[8];
};
struct kstack { uint64_t ss_sp; int32_t ss_flags; int32_t pad; uint64_t ss_size; };
struct kucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct kstack uc_stack;
	struct ksigcontext mc;
	uint64_t uc_sigmask;
};
_Static_assert(sizeof(struct ksigcontext) == 256, "sigcontext layout");
_Static_assert(sizeof(struct kucontext) == 304, "ucontext layout");

/* The kernel's struct sigaction for raw rt_sigaction. */
struct ksigaction {
	void *handler;
	uint64_t flags;
	void *restorer;
	uint64_t mask;
};
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#define KSIGSET 8   /* the kernel's sigsetsize */

static uint64_t sigbit(int s) { return 1ULL << (s - 1); }

static const char *sname(int s)
{
	static char buf[4][24];
	static int k;
	if (s >= SIGRTMIN && s <= SIGRTMAX) {
		k = (k + 1) % 4;
		snprintf(buf[k], sizeof buf[k], "SIGRTMIN+%d", s - SIGRTMIN);
		return buf[k];
	}
	return signame(s);
}

/* A kernel mask (64 bits) as a list of names; libc-reserved signals
 * (32..SIGRTMIN-1) are named by number. */
static const char *maskstr(uint64_t m)
{
	static char buf[2][512];
	static int k;
	k ^= 1;
	char *b = buf[k];
	size_t n = 0;
	b[0] = 0;
	for (int s = 1; s <= 64; s++) {
		if (!(m & sigbit(s)))
			continue;
		const char *name = (s >= 32 && s < SIGRTMIN) ? NULL : sname(s);
		char num[8];
		if (!name) {
			snprintf(num, sizeof num, "%d", s);
			name = num;
		}
		n += (size_t)snprintf(b + n, sizeof buf[k] - n, "%s%s", n ? " " : "", name);
		if (n >= sizeof buf[k])
			break;
	}
	return n ? b : "(none)";
}

/* The kernel's view of the current mask / pending set (raw calls, so the
 * libc's own filtering does not hide anything). */
static uint64_t cur_mask(void)
{
	uint64_t m = 0;
	rsys(SYS_rt_sigprocmask, SIG_BLOCK, 0, &m, KSIGSET);
	return m;
}
static void set_mask(uint64_t m)
{
	rsys(SYS_rt_sigprocmask, SIG_SETMASK, &m, 0, KSIGSET);
}
static uint64_t cur_pending(void)
{
	uint64_t m = 0;
	rsys(SYS_rt_sigpending, &m, KSIGSET);
	return m;
}
static void block(int s) { uint64_t m = sigbit(s); rsys(SYS_rt_sigprocmask, SIG_BLOCK, &m, 0, KSIGSET); }
static void unblock(int s) { uint64_t m = sigbit(s); rsys(SYS_rt_sigprocmask, SIG_UNBLOCK, &m, 0, KSIGSET); }

/* sigaction through the libc (its restorer). */
static void on_info(int s, void (*fn)(int, siginfo_t *, void *), int flags, uint64_t extra_mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	for (int k = 1; k <= 64; k++)
		if ((extra_mask & sigbit(k)) && k != SIGKILL && k != SIGSTOP)
			sigaddset(&sa.sa_mask, k);
	if (sigaction(s, &sa, NULL) < 0)
		printf("sigaction(%s): %s\n", sname(s), errname(errno));
}
static void on_plain(int s, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(s, &sa, NULL) < 0)
		printf("sigaction(%s): %s\n", sname(s), errname(errno));
}
static void dfl(int s) { on_plain(s, SIG_DFL, 0); }
static void ign(int s) { on_plain(s, SIG_IGN, 0); }

/* Raw rt_sigaction query. */
static struct ksigaction kquery(int s)
{
	struct ksigaction k;
	memset(&k, 0, sizeof k);
	rsys(SYS_rt_sigaction, s, 0, &k, KSIGSET);
	return k;
}

static long self_kill(int s) { return rsys(SYS_kill, getpid(), s); }

static long ms_since(struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A wait status with the core-dump bit, for deaths Linux may report with
 * one (the runner sets `ulimit -c 0`, so natively it is normally 0). */
static const char *status_core(int st)
{
	static char buf[96];
	if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "%s, core %d", status_str(st), !!WCOREDUMP(st));
	else
		snprintf(buf, sizeof buf, "%s", status_str(st));
	return buf;
}

/* Run fn in a child; returns its wait status. */
static int in_child(void (*fn)(void))
{
	pid_t pid = xfork();
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	return reap(pid);
}

/* A helper process that sends sig to pid ms milliseconds after
 * later_go() (then, if then_ms > 0, sig2 after then_ms more). Call
 * later_go() right before the code the signal is for: counted from the
 * fork, the time the fork takes to return (long on a busy machine) ate
 * into the ms and the signal could come before that code. Reap the
 * helper with reap(). */
static int later_pipe = -1;
static pid_t send_later(pid_t pid, int sig, long ms, int sig2, long then_ms)
{
	int go[2];
	if (pipe(go) < 0)
		return -1;
	pid_t k = xfork();
	if (k == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(0);
		sleep_ms(ms);
		kill(pid, sig);
		if (then_ms > 0) {
			sleep_ms(then_ms);
			kill(pid, sig2);
		}
		_exit(0);
	}
	close(go[0]);
	later_pipe = go[1];
	return k;
}
static void later_go(void)
{
	if (write(later_pipe, "g", 1) != 1)
		printf("later_go: %s\n", errname(errno));
	close(later_pipe);
	later_pipe = -1;
}

/* ---- the watchdog ---- */
static pid_t watchdog_test_pid;
static void sig_start(int argc, char **argv)
{
	proc_init(argc, argv);
	pid_t t = xfork();
	if (t == 0) {
		setpgid(0, 0);
		return; /* the test */
	}
	setpgid(t, t);
	/* Signals the test sends to -1 spare the watchdog. */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	pid_t s = fork();
	if (s == 0) {
		struct timespec ts = { SIG_WATCHDOG_S, 0 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		kill(-t, SIGKILL);
		_exit(0);
	}
	int st = reap(t);
	if (s > 0) {
		kill(s, SIGKILL);
		reap(s);
	}
	if (WIFEXITED(st))
		exit(WEXITSTATUS(st));
	kill(-t, SIGKILL);
	printf("NO: the test process ended: %s%s\n", status_str(st),
	       WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? " (the watchdog, after 20 s?)" : "");
	exit(1);
}
static int sig_end(void)
{
	fflush(stdout);
	return expect_failures ? 1 : 0;
}

#endif
