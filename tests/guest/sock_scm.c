/* Ancillary data on AF_UNIX: SCM_RIGHTS (a pipe end and a file passed
 * to a forked process and used there, several fds, MSG_CTRUNC with a
 * short control buffer, MSG_PEEK, MSG_CMSG_CLOEXEC, files dropped when
 * nobody takes them, bad control messages), SCM_CREDENTIALS with
 * SO_PASSCRED (explicit and implicit), and SO_PEERCRED. Pids are
 * compared, never printed. */
#include "util.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#define E(x) ({ long __r = (x); __r < 0 ? -errno : __r; })

static long send_fds(int s, const int *fds, int n, const char *data)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { (void *)data, strlen(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n) {
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return E(sendmsg(s, &m, 0));
}

/* Receive with a control buffer of clen bytes; the fds found go to out. */
static long recv_fds(int s, size_t clen, int flags, int *out, int *nout, int *mflags)
{
	char data[64];
	union { char b[256]; struct cmsghdr align; } cbuf;
	struct iovec iov = { data, sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = clen ? cbuf.b : NULL,
			    .msg_controllen = clen };
	long r = E(recvmsg(s, &m, flags));
	*nout = 0;
	if (r < 0)
		return r;
	*mflags = m.msg_flags;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(out + *nout, CMSG_DATA(c), n * sizeof(int));
			*nout += n;
		}
	}
	return r;
}

static void rights_across_fork(void)
{
	int sv[2], p[2];
	printf("-- rights across fork\n");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(p);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/cocoon-scm-%d", getpid());
	int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(f, "file contents", 13);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(p[0]);
		close(p[1]);
		close(f);
		int fds[8], n, fl;
		long r = recv_fds(sv[1], 256, 0, fds, &n, &fl);
		if (r <= 0 || n != 2)
			_exit(10 + n);
		/* fds[0]: the pipe's write end; fds[1]: the file (shared offset) */
		write(fds[0], "via passed pipe", 15);
		char b[32] = { 0 };
		lseek(fds[1], 0, SEEK_SET);
		read(fds[1], b, 4);
		write(fds[0], b, 4);
		_exit(0);
	}
	close(sv[1]);
	int two[2] = { p[1], f };
	resv("sendmsg 2 fds", send_fds(sv[0], two, 2, "fds"));
	close(p[1]);
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	char b[64] = { 0 };
	resv("read pipe", E(read(p[0], b, sizeof(b))));
	printf("pipe said '%s'\n", b);
	resv("pipe EOF (passed copy closed)", E(read(p[0], b, sizeof(b))));
	printf("file offset moved by child %d\n", (int)lseek(f, 0, SEEK_CUR));
	close(p[0]);
	close(f);
	unlink(path);
	close(sv[0]);
}

static void rights_edges(void)
{
	int sv[2], p[2], fds[16], n, fl;
	printf("-- rights edges\n");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	pipe(p);
	int three[3] = { p[0], p[1], p[0] };
	/* room for one fd only */
	send_fds(sv[0], three, 3, "x");
	resv("recv short control", recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0, fds, &n, &fl));
	printf("fds %d ctrunc %d\n", n, !!(fl & MSG_CTRUNC));
	for (int i = 0; i < n; i++)
		close(fds[i]);
	/* no control buffer at all */
	send_fds(sv[0], three, 3, "x");
	resv("recv no control", recv_fds(sv[1], 0, 0, fds, &n, &fl));
	printf("fds %d ctrunc %d\n", n, !!(fl & MSG_CTRUNC));
	/* a header-only buffer */
	send_fds(sv[0], three, 1, "x");
	resv("recv header-only control", recv_fds(sv[1], sizeof(struct cmsghdr), 0, fds, &n, &fl));
	printf("fds %d ctrunc %d\n", n, !!(fl & MSG_CTRUNC));
	/* peek installs copies too */
	send_fds(sv[0], three, 1, "pk");
	resv("peek", recv_fds(sv[1], 256, MSG_PEEK, fds, &n, &fl));
	printf("peek fds %d\n", n);
	int peeked = n ? fds[0] : -1;
	resv("recv after peek", recv_fds(sv[1], 256, MSG_CMSG_CLOEXEC, fds, &n, &fl));
	printf("fds %d distinct %d cloexec %d\n", n, n && fds[0] != peeked, n ? fcntl(fds[0], F_GETFD) : -1);
	struct stat a, b;
	fstat(fds[0], &a);
	fstat(p[0], &b);
	printf("same pipe %d\n", a.st_ino == b.st_ino);
	close(fds[0]);
	close(peeked);
	/* errors */
	int bad = 999;
	resv("bad fd", send_fds(sv[0], &bad, 1, "x"));
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = sizeof(cbuf) + 8;
	resv("cmsg_len past the buffer", E(sendmsg(sv[0], &m, 0)));
	c->cmsg_len = 4;
	resv("cmsg_len below the header", E(sendmsg(sv[0], &m, 0)));
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_type = 77;
	resv("unknown SOL_SOCKET type", E(sendmsg(sv[0], &m, 0)));
	c->cmsg_level = IPPROTO_IP;
	resv("other level ignored", E(sendmsg(sv[0], &m, 0)));
	char d;
	recv(sv[1], &d, 1, 0);
	/* a file in flight that is never received goes with the queue */
	int q[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, q);
	send_fds(q[0], &p[1], 1, "drop");
	close(p[1]);
	close(q[0]);
	close(q[1]);
	char pb;
	resv("pipe reader sees EOF", E(read(p[0], &pb, 1)));
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
	/* fds on a stream: the read stops after the skb carrying them */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send(sv[0], "aa", 2, 0);
	int one = 0;
	send_fds(sv[0], &one, 1, "bb");
	send(sv[0], "cc", 2, 0);
	resv("stream read 1", recv_fds(sv[1], 256, 0, fds, &n, &fl));
	printf("fds %d\n", n);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	resv("stream read 2", recv_fds(sv[1], 256, MSG_DONTWAIT, fds, &n, &fl));
	close(sv[0]);
	close(sv[1]);
}

