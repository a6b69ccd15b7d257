/* poll and select hold the files they wait on: a thread sleeps in poll,
 * ppoll, select or pselect on a pipe's read end or one end of a unix
 * socketpair, another closes that only fd and writes to the pipe or peer.
 * The write succeeds (Linux's __pollwait took a reference on the file),
 * wakes the waiter, whose re-scan finds the fd closed: POLLNVAL for poll,
 * the fd in every set asked for (counted per set) for select. The file
 * goes when the call returns. epoll holds nothing: there the write to a
 * pipe fails. An fd closed before the call: POLLNVAL, select EBADF.
 * Then /dev/full with 0 bytes and sendfile/splice with the memory devices
 * (sendfile wants a seekable input, not a regular file). */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

enum { POLL, PPOLL, SELECT, PSELECT, EPOLL };
static const char *const kind_name[] = { "poll", "ppoll", "select", "pselect", "epoll_wait" };

static int wfd, wkind, wsets; /* the fd waited on, how, select's sets (1 in, 2 out, 4 ex) */
static volatile long wtid;
static long wret;
static int wbits;

static void *waiter(void *arg)
{
	wtid = rsys(SYS_gettid);
	int fd = wfd;
	wret = 0;
	wbits = 0;
	if (wkind == POLL || wkind == PPOLL) {
		struct pollfd p = { fd, POLLIN, 0 };
		struct timespec ts = { 4, 0 };
		wret = wkind == POLL ? poll(&p, 1, 4000) : ppoll(&p, 1, &ts, NULL);
		wbits = p.revents;
	} else if (wkind == SELECT || wkind == PSELECT) {
		fd_set in, out, ex;
		FD_ZERO(&in);
		FD_ZERO(&out);
		FD_ZERO(&ex);
		if (wsets & 1)
			FD_SET(fd, &in);
		if (wsets & 2)
			FD_SET(fd, &out);
		if (wsets & 4)
			FD_SET(fd, &ex);
		struct timeval tv = { 4, 0 };
		struct timespec ts = { 4, 0 };
		wret = wkind == SELECT ? select(fd + 1, &in, &out, &ex, &tv)
				       : pselect(fd + 1, &in, &out, &ex, &ts, NULL);
		wbits = FD_ISSET(fd, &in) | FD_ISSET(fd, &out) << 1 | FD_ISSET(fd, &ex) << 2;
	} else {
		int ep = epoll_create1(0);
		struct epoll_event ev = { .events = EPOLLIN }, got;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		wret = epoll_wait(ep, &got, 1, 600);
		close(ep);
	}
	if (wret < 0)
		wret = -errno;
	return NULL;
}

/* Until thread tid sleeps (state S in /proc), then a little longer. */
static void wait_sleeping(long tid)
{
	char path[64], b[512];
	snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
	for (int i = 0; i < 3000; i++) {
		int fd = open(path, O_RDONLY);
		long n = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			b[n] = 0;
			char *q = strrchr(b, ')');
			if (q && q[1] == ' ' && q[2] == 'S')
				break;
		}
		usleep(1000);
	}
	usleep(100000);
}

/* A thread waits on fd (kind, sets), this one closes fd and writes a byte
 * to peer; then the waiter's result, and a write once it returned. */
static void closed_while_waiting(const char *what, int fd, int peer, int kind, int sets)
{
	pthread_t t;
	wfd = fd;
	wkind = kind;
	wsets = sets;
	wtid = 0;
	pthread_create(&t, NULL, waiter, NULL);
	while (!wtid)
		usleep(1000);
	wait_sleeping(wtid);
	close(fd);
	long w = rsys(SYS_write, peer, "x", 1);
	pthread_join(t, NULL);
	/* (seqpacket: ECONNRESET once, as the closed end had unread data) */
	const char *after = rstr(rsys(SYS_write, peer, "y", 1));
	if (sets)
		printf("%s, %s (sets %d): write after close %s; %s -> %s, sets %d; write after return %s\n",
		       what, kind_name[kind], sets, rstr(w), kind_name[kind], rstr(wret),
		       wbits, after);
	else
		printf("%s, %s: write after close %s; %s -> %s %ld, revents %#x; write after return %s\n",
		       what, kind_name[kind], rstr(w), kind_name[kind], rstr(wret),
		       wret < 0 ? 0 : wret, wbits, after);
	close(peer);
}

static void pipe_case(int kind, int sets)
{
	int p[2];
	pipe(p);
	closed_while_waiting("pipe", p[0], p[1], kind, sets);
}

static void sock_case(const char *what, int type, int kind)
{
	int s[2];
	socketpair(AF_UNIX, type, 0, s);
	closed_while_waiting(what, s[0], s[1], kind, kind == SELECT ? 1 : 0); /* always writable */
}

static void waits(void)
{
	printf("-- closed while poll/select wait on it\n");
	pipe_case(POLL, 0);
	pipe_case(PPOLL, 0);
	pipe_case(SELECT, 7);
	pipe_case(SELECT, 1);
	/* Not asking for input, Linux's select is not woken by the write (a
	 * keyed wake): its last look, at the timeout, reports the closed fd. */
	pipe_case(SELECT, 6);
	pipe_case(PSELECT, 5);
	sock_case("unix stream", SOCK_STREAM, POLL);
	sock_case("unix seqpacket", SOCK_SEQPACKET, POLL);
	sock_case("unix dgram", SOCK_DGRAM, POLL);
	sock_case("unix stream", SOCK_STREAM, SELECT);
	printf("-- an epoll set keeps nothing open\n");
	pipe_case(EPOLL, 0);
	sock_case("unix stream", SOCK_STREAM, EPOLL);
	sock_case("unix dgram", SOCK_DGRAM, EPOLL);

	printf("-- closed before the call\n");
	int p[2];
	pipe(p);
	close(p[0]);
	struct pollfd pf = { p[0], POLLIN, 0 };
	long r = poll(&pf, 1, 0);
	printf("poll on a closed fd: %ld, revents %#x\n", r, pf.revents);
	fd_set in;
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	struct timeval tv = { 0, 0 };
	lres("select on a closed fd", select(p[0] + 1, &in, NULL, NULL, &tv));
	close(p[1]);
}

