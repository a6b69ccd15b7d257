/* Datagram and AF_UNIX socket edges, value by value:
 *  1. shutdown() of a datagram socket (UDP, AF_UNIX): a receive that may
 *     not wait is EAGAIN on an empty queue even after SHUT_RD (only one
 *     that would wait returns 0); a send after the socket's own SHUT_WR
 *     is EPIPE without SIGPIPE (sock_alloc_send_pskb).
 *  2. AF_UNIX SOCK_DGRAM leaving a peer (connect elsewhere, AF_UNSPEC,
 *     a send finding it closed): the own queue is dropped and a peer
 *     connected back gets ECONNRESET once (unix_dgram_disconnected).
 *  3. AF_UNIX POLLOUT: writable only while at most a quarter of SO_SNDBUF
 *     is in flight (unix_writable), though a send is taken below the
 *     whole of it; stream skbs of at most sndbuf/2 - 64 bytes.
 *  4. Taking one of two queued datagrams or connections is no new
 *     EPOLLIN edge (Linux wakes only writers there); writers blocked for
 *     room still wake, and so does an EPOLLET EPOLLOUT sender whose peer's
 *     queue was full. */
#include "util.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#define E(x) ({ long __r = (long)(x); __r < 0 ? -errno : __r; })
#define SHOW(label, x) resv(label, E(x))

static volatile int pipes;
static void on_pipe(int sig) { (void)sig; pipes++; }

static unsigned pm(int fd, short ev)
{
	struct pollfd p = { fd, ev, 0 };
	poll(&p, 1, 0);
	return p.revents;
}

