/* Signal state: standard signals coalesce while blocked; real-time signals
 * queue with their siginfo, lowest number first and FIFO within one
 * (values from sigqueue), both when dequeued by sigwaitinfo and when
 * delivered to handlers; RLIMIT_SIGPENDING (sigqueue past it is EAGAIN,
 * kill() of an RT signal overrides it); sigpending; blocked masks
 * (SIGKILL/SIGSTOP never blockable) and the errors of rt_sigprocmask and
 * rt_sigaction; which sa_flags bits rt_sigaction keeps; dispositions,
 * mask and pending signals across fork and execve (handled reset to
 * SIG_DFL, ignored kept, flags cleared, mask and pending kept, queued
 * siginfo kept). Mode "exec-child" is the program after that execve. */
#include "sig_util.h"

static volatile int nhits;
static struct { int sig; int code; int value; } hits[64];

static void record(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	if (nhits < 64) {
		hits[nhits].sig = s;
		hits[nhits].code = si->si_code;
		hits[nhits].value = si->si_value.sival_int;
	}
	nhits++;
}

static void print_hits(const char *label)
{
	printf("%s: %d deliveries:", label, nhits);
	for (int i = 0; i < nhits && i < 64; i++) {
		if (hits[i].code == SI_QUEUE)
			printf(" %s=%d", sname(hits[i].sig), hits[i].value);
		else
			printf(" %s", sname(hits[i].sig));
	}
	printf("\n");
}

static void coalesce(void)
{
	printf("-- standard signals coalesce\n");
	nhits = 0;
	on_info(SIGUSR1, record, 0, 0);
	block(SIGUSR1);
	for (int i = 0; i < 3; i++)
		self_kill(SIGUSR1);
	union sigval v = { .sival_int = 7 };
	res("sigqueue(SIGUSR1) while pending", sigqueue(getpid(), SIGUSR1, v) < 0 ? -errno : 0);
	printf("pending: %s\n", maskstr(cur_pending()));
	unblock(SIGUSR1);
	/* The first one sent is the one kept: its si_code is SI_USER. */
	printf("after unblocking: %d deliveries, si_code %s\n", nhits,
	       hits[0].code == SI_USER ? "SI_USER" : hits[0].code == SI_QUEUE ? "SI_QUEUE" : "other");
	printf("pending: %s\n", maskstr(cur_pending()));
	dfl(SIGUSR1);
}

/* Queue the same mixed set of signals; returns the mask used. */
static uint64_t queue_mix(void)
{
	int order[][2] = {
		{ SIGRTMIN + 2, 1 }, { SIGRTMIN, 2 }, { SIGRTMIN + 2, 3 }, { SIGRTMIN + 1, 4 },
		{ SIGRTMIN, 5 }, { SIGUSR2, 6 }, { SIGRTMIN + 1, 7 }, { SIGUSR1, 8 }, { SIGRTMIN, 9 },
	};
	uint64_t m = sigbit(SIGUSR1) | sigbit(SIGUSR2);
	for (int k = 0; k < 3; k++)
		m |= sigbit(SIGRTMIN + k);
	set_mask(m);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		union sigval v = { .sival_int = order[i][1] };
		if (sigqueue(getpid(), order[i][0], v) < 0)
			printf("sigqueue(%s): %s\n", sname(order[i][0]), errname(errno));
	}
	return m;
}

static void rt_queue(void)
{
	printf("-- real-time signals queue\n");
	uint64_t m = queue_mix();
	printf("pending: %s\n", maskstr(cur_pending()));
	printf("sigwaitinfo order:");
	sigset_t set;
	sigemptyset(&set);
	for (int s = 1; s <= 64; s++)
		if ((m & sigbit(s)) && s != SIGKILL && s != SIGSTOP)
			sigaddset(&set, s);
	for (int i = 0; i < 9; i++) {
		siginfo_t si;
		struct timespec zero = { 0, 0 };
		int s = sigtimedwait(&set, &si, &zero);
		if (s < 0) {
			printf(" %s", errname(errno));
			break;
		}
		printf(" %s=%d", sname(s), si.si_value.sival_int);
		if (si.si_code != SI_QUEUE || si.si_pid != getpid() || si.si_uid != getuid())
			printf("(si_code %d, si_pid/si_uid not ours)", si.si_code);
	}
	printf("\n");
	printf("pending after: %s\n", maskstr(cur_pending()));

	/* Handlers that block every other one run in the order the kernel
	 * picks the signals. */
	nhits = 0;
	for (int s = 1; s <= 64; s++)
		if (m & sigbit(s))
			on_info(s, record, 0, m);
	queue_mix();
	set_mask(0);
	print_hits("handlers with everything masked");

	/* Handlers that block nothing nest: each delivery pushes a frame on
	 * the previous one before any handler runs, so they run in reverse. */
	nhits = 0;
	for (int s = 1; s <= 64; s++)
		if (m & sigbit(s))
			on_info(s, record, SA_NODEFER, 0);
	queue_mix();
	set_mask(0);
	print_hits("handlers with nothing masked");
	for (int s = 1; s <= 64; s++)
		if (m & sigbit(s))
			dfl(s);
}

