/* Socket edge cases a threaded server meets: loopback TCP and UDP
 * errors and options, UDP's ICMP errors on loopback, AF_UNIX names,
 * backlogs and SEQPACKET truncation. Each line prints what the call
 * returned, so native and cocoon runs compare value by value. */
#include "util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

#define E(x) ({ long __r = (long)(x); __r < 0 ? -errno : __r; })
#define SHOW(label, x) do { long __v = E(x); if (__v < 0) printf("%s: %s\n", label, errname(-__v)); else printf("%s: %ld\n", label, __v); } while (0)

static struct sockaddr_in lo4(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	getsockname(fd, (void *)&a, &l);
	return ntohs(a.sin_port);
}

static int sockopt(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, level, name, &v, &l) < 0)
		return -errno;
	return v;
}

static void tcp_edges(void)
{
	printf("-- tcp\n");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	SHOW("getsockname unbound", getsockname(s, (void *)&a, &l));
	printf("  family %d port %d addr %08x len %d\n", a.sin_family, ntohs(a.sin_port), ntohl(a.sin_addr.s_addr), (int)l);
	l = sizeof(a);
	SHOW("getpeername unconnected", getpeername(s, (void *)&a, &l));
	/* On its own socket: Linux marks even an unconnected socket shut down,
	 * and a listener's children inherit that. */
	int u = socket(AF_INET, SOCK_STREAM, 0);
	SHOW("shutdown unconnected", shutdown(u, SHUT_RDWR));
	close(u);
	SHOW("accept unlistened", accept(s, NULL, NULL));
	SHOW("listen unbound", listen(s, 4));
	printf("  autobound port ephemeral %d\n", port_of(s) >= 32768 && port_of(s) <= 60999);
	printf("  SO_ACCEPTCONN %d\n", sockopt(s, SOL_SOCKET, SO_ACCEPTCONN));
	struct sockaddr_in b = lo4(0);
	SHOW("bind after listen", bind(s, (void *)&b, sizeof(b)));
	SHOW("connect listener", connect(s, (void *)&b, sizeof(b)));
	SHOW("send on listener", send(s, "x", 1, MSG_NOSIGNAL));
	SHOW("recv on listener", recv(s, (char[4]){0}, 4, MSG_DONTWAIT));
	int port = port_of(s);

	/* A second listener on the same port: EADDRINUSE even with SO_REUSEADDR. */
	int s2 = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in p = lo4(port);
	SHOW("bind same port reuseaddr vs listener", bind(s2, (void *)&p, sizeof(p)));
	close(s2);

	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	long r = E(connect(c, (void *)&p, sizeof(p)));
	printf("nonblocking connect: %s\n", r == 0 ? "0" : errname(-r));
	struct pollfd pf = { c, POLLOUT, 0 };
	poll(&pf, 1, 5000);
	printf("  SO_ERROR %d\n", sockopt(c, SOL_SOCKET, SO_ERROR));
	SHOW("connect again", connect(c, (void *)&p, sizeof(p)));
	int sv = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	printf("  accept4 cloexec %d nonblock %d\n", !!(fcntl(sv, F_GETFD) & FD_CLOEXEC), !!(fcntl(sv, F_GETFL) & O_NONBLOCK));

	/* SIOCOUTQ counts what the peer has not read; FIONREAD what we may read. */
	char buf[70000];
	memset(buf, 'a', sizeof(buf));
	SHOW("send 1000", send(c, buf, 1000, 0));
	int q = -1;
	usleep(20000);
	ioctl(c, SIOCOUTQ, &q);
	printf("  SIOCOUTQ after send %d\n", q);
	ioctl(sv, FIONREAD, &q);
	printf("  FIONREAD %d\n", q);
	SHOW("recv peek 10", recv(sv, buf, 10, MSG_PEEK));
	SHOW("recv trunc 10", recv(sv, NULL, 10, MSG_TRUNC));
	ioctl(sv, FIONREAD, &q);
	printf("  FIONREAD after MSG_TRUNC %d\n", q);
	SHOW("recv rest", recv(sv, buf, sizeof(buf), 0));
	ioctl(c, SIOCOUTQ, &q);
	printf("  SIOCOUTQ after read %d\n", q);
	ioctl(sv, SIOCINQ, &q);
	printf("  SIOCINQ empty %d\n", q);

	/* SO_RCVTIMEO: EAGAIN after the timeout; MSG_WAITALL returns the partial count. */
	struct timeval tv = { 0, 300000 };
	setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	SHOW("recv timeout", recv(sv, buf, 10, 0));
	send(c, "abc", 3, 0);
	SHOW("recv waitall partial", recv(sv, buf, 10, MSG_WAITALL));
	struct timeval got;
	socklen_t gl = sizeof(got);
	getsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &got, &gl);
	printf("  SO_RCVTIMEO %ld.%06ld len %d\n", (long)got.tv_sec, (long)got.tv_usec, (int)gl);
	tv.tv_usec = -1;
	SHOW("SO_RCVTIMEO bad usec", setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	SHOW("SO_RCVTIMEO short", setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &tv, 4));

	/* SO_SNDTIMEO with a full send buffer: a partial count, then EAGAIN. */
	int small = 4096;
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	printf("  SO_SNDBUF after 4096 %d\n", sockopt(c, SOL_SOCKET, SO_SNDBUF));
	setsockopt(sv, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	printf("  SO_RCVBUF after 4096 %d\n", sockopt(sv, SOL_SOCKET, SO_RCVBUF));
	int fl = fcntl(c, F_GETFL);
	fcntl(c, F_SETFL, fl & ~O_NONBLOCK);
	tv.tv_sec = 0;
	tv.tv_usec = 300000;
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	long total = 0;
	for (int i = 0; i < 10000; i++) {
		long n = E(send(c, buf, sizeof(buf), 0));
		if (n < 0) {
			printf("send until full: %s after some data %d\n", errname(-n), total > 0);
			break;
		}
		total += n;
	}
	/* Drain and check nothing was lost. */
	fcntl(sv, F_SETFL, O_NONBLOCK);
	long drained = 0;
	for (;;) {
		long n = E(recv(sv, buf, sizeof(buf), 0));
		if (n > 0) {
			drained += n;
			continue;
		}
		if (n == -EAGAIN) {
			pf.fd = sv;
			pf.events = POLLIN;
			if (poll(&pf, 1, 300) == 1)
				continue;
		}
		break;
	}
	printf("  drained all %d\n", drained == total);

	/* Edge-triggered input: the peer consuming what we sent (room to
	 * send) is no new input edge. */
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = 7 };
	struct epoll_event out[4];
	epoll_ctl(ep, EPOLL_CTL_ADD, sv, &ev);
	printf("ET idle %d\n", epoll_wait(ep, out, 4, 0));
	send(c, "in", 2, 0);
	printf("ET input %d\n", epoll_wait(ep, out, 4, 2000));
	send(sv, "out", 3, 0);
	printf("  peer reads %ld\n", (long)recv(c, buf, sizeof(buf), 0));
	usleep(20000);
	printf("ET after peer read %d\n", epoll_wait(ep, out, 4, 0));
	send(c, "more", 4, 0);
	printf("ET more input %d\n", epoll_wait(ep, out, 4, 2000));
	printf("  reads %ld\n", (long)recv(sv, buf, sizeof(buf), 0));
	epoll_ctl(ep, EPOLL_CTL_DEL, sv, NULL);

	/* Half-close: the peer reads EOF, can still send; EPOLLRDHUP. */
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_ADD, sv, &ev);
	SHOW("shutdown wr", shutdown(c, SHUT_WR));
	int n = epoll_wait(ep, out, 4, 2000);
	printf("  epoll %d events %#x\n", n, n > 0 ? out[0].events : 0);
	SHOW("recv eof", recv(sv, buf, 10, 0));
	SHOW("send after shut_wr", send(c, "x", 1, MSG_NOSIGNAL));
	SHOW("peer sends back", send(sv, "back", 4, 0));
	SHOW("half-closed reads", recv(c, buf, 10, 0));
	SHOW("shutdown wr twice", shutdown(c, SHUT_WR));
	SHOW("shutdown bad how", shutdown(c, 3));
	n = epoll_wait(ep, out, 4, 0);
	printf("  epoll ET again %d\n", n);
	pf.fd = sv;
	pf.events = POLLIN | POLLOUT | POLLRDHUP;
	poll(&pf, 1, 0);
	printf("  poll sv %#x\n", pf.revents);
	close(c);
	usleep(50000);
	poll(&pf, 1, 0);
	printf("  poll sv after close %#x\n", pf.revents);
	/* Only the first send: whether the reset to it is back by the next
	 * depends on the closed end's FIN_WAIT2 timing in Linux. */
	SHOW("send to closed peer", send(sv, "x", 1, MSG_NOSIGNAL));
	close(sv);
	close(ep);
	close(s);

	/* ECONNREFUSED to a closed port, blocking and not. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	SHOW("connect closed port", connect(c, (void *)&p, sizeof(p)));
	SHOW("  SO_ERROR after", sockopt(c, SOL_SOCKET, SO_ERROR));
	SHOW("connect retry", connect(c, (void *)&p, sizeof(p)));
	close(c);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = E(connect(c, (void *)&p, sizeof(p)));
	printf("nonblocking connect closed port: %s\n", errname(-r));
	pf.fd = c;
	pf.events = POLLOUT;
	poll(&pf, 1, 2000);
	printf("  revents %#x SO_ERROR %s\n", pf.revents, errname(sockopt(c, SOL_SOCKET, SO_ERROR)));
	printf("  SO_ERROR cleared %d\n", sockopt(c, SOL_SOCKET, SO_ERROR));
	close(c);

	/* TCP options. */
	c = socket(AF_INET6, SOCK_STREAM, 0);
	printf("tcp options: nodelay %d maxseg %d keepalive %d v6only %d type %d proto %d domain %d\n",
	       sockopt(c, IPPROTO_TCP, TCP_NODELAY) , sockopt(c, IPPROTO_TCP, TCP_MAXSEG) > 0,
	       sockopt(c, SOL_SOCKET, SO_KEEPALIVE), sockopt(c, IPPROTO_IPV6, IPV6_V6ONLY),
	       sockopt(c, SOL_SOCKET, SO_TYPE), sockopt(c, SOL_SOCKET, SO_PROTOCOL),
	       sockopt(c, SOL_SOCKET, SO_DOMAIN));
	struct linger lg = { 1, 0 };
	socklen_t ll = sizeof(lg);
	getsockopt(c, SOL_SOCKET, SO_LINGER, &lg, &ll);
	printf("  linger %d %d len %d\n", lg.l_onoff, lg.l_linger, (int)ll);
	close(c);
}