static struct sockaddr_in lo4(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void bound_udp_pair(int *u, int *v)
{
	struct sockaddr_in a = lo4(), ua, va;
	socklen_t l = sizeof(ua);
	*u = socket(AF_INET, SOCK_DGRAM, 0);
	*v = socket(AF_INET, SOCK_DGRAM, 0);
	bind(*u, (void *)&a, sizeof(a));
	bind(*v, (void *)&a, sizeof(a));
	getsockname(*u, (void *)&ua, &l);
	l = sizeof(va);
	getsockname(*v, (void *)&va, &l);
	connect(*u, (void *)&va, sizeof(va));
	connect(*v, (void *)&ua, sizeof(ua));
}

/* ---- 1. shutdown ------------------------------------------------------------- */

static void shut_one(const char *name, int s, int peer)
{
	char b[16];
	printf("-- shutdown %s\n", name);
	SHOW("shutdown rd", shutdown(s, SHUT_RD));
	SHOW("recv dontwait empty", recv(s, b, sizeof(b), MSG_DONTWAIT));
	struct timeval tv = { 0, 200000 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	SHOW("recv blocking empty", recv(s, b, sizeof(b), 0));
	printf("poll %#x\n", pm(s, POLLIN | POLLOUT | POLLRDHUP));
	SHOW("shutdown wr", shutdown(s, SHUT_WR));
	SHOW("recv dontwait rdwr", recv(s, b, sizeof(b), MSG_DONTWAIT));
	SHOW("recv blocking rdwr", recv(s, b, sizeof(b), 0));
	pipes = 0;
	SHOW("send after shut wr", send(s, "x", 1, MSG_DONTWAIT));
	SHOW("send nosignal", send(s, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	printf("sigpipes %d\n", pipes);
	SHOW("peer recv", recv(peer, b, sizeof(b), MSG_DONTWAIT));
}

static void shutdown_cases(void)
{
	int sp[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	shut_one("unix dgram pair", sp[0], sp[1]);
	close(sp[0]);
	close(sp[1]);

	int u, v;
	bound_udp_pair(&u, &v);
	shut_one("udp connected", u, v);
	close(u);
	close(v);

	/* An unconnected UDP socket: ENOTCONN, yet shut down all the same. */
	printf("-- shutdown udp unconnected\n");
	struct sockaddr_in a = lo4(), va;
	socklen_t l = sizeof(va);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	v = socket(AF_INET, SOCK_DGRAM, 0);
	bind(v, (void *)&a, sizeof(a));
	getsockname(v, (void *)&va, &l);
	SHOW("shutdown wr", shutdown(u, SHUT_WR));
	SHOW("sendto", sendto(u, "x", 1, MSG_DONTWAIT, (void *)&va, sizeof(va)));
	SHOW("receiver recv", recv(v, (char[4]){ 0 }, 4, MSG_DONTWAIT));
	close(u);
	close(v);
}

/* ---- 2. AF_UNIX datagram disconnects ------------------------------------------- */

static void disconnect_cases(void)
{
	char b[16];
	int sp[2];
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };

	printf("-- disconnect with queued data\n");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN | EPOLLET }, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, sp[1], &e);
	send(sp[1], "x", 1, 0);
	send(sp[0], "y", 1, 0);
	int n = epoll_wait(ep, out, 2, 1000);
	printf("b et: %d %#x\n", n, n > 0 ? out[0].events : 0);
	SHOW("b et again", epoll_wait(ep, out, 2, 0));
	SHOW("disconnect a", connect(sp[0], &unspec, sizeof(unspec)));
	n = epoll_wait(ep, out, 2, 0);
	printf("b et after reset: %d %#x\n", n, n > 0 ? out[0].events : 0);
	SHOW("a recv", recv(sp[0], b, sizeof(b), MSG_DONTWAIT));
	printf("b poll %#x\n", pm(sp[1], POLLIN | POLLOUT));
	SHOW("b recv", recv(sp[1], b, sizeof(b), MSG_DONTWAIT));
	SHOW("b recv again", recv(sp[1], b, sizeof(b), MSG_DONTWAIT));
	SHOW("b send", send(sp[1], "z", 1, MSG_DONTWAIT));
	SHOW("a recv after", recv(sp[0], b, sizeof(b), MSG_DONTWAIT));
	close(ep);
	close(sp[0]);
	close(sp[1]);

	printf("-- reset seen by a send first\n");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	send(sp[1], "x", 1, 0);
	connect(sp[0], &unspec, sizeof(unspec));
	SHOW("b send", send(sp[1], "z", 1, MSG_DONTWAIT));
	SHOW("b send again", send(sp[1], "z", 1, MSG_DONTWAIT));
	SHOW("a recv", recv(sp[0], b, sizeof(b), MSG_DONTWAIT));
	close(sp[0]);
	close(sp[1]);

	printf("-- disconnect empty\n");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	SHOW("disconnect a", connect(sp[0], &unspec, sizeof(unspec)));
	SHOW("b recv", recv(sp[1], b, sizeof(b), MSG_DONTWAIT));
	SHOW("a send", send(sp[0], "z", 1, MSG_DONTWAIT));
	close(sp[0]);
	close(sp[1]);

	printf("-- peer closed with data queued to us\n");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	send(sp[1], "x", 1, 0);
	close(sp[1]);
	printf("a poll %#x\n", pm(sp[0], POLLIN | POLLOUT));
	SHOW("a send", send(sp[0], "q", 1, MSG_DONTWAIT));
	printf("a poll %#x\n", pm(sp[0], POLLIN | POLLOUT));
	SHOW("a recv", recv(sp[0], b, sizeof(b), MSG_DONTWAIT));
	SHOW("a send again", send(sp[0], "q", 1, MSG_DONTWAIT));
	close(sp[0]);

	printf("-- reconnect to a third socket\n");
	int x = socket(AF_UNIX, SOCK_DGRAM, 0), y = socket(AF_UNIX, SOCK_DGRAM, 0),
	    z = socket(AF_UNIX, SOCK_DGRAM, 0);
	sa_family_t fam = AF_UNIX;
	bind(x, (void *)&fam, sizeof(fam));
	bind(y, (void *)&fam, sizeof(fam));
	bind(z, (void *)&fam, sizeof(fam));
	struct sockaddr_un xn, yn, zn;
	socklen_t xl = sizeof(xn), yl = sizeof(yn), zl = sizeof(zn);
	getsockname(x, (void *)&xn, &xl);
	getsockname(y, (void *)&yn, &yl);
	getsockname(z, (void *)&zn, &zl);
	connect(x, (void *)&yn, yl);
	connect(y, (void *)&xn, xl);
	send(y, "fromy", 5, 0);
	SHOW("z sendto x", sendto(z, "fromz", 5, MSG_DONTWAIT, (void *)&xn, xl));
	SHOW("x reconnect to y (same)", connect(x, (void *)&yn, yl));
	printf("x poll %#x\n", pm(x, POLLIN));
	SHOW("x reconnect to z", connect(x, (void *)&zn, zl));
	SHOW("x recv", recv(x, b, sizeof(b), MSG_DONTWAIT));
	SHOW("y recv", recv(y, b, sizeof(b), MSG_DONTWAIT));
	SHOW("y recv again", recv(y, b, sizeof(b), MSG_DONTWAIT));
	SHOW("y send", send(y, "a", 1, MSG_DONTWAIT));
	close(x);
	close(y);
	close(z);
}

/* ---- 3. AF_UNIX POLLOUT threshold ------------------------------------------------ */

static void wspace(int type, const char *name, int chunk)
{
	int sp[2];
	static char buf[1 << 16];
	socketpair(AF_UNIX, type, 0, sp);
	long sent = 0, n, msgs = 0;
	while ((n = E(send(sp[0], buf, chunk, MSG_DONTWAIT))) > 0) {
		sent += n;
		msgs++;
	}
	printf("%s chunk %d: filled %s, poll %#x\n", name, chunk, errname(-n), pm(sp[0], POLLOUT));
	long r = recv(sp[1], buf, chunk, MSG_DONTWAIT);
	printf("  one read %d: poll %#x\n", r > 0, pm(sp[0], POLLOUT));
	long got = r > 0 ? r : 0, reads = 1;
	while (!(pm(sp[0], POLLOUT) & POLLOUT) && got < sent) {
		r = recv(sp[1], buf, chunk, MSG_DONTWAIT);
		if (r <= 0)
			break;
		got += r;
		reads++;
	}
	printf("  writable after reading %ld%% of the messages\n", msgs ? reads * 100 / msgs / 5 * 5 : -1);
	/* Below the whole buffer a send is still taken. */
	SHOW("  send again", send(sp[0], buf, 1, MSG_DONTWAIT));
	close(sp[0]);
	close(sp[1]);
}

static void pollout_cases(void)
{
	printf("-- unix pollout\n");
	wspace(SOCK_STREAM, "stream", 1000);
	wspace(SOCK_STREAM, "stream", 60000);
	wspace(SOCK_DGRAM, "dgram", 1000);
	wspace(SOCK_SEQPACKET, "seqpacket", 1000);

	/* Stream skbs: at most sndbuf/2 - 64 bytes (SO_SNDBUF 20000 is
	 * 40000), so a non-blocking 60000-byte send stops after two. */
	int sp[2];
	static char buf[60000];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	int sb = 20000;
	setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
	SHOW("stream sndbuf 20000: send 60000", send(sp[0], buf, sizeof(buf), MSG_DONTWAIT));
	close(sp[0]);
	close(sp[1]);
}

/* ---- 4. wakes ------------------------------------------------------------------------ */

static int et_count(int fd, unsigned events, void (*consume)(int))
{
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = events | EPOLLET }, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	int first = epoll_wait(ep, out, 2, 1000);
	consume(fd);
	int second = epoll_wait(ep, out, 2, 0);
	close(ep);
	return first * 10 + second;
}

static void rd(int fd) { char b[8]; recv(fd, b, sizeof(b), 0); }
static void ac(int fd) { close(accept(fd, NULL, NULL)); }

struct blocked {
	int fd, len;
	long ret;
};

static void *blocked_send(void *arg)
{
	struct blocked *b = arg;
	static char buf[1000];
	b->ret = E(send(b->fd, buf, b->len, 0));
	return NULL;
}

static void wake_cases(void)
{
	printf("-- et edges\n");
	int sp[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	send(sp[1], "1", 1, 0);
	send(sp[1], "2", 1, 0);
	printf("unix dgram: events before/after reading one: %02d\n", et_count(sp[0], EPOLLIN, rd));
	close(sp[0]);
	close(sp[1]);

	struct sockaddr_in a = lo4();
	socklen_t l = sizeof(a);
	int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
	bind(u, (void *)&a, sizeof(a));
	getsockname(u, (void *)&a, &l);
	sendto(v, "1", 1, 0, (void *)&a, sizeof(a));
	sendto(v, "2", 1, 0, (void *)&a, sizeof(a));
	printf("udp: events before/after reading one: %02d\n", et_count(u, EPOLLIN, rd));
	close(u);
	close(v);

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	a = lo4();
	bind(ls, (void *)&a, sizeof(a));
	listen(ls, 4);
	l = sizeof(a);
	getsockname(ls, (void *)&a, &l);
	int c1 = socket(AF_INET, SOCK_STREAM, 0), c2 = socket(AF_INET, SOCK_STREAM, 0);
	connect(c1, (void *)&a, sizeof(a));
	connect(c2, (void *)&a, sizeof(a));
	usleep(20000);
	printf("tcp listener: events before/after accepting one: %02d\n",
	       et_count(ls, EPOLLIN | EPOLLOUT, ac));
	close(c1);
	close(c2);
	close(ls);

	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	sa_family_t fam = AF_UNIX;
	bind(ls, (void *)&fam, sizeof(fam));
	listen(ls, 4);
	struct sockaddr_un ln;
	socklen_t lnl = sizeof(ln);
	getsockname(ls, (void *)&ln, &lnl);
	c1 = socket(AF_UNIX, SOCK_STREAM, 0);
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(c1, (void *)&ln, lnl);
	connect(c2, (void *)&ln, lnl);
	printf("unix listener: events before/after accepting one: %02d\n",
	       et_count(ls, EPOLLIN | EPOLLOUT, ac));
	close(c1);
	close(c2);
	close(ls);

	printf("-- blocked writers wake\n");
	/* A stream writer blocked on its send buffer. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	static char buf[1 << 16];
	while (send(sp[0], buf, 1000, MSG_DONTWAIT) > 0)
		;
	struct blocked b = { sp[0], 1000, -1 };
	pthread_t t;
	pthread_create(&t, NULL, blocked_send, &b);
	usleep(50000);
	while (recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	pthread_join(t, NULL);
	printf("stream blocked send: %ld\n", b.ret);
	close(sp[0]);
	close(sp[1]);

	/* A datagram writer blocked on its receiver's full queue (the
	 * receiver not connected back: net.unix.max_dgram_qlen). */
	int r = socket(AF_UNIX, SOCK_DGRAM, 0), w = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(r, (void *)&fam, sizeof(fam));
	lnl = sizeof(ln);
	getsockname(r, (void *)&ln, &lnl);
	connect(w, (void *)&ln, lnl);
	int queued = 0;
	while (send(w, "d", 1, MSG_DONTWAIT) == 1)
		queued++;
	printf("dgram queued %d then %s, poll %#x\n", queued, errname(errno), pm(w, POLLOUT));
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLOUT | EPOLLET }, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, w, &e);
	SHOW("sender et while full", epoll_wait(ep, out, 2, 0));
	b = (struct blocked){ w, 1, -1 };
	pthread_create(&t, NULL, blocked_send, &b);
	usleep(50000);
	char c;
	SHOW("receiver recv", recv(r, &c, 1, MSG_DONTWAIT));
	pthread_join(t, NULL);
	printf("dgram blocked send: %ld\n", b.ret);
	SHOW("receiver recv", recv(r, &c, 1, MSG_DONTWAIT));
	int n = epoll_wait(ep, out, 2, 1000);
	printf("sender et after room: %d %#x\n", n, n > 0 ? out[0].events : 0);
	close(ep);
	close(r);
	close(w);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(20);
	signal(SIGPIPE, on_pipe);
	shutdown_cases();
	disconnect_cases();
	pollout_cases();
	wake_cases();
	return 0;
}
