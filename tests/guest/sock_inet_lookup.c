/* Loopback TCP and UDP: which socket a packet finds and what a socket
 * reports of itself. SO_REUSEPORT groups share connections and datagrams
 * (a hash of the 4-tuple picks the member: the same source always the
 * same one); a connected UDP socket beats an unconnected one on its port
 * and one connected elsewhere gets nothing; SOL_SOCKET control messages
 * on TCP/UDP sends (__sock_cmsg_send: SCM_RIGHTS ignored, SO_MARK needs
 * CAP_NET_RAW/ADMIN, unknown types EINVAL; TCP turns every error into
 * EINVAL); a listener shut down gives back a port the kernel chose;
 * TCP_INFO's state through the FIN exchange; the interface ioctls for
 * lo. Counts and errno names only: ports are never printed. */
#include "util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#ifndef SO_TXTIME
#define SO_TXTIME 61
#endif

/* <linux/capability.h> (musl has no kernel headers). */
struct __user_cap_header_struct {
	uint32_t version;
	int pid;
};
struct __user_cap_data_struct {
	uint32_t effective, permitted, inheritable;
};
#define _LINUX_CAPABILITY_VERSION_3 0x20080522
enum { CAP_NET_ADMIN = 12, CAP_NET_RAW = 13 };

#define NL 4
#define E(x) ({ long __r = (long)(x); __r < 0 ? -errno : __r; })

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

/* A socket of type bound to 127.0.0.1:port (0: ephemeral), SO_REUSEPORT
 * if rp, listening if TCP; -errno on failure. */
