/* Signals through pidfds: pidfd_send_signal (flags, siginfo rules, ESRCH
 * once the process is reaped, a zombie still takes signals, the scope
 * flags) and poll/epoll on a pidfd (readable once the process exited,
 * POLLHUP too once it is reaped). */
#include "proc_util.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#define PIDFD_SIGNAL_THREAD 1
#define PIDFD_SIGNAL_THREAD_GROUP 2
#define PIDFD_SIGNAL_PROCESS_GROUP 4

static unsigned revents(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDNORM, 0 };
	return rsys(SYS_poll, &p, 1, 0) < 0 ? 0xdead : p.revents;
}

static long send(int fd, int sig, siginfo_t *info, unsigned flags)
{
	return rsys(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static volatile int got_sig, got_code, got_value, got_pid;
static void on_sig(int s, siginfo_t *si, void *uc)
{
	got_sig = s;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid = si->si_pid;
}

/* A child that waits for a signal and reports what it got through its
 * exit status: 10 + signal, +40 if its code was SI_QUEUE. */
static pid_t waiting_child(int ready_fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		got_sig = 0;
		struct sigaction sa = { .sa_sigaction = on_sig, .sa_flags = SA_SIGINFO };
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGUSR2, &sa, NULL);
		uint64_t one = 1;
		write(ready_fd, &one, 8);
		while (!got_sig)
			pause();
		_exit(10 + got_sig + (got_code == SI_QUEUE ? 40 : 0));
	}
	uint64_t v;
	read(ready_fd, &v, 8);
	return pid;
}

