/* Receive and accept edges of stream sockets (AF_UNIX stream and
 * seqpacket, loopback TCP) and MSG_ERRQUEUE across families:
 *  - shutdown() of an AF_UNIX listener ends an accept blocked on it
 *    (EINVAL: unix_accept's skb_recv_datagram stops at RCV_SHUTDOWN);
 *  - recv() into an empty buffer waits for data like any recv
 *    (sock_rcvlowat's target is at least 1) and leaves it queued, while
 *    read() of nothing returns 0 at once (sock_read_iter);
 *  - MSG_ERRQUEUE on TCP and UDP reads the (empty) error queue: EAGAIN,
 *    never data, never a wait; AF_UNIX ignores the flag.
 * Blocking cases run in a thread; the main thread checks it is still
 * waiting, then releases it; a call that never returns is reported and
 * interrupted with a signal, and alarm() ends a run that would hang. */
#include "util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <stddef.h>

#define SHOW(label, x) do { long __r = (long)(x); \
	if (__r < 0) printf("%s: %s\n", label, errname(errno)); \
	else printf("%s: %ld\n", label, __r); } while (0)

/* ---- a call blocked in another thread ------------------------------------ */

enum { B_ACCEPT, B_RECV, B_READ, B_RECVMSG };

struct blocker {
	pthread_t th;
	int kind, fd, flags;
	size_t len;
	_Atomic int tid, done;
	long ret;
	int err, msg_flags, controllen;
	char buf[16];
};

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;
	b->tid = (int)rsys(SYS_gettid);
	long r;
	if (b->kind == B_ACCEPT) {
		r = accept(b->fd, NULL, NULL);
		if (r >= 0) { /* no fd numbers in the output */
			close((int)r);
			r = 0;
		}
	} else if (b->kind == B_RECV) {
		r = recv(b->fd, b->buf, b->len, b->flags);
	} else if (b->kind == B_READ) {
		r = read(b->fd, b->buf, b->len);
	} else {
		char cbuf[128];
		struct iovec iov = { b->buf, b->len };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof cbuf };
		r = recvmsg(b->fd, &m, b->flags);
		b->msg_flags = m.msg_flags;
		b->controllen = (int)m.msg_controllen;
	}
	b->err = r < 0 ? errno : 0;
	b->ret = r;
	b->done = 1;
	return NULL;
}

/* Until the call returned or the thread sleeps (its state in /proc),
 * then a little more. */
static void wait_blocked(struct blocker *b)
{
	char path[64], st[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)b->tid);
	for (int i = 0; i < 2000 && !b->done; i++) {
		int fd = open(path, O_RDONLY);
		if (fd >= 0) {
			long n = read(fd, st, sizeof st - 1);
			close(fd);
			if (n > 0) {
				st[n] = 0;
				char *q = strrchr(st, ')');
				if (q && q[1] == ' ' && q[2] == 'S')
					break;
			}
		}
		usleep(1000);
	}
	if (!b->done)
		usleep(100 * 1000);
}

static void start(struct blocker *b, int kind, int fd, size_t len, int flags)
{
	memset(b, 0, sizeof *b);
	b->kind = kind;
	b->fd = fd;
	b->len = len;
	b->flags = flags;
	pthread_create(&b->th, NULL, blocker_main, b);
	while (!b->tid)
		usleep(1000);
	wait_blocked(b);
}

static void on_usr1(int sig) { (void)sig; }

/* The call's result once it returns; one that does not within 3 s is
 * reported and interrupted (SIGUSR1 without SA_RESTART). */
static void finish(struct blocker *b, const char *label)
{
	for (int i = 0; i < 3000 && !b->done; i++)
		usleep(1000);
	if (!b->done) {
		printf("%s: still blocked\n", label);
		pthread_kill(b->th, SIGUSR1);
		pthread_join(b->th, NULL);
		return;
	}
	pthread_join(b->th, NULL);
	if (b->ret < 0)
		printf("%s: %s\n", label, errname(b->err));
	else if (b->kind == B_RECVMSG)
		printf("%s: %ld \"%.*s\" msg_flags %#x controllen %d\n", label, b->ret, (int)b->ret,
		       b->buf, b->msg_flags, b->controllen);
	else
		printf("%s: %ld\n", label, b->ret);
}

