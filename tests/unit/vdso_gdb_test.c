/* The vDSO's signal trampoline with a real signal frame of this (host)
 * kernel: the image is loaded with dlopen, a handler is installed with
 * its __vdso_rt_sigreturn as SA_RESTORER, and a signal interrupts
 * interrupted_here(). In the handler libgcc's unwinder must step through
 * the trampoline into interrupted_here() and main(); then gdb, run on
 * this program in batch mode with a breakpoint in the handler, must show
 * the same backtrace, with the trampoline as "<signal handler called>"
 * (gdb knows it only from its CFI: the bytes are not glibc's). Without
 * gdb, or where it cannot trace (no ptrace), that part says so and
 * passes. */
#include "kernel/vdso.h"
#include "tests/unit/check.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unwind.h>

struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};
#define SA_RESTORER_FLAG 0x04000000

static void *tramp;
static volatile sig_atomic_t handled;

#define MAX_FRAMES 32
static uintptr_t ips[MAX_FRAMES];
static int nips;

static _Unwind_Reason_Code record(struct _Unwind_Context *ctx, void *arg)
{
	if (nips == MAX_FRAMES)
		return _URC_END_OF_STACK;
	ips[nips++] = _Unwind_GetIP(ctx);
	return _URC_NO_REASON;
}

/* gdb's breakpoint. */
__attribute__((noinline)) void vdso_gdb_handler(int sig, siginfo_t *si, void *uc)
{
	handled = 1;
	_Unwind_Backtrace(record, NULL);
	__asm__ volatile("" ::: "memory");
}

/* Sends itself the signal and returns after the handler. */
__attribute__((noinline)) void interrupted_here(void)
{
	syscall(SYS_kill, getpid(), SIGUSR1);
	__asm__ volatile("" ::: "memory");
}

static int load(void)
{
	size_t len;
	const void *img = vdso_image(&len);
	int fd = memfd_create("vdso", 0);
	if (fd < 0 || write(fd, img, len) != (ssize_t)len)
		return -1;
	char path[64];
	/* by pid: a debugger reads the path too (its own /proc/self) */
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), fd);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	tramp = h ? dlsym(h, "__vdso_rt_sigreturn") : NULL;
	if (!tramp)
		return -1;
	struct ksigaction ka = { .handler = (void *)vdso_gdb_handler, .flags = SA_SIGINFO | SA_RESTORER_FLAG,
				 .restorer = tramp };
	return (int)syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 8);
}

static char gdb_out[1 << 16];

/* gdb -batch on this program (mode "victim"); its output in gdb_out:
 * 0, or -1 if gdb is missing. */
static int run_gdb(void)
{
	if (access("/usr/bin/gdb", X_OK))
		return -1;
	int p[2];
	if (pipe(p))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		self[n > 0 ? n : 0] = 0;
		alarm(30); /* a gdb that hangs ends, and the check fails */
		execl("/usr/bin/gdb", "gdb", "-batch", "-nx", "-ex", "set debuginfod enabled off", "-ex",
		      "handle SIGUSR1 nostop noprint pass", "-ex",
		      "break vdso_gdb_handler", "-ex", "run", "-ex", "bt", "-ex", "kill", "--args", self, "victim",
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t n;
	while (got < sizeof gdb_out - 1 && (n = read(p[0], gdb_out + got, sizeof gdb_out - 1 - got)) > 0)
		got += (size_t)n;
	gdb_out[got] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return 0;
}

/* The frame number gdb's bt gives the line containing `what`, or -1. */
static int gdb_frame(const char *what)
{
	for (char *l = gdb_out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		int num;
		char *nl = strchr(l, '\n');
		if (l[0] == '#' && sscanf(l + 1, "%d", &num) == 1) {
			char *hit = strstr(l, what);
			if (hit && (!nl || hit < nl))
				return num;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "victim")) {
		if (load())
			return 2;
		interrupted_here();
		return handled ? 0 : 3;
	}
	CHECK_EQ(load(), 0, "the image loaded, __vdso_rt_sigreturn installed as SA_RESTORER");
	if (!tramp)
		CHECK_DONE();
	interrupted_here();
	CHECK(handled, "the handler ran and returned through the trampoline");
	int t = -1, v = -1, m = -1;
	for (int i = 0; i < nips; i++) {
		if (ips[i] == (uintptr_t)tramp && t < 0)
			t = i;
		if (t >= 0 && v < 0 && ips[i] >= (uintptr_t)interrupted_here &&
		    ips[i] < (uintptr_t)interrupted_here + 64)
			v = i;
		if (v >= 0 && i > v && m < 0 && ips[i] >= (uintptr_t)main && ips[i] < (uintptr_t)main + 4096)
			m = i;
	}
	CHECK(t >= 1 && v > t && m > v, "libgcc: handler, trampoline (%d), interrupted_here (%d), main (%d)", t, v, m);

	if (run_gdb()) {
		CHECK(1, "gdb not installed: its backtrace not checked");
		CHECK_DONE();
	}
	if (strstr(gdb_out, "ptrace") && gdb_frame("vdso_gdb_handler") < 0) {
		CHECK(1, "gdb cannot trace here: its backtrace not checked");
		CHECK_DONE();
	}
	int gh = gdb_frame("vdso_gdb_handler"), gs = gdb_frame("<signal handler called>"),
	    gi = gdb_frame("interrupted_here"), gm = gdb_frame("main");
	CHECK(gh == 0 && gs == 1 && gi > gs && gm > gi,
	      "gdb: #0 the handler, #1 <signal handler called>, then interrupted_here (#%d), main (#%d)", gi, gm);
	if (!(gh == 0 && gs == 1 && gi > gs && gm > gi))
		printf("# gdb said:\n%s\n", gdb_out);
	CHECK_DONE();
}
