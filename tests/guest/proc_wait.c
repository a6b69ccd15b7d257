/* Exit statuses and waiting: exit codes and deaths by signal in the wait
 * status; wait4/waitpid for a pid, -1, 0 (own group) and -pgid, WNOHANG,
 * ECHILD, rusage; waitid with P_PID/P_PGID/P_ALL/P_PIDFD, WEXITED,
 * WNOHANG, WNOWAIT and the siginfo fields; zombies (a child that exited
 * stays waitable, and kill(pid, 0) finds it until it is reaped); SIGCHLD
 * to the parent; orphans reparented to the subreaper (the test's top
 * process, so native runs and cocoon's pid 1 agree).
 * Modes: none (all of the above), "stop" (WUNTRACED/WCONTINUED, waitid
 * WSTOPPED/WCONTINUED), "nocldwait" (SIGCHLD ignored: children reaped by
 * the kernel, wait blocks until they are gone, then ECHILD). */
// RUN:
// RUN: stop
// RUN: nocldwait
#include "proc_util.h"
#include <sys/prctl.h>
#include <sys/resource.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* A child that waits for a byte (or EOF) on the pipe, then does what. */
enum how { EXIT, KILLSELF, RAISE_TERM, PAUSE };
struct kid { pid_t pid; int go; };
static struct kid start(enum how how, int code)
{
	int p[2];
	pipe(p);
	pid_t pid = xfork();
	if (pid == 0) {
		close(p[1]);
		char c;
		if (how != PAUSE)
			read(p[0], &c, 1);
		switch (how) {
		case EXIT: _exit(code);
		case KILLSELF: kill(getpid(), code); break;
		case RAISE_TERM: raise(SIGTERM); break;
		case PAUSE: for (;;) pause();
		}
		_exit(99);
	}
	close(p[0]);
	return (struct kid){ pid, p[1] };
}
static void go(struct kid k) { write(k.go, "g", 1); close(k.go); }

static void statuses(void)
{
	printf("-- exit statuses\n");
	int codes[] = { 0, 1, 42, 127, 255, 256, 257, -1 };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		struct kid k = start(EXIT, codes[i]);
		go(k);
		int st = reap(k.pid);
		printf("_exit(%d): %s, WIFEXITED %d WIFSIGNALED %d\n", codes[i], status_str(st),
		       !!WIFEXITED(st), !!WIFSIGNALED(st));
	}
	int sigs[] = { SIGKILL, SIGTERM, SIGUSR1, SIGSEGV, SIGHUP };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct kid k = start(KILLSELF, sigs[i]);
		go(k);
		int st = reap(k.pid);
		printf("kill(self, %s): %s, WIFEXITED %d WIFSIGNALED %d\n", signame(sigs[i]), status_str(st),
		       !!WIFEXITED(st), !!WIFSIGNALED(st));
	}
	struct kid k = start(RAISE_TERM, 0);
	go(k);
	printf("raise(SIGTERM): %s\n", status_str(reap(k.pid)));
	k = start(PAUSE, 0);
	kill_child(k.pid, SIGTERM);
	close(k.go);
	printf("kill(child, SIGTERM) while it pauses: %s\n", status_str(reap(k.pid)));
	k = start(PAUSE, 0);
	kill_child(k.pid, SIGKILL);
	close(k.go);
	printf("kill(child, SIGKILL) while it pauses: %s\n", status_str(reap(k.pid)));
}

