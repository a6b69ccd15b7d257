/* poll, ppoll, select, pselect6 in one process: readiness of pipes,
 * eventfds and regular files, POLLNVAL, POLLHUP/POLLERR, argument errors,
 * timeouts and the time left written back. */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>

struct kts {
	long sec, nsec;
};
struct ktv {
	long sec, usec;
};

static void show_poll(const char *label, struct pollfd *fds, int n, long r)
{
	printf("%s: %s", label, rstr(r));
	if (r >= 0) {
		printf(" %ld:", r);
		for (int i = 0; i < n; i++)
			printf(" %#x", fds[i].revents);
	}
	printf("\n");
}

static long ms_since(struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A signal the temporary mask lets through: its handler runs, the call
 * ends with EINTR, and the old mask (blocking it) is back afterwards. */
static volatile int usr1_hits;
static void on_usr1(int s) { usr1_hits++; }
static void masked_waits(void)
{
	sigset_t usr1, none, cur;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	signal(SIGUSR1, on_usr1);
	struct timespec one_s = { 1, 0 };
	raise(SIGUSR1);
	int r = ppoll(NULL, 0, &one_s, &none);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("ppoll letting a pending SIGUSR1 through: %s, handler ran %d, blocked again %d\n",
	       rstr(r < 0 ? -errno : r), usr1_hits, sigismember(&cur, SIGUSR1));
	raise(SIGUSR1);
	r = pselect(0, NULL, NULL, NULL, &one_s, &none);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("pselect letting a pending SIGUSR1 through: %s, handler ran %d, blocked again %d\n",
	       rstr(r < 0 ? -errno : r), usr1_hits, sigismember(&cur, SIGUSR1));
	signal(SIGUSR1, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
}

static void show_set(const char *label, fd_set *s, int upto)
{
	printf("%s:", label);
	for (int i = 0; i < upto; i++)
		if (FD_ISSET(i, s))
			printf(" +%d", i);
	printf("\n");
}

int main(void)
{
	int p[2], q[2];
	char c;
	pipe(p);
	pipe(q);
	int efd = eventfd(0, 0);
	int reg = open("/etc/passwd", O_RDONLY);

	/* readiness */
	struct pollfd fds[6] = {
		{ p[0], POLLIN, 0 }, { p[1], POLLOUT | POLLIN, 0 }, { efd, POLLIN | POLLOUT, 0 },
		{ reg, POLLIN | POLLOUT | POLLPRI, 0 }, { -1, POLLIN, 0 }, { 999, POLLIN, 0 },
	};
	show_poll("poll empty pipe", fds, 6, rsys(SYS_poll, fds, 6, 0));
	write(p[1], "x", 1);
	uint64_t one = 1;
	write(efd, &one, 8);
	show_poll("poll after writes", fds, 6, rsys(SYS_poll, fds, 6, 0));
	fds[0].events = 0;
	show_poll("poll events 0", fds, 1, rsys(SYS_poll, fds, 1, 0));
	fds[0].events = POLLIN;
	struct pollfd neg = { -5, POLLIN, 123 };
	show_poll("poll only negative fd", &neg, 1, rsys(SYS_poll, &neg, 1, 0));

	/* errors */
	res("poll bad pointer", rsys(SYS_poll, (void *)8, 1, 0));
	res("poll nfds 0 NULL", rsys(SYS_poll, NULL, 0, 0));
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	struct rlimit low = { 16, rl.rlim_max };
	setrlimit(RLIMIT_NOFILE, &low);
	res("poll nfds over RLIMIT_NOFILE", rsys(SYS_poll, fds, 17, 0));
	res("poll nfds at RLIMIT_NOFILE (bad pointer past the array)", rsys(SYS_poll, fds, 16, 0));
	setrlimit(RLIMIT_NOFILE, &rl);

	/* timeouts */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	show_poll("poll 30 ms on empty", fds + 4, 1, rsys(SYS_poll, fds + 4, 1, 30));
	expect(ms_since(&t0) >= 29, "poll waited for its timeout");
	struct kts ts = { 0, 20000000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	show_poll("ppoll 20 ms", fds + 4, 1, rsys(SYS_ppoll, fds + 4, 1, &ts, NULL, 8));
	expect(ms_since(&t0) >= 19, "ppoll waited");
	printf("ppoll time left: %ld.%09ld\n", ts.sec, ts.nsec);
	ts = (struct kts){ 5, 0 };
	show_poll("ppoll ready with 5 s", fds, 1, rsys(SYS_ppoll, fds, 1, &ts, NULL, 8));
	expect(ts.sec == 4 || ts.sec == 5, "time left written back (%ld s)", ts.sec);
	ts = (struct kts){ 0, 1000000000 };
	res("ppoll nsec 1e9", rsys(SYS_ppoll, fds, 1, &ts, NULL, 8));
	ts = (struct kts){ -1, 0 };
	res("ppoll negative", rsys(SYS_ppoll, fds, 1, &ts, NULL, 8));
	res("ppoll bad timeout pointer", rsys(SYS_ppoll, fds, 1, (void *)8, NULL, 8));
	uint64_t mask = 0;
	ts = (struct kts){ 0, 0 };
	res("ppoll sigsetsize 4", rsys(SYS_ppoll, fds, 1, &ts, &mask, 4));
	res("ppoll bad sigmask", rsys(SYS_ppoll, fds, 1, &ts, (void *)8, 8));
	resv("ppoll with mask", rsys(SYS_ppoll, fds, 1, &ts, &mask, 8));
	res("ppoll NULL sigmask, bad size", rsys(SYS_ppoll, fds, 1, &ts, NULL, 99));
	/* a signal the mask blocks stays pending; the old mask comes back */
	sigset_t blk;
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR1);
	sigprocmask(SIG_BLOCK, &blk, NULL);
	mask = 0;
	struct kts tz = { 0, 0 };
	resv("ppoll unblocking nothing pending", rsys(SYS_ppoll, fds, 1, &tz, &mask, 8));
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	expect(sigismember(&cur, SIGUSR1), "the old mask is back");

	/* hang-ups */
	close(q[1]);
	struct pollfd h = { q[0], POLLIN, 0 };
	show_poll("read end, writer gone", &h, 1, rsys(SYS_poll, &h, 1, 0));
	h.events = 0;
	show_poll("read end, writer gone, events 0", &h, 1, rsys(SYS_poll, &h, 1, 0));
	close(q[0]);
	pipe(q);
	close(q[0]);
	h = (struct pollfd){ q[1], POLLOUT, 0 };
	show_poll("write end, reader gone", &h, 1, rsys(SYS_poll, &h, 1, 0));
	close(q[1]);
	pipe(q);
	h = (struct pollfd){ q[0], POLLIN, 0 };
	close(q[0]);
	show_poll("closed fd", &h, 1, rsys(SYS_poll, &h, 1, 0));
	close(q[1]);

	/* a full pipe is not writable */
	pipe2(q, O_NONBLOCK);
	static char big[65536];
	write(q[1], big, sizeof big);
	h = (struct pollfd){ q[1], POLLOUT, 0 };
	show_poll("full pipe POLLOUT", &h, 1, rsys(SYS_poll, &h, 1, 0));
	read(q[0], big, 1);
	show_poll("one byte read: still full", &h, 1, rsys(SYS_poll, &h, 1, 0));
	read(q[0], big, 4095);
	show_poll("a page read", &h, 1, rsys(SYS_poll, &h, 1, 0));
	close(q[0]);
	close(q[1]);

	/* select */
	fd_set rs, ws, es;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&es);
	FD_SET(p[0], &rs);
	FD_SET(efd, &rs);
	FD_SET(p[1], &ws);
	FD_SET(reg, &es);
	FD_SET(reg, &rs);
	int nfds = reg > efd ? reg + 1 : efd + 1;
	struct ktv tv = { 0, 0 };
	resv("select", rsys(SYS_select, nfds, &rs, &ws, &es, &tv));
	show_set(" read", &rs, 64);
	show_set(" write", &ws, 64);
	show_set(" except", &es, 64);
	/* bits past nfds are ignored and cleared */
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	FD_SET(60, &rs);
	resv("select bit 60 past nfds", rsys(SYS_select, p[0] + 1, &rs, NULL, NULL, &tv));
	show_set(" read", &rs, 64);
	FD_ZERO(&rs);
	FD_SET(60, &rs);
	res("select closed fd 60", rsys(SYS_select, 61, &rs, NULL, NULL, &tv));
	FD_ZERO(&rs);
	FD_SET(1000, &rs);
	FD_SET(p[0], &rs);
	resv("select fd 1000 past the table", rsys(SYS_select, 1001, &rs, NULL, NULL, &tv));
	res("select nfds -1", rsys(SYS_select, -1, NULL, NULL, NULL, &tv));
	res("select bad set", rsys(SYS_select, 10, (void *)8, NULL, NULL, &tv));
	tv = (struct ktv){ 0, -1 };
	res("select usec -1", rsys(SYS_select, 0, NULL, NULL, NULL, &tv));
	tv = (struct ktv){ -1, 0 };
	res("select sec -1", rsys(SYS_select, 0, NULL, NULL, NULL, &tv));
	tv = (struct ktv){ 0, 1500000 }; /* 1.5 s as usec: carried over */
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	resv("select usec 1500000 ready", rsys(SYS_select, p[0] + 1, &rs, NULL, NULL, &tv));
	expect(tv.sec == 1 && tv.usec > 400000, "time left from 1.5 s");
	tv = (struct ktv){ 0, 20000 };
	FD_ZERO(&rs);
	int e2 = eventfd(0, 0);
	FD_SET(e2, &rs);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resv("select 20 ms nothing ready", rsys(SYS_select, e2 + 1, &rs, NULL, NULL, &tv));
	expect(ms_since(&t0) >= 19, "select waited");
	printf("select time left: %ld.%06ld, set:", tv.sec, tv.usec);
	show_set("", &rs, 64);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tv = (struct ktv){ 0, 10000 };
	resv("select NULL sets 10 ms", rsys(SYS_select, 0, NULL, NULL, NULL, &tv));
	expect(ms_since(&t0) >= 9, "select as a sleep");

	/* pselect6 */
	ts = (struct kts){ 0, 0 };
	struct { void *set; size_t size; } pack = { &mask, 8 };
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	resv("pselect6", rsys(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, &ts, &pack));
	pack.size = 16;
	res("pselect6 sigsetsize 16", rsys(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, &ts, &pack));
	res("pselect6 bad pack", rsys(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, &ts, (void *)8));
	pack = (typeof(pack)){ NULL, 99 };
	resv("pselect6 NULL set in pack", rsys(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, &ts, &pack));
	ts = (struct kts){ 0, 20000000 };
	FD_ZERO(&rs);
	FD_SET(e2, &rs);
	resv("pselect6 20 ms", rsys(SYS_pselect6, e2 + 1, &rs, NULL, NULL, &ts, NULL));
	printf("pselect6 time left: %ld.%09ld\n", ts.sec, ts.nsec);
	ts = (struct kts){ 0, -5 };
	res("pselect6 bad timeout", rsys(SYS_pselect6, 0, NULL, NULL, NULL, &ts, NULL));

	/* data becomes readable: drain, and poll says so */
	read(p[0], &c, 1);
	fds[0] = (struct pollfd){ p[0], POLLIN, 0 };
	show_poll("drained pipe", fds, 1, rsys(SYS_poll, fds, 1, 0));
	masked_waits();
	return expect_failures != 0;
}
