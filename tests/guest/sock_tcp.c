/* Loopback TCP over IPv4 and IPv6: an echo server driven by epoll with
 * clients in another process, names and ports, refused connections,
 * address reuse, non-blocking connect, shutdown and close as the peer
 * sees them (EOF, EPIPE after a reset, ECONNRESET), IPv4-mapped peers
 * of a v6 listener and IPV6_V6ONLY, and the TCP options. Ports are
 * ephemeral: only their range and equalities print. */
#include "util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define E(x) ({ long __r = (x); __r < 0 ? -errno : __r; })

static int port_of(int fd, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	if ((peer ? getpeername : getsockname)(fd, (void *)&ss, &l) < 0)
		return -errno;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static const char *addr_of(int fd, bool peer, char *buf)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	if ((peer ? getpeername : getsockname)(fd, (void *)&ss, &l) < 0)
		return errname(errno);
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, 64);
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, 64);
	sprintf(buf + strlen(buf), " len %d", (int)l);
	return buf;
}

static bool ephemeral(int port) { return port >= 32768 && port <= 60999; }

/* A listener on the loopback address of family fam, port p (0: any). */
static int listener(int fam, int p, int *port)
{
	int s = socket(fam, SOCK_STREAM, 0);
	struct sockaddr_storage ss = { 0 };
	socklen_t l;
	if (fam == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(p);
		l = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(p);
		l = sizeof(*a);
	}
	if (bind(s, (void *)&ss, l) < 0 || listen(s, 16) < 0)
		printf("listener: %s\n", errname(errno));
	*port = port_of(s, false);
	return s;
}

static long connect_to(int s, int fam, const char *addr, int port)
{
	if (fam == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		inet_pton(AF_INET, addr, &a.sin_addr);
		return E(connect(s, (void *)&a, sizeof(a)));
	}
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	inet_pton(AF_INET6, addr, &a.sin6_addr);
	return E(connect(s, (void *)&a, sizeof(a)));
}

/* ---- echo with epoll across processes ---------------------------------------- */

#define CLIENTS 3
#define PER_CLIENT (300 * 1024)

static void client(int fam, const char *addr, int port, int id)
{
	int s = socket(fam, SOCK_STREAM, 0);
	if (connect_to(s, fam, addr, port) < 0)
		_exit(1);
	static char out[PER_CLIENT], in[PER_CLIENT];
	for (int i = 0; i < PER_CLIENT; i++)
		out[i] = (char)(i * 7 + id);
	size_t sent = 0, got = 0;
	while (got < PER_CLIENT) {
		struct pollfd p = { s, POLLIN | (sent < PER_CLIENT ? POLLOUT : 0), 0 };
		poll(&p, 1, -1);
		if ((p.revents & POLLOUT) && sent < PER_CLIENT) {
			ssize_t n = send(s, out + sent, MIN(PER_CLIENT - sent, 10000 + id * 333), MSG_DONTWAIT);
			if (n > 0)
				sent += n;
			if (sent == PER_CLIENT)
				shutdown(s, SHUT_WR);
		}
		if (p.revents & POLLIN) {
			ssize_t n = recv(s, in + got, PER_CLIENT - got, MSG_DONTWAIT);
			if (n == 0)
				break;
			if (n > 0)
				got += n;
		}
	}
	char c;
	bool eof = recv(s, &c, 1, 0) == 0;
	_exit(got == PER_CLIENT && !memcmp(in, out, PER_CLIENT) && eof ? 0 : 2);
}