/* ---- sockets ------------------------------------------------------------------------ */

static socklen_t unix_name(struct sockaddr_un *a, const char *tag)
{
	/* Abstract, and per process: native runs of the three builds may
	 * overlap. */
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "sse-%s-%d", tag, (int)getpid());
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static int unix_listener(int type, const char *tag, struct sockaddr_un *a, socklen_t *al)
{
	int l = socket(AF_UNIX, type, 0);
	*al = unix_name(a, tag);
	if (bind(l, (void *)a, *al) < 0 || listen(l, 4) < 0)
		printf("unix listener %s: %s\n", tag, errname(errno));
	return l;
}

static int tcp_listener(int family, struct sockaddr_storage *a, socklen_t *al)
{
	int l = socket(family, SOCK_STREAM, 0);
	memset(a, 0, sizeof *a);
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)a;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*al = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (void *)a;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		*al = sizeof *in6;
	}
	if (bind(l, (void *)a, *al) < 0 || listen(l, 4) < 0 || getsockname(l, (void *)a, al) < 0)
		printf("tcp listener: %s\n", errname(errno));
	return l;
}

/* A connected loopback TCP pair. */
static void tcp_pair(int family, int sv[2])
{
	struct sockaddr_storage a;
	socklen_t al;
	int l = tcp_listener(family, &a, &al);
	sv[0] = socket(family, SOCK_STREAM, 0);
	if (connect(sv[0], (void *)&a, al) < 0)
		printf("tcp connect: %s\n", errname(errno));
	sv[1] = accept(l, NULL, NULL);
	close(l);
}

static void pair_of(const char *kind, int sv[2])
{
	if (!strcmp(kind, "tcp"))
		tcp_pair(AF_INET, sv);
	else
		socketpair(AF_UNIX, !strcmp(kind, "unix stream") ? SOCK_STREAM : SOCK_SEQPACKET, 0, sv);
}

/* Wait until fd has something to read (loopback delivery is immediate
 * on Linux; this only makes it certain). */
static void await_data(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	poll(&p, 1, 5000);
}

static int inq(int fd)
{
	int n = -1;
	if (ioctl(fd, FIONREAD, &n) < 0)
		return -errno;
	return n;
}

/* ---- 1: accept and shutdown of an AF_UNIX listener ------------------------------- */

static void accept_shutdown(int type, const char *name)
{
	char lbl[128];
	struct sockaddr_un a;
	socklen_t al;
	struct blocker b;
	printf("-- accept, %s listener shut down\n", name);

	/* Blocked accept; SHUT_RDWR from another thread ends it. */
	int l = unix_listener(type, "a", &a, &al);
	start(&b, B_ACCEPT, l, 0, 0);
	printf("accept waiting before shutdown: %d\n", !b.done);
	SHOW("shutdown(SHUT_RDWR)", shutdown(l, SHUT_RDWR));
	finish(&b, "blocked accept after shutdown");
	start(&b, B_ACCEPT, l, 0, 0);
	finish(&b, "blocking accept after shutdown");
	fcntl(l, F_SETFL, O_NONBLOCK);
	SHOW("non-blocking accept after shutdown", accept(l, NULL, NULL));
	int c = socket(AF_UNIX, type, 0);
	SHOW("connect to the shut-down listener", connect(c, (void *)&a, al));
	close(c);
	close(l);

	/* SHUT_RD alone is enough. */
	l = unix_listener(type, "b", &a, &al);
	start(&b, B_ACCEPT, l, 0, 0);
	SHOW("shutdown(SHUT_RD)", shutdown(l, SHUT_RD));
	finish(&b, "blocked accept after SHUT_RD");
	close(l);

	/* SHUT_WR is not: the accept goes on waiting for a connection. */
	l = unix_listener(type, "c", &a, &al);
	start(&b, B_ACCEPT, l, 0, 0);
	SHOW("shutdown(SHUT_WR)", shutdown(l, SHUT_WR));
	usleep(100 * 1000);
	printf("accept still waiting after SHUT_WR: %d\n", !b.done);
	c = socket(AF_UNIX, type, 0);
	SHOW("connect after SHUT_WR", connect(c, (void *)&a, al));
	finish(&b, "accept after SHUT_WR and a connect");
	close(c);
	close(l);

	/* A connection queued before the shutdown is still handed out. */
	l = unix_listener(type, "d", &a, &al);
	c = socket(AF_UNIX, type, 0);
	SHOW("connect before shutdown", connect(c, (void *)&a, al));
	SHOW("shutdown(SHUT_RDWR) with one queued", shutdown(l, SHUT_RDWR));
	long r = accept(l, NULL, NULL);
	snprintf(lbl, sizeof lbl, "accept of the queued connection");
	lres(lbl, r);
	if (r >= 0)
		close((int)r);
	start(&b, B_ACCEPT, l, 0, 0);
	finish(&b, "accept after the queue emptied");
	close(c);
	close(l);
}

