/* Socket option values as Linux stores them (sk_setsockopt,
 * do_tcp_setsockopt, ip/ipv6 sockglue), the control messages loopback
 * UDP delivers (timestamps, IP_PKTINFO/TTL/TOS, IPV6_PKTINFO/HOPLIMIT/
 * TCLASS) and the destinations an AF_INET6 UDP socket takes. Values
 * that depend on the host (sysctl maxima, HZ, ports, times) are printed
 * as relations only. */
#include "util.h"
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#define E(x) ({ long __r = (long)(x); __r < 0 ? -errno : __r; })
#define SHOW(label, x) do { long __v = E(x); if (__v < 0) printf("%s: %s\n", label, errname(-__v)); else printf("%s: %ld\n", label, __v); } while (0)

static int geti(int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, level, name, &v, &l) < 0)
		return -errno;
	return v;
}

static long seti(int fd, int level, int name, int v)
{
	return E(setsockopt(fd, level, name, &v, sizeof(v)));
}

/* set then get, one line */
static void setget(const char *label, int fd, int level, int name, int v)
{
	long r = seti(fd, level, name, v);
	int g = geti(fd, level, name);
	printf("%s %d: %s -> %d\n", label, v, r < 0 ? errname(-r) : "ok", g);
}

static void seterr(const char *label, int fd, int level, int name, int v)
{
	long r = seti(fd, level, name, v);
	printf("%s %d: %s\n", label, v, r < 0 ? errname(-r) : "ok");
}

static void buffers(const char *name, int fam, int type)
{
	printf("-- buffers %s\n", name);
	int s = socket(fam, type, 0);
	int vals[] = { 0, 1, 1000, 2303, 2304, 4608, 100000 };
	for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		seti(s, SOL_SOCKET, SO_SNDBUF, vals[i]);
		seti(s, SOL_SOCKET, SO_RCVBUF, vals[i]);
		printf("  %d: snd %d rcv %d\n", vals[i], geti(s, SOL_SOCKET, SO_SNDBUF),
		       geti(s, SOL_SOCKET, SO_RCVBUF));
	}
	/* -1 is a huge unsigned value: twice the sysctl maximum. */
	seti(s, SOL_SOCKET, SO_RCVBUF, -1);
	seti(s, SOL_SOCKET, SO_SNDBUF, -1);
	int rm1 = geti(s, SOL_SOCKET, SO_RCVBUF), sm1 = geti(s, SOL_SOCKET, SO_SNDBUF);
	seti(s, SOL_SOCKET, SO_RCVBUF, INT_MAX);
	seti(s, SOL_SOCKET, SO_SNDBUF, INT_MAX);
	printf("  -1 is the maximum: rcv %d snd %d\n", rm1 == geti(s, SOL_SOCKET, SO_RCVBUF),
	       sm1 == geti(s, SOL_SOCKET, SO_SNDBUF));
	printf("  -1 above the default: rcv %d snd %d\n", rm1 > 2 * 212992, sm1 > 2 * 212992);
	close(s);
}