static void waitpid_cases(void)
{
	printf("-- waitpid and wait4\n");
	int st;
	errno = 0;
	printf("waitpid(-1) with no children: %s\n", waitpid(-1, &st, 0) < 0 ? errname(errno) : "a child");
	printf("waitpid(-1, WNOHANG) with no children: %s\n", waitpid(-1, &st, WNOHANG) < 0 ? errname(errno) : "a child");
	printf("waitpid(own pid): %s\n", waitpid(getpid(), &st, 0) < 0 ? errname(errno) : "?");
	printf("waitpid(parent): %s\n", waitpid(getppid(), &st, WNOHANG) < 0 ? errname(errno) : "?");
	res("waitpid with unknown options", rsys(SYS_wait4, -1, &st, 0x10000, 0));

	struct kid a = start(EXIT, 3), b = start(EXIT, 4);
	pid_t r = waitpid(a.pid, &st, WNOHANG);
	printf("WNOHANG while the child runs: %d\n", (int)r);
	r = waitpid(-1, &st, WNOHANG);
	printf("waitpid(-1, WNOHANG) while both run: %d\n", (int)r);
	go(b);
	r = waitpid(-1, &st, 0);
	expect(r == b.pid, "waitpid(-1) returns the child that exited");
	printf("its status: %s\n", status_str(st));
	go(a);
	r = waitpid(a.pid, &st, 0);
	expect(r == a.pid, "waitpid(pid) returns that pid");
	printf("its status: %s\n", status_str(st));
	r = waitpid(a.pid, &st, 0);
	printf("waitpid of an already reaped child: %s\n", r < 0 ? errname(errno) : "?");

	/* NULL status pointer. */
	a = start(EXIT, 5);
	go(a);
	r = waitpid(a.pid, NULL, 0);
	expect(r == a.pid, "waitpid with a NULL status works");
	a = start(EXIT, 5);
	go(a);
	res("wait4 with a bad status pointer", rsys(SYS_wait4, a.pid, 8, 0, 0));
	reap(a.pid);   /* the bad pointer may or may not have reaped it */

	/* wait4 with rusage. */
	a = start(EXIT, 6);
	go(a);
	struct rusage ru;
	memset(&ru, 0xff, sizeof ru);
	r = wait4(a.pid, &st, 0, &ru);
	expect(r == a.pid, "wait4 with an rusage pointer reaps the child");
	expect(ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000,
	       "rusage user time filled in");
	expect(ru.ru_stime.tv_sec >= 0 && ru.ru_stime.tv_usec >= 0 && ru.ru_stime.tv_usec < 1000000,
	       "rusage system time filled in");
	printf("wait4 status: %s\n", status_str(st));
	a = start(EXIT, 6);
	go(a);
	res("wait4 with a bad rusage pointer", rsys(SYS_wait4, a.pid, &st, 0, 8));
	reap(a.pid);

	/* Process groups: 0 is the caller's group, -pgid another. */
	int sync[2];
	pipe(sync);
	a = start(EXIT, 7);
	b = start(EXIT, 8);
	setpgid(b.pid, b.pid);   /* b leads a group of its own */
	go(a);
	go(b);
	sleep_ms(50);
	r = waitpid(0, &st, 0);
	expect(r == a.pid, "waitpid(0) returns the child in the caller's group");
	r = waitpid(0, &st, WNOHANG);
	printf("waitpid(0) again (only a child in another group is left): %s\n",
	       r < 0 ? errname(errno) : r == 0 ? "0" : "a child");
	r = waitpid(-b.pid, &st, 0);
	expect(r == b.pid, "waitpid(-pgid) returns the child in that group");
	printf("its status: %s\n", status_str(st));
	printf("waitpid(-pgid) of a group without children: %s\n", waitpid(-b.pid, &st, 0) < 0 ? errname(errno) : "?");
	close(sync[0]);
	close(sync[1]);

	/* A grandchild is not ours to wait for. */
	int p[2];
	pipe(p);
	pid_t c = xfork();
	if (c == 0) {
		close(p[0]);
		pid_t g = xfork();
		if (g == 0) {
			sleep_ms(100);
			_exit(0);
		}
		write(p[1], &g, sizeof g);
		reap(g);
		_exit(0);
	}
	close(p[1]);
	pid_t g = 0;
	read(p[0], &g, sizeof g);
	close(p[0]);
	printf("waitpid of a grandchild: %s\n", waitpid(g, &st, 0) < 0 ? errname(errno) : "?");
	reap(c);
}