static int mk(int type, int port, int rp)
{
	int fd = socket(AF_INET, type, 0), one = 1;
	if (rp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	struct sockaddr_in a = lo4(port);
	if (bind(fd, (void *)&a, sizeof(a)) || (type == SOCK_STREAM && listen(fd, 256))) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int drain_accept(int l)
{
	int n = 0, fd;
	fcntl(l, F_SETFL, O_NONBLOCK);
	while ((fd = accept(l, NULL, NULL)) >= 0) {
		close(fd);
		n++;
	}
	return n;
}

static int drain_recv(int fd)
{
	char b[8];
	int n = 0;
	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

static void reuseport_tcp(void)
{
	printf("-- reuseport tcp\n");
	int l[NL];
	l[0] = mk(SOCK_STREAM, 0, 1);
	int port = port_of(l[0]);
	for (int i = 1; i < NL; i++)
		l[i] = mk(SOCK_STREAM, port, 1);
	for (int i = 0; i < NL; i++)
		if (l[i] < 0)
			printf("listener %d: %s\n", i, errname(-l[i]));
	int x = mk(SOCK_STREAM, port, 0);
	printf("without SO_REUSEPORT: %s\n", x < 0 ? errname(-x) : "ok");
	struct sockaddr_in a = lo4(port);
	int cl[200], cnt[NL] = { 0 }, total = 0, used = 0;
	for (int i = 0; i < 200; i++) {
		cl[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(cl[i], (void *)&a, sizeof(a)))
			printf("connect %d: %s\n", i, errname(errno));
	}
	for (int i = 0; i < NL; i++) {
		cnt[i] = drain_accept(l[i]);
		total += cnt[i];
		used += cnt[i] > 0;
	}
	printf("accepted: %d, listeners used: %d\n", total, used);
	for (int i = 0; i < 200; i++)
		close(cl[i]);
	/* One member gone: the others take everything. */
	close(l[0]);
	for (int i = 0; i < 100; i++) {
		cl[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(cl[i], (void *)&a, sizeof(a)))
			printf("connect %d: %s\n", i, errname(errno));
	}
	total = used = 0;
	for (int i = 1; i < NL; i++) {
		int n = drain_accept(l[i]);
		total += n;
		used += n > 0;
	}
	printf("after closing one: accepted %d, listeners used: %d\n", total, used);
	for (int i = 0; i < 100; i++)
		close(cl[i]);
	for (int i = 1; i < NL; i++)
		close(l[i]);
}

static void reuseport_udp(void)
{
	printf("-- reuseport udp\n");
	int u[NL];
	u[0] = mk(SOCK_DGRAM, 0, 1);
	int port = port_of(u[0]);
	for (int i = 1; i < NL; i++)
		u[i] = mk(SOCK_DGRAM, port, 1);
	struct sockaddr_in a = lo4(port);
	for (int i = 0; i < 200; i++) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		sendto(s, "x", 1, 0, (void *)&a, sizeof(a));
		close(s);
	}
	int total = 0, used = 0;
	for (int i = 0; i < NL; i++) {
		int n = drain_recv(u[i]);
		total += n;
		used += n > 0;
	}
	printf("200 sources: received %d, sockets used: %d\n", total, used);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	for (int i = 0; i < 50; i++)
		sendto(s, "y", 1, 0, (void *)&a, sizeof(a));
	total = used = 0;
	for (int i = 0; i < NL; i++) {
		int n = drain_recv(u[i]);
		total += n;
		used += n > 0;
	}
	printf("one source: received %d, sockets used: %d\n", total, used);
	/* A member connected to s: everything from s, nothing from others. */
	struct sockaddr_in sa = lo4(port_of(s));
	connect(u[2], (void *)&sa, sizeof(sa));
	for (int i = 0; i < 20; i++)
		sendto(s, "z", 1, 0, (void *)&a, sizeof(a));
	printf("connected member gets from its peer: %d of 20\n", drain_recv(u[2]));
	for (int i = 0; i < NL; i++)
		drain_recv(u[i]);
	for (int i = 0; i < 100; i++) {
		int o = socket(AF_INET, SOCK_DGRAM, 0);
		sendto(o, "w", 1, 0, (void *)&a, sizeof(a));
		close(o);
	}
	total = used = 0;
	for (int i = 0; i < NL; i++) {
		int n = drain_recv(u[i]);
		if (i == 2)
			printf("connected member gets from 100 others: %d\n", n);
		else
			used += n > 0;
		total += n;
	}
	printf("others: received %d, unconnected members used: %d\n", total, used);
	close(s);
	for (int i = 0; i < NL; i++)
		close(u[i]);
}

/* A connected UDP socket is preferred on its port, whichever bound first. */
static void udp_connected_preferred(void)
{
	printf("-- udp connected preferred\n");
	int one = 1;
	for (int order = 0; order < 2; order++) {
		int peer = mk(SOCK_DGRAM, 0, 0), other = socket(AF_INET, SOCK_DGRAM, 0);
		int a, b; /* a unconnected, b connected to peer */
		int first = mk(SOCK_DGRAM, 0, 1), port = port_of(first);
		int second = mk(SOCK_DGRAM, port, 1);
		a = order ? second : first;
		b = order ? first : second;
		struct sockaddr_in q = lo4(port_of(peer)), p = lo4(port);
		connect(b, (void *)&q, sizeof(q));
		for (int i = 0; i < 20; i++)
			sendto(peer, "x", 1, 0, (void *)&p, sizeof(p));
		int na = drain_recv(a), nb = drain_recv(b);
		printf("%s, from peer: unconnected %d, connected %d\n",
		       order ? "connected first" : "unconnected first", na, nb);
		for (int i = 0; i < 20; i++)
			sendto(other, "x", 1, 0, (void *)&p, sizeof(p));
		na = drain_recv(a);
		nb = drain_recv(b);
		printf("%s, from another: unconnected %d, connected %d\n",
		       order ? "connected first" : "unconnected first", na, nb);
		close(a);
		close(b);
		close(peer);
		close(other);
	}
	/* A connected wildcard socket beats an unconnected 127.0.0.1 one. */
	int peer = mk(SOCK_DGRAM, 0, 0);
	int spec = mk(SOCK_DGRAM, 0, 0), port = port_of(spec);
	int wild = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(spec, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(wild, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(port) };
	printf("bind wildcard beside 127.0.0.1: %s\n", bind(wild, (void *)&any, sizeof(any)) ? errname(errno) : "ok");
	struct sockaddr_in q = lo4(port_of(peer)), p = lo4(port);
	connect(wild, (void *)&q, sizeof(q));
	for (int i = 0; i < 10; i++)
		sendto(peer, "x", 1, 0, (void *)&p, sizeof(p));
	int ns = drain_recv(spec), nw = drain_recv(wild);
	printf("specific unconnected %d, wildcard connected %d\n", ns, nw);
	close(peer);
	close(spec);
	close(wild);
}

/* ---- control messages ---- */

static long cmsg_send(int fd, const struct sockaddr_in *to, int level, int type, const void *d,
		      int dl, int level2, int type2, int v2)
{
	char cb[CMSG_SPACE(16) * 2];
	memset(cb, 0, sizeof(cb));
	struct cmsghdr *c = (void *)cb;
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(dl);
	memcpy(CMSG_DATA(c), d, dl);
	size_t len = CMSG_SPACE(dl);
	if (level2 >= 0) {
		struct cmsghdr *c2 = (void *)(cb + len);
		c2->cmsg_level = level2;
		c2->cmsg_type = type2;
		c2->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c2), &v2, sizeof(int));
		len += CMSG_SPACE(sizeof(int));
	}
	struct iovec iv = { "abc", 3 };
	struct msghdr m = { .msg_name = (void *)to, .msg_namelen = to ? sizeof(*to) : 0,
			    .msg_iov = &iv, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = len };
	return E(sendmsg(fd, &m, MSG_NOSIGNAL));
}

static void cmsgs(int fd, const struct sockaddr_in *to, const char *nm, bool all)
{
	int zero = 0, one = 1, seven = 7, tsbad = 1 << 4 /* RX_SOFTWARE */, ts = 1 << 1;
	struct { int pid, uid, gid; } cr = { getpid(), getuid(), getgid() };
	char w[80];
#define T(label, ...) do { snprintf(w, sizeof(w), "%s %s", nm, label); resv(w, cmsg_send(fd, to, __VA_ARGS__)); } while (0)
	if (all) {
		T("SCM_RIGHTS", SOL_SOCKET, SCM_RIGHTS, &zero, 4, -1, 0, 0);
		T("SCM_RIGHTS bad fd", SOL_SOCKET, SCM_RIGHTS, &seven, 4, -1, 0, 0);
		T("SCM_CREDENTIALS", SOL_SOCKET, SCM_CREDENTIALS, &cr, sizeof(cr), -1, 0, 0);
		T("SO_TIMESTAMPING tx", SOL_SOCKET, SO_TIMESTAMPING, &ts, 4, -1, 0, 0);
		T("SO_TIMESTAMPING rx flag", SOL_SOCKET, SO_TIMESTAMPING, &tsbad, 4, -1, 0, 0);
		T("SO_MARK short", SOL_SOCKET, SO_MARK, &one, 2, -1, 0, 0);
		T("SCM_TXTIME", SOL_SOCKET, SO_TXTIME, (long long[]){ 0 }, 8, -1, 0, 0);
		T("SOL_SOCKET type 999", SOL_SOCKET, 999, &zero, 4, -1, 0, 0);
		T("IPPROTO_TCP type 1", IPPROTO_TCP, 1, &zero, 4, -1, 0, 0);
	}
	T("SO_MARK", SOL_SOCKET, SO_MARK, &one, 4, -1, 0, 0);
	T("SO_PRIORITY 6", SOL_SOCKET, SO_PRIORITY, (int[]){ 6 }, 4, -1, 0, 0);
	T("SO_PRIORITY 7", SOL_SOCKET, SO_PRIORITY, &seven, 4, -1, 0, 0);
	T("SO_MARK then IP_TTL 0", SOL_SOCKET, SO_MARK, &one, 4, IPPROTO_IP, IP_TTL, 0);
	T("IP_TTL 0 then SO_MARK", IPPROTO_IP, IP_TTL, &zero, 4, SOL_SOCKET, SO_MARK, 1);
#undef T
}

static long capset_eff_without(int c1, int c2)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (rsys(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~((1u << c1) | (1u << c2));
	return rsys(SYS_capset, &h, d);
}

static void control_messages(void)
{
	printf("-- control messages\n");
	int l = mk(SOCK_STREAM, 0, 0);
	struct sockaddr_in a = lo4(port_of(l));
	int c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (void *)&a, sizeof(a));
	int u = socket(AF_INET, SOCK_DGRAM, 0), r = mk(SOCK_DGRAM, 0, 0);
	struct sockaddr_in ua = lo4(port_of(r));
	cmsgs(c, NULL, "tcp", true);
	cmsgs(u, &ua, "udp", true);
	printf("udp datagrams received: %d\n", drain_recv(r));
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		res("drop CAP_NET_RAW and CAP_NET_ADMIN", capset_eff_without(CAP_NET_RAW, CAP_NET_ADMIN));
		cmsgs(c, NULL, "unprivileged tcp", false);
		cmsgs(u, &ua, "unprivileged udp", false);
		fflush(stdout);
		_exit(0);
	}
	waitpid(p, NULL, 0);
	close(c);
	close(u);
	close(r);
	close(l);
}

