/* epoll in one process: argument errors, level and edge triggering,
 * EPOLLONESHOT, hang-ups, removal when a file is closed, nesting and its
 * loop rules, maxevents rotation, timeouts and the pwait variants. */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>

static struct epoll_event evs[16];

static int ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event e = { .events = events, .data.u64 = data };
	return rsys(SYS_epoll_ctl, ep, op, fd, &e);
}

static int cmp(const void *a, const void *b)
{
	const struct epoll_event *x = a, *y = b;
	return x->data.u64 < y->data.u64 ? -1 : x->data.u64 > y->data.u64;
}

/* Wait and print the events, sorted by data. */
static long wait_show(const char *label, int ep, int max, int timeout)
{
	long r = rsys(SYS_epoll_wait, ep, evs, max, timeout);
	printf("%s: %s", label, rstr(r));
	if (r >= 0) {
		qsort(evs, r, sizeof(evs[0]), cmp);
		printf(" %ld:", r);
		for (long i = 0; i < r; i++)
			printf(" [%llu %#x]", (unsigned long long)evs[i].data.u64, evs[i].events);
	}
	printf("\n");
	return r;
}

static long ms_since(struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(void)
{
	char buf[256];
	int p[2], q[2];
	pipe(p);
	pipe(q);
	int reg = open("/etc/passwd", O_RDONLY);
	int null = open("/dev/null", O_RDONLY);

	res("epoll_create 0", rsys(SYS_epoll_create, 0));
	res("epoll_create -1", rsys(SYS_epoll_create, -1));
	res("epoll_create1 bad flags", rsys(SYS_epoll_create1, 1));
	long ep = rsys(SYS_epoll_create1, EPOLL_CLOEXEC);
	res("epoll_create1 EPOLL_CLOEXEC", ep);
	resv("F_GETFL", rsys(SYS_fcntl, ep, F_GETFL));
	resv("F_GETFD", rsys(SYS_fcntl, ep, F_GETFD));
	struct stat st;
	rsys(SYS_fstat, ep, &st);
	printf("fstat mode %o\n", st.st_mode);
	res("read an epoll fd", rsys(SYS_read, ep, buf, 8));
	resv("lseek an epoll fd", rsys(SYS_lseek, ep, 3, SEEK_SET));

	/* epoll_ctl errors, in Linux's order */
	res("ctl bad event pointer", rsys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], (void *)8));
	res("ctl DEL NULL event, not there", rsys(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[0], NULL));
	res("ctl bad epfd", ctl(999, EPOLL_CTL_ADD, p[0], EPOLLIN, 0));
	res("ctl bad fd", ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0));
	res("ctl regular file", ctl(ep, EPOLL_CTL_ADD, reg, EPOLLIN, 0));
	res("ctl /dev/null", ctl(ep, EPOLL_CTL_ADD, null, EPOLLIN, 0));
	res("ctl epfd not an epoll", ctl(p[0], EPOLL_CTL_ADD, q[0], EPOLLIN, 0));
	res("ctl itself", ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
	res("ctl MOD missing", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 0));
	res("ctl bad op", ctl(ep, 99, p[0], EPOLLIN, 0));
	res("ctl EXCLUSIVE with MOD", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0));
	res("ctl EXCLUSIVE with EPOLLPRI", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLPRI | EPOLLEXCLUSIVE, 0));
	res("ctl EXCLUSIVE with ONESHOT", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE, 0));
	res("ctl ADD", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1));
	res("ctl ADD again", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1));
	res("ctl ADD exclusive", ctl(ep, EPOLL_CTL_ADD, q[0], EPOLLIN | EPOLLEXCLUSIVE, 2));
	res("ctl MOD an exclusive", ctl(ep, EPOLL_CTL_MOD, q[0], EPOLLIN, 2));
	res("ctl DEL", rsys(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, q[0], NULL));

	/* epoll_wait errors */
	res("wait maxevents 0", rsys(SYS_epoll_wait, ep, evs, 0, 0));
	res("wait maxevents -1", rsys(SYS_epoll_wait, ep, evs, -1, 0));
	res("wait kernel pointer", rsys(SYS_epoll_wait, ep, (void *)-4096L, 1, 0));
	res("wait bad fd", rsys(SYS_epoll_wait, 999, evs, 1, 0));
	res("wait not an epoll", rsys(SYS_epoll_wait, p[0], evs, 1, 0));
	write(p[1], "x", 1);
	res("wait unwritable events", rsys(SYS_epoll_wait, ep, (void *)8, 1, 0));

	/* level-triggered */
	wait_show("LT ready", ep, 16, 0);
	wait_show("LT still ready", ep, 16, 0);
	read(p[0], buf, 1);
	wait_show("LT drained", ep, 16, 0);
	ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLOUT, 11);
	write(p[1], "y", 1);
	wait_show("LT MOD data 11", ep, 16, 0);
	read(p[0], buf, 1);
	ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 3);
	wait_show("write end writable", ep, 16, 0);
	ctl(ep, EPOLL_CTL_DEL, p[1], 0, 0);

	/* edge-triggered */
	int e = rsys(SYS_epoll_create1, 0);
	ctl(e, EPOLL_CTL_ADD, q[0], EPOLLIN | EPOLLET, 5);
	wait_show("ET nothing", e, 16, 0);
	write(q[1], "ab", 2);
	wait_show("ET after write", e, 16, 0);
	wait_show("ET again: no new edge", e, 16, 0);
	read(q[0], buf, 1);
	wait_show("ET after partial read", e, 16, 0);
	write(q[1], "c", 1);
	wait_show("ET after another write", e, 16, 0);
	ctl(e, EPOLL_CTL_MOD, q[0], EPOLLIN | EPOLLET, 6);
	wait_show("ET after MOD (still ready)", e, 16, 0);
	read(q[0], buf, sizeof buf);
	int efd = eventfd(0, 0);
	ctl(e, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLOUT | EPOLLET, 7);
	wait_show("ET eventfd writable", e, 16, 0);
	uint64_t one = 1;
	write(efd, &one, 8);
	wait_show("ET eventfd written", e, 16, 0);
	wait_show("ET eventfd quiet", e, 16, 0);
	close(e);

	/* one-shot */
	e = rsys(SYS_epoll_create1, 0);
	ctl(e, EPOLL_CTL_ADD, q[0], EPOLLIN | EPOLLONESHOT, 8);
	write(q[1], "z", 1);
	wait_show("ONESHOT first", e, 16, 0);
	wait_show("ONESHOT disabled", e, 16, 0);
	res("ONESHOT re-ADD", ctl(e, EPOLL_CTL_ADD, q[0], EPOLLIN, 8));
	res("ONESHOT MOD", ctl(e, EPOLL_CTL_MOD, q[0], EPOLLIN | EPOLLONESHOT, 9));
	wait_show("ONESHOT rearmed", e, 16, 0);
	read(q[0], buf, sizeof buf);
	close(e);

	/* hang-ups and errors */
	e = rsys(SYS_epoll_create1, 0);
	int h[2];
	pipe(h);
	ctl(e, EPOLL_CTL_ADD, h[0], EPOLLIN | EPOLLRDHUP, 20);
	write(h[1], "w", 1);
	close(h[1]);
	wait_show("reader: data and writer gone", e, 16, 0);
	read(h[0], buf, 1);
	wait_show("reader: writer gone", e, 16, 0);
	ctl(e, EPOLL_CTL_MOD, h[0], 0, 21);
	wait_show("reader: no events asked, HUP anyway", e, 16, 0);
	close(h[0]);
	wait_show("closed: gone from the set", e, 16, 0);
	pipe(h);
	ctl(e, EPOLL_CTL_ADD, h[1], EPOLLOUT, 22);
	close(h[0]);
	wait_show("writer: reader gone", e, 16, 0);
	/* closing one of two fds of a file keeps it in the set */
	int d = dup(h[1]);
	close(h[1]);
	wait_show("dup survives", e, 16, 0);
	res("ctl DEL by the closed fd", rsys(SYS_epoll_ctl, e, EPOLL_CTL_DEL, h[1], NULL));
	res("ctl DEL by the dup", rsys(SYS_epoll_ctl, e, EPOLL_CTL_DEL, d, NULL));
	ctl(e, EPOLL_CTL_ADD, d, EPOLLOUT, 23);
	close(d);
	wait_show("all closed", e, 16, 0);
	close(e);

	/* nesting */
	int inner = rsys(SYS_epoll_create1, 0), outer = rsys(SYS_epoll_create1, 0);
	ctl(inner, EPOLL_CTL_ADD, q[0], EPOLLIN, 30);
	res("ADD inner to outer", ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 31));
	wait_show("outer, nothing", outer, 16, 0);
	struct pollfd pf = { inner, POLLIN, 0 };
	resv("poll inner, nothing", rsys(SYS_poll, &pf, 1, 0));
	write(q[1], "n", 1);
	wait_show("outer, inner ready", outer, 16, 0);
	resv("poll inner, ready", rsys(SYS_poll, &pf, 1, 0));
	printf("revents %#x\n", pf.revents);
	wait_show("inner", inner, 16, 0);
	res("ADD outer to inner (loop)", ctl(inner, EPOLL_CTL_ADD, outer, EPOLLIN, 32));
	int chain[7];
	for (int i = 0; i < 7; i++)
		chain[i] = rsys(SYS_epoll_create1, 0);
	for (int i = 0; i < 6; i++) {
		snprintf(buf, sizeof buf, "chain %d into %d", i + 1, i);
		res(buf, ctl(chain[i], EPOLL_CTL_ADD, chain[i + 1], EPOLLIN, i));
	}
	res("outer into chain end", ctl(chain[4], EPOLL_CTL_ADD, outer, EPOLLIN, 40));
	for (int i = 0; i < 7; i++)
		close(chain[i]);
	read(q[0], buf, sizeof buf);
	close(inner);
	wait_show("outer after inner closed", outer, 16, 0);
	close(outer);

	/* maxevents: ready items take turns */
	e = rsys(SYS_epoll_create1, 0);
	int f1 = eventfd(0, 0), f2 = eventfd(0, 0), f3 = eventfd(0, 0);
	ctl(e, EPOLL_CTL_ADD, f1, EPOLLOUT, 51);
	ctl(e, EPOLL_CTL_ADD, f2, EPOLLOUT, 52);
	ctl(e, EPOLL_CTL_ADD, f3, EPOLLOUT, 53);
	wait_show("max 1", e, 1, 0);
	wait_show("max 1", e, 1, 0);
	wait_show("max 1", e, 1, 0);
	wait_show("max 1", e, 1, 0);
	wait_show("max 2", e, 2, 0);
	wait_show("max 16", e, 16, 0);
	close(e);

	/* timeouts and the pwait calls */
	e = rsys(SYS_epoll_create1, 0);
	ctl(e, EPOLL_CTL_ADD, q[0], EPOLLIN, 60);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	wait_show("wait 30 ms", e, 16, 30);
	expect(ms_since(&t0) >= 29, "epoll_wait waited");
	uint64_t mask = 0;
	res("pwait sigsetsize 4", rsys(SYS_epoll_pwait, e, evs, 1, 0, &mask, 4));
	res("pwait bad mask", rsys(SYS_epoll_pwait, e, evs, 1, 0, (void *)8, 8));
	resv("pwait", rsys(SYS_epoll_pwait, e, evs, 1, 0, &mask, 8));
	struct { long s, ns; } ts = { 0, 20000000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resv("pwait2 20 ms", rsys(SYS_epoll_pwait2, e, evs, 1, &ts, NULL, 8));
	expect(ms_since(&t0) >= 19, "epoll_pwait2 waited");
	ts.ns = 1000000000;
	res("pwait2 bad timespec", rsys(SYS_epoll_pwait2, e, evs, 1, &ts, NULL, 8));
	res("pwait2 bad pointer", rsys(SYS_epoll_pwait2, e, evs, 1, (void *)8, NULL, 8));
	write(q[1], "t", 1);
	resv("pwait2 NULL timeout, ready", rsys(SYS_epoll_pwait2, e, evs, 1, NULL, NULL, 8));
	close(e);
	return expect_failures != 0;
}
