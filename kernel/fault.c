/* The kernel's SIGSEGV/SIGBUS handler: a fault at an instruction listed in
 * the exception table resumes at its fixup; any other fault (and SIGFPE,
 * SIGILL) is a kernel bug and produces an Oops report, then the kernel
 * exits with status 70 (EX_SOFTWARE). The handler and everything it calls
 * are async-signal-safe: write(2) only, numbers formatted by hand. */
#include "kernel/tty.h"
#include "kernel/fault.h"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define EX_SOFTWARE 70
#define ALTSTACK_SIZE (64 * 1024)
#define GUARD_SIZE 4096

/* Provided by the linker for the section mm/copy_x86_64.S fills. */
extern const struct extable_entry __start_cocoon_extable[]
	__attribute__((weak, visibility("hidden")));
extern const struct extable_entry __stop_cocoon_extable[]
	__attribute__((weak, visibility("hidden")));

void (*oops_hook)(void);

static struct extable_abs *extable;
static size_t extable_len;

static int cmp_insn(const void *a, const void *b)
{
	uintptr_t x = ((const struct extable_abs *)a)->insn;
	uintptr_t y = ((const struct extable_abs *)b)->insn;
	return x < y ? -1 : x > y;
}

uintptr_t extable_search(uintptr_t insn)
{
	size_t lo = 0, hi = extable_len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (extable[mid].insn == insn)
			return extable[mid].fixup;
		if (extable[mid].insn < insn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

size_t extable_sorted(const struct extable_abs **tab)
{
	*tab = extable;
	return extable_len;
}

/* ---- Oops report -------------------------------------------------------- */

struct out {
	size_t len;
	char buf[256];
};

static void out_flush(struct out *o)
{
	size_t done = 0;
	while (done < o->len) {
		ssize_t r = write(2, o->buf + done, o->len - done);
		if (r <= 0)
			break; /* EINTR cannot happen: every other signal is blocked */
		done += r;
	}
	o->len = 0;
}

static void out_str(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (o->len == sizeof(o->buf))
			out_flush(o);
		o->buf[o->len++] = *s;
	}
}

static void out_num(struct out *o, uint64_t v, unsigned base, int width)
{
	char t[24];
	int n = 0;
	do {
		t[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v || n < width);
	while (n) {
		char c[2] = { t[--n], 0 };
		out_str(o, c);
	}
}

static void out_dec(struct out *o, long v)
{
	if (v < 0)
		out_str(o, "-");
	out_num(o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, 1);
}

static int oops_owner; /* tid of the thread reporting an Oops */
static int hook_called;

/* Only one thread reports; others wait for it to end the process. A fault
 * while reporting (the handler runs with SA_NODEFER) cuts the report short. */
static void oops_begin(struct out *o)
{
	int tid = syscall(SYS_gettid), prev = 0;
	if (__atomic_compare_exchange_n(&oops_owner, &prev, tid, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	if (prev == tid) {
		out_str(o, "cocoon: fault during the Oops report\n");
		out_flush(o);
		if (oops_hook && !__atomic_exchange_n(&hook_called, 1, __ATOMIC_SEQ_CST))
			oops_hook();
		_exit(EX_SOFTWARE);
	}
	for (;;)
		pause();
}

static _Noreturn void oops_end(struct out *o)
{
	void *frames[64];
	out_str(o, "Backtrace:\n");
	out_flush(o);
	int n = backtrace(frames, 64);
	backtrace_symbols_fd(frames, n, 2);
	if (oops_hook && !__atomic_exchange_n(&hook_called, 1, __ATOMIC_SEQ_CST))
		oops_hook();
	tty_restore(); /* the terminal as the user had it (async-signal-safe) */
	out_str(o, "cocoon: end of Oops, exiting\n");
	out_flush(o);
	_exit(EX_SOFTWARE);
}

void oops(const char *msg)
{
	struct out o = { 0 };
	oops_begin(&o);
	out_str(&o, "cocoon: Oops: ");
	out_str(&o, msg);
	out_str(&o, ", in thread ");
	out_dec(&o, syscall(SYS_gettid));
	out_str(&o, "\n");
	oops_end(&o);
}

static const struct { char name[4]; int reg; } regs[] = {
	{ "RAX", REG_RAX }, { "RBX", REG_RBX }, { "RCX", REG_RCX },
	{ "RDX", REG_RDX }, { "RSI", REG_RSI }, { "RDI", REG_RDI },
	{ "RBP", REG_RBP }, { "RSP", REG_RSP }, { "R8 ", REG_R8 },
	{ "R9 ", REG_R9 }, { "R10", REG_R10 }, { "R11", REG_R11 },
	{ "R12", REG_R12 }, { "R13", REG_R13 }, { "R14", REG_R14 },
	{ "R15", REG_R15 }, { "RIP", REG_RIP }, { "EFL", REG_EFL },
	{ "ERR", REG_ERR }, { "TRP", REG_TRAPNO }, { "CR2", REG_CR2 },
};

static void fault_handler(int sig, siginfo_t *si, void *ctx)
{
	greg_t *gregs = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	/* si_code > 0: raised by the CPU, not sent by kill/tgkill. */
	if ((sig == SIGSEGV || sig == SIGBUS) && si->si_code > 0) {
		uintptr_t fixup = extable_search((uintptr_t)gregs[REG_RIP]);
		if (fixup) {
			gregs[REG_RIP] = (greg_t)fixup;
			return;
		}
	}

	struct out o = { 0 };
	oops_begin(&o);
	uintptr_t addr = (uintptr_t)si->si_addr, rsp = (uintptr_t)gregs[REG_RSP];
	out_str(&o, "cocoon: Oops: ");
	out_str(&o, sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" :
		    sig == SIGFPE ? "SIGFPE" : sig == SIGILL ? "SIGILL" : "signal");
	out_str(&o, " (code ");
	out_dec(&o, si->si_code);
	if (si->si_code > 0) {
		out_str(&o, ") at address 0x");
		out_num(&o, addr, 16, 1);
	} else {
		out_str(&o, ") sent by pid ");
		out_dec(&o, si->si_pid);
	}
	out_str(&o, ", in thread ");
	out_dec(&o, syscall(SYS_gettid));
	if (sig == SIGSEGV && si->si_code > 0 && addr + 65536 > rsp && addr < rsp + 65536)
		out_str(&o, " (kernel stack overflow?)");
	out_str(&o, "\n");
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		out_str(&o, i % 3 ? "  " : " ");
		out_str(&o, regs[i].name);
		out_str(&o, ": ");
		out_num(&o, (uint64_t)gregs[regs[i].reg], 16, 16);
		if (i % 3 == 2)
			out_str(&o, "\n");
	}
	oops_end(&o);
}

/* ---- set-up ------------------------------------------------------------- */

static pthread_key_t altstack_key;
static pthread_once_t altstack_once = PTHREAD_ONCE_INIT;

static void altstack_free(void *p)
{
	stack_t ss = { .ss_flags = SS_DISABLE };
	sigaltstack(&ss, NULL);
	munmap(p, GUARD_SIZE + ALTSTACK_SIZE);
}

static void altstack_key_create(void)
{
	pthread_key_create(&altstack_key, altstack_free);
}

void fault_thread_init(void)
{
	stack_t ss;
	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE))
		return; /* ours already, or the sanitizer's */
	pthread_once(&altstack_once, altstack_key_create);
	char *p = mmap(NULL, GUARD_SIZE + ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		oops("fault_thread_init: no memory for the signal stack");
	mprotect(p, GUARD_SIZE, PROT_NONE);
	ss = (stack_t){ .ss_sp = p + GUARD_SIZE, .ss_size = ALTSTACK_SIZE };
	if (sigaltstack(&ss, NULL) != 0)
		oops("fault_thread_init: sigaltstack failed");
	pthread_setspecific(altstack_key, p);
}

void fault_init(void)
{
	if (extable)
		return;
	const struct extable_entry *e = __start_cocoon_extable;
	size_t n = __stop_cocoon_extable - __start_cocoon_extable;
	extable = malloc((n ? n : 1) * sizeof(*extable));
	if (!extable)
		oops("fault_init: no memory for the exception table");
	for (size_t i = 0; i < n; i++) {
		extable[i].insn = (uintptr_t)&e[i].insn + e[i].insn;
		extable[i].fixup = (uintptr_t)&e[i].fixup + e[i].fixup;
	}
	qsort(extable, n, sizeof(*extable), cmp_insn);
	extable_len = n;

	/* Load libgcc's unwinder now: backtrace() would dlopen it on first
	 * use, which is not safe in a signal handler. */
	void *frames[4];
	backtrace(frames, 4);

	fault_thread_init();
	struct sigaction sa = { .sa_sigaction = fault_handler,
				.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	sigfillset(&sa.sa_mask);
	for (int i = 0; i < 4; i++)
		sigdelset(&sa.sa_mask, sigs[i]);
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, NULL);
}
