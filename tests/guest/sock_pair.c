/* socketpair of every AF_UNIX kind: data, MSG_PEEK, MSG_WAITALL across
 * fork, MSG_TRUNC, record boundaries of SOCK_SEQPACKET, shutdown and
 * close as the other end sees them (EOF, EPIPE, SIGPIPE unless
 * MSG_NOSIGNAL), poll masks, non-blocking EAGAIN, FIONREAD/SIOCOUTQ,
 * fstat, /proc/self/fd, fcntl and the basic socket options. */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/wait.h>
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

/* A libc call's result as util.h's resv() wants it: -errno on failure. */
#define E(x) ({ long __r = (x); __r < 0 ? -errno : __r; })

static volatile int sigpipes;
static void on_pipe(int s) { sigpipes++; }

static unsigned pmask(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0 };
	int n = poll(&p, 1, 0);
	return n < 0 ? 0xdead : p.revents;
}

static int opt(int fd, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, name, &v, &l) < 0)
		return -errno;
	return v;
}

static void kinds(void)
{
	static const struct { int type; const char *name; } k[] = {
		{ SOCK_STREAM, "stream" }, { SOCK_DGRAM, "dgram" }, { SOCK_SEQPACKET, "seqpacket" },
	};
	for (unsigned i = 0; i < 3; i++) {
		int sv[2];
		char buf[64];
		printf("-- %s\n", k[i].name);
		lres("socketpair", socketpair(AF_UNIX, k[i].type, 0, sv));
		printf("type %d domain %d protocol %d acceptconn %d\n", opt(sv[0], SO_TYPE),
		       opt(sv[0], SO_DOMAIN), opt(sv[0], SO_PROTOCOL), opt(sv[0], SO_ACCEPTCONN));
		printf("poll fresh %#x\n", pmask(sv[1]));
		resv("send abc", E(send(sv[0], "abc", 3, 0)));
		resv("send defg", E(send(sv[0], "defg", 4, 0)));
		printf("poll data %#x\n", pmask(sv[1]));
		int n = -1;
		ioctl(sv[1], FIONREAD, &n);
		printf("FIONREAD %d\n", n);
		resv("peek 2", E(recv(sv[1], buf, 2, MSG_PEEK)));
		resv("recv 64", E(recv(sv[1], buf, sizeof(buf), 0)));
		resv("recv 64 again", E(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)));
		close(sv[0]);
		printf("poll after close %#x\n", pmask(sv[1]));
		resv("recv after close", E(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)));
		resv("send after close", E(send(sv[1], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT)));
		close(sv[1]);
	}
}

static void truncation(void)
{
	int sv[2];
	char buf[8];
	struct iovec iov = { buf, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	printf("-- truncation\n");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	send(sv[0], "0123456789", 10, 0);
	send(sv[0], "abcdef", 6, 0);
	resv("dgram recvmsg 4", E(recvmsg(sv[1], &m, 0)));
	printf("flags trunc %d\n", !!(m.msg_flags & MSG_TRUNC));
	resv("dgram recv 4 MSG_TRUNC", E(recv(sv[1], buf, 4, MSG_TRUNC)));
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	send(sv[0], "first", 5, 0);
	send(sv[0], "", 0, 0);
	send(sv[0], "second-long", 11, 0);
	resv("seq recv 64", E(recv(sv[1], buf, sizeof(buf), 0)));
	resv("seq recv empty", E(recv(sv[1], buf, sizeof(buf), 0)));
	m.msg_flags = 0;
	resv("seq recvmsg 4", E(recvmsg(sv[1], &m, 0)));
	printf("flags trunc %d eor %d\n", !!(m.msg_flags & MSG_TRUNC), !!(m.msg_flags & MSG_EOR));
	resv("seq recv nothing", E(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)));
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send(sv[0], "0123456789", 10, 0);
	resv("stream recv 4", E(recv(sv[1], buf, 4, 0)));
	resv("stream recv 4 MSG_TRUNC", E(recv(sv[1], buf, 4, MSG_TRUNC)));
	printf("data %.4s\n", buf);
	close(sv[0]);
	close(sv[1]);
}