static void credentials(void)
{
	int sv[2];
	printf("-- credentials\n");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct ucred u;
	socklen_t l = sizeof(u);
	getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &u, &l);
	printf("SO_PEERCRED len %d pid is mine %d uid %d gid %d\n", (int)l, u.pid == getpid(),
	       u.uid == geteuid(), u.gid == getegid());
	int on = 1;
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	pid_t pid = fork();
	if (pid == 0) {
		send(sv[0], "implicit", 8, 0);
		/* explicit credentials: our own are allowed */
		struct ucred me = { getpid(), getuid(), getgid() };
		char cbuf[CMSG_SPACE(sizeof(me))];
		struct iovec iov = { "explicit", 8 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(me));
		memcpy(CMSG_DATA(c), &me, sizeof(me));
		long r = sendmsg(sv[0], &m, 0);
		printf("child explicit: %s\n", r < 0 ? errname(errno) : "ok");
		me.pid = 1; /* someone else's pid (init): EPERM unless root */
		memcpy(CMSG_DATA(c), &me, sizeof(me));
		r = sendmsg(sv[0], &m, 0);
		printf("child foreign pid: %s\n", r < 0 ? errname(errno) : (geteuid() == 0 ? "EPERM" : "ok"));
		c->cmsg_len = CMSG_LEN(sizeof(me) - 1);
		r = sendmsg(sv[0], &m, 0);
		printf("child short ucred: %s\n", r < 0 ? errname(errno) : "ok");
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 2; i++) {
		char data[16] = { 0 };
		union { char b[CMSG_SPACE(sizeof(struct ucred))]; struct cmsghdr a; } cbuf;
		struct iovec iov = { data, sizeof(data) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.b,
				    .msg_controllen = sizeof(cbuf.b) };
		long r = E(recvmsg(sv[1], &m, i ? MSG_DONTWAIT : 0));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		struct ucred got = { 0 };
		if (c && c->cmsg_type == SCM_CREDENTIALS)
			memcpy(&got, CMSG_DATA(c), sizeof(got));
		printf("recv %ld '%.*s' creds %d pid is child %d uid %d\n", r, (int)(r > 0 ? r : 0), data,
		       c && c->cmsg_type == SCM_CREDENTIALS, got.pid == pid, got.uid == getuid());
	}
	close(sv[0]);
	close(sv[1]);

	/* SO_PEERCRED of a listener's client and of the accepted side */
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "cocoon-cred-%d", getpid());
	socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 + n;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(s, (void *)&a, al);
	listen(s, 1);
	l = sizeof(u);
	u.pid = -5;
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, &l);
	printf("listener SO_PEERCRED pid is mine %d\n", u.pid == getpid());
	int out = socket(AF_UNIX, SOCK_STREAM, 0);
	l = sizeof(u);
	getsockopt(out, SOL_SOCKET, SO_PEERCRED, &u, &l);
	printf("unconnected SO_PEERCRED pid %d uid %d gid %d\n", u.pid, (int)u.uid, (int)u.gid);
	pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		connect(c, (void *)&a, al);
		struct ucred pc;
		socklen_t pl = sizeof(pc);
		getsockopt(c, SOL_SOCKET, SO_PEERCRED, &pc, &pl);
		char x;
		read(c, &x, 1);
		_exit(pc.pid == getppid() ? 0 : 1);
	}
	int c = accept(s, NULL, NULL);
	l = sizeof(u);
	getsockopt(c, SOL_SOCKET, SO_PEERCRED, &u, &l);
	printf("server sees client pid %d\n", u.pid == pid);
	write(c, "x", 1);
	int st;
	waitpid(pid, &st, 0);
	printf("client saw server pid %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(c);
	close(s);
	close(out);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	rights_across_fork();
	rights_edges();
	credentials();
	return 0;
}
