/* Signals returning through the vDSO's trampoline, __vdso_rt_sigreturn
 * (cocoon's own export, version COCOON_1), given as SA_RESTORER: the
 * handler returns into the interrupted code with every register intact,
 * and libgcc's unwinder and glibc's backtrace() step from the handler
 * through the trampoline (its CFI describes the signal frame; its code is
 * not glibc's __restore_rt, which libgcc would recognise without CFI) to
 * the interrupted function and its callers, for a signal at a system call
 * and one interrupting a loop.
 *
 * Linux's x86-64 vDSO exports no trampoline: natively the libc's restorer
 * is used instead (read back from the kernel after sigaction), so both
 * runs print the same lines. musl builds have no unwinder: only the
 * return is checked. */
#include "sig_util.h"
#include <elf.h>
#include <sys/auxv.h>
#ifdef __GLIBC__
#include <execinfo.h>
#include <unwind.h>
#define HAVE_UNWINDER 1
#else
#define HAVE_UNWINDER 0
#endif

/* A function of the vDSO by name (DT_HASH), or NULL. */
static void *vdso_sym(const char *name)
{
	const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	if (!base)
		return NULL;
	const Elf64_Ehdr *eh = (const void *)base;
	const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff);
	const Elf64_Dyn *d = NULL;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			d = (const void *)(base + ph[i].p_vaddr);
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const uint32_t *hash = NULL;
	for (; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB) sym = (const void *)(base + d->d_un.d_ptr);
		if (d->d_tag == DT_STRTAB) str = (const void *)(base + d->d_un.d_ptr);
		if (d->d_tag == DT_HASH) hash = (const void *)(base + d->d_un.d_ptr);
	}
	for (uint32_t i = 1; sym && str && hash && i < hash[1]; i++)
		if (!strcmp(str + sym[i].st_name, name) && sym[i].st_shndx != SHN_UNDEF)
			return (void *)(base + sym[i].st_value);
	return NULL;
}

/* The interrupted function: kill(pid, sig) with callee-saved registers
 * holding known values, which must survive the handler and the return. */
long victim(long pid, long sig);
extern char victim_end[];
__asm__(".text\n"
	".globl victim, victim_end\n"
	".type victim, @function\n"
	"victim:\n"
	"	.cfi_startproc\n"
	"	push %rbp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset %rbp, -16\n"
	"	mov %rsp, %rbp\n"
	"	.cfi_def_cfa_register %rbp\n"
	"	push %rbx\n"
	"	push %r12\n"
	"	.cfi_offset %rbx, -24\n"
	"	.cfi_offset %r12, -32\n"
	"	mov $0x1122334455667788, %rbx\n"
	"	mov $0x0102030405060708, %r12\n"
	"	mov $62, %eax\n" /* kill(rdi, rsi) */
	"	syscall\n"
	"	xor %eax, %eax\n"
	"	mov $0x1122334455667788, %rcx\n"
	"	cmp %rcx, %rbx\n"
	"	setne %al\n"
	"	mov $0x0102030405060708, %rcx\n"
	"	cmp %rcx, %r12\n"
	"	setne %cl\n"
	"	or %cl, %al\n" /* 0 when both survived */
	"	pop %r12\n"
	"	pop %rbx\n"
	"	pop %rbp\n"
	"	.cfi_def_cfa %rsp, 8\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"victim_end:\n"
	".size victim, .-victim\n");

#define MAXF 64
static void *frames[MAXF], *frames_bt[MAXF];
static int nframes, nframes_bt;
static void *restorer;
static volatile int handled;

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
	/* The handler's return address is the restorer. */
	handled = __builtin_return_address(0) == restorer ? 1 : 2;
#if HAVE_UNWINDER
	nframes = 0;
	_Unwind_Backtrace(collect, NULL);
	nframes_bt = backtrace(frames_bt, MAXF);
#endif
}

/* The first frame from index `from` in [lo, hi), or -1. */
static int find_from(void **f, int from, int n, const void *lo, const void *hi)
{
	for (int i = from < 0 ? 0 : from; i < n; i++)
		if ((const char *)f[i] >= (const char *)lo && (const char *)f[i] < (const char *)hi)
			return i;
	return -1;
}

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
		printf("%s: unwinding skipped (musl build: no unwinder)\n", label);
		return;
	}
	int r = find(frames, nframes, restorer, (char *)restorer + 16);
	/* The callers' ranges are guesses (200 bytes): looked for only
	 * after the frame before them. */
	int v = find_from(frames, r + 1, nframes, lo, hi), c = find_from(frames, v + 1, nframes, clo, chi);
	printf("%s: _Unwind_Backtrace: the trampoline %d, then the interrupted function %d, then its caller %d\n",
	       label, r >= 0, v > r && r >= 0, c > v && v >= 0);
	v = find(frames_bt, nframes_bt, lo, hi);
	c = find_from(frames_bt, v + 1, nframes_bt, clo, chi);
	printf("%s: backtrace(): the interrupted function %d, then its caller %d\n", label, v >= 0,
	       c > v && v >= 0);
}

/* rt_sigaction with restorer r for the handler above. */
static void install(int sig, void *r)
{
	struct ksigaction ka = { .handler = (void *)handler, .flags = SA_SIGINFO | SA_RESTORER, .restorer = r };
	long e = rsys(SYS_rt_sigaction, sig, &ka, NULL, KSIGSET);
	if (e)
		printf("rt_sigaction: %s\n", rstr(e));
}

__attribute__((noinline)) static int at_syscall(void)
{
	int bad = (int)victim(getpid(), SIGUSR1);
	__asm__ volatile("" ::: "memory");
	return bad;
}

static volatile int spin_stop;
__attribute__((noinline)) static void spin(void)
{
	while (!handled)
		;
}
__attribute__((noinline)) static int spin_caller(void)
{
	spin();
	__asm__ volatile("" ::: "memory");
	return 1;
}

int main(int argc, char **argv)
{
	sig_start(argc, argv);
	void *vdso_tramp = vdso_sym("__vdso_rt_sigreturn");
	/* Natively: the restorer libc's sigaction installs. */
	on_info(SIGUSR1, handler, 0, 0);
	struct ksigaction old;
	rsys(SYS_rt_sigaction, SIGUSR1, NULL, &old, KSIGSET);
	restorer = vdso_tramp ? vdso_tramp : old.restorer;
	install(SIGUSR1, restorer);
	printf("restorer: %s\n", restorer ? "found" : "none");

	handled = 0;
	int bad = at_syscall();
	printf("at a system call: handled %d, returned with callee-saved registers intact %d\n", handled == 1,
	       bad == 0);
	report("at a system call", victim, victim_end, (char *)at_syscall, (char *)at_syscall + 200);

	handled = 0;
	pid_t h = send_later(getpid(), SIGUSR1, 50, 0, 0);
	later_go();
	spin_caller();
	reap(h);
	printf("in a loop: handled %d\n", handled == 1);
	report("in a loop", (char *)spin, (char *)spin + 64, (char *)spin_caller, (char *)spin_caller + 200);
	dfl(SIGUSR1);
	return sig_end();
}