/* In a child with a uid of its own (the pending-signal count is per
 * user), so other processes' signals do not count. */
static void rlimit_child(void)
{
	uid_t u = 200000 + (uid_t)getpid();
	if (getuid() != 0 || setresuid(u, u, u) < 0) {
		printf("RLIMIT_SIGPENDING: skipped (not root)\n");
		return;
	}
	struct rlimit rl = { 5, 5 };
	lres("setrlimit(RLIMIT_SIGPENDING, 5)", setrlimit(RLIMIT_SIGPENDING, &rl));
	block(SIGRTMIN);
	block(SIGUSR1);
	int ok = 0, first_err = 0;
	for (int i = 0; i < 8; i++) {
		union sigval v = { .sival_int = 100 + i };
		if (sigqueue(getpid(), SIGRTMIN, v) == 0)
			ok++;
		else if (!first_err)
			first_err = errno;
	}
	printf("sigqueue x8: %d queued, then %s\n", ok, errname(first_err));
	res("kill(self, SIGRTMIN) past the limit", self_kill(SIGRTMIN));
	union sigval v = { .sival_int = 1 };
	lres("sigqueue(SIGUSR1) past the limit", sigqueue(getpid(), SIGUSR1, v));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	printf("dequeued:");
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	int s;
	while ((s = sigtimedwait(&set, &si, &zero)) > 0)
		printf(" %s", si.si_code == SI_QUEUE ? (si.si_value.sival_int >= 100 ? "queued" : "?") :
		       si.si_code == SI_USER ? "kill" : "other");
	printf("\n");
	/* Dequeued entries free their slots. */
	int again = sigqueue(getpid(), SIGRTMIN, v);
	printf("sigqueue after dequeuing: %s\n", again == 0 ? "ok" : errname(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	s = sigtimedwait(&set, &si, &zero);
	printf("SIGUSR1 past the limit: %s, si_code %s\n", s == SIGUSR1 ? "pending" : "lost",
	       si.si_code == SI_QUEUE ? "SI_QUEUE" : "other");
}

static void masks(void)
{
	printf("-- masks\n");
	uint64_t all = ~0ULL, got = 0;
	res("rt_sigprocmask(SIG_SETMASK, all)", rsys(SYS_rt_sigprocmask, SIG_SETMASK, &all, &got, KSIGSET));
	got = cur_mask();
	printf("mask: %#llx\n", (unsigned long long)got);
	printf("SIGKILL blocked %d, SIGSTOP blocked %d\n", !!(got & sigbit(SIGKILL)), !!(got & sigbit(SIGSTOP)));
	uint64_t some = sigbit(SIGUSR1) | sigbit(SIGHUP);
	rsys(SYS_rt_sigprocmask, SIG_UNBLOCK, &all, 0, KSIGSET);
	res("SIG_BLOCK", rsys(SYS_rt_sigprocmask, SIG_BLOCK, &some, 0, KSIGSET));
	printf("mask: %s\n", maskstr(cur_mask()));
	some = sigbit(SIGHUP) | sigbit(SIGTERM);
	res("SIG_UNBLOCK", rsys(SYS_rt_sigprocmask, SIG_UNBLOCK, &some, 0, KSIGSET));
	printf("mask: %s\n", maskstr(cur_mask()));
	res("how 3", rsys(SYS_rt_sigprocmask, 3, &some, 0, KSIGSET));
	res("how 3 without a set", rsys(SYS_rt_sigprocmask, 3, 0, 0, KSIGSET));
	res("sigsetsize 4", rsys(SYS_rt_sigprocmask, SIG_BLOCK, &some, 0, 4));
	res("sigsetsize 16", rsys(SYS_rt_sigprocmask, SIG_BLOCK, &some, 0, 16));
	res("bad set pointer", rsys(SYS_rt_sigprocmask, SIG_BLOCK, 8, 0, KSIGSET));
	res("bad old pointer", rsys(SYS_rt_sigprocmask, SIG_BLOCK, 0, 8, KSIGSET));
	printf("mask: %s\n", maskstr(cur_mask()));
	set_mask(0);

	printf("-- rt_sigaction\n");
	struct ksigaction k = { SIG_IGN, SA_RESTORER, 0, 0 }, old;
	res("SIGKILL set", rsys(SYS_rt_sigaction, SIGKILL, &k, 0, KSIGSET));
	res("SIGSTOP set", rsys(SYS_rt_sigaction, SIGSTOP, &k, 0, KSIGSET));
	res("SIGKILL query", rsys(SYS_rt_sigaction, SIGKILL, 0, &old, KSIGSET));
	res("signal 0", rsys(SYS_rt_sigaction, 0, 0, &old, KSIGSET));
	res("signal 65", rsys(SYS_rt_sigaction, 65, 0, &old, KSIGSET));
	res("signal 64", rsys(SYS_rt_sigaction, 64, 0, &old, KSIGSET));
	res("sigsetsize 4", rsys(SYS_rt_sigaction, SIGUSR1, 0, &old, 4));
	res("bad act pointer", rsys(SYS_rt_sigaction, SIGUSR1, 8, 0, KSIGSET));
	/* Every flag bit: the kernel keeps the ones it knows. */
	k.handler = SIG_IGN;
	k.flags = ~0ULL;
	k.mask = ~0ULL;
	res("all flags", rsys(SYS_rt_sigaction, SIGUSR2, &k, 0, KSIGSET));
	memset(&old, 0, sizeof old);
	rsys(SYS_rt_sigaction, SIGUSR2, 0, &old, KSIGSET);
	printf("flags kept: %#llx\n", (unsigned long long)old.flags);
	printf("mask kept: %#llx\n", (unsigned long long)old.mask);
	k.flags = SA_RESTORER | 0x400 /* SA_UNSUPPORTED */ | 0x800 /* SA_EXPOSE_TAGBITS */;
	memset(&old, 0, sizeof old);
	rsys(SYS_rt_sigaction, SIGUSR2, &k, &old, KSIGSET);
	printf("old flags as returned with the new set: %#llx\n", (unsigned long long)old.flags);
	old = kquery(SIGUSR2);
	printf("SA_UNSUPPORTED|SA_EXPOSE_TAGBITS kept: %#llx\n", (unsigned long long)old.flags);
	dfl(SIGUSR2);

	printf("-- sigpending\n");
	block(SIGUSR1);
	block(SIGUSR2);
	block(SIGRTMIN + 3);
	self_kill(SIGUSR2);
	self_kill(SIGRTMIN + 3);
	self_kill(SIGRTMIN + 3);
	printf("pending: %s\n", maskstr(cur_pending()));
	sigset_t ps;
	sigpending(&ps);
	printf("sigpending(): USR1 %d USR2 %d RTMIN+3 %d\n", sigismember(&ps, SIGUSR1),
	       sigismember(&ps, SIGUSR2), sigismember(&ps, SIGRTMIN + 3));
	res("rt_sigpending sigsetsize 16", rsys(SYS_rt_sigpending, &ps, 16));
	res("rt_sigpending sigsetsize 4", rsys(SYS_rt_sigpending, &ps, 4));
	res("rt_sigpending bad pointer", rsys(SYS_rt_sigpending, 8, KSIGSET));
	/* Ignoring a pending signal discards it; a blocked one sent while
	 * ignored is queued all the same (the disposition may change before
	 * it is unblocked). */
	ign(SIGUSR2);
	printf("after SIG_IGN: %s\n", maskstr(cur_pending()));
	self_kill(SIGUSR2);
	printf("sent while ignored and blocked: %s\n", maskstr(cur_pending()));
	ign(SIGUSR2);
	ign(SIGRTMIN + 3);
	printf("after SIG_IGN again: %s\n", maskstr(cur_pending()));
	dfl(SIGRTMIN + 3);
	dfl(SIGUSR2);
	unblock(SIGUSR2);
	ign(SIGUSR2);
	self_kill(SIGUSR2);
	block(SIGUSR2);
	printf("sent while ignored and not blocked: %s\n", maskstr(cur_pending()));
	dfl(SIGUSR2);
	/* Default-ignored signals (SIGCHLD, SIGURG, SIGWINCH) stay pending
	 * while blocked. */
	block(SIGCHLD);
	block(SIGURG);
	self_kill(SIGCHLD);
	self_kill(SIGURG);
	printf("default-ignored while blocked: %s\n", maskstr(cur_pending()));
	sigset_t cs;
	sigemptyset(&cs);
	sigaddset(&cs, SIGCHLD);
	sigaddset(&cs, SIGURG);
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&cs, NULL, &zero) > 0)
		;
	set_mask(0);
	printf("pending at the end: %s\n", maskstr(cur_pending()));
}

