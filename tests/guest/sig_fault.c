/* Synchronous faults and their siginfo and sigcontext: SIGSEGV
 * SEGV_MAPERR/SEGV_ACCERR with si_addr, trapno, the page-fault error code
 * and cr2 for reads, writes and instruction fetches; general protection
 * (non-canonical address, hlt) as SI_KERNEL; SIGBUS BUS_ADRERR past the
 * end of a mapped file (host file, tmpfs file, memfd, truncated file);
 * SIGFPE FPE_INTDIV for division by zero and overflow, FPE_FLTDIV for an
 * unmasked SSE exception (with the frame's mxcsr and the handler's fresh
 * one); SIGILL ILL_ILLOPN for ud2; SIGTRAP for int3 and for a single
 * step (TF); the same signals sent by kill/tgkill; a handler returning
 * re-executes the faulting instruction; a blocked or ignored synchronous
 * fault kills the process (wait status and core bit as natively), while
 * a blocked kill()-sent SIGSEGV just stays pending. */
#include "sig_util.h"
#include <fcntl.h>

long do_load(const void *p);
void do_store(void *p);
long do_idiv(long a, long b);
void do_ud2(void);
void do_int3(void);
void do_hlt(void);
void do_step(void);
float do_divss(float a, float b);
extern char load_insn[], store_insn[], idiv_insn[], ud2_insn[], int3_insn[], int3_after[],
	hlt_insn[], step_1[], step_2[], step_3[], divss_insn[];
__asm__(
	".text\n"
	".globl do_load, load_insn\n"
	"do_load:\n"
	"load_insn: mov (%rdi), %rax\n"
	"	ret\n"
	".globl do_store, store_insn\n"
	"do_store:\n"
	"store_insn: movb $1, (%rdi)\n"
	"	ret\n"
	".globl do_idiv, idiv_insn\n"
	"do_idiv:\n"
	"	mov %rdi, %rax\n"
	"	cqo\n"
	"idiv_insn: idiv %rsi\n"
	"	ret\n"
	".globl do_ud2, ud2_insn\n"
	"do_ud2:\n"
	"ud2_insn: ud2\n"
	"	ret\n"
	".globl do_int3, int3_insn, int3_after\n"
	"do_int3:\n"
	"int3_insn: int3\n"
	"int3_after: ret\n"
	".globl do_hlt, hlt_insn\n"
	"do_hlt:\n"
	"hlt_insn: hlt\n"
	"	ret\n"
	/* TF set by popf: the trap comes after the next instruction. */
	".globl do_step, step_1, step_2, step_3\n"
	"do_step:\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"step_1: nop\n"
	"step_2: nop\n"
	"step_3: nop\n"
	"	ret\n"
	".globl do_divss, divss_insn\n"
	"do_divss:\n"
	"divss_insn: divss %xmm1, %xmm0\n"
	"	ret\n");

static const char *codename(int sig, int code)
{
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_TKILL: return "SI_TKILL";
	case SI_QUEUE: return "SI_QUEUE";
	}
	static const char *segv[] = { "?", "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR" };
	static const char *bus[] = { "?", "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR" };
	static const char *fpe[] = { "?", "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
				     "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB" };
	static const char *ill[] = { "?", "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
				     "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK" };
	static const char *trap[] = { "?", "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT" };
	if (sig == SIGSEGV && code > 0 && code < 5) return segv[code];
	if (sig == SIGBUS && code > 0 && code < 4) return bus[code];
	if (sig == SIGFPE && code > 0 && code < 9) return fpe[code];
	if (sig == SIGILL && code > 0 && code < 9) return ill[code];
	if (sig == SIGTRAP && code > 0 && code < 5) return trap[code];
	static char b[32];
	snprintf(b, sizeof b, "code %d", code);
	return b;
}

static sigjmp_buf jb;
static volatile struct {
	int sig, code, errno_, pid_ours;
	uint64_t addr, rip, trapno, err, cr2, eflags;
	uint32_t mxcsr_frame, mxcsr_in;
	uint16_t fcw_in;
	int n;
} fr;
static volatile int returns_left;     /* times to return without fixing anything */
static volatile int clear_tf;         /* single step: clear TF and return */
static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
	struct kucontext *uc = ucv;
	uint32_t m;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	fr.mxcsr_in = m;
	fr.fcw_in = cw;
	fr.sig = sig;
	fr.code = si->si_code;
	fr.errno_ = si->si_errno;
	fr.pid_ours = si->si_pid == getpid();
	fr.addr = (uint64_t)si->si_addr;
	fr.rip = uc->mc.rip;
	fr.trapno = uc->mc.trapno;
	fr.err = uc->mc.err;
	fr.cr2 = uc->mc.cr2;
	fr.eflags = uc->mc.eflags;
	fr.mxcsr_frame = 0;
	if (uc->mc.fpstate)
		memcpy((void *)&fr.mxcsr_frame, (char *)uc->mc.fpstate + 24, 4);
	fr.n++;
	if (clear_tf) {
		uc->mc.eflags &= ~0x100ULL;
		return;
	}
	if (returns_left > 0) {
		returns_left--;
		return;
	}
	siglongjmp(jb, 1);
}