static void shutdowns(void)
{
	int sv[2];
	char buf[8];
	printf("-- shutdown\n");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	res("shutdown bad how", shutdown(sv[0], 3) ? -errno : 0);
	send(sv[0], "tail", 4, 0);
	res("shutdown WR", shutdown(sv[0], SHUT_WR) ? -errno : 0);
	printf("poll writer %#x reader %#x\n", pmask(sv[0]), pmask(sv[1]));
	resv("reader gets data", E(recv(sv[1], buf, sizeof(buf), 0)));
	resv("reader gets EOF", E(recv(sv[1], buf, sizeof(buf), 0)));
	errno = 0;
	resv("writer send", E(send(sv[0], "x", 1, MSG_NOSIGNAL)));
	resv("reader still sends", E(send(sv[1], "y", 1, 0)));
	resv("writer still reads", E(recv(sv[0], buf, 1, 0)));
	res("shutdown RD", shutdown(sv[0], SHUT_RD) ? -errno : 0);
	resv("peer of SHUT_RD sends", E(send(sv[1], "z", 1, MSG_NOSIGNAL)));
	printf("poll both shut %#x %#x\n", pmask(sv[0]), pmask(sv[1]));
	close(sv[0]);
	close(sv[1]);

	/* SIGPIPE: delivered for send without MSG_NOSIGNAL and for write */
	signal(SIGPIPE, on_pipe);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	close(sv[1]);
	sigpipes = 0;
	resv("send to closed", E(send(sv[0], "x", 1, 0)));
	printf("sigpipes %d\n", sigpipes);
	resv("write to closed", E(write(sv[0], "x", 1)));
	printf("sigpipes %d\n", sigpipes);
	resv("MSG_NOSIGNAL", E(send(sv[0], "x", 1, MSG_NOSIGNAL)));
	printf("sigpipes %d\n", sigpipes);
	close(sv[0]);
	signal(SIGPIPE, SIG_DFL);

	/* unread data at close: ECONNRESET once, then EOF */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send(sv[1], "unread", 6, 0);
	close(sv[1]);
	resv("close with unread", E(recv(sv[0], buf, sizeof(buf), 0)));
	close(sv[0]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send(sv[0], "unread", 6, 0);
	close(sv[1]);
	resv("peer closed with our data unread", E(recv(sv[0], buf, sizeof(buf), 0)));
	resv("then", E(recv(sv[0], buf, sizeof(buf), 0)));
	close(sv[0]);
}

static void nonblocking(void)
{
	int sv[2];
	static char big[65536];
	printf("-- nonblocking\n");
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	printf("O_NONBLOCK %d\n", !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK));
	long total = 0, r;
	while ((r = send(sv[0], big, sizeof(big), 0)) > 0)
		total += r;
	printf("filled: %s, some sent %d\n", errname(errno), total > 0);
	printf("poll full %#x\n", pmask(sv[0]) & POLLOUT);
	int outq = -1;
	ioctl(sv[0], SIOCOUTQ, &outq);
	printf("SIOCOUTQ positive %d\n", outq > 0);
	long got = 0;
	while ((r = recv(sv[1], big, sizeof(big), 0)) > 0)
		got += r;
	printf("drained all %d: %s\n", got == total, errname(errno));
	printf("poll drained %#x\n", pmask(sv[0]) & POLLOUT);
	resv("recv empty", E(recv(sv[1], big, 1, 0)));
	fcntl(sv[1], F_SETFL, 0);
	resv("recv MSG_DONTWAIT", E(recv(sv[1], big, 1, MSG_DONTWAIT)));
	int on = 1;
	ioctl(sv[1], FIONBIO, &on);
	resv("recv FIONBIO", E(recv(sv[1], big, 1, 0)));
	close(sv[0]);
	close(sv[1]);

	/* dgram: the sender blocks on its buffer */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int n = 0;
	while (send(sv[0], big, 1000, MSG_DONTWAIT) > 0)
		n++;
	printf("dgram filled: %s, some %d\n", errname(errno), n > 0);
	close(sv[0]);
	close(sv[1]);
}

static void waitall(void)
{
	int sv[2];
	char buf[16] = { 0 };
	printf("-- waitall\n");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t pid = fork();
	if (pid == 0) {
		const char *parts[] = { "ab", "cde", "fghij", "klmnop" };
		for (int i = 0; i < 4; i++) {
			struct timespec t = { 0, 20000000 };
			nanosleep(&t, NULL);
			send(sv[1], parts[i], strlen(parts[i]), 0);
		}
		_exit(0);
	}
	resv("recv WAITALL 16", E(recv(sv[0], buf, 16, MSG_WAITALL)));
	printf("got %.16s\n", buf);
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(sv[1]);
}

