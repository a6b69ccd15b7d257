/* x86-64 signal frames, laid out as Linux's (arch/x86/kernel/signal_64.c,
 * arch/x86/kernel/fpu/signal.c): below the red zone (or on the alternate
 * stack), the FPU/xsave image aligned to 64 bytes, then struct
 * rt_sigframe aligned so the handler starts as if called. The xsave image
 * is the one the host kernel wrote for the trap, which on the same CPU is
 * exactly what Linux would write here. */
#include <stddef.h>
#include <string.h>
#include "kernel/sigframe.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"
#include "platform/platform.h"

struct k_sigcontext {
	struct guest_regs regs; /* r8 ... cr2, Linux's sigcontext order */
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct k_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	siginfo_t info;
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "Linux struct sigcontext (x86-64)");
_Static_assert(offsetof(struct rt_sigframe, info) == 312, "Linux struct rt_sigframe (x86-64)");
_Static_assert(sizeof(struct rt_sigframe) == 440, "Linux struct rt_sigframe (x86-64)");

#define SA_RESTORER 0x04000000
#define SS_AUTODISARM (1U << 31)
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define SW_BYTES_OFF 464 /* struct _fpx_sw_bytes in the fxsave area */
#define XSAVE_HDR_OFF 512
#define FXSAVE_SIZE 512
#define REDZONE 128
#define USER_CS 0x33
#define USER_DS 0x2b
#define EFL_TF 0x100
#define EFL_DF 0x400
#define EFL_RF 0x10000
/* The flags sigreturn takes from the frame (Linux's FIX_EFLAGS). */
#define FIX_EFLAGS 0x50dd5

static bool on_stack_range(const struct altstack *s, uint64_t sp)
{
	return sp > s->sp && sp - s->sp <= s->size;
}

/* Linux's on_sig_stack: an auto-disarmed stack never counts as in use. */
static bool on_altstack(const struct altstack *s, uint64_t sp)
{
	return !(s->flags & SS_AUTODISARM) && on_stack_range(s, sp);
}

static void set_user_segments(struct guest_regs *r)
{
	/* cs, gs, fs, ss as 16-bit fields: user code and data selectors. */
	r->csgsfs = USER_CS | ((uint64_t)USER_DS << 48);
}

int sigframe_setup(struct thread *t, int sig, const struct ksigaction *ka, const siginfo_t *info,
		   uint64_t oldmask)
{
	struct guest_regs *r = &t->regs;
	struct altstack *as = &t->altstack;
	if (!(ka->flags & SA_RESTORER))
		return -EFAULT; /* x86-64 has no default return path */
	size_t fplen = 0;
	const uint8_t *fp = platform_thread_fpstate(t->plat, &fplen);

	uint64_t sp = r->rsp - REDZONE;
	bool nested = on_altstack(as, r->rsp), entering = false;
	if ((ka->flags & SA_ONSTACK) && as->size && !on_altstack(as, sp)) {
		sp = as->sp + as->size;
		entering = true;
	}
	uint64_t fpaddr = fp ? (sp - fplen) & ~63UL : sp;
	sp = fpaddr - sizeof(struct rt_sigframe);
	sp = (sp & ~15UL) - 8; /* Linux's align_sigframe: as if a call pushed the return address */
	if ((nested || entering) && !on_stack_range(as, sp))
		return -EFAULT; /* it would overflow the alternate stack */

	struct rt_sigframe f;
	memset(&f, 0, sizeof(f));
	bool xsave = false;
	if (fp) {
		uint32_t magic1;
		memcpy(&magic1, fp + SW_BYTES_OFF, 4);
		xsave = magic1 == FP_XSTATE_MAGIC1;
	}
	f.pretcode = ka->restorer;
	f.uc.uc_flags = (xsave ? UC_FP_XSTATE : 0) | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.uc_stack.ss_sp = as->sp;
	f.uc.uc_stack.ss_flags = (int32_t)as->flags;
	f.uc.uc_stack.ss_size = as->size;
	f.uc.uc_mcontext.regs = *r;
	f.uc.uc_mcontext.regs.oldmask = oldmask;
	f.uc.uc_mcontext.fpstate = fp ? fpaddr : 0;
	f.uc.uc_sigmask = oldmask;
	f.info = *info;
	/* siginfo only for SA_SIGINFO handlers, like Linux: the rest of the
	 * frame is written, that part of the stack left as it was. */
	size_t n = (ka->flags & SA_SIGINFO) ? sizeof(f) : offsetof(struct rt_sigframe, info);
	if ((fp && copy_to_guest(fpaddr, fp, fplen)) || copy_to_guest(sp, &f, n))
		return -EFAULT;

	/* Handler entry, as Linux sets it up. */
	r->rdi = (uint64_t)sig;
	r->rsi = sp + offsetof(struct rt_sigframe, info);
	r->rdx = sp + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->rsp = sp;
	r->rip = ka->handler;
	r->eflags &= ~(uint64_t)(EFL_DF | EFL_RF | EFL_TF);
	set_user_segments(r);
	platform_thread_fpu_reset(t->plat); /* the handler starts with a clean FPU */
	if (entering && (as->flags & SS_AUTODISARM))
		*as = (struct altstack){ 0, 0, SS_DISABLE };
	return 0;
}