static void tcp_accept_shutdown(void)
{
	struct sockaddr_storage a;
	socklen_t al;
	struct blocker b;
	printf("-- accept, tcp listener shut down\n");
	int l = tcp_listener(AF_INET, &a, &al);
	start(&b, B_ACCEPT, l, 0, 0);
	SHOW("shutdown(SHUT_RD)", shutdown(l, SHUT_RD));
	finish(&b, "blocked accept after shutdown");
	SHOW("accept after shutdown", accept(l, NULL, NULL));
	close(l);
}

/* ---- 2: receiving into an empty buffer ---------------------------------------------- */

static void recv_nothing(const char *kind)
{
	char buf[8], lbl[128];
	int sv[2];
	struct blocker b;
	printf("-- recv of 0 bytes, %s\n", kind);
	pair_of(kind, sv);
#define L(what) (snprintf(lbl, sizeof lbl, "%s: %s", kind, what), lbl)
	SHOW(L("recv(0, MSG_DONTWAIT) empty"), recv(sv[0], buf, 0, MSG_DONTWAIT));
	SHOW(L("recv(0, MSG_WAITALL|MSG_DONTWAIT) empty"), recv(sv[0], buf, 0, MSG_WAITALL | MSG_DONTWAIT));
	SHOW(L("recv(0, MSG_PEEK|MSG_DONTWAIT) empty"), recv(sv[0], buf, 0, MSG_PEEK | MSG_DONTWAIT));
	SHOW(L("read(0) empty"), read(sv[0], buf, 0));
	struct iovec none = { buf, 0 };
	SHOW(L("readv(empty iovec) empty"), readv(sv[0], &none, 1));
	struct msghdr m = { .msg_iov = &none, .msg_iovlen = 1 };
	SHOW(L("recvmsg(empty iovec, MSG_DONTWAIT) empty"), recvmsg(sv[0], &m, MSG_DONTWAIT));

	/* Blocking: waits for data, returns 0, leaves it queued. */
	start(&b, B_RECV, sv[0], 0, 0);
	printf("%s: recv(0) waiting on an empty socket: %d\n", kind, !b.done);
	SHOW(L("send"), send(sv[1], "abc", 3, 0));
	finish(&b, L("recv(0) once data came"));
	printf("%s: bytes still queued: %d\n", kind, inq(sv[0]));
	SHOW(L("send"), send(sv[1], "de", 2, 0));
	SHOW(L("send"), send(sv[1], "fgh", 3, 0));

	SHOW(L("recv(0, MSG_DONTWAIT) with data"), recv(sv[0], buf, 0, MSG_DONTWAIT));
	memset(&m, 0, sizeof m);
	m.msg_iov = &none;
	m.msg_iovlen = 1;
	SHOW(L("recvmsg(empty iovec) with data"), recvmsg(sv[0], &m, MSG_DONTWAIT));
	printf("%s: msg_flags %#x\n", kind, m.msg_flags);
	SHOW(L("recv(8) after"), recv(sv[0], buf, sizeof buf, MSG_DONTWAIT));

	/* The peer's end of writing: 0 at once. */
	SHOW(L("peer shutdown(SHUT_WR)"), shutdown(sv[1], SHUT_WR));
	await_data(sv[0]);
	SHOW(L("recv(0) after the peer's SHUT_WR"), recv(sv[0], buf, 0, 0));
	close(sv[0]);
	close(sv[1]);
#undef L
}

