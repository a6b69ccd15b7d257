/* A thread blocked on a pipe holds no lock of its address space: while a
 * CLONE_VM child waits to read (and another to write) a pipe, the parent
 * maps, unmaps and protects memory, then lets them go on. On a kernel
 * that slept holding the memory lock, the mmap would wait forever. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include "util.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static int rd[2], wr[2];
static char got[8];
static char stack1[65536] __attribute__((aligned(16)));
static char stack2[65536] __attribute__((aligned(16)));

static int reader(void *arg)
{
	(void)arg;
	return read(rd[0], got, sizeof got) == 3 ? 0 : 1;
}

/* Fills the pipe, then blocks in a write of one more page. */
static int writer(void *arg)
{
	static char page[65536 + 4096];
	(void)arg;
	return write(wr[1], page, sizeof page) == (ssize_t)sizeof page ? 0 : 1;
}

static void nap(long ms)
{
	struct timespec t = { 0, ms * 1000000 };
	nanosleep(&t, NULL);
}

static void reap(const char *what, pid_t pid)
{
	int st;
	if (waitpid(pid, &st, __WALL) != pid)
		printf("%s: waitpid failed\n", what);
	else
		printf("%s: %s %d\n", what, WIFEXITED(st) ? "exit" : "signal",
		       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(rd) || pipe(wr))
		return 1;
	pid_t r = clone(reader, stack1 + sizeof stack1, CLONE_VM | SIGCHLD, NULL);
	pid_t w = clone(writer, stack2 + sizeof stack2, CLONE_VM | SIGCHLD, NULL);
	expect(r > 0 && w > 0, "clone");
	nap(100); /* both are asleep in the pipe by now */
	int ok = 1;
	for (int i = 0; i < 20 && ok; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ok = p != MAP_FAILED;
		if (ok) {
			p[0] = 1;
			ok = mprotect(p, 4096, PROT_READ) == 0 && munmap(p, 1 << 20) == 0;
		}
	}
	expect(ok, "mmap, mprotect, munmap while children wait on pipes");
	expect(write(rd[1], "abc", 3) == 3, "write");
	reap("reader", r);
	printf("reader got: %.3s\n", got);
	static char sink[65536 + 4096];
	size_t total = 0;
	while (total < sizeof sink) {
		ssize_t n = read(wr[0], sink, sizeof sink);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	printf("drained %zu bytes\n", total);
	reap("writer", w);
	return 0;
}
