/* Loopback UDP over IPv4 and IPv6: datagrams with their sender's
 * address, truncation, connected sockets (filtering, ECONNREFUSED from a
 * closed port, AF_UNSPEC to dissolve), implicit binding, sendmmsg and
 * recvmmsg, a v4 sender to a v6 wildcard socket, and a ping-pong
 * between two processes. */
#include "util.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#define E(x) ({ long __r = (x); __r < 0 ? -errno : __r; })

static int port_of(int fd)
{
	struct sockaddr_in6 a;
	socklen_t l = sizeof(a);
	getsockname(fd, (void *)&a, &l);
	return ntohs(a.sin6_port); /* same offset in sockaddr_in */
}

static int udp4(const char *addr, int port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	if (bind(s, (void *)&a, sizeof(a)) < 0)
		printf("bind: %s\n", errname(errno));
	return s;
}

static struct sockaddr_in to4(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return a;
}

static void v4(void)
{
	char buf[64], txt[64];
	printf("-- v4\n");
	int r = udp4("127.0.0.1", 0), rport = port_of(r);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in dst = to4(rport), from;
	socklen_t fl;
	printf("unbound sender port %d\n", port_of(s));
	resv("sendto", E(sendto(s, "datagram", 8, 0, (void *)&dst, sizeof(dst))));
	printf("sender bound now %d\n", port_of(s) != 0);
	fl = sizeof(from);
	resv("recvfrom", E(recvfrom(r, buf, sizeof(buf), 0, (void *)&from, &fl)));
	inet_ntop(AF_INET, &from.sin_addr, txt, sizeof(txt));
	printf("from %s len %d port is sender's %d\n", txt, (int)fl, ntohs(from.sin_port) == port_of(s));
	sendto(s, "0123456789", 10, 0, (void *)&dst, sizeof(dst));
	struct iovec iov = { buf, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	resv("recvmsg 4 of 10", E(recvmsg(r, &m, 0)));
	printf("MSG_TRUNC %d\n", !!(m.msg_flags & MSG_TRUNC));
	sendto(s, "0123456789", 10, 0, (void *)&dst, sizeof(dst));
	resv("recv MSG_TRUNC", E(recv(r, buf, 2, MSG_TRUNC)));
	sendto(s, "", 0, 0, (void *)&dst, sizeof(dst));
	resv("empty datagram", E(recv(r, buf, sizeof(buf), 0)));
	resv("nothing left", E(recv(r, buf, sizeof(buf), MSG_DONTWAIT)));
	resv("send unconnected", E(send(s, "x", 1, 0)));
	struct sockaddr_in zero = to4(0);
	resv("sendto port 0", E(sendto(s, "x", 1, 0, (void *)&zero, sizeof(zero))));
	resv("sendto short addr", E(sendto(s, "x", 1, 0, (void *)&dst, 8)));
	static char huge[70000];
	resv("sendto too big", E(sendto(s, huge, sizeof(huge), 0, (void *)&dst, sizeof(dst))));
	int n;
	sendto(s, "abc", 3, 0, (void *)&dst, sizeof(dst));
	ioctl(r, FIONREAD, &n);
	printf("FIONREAD %d\n", n);
	recv(r, buf, sizeof(buf), 0);

	/* connected: filtering and errors */
	struct sockaddr_in sa = to4(port_of(s));
	res("connect", E(connect(r, (void *)&sa, sizeof(sa))));
	int t = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(t, "stranger", 8, 0, (void *)&dst, sizeof(dst));
	sendto(s, "friend", 6, 0, (void *)&dst, sizeof(dst));
	n = recv(r, buf, sizeof(buf), MSG_DONTWAIT);
	printf("connected receives %.*s\n", n > 0 ? n : 0, buf);
	resv("and nothing else", E(recv(r, buf, sizeof(buf), MSG_DONTWAIT)));
	struct sockaddr_in6 peer;
	socklen_t pl = sizeof(peer);
	res("getpeername", E(getpeername(r, (void *)&peer, &pl)));
	printf("peer len %d\n", (int)pl);
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	res("dissolve", E(connect(r, &un, sizeof(un))));
	pl = sizeof(peer);
	res("getpeername dissolved", E(getpeername(r, (void *)&peer, &pl)));
	printf("port kept after dissolving %d\n", port_of(r) == rport);
	close(r);
	r = udp4("127.0.0.1", rport);
	close(t);

	/* a connected socket learns of a closed port */
	int gone = udp4("127.0.0.1", 0), gport = port_of(gone);
	close(gone);
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in g = to4(gport);
	connect(c, (void *)&g, sizeof(g));
	resv("send to closed port", E(send(c, "x", 1, 0)));
	/* Until the port-unreachable answer is in (POLLERR, up to 1 s): with
	 * POLLOUT asked for, the poll below returns at once. */
	struct pollfd e = { c, 0, 0 };
	poll(&e, 1, 1000);
	struct pollfd p = { c, POLLIN | POLLOUT, 0 };
	int pn = poll(&p, 1, 1000);
	printf("poll %d %#x\n", pn, p.revents);
	resv("recv gets the error", E(recv(c, buf, sizeof(buf), MSG_DONTWAIT)));
	resv("then nothing", E(recv(c, buf, sizeof(buf), MSG_DONTWAIT)));
	resv("unconnected sendto closed port", E(sendto(s, "x", 1, 0, (void *)&g, sizeof(g))));
	resv("no error there", E(recv(s, buf, sizeof(buf), MSG_DONTWAIT)));
	res("shutdown unconnected", E(shutdown(s, SHUT_RD)));
	close(c);

	/* batches */
	struct mmsghdr mm[3];
	struct iovec iv[3] = { { "one", 3 }, { "two!", 4 }, { "three", 5 } };
	for (int i = 0; i < 3; i++)
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &dst, .msg_namelen = sizeof(dst),
						     .msg_iov = &iv[i], .msg_iovlen = 1 } };
	resv("sendmmsg", E(sendmmsg(s, mm, 3, 0)));
	printf("lens %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	char rb[3][8];
	struct iovec ri[3] = { { rb[0], 8 }, { rb[1], 8 }, { rb[2], 8 } };
	for (int i = 0; i < 3; i++)
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &ri[i], .msg_iovlen = 1 } };
	resv("recvmmsg", E(recvmmsg(r, mm, 3, MSG_DONTWAIT, NULL)));
	printf("got %.*s %.*s %.*s\n", (int)mm[0].msg_len, rb[0], (int)mm[1].msg_len, rb[1],
	       (int)mm[2].msg_len, rb[2]);
	resv("recvmmsg empty", E(recvmmsg(r, mm, 3, MSG_DONTWAIT, NULL)));

	/* port sharing */
	int x = udp4("127.0.0.1", 0);
	int y = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in same = to4(port_of(x));
	res("bind same port", E(bind(y, (void *)&same, sizeof(same))));
	close(x);
	close(y);
	close(s);
	close(r);
}

