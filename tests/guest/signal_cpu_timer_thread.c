/* A CPU itimer's signal (ITIMER_PROF) is the process's, but it is taken
 * by the thread the CPU time goes to, as Linux names the thread its tick
 * charged: a profiler sees where the time is spent. The main thread waits
 * in pthread_join while another spins. Also: recvmsg hands
 * back MSG_CMSG_CLOEXEC in msg_flags (Linux starts msg_flags from it). */
#include "util.h"
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

static volatile int main_hits, hog_hits, other_hits;
static volatile pid_t hog_tid, main_tid;

static void on_prof(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	pid_t t = (pid_t)syscall(SYS_gettid);
	if (t == hog_tid)
		hog_hits++;
	else if (t == main_tid)
		main_hits++;
	else
		other_hits++;
}

/* Spins in user code alone (a clock read would be a system call) until
 * it has taken five SIGPROFs: 50 ms of profiled CPU. */
static void *hog(void *arg)
{
	hog_tid = (pid_t)syscall(SYS_gettid);
	while (hog_hits < 5 && main_hits + other_hits < 50)
		;
	return arg;
}

int main(void)
{
	alarm(30);
	main_tid = (pid_t)syscall(SYS_gettid);
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGPROF, &sa, NULL);
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	setitimer(ITIMER_PROF, &it, NULL);
	pthread_t t;
	pthread_create(&t, NULL, hog, NULL);
	pthread_join(t, NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_PROF, &off, NULL);
	printf("SIGPROF taken by the busy thread: %s\n", hog_hits > 0 ? "yes" : "no");
	printf("SIGPROF taken by the waiting main thread: %s\n", main_hits > 0 ? "yes" : "no");

	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	write(sv[0], "x", 1);
	char b[4], cbuf[64];
	struct iovec iov = { b, sizeof(b) };
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	long n = recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC);
	printf("recvmsg(MSG_CMSG_CLOEXEC): %ld, msg_flags %#x\n", n, (unsigned)m.msg_flags);
	return 0;
}
