/* Unwinding from a signal handler through the signal frame into the
 * interrupted code: libgcc's _Unwind_Backtrace (all builds) and glibc's
 * backtrace() (glibc builds; musl has none) must find the interrupted
 * function and its caller, for a signal taken at a system call, one that
 * interrupts a loop without system calls (sent by another process) and
 * one that interrupts libc's pause(). Frames are matched by address
 * ranges, so static builds work too; where the dynamic symbol table names
 * libc's functions (dladdr), the frame in pause is matched by name as
 * well, and builds without it say so. */
#include "sig_util.h"
#include <dlfcn.h>
#ifdef __GLIBC__
#include <execinfo.h>
#include <unwind.h>
#define HAVE_UNWINDER 1
#else
/* musl-gcc links static programs without .eh_frame_hdr and libgcc's
 * unwinder needs glibc's _dl_find_object: nothing to walk with. */
#define HAVE_UNWINDER 0
#endif

void unwind_victim(long pid, long sig);
extern char unwind_victim_end[];
__asm__(
	".text\n"
	".globl unwind_victim, unwind_victim_end\n"
	".type unwind_victim, @function\n"
	"unwind_victim:\n"
	"	.cfi_startproc\n"
	"	push %rbp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset %rbp, -16\n"
	"	mov %rsp, %rbp\n"
	"	.cfi_def_cfa_register %rbp\n"
	"	mov $62, %eax\n"        /* kill(rdi, rsi) */
	"	syscall\n"
	"	nop\n"
	"	pop %rbp\n"
	"	.cfi_def_cfa %rsp, 8\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"unwind_victim_end:\n"
	".size unwind_victim, .-unwind_victim\n");

#define MAXF 64
static void *frames[MAXF], *frames_bt[MAXF];
static int nframes, nframes_bt;

#if HAVE_UNWINDER
static _Unwind_Reason_Code collect(struct _Unwind_Context *ctx, void *arg)
{
	if (nframes >= MAXF)
		return _URC_END_OF_STACK;
	frames[nframes++] = (void *)_Unwind_GetIP(ctx);
	return _URC_NO_REASON;
}
#endif

static void handler(int sig, siginfo_t *si, void *uc)
{
#if HAVE_UNWINDER
	nframes = 0;
	_Unwind_Backtrace(collect, NULL);
	nframes_bt = backtrace(frames_bt, MAXF);
#endif
}

/* Does any frame lie in [lo, hi)? Returns its index or -1. */
static int find(void **f, int n, const void *lo, const void *hi)
{
	for (int i = 0; i < n; i++)
		if ((const char *)f[i] >= (const char *)lo && (const char *)f[i] < (const char *)hi)
			return i;
	return -1;
}

static void report(const char *label, const void *lo, const void *hi, const void *clo, const void *chi)
{
	if (!HAVE_UNWINDER) {
		printf("%s: skipped (musl build: no unwinder)\n", label);
		return;
	}
	int v = find(frames, nframes, lo, hi), c = find(frames, nframes, clo, chi);
	printf("%s: _Unwind_Backtrace finds the interrupted function %d, its caller after it %d\n", label,
	       v >= 0, v >= 0 && c > v);
	v = find(frames_bt, nframes_bt, lo, hi);
	c = find(frames_bt, nframes_bt, clo, chi);
	printf("%s: backtrace() finds the interrupted function %d, its caller after it %d\n", label, v >= 0,
	       v >= 0 && c > v);
}

__attribute__((noinline)) static int at_syscall(void)
{
	unwind_victim(getpid(), SIGUSR1);
	__asm__ volatile("" ::: "memory");
	return 0;
}

static volatile int spin_stop;
__attribute__((noinline)) static void spin(void)
{
	while (!spin_stop)
		;
}
__attribute__((noinline)) static int spin_caller(void)
{
	spin();
	__asm__ volatile("" ::: "memory");
	return 1;
}
static void spin_handler(int sig, siginfo_t *si, void *uc)
{
	handler(sig, si, uc);
	spin_stop = 1;
}

__attribute__((noinline)) static int pause_caller(void)
{
	pause();
	__asm__ volatile("" ::: "memory");
	return 2;
}

int main(int argc, char **argv)
{
	sig_start(argc, argv);
	on_info(SIGUSR1, handler, 0, 0);
	at_syscall();
	/* Function sizes are not known for the C ones: 200 bytes covers them. */
	report("at a system call", unwind_victim, unwind_victim_end, (char *)at_syscall, (char *)at_syscall + 200);

	on_info(SIGUSR1, spin_handler, 0, 0);
	pid_t h = send_later(getpid(), SIGUSR1, 50, 0, 0);
	later_go();
	spin_caller();
	reap(h);
	report("in a loop", (char *)spin, (char *)spin + 64, (char *)spin_caller, (char *)spin_caller + 200);

	on_info(SIGUSR1, handler, 0, 0);
	h = send_later(getpid(), SIGUSR1, 50, 0, 0);
	later_go();
	pause_caller();
	reap(h);
	int c = find(frames, nframes, (char *)pause_caller, (char *)pause_caller + 200);
	if (HAVE_UNWINDER)
		printf("in pause(): _Unwind_Backtrace finds the caller of pause() %d\n", c >= 0);
	else
		printf("in pause(): skipped (musl build: no unwinder)\n");
	Dl_info di;
	if (!HAVE_UNWINDER || !dladdr((void *)printf, &di) || !di.dli_sname) {
		printf("in pause(): no dynamic symbols for libc in this build\n");
	} else {
		int named = 0;
		for (int i = 0; i < c && i < nframes; i++)
			if (dladdr(frames[i], &di) && di.dli_sname && strstr(di.dli_sname, "pause"))
				named = 1;
		printf("in pause(): a frame before the caller is named *pause* %d\n", named);
	}
	dfl(SIGUSR1);
	return sig_end();
}