static void udp_edges(void)
{
	printf("-- udp\n");
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = lo4(0);
	bind(u, (void *)&any, sizeof(any));
	int v = socket(AF_INET, SOCK_DGRAM, 0);
	bind(v, (void *)&any, sizeof(any));
	struct sockaddr_in ua = lo4(port_of(u)), va = lo4(port_of(v));

	/* A connected UDP socket gets ECONNREFUSED after a send to a closed port. */
	int closed = socket(AF_INET, SOCK_DGRAM, 0);
	bind(closed, (void *)&any, sizeof(any));
	struct sockaddr_in ca = lo4(port_of(closed));
	close(closed);
	int w = socket(AF_INET, SOCK_DGRAM, 0);
	SHOW("connect to closed port", connect(w, (void *)&ca, sizeof(ca)));
	SHOW("send to closed port", send(w, "x", 1, 0));
	usleep(50000);
	SHOW("recv after refused", recv(w, (char[8]){0}, 8, MSG_DONTWAIT));
	SHOW("recv again", recv(w, (char[8]){0}, 8, MSG_DONTWAIT));
	SHOW("send again", send(w, "x", 1, 0));
	usleep(50000);
	printf("  SO_ERROR %s\n", errname(-sockopt(w, SOL_SOCKET, SO_ERROR) > 0 ? sockopt(w, SOL_SOCKET, SO_ERROR) : 0));
	close(w);
	/* Unconnected: no error reported. */
	w = socket(AF_INET, SOCK_DGRAM, 0);
	SHOW("sendto closed port unconnected", sendto(w, "x", 1, 0, (void *)&ca, sizeof(ca)));
	usleep(50000);
	SHOW("recv unconnected", recv(w, (char[8]){0}, 8, MSG_DONTWAIT));
	close(w);

	/* Connected: datagrams from others are dropped. */
	w = socket(AF_INET, SOCK_DGRAM, 0);
	connect(w, (void *)&ua, sizeof(ua));
	struct sockaddr_in wa = lo4(port_of(w));
	sendto(v, "from-v", 6, 0, (void *)&wa, sizeof(wa));
	sendto(u, "from-u", 6, 0, (void *)&wa, sizeof(wa));
	char buf[64] = { 0 };
	long n = E(recv(w, buf, sizeof(buf), 0));
	printf("connected recv %ld %.*s\n", n, (int)(n > 0 ? n : 0), buf);
	SHOW("sendto other while connected", sendto(w, "hi", 2, 0, (void *)&va, sizeof(va)));
	SHOW("  v got", recv(v, buf, sizeof(buf), MSG_DONTWAIT));
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	SHOW("disconnect", connect(w, &unspec, sizeof(unspec)));
	SHOW("send after disconnect", send(w, "x", 1, 0));
	socklen_t l = sizeof(wa);
	SHOW("getpeername after disconnect", getpeername(w, (void *)&wa, &l));
	printf("  still bound %d\n", port_of(w) != 0);

	/* MSG_TRUNC and FIONREAD on datagrams. */
	sendto(v, "0123456789", 10, 0, (void *)&ua, sizeof(ua));
	sendto(v, "abc", 3, 0, (void *)&ua, sizeof(ua));
	int q = -1;
	usleep(20000);
	ioctl(u, FIONREAD, &q);
	printf("FIONREAD udp %d\n", q);
	struct iovec iov = { buf, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	SHOW("recvmsg small", recvmsg(u, &m, 0));
	printf("  flags trunc %d\n", !!(m.msg_flags & MSG_TRUNC));
	SHOW("recv MSG_TRUNC", recv(u, buf, 1, MSG_TRUNC));
	SHOW("send empty", sendto(v, "", 0, 0, (void *)&ua, sizeof(ua)));
	ioctl(u, FIONREAD, &q);
	printf("FIONREAD empty datagram %d\n", q);
	SHOW("recv empty", recv(u, buf, sizeof(buf), MSG_DONTWAIT));
	SHOW("recv none", recv(u, buf, sizeof(buf), MSG_DONTWAIT));

	/* recvmmsg with MSG_WAITFORONE; sendmmsg. */
	struct mmsghdr mm[4];
	struct iovec iovs[4];
	char bufs[4][16];
	for (int i = 0; i < 3; i++) {
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = snprintf(bufs[i], 16, "msg%d", i);
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &ua, .msg_namelen = sizeof(ua), .msg_iov = &iovs[i], .msg_iovlen = 1 };
	}
	SHOW("sendmmsg 3", sendmmsg(v, mm, 3, 0));
	printf("  lens %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	memset(bufs, 0, sizeof(bufs));
	for (int i = 0; i < 4; i++) {
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = 16;
		mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iovs[i], .msg_iovlen = 1 };
	}
	usleep(20000);
	SHOW("recvmmsg waitforone", recvmmsg(u, mm, 4, MSG_WAITFORONE, NULL));
	printf("  %s %s %s\n", bufs[0], bufs[1], bufs[2]);
	SHOW("recvmmsg empty nonblock", recvmmsg(u, mm, 4, MSG_DONTWAIT, NULL));
	SHOW("sendmsg too big", sendto(v, buf, 70000, 0, (void *)&ua, sizeof(ua)));
	SHOW("send unconnected", send(v, "x", 1, 0));
	close(u);
	close(v);
	close(w);
}

