/* signalfd and signalfd4: errors in Linux's order, flags, reading blocked
 * signals as signalfd_siginfo (SI_USER, SI_QUEUE, SI_TKILL, SI_TIMER,
 * CLD_EXITED fields), several per read, EAGAIN, poll and epoll readiness
 * (also when another process sends the signal), a new mask for an
 * existing signalfd, EINTR for another signal, fork. */
#include "proc_util.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

static unsigned revents(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDNORM, 0 };
	return rsys(SYS_poll, &p, 1, 0) < 0 ? 0xdead : p.revents;
}

static uint64_t bit(int s) { return 1ULL << (s - 1); }

static void show(const char *label, const struct signalfd_siginfo *s)
{
	const char *code;
	switch (s->ssi_code) {
	case SI_USER: code = "SI_USER"; break;
	case SI_QUEUE: code = "SI_QUEUE"; break;
	case SI_TKILL: code = "SI_TKILL"; break;
	case SI_TIMER: code = "SI_TIMER"; break;
	case CLD_EXITED: code = "CLD_EXITED"; break;
	default: code = "other";
	}
	printf("%s: %s code %s errno %d pid %s uid %s int %d ptr %#llx tid %u overrun %u status %d\n", label,
	       (int)s->ssi_signo == SIGRTMIN ? "SIGRTMIN" : signame(s->ssi_signo), code, s->ssi_errno,
	       s->ssi_pid == (uint32_t)getpid() ? "self" : s->ssi_pid ? "other" : "0",
	       s->ssi_uid == getuid() ? "mine" : "other", s->ssi_int, (unsigned long long)s->ssi_ptr,
	       s->ssi_tid, s->ssi_overrun, s->ssi_status);
}

static long rd(int fd, struct signalfd_siginfo *s, size_t n)
{
	memset(s, 0xee, n * sizeof(*s));
	long r = rsys(SYS_read, fd, s, n * sizeof(*s));
	return r;
}