static void print_si(const char *label, int r, siginfo_t *si, pid_t want)
{
	if (r < 0) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	const char *code = si->si_code == CLD_EXITED ? "CLD_EXITED" : si->si_code == CLD_KILLED ? "CLD_KILLED" :
		si->si_code == CLD_DUMPED ? "CLD_DUMPED" : si->si_code == CLD_STOPPED ? "CLD_STOPPED" :
		si->si_code == CLD_CONTINUED ? "CLD_CONTINUED" : si->si_code == 0 ? "0" : "other";
	/* CLD_DUMPED depends on the host's core settings: report it as killed. */
	if (si->si_code == CLD_DUMPED)
		code = "CLD_KILLED";
	printf("%s: signo %s, code %s, status %d, pid %s, uid %s\n", label, signame(si->si_signo), code,
	       si->si_status, si->si_pid == want ? "right" : si->si_pid == 0 ? "0" : "wrong",
	       si->si_uid == getuid() ? "right" : "wrong");
}

static void waitid_cases(void)
{
	printf("-- waitid\n");
	siginfo_t si;
	struct kid a = start(EXIT, 9);
	memset(&si, 0x55, sizeof si);
	int r = waitid(P_PID, (id_t)a.pid, &si, WEXITED | WNOHANG);
	print_si("WNOHANG while the child runs", r, &si, 0);
	go(a);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, (id_t)a.pid, &si, WEXITED | WNOWAIT);
	print_si("P_PID WNOWAIT", r, &si, a.pid);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, (id_t)a.pid, &si, WEXITED | WNOWAIT);
	print_si("P_PID WNOWAIT again (still there)", r, &si, a.pid);
	memset(&si, 0, sizeof si);
	r = waitid(P_ALL, 0, &si, WEXITED);
	print_si("P_ALL", r, &si, a.pid);
	r = waitid(P_PID, (id_t)a.pid, &si, WEXITED);
	print_si("P_PID after it was reaped", r, &si, a.pid);

	a = start(KILLSELF, SIGKILL);
	go(a);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, (id_t)a.pid, &si, WEXITED);
	print_si("P_PID, killed by SIGKILL", r, &si, a.pid);
	a = start(KILLSELF, SIGSEGV);
	go(a);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, (id_t)a.pid, &si, WEXITED);
	print_si("P_PID, killed by SIGSEGV", r, &si, a.pid);

	a = start(EXIT, 10);
	setpgid(a.pid, a.pid);
	go(a);
	memset(&si, 0, sizeof si);
	r = waitid(P_PGID, (id_t)a.pid, &si, WEXITED);
	print_si("P_PGID", r, &si, a.pid);
	a = start(EXIT, 11);
	go(a);
	memset(&si, 0, sizeof si);
	r = waitid(P_PGID, 0, &si, WEXITED);
	print_si("P_PGID 0 (own group)", r, &si, a.pid);

	a = start(EXIT, 12);
	int pfd = (int)rsys(SYS_pidfd_open, a.pid, 0);
	expect(pfd >= 0, "pidfd_open of a child");
	go(a);
	memset(&si, 0, sizeof si);
	r = waitid(P_PIDFD, (id_t)pfd, &si, WEXITED);
	print_si("P_PIDFD", r, &si, a.pid);
	r = waitid(P_PIDFD, (id_t)pfd, &si, WEXITED | WNOHANG);
	print_si("P_PIDFD after it was reaped", r, &si, a.pid);
	close(pfd);
	r = waitid(P_PIDFD, 999, &si, WEXITED);
	print_si("P_PIDFD of a bad fd", r, &si, 0);
	int fd = open("/etc/passwd", O_RDONLY);
	r = waitid(P_PIDFD, (id_t)fd, &si, WEXITED);
	print_si("P_PIDFD of a file", r, &si, 0);
	close(fd);

	r = waitid(P_ALL, 0, &si, WEXITED);
	print_si("P_ALL without children", r, &si, 0);
	a = start(EXIT, 1);
	r = waitid(P_PID, (id_t)a.pid, &si, 0);
	print_si("no WEXITED/WSTOPPED/WCONTINUED", r, &si, 0);
	r = waitid(7, 0, &si, WEXITED);
	print_si("an unknown idtype", r, &si, 0);
	r = waitid(P_PID, 0, &si, WEXITED);
	print_si("P_PID 0", r, &si, 0);
	res("waitid with a bad siginfo pointer", rsys(SYS_waitid, P_PID, a.pid, 8, WEXITED | WNOHANG, 0));
	go(a);
	reap(a.pid);
	/* A NULL siginfo is allowed by Linux (not by POSIX). */
	a = start(EXIT, 1);
	go(a);
	res("waitid with a NULL siginfo", rsys(SYS_waitid, P_PID, a.pid, 0, WEXITED, 0));
	printf("and it reaped the child: %s\n", waitpid(a.pid, NULL, WNOHANG) < 0 ? errname(errno) : "no");
}

