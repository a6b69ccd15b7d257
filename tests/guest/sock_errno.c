/* The errors of the socket calls for bad arguments, through raw system
 * calls (no libc in between): bad fds and non-sockets, families, types,
 * protocols and flags, address lengths and pointers, option lengths,
 * msghdr fields, and the calls a socket kind does not support. */
#include "util.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#define BADPTR 0x10UL /* never mapped */
#define KPTR 0xffff800000000000UL /* above the user range */

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int file = open("/dev/null", O_RDONLY);
	int pathfd = open("/", O_PATH);

	printf("-- socket\n");
	res("family -1", rsys(SYS_socket, -1, SOCK_STREAM, 0));
	res("family 46", rsys(SYS_socket, 46, SOCK_STREAM, 0));
	res("family 200", rsys(SYS_socket, 200, SOCK_STREAM, 0));
	res("AF_UNIX type 0", rsys(SYS_socket, AF_UNIX, 0, 0));
	res("AF_UNIX type 11", rsys(SYS_socket, AF_UNIX, 11, 0));
	res("AF_UNIX type 15", rsys(SYS_socket, AF_UNIX, 15, 0));
	res("AF_UNIX SOCK_RDM", rsys(SYS_socket, AF_UNIX, SOCK_RDM, 0));
	long r = rsys(SYS_socket, AF_UNIX, SOCK_RAW, 0);
	res("AF_UNIX SOCK_RAW", r);
	if (r >= 0) {
		int t;
		socklen_t l = sizeof(t);
		getsockopt(r, SOL_SOCKET, SO_TYPE, &t, &l);
		printf("SOCK_RAW is type %d\n", t);
		close(r);
	}
	res("AF_UNIX protocol 1", rsys(SYS_socket, AF_UNIX, SOCK_STREAM, 1));
	res("AF_UNIX protocol 7", rsys(SYS_socket, AF_UNIX, SOCK_STREAM, 7));
	res("bad flag", rsys(SYS_socket, AF_UNIX, SOCK_STREAM | 0x100, 0));
	res("O_CLOEXEC|O_NONBLOCK", rsys(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	res("AF_INET SOCK_SEQPACKET", rsys(SYS_socket, AF_INET, SOCK_SEQPACKET, 0));
	res("AF_INET stream udp", rsys(SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_UDP));
	res("AF_INET dgram tcp", rsys(SYS_socket, AF_INET, SOCK_DGRAM, IPPROTO_TCP));
	res("AF_INET6 stream 99", rsys(SYS_socket, AF_INET6, SOCK_STREAM, 99));

	printf("-- socketpair\n");
	int sv[2];
	res("AF_INET", rsys(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv));
	res("bad vector", rsys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, BADPTR));
	res("bad flag", rsys(SYS_socketpair, AF_UNIX, SOCK_STREAM | 0x100, 0, sv));
	res("bad family", rsys(SYS_socketpair, 99, SOCK_STREAM, 0, sv));
	res("ok", rsys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));

	int us = socket(AF_UNIX, SOCK_STREAM, 0), ud = socket(AF_UNIX, SOCK_DGRAM, 0);
	int ts = socket(AF_INET, SOCK_STREAM, 0), uu = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	printf("-- fd checks\n");
	const long calls[] = { SYS_bind, SYS_connect, SYS_listen, SYS_accept, SYS_getsockname,
			       SYS_getpeername, SYS_shutdown, SYS_getsockopt, SYS_sendmsg, SYS_recvmsg };
	const char *names[] = { "bind", "connect", "listen", "accept", "getsockname",
				"getpeername", "shutdown", "getsockopt", "sendmsg", "recvmsg" };
	for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		char label[64];
		snprintf(label, sizeof(label), "%s bad fd", names[i]);
		res(label, rsys(calls[i], 999, 0, 0, 0, 0));
		snprintf(label, sizeof(label), "%s file", names[i]);
		res(label, rsys(calls[i], file, 0, 0, 0, 0));
		snprintf(label, sizeof(label), "%s O_PATH", names[i]);
		res(label, rsys(calls[i], pathfd, 0, 0, 0, 0));
	}
	res("sendto bad buffer first", rsys(SYS_sendto, 999, KPTR, 1, 0, 0, 0));
	res("sendto bad fd", rsys(SYS_sendto, 999, "x", 1, 0, 0, 0));
	res("recvfrom bad fd", rsys(SYS_recvfrom, file, sv, 1, 0, 0, 0));
	res("setsockopt negative len first", rsys(SYS_setsockopt, 999, SOL_SOCKET, SO_DEBUG, sv, -1));
	res("setsockopt file", rsys(SYS_setsockopt, file, SOL_SOCKET, SO_DEBUG, sv, 4));

	printf("-- addresses\n");
	res("bind len -1", rsys(SYS_bind, us, &sun, -1));
	res("bind len 129", rsys(SYS_bind, us, &sun, 129));
	res("bind len 1", rsys(SYS_bind, us, &sun, 1));
	res("bind bad pointer", rsys(SYS_bind, us, BADPTR, 16));
	res("unix bind len 111", rsys(SYS_bind, us, &sun, 111));
	sun.sun_family = AF_INET;
	res("unix bind wrong family", rsys(SYS_bind, us, &sun, 10));
	res("unix connect wrong family", rsys(SYS_connect, us, &sun, 10));
	sun.sun_family = AF_UNIX;
	res("unix connect len 2", rsys(SYS_connect, us, &sun, 2));
	res("inet bind len 15", rsys(SYS_bind, ts, &sin, 15));
	res("inet connect len 1", rsys(SYS_connect, ts, &sin, 1));
	int len = 0;
	res("getsockname bad len ptr", rsys(SYS_getsockname, us, &sun, BADPTR));
	len = -1;
	res("getsockname negative len", rsys(SYS_getsockname, us, &sun, &len));
	len = sizeof(sun);
	res("getsockname bad addr", rsys(SYS_getsockname, us, BADPTR, &len));
	len = 0;
	res("getsockname len 0", rsys(SYS_getsockname, us, BADPTR, &len));
	printf("len now %d\n", len);
	res("getpeername unconnected", rsys(SYS_getpeername, us, &sun, &len));
	res("getpeername unconnected bad len", rsys(SYS_getpeername, us, &sun, BADPTR));

	printf("-- per kind\n");
	res("listen dgram", rsys(SYS_listen, ud, 1));
	res("listen udp", rsys(SYS_listen, uu, 1));
	res("accept dgram", rsys(SYS_accept, ud, 0, 0));
	res("accept udp", rsys(SYS_accept, uu, 0, 0));
	res("accept unlistening", rsys(SYS_accept, us, 0, 0));
	res("accept tcp unlistening", rsys(SYS_accept, ts, 0, 0));
	res("accept4 bad flags", rsys(SYS_accept4, us, 0, 0, 0x100));
	res("shutdown how -1", rsys(SYS_shutdown, us, -1));
	res("shutdown how 3", rsys(SYS_shutdown, us, 3));
	res("unix shutdown unconnected", rsys(SYS_shutdown, us, SHUT_RD));
	res("send unconnected stream", rsys(SYS_sendto, us, "x", 1, MSG_NOSIGNAL, 0, 0));
	res("sendto with address on unconnected stream", rsys(SYS_sendto, us, "x", 1, MSG_NOSIGNAL, &sun, sizeof(sun)));
	res("recv unconnected stream", rsys(SYS_recvfrom, us, sv, 1, MSG_DONTWAIT, 0, 0));

	printf("-- options\n");
	int v = 1, vl = sizeof(v);
	res("SOL_SOCKET unknown", rsys(SYS_setsockopt, us, SOL_SOCKET, 9999, &v, 4));
	res("short int", rsys(SYS_setsockopt, us, SOL_SOCKET, SO_KEEPALIVE, &v, 2));
	res("bad pointer", rsys(SYS_setsockopt, us, SOL_SOCKET, SO_KEEPALIVE, BADPTR, 4));
	res("set SO_TYPE", rsys(SYS_setsockopt, us, SOL_SOCKET, SO_TYPE, &v, 4));
	res("set SO_ERROR", rsys(SYS_setsockopt, us, SOL_SOCKET, SO_ERROR, &v, 4));
	res("set SO_SNDLOWAT", rsys(SYS_setsockopt, us, SOL_SOCKET, SO_SNDLOWAT, &v, 4));
	res("unix IPPROTO_TCP", rsys(SYS_setsockopt, us, IPPROTO_TCP, 1, &v, 4));
	res("unix get IPPROTO_IP", rsys(SYS_getsockopt, us, IPPROTO_IP, 1, &v, &vl));
	struct timeval tv = { 0, 1000000 };
	res("SO_RCVTIMEO usec 1000000", rsys(SYS_setsockopt, us, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	res("SO_RCVTIMEO short", rsys(SYS_setsockopt, us, SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
	res("SO_LINGER short", rsys(SYS_setsockopt, us, SOL_SOCKET, SO_LINGER, &v, 4));
	vl = -1;
	res("getsockopt negative len", rsys(SYS_getsockopt, us, SOL_SOCKET, SO_TYPE, &v, &vl));
	res("getsockopt bad len ptr", rsys(SYS_getsockopt, us, SOL_SOCKET, SO_TYPE, &v, BADPTR));
	vl = 4;
	res("getsockopt bad value ptr", rsys(SYS_getsockopt, us, SOL_SOCKET, SO_TYPE, BADPTR, &vl));
	vl = 2;
	v = 0;
	res("getsockopt len 2", rsys(SYS_getsockopt, us, SOL_SOCKET, SO_TYPE, &v, &vl));
	printf("len %d value %d\n", vl, v);
	vl = 100;
	res("getsockopt len 100", rsys(SYS_getsockopt, us, SOL_SOCKET, SO_TYPE, &v, &vl));
	printf("len %d\n", vl);
	res("get unknown", rsys(SYS_getsockopt, us, SOL_SOCKET, 9999, &v, &vl));
	res("tcp unknown level", rsys(SYS_setsockopt, ts, 250, 1, &v, 4));
	res("tcp short TCP_NODELAY", rsys(SYS_setsockopt, ts, IPPROTO_TCP, 1, &v, 2));

	printf("-- msghdr\n");
	char data[4];
	struct iovec iov = { data, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	res("sendmsg bad msghdr", rsys(SYS_sendmsg, sv[0], BADPTR, 0));
	m.msg_iovlen = 1025;
	res("sendmsg iovlen 1025", rsys(SYS_sendmsg, sv[0], &m, 0));
	res("recvmsg iovlen 1025", rsys(SYS_recvmsg, sv[1], &m, 0));
	m.msg_iovlen = 1;
	iov.iov_len = (size_t)-1;
	res("sendmsg negative iov_len", rsys(SYS_sendmsg, sv[0], &m, 0));
	iov.iov_len = 4;
	iov.iov_base = (void *)KPTR;
	res("sendmsg kernel iov_base", rsys(SYS_sendmsg, sv[0], &m, 0));
	iov.iov_base = (void *)BADPTR;
	res("sendmsg unmapped iov_base", rsys(SYS_sendmsg, sv[0], &m, 0));
	iov.iov_base = data;
	m.msg_namelen = -1;
	m.msg_name = &sun;
	res("sendmsg namelen -1", rsys(SYS_sendmsg, sv[0], &m, 0));
	m.msg_namelen = 0;
	m.msg_name = NULL;
	m.msg_controllen = 0x80000000u;
	m.msg_control = data;
	res("sendmsg huge controllen", rsys(SYS_sendmsg, sv[0], &m, 0));
	m.msg_controllen = 64;
	m.msg_control = (void *)BADPTR;
	res("sendmsg bad control", rsys(SYS_sendmsg, sv[0], &m, 0));
	m.msg_controllen = 8;
	m.msg_control = data;
	res("sendmsg control below a header", rsys(SYS_sendmsg, sv[0], &m, 0));
	struct msghdr plain = { .msg_iov = &iov, .msg_iovlen = 1 };
	res("recvmsg that", rsys(SYS_recvmsg, sv[1], &plain, 0));
	char cb[CMSG_SPACE(sizeof(int))];
	struct msghdr mt = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof(cb) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mt);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &file, sizeof(int));
	res("SCM_RIGHTS on TCP", rsys(SYS_sendmsg, ts, &mt, MSG_NOSIGNAL));
	res("SCM_RIGHTS on UDP", rsys(SYS_sendmsg, uu, &mt, 0));
	memcpy(CMSG_DATA(c), &pathfd, sizeof(int));
	res("SCM_RIGHTS of an O_PATH fd", rsys(SYS_sendmsg, sv[0], &mt, 0));
	int fds[2];
	struct msghdr mr = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof(cb) };
	res("received", rsys(SYS_recvmsg, sv[1], &mr, 0));
	memcpy(fds, CMSG_DATA(CMSG_FIRSTHDR(&mr)), sizeof(int));
	printf("O_PATH kept %d\n", (fcntl(fds[0], F_GETFL) & O_PATH) != 0);
	res("recvmsg bad msghdr", rsys(SYS_recvmsg, sv[1], BADPTR, 0));
	write(sv[0], "abcd", 4);
	res("recv into bad buffer", rsys(SYS_recvfrom, sv[1], BADPTR, 4, 0, 0, 0));
	res("recvfrom bad address", rsys(SYS_recvfrom, sv[1], data, 4, MSG_DONTWAIT, BADPTR, &len));
	res("sendmmsg bad vector", rsys(SYS_sendmmsg, sv[0], BADPTR, 1, 0));
	res("recvmmsg bad timeout", rsys(SYS_recvmmsg, sv[1], &m, 1, 0, BADPTR));
	res("ioctl unknown", rsys(SYS_ioctl, sv[0], 0x1234, 0));
	return 0;
}