static void sol_socket(void)
{
	printf("-- SOL_SOCKET\n");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct linger lg = { 0, 5 };
	socklen_t ll = sizeof(lg);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &ll);
	printf("linger {0,5} -> {%d,%d}\n", lg.l_onoff, lg.l_linger);
	lg = (struct linger){ 3, 7 };
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &ll);
	printf("linger {3,7} -> {%d,%d}\n", lg.l_onoff, lg.l_linger);
	lg = (struct linger){ 0, 9 };
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &ll);
	printf("linger {0,9} -> {%d,%d}\n", lg.l_onoff, lg.l_linger);

	char dev[16] = "xxxx";
	socklen_t dl = sizeof(dev);
	long r = E(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, &dl));
	printf("SO_BINDTODEVICE unbound: %s len %d\n", r < 0 ? errname(-r) : "ok", (int)dl);

	/* Timeouts are whole jiffies, rounded up. */
	struct timeval tvs[] = { { 0, 1 }, { 2, 999999 }, { 5, 0 } };
	for (unsigned i = 0; i < 3; i++) {
		struct timeval tv = tvs[i], got = { 0, 0 };
		socklen_t tl = sizeof(got);
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &got, &tl);
		long long set = tv.tv_sec * 1000000LL + tv.tv_usec, g = got.tv_sec * 1000000LL + got.tv_usec;
		printf("sndtimeo %ld.%06ld: not below %d, within a tick %d, exact %d\n", (long)tv.tv_sec,
		       (long)tv.tv_usec, g >= set, g < set + 10001, g == set);
	}

	/* SO_RCVLOWAT on TCP: at most half the receive buffer. */
	seti(s, SOL_SOCKET, SO_RCVBUF, 10000);
	setget("tcp rcvlowat after rcvbuf 10000", s, SOL_SOCKET, SO_RCVLOWAT, -1);
	setget("tcp rcvlowat after rcvbuf 10000", s, SOL_SOCKET, SO_RCVLOWAT, 5000);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	int before = geti(s, SOL_SOCKET, SO_RCVBUF);
	seti(s, SOL_SOCKET, SO_RCVLOWAT, 1000000);
	printf("tcp rcvlowat 1000000 unlocked: %d, buffer grew to twice: %d (was below %d)\n",
	       geti(s, SOL_SOCKET, SO_RCVLOWAT), geti(s, SOL_SOCKET, SO_RCVBUF) == 2000000, before < 2000000);
	close(s);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	setget("udp rcvlowat", u, SOL_SOCKET, SO_RCVLOWAT, -1);

	/* One timestamp state: only the variant last turned on reads 1. */
	seti(u, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	printf("after TIMESTAMPNS on: ts %d ns %d\n", geti(u, SOL_SOCKET, SO_TIMESTAMP), geti(u, SOL_SOCKET, SO_TIMESTAMPNS));
	seti(u, SOL_SOCKET, SO_TIMESTAMP, 1);
	printf("after TIMESTAMP on: ts %d ns %d\n", geti(u, SOL_SOCKET, SO_TIMESTAMP), geti(u, SOL_SOCKET, SO_TIMESTAMPNS));
	seti(u, SOL_SOCKET, SO_TIMESTAMPNS, 0);
	printf("after TIMESTAMPNS off: ts %d ns %d\n", geti(u, SOL_SOCKET, SO_TIMESTAMP), geti(u, SOL_SOCKET, SO_TIMESTAMPNS));
	close(u);
}