static void install(void)
{
	int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	for (int i = 0; i < 5; i++)
		on_info(sigs[i], fault_handler, 0, 0);
}

/* Address as text relative to what the test expects. */
static const char *rel(uint64_t v, uint64_t want)
{
	static char b[4][40];
	static int k;
	k = (k + 1) % 4;
	if (v == want)
		snprintf(b[k], sizeof b[k], "expected");
	else if (v == 0)
		snprintf(b[k], sizeof b[k], "0");
	else
		snprintf(b[k], sizeof b[k], "expected%+lld", (long long)(v - want));
	return b[k];
}

static void report(const char *label, uint64_t want_addr, uint64_t want_rip)
{
	printf("%s: %s %s, si_addr %s, si_errno %d, rip %s, trapno %llu, err %#llx", label,
	       sname(fr.sig), codename(fr.sig, fr.code), rel(fr.addr, want_addr), fr.errno_,
	       rel(fr.rip, want_rip), (unsigned long long)fr.trapno, (unsigned long long)fr.err);
	/* cr2 is the last page fault's address: only meaningful for one. */
	if (fr.trapno == 14)
		printf(", cr2 %s", rel(fr.cr2, want_addr));
	printf("\n");
}

#define FAULT(label, call, want_addr, want_rip) do { \
	memset((void *)&fr, 0, sizeof fr); \
	if (sigsetjmp(jb, 1) == 0) { \
		call; \
		printf("%s: NO: no fault\n", label); \
	} else { \
		report(label, (uint64_t)(want_addr), (uint64_t)(want_rip)); \
	} \
} while (0)

static char *unmapped(void)
{
	char *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, PAGE);
	return p;
}

static void segv(void)
{
	printf("-- SIGSEGV\n");
	FAULT("NULL read", do_load(NULL), 0, load_insn);
	char *u = unmapped();
	FAULT("unmapped read", do_load(u + 0x18), u + 0x18, load_insn);
	FAULT("unmapped write", do_store(u + 0x20), u + 0x20, store_insn);
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FAULT("write to a read-only page never touched", do_store(ro + 8), ro + 8, store_insn);
	do_load(ro);
	FAULT("write to a read-only page after a read", do_store(ro + 8), ro + 8, store_insn);
	char *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FAULT("read of a PROT_NONE page", do_load(none + 0x30), none + 0x30, load_insn);
	FAULT("write to the program's code", do_store(load_insn), load_insn, store_insn);
	char *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rw[0] = (char)0xc3; /* ret */
	FAULT("call into a non-executable page", ((void (*)(void))rw)(), rw, rw);
	FAULT("non-canonical address", do_load((void *)0x8000000000000000ULL), 0, load_insn);
	FAULT("kernel address", do_load((void *)0xffffffff81000000ULL), 0xffffffff81000000ULL, load_insn);
	FAULT("hlt", do_hlt(), 0, hlt_insn);
	munmap(ro, PAGE);
	munmap(none, PAGE);
	munmap(rw, PAGE);

	/* A handler that returns runs the instruction again. */
	returns_left = 2;
	memset((void *)&fr, 0, sizeof fr);
	if (sigsetjmp(jb, 1) == 0)
		do_load(u);
	printf("handler returned twice: %d faults in all\n", fr.n);
	returns_left = 0;
}

static void bus(void)
{
	printf("-- SIGBUS\n");
	const char *fix = fixture_dir();
	char path[4096];
	snprintf(path, sizeof path, "%s/pageplus", fix ? fix : "/nonexistent");
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("fixture pageplus: %s\n", errname(errno));
	} else {
		char *volatile p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
		printf("last byte of the file's second page (past EOF, same page): %ld\n", do_load(p + 2 * PAGE - 8));
		FAULT("host file, page past EOF", do_load(p + 2 * PAGE + 16), p + 2 * PAGE + 16, load_insn);
		munmap(p, 3 * PAGE);
		p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		FAULT("host file, private write past EOF", do_store(p + 2 * PAGE), p + 2 * PAGE, store_insn);
		munmap(p, 3 * PAGE);
		close(fd);
	}
	snprintf(path, sizeof path, "/tmp/sig_fault.%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink(path);
	ftruncate(fd, 100);
	char *volatile p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	p[50] = 1;
	FAULT("tmp file, shared write past EOF", do_store(p + PAGE + 4), p + PAGE + 4, store_insn);
	munmap(p, 2 * PAGE);
	ftruncate(fd, 3 * PAGE);
	p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	p[2 * PAGE] = 1;
	ftruncate(fd, PAGE);
	FAULT("tmp file truncated under the mapping", do_load(p + 2 * PAGE), p + 2 * PAGE, load_insn);
	munmap(p, 3 * PAGE);
	close(fd);
	fd = (int)rsys(SYS_memfd_create, "sig_fault", 0);
	ftruncate(fd, 10);
	p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	FAULT("memfd, read past EOF", do_load(p + PAGE), p + PAGE, load_insn);
	munmap(p, 2 * PAGE);
	close(fd);
}

