// COCOON: --net=host
/* IPv4 and IPv6 sockets under --net=host, where they are host sockets the
 * kernel holds: a TCP echo between a server driven by epoll and a client
 * in another process (127.0.0.1 and ::1), UDP with control messages,
 * the errors of a closed port and a taken one, non-blocking connects, and blocking calls woken by signals
 * (EINTR, SA_RESTART, SO_RCVTIMEO). Natively these are the same calls, so
 * the outputs match. Ports are ephemeral and never printed. */
#include "util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

/* Linux's struct sock_extended_err (musl has no linux/errqueue.h). */
struct ext_err {
	uint32_t ee_errno;
	uint8_t ee_origin, ee_type, ee_code, ee_pad;
	uint32_t ee_info, ee_data;
};
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif
#define E(x) ({ long __r = (x); __r < 0 ? -errno : __r; })

/* An address of family fam on loopback with port p. */
static socklen_t loaddr(int fam, int p, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (fam == AF_INET) {
		struct sockaddr_in *a = (void *)ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(p);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (void *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_addr = in6addr_loopback;
	a->sin6_port = htons(p);
	return sizeof(*a);
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	if (getsockname(fd, (void *)&ss, &l) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int listener(int fam, int *port)
{
	struct sockaddr_storage ss;
	int s = socket(fam, SOCK_STREAM, 0);
	socklen_t l = loaddr(fam, 0, &ss);
	if (bind(s, (void *)&ss, l) < 0 || listen(s, 16) < 0)
		printf("listener: %s\n", errname(errno));
	*port = port_of(s);
	return s;
}

static int connect_to(int s, int fam, int port)
{
	struct sockaddr_storage ss;
	socklen_t l = loaddr(fam, port, &ss);
	return E(connect(s, (void *)&ss, l));
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + i / 251); }

/* ---- a TCP echo: the client sends `total` bytes in odd pieces, the
 * server (epoll, non-blocking) echoes them, the client checks them. */
static void echo(int fam, size_t total)
{
	int port;
	int l = listener(fam, &port);
	pid_t pid = fork();
	if (pid == 0) {
		close(l);
		int c = socket(fam, SOCK_STREAM, 0);
		if (connect_to(c, fam, port) < 0)
			_exit(10);
		size_t sent = 0, got = 0;
		unsigned char buf[7000];
		bool bad = false;
		while (got < total) {
			struct pollfd p = { c, POLLIN | (sent < total ? POLLOUT : 0), 0 };
			poll(&p, 1, 10000);
			if ((p.revents & POLLOUT) && sent < total) {
				size_t n = total - sent < 5000 ? total - sent : 5000;
				for (size_t i = 0; i < n; i++)
					buf[i] = pattern(sent + i);
				ssize_t w = write(c, buf, n);
				if (w > 0)
					sent += w;
				if (sent == total)
					shutdown(c, SHUT_WR);
			}
			if (p.revents & POLLIN) {
				ssize_t r = read(c, buf, sizeof(buf));
				if (r <= 0)
					break;
				for (ssize_t i = 0; i < r; i++)
					bad |= buf[i] != pattern(got + i);
				got += r;
			}
		}
		char tail;
		_exit(bad ? 11 : got != total ? 12 : read(c, &tail, 1) != 0 ? 13 : 0);
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	int a = -1;
	size_t echoed = 0;
	char buf[16384];
	bool eof = false;
	while (!eof) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 10000);
		if (n <= 0) {
			printf("epoll_wait: %d %s\n", n, errname(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == l) {
				a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
				ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.fd = a };
				epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
				continue;
			}
			for (;;) {
				ssize_t r = recv(a, buf, sizeof(buf), 0);
				if (r == 0) {
					eof = true;
					break;
				}
				if (r < 0) {
					if (errno != EAGAIN)
						printf("recv: %s\n", errname(errno));
					break;
				}
				for (ssize_t off = 0; off < r;) {
					ssize_t w = send(a, buf + off, r - off, 0);
					if (w < 0 && errno == EAGAIN) {
						struct pollfd p = { a, POLLOUT, 0 };
						poll(&p, 1, 10000);
						continue;
					}
					if (w < 0) {
						printf("send: %s\n", errname(errno));
						break;
					}
					off += w;
				}
				echoed += r;
			}
		}
	}
	close(a);
	close(ep);
	close(l);
	int st;
	waitpid(pid, &st, 0);
	printf("echo %s: %zu bytes, client exit %d\n", fam == AF_INET ? "127.0.0.1" : "::1", echoed,
	       WEXITSTATUS(st));
}

/* ---- errors --------------------------------------------------------------------- */

static void errors(void)
{
	printf("-- errors\n");
	/* A port nobody listens on: taken, then let go. */
	int s = socket(AF_INET, SOCK_STREAM, 0), port;
	struct sockaddr_storage ss;
	socklen_t len = loaddr(AF_INET, 0, &ss);
	bind(s, (void *)&ss, len);
	port = port_of(s);
	close(s);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	res("connect to a closed port", connect_to(c, AF_INET, port));
	res("connect again", connect_to(c, AF_INET, port));
	close(c);

	int l = listener(AF_INET, &port);
	int d = socket(AF_INET, SOCK_STREAM, 0);
	len = loaddr(AF_INET, port, &ss);
	res("bind a listening port", E(bind(d, (void *)&ss, len)));
	int one = 1;
	setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	res("bind it with SO_REUSEADDR", E(bind(d, (void *)&ss, len)));
	close(d);
	res("listen on UDP", E(listen(socket(AF_INET, SOCK_DGRAM, 0), 1)));
	res("socketpair AF_INET", E(socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){ 0, 0 })));
	res("socket SOCK_SEQPACKET", E(socket(AF_INET, SOCK_SEQPACKET, 0)));
	res("socket TCP with UDP protocol", E(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)));
	res("bad address length", E(bind(socket(AF_INET, SOCK_STREAM, 0), (void *)&ss, 4)));
	struct sockaddr_in6 six = { .sin6_family = AF_INET6 };
	res("v6 address on a v4 socket", E(bind(socket(AF_INET, SOCK_STREAM, 0), (void *)&six, sizeof(six))));

	/* Non-blocking: accept, recv, connect in progress, then done. */
	fcntl(l, F_SETFL, O_NONBLOCK);
	res("accept with nobody waiting", E(accept(l, NULL, NULL)));
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	long r = connect_to(c, AF_INET, port);
	printf("non-blocking connect: %s\n", r == 0 || r == -EINPROGRESS ? "0 or EINPROGRESS" : errname(-r));
	struct pollfd p = { c, POLLOUT, 0 };
	int pr = poll(&p, 1, 5000);
	printf("poll: %d revents %#x\n", pr, p.revents);
	int err = -1;
	socklen_t el = sizeof(err);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
	printf("SO_ERROR: %s\n", errname(err));
	res("connect after it", connect_to(c, AF_INET, port));
	res("and again", connect_to(c, AF_INET, port));
	char b[8];
	res("recv with nothing there", E(recv(c, b, sizeof(b), 0)));
	close(c);

	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	bind(c, (void *)&ss, 0); /* EINVAL, ignored */
	int gone = socket(AF_INET, SOCK_STREAM, 0);
	len = loaddr(AF_INET, 0, &ss);
	bind(gone, (void *)&ss, len);
	int gport = port_of(gone);
	close(gone);
	r = connect_to(c, AF_INET, gport);
	printf("non-blocking connect to a closed port: %s\n",
	       r == -ECONNREFUSED || r == -EINPROGRESS ? "ECONNREFUSED or EINPROGRESS" : errname(-r));
	p = (struct pollfd){ c, POLLOUT, 0 };
	poll(&p, 1, 5000);
	printf("poll: revents has POLLERR %d\n", !!(p.revents & POLLERR) || r == -ECONNREFUSED);
	el = sizeof(err);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
	printf("SO_ERROR: %s\n", r == -ECONNREFUSED ? "ECONNREFUSED" : errname(err));
	close(c);
	close(l);
}