/* ---- a listener shut down ---- */

static const char *same(int p, int old) { return p == old ? "same" : p == 0 ? "0" : "other"; }

static void relisten(const char *what, bool explicit_port)
{
	int port = 0;
	if (explicit_port) { /* a free port, then named by bind */
		int t = mk(SOCK_STREAM, 0, 0);
		port = port_of(t);
		close(t);
	}
	int l = mk(SOCK_STREAM, port, 0);
	int p1 = port_of(l);
	res("  shutdown", E(shutdown(l, SHUT_RDWR)));
	int p2 = port_of(l);
	int b = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(p1);
	long br = E(bind(b, (void *)&a, sizeof(a)));
	close(b);
	res("  listen again", E(listen(l, 5)));
	int p3 = port_of(l);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	long cr = E(connect(c, (void *)&a, sizeof(a)));
	printf("%s: port after shutdown %s, after listen %s; bind old port %s; connect old port %s\n",
	       what, same(p2, p1), same(p3, p1), rstr(br), rstr(cr));
	close(c);
	close(l);
}

static void relisten_all(void)
{
	printf("-- listen after shutdown\n");
	relisten("port 0 bound", false);
	relisten("port named", true);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	listen(l, 5);
	int p1 = port_of(l);
	shutdown(l, SHUT_RDWR);
	int p2 = port_of(l);
	listen(l, 5);
	printf("never bound: after shutdown %s, after listen %s\n", same(p2, p1), same(port_of(l), p1));
	close(l);
}