static void fpe_ill_trap(void)
{
	printf("-- SIGFPE\n");
	FAULT("1 / 0", do_idiv(1, 0), idiv_insn, idiv_insn);
	FAULT("INT64_MIN / -1", do_idiv((long)0x8000000000000000ULL, -1), idiv_insn, idiv_insn);
	uint32_t m = 0x1f80 & ~0x200u; /* divide-by-zero unmasked */
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
	FAULT("divss 1 / 0, unmasked", do_divss(1.0f, 0.0f), divss_insn, divss_insn);
	printf("  mxcsr in the frame %#x, in the handler %#x, x87 cw in the handler %#x\n", fr.mxcsr_frame,
	       fr.mxcsr_in, fr.fcw_in);
	uint32_t now;
	__asm__ volatile("stmxcsr %0" : "=m"(now));
	printf("  mxcsr after siglongjmp out of the handler %#x\n", now);
	m = 0x1f80;
	__asm__ volatile("ldmxcsr %0" : : "m"(m));

	printf("-- SIGILL\n");
	FAULT("ud2", do_ud2(), ud2_insn, ud2_insn);

	printf("-- SIGTRAP\n");
	FAULT("int3", do_int3(), 0, int3_after);
	memset((void *)&fr, 0, sizeof fr);
	clear_tf = 1;
	do_step();
	clear_tf = 0;
	printf("single step: %d trap(s), %s %s, si_addr %s, rip %s, trapno %llu, TF in the frame %d\n", fr.n,
	       sname(fr.sig), codename(fr.sig, fr.code), rel(fr.addr, (uint64_t)step_2),
	       rel(fr.rip, (uint64_t)step_2), (unsigned long long)fr.trapno, !!(fr.eflags & 0x100));

	printf("-- sent, not faulted\n");
	int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	for (volatile int i = 0; i < 5; i++) {
		memset((void *)&fr, 0, sizeof fr);
		if (sigsetjmp(jb, 1) == 0)
			self_kill(sigs[i]);
		printf("kill(self, %s): %s, from us %d\n", sname(sigs[i]), codename(fr.sig, fr.code),
		       fr.pid_ours);
	}
	memset((void *)&fr, 0, sizeof fr);
	if (sigsetjmp(jb, 1) == 0)
		rsys(SYS_tgkill, getpid(), rsys(SYS_gettid), SIGSEGV);
	printf("tgkill(self, SIGSEGV): %s\n", codename(fr.sig, fr.code));
}

/* ---- faults that kill ---- */
static void seg_blocked(void) { block(SIGSEGV); do_load(NULL); }
static void seg_ignored(void) { ign(SIGSEGV); do_load(NULL); }
static void seg_handled_blocked(void) { install(); block(SIGSEGV); do_load(NULL); }
static void fpe_blocked(void) { block(SIGFPE); do_idiv(1, 0); }
static void ill_ignored(void) { ign(SIGILL); do_ud2(); }
static void trap_blocked(void) { block(SIGTRAP); do_int3(); }
static void trap_ignored(void) { ign(SIGTRAP); do_int3(); }
static void bus_blocked(void)
{
	int fd = (int)rsys(SYS_memfd_create, "bus", 0);
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	block(SIGBUS);
	do_load(p);
}
static void fault_in_handler_h(int sig) { do_load(NULL); }
static void fault_in_handler(void) { on_plain(SIGSEGV, fault_in_handler_h, 0); do_load(NULL); }
static void seg_default(void) { dfl(SIGSEGV); do_load(NULL); }
static void kill_blocked(void)
{
	block(SIGSEGV);
	self_kill(SIGSEGV);
	printf("kill()-sent SIGSEGV while blocked: pending %d, still alive\n",
	       !!(cur_pending() & sigbit(SIGSEGV)));
	fflush(stdout);
	_exit(3);
}
static void deaths(void)
{
	printf("-- faults that kill\n");
	struct { const char *label; void (*fn)(void); } c[] = {
		{ "SIGSEGV default", seg_default },
		{ "SIGSEGV blocked", seg_blocked },
		{ "SIGSEGV ignored", seg_ignored },
		{ "SIGSEGV handled but blocked", seg_handled_blocked },
		{ "SIGSEGV inside its own handler", fault_in_handler },
		{ "SIGFPE blocked", fpe_blocked },
		{ "SIGILL ignored", ill_ignored },
		{ "SIGTRAP blocked", trap_blocked },
		{ "SIGTRAP ignored", trap_ignored },
		{ "SIGBUS blocked", bus_blocked },
		{ "kill(self, SIGSEGV) blocked", kill_blocked },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		int st = in_child(c[i].fn);
		printf("%s: %s\n", c[i].label, status_core(st));
	}
}

int main(int argc, char **argv)
{
	sig_start(argc, argv);
	install();
	segv();
	bus();
	fpe_ill_trap();
	deaths();
	return sig_end();
}