static void unix_edges(void)
{
	printf("-- unix\n");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a;
	socklen_t l = sizeof(a);
	SHOW("getsockname unbound", getsockname(s, (void *)&a, &l));
	printf("  len %d family %d\n", (int)l, a.sun_family);
	sa_family_t fam = AF_UNIX;
	SHOW("autobind", bind(s, (void *)&fam, sizeof(fam)));
	l = sizeof(a);
	getsockname(s, (void *)&a, &l);
	int hex = 1;
	for (int i = 1; i < (int)l - 2; i++)
		hex &= !!strchr("0123456789abcdef", a.sun_path[i]);
	printf("  autobind len %d abstract %d hex %d\n", (int)l, a.sun_path[0] == 0, hex);
	SHOW("bind again", bind(s, (void *)&fam, sizeof(fam)));
	close(s);

	/* Autobind at connect and at listen of a stream socket. */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("listen unbound unix", listen(s, 1));
	l = sizeof(a);
	getsockname(s, (void *)&a, &l);
	printf("  listen autobinds len %d\n", (int)l);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("connect to autobound", connect(c, (void *)&a, l));
	l = sizeof(a);
	getsockname(c, (void *)&a, &l);
	printf("  connector name len %d\n", (int)l);
	l = sizeof(a);
	getpeername(c, (void *)&a, &l);
	printf("  peer name len %d\n", (int)l);
	close(c);
	close(s);

	/* Connect to a path that is not a socket, and to a missing one. */
	char dir[64];
	/* Per process: native runs of the three builds share /tmp. */
	snprintf(dir, sizeof(dir), "/tmp/heldout-unix-%d", (int)getpid());
	mkdir(dir, 0700);
	char path[128];
	snprintf(path, sizeof(path), "%s/file", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	struct sockaddr_un fa = { .sun_family = AF_UNIX };
	strcpy(fa.sun_path, path);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("connect regular file", connect(c, (void *)&fa, sizeof(fa)));
	SHOW("bind existing file", bind(c, (void *)&fa, sizeof(fa)));
	strcpy(fa.sun_path, dir);
	SHOW("connect directory", connect(c, (void *)&fa, sizeof(fa)));
	snprintf(fa.sun_path, sizeof(fa.sun_path), "%s/missing", dir);
	SHOW("connect missing", connect(c, (void *)&fa, sizeof(fa)));
	snprintf(fa.sun_path, sizeof(fa.sun_path), "%s/nodir/x", dir);
	SHOW("bind missing dir", bind(c, (void *)&fa, sizeof(fa)));
	close(c);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(fa.sun_path, sizeof(fa.sun_path), "%s/file", dir);
	SHOW("dgram sendto regular file", sendto(d, "x", 1, 0, (void *)&fa, sizeof(fa)));
	close(d);

	/* A bound socket closed: its path stays, connect is ECONNREFUSED. */
	snprintf(fa.sun_path, sizeof(fa.sun_path), "%s/stale", dir);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("bind path", bind(s, (void *)&fa, sizeof(fa)));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("connect bound not listening", connect(c, (void *)&fa, sizeof(fa)));
	close(c);
	close(s);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("connect stale", connect(c, (void *)&fa, sizeof(fa)));
	close(c);
	struct stat st;
	SHOW("stale path stays", stat(fa.sun_path, &st));
	printf("  is socket %d\n", S_ISSOCK(st.st_mode));
	unlink(fa.sun_path);

	/* Backlog: a non-blocking connect past it is EAGAIN. */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(s, (void *)&fa, sizeof(fa));
	listen(s, 2);
	int cs[8], i;
	for (i = 0; i < 8; i++) {
		cs[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		long r = E(connect(cs[i], (void *)&fa, sizeof(fa)));
		if (r < 0) {
			printf("backlog 2: connect %d: %s\n", i, errname(-r));
			break;
		}
	}
	int acc = accept(s, NULL, NULL);
	SHOW("connect after one accept", connect(cs[i], (void *)&fa, sizeof(fa)));
	for (int j = 0; j <= i; j++)
		close(cs[j]);
	close(acc);
	/* Queued connections whose clients closed are still accepted. */
	acc = accept4(s, NULL, NULL, SOCK_NONBLOCK);
	SHOW("accept of closed client", acc);
	SHOW("  reads", read(acc, (char[4]){0}, 4));
	close(acc);
	close(s);
	unlink(fa.sun_path);

	/* SEQPACKET: boundaries, truncation, MSG_TRUNC returns the full length. */
	int sp[2];
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
	send(sp[0], "first-record", 12, MSG_EOR);
	send(sp[0], "second", 6, 0);
	send(sp[0], "", 0, 0);
	char buf[64] = { 0 };
	struct iovec iov = { buf, 5 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	SHOW("seqpacket recvmsg 5", recvmsg(sp[1], &m, 0));
	printf("  %.5s flags trunc %d eor %d\n", buf, !!(m.msg_flags & MSG_TRUNC), !!(m.msg_flags & MSG_EOR));
	SHOW("seqpacket recv MSG_TRUNC 2", recv(sp[1], buf, 2, MSG_TRUNC));
	int q = -1;
	ioctl(sp[1], FIONREAD, &q);
	printf("  FIONREAD before empty record %d\n", q);
	SHOW("seqpacket empty record", recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT));
	SHOW("seqpacket nothing", recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT));
	shutdown(sp[0], SHUT_WR);
	SHOW("seqpacket eof", recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT));
	SHOW("seqpacket send after shut", send(sp[0], "x", 1, MSG_NOSIGNAL));
	close(sp[0]);
	close(sp[1]);

	/* SOCK_DGRAM unix pair: MSG_TRUNC length, peer closed. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	send(sp[0], "datagram", 8, 0);
	SHOW("dgram recv MSG_TRUNC", recv(sp[1], buf, 3, MSG_TRUNC));
	close(sp[1]);
	SHOW("dgram send to closed peer", send(sp[0], "x", 1, MSG_NOSIGNAL));
	close(sp[0]);

	/* Stream pair: SO_PEERCRED equal to ourselves, SO_PASSCRED default. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	getsockopt(sp[0], SOL_SOCKET, SO_PEERCRED, &uc, &ul);
	printf("peercred pid ok %d uid ok %d len %d\n", uc.pid == getpid(), uc.uid == getuid(), (int)ul);
	printf("  passcred %d acceptconn %d\n", sockopt(sp[0], SOL_SOCKET, SO_PASSCRED), sockopt(sp[0], SOL_SOCKET, SO_ACCEPTCONN));
	SHOW("listen on pair", listen(sp[0], 1));
	SHOW("connect pair", connect(sp[0], (void *)&fa, sizeof(fa)));
	close(sp[0]);
	close(sp[1]);
	unlink(path);
	rmdir(dir);
}

/* A connected loopback TCP pair; returns the listener. */
static int tcp_pair(int *cli, int *srv)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(0);
	socklen_t len = sizeof(a);
	bind(l, (void *)&a, sizeof(a));
	listen(l, 1);
	getsockname(l, (void *)&a, &len);
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	connect(*cli, (void *)&a, sizeof(a));
	*srv = accept(l, NULL, NULL);
	return l;
}

