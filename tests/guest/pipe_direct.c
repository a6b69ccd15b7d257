/* A reader asleep on an empty pipe, then a write from another process
 * (the case a kernel might shortcut by copying straight into the
 * reader's buffer) must look exactly like Linux's: segments filled
 * in order and the rest left in the pipe, a buffer ending in an unmapped
 * page (short read), a read-only one (EFAULT, the data stays), a buffer
 * shared copy-on-write with the writing child (the child's copy is not
 * touched), one unmapped by another thread while the reader sleeps, and
 * a write larger than the pipe. */
#include "util.h"
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

static void nap(long ms)
{
	struct timespec t = { 0, ms * 1000000 };
	nanosleep(&t, NULL);
}

static char pattern(size_t i) { return (char)('a' + i % 23); }

/* A child that sleeps (the parent is then blocked in its read) and
 * writes len pattern bytes in one write; returns its pid. */
static pid_t late_writer(int fd, size_t len)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	char *b = malloc(len);
	for (size_t i = 0; i < len; i++)
		b[i] = pattern(i);
	nap(100);
	_exit(write(fd, b, len) == (ssize_t)len ? 0 : 1);
}

static void reap(const char *what, pid_t pid)
{
	int st;
	expect(waitpid(pid, &st, 0) == pid, "waitpid");
	printf("%s: writer %s %d\n", what, WIFEXITED(st) ? "exit" : "signal",
	       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static bool same(const char *b, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern(from + i))
			return false;
	return true;
}

static void segments(void)
{
	int p[2];
	expect(!pipe(p), "pipe");
	pid_t w = late_writer(p[1], 7000);
	static char a[10], c[5000], rest[4096];
	struct iovec iov[3] = { { a, sizeof a }, { NULL, 0 }, { c, sizeof c } };
	long r = rsys(SYS_readv, p[0], iov, 3);
	printf("readv of 10+0+5000: %ld, in order %d\n", r, same(a, 0, 10) && same(c, 10, 5000));
	r = rsys(SYS_read, p[0], rest, sizeof rest);
	printf("the rest: %ld, in order %d\n", r, r > 0 && same(rest, 5010, (size_t)r));
	reap("segments", w);
	close(p[0]);
	close(p[1]);
}

static void unmapped_tail(void)
{
	int p[2];
	expect(!pipe(p), "pipe");
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect(m != MAP_FAILED && !munmap(m + 4096, 4096), "mmap");
	pid_t w = late_writer(p[1], 500);
	long r = rsys(SYS_read, p[0], m + 4096 - 100, 1000);
	printf("read into a buffer 100 bytes before a hole: %ld, in order %d\n", r,
	       r == 100 && same(m + 4096 - 100, 0, 100));
	static char rest[1000];
	r = rsys(SYS_read, p[0], rest, sizeof rest);
	printf("the rest: %ld, in order %d\n", r, r > 0 && same(rest, 100, (size_t)r));
	reap("unmapped tail", w);
	munmap(m, 4096);
	close(p[0]);
	close(p[1]);
}

static void read_only(void)
{
	int p[2];
	expect(!pipe(p), "pipe");
	char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect(m != MAP_FAILED, "mmap");
	pid_t w = late_writer(p[1], 300);
	long r = rsys(SYS_read, p[0], m, 1000);
	printf("read into read-only memory: %s\n", errname(r));
	static char rest[1000];
	r = rsys(SYS_read, p[0], rest, sizeof rest);
	printf("the data stayed: %ld, in order %d\n", r, r == 300 && same(rest, 0, 300));
	reap("read-only", w);
	munmap(m, 4096);
	close(p[0]);
	close(p[1]);
}

/* The buffer was the parent's before fork: the child still sees its own
 * copy while the parent reads the child's bytes into it. */
static void cow_shared(void)
{
	int p[2], done[2];
	expect(!pipe(p) && !pipe(done), "pipe");
	static char buf[3 * 4096];
	memset(buf, 'p', sizeof buf);
	pid_t w = fork();
	if (!w) {
		static char out[sizeof buf];
		for (size_t i = 0; i < sizeof out; i++)
			out[i] = pattern(i);
		nap(100);
		if (write(p[1], out, sizeof out) != (ssize_t)sizeof out)
			_exit(1);
		char c;
		if (read(done[0], &c, 1) != 1) /* the parent has read */
			_exit(2);
		for (size_t i = 0; i < sizeof buf; i++)
			if (buf[i] != 'p')
				_exit(3);
		_exit(0);
	}
	size_t got = 0;
	while (got < sizeof buf) {
		long r = rsys(SYS_read, p[0], buf + got, sizeof buf - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	printf("read into memory shared with the writer: %zu, in order %d\n", got,
	       same(buf, 0, sizeof buf));
	expect(write(done[1], "x", 1) == 1, "write");
	reap("copy-on-write", w);
	close(p[0]);
	close(p[1]);
	close(done[0]);
	close(done[1]);
}

struct blocked {
	int fd;
	char *buf;
	long r;
};

static void *blocked_read(void *arg)
{
	struct blocked *b = arg;
	b->r = rsys(SYS_read, b->fd, b->buf, 4096);
	return NULL;
}

/* Another thread unmaps the buffer of the sleeping reader, then data
 * comes: the read faults (EFAULT) and the data stays in the pipe. */
static void unmapped_while_blocked(void)
{
	int p[2];
	expect(!pipe(p), "pipe");
	struct blocked b = { p[0], mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 0 };
	expect(b.buf != MAP_FAILED, "mmap");
	pthread_t t;
	expect(!pthread_create(&t, NULL, blocked_read, &b), "pthread_create");
	nap(100);
	expect(!munmap(b.buf, 4096), "munmap");
	pid_t w = late_writer(p[1], 200);
	pthread_join(t, NULL);
	printf("read into memory unmapped meanwhile: %s\n", errname(b.r));
	static char rest[1000];
	long r = rsys(SYS_read, p[0], rest, sizeof rest);
	printf("the data stayed: %ld, in order %d\n", r, r == 200 && same(rest, 0, 200));
	reap("unmapped while blocked", w);
	close(p[0]);
	close(p[1]);
}

/* One write of 200 KiB to a reader of 64 KiB blocks: every byte once,
 * in order. */
static void larger_than_pipe(void)
{
	int p[2];
	expect(!pipe(p), "pipe");
	enum { LEN = 200 * 1024 };
	pid_t w = late_writer(p[1], LEN);
	close(p[1]);
	static char buf[65536];
	size_t got = 0;
	bool ordered = true;
	for (;;) {
		long r = rsys(SYS_read, p[0], buf, sizeof buf);
		if (r <= 0)
			break;
		ordered = ordered && same(buf, got, (size_t)r);
		got += (size_t)r;
	}
	printf("200 KiB in one write: %zu bytes, in order %d\n", got, ordered);
	reap("larger than the pipe", w);
	close(p[0]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	segments();
	unmapped_tail();
	read_only();
	cow_shared();
	unmapped_while_blocked();
	larger_than_pipe();
	return 0;
}