/* ---- a connected pair (client, server side) on 127.0.0.1 ----------------------- */

static void pair(int fd[2])
{
	int port;
	int l = listener(AF_INET, &port);
	fd[0] = socket(AF_INET, SOCK_STREAM, 0);
	connect_to(fd[0], AF_INET, port);
	fd[1] = accept(l, NULL, NULL);
	close(l);
}

static void stream(void)
{
	printf("-- stream\n");
	int fd[2];
	pair(fd);
	res("write", E(write(fd[0], "hello world", 11)));
	struct pollfd p = { fd[1], POLLIN, 0 };
	poll(&p, 1, 5000);
	int n = -1;
	ioctl(fd[1], FIONREAD, &n);
	printf("FIONREAD %d\n", n);
	char buf[64] = { 0 };
	resv("recv MSG_PEEK", E(recv(fd[1], buf, 5, MSG_PEEK)));
	printf("peeked '%s'\n", buf);
	struct iovec iov[2] = { { buf, 3 }, { buf + 10, 20 } };
	memset(buf, 0, sizeof(buf));
	resv("readv", E(readv(fd[1], iov, 2)));
	printf("'%.3s' '%s'\n", buf, buf + 10);
	n = -1;
	ioctl(fd[1], SIOCOUTQ, &n);
	printf("SIOCOUTQ %d\n", n);

	/* MSG_WAITALL across two writes from another process. */
	pid_t pid = fork();
	if (pid == 0) {
		write(fd[0], "abc", 3);
		usleep(50000);
		write(fd[0], "defgh", 5);
		_exit(0);
	}
	memset(buf, 0, sizeof(buf));
	resv("recv MSG_WAITALL", E(recv(fd[1], buf, 8, MSG_WAITALL)));
	printf("'%s'\n", buf);
	waitpid(pid, NULL, 0);

	/* Big sendmsg from iovecs against a reader in another process. */
	pid = fork();
	if (pid == 0) {
		static char big[1 << 20];
		size_t got = 0;
		ssize_t r;
		while ((r = read(fd[1], big, sizeof(big))) > 0)
			got += r;
		_exit(got == 3 << 20 ? 0 : 1);
	}
	static char chunk[1 << 20];
	memset(chunk, 'x', sizeof(chunk));
	struct iovec v[3] = { { chunk, sizeof(chunk) }, { chunk, sizeof(chunk) }, { chunk, sizeof(chunk) } };
	struct msghdr m = { .msg_iov = v, .msg_iovlen = 3 };
	resv("sendmsg 3 MiB", E(sendmsg(fd[0], &m, 0)));
	shutdown(fd[0], SHUT_WR);
	int st;
	waitpid(pid, &st, 0);
	printf("reader exit %d\n", WEXITSTATUS(st));
	resv("recv after the peer's shutdown", E(recv(fd[1], buf, 8, 0)));

	/* Buffers that end in an unmapped page: as much as fits, or EFAULT
	 * with the data left in the queue. */
	int fd3[2];
	pair(fd3);
	char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(pg + 4096, 4096);
	res("recv into an unmapped buffer, nothing there", E(recv(fd3[1], pg + 4096, 10, MSG_DONTWAIT)));
	memcpy(pg + 4092, "abcd", 4);
	res("send from an unmapped buffer", E(send(fd3[0], pg + 4096, 100, 0)));
	resv("send from a buffer ending unmapped", E(send(fd3[0], pg + 4092, 100, 0)));
	write(fd3[0], "efghij", 6);
	p = (struct pollfd){ fd3[1], POLLIN, 0 };
	poll(&p, 1, 5000);
	usleep(20000);
	res("recv into an unmapped buffer", E(recv(fd3[1], pg + 4096, 10, 0)));
	resv("recv into one ending unmapped", E(recv(fd3[1], pg + 4090, 10, 0)));
	printf("'%.6s'\n", pg + 4090);
	shutdown(fd3[0], SHUT_WR);
	res("recv into an unmapped buffer at the end", E(recv(fd3[1], pg + 4096, 10, 0)));
	close(fd3[1]);
	usleep(20000);
	res("send from an unmapped buffer to a closed peer", E(send(fd3[0], pg + 4096, 10, MSG_NOSIGNAL)));
	close(fd3[0]);
	munmap(pg, 4096);

	/* Urgent data: the mark, and MSG_OOB. */
	int fd2[2];
	pair(fd2);
	send(fd2[0], "n", 1, 0);
	resv("send MSG_OOB", E(send(fd2[0], "!", 1, MSG_OOB)));
	struct pollfd pp = { fd2[1], POLLPRI, 0 };
	poll(&pp, 1, 5000);
	printf("POLLPRI %d\n", !!(pp.revents & POLLPRI));
	int mark = -1;
	ioctl(fd2[1], SIOCATMARK, &mark);
	printf("at the mark %d\n", mark);
	memset(buf, 0, sizeof(buf));
	resv("recv up to the mark", E(recv(fd2[1], buf, sizeof(buf), 0)));
	ioctl(fd2[1], SIOCATMARK, &mark);
	printf("'%s' at the mark %d\n", buf, mark);
	memset(buf, 0, sizeof(buf));
	resv("recv MSG_OOB", E(recv(fd2[1], buf, sizeof(buf), MSG_OOB)));
	printf("'%s'\n", buf);
	res("recv MSG_OOB again", E(recv(fd2[1], buf, sizeof(buf), MSG_OOB)));
	struct linger lg = { 1, 5 };
	setsockopt(fd2[0], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	write(fd2[0], "bye", 3);
	res("close with SO_LINGER", E(close(fd2[0])));
	memset(buf, 0, sizeof(buf));
	resv("the peer reads", E(read(fd2[1], buf, sizeof(buf))));
	resv("then the end", E(read(fd2[1], buf, sizeof(buf))));
	close(fd2[1]);

	int v1 = -1;
	socklen_t vl = sizeof(v1);
	getsockopt(fd[0], SOL_SOCKET, SO_TYPE, &v1, &vl);
	printf("SO_TYPE %d", v1);
	getsockopt(fd[0], SOL_SOCKET, SO_PROTOCOL, &v1, &vl);
	printf(" SO_PROTOCOL %d", v1);
	getsockopt(fd[0], SOL_SOCKET, SO_DOMAIN, &v1, &vl);
	printf(" SO_DOMAIN %d", v1);
	getsockopt(fd[0], SOL_SOCKET, SO_ACCEPTCONN, &v1, &vl);
	printf(" SO_ACCEPTCONN %d\n", v1);
	int one = 1;
	res("TCP_NODELAY", E(setsockopt(fd[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))));
	v1 = -1;
	getsockopt(fd[0], IPPROTO_TCP, TCP_NODELAY, &v1, &vl);
	printf("TCP_NODELAY reads %d\n", v1);
	char c1;
	vl = 1;
	res("SO_TYPE into one byte", E(getsockopt(fd[0], SOL_SOCKET, SO_TYPE, &c1, &vl)));
	printf("length %d\n", (int)vl);
	struct ucred cr;
	vl = sizeof(cr);
	getsockopt(fd[0], SOL_SOCKET, SO_PEERCRED, &cr, &vl);
	printf("SO_PEERCRED pid %d uid %d gid %d\n", cr.pid, (int)cr.uid, (int)cr.gid);
	res("unknown TCP option", E(setsockopt(fd[0], IPPROTO_TCP, 9999, &one, sizeof(one))));
	close(fd[0]);
	close(fd[1]);
}

/* ---- edge-triggered epoll: an edge when something changes, not at each look */
static void edges(void)
{
	printf("-- epoll edges\n");
	int fd[2];
	pair(fd);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = fd[1] }, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, fd[1], &ev);
	printf("nothing yet: %d\n", epoll_wait(ep, out, 2, 100));
	write(fd[0], "a", 1);
	printf("after a write: %d\n", epoll_wait(ep, out, 2, 5000));
	printf("again, unread: %d\n", epoll_wait(ep, out, 2, 100));
	write(fd[0], "b", 1);
	printf("after another write: %d\n", epoll_wait(ep, out, 2, 5000));
	char b[4];
	printf("read %zd\n", read(fd[1], b, sizeof(b)));
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		write(fd[0], "c", 1);
		_exit(0);
	}
	printf("asleep until a write: %d\n", epoll_wait(ep, out, 2, 5000));
	waitpid(pid, NULL, 0);
	ev.events = EPOLLOUT | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd[1], &ev);
	printf("EPOLLOUT: %d\n", epoll_wait(ep, out, 2, 100));
	printf("EPOLLOUT again: %d\n", epoll_wait(ep, out, 2, 100));
	close(fd[0]);
	/* Let the FIN arrive first (under cocoon a host poller thread passes
	 * it on): an edge after the re-arm below would be a second event,
	 * natively too. */
	usleep(100000);
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd[1], &ev);
	int n = epoll_wait(ep, out, 2, 5000);
	printf("the peer closed: %d events%s%s\n", n, out[0].events & EPOLLIN ? " IN" : "",
	       out[0].events & EPOLLRDHUP ? " RDHUP" : "");
	printf("then: %d\n", epoll_wait(ep, out, 2, 100));
	close(fd[1]);
	close(ep);
}