static void echo(int fam, const char *addr)
{
	int port;
	int l = listener(fam, 0, &port);
	printf("-- echo %s: listener port ephemeral %d\n", fam == AF_INET ? "v4" : "v6", ephemeral(port));
	pid_t pids[CLIENTS];
	for (int i = 0; i < CLIENTS; i++)
		if ((pids[i] = fork()) == 0)
			client(fam, addr, port, i);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	int done = 0, accepted = 0, rdhup = 0;
	static char buf[65536];
	while (done < CLIENTS) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, 10000);
		if (n <= 0) {
			printf("epoll_wait: %d\n", n);
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int c = accept4(l, NULL, NULL, SOCK_NONBLOCK);
				if (c < 0)
					continue;
				accepted++;
				struct epoll_event ce = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				continue;
			}
			if (evs[i].events & EPOLLRDHUP)
				rdhup++;
			for (;;) {
				ssize_t r = recv(fd, buf, sizeof(buf), 0);
				if (r > 0) {
					/* echo it all back, blocking if need be */
					fcntl(fd, F_SETFL, 0);
					for (ssize_t off = 0; off < r;) {
						ssize_t w = send(fd, buf + off, r - off, 0);
						if (w <= 0)
							break;
						off += w;
					}
					fcntl(fd, F_SETFL, O_NONBLOCK);
					continue;
				}
				if (r == 0) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					close(fd);
					done++;
				}
				break;
			}
		}
	}
	printf("accepted %d finished %d\n", accepted, done);
	for (int i = 0; i < CLIENTS; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		printf("client %d exit %d\n", i, WEXITSTATUS(st));
	}
	close(ep);
	close(l);
}

/* ---- names, errors, reuse -------------------------------------------------- */

static void names(void)
{
	char b[96];
	int port;
	printf("-- names\n");
	int l = listener(AF_INET, 0, &port);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	printf("unbound: %s port %d\n", addr_of(c, false, b), port_of(c, false));
	res("getpeername unconnected", port_of(c, true) < 0 ? port_of(c, true) : 0);
	resv("connect", connect_to(c, AF_INET, "127.0.0.1", port));
	int a = accept(l, NULL, NULL);
	printf("client local %s ephemeral %d\n", addr_of(c, false, b), ephemeral(port_of(c, false)));
	printf("client peer %s is listener %d\n", addr_of(c, true, b), port_of(c, true) == port);
	printf("accepted local %s port is listener's %d\n", addr_of(a, false, b), port_of(a, false) == port);
	printf("accepted peer is client %d\n", port_of(a, true) == port_of(c, false));
	resv("connect again", connect_to(c, AF_INET, "127.0.0.1", port));
	int v = -1;
	socklen_t vl = sizeof(v);
	getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &v, &vl);
	printf("SO_PROTOCOL %d\n", v);
	v = 1;
	res("TCP_NODELAY", E(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v))));
	v = -1;
	getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl);
	printf("TCP_NODELAY %d\n", v);
	struct tcp_info ti;
	vl = sizeof(ti);
	getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &vl);
	printf("TCP_INFO state %d\n", ti.tcpi_state);
	v = 7;
	vl = sizeof(v);
	res("IP_TOS", E(setsockopt(c, IPPROTO_IP, IP_TOS, &v, sizeof(v))));
	getsockopt(c, IPPROTO_IP, IP_TTL, &v, &vl);
	printf("IP_TTL %d\n", v);
	res("unknown TCP option", E(setsockopt(c, IPPROTO_TCP, 9999, &v, sizeof(v))));
	close(a);
	close(c);

	/* listen without bind picks a port on every address */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	res("listen unbound", E(listen(s, 1)));
	printf("autobound %s ephemeral %d\n", addr_of(s, false, b), ephemeral(port_of(s, false)));
	c = socket(AF_INET, SOCK_STREAM, 0);
	resv("connect to 127.0.0.1 of wildcard", connect_to(c, AF_INET, "127.0.0.1", port_of(s, false)));
	close(c);
	c = socket(AF_INET, SOCK_STREAM, 0);
	resv("connect to 127.3.4.5 of wildcard", connect_to(c, AF_INET, "127.3.4.5", port_of(s, false)));
	printf("peer %s\n", addr_of(c, true, b));
	close(c);
	close(s);

	/* refused: a bound port nobody listens on */
	s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(s, (void *)&lo, sizeof(lo));
	int dead = port_of(s, false);
	c = socket(AF_INET, SOCK_STREAM, 0);
	resv("connect refused", connect_to(c, AF_INET, "127.0.0.1", dead));
	resv("connect refused again", connect_to(c, AF_INET, "127.0.0.1", dead));
	close(c);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	resv("nonblocking connect refused", connect_to(c, AF_INET, "127.0.0.1", dead));
	struct pollfd p = { c, POLLIN | POLLOUT | POLLRDHUP, 0 };
	int pn = poll(&p, 1, 2000);
	printf("poll %d %#x\n", pn, p.revents);
	vl = sizeof(v);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl);
	printf("SO_ERROR %s\n", errname(v));
	getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl);
	printf("SO_ERROR again %s\n", errname(v));
	close(c);

	/* non-blocking connect that works */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	resv("nonblocking connect", connect_to(c, AF_INET, "127.0.0.1", port));
	p = (struct pollfd){ c, POLLOUT, 0 };
	pn = poll(&p, 1, 2000);
	printf("poll %d %#x\n", pn, p.revents);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl);
	printf("SO_ERROR %s\n", errname(v));
	resv("connect to finish", connect_to(c, AF_INET, "127.0.0.1", port));
	resv("connect once more", connect_to(c, AF_INET, "127.0.0.1", port));
	close(c);
	a = accept(l, NULL, NULL);
	close(a);

	/* address in use and SO_REUSEADDR */
	int x = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	res("bind listener's port", E(bind(x, (void *)&at, sizeof(at))));
	at.sin_addr.s_addr = htonl(INADDR_ANY);
	res("bind wildcard on it", E(bind(x, (void *)&at, sizeof(at))));
	v = 1;
	setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	res("with SO_REUSEADDR (listener has none)", E(bind(x, (void *)&at, sizeof(at))));
	close(x);
	close(s);
	x = socket(AF_INET, SOCK_STREAM, 0);
	int y = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	setsockopt(y, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	at.sin_port = 0;
	bind(x, (void *)&at, sizeof(at));
	at.sin_port = htons(port_of(x, false));
	res("both SO_REUSEADDR", E(bind(y, (void *)&at, sizeof(at))));
	res("first listens", E(listen(x, 1)));
	res("second listens", E(listen(y, 1)));
	res("bind twice", E(bind(y, (void *)&at, sizeof(at))));
	close(x);
	close(y);
	x = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in bad = { .sin_family = AF_INET, .sin_addr.s_addr = inet_addr("192.0.2.1") };
	res("bind foreign address", E(bind(x, (void *)&bad, sizeof(bad))));
	res("bind short", E(bind(x, (void *)&bad, sizeof(bad) - 1)));
	bad.sin_family = AF_INET6;
	res("bind wrong family", E(bind(x, (void *)&bad, sizeof(bad))));
	close(x);
	close(l);
}