static void fileops(void)
{
	int sv[2];
	struct stat st;
	char link[64], target[64];
	printf("-- file\n");
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	printf("cloexec %d\n", fcntl(sv[0], F_GETFD));
	fstat(sv[0], &st);
	printf("S_ISSOCK %d mode %o nlink %d size %lld\n", S_ISSOCK(st.st_mode), st.st_mode & 07777,
	       (int)st.st_nlink, (long long)st.st_size);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", sv[0]);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;
	printf("link starts socket:[ %d\n", !strncmp(target, "socket:[", 8));
	struct stat st2;
	stat(link, &st2);
	printf("stat through link same inode %d\n", st2.st_ino == st.st_ino);
	res("open through link", open(link, O_RDWR) < 0 ? -errno : 0);
	res("lseek", lseek(sv[0], 0, SEEK_SET) < 0 ? -errno : 0);
	res("pread", pread(sv[0], target, 1, 0) < 0 ? -errno : 0);
	struct iovec iov[2] = { { "ve", 2 }, { "ctor", 4 } };
	resv("writev", writev(sv[0], iov, 2));
	char a[3] = { 0 }, b[4] = { 0 };
	struct iovec riov[2] = { { a, 2 }, { b, 4 } };
	resv("readv", readv(sv[1], riov, 2));
	printf("readv %.2s|%.4s\n", a, b);
	int v = 8192;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	printf("SO_SNDBUF after 8192: %d\n", opt(sv[0], SO_SNDBUF));
	v = 1;
	setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
	v = 5;
	setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	printf("SO_KEEPALIVE %d SO_REUSEADDR %d SO_ERROR %d\n", opt(sv[0], SO_KEEPALIVE),
	       opt(sv[0], SO_REUSEADDR), opt(sv[0], SO_ERROR));
	struct timeval tv = { 1, 500000 }, tv2;
	socklen_t l = sizeof(tv2);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv2, &l);
	printf("SO_RCVTIMEO %ld.%06ld len %d\n", (long)tv2.tv_sec, (long)tv2.tv_usec, (int)l);
	struct linger lg = { 1, 7 }, lg2;
	l = sizeof(lg2);
	setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg2, &l);
	printf("SO_LINGER %d %d len %d\n", lg2.l_onoff, lg2.l_linger, (int)l);
	close(sv[0]);
	close(sv[1]);
}

static void timeouts(void)
{
	int sv[2];
	char c;
	printf("-- timeouts\n");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct timeval tv = { 0, 50000 };
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resv("recv with SO_RCVTIMEO", E(recv(sv[0], &c, 1, 0)));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("waited at least 40ms: %d\n", ms >= 40);
	close(sv[0]);
	close(sv[1]);
}

/* A blocking recv and accept interrupted by a signal: EINTR without
 * SA_RESTART, restarted with it, EINTR again when SO_RCVTIMEO is set. */
static void on_usr1(int s) { }

static void interrupted(void)
{
	printf("-- signals\n");
	for (int mode = 0; mode < 3; mode++) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = mode ? SA_RESTART : 0 };
		sigaction(SIGUSR1, &sa, NULL);
		int sv[2];
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		if (mode == 2) {
			struct timeval tv = { 5, 0 };
			setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		/* The child's 100 ms count from the parent's 'about to recv'
		 * byte, not from the fork: a parent slow to return from fork
		 * took the signal before its recv, which then got "late". */
		int go[2];
		pipe(go);
		pid_t parent = getpid(), pid = fork();
		if (pid == 0) {
			struct timespec t = { 0, 100000000 };
			char c;
			read(go[0], &c, 1);
			nanosleep(&t, NULL);
			kill(parent, SIGUSR1);
			nanosleep(&t, NULL);
			send(sv[1], "late", 4, 0);
			_exit(0);
		}
		char buf[8];
		write(go[1], "g", 1);
		close(go[0]);
		close(go[1]);
		long r = E(recv(sv[0], buf, sizeof(buf), 0));
		printf("%s: %s\n", mode == 0 ? "no SA_RESTART" : mode == 1 ? "SA_RESTART" : "SA_RESTART with SO_RCVTIMEO",
		       r < 0 ? errname(-r) : "data");
		waitpid(pid, NULL, 0);
		close(sv[0]);
		close(sv[1]);
	}
	signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	kinds();
	truncation();
	shutdowns();
	nonblocking();
	waitall();
	fileops();
	timeouts();
	interrupted();
	return expect_failures != 0;
}