/* ---- UDP -------------------------------------------------------------------------- */

/* Until the port-unreachable answer has made fd's error (POLLERR), 2 s at
 * most: instead of a fixed 20 ms, which a busy machine (or cocoon's host
 * poller under a sanitizer build) can miss. */
static void await_error(int fd)
{
	struct pollfd p = { fd, 0, 0 };
	poll(&p, 1, 2000);
}

static void udp(void)
{
	printf("-- udp\n");
	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage ss;
	socklen_t len = loaddr(AF_INET, 0, &ss);
	bind(a, (void *)&ss, len);
	len = loaddr(AF_INET, port_of(a), &ss);
	int one = 1;
	setsockopt(a, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	setsockopt(a, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	resv("sendto", E(sendto(b, "datagram one", 12, 0, (void *)&ss, len)));
	resv("sendto", E(sendto(b, "two", 3, 0, (void *)&ss, len)));
	struct pollfd p = { a, POLLIN, 0 };
	poll(&p, 1, 5000);
	int n = -1;
	ioctl(a, FIONREAD, &n);
	printf("FIONREAD %d\n", n);
	char buf[64] = { 0 }, ctl[256];
	struct sockaddr_in from;
	struct iovec iov = { buf, 8 };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	resv("recvmsg MSG_TRUNC", E(recvmsg(a, &m, MSG_TRUNC)));
	printf("'%.8s' flags%s%s from %s namelen %d\n", buf, m.msg_flags & MSG_TRUNC ? " TRUNC" : "",
	       m.msg_flags & MSG_CTRUNC ? " CTRUNC" : "", inet_ntoa(from.sin_addr), (int)m.msg_namelen);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			printf("IP_PKTINFO dst %s\n", inet_ntoa(pi.ipi_addr));
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
			int ttl;
			memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
			printf("IP_TTL %d\n", ttl);
		} else {
			printf("cmsg %d/%d\n", c->cmsg_level, c->cmsg_type);
		}
	}
	m.msg_control = NULL;
	m.msg_controllen = 0;
	iov.iov_len = sizeof(buf);
	memset(buf, 0, sizeof(buf));
	resv("recvmsg without room for control data", E(recvmsg(a, &m, 0)));
	printf("'%s' flags%s\n", buf, m.msg_flags & MSG_CTRUNC ? " CTRUNC" : "");
	res("recv with nothing there", E(recv(a, buf, sizeof(buf), MSG_DONTWAIT)));

	/* connected UDP, and a connected one whose peer is gone */
	res("connect", connect_to(b, AF_INET, port_of(a)));
	resv("send", E(send(b, "x", 1, 0)));
	resv("recv", E(recv(a, buf, sizeof(buf), 0)));
	res("send without a destination", E(send(socket(AF_INET, SOCK_DGRAM, 0), "x", 1, 0)));
	res("send with SCM_RIGHTS", ({
		int fds[1] = { 0 };
		char c2[CMSG_SPACE(sizeof(fds))];
		struct iovec io = { "x", 1 };
		struct msghdr mm = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = c2,
				     .msg_controllen = sizeof(c2) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mm);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
		E(sendmsg(b, &mm, 0));
	}));
	close(a);
	resv("send to the closed one", E(send(b, "x", 1, 0)));
	await_error(b);
	res("then recv", E(recv(b, buf, sizeof(buf), MSG_DONTWAIT)));
	close(b);

	/* IP_RECVERR: the port unreachable answer stays in the error queue
	 * (which keeps the socket polling POLLERR) until read. */
	int gone = socket(AF_INET, SOCK_DGRAM, 0);
	len = loaddr(AF_INET, 0, &ss);
	bind(gone, (void *)&ss, len);
	int gport = port_of(gone);
	close(gone);
	int e1 = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(e1, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	connect_to(e1, AF_INET, gport);
	resv("send to a closed port", E(send(e1, "x", 1, 0)));
	await_error(e1);
	res("recv", E(recv(e1, buf, sizeof(buf), MSG_DONTWAIT)));
	struct timeval tv = { 0, 200000 };
	setsockopt(e1, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	res("blocking recv with an error queued", E(recv(e1, buf, sizeof(buf), 0)));
	iov.iov_len = sizeof(buf);
	m = (struct msghdr){ .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	resv("recvmsg MSG_ERRQUEUE", E(recvmsg(e1, &m, MSG_ERRQUEUE)));
	printf("flags%s\n", m.msg_flags & MSG_ERRQUEUE ? " ERRQUEUE" : "");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		struct ext_err ee;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		printf("cmsg %d/%d errno %s origin %d type %d code %d\n", c->cmsg_level, c->cmsg_type,
		       errname(ee.ee_errno), ee.ee_origin, ee.ee_type, ee.ee_code);
	}
	res("MSG_ERRQUEUE again", E(recvmsg(e1, &m, MSG_ERRQUEUE)));
	close(e1);

	/* Shut down for reading: a blocked receiver wakes with 0. */
	int sd = socket(AF_INET, SOCK_DGRAM, 0);
	len = loaddr(AF_INET, 0, &ss);
	bind(sd, (void *)&ss, len);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		shutdown(sd, SHUT_RD);
		_exit(0);
	}
	resv("recv while shut down for reading", E(recv(sd, buf, sizeof(buf), 0)));
	resv("and again", E(recv(sd, buf, sizeof(buf), 0)));
	waitpid(pid, NULL, 0);
	close(sd);

	int six = socket(AF_INET6, SOCK_DGRAM, 0), six2 = socket(AF_INET6, SOCK_DGRAM, 0);
	len = loaddr(AF_INET6, 0, &ss);
	bind(six, (void *)&ss, len);
	len = loaddr(AF_INET6, port_of(six), &ss);
	resv("v6 sendto", E(sendto(six2, "six", 3, 0, (void *)&ss, len)));
	struct sockaddr_in6 f6;
	socklen_t fl = sizeof(f6);
	memset(buf, 0, sizeof(buf));
	resv("v6 recvfrom", E(recvfrom(six, buf, sizeof(buf), 0, (void *)&f6, &fl)));
	char t[64];
	printf("'%s' from %s\n", buf, inet_ntop(AF_INET6, &f6.sin6_addr, t, sizeof(t)));
	close(six);
	close(six2);
}

