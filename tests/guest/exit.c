/* Exit statuses: normal exits (exit, return from main, exit_group, the
 * last thread's exit) and deaths by signal, reported as 128+N: abort,
 * faults of every kind, kill and raise with default actions, stack
 * overflow. One mode per run; the runner compares the exit status. */
// RUN: exit3
// RUN: return7
// RUN: exit256
// RUN: exit_group42
// RUN: exit_thread5
// RUN: abort
// RUN: segv_null
// RUN: segv_readonly
// RUN: segv_noexec
// RUN: segv_kernel
// RUN: segv_hlt
// RUN: bus
// RUN: ud2
// RUN: int3
// RUN: div0
// RUN: kill9
// RUN: raise_term
// RUN: stack_grow
// RUN: stack_overflow
#include "util.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>

static int depth_sum(int n)
{
	volatile char frame[1024];
	frame[0] = (char)n;
	frame[1023] = 1;
	if (n == 0)
		return frame[1023];
	return depth_sum(n - 1) + frame[0] % 2 + frame[1023] - 1;
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int forever(int n)
{
	volatile char frame[4096];
	frame[0] = (char)n;
	return forever(n + 1) + frame[0];
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	say("before\n");
	if (!strcmp(m, "exit3")) {
		printf("buffered output is flushed by exit\n");
		exit(3);
	}
	if (!strcmp(m, "return7")) {
		printf("returning 7\n");
		return 7;
	}
	if (!strcmp(m, "exit256"))
		exit(256);
	if (!strcmp(m, "exit_group42")) {
		printf("printed with stdio before exit_group (kept only if line-buffered)\n");
		rsys(SYS_exit_group, 42);
	}
	if (!strcmp(m, "exit_thread5"))
		rsys(SYS_exit, 5);   /* the only thread: the process exits with 5 */
	if (!strcmp(m, "abort"))
		abort();
	if (!strcmp(m, "segv_null"))
		*(volatile int *)0 = 0;
	if (!strcmp(m, "segv_readonly")) {
		char *p = mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		*(volatile char *)p = 1;
	}
	if (!strcmp(m, "segv_noexec")) {
		static unsigned char code[16] = { 0xc3 };   /* ret, in a non-exec page */
		((void (*)(void))code)();
	}
	if (!strcmp(m, "segv_kernel"))
		*(volatile int *)0xffffffffff000000UL = 0;
	if (!strcmp(m, "segv_hlt"))
		__asm__ volatile("hlt");
	if (!strcmp(m, "bus")) {
		int fd = open("/etc/passwd", O_RDONLY);
		volatile char *p = mmap(0, 64 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
		say(p[0] ? "first page readable\n" : "first page empty\n");
		(void)p[63 * PAGE];   /* past the end of the file */
	}
	if (!strcmp(m, "ud2"))
		__asm__ volatile("ud2");
	if (!strcmp(m, "int3"))
		__asm__ volatile("int3");
	if (!strcmp(m, "div0")) {
		volatile int z = 0;
		say(z / z ? "x\n" : "y\n");
	}
	if (!strcmp(m, "kill9"))
		rsys(SYS_kill, rsys(SYS_getpid), SIGKILL);
	if (!strcmp(m, "raise_term"))
		rsys(SYS_tgkill, rsys(SYS_getpid), rsys(SYS_gettid), SIGTERM);
	if (!strcmp(m, "stack_grow")) {
		/* 6000 frames of 1 KiB: the stack grows to about 6 MiB. */
		int s = depth_sum(6000);
		printf("deep recursion returned %d\n", s);
		return 0;
	}
	if (!strcmp(m, "stack_overflow"))
		return forever(0);
	say("still alive\n");
	return 99;
}