/* ---- TCP_INFO's state ---- */

static int tstate(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	/* Loopback answers at once; give a FIN's ACK a moment natively. */
	for (int i = 0; i < 100; i++) {
		memset(&ti, 0, sizeof(ti));
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
			return -errno;
		if (ti.tcpi_state != TCP_FIN_WAIT1 && ti.tcpi_state != TCP_LAST_ACK &&
		    ti.tcpi_state != TCP_SYN_SENT && ti.tcpi_state != TCP_SYN_RECV)
			break;
		usleep(10000);
	}
	return ti.tcpi_state;
}

static void rdhup(int fd)
{
	struct pollfd p = { fd, POLLRDHUP, 0 };
	poll(&p, 1, 2000);
}

static void pair(int l, int *c, int *s)
{
	struct sockaddr_in a = lo4(port_of(l));
	*c = socket(AF_INET, SOCK_STREAM, 0);
	connect(*c, (void *)&a, sizeof(a));
	*s = accept(l, NULL, NULL);
}

static void tcp_states(void)
{
	printf("-- tcp_info state\n");
	int l = mk(SOCK_STREAM, 0, 0), c, s;
	printf("listener: %d\n", tstate(l));
	int fresh = socket(AF_INET, SOCK_STREAM, 0);
	printf("fresh: %d\n", tstate(fresh));
	close(fresh);
	pair(l, &c, &s);
	printf("established: client %d, server %d\n", tstate(c), tstate(s));
	shutdown(c, SHUT_RD);
	printf("client SHUT_RD: %d\n", tstate(c));
	shutdown(s, SHUT_WR);
	rdhup(c);
	printf("server SHUT_WR: server %d, client %d\n", tstate(s), tstate(c));
	shutdown(c, SHUT_WR);
	rdhup(s);
	printf("then client SHUT_WR: client %d, server %d\n", tstate(c), tstate(s));
	close(c);
	close(s);
	pair(l, &c, &s);
	close(s);
	rdhup(c);
	printf("peer closed: %d\n", tstate(c));
	close(c);
	pair(l, &c, &s);
	send(c, "data", 4, 0);
	usleep(20000);
	close(s); /* unread data: a reset */
	rdhup(c);
	printf("peer reset: %d\n", tstate(c));
	close(c);
	shutdown(l, SHUT_RDWR);
	printf("listener shut down: %d\n", tstate(l));
	close(l);
}

/* ---- interface ioctls ---- */