static const char *status(int st)
{
	static char buf[64];
	if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "killed by %s", signame(WTERMSIG(st)));
	else
		snprintf(buf, sizeof buf, "other");
	return buf;
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	int ready = eventfd(0, 0);
	long efd = rsys(SYS_eventfd2, 0, 0);
	long self = rsys(SYS_pidfd_open, getpid(), 0);
	res("pidfd_open self", self);
	res("flags 8", send(self, 0, NULL, 8));
	res("flags THREAD|THREAD_GROUP", send(self, 0, NULL, 3));
	res("flags 8, bad fd", send(999, 0, NULL, 8));
	res("bad fd", send(999, 0, NULL, 0));
	res("an eventfd", send(efd, 0, NULL, 0));
	res("signal 0 to self", send(self, 0, NULL, 0));
	res("signal 65 to self", send(self, 65, NULL, 0));
	res("signal -1 to self", send(self, -1, NULL, 0));
	res("bad siginfo pointer", send(self, SIGUSR1, (siginfo_t *)8, 0));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR2;
	si.si_code = SI_QUEUE;
	res("si_signo differs", send(self, SIGUSR1, &si, 0));
	printf("poll on a live process: %#x\n", revents(self));

	/* To ourselves, with our own siginfo (any code is fine for oneself). */
	struct sigaction sa = { .sa_sigaction = on_sig, .sa_flags = SA_SIGINFO };
	sigaction(SIGUSR1, &sa, NULL);
	si.si_signo = SIGUSR1;
	si.si_code = SI_USER;
	si.si_value.sival_int = 31;
	res("own siginfo to self, SI_USER", send(self, SIGUSR1, &si, 0));
	printf("  handler: %s code %d value %d\n", signame(got_sig), got_code, got_value);
	got_sig = 0;
	res("NULL siginfo to self", send(self, SIGUSR1, NULL, 0));
	printf("  handler: %s code %s pid %s\n", signame(got_sig), got_code == SI_USER ? "SI_USER" : "other",
	       got_pid == getpid() ? "self" : "other");
	got_sig = 0;
	res("THREAD scope to self", send(self, SIGUSR1, NULL, PIDFD_SIGNAL_THREAD));
	printf("  handler: %s code %s\n", signame(got_sig), got_code == SI_TKILL ? "SI_TKILL" : "other");
	got_sig = 0;
	res("THREAD_GROUP scope to self", send(self, SIGUSR1, NULL, PIDFD_SIGNAL_THREAD_GROUP));
	printf("  handler: %s\n", signame(got_sig));
	si.si_code = SI_USER;
	res("PROCESS_GROUP scope, own SI_USER siginfo", send(self, SIGUSR1, &si, PIDFD_SIGNAL_PROCESS_GROUP));

	/* To a child. */
	pid_t pid = waiting_child(ready);
	long pfd = rsys(SYS_pidfd_open, pid, 0);
	si.si_code = SI_USER;
	res("SI_USER siginfo to another process", send(pfd, SIGUSR1, &si, 0));
	si.si_code = SI_TKILL;
	res("SI_TKILL siginfo to another process", send(pfd, SIGUSR1, &si, 0));
	si.si_code = SI_KERNEL;
	res("SI_KERNEL siginfo to another process", send(pfd, SIGUSR1, &si, 0));
	si.si_code = SI_QUEUE;
	si.si_signo = SIGUSR2;
	res("SI_QUEUE siginfo to the child", send(pfd, SIGUSR2, &si, 0));
	int st;
	waitpid(pid, &st, 0);
	printf("  child: %s\n", status(st));
	close(pfd);

	/* Poll: readable once the child exits, hung up once it is reaped. */
	pid = waiting_child(ready);
	pfd = rsys(SYS_pidfd_open, pid, 0);
	printf("poll, child alive: %#x\n", revents(pfd));
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 5 }, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &e);
	printf("epoll_wait, child alive: %d\n", epoll_wait(ep, out, 2, 0));
	kill(pid, SIGUSR2);
	struct pollfd p = { pfd, POLLIN, 0 };
	resv("poll waits for the exit", rsys(SYS_poll, &p, 1, 5000));
	printf("  revents %#x\n", p.revents);
	printf("poll, child a zombie: %#x\n", revents(pfd));
	int n = epoll_wait(ep, out, 2, 5000);
	printf("epoll_wait, child a zombie: %d, events %#x\n", n, n > 0 ? out[0].events : 0);
	res("signal to a zombie", send(pfd, SIGUSR1, NULL, 0));
	waitpid(pid, &st, 0);
	printf("  child: %s\n", status(st));
	printf("poll, child reaped: %#x\n", revents(pfd));
	res("signal 0 once reaped", send(pfd, 0, NULL, 0));
	res("signal 65 once reaped", send(pfd, 65, NULL, 0));
	close(ep);
	close(pfd);

	/* A blocking poll woken by a child's exit, and a kill through it. */
	pid = waiting_child(ready);
	pfd = rsys(SYS_pidfd_open, pid, 0);
	res("SIGKILL through the pidfd", send(pfd, SIGKILL, NULL, 0));
	p = (struct pollfd){ pfd, POLLIN, 0 };
	resv("poll", rsys(SYS_poll, &p, 1, 5000));
	waitpid(pid, &st, 0);
	printf("  child: %s\n", status(st));
	close(pfd);

	/* The process-group scope reaches the whole group led by the pidfd's
	 * process. */
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		pid_t member = fork();
		if (member == 0) {
			pause();
			_exit(0);
		}
		uint64_t one = 1;
		write(ready, &one, 8);
		int s2;
		waitpid(member, &s2, 0);
		pause();
		_exit(WIFSIGNALED(s2) && WTERMSIG(s2) == SIGTERM ? 0 : 1);
	}
	uint64_t v;
	read(ready, &v, 8);
	pfd = rsys(SYS_pidfd_open, pid, 0);
	res("PROCESS_GROUP scope SIGTERM", send(pfd, SIGTERM, NULL, PIDFD_SIGNAL_PROCESS_GROUP));
	waitpid(pid, &st, 0);
	printf("  leader: %s\n", status(st));
	return expect_failures != 0;
}
