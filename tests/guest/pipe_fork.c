/* Pipes between processes (needs fork): a few MiB through blocking
 * writes and reads of odd sizes with checksums, readers and writers that
 * sleep until the other side acts, poll and epoll woken from another
 * process, EOF and SIGPIPE (default action) across processes, and
 * PIPE_BUF atomicity with two writers. */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>

#define TOTAL (6 << 20)

static char buf[1 << 18];

static void pattern(char *p, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)((off + i) * 2654435761u >> 13);
}

static void nap(long ms)
{
	struct timespec t = { 0, ms * 1000000 };
	nanosleep(&t, NULL);
}

static void reap(const char *label, pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("%s: waitpid failed\n", label);
		return;
	}
	if (WIFEXITED(st))
		printf("%s: exit %d\n", label, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: signal %d\n", label, WTERMSIG(st));
}

int main(void)
{
	int p[2];
	setvbuf(stdout, NULL, _IONBF, 0);

	/* bulk transfer with checksums */
	pipe(p);
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", errname(errno));
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		size_t off = 0, sizes[] = { 1, 4095, 4096, 4097, 65536, 100000, 3, 200000 };
		for (int k = 0; off < TOTAL; k++) {
			size_t n = sizes[k % 8];
			if (n > TOTAL - off)
				n = TOTAL - off;
			pattern(buf, n, off);
			long w = write(p[1], buf, n);
			if (w != (long)n)
				_exit(10);
			off += n;
		}
		_exit(0);
	}
	close(p[1]);
	uint64_t h = FNV_INIT, h2 = FNV_INIT;
	size_t got = 0, rsizes[] = { 7, 65536, 4096, 1 << 18, 1000 };
	for (int k = 0;; k++) {
		long r = read(p[0], buf, rsizes[k % 5]);
		if (r <= 0)
			break;
		h = fnv1a(h, buf, r);
		got += r;
	}
	for (size_t off = 0; off < TOTAL; off += sizeof buf) {
		size_t n = TOTAL - off < sizeof buf ? TOTAL - off : sizeof buf;
		pattern(buf, n, off);
		h2 = fnv1a(h2, buf, n);
	}
	expect(got == TOTAL && h == h2, "%d bytes through the pipe intact (got %zu)", TOTAL, got);
	close(p[0]);
	reap("bulk writer", pid);

	/* a reader sleeps until data comes; a writer sleeps while the pipe is full */
	pipe(p);
	pid = fork();
	if (pid == 0) {
		char c[8];
		long r = read(p[0], c, sizeof c); /* blocks */
		_exit(r == 5 && !memcmp(c, "later", 5) ? 0 : 20);
	}
	nap(30);
	write(p[1], "later", 5);
	reap("blocked reader", pid);
	close(p[0]);
	close(p[1]);

	pipe(p);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		nap(30);
		long total = 0;
		for (;;) {
			long r = read(p[0], buf, 50000);
			if (r <= 0)
				break;
			total += r;
		}
		_exit(total == 200000 ? 0 : 21);
	}
	close(p[0]);
	memset(buf, 'w', 200000);
	resv("blocking write of 200000 to a slow reader", write(p[1], buf, 200000));
	close(p[1]);
	reap("slow reader", pid);

	/* poll and epoll woken by another process. Each step of the child
	 * comes 30 ms after the parent says (on the go pipe) that it is about
	 * to wait, not 30 ms after the last step: a parent slow to get there
	 * found the next byte, or the hang-up, already in (other revents). */
	int go[2];
	pipe(go);
	pipe(p);
	pid = fork();
	if (pid == 0) {
		char g;
		close(go[1]);
		read(go[0], &g, 1);
		nap(30);
		write(p[1], "p", 1);
		read(go[0], &g, 1);
		nap(30);
		write(p[1], "e", 1);
		read(go[0], &g, 1);
		nap(30);
		_exit(0); /* closing the write end: POLLHUP */
	}
	close(go[0]);
	struct pollfd pf = { p[0], POLLIN, 0 };
	close(p[1]);
	write(go[1], "g", 1);
	resv("poll, forever", poll(&pf, 1, -1));
	printf("revents %#x\n", pf.revents);
	read(p[0], buf, 1);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 }, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	write(go[1], "g", 1);
	resv("epoll_wait, forever", epoll_wait(ep, &out, 1, -1));
	printf("event %#x data %llu\n", out.events, (unsigned long long)out.data.u64);
	read(p[0], buf, 1);
	write(go[1], "g", 1);
	close(go[1]);
	resv("epoll_wait for the hang-up", epoll_wait(ep, &out, 1, -1));
	printf("event %#x\n", out.events);
	resv("read at EOF", read(p[0], buf, 1));
	close(ep);
	close(p[0]);
	reap("poll waker", pid);

	/* SIGPIPE's default action ends the writer */
	pipe(p);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		/* Until the parent has closed its read end (POLLERR: no reader
		 * left), not a fixed 30 ms a slow parent could overrun. */
		struct pollfd q = { p[1], 0, 0 };
		poll(&q, 1, 5000);
		write(p[1], "x", 1);
		_exit(30);
	}
	close(p[0]);
	close(p[1]);
	reap("writer to a closed pipe", pid);

	/* two writers, each write a page: pages never interleave */
	pipe(p);
	pid_t w1 = fork();
	if (w1 == 0) {
		memset(buf, 'a', 4096);
		for (int i = 0; i < 300; i++)
			write(p[1], buf, 4096);
		_exit(0);
	}
	pid_t w2 = fork();
	if (w2 == 0) {
		memset(buf, 'b', 4096);
		for (int i = 0; i < 300; i++)
			write(p[1], buf, 4096);
		_exit(0);
	}
	close(p[1]);
	long total = 0, mixed = 0;
	static char page[4096];
	for (;;) {
		long r = 0;
		while (r < 4096) {
			long k = read(p[0], page + r, 4096 - r);
			if (k <= 0)
				break;
			r += k;
		}
		if (r == 0)
			break;
		for (int i = 1; i < r; i++)
			if (page[i] != page[0])
				mixed++;
		total += r;
	}
	expect(total == 2 * 300 * 4096 && mixed == 0, "two writers, atomic pages (%ld bytes)", total);
	reap("writer a", w1);
	reap("writer b", w2);
	return expect_failures != 0;
}