static void handler_a(int s) { (void)s; }

/* What a process inherits. */
static void report_state(const char *who)
{
	struct ksigaction a = kquery(SIGUSR1), b = kquery(SIGUSR2), c = kquery(SIGHUP);
	printf("%s: SIGUSR1 %s, flags %#llx, mask %s\n", who,
	       a.handler == SIG_DFL ? "SIG_DFL" : a.handler == SIG_IGN ? "SIG_IGN" :
	       a.handler == (void *)handler_a ? "handler" : "?",
	       (unsigned long long)(a.flags & ~(uint64_t)SA_RESTORER), maskstr(a.mask));
	printf("%s: SIGUSR2 %s, flags %#llx, mask %s\n", who,
	       b.handler == SIG_DFL ? "SIG_DFL" : b.handler == SIG_IGN ? "SIG_IGN" : "?",
	       (unsigned long long)(b.flags & ~(uint64_t)SA_RESTORER), maskstr(b.mask));
	printf("%s: SIGHUP %s\n", who, c.handler == SIG_DFL ? "SIG_DFL" : "?");
	printf("%s: blocked %s\n", who, maskstr(cur_mask()));
	printf("%s: pending %s\n", who, maskstr(cur_pending()));
}

static void exec_child(void)
{
	report_state("after execve");
	stack_t ss;
	sigaltstack(NULL, &ss);
	printf("after execve: altstack %s\n", ss.ss_flags == SS_DISABLE ? "disabled" : "kept");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGINT);
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	int s;
	while ((s = sigtimedwait(&set, &si, &zero)) > 0)
		printf("after execve: dequeued %s, si_code %s, value %d\n", sname(s),
		       si.si_code == SI_QUEUE ? "SI_QUEUE" : si.si_code == SI_USER ? "SI_USER" : "other",
		       si.si_code == SI_QUEUE ? si.si_value.sival_int : 0);
	fflush(stdout);
}