static void tcp_ip(void)
{
	printf("-- TCP and IP levels\n");
	int t = socket(AF_INET, SOCK_STREAM, 0);
	seterr("TCP_KEEPIDLE", t, IPPROTO_TCP, TCP_KEEPIDLE, 0);
	seterr("TCP_KEEPIDLE", t, IPPROTO_TCP, TCP_KEEPIDLE, 32767);
	seterr("TCP_KEEPIDLE", t, IPPROTO_TCP, TCP_KEEPIDLE, 32768);
	seterr("TCP_KEEPINTVL", t, IPPROTO_TCP, TCP_KEEPINTVL, 0);
	seterr("TCP_KEEPINTVL", t, IPPROTO_TCP, TCP_KEEPINTVL, 32768);
	seterr("TCP_KEEPCNT", t, IPPROTO_TCP, TCP_KEEPCNT, 0);
	seterr("TCP_KEEPCNT", t, IPPROTO_TCP, TCP_KEEPCNT, 127);
	seterr("TCP_KEEPCNT", t, IPPROTO_TCP, TCP_KEEPCNT, 128);
	seterr("TCP_SYNCNT", t, IPPROTO_TCP, TCP_SYNCNT, 0);
	seterr("TCP_SYNCNT", t, IPPROTO_TCP, TCP_SYNCNT, 128);
	seterr("TCP_USER_TIMEOUT", t, IPPROTO_TCP, TCP_USER_TIMEOUT, -5);
	setget("TCP_USER_TIMEOUT", t, IPPROTO_TCP, TCP_USER_TIMEOUT, 0);
	int fin = geti(t, IPPROTO_TCP, TCP_LINGER2);
	setget("TCP_LINGER2", t, IPPROTO_TCP, TCP_LINGER2, 100000);
	setget("TCP_LINGER2", t, IPPROTO_TCP, TCP_LINGER2, 77);
	setget("TCP_LINGER2", t, IPPROTO_TCP, TCP_LINGER2, -5);
	seti(t, IPPROTO_TCP, TCP_LINGER2, 0);
	printf("TCP_LINGER2 0 reads back the default: %d\n", geti(t, IPPROTO_TCP, TCP_LINGER2) == fin);
	setget("TCP_WINDOW_CLAMP", t, IPPROTO_TCP, TCP_WINDOW_CLAMP, 100);
	setget("TCP_WINDOW_CLAMP", t, IPPROTO_TCP, TCP_WINDOW_CLAMP, -5);
	setget("TCP_WINDOW_CLAMP", t, IPPROTO_TCP, TCP_WINDOW_CLAMP, 5000);
	setget("TCP_WINDOW_CLAMP", t, IPPROTO_TCP, TCP_WINDOW_CLAMP, 0);
	setget("TCP_DEFER_ACCEPT", t, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5);
	setget("TCP_DEFER_ACCEPT", t, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1);
	setget("TCP_DEFER_ACCEPT", t, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1000);
	setget("TCP_DEFER_ACCEPT", t, IPPROTO_TCP, TCP_DEFER_ACCEPT, -1);
	setget("tcp IP_TOS", t, IPPROTO_IP, IP_TOS, 0xff);
	printf("  priority %d\n", geti(t, SOL_SOCKET, SO_PRIORITY));
	setget("tcp IP_TOS", t, IPPROTO_IP, IP_TOS, 0x13);
	printf("  priority %d\n", geti(t, SOL_SOCKET, SO_PRIORITY));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(t, (void *)&a, sizeof(a));
	listen(t, 1);
	seterr("listening TCP_WINDOW_CLAMP", t, IPPROTO_TCP, TCP_WINDOW_CLAMP, 0);
	printf("tcp getsockopt(IPPROTO_UDP): %s\n", errname(-geti(t, IPPROTO_UDP, 1)));
	close(t);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	setget("udp IP_TOS", u, IPPROTO_IP, IP_TOS, 0xff);
	printf("  priority %d\n", geti(u, SOL_SOCKET, SO_PRIORITY));
	printf("udp getsockopt(IPPROTO_TCP): %s\n", errname(-geti(u, IPPROTO_TCP, TCP_NODELAY)));
	printf("udp getsockopt(IPPROTO_IPV6): %s\n", errname(-geti(u, IPPROTO_IPV6, IPV6_V6ONLY)));
	seterr("udp setsockopt(IPPROTO_TCP)", u, IPPROTO_TCP, TCP_NODELAY, 1);
	close(u);
	int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	printf("udp6 getsockopt(IPPROTO_TCP): %s\n", errname(-geti(u6, IPPROTO_TCP, TCP_NODELAY)));
	setget("udp6 IPV6_TCLASS", u6, IPPROTO_IPV6, IPV6_TCLASS, -1);
	seterr("udp6 IPV6_TCLASS", u6, IPPROTO_IPV6, IPV6_TCLASS, 256);
	setget("udp6 IPV6_UNICAST_HOPS", u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1);
	seterr("udp6 IPV6_UNICAST_HOPS", u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 256);
	setget("udp6 IPV6_RECVHOPLIMIT", u6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 5);
	setget("udp6 IPV6_RECVTCLASS", u6, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
	close(u6);
	int t6 = socket(AF_INET6, SOCK_STREAM, 0);
	setget("tcp6 IPV6_TCLASS", t6, IPPROTO_IPV6, IPV6_TCLASS, 0xff);
	close(t6);
}

/* ---- received control messages ---------------------------------------------- */

static long long ts_before_us;

static void show_cmsgs(struct msghdr *m)
{
	printf("  flags %#x controllen %d:", m->msg_flags, (int)m->msg_controllen);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		printf(" [%d/%d len %d", c->cmsg_level, c->cmsg_type, (int)c->cmsg_len);
		void *d = CMSG_DATA(c);
		if (c->cmsg_len < CMSG_LEN(1)) {
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;
			memcpy(&pi, d, sizeof(pi));
			printf(" if %d spec %08x addr %08x", pi.ipi_ifindex, ntohl(pi.ipi_spec_dst.s_addr),
			       ntohl(pi.ipi_addr.s_addr));
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
			printf(" ttl %d", *(int *)d);
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			printf(" tos %#x", *(unsigned char *)d);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			char b[64];
			memcpy(&pi, d, sizeof(pi));
			inet_ntop(AF_INET6, &pi.ipi6_addr, b, sizeof(b));
			printf(" if %d addr %s", pi.ipi6_ifindex, b);
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   (c->cmsg_type == IPV6_HOPLIMIT || c->cmsg_type == IPV6_TCLASS)) {
			printf(" v %d", *(int *)d);
		} else if (c->cmsg_level == SOL_SOCKET && (c->cmsg_type == SO_TIMESTAMP || c->cmsg_type == SO_TIMESTAMPNS)) {
			struct timeval after;
			gettimeofday(&after, NULL);
			long long sec, frac, us;
			memcpy(&sec, d, 8);
			memcpy(&frac, (char *)d + 8, 8);
			us = sec * 1000000 + (c->cmsg_type == SO_TIMESTAMP ? frac : frac / 1000);
			printf(" stamp in [send, recv] %d", us >= ts_before_us &&
			       us <= after.tv_sec * 1000000LL + after.tv_usec);
		}
		printf("]");
	}
	printf("\n");
}