static volatile sig_atomic_t chld_count;
static void on_chld(int s) { chld_count++; }

static void zombies(void)
{
	printf("-- zombies and SIGCHLD\n");
	struct sigaction sa = { .sa_handler = on_chld };
	sigaction(SIGCHLD, &sa, NULL);
	chld_count = 0;
	pid_t pid = xfork();
	if (pid == 0)
		_exit(17);
	for (int i = 0; i < 400 && !chld_count; i++)
		sleep_ms(5);
	expect(chld_count == 1, "SIGCHLD arrived when the child exited");
	sleep_ms(100);
	expect(kill_child(pid, 0) == 0, "kill(zombie, 0) finds the zombie");
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | WNOHANG);
	print_si("the zombie, seen with WNOWAIT", r, &si, pid);
	printf("its status after a while: %s\n", status_str(reap(pid)));
	errno = 0;
	kill_child(pid, 0);
	printf("kill(pid, 0) after it was reaped: %s\n", errname(errno));
	signal(SIGCHLD, SIG_DFL);

	/* Many zombies at once, reaped in any order. */
	pid_t kids[20];
	for (int i = 0; i < 20; i++) {
		kids[i] = xfork();
		if (kids[i] == 0)
			_exit(i);
	}
	sleep_ms(100);
	int ok = 0;
	for (int i = 19; i >= 0; i--) {
		int st = reap(kids[i]);
		if (WIFEXITED(st) && WEXITSTATUS(st) == i)
			ok++;
	}
	printf("20 zombies reaped in reverse order with the right statuses: %d\n", ok);
}

