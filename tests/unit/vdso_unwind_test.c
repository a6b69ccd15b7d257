/* The vDSO's signal trampoline (vdso/sigreturn.S) carries CFI for the
 * Linux x86-64 signal frame: libgcc's unwinder, started in a "handler"
 * whose return address is the trampoline, steps through it into the
 * interrupted code recorded in the frame's ucontext, and on to that
 * code's callers.
 *
 * There is no signal delivery to use, so the frame is built by hand: the
 * image is loaded with dlopen (so the unwinder finds its unwind tables
 * through dl_iterate_phdr and PT_GNU_EH_FRAME, as in a guest), then
 * enter_handler() records the registers of its caller, interrupted(), in
 * a ucontext as the kernel would, and jumps to the handler on a stack that
 * holds [trampoline address][ucontext]. The handler walks the stack and
 * leaves through leave_handler(), which returns into interrupted(). */
#include "kernel/vdso.h"
#include "tests/unit/check.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

/* Linux's rt_sigframe without the siginfo the unwinder does not need. */
struct sigframe {
	uint64_t pretcode; /* the handler's return address: the trampoline */
	ucontext_t uc;
};

/* The offsets the assembly below and vdso/sigreturn.S use. */
#define GREG(r) (offsetof(struct sigframe, uc.uc_mcontext.gregs) + 8 * (r))
_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs) == 40, "uc_mcontext at 40 (sigreturn.S)");
_Static_assert(GREG(REG_RIP) == 8 + 40 + 16 * 8 && GREG(REG_RSP) == 8 + 40 + 15 * 8 &&
	       GREG(REG_RBX) == 8 + 40 + 11 * 8 && GREG(REG_RBP) == 8 + 40 + 10 * 8 &&
	       GREG(REG_R12) == 8 + 40 + 4 * 8 && GREG(REG_R15) == 8 + 40 + 7 * 8,
	       "register offsets of the asm below");

void enter_handler(struct sigframe *frame, void (*handler)(void));
_Noreturn void leave_handler(void);

/* enter_handler(frame, handler): the caller's rip, rsp and callee-saved
 * registers into frame->uc, then the handler on the frame with the
 * trampoline (already in frame->pretcode) as its return address.
 * leave_handler(): the registers back, return to enter_handler's caller. */
__asm__(".text\n"
	".globl enter_handler\n"
	"enter_handler:\n"
	"	mov (%rsp), %rax\n"
	"	mov %rax, 176(%rdi)\n"   /* rip: where interrupted() continues */
	"	lea 8(%rsp), %rax\n"
	"	mov %rax, 168(%rdi)\n"   /* rsp: as after the return */
	"	mov %rbx, 136(%rdi)\n"
	"	mov %rbp, 128(%rdi)\n"
	"	mov %r12, 80(%rdi)\n"
	"	mov %r13, 88(%rdi)\n"
	"	mov %r14, 96(%rdi)\n"
	"	mov %r15, 104(%rdi)\n"
	"	mov %rdi, the_frame(%rip)\n"
	"	mov %rdi, %rsp\n"
	"	jmp *%rsi\n"
	".globl leave_handler\n"
	"leave_handler:\n"
	"	mov the_frame(%rip), %rdi\n"
	"	mov 136(%rdi), %rbx\n"
	"	mov 128(%rdi), %rbp\n"
	"	mov 80(%rdi), %r12\n"
	"	mov 88(%rdi), %r13\n"
	"	mov 96(%rdi), %r14\n"
	"	mov 104(%rdi), %r15\n"
	"	mov 168(%rdi), %rsp\n"
	"	jmp *176(%rdi)\n");

struct sigframe *the_frame;

#define MAX_FRAMES 16
static struct {
	uintptr_t ip[MAX_FRAMES], cfa[MAX_FRAMES];
	int n;
} trace;

static _Unwind_Reason_Code record(struct _Unwind_Context *ctx, void *arg)
{
	if (trace.n == MAX_FRAMES)
		return _URC_END_OF_STACK;
	trace.ip[trace.n] = _Unwind_GetIP(ctx);
	trace.cfa[trace.n] = _Unwind_GetCFA(ctx);
	trace.n++;
	return _URC_NO_REASON;
}

static void handler(void)
{
	_Unwind_Backtrace(record, NULL);
	leave_handler();
}

static uintptr_t interrupted_returns_to;

/* Interrupted right after its call to enter_handler. */
static __attribute__((noinline)) void interrupted(struct sigframe *frame)
{
	interrupted_returns_to = (uintptr_t)__builtin_return_address(0);
	enter_handler(frame, handler);
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	/* The image as a shared object the dynamic linker loads. */
	size_t len;
	const void *img = vdso_image(&len);
	int fd = memfd_create("vdso", 0);
	CHECK(fd >= 0 && write(fd, img, len) == (ssize_t)len, "image in a memfd");
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	CHECK(h != NULL, "dlopen of the image: %s", h ? "ok" : dlerror());
	if (!h)
		CHECK_DONE();
	const unsigned char *tramp = dlsym(h, "__vdso_rt_sigreturn");
	CHECK(tramp != NULL, "__vdso_rt_sigreturn");
	if (!tramp)
		CHECK_DONE();
	/* mov $15, %eax; syscall: not libgcc's fallback pattern (mov $15,
	 * %rax), so only the CFI can make the walk below work. */
	static const unsigned char code[] = { 0xb8, 15, 0, 0, 0, 0x0f, 0x05 };
	CHECK(!memcmp(tramp, code, sizeof code), "the trampoline makes rt_sigreturn");

	/* The handler's stack: the frame at an address = 8 mod 16, as at a
	 * function's entry. */
	size_t stack = 1 << 16;
	unsigned char *st = mmap(NULL, stack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sigframe *frame = (struct sigframe *)(st + stack - 4096 - 8);
	memset(frame, 0, sizeof *frame);
	frame->pretcode = (uintptr_t)tramp;

	interrupted(frame);

	int t = -1;
	for (int i = 0; i < trace.n; i++)
		if (trace.ip[i] == (uintptr_t)tramp)
			t = i;
	CHECK(t >= 1, "the walk reaches the trampoline (%d frames)", trace.n);
	if (t >= 1 && t + 2 < trace.n) {
		CHECK_EQ(trace.ip[t + 1], frame->uc.uc_mcontext.gregs[REG_RIP],
			 "then the interrupted code, at the uc_mcontext rip");
		/* libgcc reports, with each frame's ip, its callee's CFA. */
		CHECK_EQ(trace.cfa[t], (uintptr_t)&frame->uc, "the handler returned with rsp at the ucontext");
		CHECK_EQ(trace.cfa[t + 1], frame->uc.uc_mcontext.gregs[REG_RSP],
			 "the trampoline's CFA is the interrupted rsp");
		CHECK_EQ(trace.ip[t + 2], interrupted_returns_to, "then the interrupted code's caller");
	}
	munmap(st, stack);
	CHECK_DONE();
}
