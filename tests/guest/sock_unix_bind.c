/* AF_UNIX addresses: bind to a path (an S_IFSOCK node) and to the
 * abstract namespace, autobind, listen/connect/accept with the bytes of
 * getsockname/getpeername/accept, datagrams by address, and the errors:
 * EADDRINUSE, ECONNREFUSED, ENOENT, EPROTOTYPE, EINVAL, EISCONN, and a
 * full backlog with a non-blocking connect. Paths and names carry the
 * pid (native runs share /tmp); only lengths and comparisons print. */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define E(x) ({ long __r = (x); __r < 0 ? -errno : __r; })
#define PATH_OFF offsetof(struct sockaddr_un, sun_path)

static char dir[64];

static socklen_t path_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
	return PATH_OFF + strlen(a->sun_path) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "cocoon-%d-%s", getpid(), name);
	return PATH_OFF + 1 + n;
}

/* Print a returned address against the expected one. */
static void show(const char *label, const struct sockaddr_un *got, socklen_t len,
		 const struct sockaddr_un *want, socklen_t wlen)
{
	printf("%s: len %s family %d same %d\n", label, len == wlen ? "as bound" : "differs",
	       got->sun_family, len == wlen && !memcmp(got, want, len));
}

static void paths(void)
{
	struct sockaddr_un a, b, got;
	socklen_t al = path_addr(&a, "srv"), l;
	printf("-- path\n");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	l = sizeof(got);
	res("getsockname unbound", E(getsockname(s, (void *)&got, &l)));
	printf("unbound len %d family %d\n", (int)l, got.sun_family);
	res("listen unbound", E(listen(s, 1)));
	res("bind", E(bind(s, (void *)&a, sizeof(a))));
	struct stat st;
	res("stat node", E(stat(a.sun_path, &st)));
	printf("node is socket %d perm %o\n", S_ISSOCK(st.st_mode), st.st_mode & 0777);
	res("open node", E(open(a.sun_path, O_RDONLY)));
	res("bind again", E(bind(s, (void *)&a, sizeof(a))));
	path_addr(&b, "other");
	res("bind bound socket elsewhere", E(bind(s, (void *)&b, sizeof(b))));
	res("other left no node", E(access(b.sun_path, F_OK)));
	int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	res("bind taken path", E(bind(s2, (void *)&a, sizeof(a))));
	l = sizeof(got);
	getsockname(s, (void *)&got, &l);
	show("getsockname", &got, l, &a, al);
	res("connect not listening", E(connect(s2, (void *)&a, al)));
	res("listen", E(listen(s, 2)));
	int v = -1;
	socklen_t vl = sizeof(v);
	getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
	printf("SO_ACCEPTCONN %d\n", v);
	res("connect", E(connect(s2, (void *)&a, al)));
	res("connect again", E(connect(s2, (void *)&a, al)));
	res("connect listener", E(connect(s, (void *)&a, al)));
	l = sizeof(got);
	getpeername(s2, (void *)&got, &l);
	show("client getpeername", &got, l, &a, al);
	l = sizeof(got);
	int c = accept(s, (void *)&got, &l);
	printf("accepted %d addrlen %d family %d\n", c >= 0, (int)l, got.sun_family);
	l = sizeof(got);
	getsockname(c, (void *)&got, &l);
	show("accepted getsockname", &got, l, &a, al);
	l = sizeof(got);
	getpeername(c, (void *)&got, &l);
	printf("accepted getpeername len %d\n", (int)l);
	/* a short buffer gets the start, the length is the whole */
	l = 4;
	memset(&got, 0x55, sizeof(got));
	getsockname(c, (void *)&got, &l);
	printf("short getsockname len %s byte4 %#x\n", l == al ? "whole" : "other",
	       ((unsigned char *)&got)[4]);
	write(s2, "hi", 2);
	char buf[4] = { 0 };
	resv("read accepted", E(read(c, buf, sizeof(buf))));
	close(c);
	close(s2);

	/* an address without its terminator, and one of the full length */
	s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	resv("connect without NUL", E(connect(s2, (void *)&a, al - 1)));
	close(s2);
	struct sockaddr_un lng;
	memset(&lng, 0, sizeof(lng));
	lng.sun_family = AF_UNIX;
	int n = snprintf(lng.sun_path, sizeof(lng.sun_path), "%s/", dir);
	memset(lng.sun_path + n, 'x', sizeof(lng.sun_path) - n);
	int s3 = socket(AF_UNIX, SOCK_DGRAM, 0);
	res("bind 108-byte path", E(bind(s3, (void *)&lng, sizeof(lng))));
	l = sizeof(got) + 8;
	getsockname(s3, (void *)&got, &l);
	printf("108-byte getsockname len %d\n", (int)(l - sizeof(lng)));
	char p[120];
	memcpy(p, lng.sun_path, sizeof(lng.sun_path));
	p[sizeof(lng.sun_path)] = 0;
	unlink(p);
	close(s3);

	/* errors of the lookup */
	s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	path_addr(&b, "missing");
	res("connect missing", E(connect(s2, (void *)&b, sizeof(b))));
	path_addr(&b, "file");
	close(open(b.sun_path, O_CREAT | O_WRONLY, 0644));
	res("connect regular file", E(connect(s2, (void *)&b, sizeof(b))));
	unlink(b.sun_path);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	res("dgram connect to stream", E(connect(d, (void *)&a, al)));
	close(d);
	close(s2);

	/* unlinked node: the listener keeps its name, nobody finds it */
	unlink(a.sun_path);
	s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	res("connect unlinked", E(connect(s2, (void *)&a, al)));
	l = sizeof(got);
	getsockname(s, (void *)&got, &l);
	show("getsockname after unlink", &got, l, &a, al);
	close(s2);
	close(s);
}