/* ---- shutdown, close, reset ------------------------------------------------ */

static void pair(int *c, int *a)
{
	int port;
	int l = listener(AF_INET, 0, &port);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	connect_to(*c, AF_INET, "127.0.0.1", port);
	*a = accept(l, NULL, NULL);
	close(l);
}

static unsigned pmask(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDHUP, 0 };
	poll(&p, 1, 0);
	return p.revents;
}

/* Until fd's poll mask has all of bits (2 s at most): a FIN or a reset
 * takes effect when the peer's packet is processed, which a busy machine
 * can defer. */
static void await_mask(int fd, unsigned bits)
{
	for (int i = 0; i < 200 && (pmask(fd) & bits) != bits; i++)
		usleep(10000);
}

static void endings(void)
{
	int c, a;
	char buf[16];
	printf("-- endings\n");
	signal(SIGPIPE, SIG_IGN);
	pair(&c, &a);
	printf("poll connected %#x\n", pmask(c));
	send(c, "bye", 3, 0);
	res("shutdown WR", E(shutdown(c, SHUT_WR)));
	resv("peer reads", E(recv(a, buf, sizeof(buf), 0)));
	resv("peer reads EOF", E(recv(a, buf, sizeof(buf), 0)));
	printf("poll peer %#x\n", pmask(a));
	resv("send after SHUT_WR", E(send(c, "x", 1, 0)));
	resv("peer still sends", E(send(a, "back", 4, 0)));
	resv("reads after SHUT_WR", E(recv(c, buf, sizeof(buf), 0)));
	close(a);
	resv("EOF after close", E(recv(c, buf, sizeof(buf), 0)));
	close(c);

	pair(&c, &a);
	close(a);
	await_mask(c, POLLRDHUP);
	printf("poll after peer close %#x\n", pmask(c));
	resv("first send to closed peer", E(send(c, "x", 1, 0)));
	await_mask(c, POLLHUP | POLLERR);
	printf("poll after reset %#x\n", pmask(c));
	resv("second send", E(send(c, "x", 1, 0)));
	resv("recv", E(recv(c, buf, sizeof(buf), 0)));
	close(c);

	pair(&c, &a);
	send(c, "unread", 6, 0);
	await_mask(a, POLLIN);
	close(a); /* unread data: reset */
	await_mask(c, POLLHUP | POLLERR);
	printf("poll after reset %#x\n", pmask(c));
	resv("recv after reset", E(recv(c, buf, sizeof(buf), 0)));
	resv("recv again", E(recv(c, buf, sizeof(buf), 0)));
	resv("send", E(send(c, "x", 1, 0)));
	printf("getpeername after reset %s\n", port_of(c, true) < 0 ? errname(-port_of(c, true)) : "ok");
	close(c);

	pair(&c, &a);
	struct linger lg = { 1, 0 };
	setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(a);
	await_mask(c, POLLHUP | POLLERR);
	resv("recv after abortive close", E(recv(c, buf, sizeof(buf), 0)));
	close(c);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	res("shutdown unconnected", E(shutdown(s, SHUT_RDWR)));
	resv("recv unconnected", E(recv(s, buf, 1, 0)));
	resv("send unconnected", E(send(s, buf, 1, 0)));
	int ss;
	int l = listener(AF_INET, 0, &ss);
	resv("recv listener", E(recv(l, buf, 1, 0)));
	int n;
	res("FIONREAD listener", E(ioctl(l, FIONREAD, &n)));
	close(l);
	close(s);
	signal(SIGPIPE, SIG_DFL);
}