static void rx(int s, const char *label, size_t clen)
{
	char data[16], ctl[512];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = clen };
	long r = E(recvmsg(s, &m, MSG_DONTWAIT));
	if (r < 0) {
		printf("%s: %s\n", label, errname(-r));
		return;
	}
	printf("%s: %ld\n", label, r);
	show_cmsgs(&m);
}

static void stamp_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	ts_before_us = tv.tv_sec * 1000000LL + tv.tv_usec;
}

static int port4(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	getsockname(fd, (void *)&a, &l);
	return ntohs(a.sin_port);
}

static int port6(int fd)
{
	struct sockaddr_in6 a;
	socklen_t l = sizeof(a);
	getsockname(fd, (void *)&a, &l);
	return ntohs(a.sin6_port);
}

static void udp_cmsgs(void)
{
	printf("-- udp control messages\n");
	int one = 1, zero = 0;
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(r, (void *)&a, sizeof(a));
	a.sin_port = htons(port4(r));
	setsockopt(r, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	sendto(s, "a", 1, 0, (void *)&a, sizeof(a));
	rx(r, "pktinfo", 512);
	setsockopt(r, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	setsockopt(r, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	int tos = 0x10;
	setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	sendto(s, "b", 1, 0, (void *)&a, sizeof(a));
	rx(r, "pktinfo ttl tos", 512);
	sendto(s, "c", 1, 0, (void *)&a, sizeof(a));
	rx(r, "control of 24 bytes", 24);
	sendto(s, "c", 1, 0, (void *)&a, sizeof(a));
	rx(r, "no control", 0);
	setsockopt(r, IPPROTO_IP, IP_PKTINFO, &zero, sizeof(zero));
	setsockopt(r, IPPROTO_IP, IP_RECVTOS, &zero, sizeof(zero));
	int ttl = 33;
	setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	sendto(s, "d", 1, 0, (void *)&a, sizeof(a));
	rx(r, "sender IP_TTL 33", 512);
	{
		char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { "e", 1 };
		struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_TTL;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		*(int *)CMSG_DATA(c) = 7;
		SHOW("sendmsg IP_TTL 7", sendmsg(s, &m, 0));
		rx(r, "ttl from the control message", 512);
		*(int *)CMSG_DATA(c) = 0;
		SHOW("sendmsg IP_TTL 0", sendmsg(s, &m, 0));
	}
	setsockopt(r, IPPROTO_IP, IP_RECVTTL, &zero, sizeof(zero));
	/* Timestamps come first. */
	setsockopt(r, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one));
	setsockopt(r, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	stamp_now();
	sendto(s, "f", 1, 0, (void *)&a, sizeof(a));
	rx(r, "SO_TIMESTAMP and tos", 512);
	setsockopt(r, IPPROTO_IP, IP_RECVTOS, &zero, sizeof(zero));
	setsockopt(r, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	stamp_now();
	sendto(s, "g", 1, 0, (void *)&a, sizeof(a));
	rx(r, "SO_TIMESTAMPNS", 512);
	setsockopt(r, SOL_SOCKET, SO_TIMESTAMPNS, &zero, sizeof(zero));
	sendto(s, "h", 1, 0, (void *)&a, sizeof(a));
	rx(r, "all off", 512);
	close(r);
	close(s);

	/* IPv6 */
	int r6 = socket(AF_INET6, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
	bind(r6, (void *)&a6, sizeof(a6));
	a6.sin6_port = htons(port6(r6));
	setsockopt(r6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	setsockopt(r6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	setsockopt(r6, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
	int hops = 9, tclass = 0x20;
	setsockopt(s6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops));
	setsockopt(s6, IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof(tclass));
	sendto(s6, "z", 1, 0, (void *)&a6, sizeof(a6));
	rx(r6, "v6 pktinfo hoplimit tclass", 512);
	close(r6);

	/* A dual-stack v6 socket receiving IPv4: IPV6_PKTINFO, then the IP ones. */
	int d6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
	bind(d6, (void *)&any6, sizeof(any6));
	setsockopt(d6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	setsockopt(d6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	setsockopt(d6, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	int s4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = htons(port6(d6)),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	sendto(s4, "y", 1, 0, (void *)&to4, sizeof(to4));
	rx(d6, "v6 socket, v4 datagram", 512);
	close(d6);
	close(s4);
	close(s6);
}

static void v6_dests(void)
{
	printf("-- udp6 destinations\n");
	int r4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(r4, (void *)&a, sizeof(a));
	a.sin_port = htons(port4(r4));
	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	SHOW("sendto sockaddr_in", sendto(s6, "v4", 2, 0, (void *)&a, sizeof(a)));
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char b[8];
	SHOW("v4 socket receives", recvfrom(r4, b, sizeof(b), MSG_DONTWAIT, (void *)&from, &fl));
	printf("  from family %d addr %08x\n", from.sin_family, ntohl(from.sin_addr.s_addr));
	SHOW("sendto short sockaddr_in", sendto(s6, "v4", 2, 0, (void *)&a, sizeof(a) - 1));
	struct sockaddr us = { .sa_family = AF_UNSPEC };
	SHOW("sendto AF_UNSPEC unconnected", sendto(s6, "x", 1, 0, &us, sizeof(us)));
	struct sockaddr odd = { .sa_family = 99 };
	SHOW("sendto family 99", sendto(s6, "x", 1, 0, &odd, sizeof(odd)));
	SHOW("sendto 1-byte address", sendto(s6, "x", 1, 0, &odd, 1));
	SHOW("connect sockaddr_in", connect(s6, (void *)&a, sizeof(a)));
	struct sockaddr_in6 peer;
	socklen_t pl = sizeof(peer);
	getpeername(s6, (void *)&peer, &pl);
	char pb[64];
	inet_ntop(AF_INET6, &peer.sin6_addr, pb, sizeof(pb));
	printf("  peer family %d addr %s len %d\n", peer.sin6_family, pb, (int)pl);
	close(s6);
	/* AF_UNSPEC on a connected socket: to the peer (an IPv6 one: to a
	 * v4-mapped peer Linux sends IPv6, which depends on the host's routes). */
	int r6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
	bind(r6, (void *)&a6, sizeof(a6));
	a6.sin6_port = htons(port6(r6));
	s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	connect(s6, (void *)&a6, sizeof(a6));
	SHOW("sendto AF_UNSPEC connected", sendto(s6, "xyz", 3, 0, &us, sizeof(us)));
	SHOW("peer receives", recv(r6, b, sizeof(b), MSG_DONTWAIT));
	close(s6);
	close(r6);
	int o6 = socket(AF_INET6, SOCK_DGRAM, 0);
	setsockopt(o6, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 1 }, sizeof(int));
	SHOW("v6only sendto sockaddr_in", sendto(o6, "x", 1, 0, (void *)&a, sizeof(a)));
	SHOW("v6only connect sockaddr_in", connect(o6, (void *)&a, sizeof(a)));
	close(o6);

	/* Bound to a v4-mapped address: no IPv6 destinations. */
	int m6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 mb = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "::ffff:0.0.0.0", &mb.sin6_addr);
	SHOW("bind ::ffff:0.0.0.0", bind(m6, (void *)&mb, sizeof(mb)));
	struct sockaddr_in6 d = { .sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = in6addr_loopback };
	SHOW("mapped-bound sendto ::1", sendto(m6, "x", 1, 0, (void *)&d, sizeof(d)));
	SHOW("mapped-bound connect ::1", connect(m6, (void *)&d, sizeof(d)));
	struct sockaddr_in6 z = { .sin6_family = AF_INET6, .sin6_port = a.sin_port };
	SHOW("mapped-bound sendto :: (v4 loopback)", sendto(m6, "q", 1, 0, (void *)&z, sizeof(z)));
	SHOW("v4 socket receives", recv(r4, b, sizeof(b), MSG_DONTWAIT));
	close(m6);
	close(r4);

	int l6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 ll = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "fe80::1", &ll.sin6_addr);
	SHOW("bind fe80::1 without scope", bind(l6, (void *)&ll, sizeof(ll)));
	SHOW("bind fe80::1 short address", bind(l6, (void *)&ll, 24));
	close(l6);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(20);
	buffers("tcp", AF_INET, SOCK_STREAM);
	buffers("udp", AF_INET, SOCK_DGRAM);
	buffers("unix stream", AF_UNIX, SOCK_STREAM);
	buffers("unix dgram", AF_UNIX, SOCK_DGRAM);
	sol_socket();
	tcp_ip();
	udp_cmsgs();
	v6_dests();
	return 0;
}