static void ifreq_ioctls(int fam, const char *nm)
{
	int s = socket(fam, SOCK_DGRAM, 0);
	struct ifreq r;
	char w[64];
#define Q(label, cmd, name, idx) ({ memset(&r, 0, sizeof(r)); strcpy(r.ifr_name, name); r.ifr_ifindex = idx; \
	snprintf(w, sizeof(w), "%s %s", nm, label); long __e = E(ioctl(s, cmd, &r)); \
	if (__e) \
		printf("%s: %s\n", w, errname(-__e)); \
	__e; })
	if (!Q("SIOCGIFINDEX lo", SIOCGIFINDEX, "lo", 0))
		printf("%s: %d\n", w, r.ifr_ifindex);
	Q("SIOCGIFINDEX nonexist0", SIOCGIFINDEX, "nonexist0", 0);
	if (!Q("SIOCGIFINDEX lo:0", SIOCGIFINDEX, "lo:0", 0))
		printf("%s: %d\n", w, r.ifr_ifindex);
	if (!Q("SIOCGIFNAME 1", SIOCGIFNAME, "", 1))
		printf("%s: %s\n", w, r.ifr_name);
	Q("SIOCGIFNAME 0", SIOCGIFNAME, "", 0);
	if (!Q("SIOCGIFFLAGS lo", SIOCGIFFLAGS, "lo", 0))
		printf("%s: %#x\n", w, r.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_BROADCAST));
	if (!Q("SIOCGIFMTU lo", SIOCGIFMTU, "lo", 0))
		printf("%s: %d\n", w, r.ifr_mtu);
	Q("SIOCGIFMTU nonexist0", SIOCGIFMTU, "nonexist0", 0);
	if (!Q("SIOCGIFADDR lo", SIOCGIFADDR, "lo", 0))
		printf("%s: family %d %s\n", w, r.ifr_addr.sa_family,
		       inet_ntoa(((struct sockaddr_in *)&r.ifr_addr)->sin_addr));
	if (!Q("SIOCGIFNETMASK lo", SIOCGIFNETMASK, "lo", 0))
		printf("%s: %s\n", w, inet_ntoa(((struct sockaddr_in *)&r.ifr_netmask)->sin_addr));
	Q("SIOCGIFADDR lo:0", SIOCGIFADDR, "lo:0", 0);
	Q("SIOCGIFADDR nonexist0", SIOCGIFADDR, "nonexist0", 0);
#undef Q
	char cb[4096];
	struct ifconf ic = { .ifc_len = sizeof(cb), .ifc_buf = cb };
	long e = E(ioctl(s, SIOCGIFCONF, &ic));
	int haslo = 0;
	for (int i = 0; !e && i < ic.ifc_len / (int)sizeof(struct ifreq); i++)
		if (!strcmp(ic.ifc_req[i].ifr_name, "lo") &&
		    ((struct sockaddr_in *)&ic.ifc_req[i].ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
			haslo = 1;
	printf("%s SIOCGIFCONF: %s, lo 127.0.0.1 listed %d\n", nm, rstr(e), haslo);
	ic.ifc_len = sizeof(struct ifreq) - 1;
	e = E(ioctl(s, SIOCGIFCONF, &ic));
	printf("%s SIOCGIFCONF short buffer: %s, length %d\n", nm, rstr(e), ic.ifc_len);
	res("SIOCGIFINDEX bad pointer", E(ioctl(s, SIOCGIFINDEX, (void *)8)));
	close(s);
}

static void interfaces(void)
{
	printf("-- interfaces\n");
	ifreq_ioctls(AF_INET, "inet");
	ifreq_ioctls(AF_INET6, "inet6");
	ifreq_ioctls(AF_UNIX, "unix");
	printf("if_nametoindex(lo): %u\n", if_nametoindex("lo"));
	errno = 0;
	unsigned i = if_nametoindex("nonexist0");
	printf("if_nametoindex(nonexist0): %u %s\n", i, errname(errno));
	char nb[IF_NAMESIZE];
	printf("if_indextoname(1): %s\n", if_indextoname(1, nb) ? nb : errname(errno));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	reuseport_tcp();
	reuseport_udp();
	udp_connected_preferred();
	control_messages();
	relisten_all();
	tcp_states();
	interfaces();
	return 0;
}