static void abstract(void)
{
	struct sockaddr_un a, got;
	socklen_t al = abstract_addr(&a, "srv"), l;
	printf("-- abstract\n");
	int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	res("bind", E(bind(s, (void *)&a, al)));
	int s2 = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	res("bind same name", E(bind(s2, (void *)&a, al)));
	res("bind name + 1 byte", E(bind(s2, (void *)&a, al + 1)));
	close(s2);
	l = sizeof(got);
	getsockname(s, (void *)&got, &l);
	show("getsockname", &got, l, &a, al);
	listen(s, 4);
	s2 = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	res("connect", E(connect(s2, (void *)&a, al)));
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	res("stream connect to seqpacket name", E(connect(st, (void *)&a, al)));
	close(st);
	int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	printf("accept4 cloexec %d\n", fcntl(c, F_GETFD));
	send(s2, "one", 3, 0);
	send(s2, "two!", 4, 0);
	char buf[8];
	resv("record 1", E(recv(c, buf, sizeof(buf), 0)));
	resv("record 2", E(recv(c, buf, sizeof(buf), 0)));
	close(c);
	close(s2);
	close(s);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	res("name free after close", E(bind(s, (void *)&a, al)));
	close(s);
}

static void autobinds(void)
{
	struct sockaddr_un got;
	socklen_t l;
	printf("-- autobind\n");
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un fam = { .sun_family = AF_UNIX };
	res("bind family only", E(bind(s, (void *)&fam, sizeof(sa_family_t))));
	l = sizeof(got);
	getsockname(s, (void *)&got, &l);
	int hex = 1;
	for (int i = 1; i < 6; i++)
		hex &= !!strchr("0123456789abcdef", got.sun_path[i]);
	printf("autobind len %d abstract %d hex %d\n", (int)l, got.sun_path[0] == 0, hex);
	res("bind family only again", E(bind(s, (void *)&fam, sizeof(sa_family_t))));
	close(s);
	/* SO_PASSCRED binds a sender that has no name */
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int on = 1;
	setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	send(sv[0], "x", 1, 0);
	l = sizeof(got);
	char c;
	recvfrom(sv[1], &c, 1, 0, (void *)&got, &l);
	printf("passcred sender name len %d\n", (int)l);
	close(sv[0]);
	close(sv[1]);
}