/* Load the FPU image at guest address buf into the trapped frame, after
 * the checks Linux's restore makes: a full xsave image only with both
 * magic words, this machine's size and known features; otherwise only
 * the legacy fxsave part. false if the image is unusable. */
static bool restore_fpstate(struct thread *t, gaddr_t buf)
{
	size_t len = 0;
	uint8_t *host = platform_thread_fpstate(t->plat, &len);
	if (!host)
		return true;
	if (!buf) {
		platform_thread_fpu_reset(t->plat);
		return true;
	}
	if (buf & 63)
		return false;
	uint8_t img[len];
	if (copy_from_guest(img, buf, FXSAVE_SIZE))
		return false;
	uint32_t magic1, ext_size, host_mxcsr_mask;
	uint64_t xfeatures, host_xfeatures;
	memcpy(&magic1, img + SW_BYTES_OFF, 4);
	memcpy(&ext_size, img + SW_BYTES_OFF + 4, 4);
	memcpy(&xfeatures, img + SW_BYTES_OFF + 8, 8);
	memcpy(&host_xfeatures, host + SW_BYTES_OFF + 8, 8);
	memcpy(&host_mxcsr_mask, host + 28, 4);
	bool full = magic1 == FP_XSTATE_MAGIC1 && ext_size == len && !(xfeatures & ~host_xfeatures) &&
		    !copy_from_guest(img + FXSAVE_SIZE, buf + FXSAVE_SIZE, len - FXSAVE_SIZE);
	if (full) {
		uint32_t magic2;
		memcpy(&magic2, img + len - 4, 4);
		uint64_t hdr[8]; /* xstate_bv, xcomp_bv, reserved */
		memcpy(hdr, img + XSAVE_HDR_OFF, sizeof(hdr));
		full = magic2 == FP_XSTATE_MAGIC2;
		if (full && ((hdr[0] & ~xfeatures) || hdr[1]))
			return false;
		for (int i = 2; full && i < 8; i++)
			if (hdr[i])
				return false;
	}
	/* MXCSR bits the CPU does not have would fault in the host. */
	uint32_t mxcsr;
	memcpy(&mxcsr, img + 24, 4);
	if (mxcsr & ~host_mxcsr_mask)
		return false;
	if (full) {
		/* Keep the host's own software bytes: its kernel checks them. */
		memcpy(host, img, SW_BYTES_OFF);
		memcpy(host + FXSAVE_SIZE, img + FXSAVE_SIZE, len - FXSAVE_SIZE);
		return true;
	}
	memcpy(host, img, SW_BYTES_OFF);
	if (len > FXSAVE_SIZE) { /* legacy image: x87 and SSE, the rest in its init state */
		uint64_t bv = 3;
		memcpy(host + XSAVE_HDR_OFF, &bv, 8);
	}
	return true;
}

long sys_rt_sigreturn(const struct sysargs *a)
{
	struct thread *t = current;
	struct guest_regs *r = &t->regs;
	gaddr_t frame = r->rsp - 8; /* the handler's ret popped pretcode */
	struct k_ucontext uc;
	if (copy_from_guest(&uc, frame + offsetof(struct rt_sigframe, uc), sizeof(uc)))
		goto bad;
	const struct guest_regs *n = &uc.uc_mcontext.regs;
	uint64_t eflags = (r->eflags & ~(uint64_t)FIX_EFLAGS) | (n->eflags & FIX_EFLAGS);
	struct guest_regs saved = *r;
	*r = *n;
	r->eflags = eflags;
	r->err = saved.err;
	r->trapno = saved.trapno;
	r->cr2 = saved.cr2;
	r->oldmask = saved.oldmask;
	set_user_segments(r);
	if (!restore_fpstate(t, uc.uc_mcontext.fpstate)) {
		*r = saved;
		goto bad;
	}
	sigmask_set(uc.uc_sigmask);
	/* The alternate stack comes back too; only a fault would matter. */
	struct altstack_req req = { uc.uc_stack.ss_sp, (uint32_t)uc.uc_stack.ss_flags, uc.uc_stack.ss_size };
	altstack_set(t, &req, saved.rsp); /* checked against the handler's sp, as Linux */
	t->restart.fn = NULL; /* Linux: no restart_syscall after a sigreturn */
	return (long)r->rax;
bad: {
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_code = SI_KERNEL;
	signal_force(SIGSEGV, &si);
	return (long)r->rax;
}
}