static volatile int hits;
static void on_alarm(int s) { hits++; }

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	uint64_t mask = bit(SIGUSR1) | bit(SIGRTMIN);
	res("sizemask 4", rsys(SYS_signalfd4, -1, &mask, 4, 0));
	res("sizemask 16", rsys(SYS_signalfd4, -1, &mask, 16, 0));
	res("sizemask 4, bad mask pointer", rsys(SYS_signalfd4, -1, 8, 4, 0));
	res("bad mask pointer", rsys(SYS_signalfd4, -1, 8, 8, 0));
	res("bad mask pointer, bad flags", rsys(SYS_signalfd4, -1, 8, 8, O_APPEND));
	res("flags O_APPEND", rsys(SYS_signalfd4, -1, &mask, 8, O_APPEND));
	res("fd 999", rsys(SYS_signalfd4, 999, &mask, 8, 0));
	res("fd -2", rsys(SYS_signalfd4, -2, &mask, 8, 0));
	long efd = rsys(SYS_eventfd2, 0, 0);
	res("an eventfd", rsys(SYS_signalfd4, efd, &mask, 8, 0));
	res("fd 999, bad flags", rsys(SYS_signalfd4, 999, &mask, 8, O_APPEND));
	long fd = rsys(SYS_signalfd4, -1, &mask, 8, SFD_NONBLOCK | SFD_CLOEXEC);
	res("signalfd4 nonblock cloexec", fd);
	resv("F_GETFL", rsys(SYS_fcntl, fd, F_GETFL));
	resv("F_GETFD", rsys(SYS_fcntl, fd, F_GETFD));
	long fd0 = rsys(SYS_signalfd, -1, &mask, 8);
	res("signalfd", fd0);
	resv("F_GETFL", rsys(SYS_fcntl, fd0, F_GETFL));
	uint64_t all = ~0ULL;
	res("mask with SIGKILL and SIGSTOP", rsys(SYS_signalfd4, fd0, &all, 8, 0) == fd0 ? 0 : -1);

	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGRTMIN);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, NULL);

	struct signalfd_siginfo si[4];
	char small[127];
	res("read 127 bytes", rsys(SYS_read, fd, small, sizeof(small)));
	res("read, nothing pending", rd(fd, si, 1));
	res("write", rsys(SYS_write, fd, si, sizeof(si[0])));
	printf("poll, nothing pending: %#x\n", revents(fd));
	kill(getpid(), SIGUSR2);
	printf("poll, SIGUSR2 (not in the mask) pending: %#x\n", revents(fd));
	kill(getpid(), SIGUSR1);
	printf("poll, SIGUSR1 pending: %#x\n", revents(fd));
	resv("read", rd(fd, si, 1));
	show("kill", &si[0]);
	printf("poll after read: %#x\n", revents(fd));

	union sigval v = { .sival_int = 77 };
	sigqueue(getpid(), SIGRTMIN, v);
	v.sival_int = 78;
	sigqueue(getpid(), SIGRTMIN, v);
	resv("read 3 with 2 queued", rd(fd, si, 3));
	show("sigqueue 1", &si[0]);
	show("sigqueue 2", &si[1]);

	/* A new mask for the same file. */
	mask = bit(SIGUSR2);
	resv("new mask: same fd", rsys(SYS_signalfd4, fd, &mask, 8, 0) == fd);
	resv("read", rd(fd, si, 1));
	show("the pending SIGUSR2", &si[0]);
	/* (Their si_code, SI_TKILL, is for the signal tests to check.) */
	raise(SIGUSR2);
	rd(fd, si, 1);
	printf("raise: %s\n", signame(si[0].ssi_signo));
	rsys(SYS_tgkill, getpid(), rsys(SYS_gettid), SIGUSR2);
	printf("poll, SIGUSR2 pending for the thread: %#x\n", revents(fd));
	rd(fd, si, 1);
	printf("tgkill: %s\n", signame(si[0].ssi_signo));

	/* A POSIX timer's signal. */
	mask = bit(SIGRTMIN);
	rsys(SYS_signalfd4, fd, &mask, 8, 0);
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN };
	ev.sigev_value.sival_int = 5;
	int tid;
	rsys(SYS_timer_create, CLOCK_MONOTONIC, &ev, &tid);
	struct itimerspec its = { { 0, 0 }, { 0, 1000000 } };
	rsys(SYS_timer_settime, tid, 0, &its, 0);
	struct pollfd p = { fd, POLLIN, 0 };
	resv("poll waits for the timer", rsys(SYS_poll, &p, 1, 5000));
	rd(fd, si, 1);
	show("timer", &si[0]);
	expect(si[0].ssi_tid == (uint32_t)tid, "ssi_tid is the timer's id");
	rsys(SYS_timer_delete, tid);

	/* SIGCHLD of a child's exit. */
	mask = bit(SIGCHLD);
	rsys(SYS_signalfd4, fd, &mask, 8, 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	p.revents = 0;
	rsys(SYS_poll, &p, 1, 5000);
	rd(fd, si, 1);
	show("child exit", &si[0]);
	expect(si[0].ssi_pid == (uint32_t)pid, "ssi_pid is the child's");
	waitpid(pid, NULL, 0);

	/* Blocking reads and epoll, woken by another process's kill. */
	long bfd = rsys(SYS_signalfd4, -1, &(uint64_t){ bit(SIGUSR1) }, 8, 0);
	pid_t parent = getpid();
	pid = fork();
	if (pid == 0) {
		usleep(30000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	resv("blocking read", rd(bfd, si, 2));
	expect(si[0].ssi_signo == SIGUSR1 && si[0].ssi_pid == (uint32_t)pid, "SIGUSR1 from the child");
	waitpid(pid, NULL, 0);
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 9 }, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, bfd, &e);
	pid = fork();
	if (pid == 0) {
		usleep(30000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	int n = epoll_wait(ep, out, 2, 5000);
	printf("epoll_wait: %d event(s), events %#x, data %llu\n", n, n > 0 ? out[0].events : 0,
	       n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
	rd(bfd, si, 1);
	waitpid(pid, NULL, 0);
	close(ep);

	/* Another signal interrupts a blocking read. */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	/* 150 ms: an alarm that came before the read started would leave it
	 * blocked for good (no SIGUSR1 is coming). */
	ualarm(150000, 0);
	res("blocking read, SIGALRM handled", rd(bfd, si, 1));
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	hits = 0;
	pid = fork();
	if (pid == 0) {
		usleep(300000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	ualarm(20000, 0);
	resv("blocking read, SA_RESTART", rd(bfd, si, 1));
	printf("  handler ran %d time(s), then %s\n", hits, signame(si[0].ssi_signo));
	waitpid(pid, NULL, 0);

	/* A child has its own (empty) pending set. */
	kill(getpid(), SIGUSR1);
	int st;
	fcntl(fd0, F_SETFL, O_NONBLOCK);
	pid = fork();
	if (pid == 0)
		_exit(rsys(SYS_read, fd0, si, sizeof(si[0])) == -EAGAIN ? 0 : 1);
	waitpid(pid, &st, 0);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child reads its own signals: none");
	resv("the parent reads its SIGUSR1", rd(fd0, si, 1));
	return expect_failures != 0;
}
