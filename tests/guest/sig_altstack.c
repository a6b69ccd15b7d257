/* Alternate signal stacks: sigaltstack's errors and what it reports;
 * SA_ONSTACK handlers run on it (nested ones further down it), report
 * SS_ONSTACK and get EPERM changing it; handlers without SA_ONSTACK and
 * a disabled stack use the ordinary one; the uc_stack saved in the frame;
 * SS_AUTODISARM (disarmed inside the handler, re-armed by sigreturn);
 * siglongjmp out of it; stack overflow caught on the alternate stack and
 * recovered twice; fork keeps it; a frame that does not fit (too small an
 * alternate stack, or an unwritable stack) is a SIGSEGV: death, or the
 * SIGSEGV handler when it has a stack of its own. */
#include "sig_util.h"
#include <sys/auxv.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

#define ALT_SIZE (64 * 1024)
static char *alt;   /* ALT_SIZE bytes, a PROT_NONE guard page below */

static char *guarded(size_t size)
{
	char *p = mmap(NULL, size + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(p, PAGE, PROT_NONE);
	return p + PAGE;
}

static long set_alt(void *sp, size_t size, int flags)
{
	stack_t ss = { .ss_sp = sp, .ss_size = size, .ss_flags = flags };
	return rsys(SYS_sigaltstack, &ss, 0);
}
static stack_t get_alt(void)
{
	stack_t ss;
	memset(&ss, 0x5a, sizeof ss);
	rsys(SYS_sigaltstack, 0, &ss);
	return ss;
}
static const char *flagstr(int f)
{
	static char b[2][64];
	static int k;
	k ^= 1;
	snprintf(b[k], sizeof b[k], "%s%s%s%s", f == 0 ? "0" : "",
		 (f & SS_ONSTACK) ? "SS_ONSTACK " : "", (f & SS_DISABLE) ? "SS_DISABLE " : "",
		 (f & (int)SS_AUTODISARM) ? "SS_AUTODISARM " : "");
	size_t n = strlen(b[k]);
	if (n && b[k][n - 1] == ' ')
		b[k][n - 1] = 0;
	if (f & ~(SS_ONSTACK | SS_DISABLE | (int)SS_AUTODISARM))
		snprintf(b[k], sizeof b[k], "%#x", f);
	return b[k];
}
/* A stack_t as text, addresses relative to alt. */
static const char *ssstr(uint64_t sp, int flags, uint64_t size)
{
	static char b[2][128];
	static int k;
	k ^= 1;
	char where[48];
	if (sp == 0)
		snprintf(where, sizeof where, "NULL");
	else if (sp >= (uint64_t)alt - PAGE && sp < (uint64_t)alt + 2 * ALT_SIZE)
		snprintf(where, sizeof where, "alt%+lld", (long long)(sp - (uint64_t)alt));
	else
		snprintf(where, sizeof where, "elsewhere");
	snprintf(b[k], sizeof b[k], "sp %s, flags %s, size %llu", where, flagstr(flags), (unsigned long long)size);
	return b[k];
}
static void print_alt(const char *label)
{
	stack_t ss = get_alt();
	printf("%s: %s\n", label, ssstr((uint64_t)ss.ss_sp, ss.ss_flags, ss.ss_size));
}
static int on_alt(const void *p)
{
	return (const char *)p >= alt && (const char *)p < alt + ALT_SIZE;
}

static void errors(void)
{
	printf("-- sigaltstack\n");
	print_alt("initially");
	unsigned long min = getauxval(AT_MINSIGSTKSZ);
	printf("AT_MINSIGSTKSZ: %s\n", min == 0 ? "absent" : min >= 2048 && min < 65536 ? "present, >= 2048" : "odd");
	res("flags 0x1234", set_alt(alt, ALT_SIZE, 0x1234));
	res("flags SS_ONSTACK|SS_DISABLE", set_alt(alt, ALT_SIZE, SS_ONSTACK | SS_DISABLE));
	res("size 2047", set_alt(alt, 2047, 0));
	res("size 0", set_alt(alt, 0, 0));
	res("size 2048", set_alt(alt + ALT_SIZE - 2048, 2048, 0));
	print_alt("now");
	res("SS_DISABLE with size 0", set_alt(NULL, 0, SS_DISABLE));
	print_alt("now");
	res("SS_ONSTACK as the flag", set_alt(alt, ALT_SIZE, SS_ONSTACK));
	print_alt("now");
	res("SS_AUTODISARM", set_alt(alt, ALT_SIZE, SS_AUTODISARM));
	print_alt("now");
	res("SS_DISABLE|SS_AUTODISARM", set_alt(alt, ALT_SIZE, SS_DISABLE | SS_AUTODISARM));
	print_alt("now");
	res("bad pointer", rsys(SYS_sigaltstack, 8, 0));
	res("bad old pointer", rsys(SYS_sigaltstack, 0, 8));
	res("both NULL", rsys(SYS_sigaltstack, 0, 0));
}

/* ---- handlers on it ---- */
static struct {
	int on_alt;
	stack_t inside;
	struct kstack uc_stack;
	long set_same, set_other, disable;
	int nested_on_alt, nested_below;
	struct kstack nested_uc_stack;
	stack_t nested_inside;
} rec;
static int nest_next;

static void inner_handler(int sig, siginfo_t *si, void *ucv)
{
	struct kucontext *uc = ucv;
	int local;
	rec.nested_on_alt = on_alt(&local);
	rec.nested_below = (char *)&local < (char *)uc->mc.rsp;
	rec.nested_uc_stack = uc->uc_stack;
	rec.nested_inside = get_alt();
}
static void alt_handler(int sig, siginfo_t *si, void *ucv)
{
	struct kucontext *uc = ucv;
	int local;
	rec.on_alt = on_alt(&local);
	rec.inside = get_alt();
	rec.uc_stack = uc->uc_stack;
	rec.set_same = set_alt(alt, ALT_SIZE, 0);
	rec.set_other = set_alt(alt + ALT_SIZE, ALT_SIZE, 0);
	rec.disable = set_alt(NULL, 0, SS_DISABLE);
	if (nest_next) {
		nest_next = 0;
		self_kill(SIGUSR2);
	}
}
static void print_rec(const char *label)
{
	printf("%s: on the alternate stack %d\n", label, rec.on_alt);
	printf("%s: sigaltstack inside: %s\n", label,
	       ssstr((uint64_t)rec.inside.ss_sp, rec.inside.ss_flags, rec.inside.ss_size));
	printf("%s: uc_stack: %s\n", label, ssstr(rec.uc_stack.ss_sp, rec.uc_stack.ss_flags, rec.uc_stack.ss_size));
	printf("%s: changing it inside: same %s, other %s, disable %s\n", label, rstr(rec.set_same),
	       rstr(rec.set_other), rstr(rec.disable));
	memset(&rec, 0, sizeof rec);
}

static void handlers(void)
{
	printf("-- SA_ONSTACK\n");
	set_alt(alt, ALT_SIZE, 0);
	on_info(SIGUSR1, alt_handler, SA_ONSTACK, 0);
	self_kill(SIGUSR1);
	print_rec("SA_ONSTACK");
	print_alt("after");

	nest_next = 1;
	on_info(SIGUSR2, inner_handler, SA_ONSTACK, 0);
	self_kill(SIGUSR1);
	printf("nested: on the alternate stack %d, below the outer frame %d\n", rec.nested_on_alt,
	       rec.nested_below);
	printf("nested: sigaltstack inside: %s\n",
	       ssstr((uint64_t)rec.nested_inside.ss_sp, rec.nested_inside.ss_flags, rec.nested_inside.ss_size));
	printf("nested: uc_stack: %s\n",
	       ssstr(rec.nested_uc_stack.ss_sp, rec.nested_uc_stack.ss_flags, rec.nested_uc_stack.ss_size));
	print_rec("outer");

	on_info(SIGUSR1, alt_handler, 0, 0);
	self_kill(SIGUSR1);
	print_rec("without SA_ONSTACK");
	/* The handler's sigaltstack calls succeeded (it was not on it), but
	 * sigreturn put back what the frame had saved. */
	print_alt("after");

	set_alt(NULL, 0, SS_DISABLE);
	on_info(SIGUSR1, alt_handler, SA_ONSTACK, 0);
	self_kill(SIGUSR1);
	print_rec("SS_DISABLE");
	set_alt(NULL, 0, SS_DISABLE);

	printf("-- SS_AUTODISARM\n");
	res("set", set_alt(alt, ALT_SIZE, SS_AUTODISARM));
	self_kill(SIGUSR1);
	print_rec("SS_AUTODISARM");
	print_alt("after");
	nest_next = 1;
	self_kill(SIGUSR1);
	printf("nested under SS_AUTODISARM: on the alternate stack %d, below the outer frame %d\n",
	       rec.nested_on_alt, rec.nested_below);
	printf("nested under SS_AUTODISARM: uc_stack: %s\n",
	       ssstr(rec.nested_uc_stack.ss_sp, rec.nested_uc_stack.ss_flags, rec.nested_uc_stack.ss_size));
	memset(&rec, 0, sizeof rec);
	print_alt("after");
	set_alt(NULL, 0, SS_DISABLE);
	dfl(SIGUSR1);
	dfl(SIGUSR2);
}

/* ---- siglongjmp out of it ---- */
static sigjmp_buf jb;
static stack_t jump_inside;
static void jump_handler(int sig, siginfo_t *si, void *uc)
{
	jump_inside = get_alt();
	siglongjmp(jb, 1);
}
static void longjmp_out(void)
{
	printf("-- siglongjmp out of the alternate stack\n");
	set_alt(alt, ALT_SIZE, 0);
	on_info(SIGUSR1, jump_handler, SA_ONSTACK, 0);
	if (sigsetjmp(jb, 1) == 0) {
		self_kill(SIGUSR1);
		printf("NO: the handler returned\n");
	}
	printf("inside: %s\n", flagstr(jump_inside.ss_flags));
	print_alt("after the jump");
	printf("mask after the jump: %s\n", maskstr(cur_mask()));
	res("changing it now", set_alt(alt, ALT_SIZE, 0));
	set_alt(NULL, 0, SS_DISABLE);
	dfl(SIGUSR1);
}

/* ---- stack overflow ---- */
static volatile uintptr_t deepest;
static volatile int keep_going = 1;
static volatile uint64_t ovf_addr;
static volatile int ovf_code, ovf_on_alt;
static int recurse(int n)
{
	volatile char buf[1024];
	buf[0] = (char)n;
	deepest = (uintptr_t)buf;
	if (!keep_going)
		return 0;
	return recurse(n + 1) + buf[0];
}
static void ovf_handler(int sig, siginfo_t *si, void *uc)
{
	int local;
	ovf_addr = (uint64_t)si->si_addr;
	ovf_code = si->si_code;
	ovf_on_alt = on_alt(&local);
	siglongjmp(jb, 1);
}
static void overflow(void)
{
	printf("-- stack overflow\n");
	set_alt(alt, ALT_SIZE, 0);
	on_info(SIGSEGV, ovf_handler, SA_ONSTACK, 0);
	for (int round = 1; round <= 2; round++) {
		if (sigsetjmp(jb, 1) == 0) {
			recurse(0);
			printf("NO: recursion ended\n");
		}
		uint64_t d = (uint64_t)deepest;
		printf("round %d: caught on the alternate stack %d, si_code %s, si_addr just below the deepest frame %d\n",
		       round, ovf_on_alt, ovf_code == SEGV_MAPERR ? "SEGV_MAPERR" : ovf_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other",
		       ovf_addr < d && d - ovf_addr < 64 * 1024);
		print_alt("after");
	}
	set_alt(NULL, 0, SS_DISABLE);
	dfl(SIGSEGV);
}

/* ---- frames that do not fit ---- */
static volatile int small_ran;
static void small_handler(int sig, siginfo_t *si, void *uc) { small_ran = 1; }
static void too_small_child(void)
{
	char *s = guarded(PAGE);
	res("2048-byte stack", set_alt(s + PAGE - 2048, 2048, 0));
	on_info(SIGUSR1, small_handler, SA_ONSTACK, 0);
	on_info(SIGSEGV, small_handler, SA_ONSTACK, 0);
	self_kill(SIGUSR1);
	printf("NO: survived, handler ran %d\n", small_ran);
}
static void minsig_child(void)
{
	unsigned long min = getauxval(AT_MINSIGSTKSZ);
	if (!min)
		min = 2048;
	size_t size = (min + PAGE - 1) & ~(PAGE - 1);
	char *s = guarded(size);
	set_alt(s + size - min, min, 0);
	on_info(SIGUSR1, small_handler, SA_ONSTACK, 0);
	self_kill(SIGUSR1);
	printf("AT_MINSIGSTKSZ-sized stack: handler ran %d\n", small_ran);
}

long kill_on_stack(void *sp, long pid, long sig);
__asm__(
	".text\n"
	".globl kill_on_stack\n"
	"kill_on_stack:\n"
	"	push %rbx\n"
	"	mov %rsp, %rbx\n"
	"	mov %rdi, %rsp\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	mov $62, %eax\n"
	"	syscall\n"
	"	mov %rbx, %rsp\n"
	"	pop %rbx\n"
	"	ret\n");
static volatile int segv_code = -1, segv_on_alt;
static volatile uint64_t segv_addr;
static void segv_rec(int sig, siginfo_t *si, void *uc)
{
	int local;
	segv_code = si->si_code;
	segv_addr = (uint64_t)si->si_addr;
	segv_on_alt = on_alt(&local);
	siglongjmp(jb, 1);
}
static void *readonly_top(void)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p + 2 * PAGE;
}
static void bad_stack_child(void)
{
	on_info(SIGUSR1, small_handler, 0, 0);
	kill_on_stack(readonly_top(), getpid(), SIGUSR1);
	printf("NO: survived, handler ran %d\n", small_ran);
}
static void bad_stack_segv_child(void)
{
	/* The SIGSEGV that replaces the undeliverable signal goes to a
	 * handler on the alternate stack. */
	set_alt(alt, ALT_SIZE, 0);
	on_info(SIGUSR1, small_handler, 0, 0);
	on_info(SIGSEGV, segv_rec, SA_ONSTACK, 0);
	if (sigsetjmp(jb, 1) == 0) {
		kill_on_stack(readonly_top(), getpid(), SIGUSR1);
		printf("NO: survived without SIGSEGV\n");
	}
	printf("SIGSEGV handler: on the alternate stack %d, si_code %#x, si_addr %s, SIGUSR1 handler ran %d\n",
	       segv_on_alt, segv_code, segv_addr == 0 ? "0" : "set", small_ran);
	printf("SIGUSR1 still pending %d\n", !!(cur_pending() & sigbit(SIGUSR1)));
}
static void no_fit(void)
{
	printf("-- frames that do not fit\n");
	printf("too small: %s\n", status_core(in_child(too_small_child)));
	printf("AT_MINSIGSTKSZ: %s\n", status_core(in_child(minsig_child)));
	printf("read-only stack: %s\n", status_core(in_child(bad_stack_child)));
	printf("read-only stack, SIGSEGV handler on the alternate stack: %s\n",
	       status_core(in_child(bad_stack_segv_child)));
}

static void fork_keeps(void)
{
	printf("-- fork\n");
	set_alt(alt, ALT_SIZE, SS_AUTODISARM);
	pid_t pid = xfork();
	if (pid == 0) {
		print_alt("child");
		_exit(0);
	}
	reap(pid);
	set_alt(NULL, 0, SS_DISABLE);
}

int main(int argc, char **argv)
{
	sig_start(argc, argv);
	alt = guarded(2 * ALT_SIZE);
	errors();
	set_alt(NULL, 0, SS_DISABLE);
	handlers();
	longjmp_out();
	overflow();
	no_fit();
	fork_keeps();
	return sig_end();
}