static void orphans(void)
{
	printf("-- orphans go to the subreaper\n");
	res("prctl(PR_SET_CHILD_SUBREAPER)", rsys(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	int v = -1;
	rsys(SYS_prctl, PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
	printf("PR_GET_CHILD_SUBREAPER: %d\n", v);
	pid_t top = getpid();
	int p[2];
	pipe(p);
	/* A exits while its child G still runs; G reports who its parent is. */
	pid_t a = xfork();
	if (a == 0) {
		pid_t first = getpid(); /* not G's getppid(): A may be gone by then */
		pid_t g = xfork();
		if (g == 0) {
			for (int i = 0; i < 1000 && getppid() == first; i++)
				sleep_ms(5);
			char r = getppid() == top ? 'T' : getppid() == first ? 'A' : getppid() == 1 ? '1' : '?';
			write(p[1], &r, 1);
			_exit(33);
		}
		write(p[1], &g, sizeof g);
		_exit(0);
	}
	close(p[1]);
	pid_t g = 0;
	read(p[0], &g, sizeof g);
	printf("the middle process: %s\n", status_str(reap(a)));
	char r = 0;
	read(p[0], &r, 1);
	close(p[0]);
	printf("the orphan's new parent: %s\n", r == 'T' ? "the subreaper" : r == 'A' ? "unchanged" :
	       r == '1' ? "pid 1, not the subreaper" : "another process");
	printf("the subreaper reaps the orphan: %s\n", status_str(reap(g)));

	/* A zombie whose parent exits is handed over and can be reaped. */
	pipe(p);
	a = xfork();
	if (a == 0) {
		pid_t z = xfork();
		if (z == 0)
			_exit(44);
		write(p[1], &z, sizeof z);
		sleep_ms(50);   /* z is a zombie now; exit without reaping it */
		_exit(0);
	}
	close(p[1]);
	pid_t z = 0;
	read(p[0], &z, sizeof z);
	close(p[0]);
	reap(a);
	printf("the orphaned zombie, reaped by the subreaper: %s\n", status_str(reap(z)));
	errno = 0;
	printf("no children left: %s\n", wait(NULL) < 0 ? errname(errno) : "no");
}

static void stop_cases(void)
{
	printf("-- stopped and continued children\n");
	struct kid a = start(PAUSE, 0);
	kill_child(a.pid, SIGSTOP);
	int st = 0;
	pid_t r = waitpid(a.pid, &st, WUNTRACED);
	expect(r == a.pid, "waitpid(WUNTRACED) reports the stop");
	printf("status: %s\n", status_str(st));
	r = waitpid(a.pid, &st, WUNTRACED | WNOHANG);
	printf("the same stop again: %d\n", (int)r);
	kill_child(a.pid, SIGCONT);
	r = waitpid(a.pid, &st, WCONTINUED);
	expect(r == a.pid, "waitpid(WCONTINUED) reports the continue");
	printf("status: %s\n", status_str(st));

	siginfo_t si;
	kill_child(a.pid, SIGSTOP);
	memset(&si, 0, sizeof si);
	int w = waitid(P_PID, (id_t)a.pid, &si, WSTOPPED);
	print_si("waitid WSTOPPED", w, &si, a.pid);
	kill_child(a.pid, SIGCONT);
	memset(&si, 0, sizeof si);
	w = waitid(P_PID, (id_t)a.pid, &si, WCONTINUED);
	print_si("waitid WCONTINUED", w, &si, a.pid);
	/* A stop not asked for is not reported; the exit is. */
	kill_child(a.pid, SIGSTOP);
	sleep_ms(50);
	r = waitpid(a.pid, &st, WNOHANG);
	printf("waitpid without WUNTRACED on a stopped child: %d\n", (int)r);
	kill_child(a.pid, SIGKILL);
	printf("killed while stopped: %s\n", status_str(reap(a.pid)));
	close(a.go);
}

static void nocldwait_cases(void)
{
	printf("-- SIGCHLD ignored: no zombies\n");
	signal(SIGCHLD, SIG_IGN);
	pid_t kids[5];
	for (int i = 0; i < 5; i++) {
		kids[i] = xfork();
		if (kids[i] == 0) {
			sleep_ms(20 * i);
			_exit(i);
		}
	}
	int st;
	errno = 0;
	pid_t r = wait(&st);
	printf("wait blocks until all are gone, then: %s\n", r < 0 ? errname(errno) : "a status");
	errno = 0;
	kill_child(kids[0], 0);
	printf("kill(pid, 0) of an exited child: %s\n", errname(errno));
	signal(SIGCHLD, SIG_DFL);

	struct sigaction sa = { .sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT };
	sigaction(SIGCHLD, &sa, NULL);
	pid_t pid = xfork();
	if (pid == 0)
		_exit(1);
	errno = 0;
	r = waitpid(pid, &st, 0);
	printf("SA_NOCLDWAIT: waitpid: %s\n", r < 0 ? errname(errno) : "a status");
	signal(SIGCHLD, SIG_DFL);
	pid = xfork();
	if (pid == 0)
		_exit(2);
	printf("SIGCHLD default again: %s\n", status_str(reap(pid)));
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "stop")) {
		stop_cases();
	} else if (!strcmp(m, "nocldwait")) {
		nocldwait_cases();
	} else {
		statuses();
		waitpid_cases();
		waitid_cases();
		zombies();
		orphans();
	}
	return expect_failures ? 1 : 0;
}