/* Sockets with nothing to receive from: the protocol's error for a
 * recv, but read of nothing is 0 before the protocol looks. */
static void recv_nothing_unconnected(void)
{
	char buf[8];
	printf("-- recv of 0 bytes, unconnected\n");
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("unix stream unconnected: recv(0, MSG_DONTWAIT)", recv(u, buf, 0, MSG_DONTWAIT));
	SHOW("unix stream unconnected: read(0)", read(u, buf, 0));
	close(u);
	u = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	SHOW("unix seqpacket unconnected: recv(0, MSG_DONTWAIT)", recv(u, buf, 0, MSG_DONTWAIT));
	SHOW("unix seqpacket unconnected: read(0)", read(u, buf, 0));
	close(u);
	int t = socket(AF_INET, SOCK_STREAM, 0);
	SHOW("tcp unconnected: recv(0, MSG_DONTWAIT)", recv(t, buf, 0, MSG_DONTWAIT));
	SHOW("tcp unconnected: recv(0)", recv(t, buf, 0, 0));
	SHOW("tcp unconnected: read(0)", read(t, buf, 0));
	struct sockaddr_storage a;
	socklen_t al;
	int l = tcp_listener(AF_INET, &a, &al);
	SHOW("tcp listener: recv(0, MSG_DONTWAIT)", recv(l, buf, 0, MSG_DONTWAIT));
	SHOW("tcp listener: read(0)", read(l, buf, 0));
	close(l);
	close(t);
	struct sockaddr_un ua;
	socklen_t ual;
	l = unix_listener(SOCK_STREAM, "r", &ua, &ual);
	SHOW("unix listener: recv(0, MSG_DONTWAIT)", recv(l, buf, 0, MSG_DONTWAIT));
	SHOW("unix listener: read(0)", read(l, buf, 0));
	close(l);
	/* Datagrams: read of nothing is 0 at once too, a recv of nothing
	 * waits for a datagram. */
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	struct blocker b;
	start(&b, B_READ, sv[0], 0, 0);
	finish(&b, "unix dgram: read(0) empty");
	SHOW("unix dgram: recv(0, MSG_DONTWAIT) empty", recv(sv[0], buf, 0, MSG_DONTWAIT));
	close(sv[0]);
	close(sv[1]);
	int d = socket(AF_INET, SOCK_DGRAM, 0);
	start(&b, B_READ, d, 0, 0);
	finish(&b, "udp: read(0) empty");
	SHOW("udp: recv(0, MSG_DONTWAIT) empty", recv(d, buf, 0, MSG_DONTWAIT));
	close(d);
}

/* ---- 3 and 4: MSG_ERRQUEUE -------------------------------------------------------------- */

/* recvmsg(MSG_ERRQUEUE | flags), in a thread: one that should not wait
 * but does is reported, not hung on. */
static void errq(const char *label, int fd, int flags)
{
	struct blocker b;
	start(&b, B_RECVMSG, fd, sizeof b.buf, MSG_ERRQUEUE | flags);
	finish(&b, label);
}