static void dev_full(void)
{
	printf("-- /dev/full\n");
	char b[4] = { 0 };
	int df = open("/dev/full", O_RDWR);
	resv("write 0", rsys(SYS_write, df, b, 0));
	resv("write 1", rsys(SYS_write, df, b, 1));
	resv("pwrite 0", rsys(SYS_pwrite64, df, b, 0, 0));
	struct iovec iov[2] = { { b, 0 }, { b, 0 } };
	resv("writev 0 bytes", rsys(SYS_writev, df, iov, 2));
	resv("writev no iovecs", rsys(SYS_writev, df, iov, 0));
	resv("pwritev 0 bytes", rsys(SYS_pwritev, df, iov, 1, 0, 0));
	iov[1].iov_len = 2;
	resv("writev 0+2 bytes", rsys(SYS_writev, df, iov, 2));
	resv("read 4", rsys(SYS_read, df, b, 4));
	close(df);
}

static void sendfile_devices(void)
{
	printf("-- sendfile and splice with devices\n");
	static const char *const ins[] = { "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/null" };
	static const char *const outs[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/urandom" };
	char label[96];
	for (unsigned i = 0; i < sizeof ins / sizeof *ins; i++) {
		for (unsigned o = 0; o < sizeof outs / sizeof *outs; o++) {
			int in = open(ins[i], O_RDONLY), out = open(outs[o], O_WRONLY);
			snprintf(label, sizeof label, "sendfile %s -> %s 100", ins[i], outs[o]);
			resv(label, rsys(SYS_sendfile, out, in, NULL, 100));
			close(in);
			close(out);
		}
	}
	int z = open("/dev/zero", O_RDONLY), u = open("/dev/urandom", O_RDONLY);
	int dn = open("/dev/null", O_RDWR), df = open("/dev/full", O_WRONLY);
	int m = memfd_create("sf", 0);
	resv("sendfile /dev/zero -> memfd 300", rsys(SYS_sendfile, m, z, NULL, 300));
	char buf[300];
	memset(buf, 1, sizeof buf);
	long n = pread(m, buf, sizeof buf, 0);
	int zeros = 1;
	for (long k = 0; k < n; k++)
		zeros &= !buf[k];
	printf("memfd: %ld bytes, all zero %d, position %ld\n", n, zeros, (long)lseek(m, 0, SEEK_CUR));
	loff_t off = 7;
	resv("sendfile /dev/urandom@7 -> memfd 10", rsys(SYS_sendfile, m, u, &off, 10));
	printf("offset after: %lld (the device does not move it)\n", (long long)off);
	int p[2];
	pipe(p);
	off = 9;
	resv("sendfile /dev/zero@9 -> pipe 10", rsys(SYS_sendfile, p[1], z, &off, 10));
	printf("offset after: %lld\n", (long long)off);
	off = 3;
	resv("splice /dev/zero@3 -> pipe 5", rsys(SYS_splice, z, &off, p[1], NULL, 5, 0));
	printf("offset after: %lld\n", (long long)off);
	resv("sendfile /dev/zero -> /dev/null 0", rsys(SYS_sendfile, dn, z, NULL, 0));
	resv("sendfile /dev/null -> /dev/full 0", rsys(SYS_sendfile, df, dn, NULL, 0));
	resv("sendfile /dev/null -> pipe 5", rsys(SYS_sendfile, p[1], dn, NULL, 5));
	resv("splice /dev/null -> pipe 5", rsys(SYS_splice, dn, NULL, p[1], NULL, 5, 0));
	resv("splice pipe -> /dev/full 5", rsys(SYS_splice, p[0], NULL, df, NULL, 5, 0));
	resv("splice pipe -> /dev/null 5", rsys(SYS_splice, p[0], NULL, dn, NULL, 5, 0));
	resv("sendfile pipe -> /dev/null 5", rsys(SYS_sendfile, dn, p[0], NULL, 5));
	lseek(m, 0, SEEK_SET);
	resv("sendfile memfd -> /dev/full 5", rsys(SYS_sendfile, df, m, NULL, 5));
	printf("memfd position after: %ld\n", (long)lseek(m, 0, SEEK_CUR));
	lseek(m, 0, SEEK_END);
	resv("sendfile memfd at its end -> /dev/full 5", rsys(SYS_sendfile, df, m, NULL, 5));
	int s[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	rsys(SYS_write, s[1], "abc", 3);
	resv("sendfile socket -> /dev/null 3", rsys(SYS_sendfile, dn, s[0], NULL, 3));
	resv("sendfile /dev/zero -> socket 3", rsys(SYS_sendfile, s[1], z, NULL, 3));
	resv("read it", rsys(SYS_read, s[0], buf, sizeof buf));
	int fl = open("/dev/null", O_WRONLY | O_APPEND);
	resv("sendfile /dev/zero -> O_APPEND /dev/null 3", rsys(SYS_sendfile, fl, z, NULL, 3));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	alarm(60); /* a safety net: every wait here has its own timeout */
	waits();
	dev_full();
	sendfile_devices();
	return expect_failures ? 1 : 0;
}