static void datagrams(void)
{
	struct sockaddr_un a, b, got;
	socklen_t al = path_addr(&a, "dgram"), bl = abstract_addr(&b, "dgram"), l;
	char buf[16];
	printf("-- dgram\n");
	int r = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(r, (void *)&a, al);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	resv("sendto path", E(sendto(s, "hello", 5, 0, (void *)&a, al)));
	l = sizeof(got);
	memset(&got, 0x55, sizeof(got));
	resv("recvfrom", E(recvfrom(r, buf, sizeof(buf), 0, (void *)&got, &l)));
	printf("unnamed sender addrlen %d\n", (int)l);
	bind(s, (void *)&b, bl);
	sendto(s, "again", 5, 0, (void *)&a, al);
	l = sizeof(got);
	recvfrom(r, buf, sizeof(buf), 0, (void *)&got, &l);
	show("named sender", &got, l, &b, bl);
	resv("send unconnected", E(send(s, "x", 1, 0)));
	res("connect", E(connect(s, (void *)&a, al)));
	resv("send connected", E(send(s, "y", 1, 0)));
	resv("recv", E(recv(r, buf, sizeof(buf), 0)));
	/* r is connected to someone else: s may not send to it */
	int t = socket(AF_UNIX, SOCK_DGRAM, 0);
	res("r connects to b", E(connect(r, (void *)&b, bl)));
	resv("third party sendto", E(sendto(t, "z", 1, 0, (void *)&a, al)));
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	res("disconnect", E(connect(r, &unspec, sizeof(unspec))));
	resv("third party after", E(sendto(t, "z", 1, 0, (void *)&a, al)));
	close(t);
	/* the peer goes away */
	close(r);
	resv("send to closed peer", E(send(s, "w", 1, 0)));
	resv("send after that", E(send(s, "w", 1, 0)));
	unlink(a.sun_path);
	close(s);
}

static void backlog(void)
{
	struct sockaddr_un a;
	socklen_t al = abstract_addr(&a, "backlog");
	printf("-- backlog\n");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(s, (void *)&a, al);
	listen(s, 1);
	int c[4], i;
	for (i = 0; i < 4; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		long r = E(connect(c[i], (void *)&a, al));
		printf("connect %d: %s\n", i, rstr(r));
	}
	struct pollfd p = { s, POLLIN, 0 };
	int pn = poll(&p, 1, 0);
	printf("listener poll %d %#x\n", pn, p.revents);
	int n = accept(s, NULL, NULL);
	printf("accept %d\n", n >= 0);
	resv("connect after accept", E(connect(c[3], (void *)&a, al)));
	int fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl | O_NONBLOCK);
	int k = 0;
	while (accept(s, NULL, NULL) >= 0)
		k++;
	printf("accepted %d more, then %s\n", k, errname(errno));
	close(n);
	for (i = 0; i < 4; i++)
		close(c[i]);
	/* closing a listener with a pending connection resets it */
	int cl = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(cl, (void *)&a, al);
	close(s);
	char ch;
	resv("pending client after listener close", E(recv(cl, &ch, 1, 0)));
	close(cl);
}

/* connect and accept in two processes, the server blocking in accept */
static void across_fork(void)
{
	struct sockaddr_un a;
	socklen_t al = path_addr(&a, "fork");
	printf("-- fork\n");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(s, (void *)&a, al);
	listen(s, 8);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			int c = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(c, (void *)&a, al) < 0)
				_exit(1);
			char b[8];
			snprintf(b, sizeof(b), "msg%d", i);
			write(c, b, 4);
			if (read(c, b, 4) != 4)
				_exit(2);
			close(c);
		}
		_exit(0);
	}
	for (int i = 0; i < 3; i++) {
		int c = accept(s, NULL, NULL);
		char b[8] = { 0 };
		read(c, b, 4);
		printf("server got %s\n", b);
		write(c, "ack!", 4);
		close(c);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("client exit %d\n", WEXITSTATUS(st));
	unlink(a.sun_path);
	close(s);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(dir, sizeof(dir), "/tmp/cocoon-sock-%d", getpid());
	mkdir(dir, 0755);
	paths();
	abstract();
	autobinds();
	datagrams();
	backlog();
	across_fork();
	rmdir(dir);
	return 0;
}