static void v6(void)
{
	char buf[64], txt[64];
	printf("-- v6\n");
	int r = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 }, from;
	bind(r, (void *)&any, sizeof(any));
	int port = port_of(r);
	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 d6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = in6addr_loopback };
	resv("v6 sendto ::1", E(sendto(s6, "six", 3, 0, (void *)&d6, sizeof(d6))));
	socklen_t fl = sizeof(from);
	resv("recvfrom", E(recvfrom(r, buf, sizeof(buf), 0, (void *)&from, &fl)));
	inet_ntop(AF_INET6, &from.sin6_addr, txt, sizeof(txt));
	printf("from %s len %d\n", txt, (int)fl);
	int s4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in d4 = to4(port);
	resv("v4 sendto v6 wildcard", E(sendto(s4, "four", 4, 0, (void *)&d4, sizeof(d4))));
	fl = sizeof(from);
	resv("recvfrom", E(recvfrom(r, buf, sizeof(buf), 0, (void *)&from, &fl)));
	inet_ntop(AF_INET6, &from.sin6_addr, txt, sizeof(txt));
	printf("from %s len %d\n", txt, (int)fl);
	d6.sin6_port = htons(9);
	inet_pton(AF_INET6, "2001:db8::1", &d6.sin6_addr);
	close(s4);
	close(s6);
	close(r);
}

static void pingpong(void)
{
	printf("-- pingpong\n");
	int a = udp4("127.0.0.1", 0), b = udp4("127.0.0.1", 0);
	struct sockaddr_in da = to4(port_of(a)), db = to4(port_of(b));
	connect(a, (void *)&db, sizeof(db));
	connect(b, (void *)&da, sizeof(da));
	pid_t pid = fork();
	if (pid == 0) {
		int v;
		for (int i = 0; i < 1000; i++) {
			if (recv(b, &v, sizeof(v), 0) != sizeof(v))
				_exit(1);
			v++;
			send(b, &v, sizeof(v), 0);
		}
		_exit(0);
	}
	int v = 0;
	for (int i = 0; i < 1000; i++) {
		send(a, &v, sizeof(v), 0);
		recv(a, &v, sizeof(v), 0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("counter %d child exit %d\n", v, WEXITSTATUS(st));
	close(a);
	close(b);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	v4();
	v6();
	pingpong();
	return 0;
}