static void inherit(void)
{
	printf("-- fork and execve\n");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler_a;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);
	block(SIGINT);
	block(SIGRTMIN + 1);
	block(SIGTERM);
	self_kill(SIGINT);
	union sigval v = { .sival_int = 42 };
	sigqueue(getpid(), SIGRTMIN + 1, v);
	v.sival_int = 43;
	sigqueue(getpid(), SIGRTMIN + 1, v);
	report_state("parent");
	pid_t pid = xfork();
	if (pid == 0) {
		report_state("after fork");
		_exit(0);
	}
	reap_print("fork child", pid);
	static char altstack[1 << 16];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
	sigaltstack(&ss, NULL);
	pid = xfork();
	if (pid == 0) {
		/* Pending signals are the process's own: none came with fork. */
		self_kill(SIGINT);
		v.sival_int = 44;
		sigqueue(getpid(), SIGRTMIN + 1, v);
		v.sival_int = 45;
		sigqueue(getpid(), SIGRTMIN + 1, v);
		char *argv[] = { (char *)self_exe, "exec-child", NULL };
		execv(self_exe, argv);
		printf("execv: %s\n", errname(errno));
		_exit(127);
	}
	reap_print("exec child", pid);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGINT);
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	set_mask(0);
	dfl(SIGUSR1);
	dfl(SIGUSR2);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		exec_child();
		return 0;
	}
	sig_start(argc, argv);
	coalesce();
	rt_queue();
	printf("-- RLIMIT_SIGPENDING\n");
	int st = in_child(rlimit_child);
	printf("rlimit child: %s\n", status_str(st));
	masks();
	inherit();
	return sig_end();
}
