/* timerfd: create/settime/gettime errors, expiration counts read as 8
 * bytes, periodic catch-up, EAGAIN with TFD_NONBLOCK, poll and epoll
 * readiness, absolute times, interrupted reads (EINTR or restart), a
 * timerfd shared with a child. Times are printed only as relations. */
#include "proc_util.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

struct kits {
	long isec, insec, vsec, vnsec;
};

static long long now_on(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static long long now_ns(void) { return now_on(CLOCK_MONOTONIC); }
static long long val_ns(const struct kits *k) { return k->vsec * 1000000000LL + k->vnsec; }

static long settime(int fd, int flags, long vsec, long vnsec, long isec, long insec)
{
	struct kits k = { isec, insec, vsec, vnsec };
	return rsys(SYS_timerfd_settime, fd, flags, &k, 0);
}

static struct kits gettime(int fd)
{
	struct kits k = { -1, -1, -1, -1 };
	rsys(SYS_timerfd_gettime, fd, &k);
	return k;
}

static long rd(int fd, uint64_t *v)
{
	*v = 0;
	return rsys(SYS_read, fd, v, 8);
}

static unsigned revents(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	return rsys(SYS_poll, &p, 1, 0) < 0 ? 0xdead : p.revents;
}

static volatile int hits;
static void on_alarm(int s) { hits++; }

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	res("create clock PROCESS_CPUTIME_ID", rsys(SYS_timerfd_create, CLOCK_PROCESS_CPUTIME_ID, 0));
	res("create clock 10", rsys(SYS_timerfd_create, 10, 0));
	res("create MONOTONIC_RAW", rsys(SYS_timerfd_create, CLOCK_MONOTONIC_RAW, 0));
	res("create TAI", rsys(SYS_timerfd_create, CLOCK_TAI, 0));
	res("create flags O_APPEND", rsys(SYS_timerfd_create, CLOCK_MONOTONIC, O_APPEND));
	long fd = rsys(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	res("create MONOTONIC nonblock cloexec", fd);
	resv("F_GETFL", rsys(SYS_fcntl, fd, F_GETFL));
	resv("F_GETFD", rsys(SYS_fcntl, fd, F_GETFD));
	long bfd = rsys(SYS_timerfd_create, CLOCK_BOOTTIME, 0);
	res("create BOOTTIME", bfd);
	resv("F_GETFL", rsys(SYS_fcntl, bfd, F_GETFL));
	long rfd = rsys(SYS_timerfd_create, CLOCK_REALTIME, 0);

	struct kits k = { 0, 0, 1, 0 }, bad = { 0, 0, 0, 1000000000 }, g;
	long efd = rsys(SYS_eventfd2, 0, 0);
	res("settime bad fd", rsys(SYS_timerfd_settime, 999, 0, &k, 0));
	res("settime on an eventfd", rsys(SYS_timerfd_settime, efd, 0, &k, 0));
	res("settime flags 4", rsys(SYS_timerfd_settime, fd, 4, &k, 0));
	res("settime flags 4, bad fd", rsys(SYS_timerfd_settime, 999, 4, &k, 0));
	res("settime NULL", rsys(SYS_timerfd_settime, fd, 0, 0, 0));
	res("settime NULL, bad fd", rsys(SYS_timerfd_settime, 999, 0, 0, 0));
	res("settime nsec 1e9", rsys(SYS_timerfd_settime, fd, 0, &bad, 0));
	res("settime nsec 1e9, bad fd", rsys(SYS_timerfd_settime, 999, 0, &bad, 0));
	res("settime bad old pointer", rsys(SYS_timerfd_settime, fd, 0, &k, 8));
	g = gettime(fd);
	expect(val_ns(&g) > 900000000, "armed all the same");
	res("settime CANCEL_ON_SET|ABSTIME on MONOTONIC",
	    rsys(SYS_timerfd_settime, fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &k, 0));
	res("gettime bad fd", rsys(SYS_timerfd_gettime, 999, &g));
	res("gettime on an eventfd", rsys(SYS_timerfd_gettime, efd, &g));
	res("gettime bad pointer", rsys(SYS_timerfd_gettime, fd, 8));
	settime(fd, 0, 0, 0, 0, 0);
	g = gettime(fd);
	printf("disarmed: %ld %ld %ld %ld\n", g.isec, g.insec, g.vsec, g.vnsec);

	uint64_t v;
	char small[4];
	res("read 4 bytes", rsys(SYS_read, fd, small, 4));
	res("read nonblocking, nothing yet", rd(fd, &v));
	res("write", rsys(SYS_write, fd, &v, 8));
	res("pread", rsys(SYS_pread64, fd, &v, 8, 0));
	printf("poll unarmed: %#x\n", revents(fd));

	/* One-shot, blocking read. */
	long long t0 = now_ns();
	settime(bfd, 0, 0, 20000000, 0, 0);
	resv("read one-shot", rd(bfd, &v));
	printf("  count %llu\n", (unsigned long long)v);
	expect(now_ns() - t0 >= 20000000, "not before 20 ms");
	g = gettime(bfd);
	printf("one-shot after it fired: %ld %ld %ld %ld\n", g.isec, g.insec, g.vsec, g.vnsec);

	/* Periodic: the count includes every period passed. */
	settime(fd, 0, 0, 10000000, 0, 10000000);
	usleep(55000);
	printf("poll expired: %#x\n", revents(fd));
	rd(fd, &v);
	expect(v >= 5 && v < 1000, "count after 55 ms of 10 ms periods is at least 5");
	printf("poll after read: %#x\n", revents(fd));
	g = gettime(fd);
	expect(val_ns(&g) > 0 && val_ns(&g) <= 10000000 && g.insec == 10000000, "gettime: 0 < left <= 10 ms");
	usleep(25000);
	struct kits old;
	k = (struct kits){ 0, 0, 5, 0 };
	rsys(SYS_timerfd_settime, fd, 0, &k, &old);
	expect(val_ns(&old) > 0 && val_ns(&old) <= 10000000 && old.insec == 10000000,
	       "old setting of an expired periodic timer: its next expiry");
	res("read after re-arming", rd(fd, &v));

	/* Absolute on REALTIME, and in the past. */
	t0 = now_ns(); /* before the deadline is taken: 30 ms after both */
	long long at = now_on(CLOCK_REALTIME) + 30000000;
	settime(rfd, TFD_TIMER_ABSTIME, at / 1000000000, at % 1000000000, 0, 0);
	rd(rfd, &v);
	expect(v == 1 && now_on(CLOCK_REALTIME) >= at && now_ns() - t0 >= 29000000, "absolute REALTIME: once, not early");
	settime(rfd, TFD_TIMER_ABSTIME, 1, 0, 0, 0);
	resv("absolute in the past: read", rd(rfd, &v));
	printf("  count %llu\n", (unsigned long long)v);
	settime(rfd, TFD_TIMER_ABSTIME, 1, 0, 1, 0);
	rd(rfd, &v);
	expect(v > 1000000000, "periodic 1 s from 1970: over a billion periods");

	/* epoll */
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 }, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, bfd, &ev);
	settime(bfd, 0, 0, 10000000, 0, 0);
	int n = epoll_wait(ep, out, 2, 5000);
	printf("epoll_wait: %d event(s), events %#x, data %llu\n", n, n > 0 ? out[0].events : 0,
	       n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
	rd(bfd, &v);
	n = epoll_wait(ep, out, 2, 0);
	printf("epoll_wait after read: %d\n", n);
	close(ep);

	/* A signal interrupts a blocking read: EINTR, or a restart. The
	 * alarm comes 100 ms after it is set (the read must have started by
	 * then, on a loaded machine too), the timer 1 s after it is set. */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	settime(bfd, 0, 1, 0, 0, 0);
	ualarm(100000, 0);
	res("read interrupted without SA_RESTART", rd(bfd, &v));
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	hits = 0;
	ualarm(100000, 0);
	resv("read with SA_RESTART", rd(bfd, &v));
	printf("  handler ran %d time(s), count %llu\n", hits, (unsigned long long)v);

	/* Shared with a child. */
	settime(bfd, 0, 0, 10000000, 0, 0);
	pid_t pid = fork();
	if (pid == 0) {
		uint64_t c = 0;
		_exit(rsys(SYS_read, bfd, &c, 8) == 8 && c == 1 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child read the shared timerfd's count");
	res("and the parent finds nothing", rd(fd, &v));

	uint64_t ticks = 3;
	long r = rsys(SYS_ioctl, bfd, TFD_IOC_SET_TICKS, &ticks);
	res("TFD_IOC_SET_TICKS 3", r);
	if (r == 0) {
		rd(bfd, &v);
		printf("  read: %llu\n", (unsigned long long)v);
		ticks = 0;
		res("TFD_IOC_SET_TICKS 0", rsys(SYS_ioctl, bfd, TFD_IOC_SET_TICKS, &ticks));
	}
	res("ioctl FIONREAD", rsys(SYS_ioctl, bfd, FIONREAD, &ticks));
	return expect_failures != 0;
}