/* ---- signals ------------------------------------------------------------------------ */

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) { alarms++; }

static void alarm_in(int ms, bool restart)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0 };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { .it_value = { 0, ms * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

static void signals(void)
{
	printf("-- signals\n");
	int port;
	int l = listener(AF_INET, &port);
	alarms = 0;
	/* The alarms that must interrupt a call come 150 ms (200 ms) after
	 * they are set: one that came before the call started would leave it
	 * blocked for good (no client, no room) or until its own timeout. */
	alarm_in(150, false);
	res("accept interrupted", E(accept(l, NULL, NULL)));

	/* With SA_RESTART the accept goes on until a client comes. */
	pid_t pid = fork();
	if (pid == 0) {
		usleep(300000);
		int c = socket(AF_INET, SOCK_STREAM, 0);
		connect_to(c, AF_INET, port);
		write(c, "late", 4);
		usleep(300000);
		_exit(0);
	}
	alarm_in(50, true);
	int a = E(accept(l, NULL, NULL));
	res("accept with SA_RESTART", a);
	printf("alarms %d\n", alarms);
	char buf[16] = { 0 };
	resv("read", E(read(a, buf, sizeof(buf))));
	alarm_in(50, true);
	res("recv with SA_RESTART and nothing coming: the peer leaves", E(recv(a, buf, sizeof(buf), 0)));
	waitpid(pid, NULL, 0);
	close(a);

	/* SO_RCVTIMEO: EAGAIN at the deadline, EINTR on a signal even with
	 * SA_RESTART. */
	int fd[2];
	pair(fd);
	struct timeval tv = { 0, 100000 };
	setsockopt(fd[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	res("recv with SO_RCVTIMEO", E(recv(fd[1], buf, sizeof(buf), 0)));
	tv.tv_sec = 5;
	setsockopt(fd[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	alarm_in(150, true);
	res("recv with SO_RCVTIMEO interrupted", E(recv(fd[1], buf, sizeof(buf), 0)));
	signal(SIGALRM, SIG_IGN);

	/* A blocking connect waits while the listener's queue is full (its
	 * SYNs are dropped until there is room): interrupted, timed out,
	 * and restarted until a child makes room. */
	int full = listener(AF_INET, &port);
	listen(full, 0);
	int c1 = socket(AF_INET, SOCK_STREAM, 0), c2 = socket(AF_INET, SOCK_STREAM, 0);
	res("connect to a listener with backlog 0", connect_to(c1, AF_INET, port));
	alarm_in(200, false);
	res("connect to its full queue, interrupted", connect_to(c2, AF_INET, port));
	tv = (struct timeval){ 0, 100000 };
	setsockopt(c2, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	res("connect again with SO_SNDTIMEO", connect_to(c2, AF_INET, port));
	tv.tv_usec = 0;
	setsockopt(c2, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pid = fork();
	if (pid == 0) {
		usleep(200000);
		close(accept(full, NULL, NULL));
		usleep(3000000);
		_exit(0);
	}
	alarm_in(100, true);
	res("connect with SA_RESTART until there is room", connect_to(c2, AF_INET, port));
	res("connect again", connect_to(c2, AF_INET, port));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(c1);
	close(c2);
	close(full);

	/* select on a host socket */
	fd_set r;
	FD_ZERO(&r);
	FD_SET(fd[1], &r);
	struct timeval zero = { 0, 0 };
	printf("select with nothing: %d\n", select(fd[1] + 1, &r, NULL, NULL, &zero));
	write(fd[0], "z", 1);
	FD_ZERO(&r);
	FD_SET(fd[1], &r);
	struct timeval sec = { 5, 0 };
	printf("select with data: %d\n", select(fd[1] + 1, &r, NULL, NULL, &sec));
	close(fd[0]);
	close(fd[1]);
	close(l);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	echo(AF_INET, 3 << 20);
	echo(AF_INET6, 1 << 20);
	edges();
	errors();
	stream();
	udp();
	signals();
	return 0;
}