/* ---- IPv6 specifics -------------------------------------------------------------- */

static void v6(void)
{
	char b[96];
	printf("-- v6\n");
	int s = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
	int v = -1;
	socklen_t vl = sizeof(v);
	getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl);
	printf("IPV6_V6ONLY default %d\n", v);
	bind(s, (void *)&any, sizeof(any));
	listen(s, 4);
	int port = port_of(s, false);
	printf("listener %s\n", addr_of(s, false, b) + 0);
	int c4 = socket(AF_INET, SOCK_STREAM, 0);
	resv("v4 client to v6 wildcard", connect_to(c4, AF_INET, "127.0.0.1", port));
	int a = accept(s, NULL, NULL);
	printf("accepted peer %s\n", addr_of(a, true, b));
	printf("accepted local %s\n", addr_of(a, false, b));
	close(a);
	close(c4);
	int c6 = socket(AF_INET6, SOCK_STREAM, 0);
	resv("v6 client to ::1", connect_to(c6, AF_INET6, "::1", port));
	a = accept(s, NULL, NULL);
	printf("accepted peer %s\n", addr_of(a, true, b));
	close(a);
	close(c6);
	c6 = socket(AF_INET6, SOCK_STREAM, 0);
	resv("v6 client to mapped 127.0.0.1", connect_to(c6, AF_INET6, "::ffff:127.0.0.1", port));
	printf("client local %s\n", addr_of(c6, false, b));
	a = accept(s, NULL, NULL);
	close(a);
	close(c6);
	close(s);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	v = 1;
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v));
	bind(s, (void *)&any, sizeof(any));
	listen(s, 4);
	port = port_of(s, false);
	res("V6ONLY after bind", E(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v))));
	c4 = socket(AF_INET, SOCK_STREAM, 0);
	resv("v4 client to v6only listener", connect_to(c4, AF_INET, "127.0.0.1", port));
	close(c4);
	/* a v4 socket may share the port with a v6-only one */
	c4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	res("v4 wildcard beside v6only", E(bind(c4, (void *)&a4, sizeof(a4))));
	close(c4);
	int m = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(m, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v));
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	res("v6only binds a mapped address", E(bind(m, (void *)&mapped, sizeof(mapped))));
	res("short sockaddr_in6", E(bind(m, (void *)&any, 20)));
	close(m);
	close(s);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	echo(AF_INET, "127.0.0.1");
	echo(AF_INET6, "::1");
	names();
	endings();
	v6();
	return 0;
}