static void readiness_edges(void)
{
	printf("-- readiness\n");
	int c, s;
	int l = tcp_pair(&c, &s);
	int low = 5;
	SHOW("SO_RCVLOWAT 5", setsockopt(s, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof(low)));
	send(c, "abc", 3, 0);
	usleep(20000);
	struct pollfd pf = { s, POLLIN, 0 };
	SHOW("poll with 3 bytes", poll(&pf, 1, 0));
	send(c, "de", 2, 0);
	usleep(20000);
	SHOW("poll with 5 bytes", poll(&pf, 1, 0));
	char buf[100];
	SHOW("recv", recv(s, buf, sizeof(buf), 0));
	close(c);
	close(s);
	close(l);

	/* Both FINs exchanged: the ends are closed (TCP_CLOSE). */
	l = tcp_pair(&c, &s);
	shutdown(c, SHUT_WR);
	shutdown(s, SHUT_WR);
	usleep(20000);
	pf.events = POLLIN | POLLOUT | POLLRDHUP;
	poll(&pf, 1, 0);
	printf("both shut: revents %#x\n", pf.revents);
	SHOW("shutdown rd after both FINs", shutdown(s, SHUT_RD));
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	SHOW("getpeername after both FINs", getpeername(c, (void *)&a, &al));
	SHOW("getsockname still", getsockname(c, (void *)&a, &al));
	close(c);
	close(s);
	close(l);

	/* AF_UNIX datagrams: a sender connected to a peer whose queue is
	 * full (and that is not connected back) is not writable. */
	int x = socket(AF_UNIX, SOCK_DGRAM, 0), y = socket(AF_UNIX, SOCK_DGRAM, 0), z = socket(AF_UNIX, SOCK_DGRAM, 0);
	sa_family_t fam = AF_UNIX;
	bind(x, (void *)&fam, sizeof(fam));
	bind(y, (void *)&fam, sizeof(fam));
	bind(z, (void *)&fam, sizeof(fam));
	struct sockaddr_un xn, yn;
	socklen_t xl = sizeof(xn), yl = sizeof(yn);
	getsockname(x, (void *)&xn, &xl);
	getsockname(y, (void *)&yn, &yl);
	connect(x, (void *)&yn, yl);
	SHOW("sendto a socket connected elsewhere", sendto(z, "x", 1, 0, (void *)&xn, xl));
	SHOW("sendto from its peer", sendto(y, "y", 1, 0, (void *)&xn, xl));
	int n = 0;
	while (n < 5000 && sendto(z, "z", 1, MSG_DONTWAIT, (void *)&yn, yl) == 1)
		n++;
	printf("queue full after %d: %s\n", n, errname(errno));
	pf.fd = x;
	pf.events = POLLOUT;
	poll(&pf, 1, 0);
	printf("connected to a full peer: revents %#x\n", pf.revents);
	SHOW("send to the full peer", send(x, "q", 1, MSG_DONTWAIT));
	recv(y, buf, sizeof(buf), 0);
	recv(y, buf, sizeof(buf), 0);
	SHOW("poll after the peer read", poll(&pf, 1, 2000));
	printf("  revents %#x\n", pf.revents);
	close(y);
	SHOW("send to the closed peer", send(x, "q", 1, MSG_DONTWAIT));
	SHOW("send again", send(x, "q", 1, MSG_DONTWAIT));
	close(x);
	close(z);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	tcp_edges();
	udp_edges();
	unix_edges();
	readiness_edges();
	return 0;
}