static void errqueue_inet(void)
{
	char buf[8];
	printf("-- MSG_ERRQUEUE, tcp and udp\n");
	int t = socket(AF_INET, SOCK_STREAM, 0);
	errq("tcp unconnected", t, 0);
	errq("tcp unconnected, MSG_OOB", t, MSG_OOB);
	close(t);
	t = socket(AF_INET6, SOCK_STREAM, 0);
	errq("tcp6 unconnected", t, 0);
	close(t);
	struct sockaddr_storage a;
	socklen_t al;
	int l = tcp_listener(AF_INET, &a, &al);
	errq("tcp listener", l, 0);
	close(l);
	int sv[2];
	tcp_pair(AF_INET, sv);
	errq("tcp connected, empty", sv[0], 0);
	SHOW("tcp send", send(sv[1], "xyz", 3, 0));
	await_data(sv[0]);
	errq("tcp connected, data queued", sv[0], 0);
	errq("tcp connected, data queued, MSG_PEEK", sv[0], MSG_PEEK);
	printf("tcp bytes still queued: %d\n", inq(sv[0]));
	SHOW("tcp recv", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT));
	SHOW("tcp peer shutdown(SHUT_WR)", shutdown(sv[1], SHUT_WR));
	await_data(sv[0]);
	errq("tcp after the peer's FIN", sv[0], 0);
	close(sv[0]);
	close(sv[1]);
	tcp_pair(AF_INET6, sv);
	SHOW("tcp6 send", send(sv[1], "xyz", 3, 0));
	await_data(sv[0]);
	errq("tcp6 connected, data queued", sv[0], 0);
	close(sv[0]);
	close(sv[1]);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	errq("udp unbound", u, 0);
	errq("udp unbound, MSG_OOB", u, MSG_OOB);
	struct sockaddr_in ua = { .sin_family = AF_INET };
	ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t ual = sizeof ua;
	bind(u, (void *)&ua, sizeof ua);
	getsockname(u, (void *)&ua, &ual);
	SHOW("udp sendto self", sendto(u, "dg", 2, 0, (void *)&ua, sizeof ua));
	await_data(u);
	errq("udp with a datagram queued", u, 0);
	SHOW("udp recv MSG_OOB (ignored by UDP)", recv(u, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT));
	SHOW("udp recv MSG_OOB, empty", recv(u, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT));
	close(u);
}

static void errqueue_unix(void)
{
	char buf[8];
	struct blocker b;
	int sv[2];
	printf("-- MSG_ERRQUEUE, unix\n");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	errq("unix dgram empty, MSG_DONTWAIT", sv[0], MSG_DONTWAIT);
	SHOW("unix dgram send", send(sv[1], "hi", 2, 0));
	errq("unix dgram with data", sv[0], MSG_DONTWAIT);
	SHOW("unix dgram plain recv after", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT));
	errq("unix dgram, MSG_OOB", sv[0], MSG_OOB | MSG_DONTWAIT);
	start(&b, B_RECV, sv[0], sizeof b.buf, MSG_ERRQUEUE);
	printf("unix dgram blocking MSG_ERRQUEUE waiting: %d\n", !b.done);
	SHOW("unix dgram send", send(sv[1], "later", 5, 0));
	finish(&b, "unix dgram blocking MSG_ERRQUEUE once data came");
	close(sv[0]);
	close(sv[1]);

	static const char *const kinds[] = { "unix stream", "unix seqpacket" };
	for (int k = 0; k < 2; k++) {
		char lbl[128];
		pair_of(kinds[k], sv);
		snprintf(lbl, sizeof lbl, "%s empty, MSG_DONTWAIT", kinds[k]);
		errq(lbl, sv[0], MSG_DONTWAIT);
		send(sv[1], "hi", 2, 0);
		snprintf(lbl, sizeof lbl, "%s with data", kinds[k]);
		errq(lbl, sv[0], MSG_DONTWAIT);
		snprintf(lbl, sizeof lbl, "%s plain recv after", kinds[k]);
		SHOW(lbl, recv(sv[0], buf, sizeof buf, MSG_DONTWAIT));
		close(sv[0]);
		close(sv[1]);
	}
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	errq("unix stream unconnected", u, MSG_DONTWAIT);
	close(u);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	alarm(60); /* a call that never returns kills the run */
	accept_shutdown(SOCK_STREAM, "unix stream");
	accept_shutdown(SOCK_SEQPACKET, "unix seqpacket");
	tcp_accept_shutdown();
	recv_nothing("unix stream");
	recv_nothing("unix seqpacket");
	recv_nothing("tcp");
	recv_nothing_unconnected();
	errqueue_inet();
	errqueue_unix();
	return 0;
}
