/* The signal frame: registers on handler entry (rdi = signo, rsi = &info,
 * rdx = &uc, rax = 0, rsp+8 16-byte aligned with the restorer as return
 * address, DF clear, other registers as interrupted); the ucontext
 * (uc_flags, uc_stack, uc_sigmask, the saved registers, cs/ss, oldmask)
 * and the xsave image it points to (its 64-byte alignment and place under
 * the red zone, FP_XSTATE_MAGIC1/2, extended_size, the saved xmm/ymm
 * values, mxcsr, the x87 control word); registers and rip changed in the
 * ucontext are what the program sees after sigreturn; xmm/ymm/zmm, mask
 * registers, MXCSR and the x87 control word clobbered in a handler are
 * restored, values changed in the frame are taken; a NULL fpstate resets
 * the FPU, a bad magic falls back to the legacy area; eflags bits sigreturn
 * takes and ignores; sa_mask, SA_NODEFER, SA_RESETHAND, nested handlers,
 * SA_SIGINFO or not (whether the siginfo is written); bad frames on
 * sigreturn (unmapped or misaligned fpstate, bad xsave header,
 * non-canonical rip) kill with SIGSEGV. */
#include "sig_util.h"

/* ---- assembly: the interrupted code and the handler entry probe ---- */
uint64_t probe[16] __attribute__((used));        /* registers at handler entry */
uint64_t trig_rsp __attribute__((used));         /* rsp at the trigger's syscall */
uint64_t trig_after[8] __attribute__((used));    /* registers after sigreturn */
void frame_probe_entry(int, siginfo_t *, void *);
void frame_probe_c(int, siginfo_t *, void *);
uint64_t frame_trigger(long pid, long sig);      /* returns rflags after the return */
extern char frame_trigger_ret[];
long fault_load(const void *addr);
extern char fault_load_insn[], fault_load_skip[];
long syscall_rax(long nr, long a1, long a2);
uint64_t flags_across_syscall(uint64_t flags, long nr);
void xmm_roundtrip(const void *in, void *out, long pid, long sig);
void ymm_roundtrip(const void *in, void *out, long pid, long sig);
void zmm_roundtrip(const void *in, void *out, long pid, long sig);
void clobber_xmm(void);
void clobber_ymm(void);
void clobber_zmm(void);

__asm__(
	".text\n"
	".globl frame_probe_entry\n"
	"frame_probe_entry:\n"
	"	mov %rdi, probe+0(%rip)\n"
	"	mov %rsi, probe+8(%rip)\n"
	"	mov %rdx, probe+16(%rip)\n"
	"	mov %rsp, probe+24(%rip)\n"
	"	mov %rax, probe+32(%rip)\n"
	"	mov %r12, probe+40(%rip)\n"
	"	mov %r13, probe+48(%rip)\n"
	"	mov %r14, probe+56(%rip)\n"
	"	mov %r15, probe+64(%rip)\n"
	"	mov %rbx, probe+72(%rip)\n"
	"	mov %rbp, probe+80(%rip)\n"
	"	pushfq\n"
	"	popq probe+88(%rip)\n"
	"	mov %r8, probe+96(%rip)\n"
	"	mov %r9, probe+104(%rip)\n"
	"	mov %r10, probe+112(%rip)\n"
	"	jmp frame_probe_c\n"

	/* frame_trigger(pid, sig): known values in the callee-saved
	 * registers and r8-r10, DF set, kill(pid, sig); after the handler,
	 * those registers are stored to trig_after and the flags returned. */
	".globl frame_trigger\n"
	".globl frame_trigger_ret\n"
	"frame_trigger:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	movabs $0x1212121212121212, %r12\n"
	"	movabs $0x1313131313131313, %r13\n"
	"	movabs $0x1414141414141414, %r14\n"
	"	movabs $0x1515151515151515, %r15\n"
	"	movabs $0x0b0b0b0b0b0b0b0b, %rbx\n"
	"	movabs $0x0bb0bb0bb0bb0bb0, %rbp\n"
	"	movabs $0x0808080808080808, %r8\n"
	"	movabs $0x0909090909090909, %r9\n"
	"	movabs $0x1010101010101010, %r10\n"
	"	push $0x243\n"   /* IF, ZF, CF: known arithmetic flags */
	"	popfq\n"
	"	mov %rsp, trig_rsp(%rip)\n"
	"	std\n"
	"	mov $62, %eax\n"
	"	syscall\n"
	"frame_trigger_ret:\n"
	"	pushfq\n"
	"	cld\n"
	"	mov %r12, trig_after+0(%rip)\n"
	"	mov %r13, trig_after+8(%rip)\n"
	"	mov %r14, trig_after+16(%rip)\n"
	"	mov %r15, trig_after+24(%rip)\n"
	"	mov %rbx, trig_after+32(%rip)\n"
	"	mov %rbp, trig_after+40(%rip)\n"
	"	mov %r8, trig_after+48(%rip)\n"
	"	mov %rax, trig_after+56(%rip)\n"
	"	pop %rax\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"

	/* fault_load(addr): rbx = r13 = 0, load from addr into rbx; returns
	 * rbx + r13 (a handler may change both and skip the load). */
	".globl fault_load\n"
	".globl fault_load_insn\n"
	".globl fault_load_skip\n"
	"fault_load:\n"
	"	push %rbx\n"
	"	push %r13\n"
	"	xor %ebx, %ebx\n"
	"	xor %r13d, %r13d\n"
	"fault_load_insn:\n"
	"	mov (%rdi), %rbx\n"
	"fault_load_skip:\n"
	"	lea (%rbx,%r13), %rax\n"
	"	pop %r13\n"
	"	pop %rbx\n"
	"	ret\n"

	/* flags_across_syscall(flags, nr): popf flags, syscall nr, return
	 * the flags after it. */
	".globl flags_across_syscall\n"
	"flags_across_syscall:\n"
	"	mov %rsi, %rax\n"
	"	push %rdi\n"
	"	popfq\n"
	"	syscall\n"
	"	pushfq\n"
	"	pop %rax\n"
	"	cld\n"
	"	ret\n"

	".globl syscall_rax\n"
	"syscall_rax:\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	syscall\n"
	"	ret\n"

	/* *_roundtrip(in, out, pid, sig): load the registers from in,
	 * kill(pid, sig), store them to out; mxcsr and the x87 control word
	 * after it go to out + 2048 and out + 2052. */
	".globl xmm_roundtrip\n"
	"xmm_roundtrip:\n"
	"	mov %rdi, %r8\n"
	"	mov %rsi, %r9\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	movdqu \\i*16(%r8), %xmm\\i\n"
	"	.endr\n"
	"	mov %rdx, %rdi\n"
	"	mov %rcx, %rsi\n"
	"	mov $62, %eax\n"
	"	syscall\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	movdqu %xmm\\i, \\i*16(%r9)\n"
	"	.endr\n"
	"	stmxcsr 2048(%r9)\n"
	"	fnstcw 2052(%r9)\n"
	"	fnstsw 2054(%r9)\n"
	"	ret\n"
	".globl ymm_roundtrip\n"
	"ymm_roundtrip:\n"
	"	mov %rdi, %r8\n"
	"	mov %rsi, %r9\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu \\i*32(%r8), %ymm\\i\n"
	"	.endr\n"
	"	mov %rdx, %rdi\n"
	"	mov %rcx, %rsi\n"
	"	mov $62, %eax\n"
	"	syscall\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu %ymm\\i, \\i*32(%r9)\n"
	"	.endr\n"
	"	vzeroupper\n"
	"	ret\n"
	".globl zmm_roundtrip\n"
	"zmm_roundtrip:\n"
	"	mov %rdi, %r8\n"
	"	mov %rsi, %r9\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vmovdqu64 \\i*64(%r8), %zmm\\i\n"
	"	.endr\n"
	"	.irp i,1,2,3,4,5,6,7\n"
	"	kmovw 2048+\\i*2(%r8), %k\\i\n"
	"	.endr\n"
	"	mov %rdx, %rdi\n"
	"	mov %rcx, %rsi\n"
	"	mov $62, %eax\n"
	"	syscall\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vmovdqu64 %zmm\\i, \\i*64(%r9)\n"
	"	.endr\n"
	"	.irp i,1,2,3,4,5,6,7\n"
	"	kmovw %k\\i, 2048+\\i*2(%r9)\n"
	"	.endr\n"
	"	vzeroupper\n"
	"	ret\n"

	".globl clobber_xmm\n"
	"clobber_xmm:\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	pcmpeqd %xmm\\i, %xmm\\i\n"
	"	.endr\n"
	"	push $0xff80\n"      /* FZ, round toward zero, all masked */
	"	ldmxcsr (%rsp)\n"
	"	movw $0x0c7f, (%rsp)\n" /* x87: single precision, round toward zero */
	"	fldcw (%rsp)\n"
	"	fldpi\n"             /* and one value left on the x87 stack */
	"	pop %rax\n"
	"	ret\n"
	".globl clobber_ymm\n"
	"clobber_ymm:\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vpcmpeqd %ymm\\i, %ymm\\i, %ymm\\i\n"
	"	.endr\n"
	"	ret\n"
	".globl clobber_zmm\n"
	"clobber_zmm:\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vpternlogd $0xff, %zmm\\i, %zmm\\i, %zmm\\i\n"
	"	.endr\n"
	"	.irp i,1,2,3,4,5,6,7\n"
	"	kxnorw %k\\i, %k\\i, %k\\i\n"
	"	.endr\n"
	"	ret\n"
);

/* ---- CPU features (the same natively and under cocoon: no CPUID faulting) ---- */
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static uint64_t xcr0(void)
{
	unsigned lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}
static int have_avx, have_avx512;
static unsigned avx_offset; /* of the upper ymm halves in the standard xsave format */
static void features(void)
{
	unsigned r[4];
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)))
		return;
	uint64_t x = xcr0();
	have_avx = (x & 6) == 6;
	cpuid(0xd, 2, r);
	avx_offset = r[1];
	cpuid(7, 0, r);
	have_avx512 = have_avx && (r[1] & (1u << 16)) && (x & 0xe0) == 0xe0;
}

/* ---- handler entry and the frame ---- */
static int probe_sig;
static struct kucontext probe_uc;
static siginfo_t probe_si;
static uint64_t probe_restorer_slot, probe_sw[4], probe_magic2, probe_xhdr[3], probe_mask_in;
static int probe_modify;

void frame_probe_c(int sig, siginfo_t *si, void *ucv)
{
	struct kucontext *uc = ucv;
	probe_sig = sig;
	probe_uc = *uc;
	probe_si = *si;
	probe_restorer_slot = *(uint64_t *)probe[3];
	probe_mask_in = cur_mask();
	const unsigned char *fp = (const unsigned char *)uc->mc.fpstate;
	if (fp) {
		uint32_t magic1, ext, xsize;
		uint64_t xfeat;
		memcpy(&magic1, fp + 464, 4);
		memcpy(&ext, fp + 468, 4);
		memcpy(&xfeat, fp + 472, 8);
		memcpy(&xsize, fp + 480, 4);
		probe_sw[0] = magic1;
		probe_sw[1] = ext;
		probe_sw[2] = xfeat;
		probe_sw[3] = xsize;
		uint32_t m2 = 0;
		if (magic1 == 0x46505853U && ext > 4 && ext < 65536)
			memcpy(&m2, fp + ext - 4, 4);
		probe_magic2 = m2;
		memcpy(probe_xhdr, fp + 512, 24);
	}
	if (probe_modify == 2) {
		uc->mc.rax = 0xca;
	} else if (probe_modify) {
		uc->mc.r12 = 0xc12;
		uc->mc.r8 = 0xc08;
		uc->mc.rax = 0xca;  /* what the interrupted kill() "returns" */
		/* Arithmetic flags are taken; ID (0x200000) is not. */
		uc->mc.eflags |= 0x8d5 | 0x200000;
	}
}

static void entry_and_frame(void)
{
	printf("-- rflags across a system call\n");
	/* sysret restores rflags from r11: the arithmetic flags and DF a
	 * program had before the syscall are the ones it has after. */
	uint64_t fl[] = { 0x202, 0x2 | 0x200 | 0x8d5, 0x2 | 0x200 | 0x400 | 0x41 };
	for (int i = 0; i < 3; i++)
		printf("getppid with rflags %#llx: after %#llx\n", (unsigned long long)fl[i],
		       (unsigned long long)(flags_across_syscall(fl[i], SYS_getppid) & 0xfff));
	printf("-- handler entry and the frame\n");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = frame_probe_entry;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGUSR1, &sa, NULL);
	struct ksigaction k = kquery(SIGUSR1);
	block(SIGUSR2);
	uint64_t flags = frame_trigger(getpid(), SIGUSR1);
	unblock(SIGUSR2);
	struct kucontext *uc = &probe_uc;

	expect(probe[0] == SIGUSR1, "rdi = signal number");
	expect(probe[1] == probe[3] + 8 + sizeof(struct kucontext), "rsi = &info = rsp + 312");
	expect(probe[2] == probe[3] + 8, "rdx = &uc = rsp + 8");
	expect((probe[3] + 8) % 16 == 0, "(rsp + 8) %% 16 == 0");
	expect(probe_restorer_slot == (uint64_t)k.restorer, "return address = sa_restorer");
	expect(probe[4] == 0, "rax = 0");
	expect(!(probe[11] & 0x400), "DF clear on entry");
	printf("entry rflags: %#llx (interrupted: %#llx)\n", (unsigned long long)probe[11],
	       (unsigned long long)uc->mc.eflags);
	expect(probe[5] == 0x1212121212121212 && probe[6] == 0x1313131313131313 &&
	       probe[7] == 0x1414141414141414 && probe[8] == 0x1515151515151515,
	       "r12-r15 as interrupted");
	expect(probe[9] == 0x0b0b0b0b0b0b0b0b && probe[10] == 0x0bb0bb0bb0bb0bb0, "rbx, rbp as interrupted");
	expect(probe[12] == 0x0808080808080808 && probe[13] == 0x0909090909090909 &&
	       probe[14] == 0x1010101010101010, "r8-r10 as interrupted");

	printf("uc_flags: %#llx\n", (unsigned long long)uc->uc_flags);
	printf("uc_link: %#llx\n", (unsigned long long)uc->uc_link);
	printf("uc_stack: sp %#llx flags %d size %llu\n", (unsigned long long)uc->uc_stack.ss_sp,
	       uc->uc_stack.ss_flags, (unsigned long long)uc->uc_stack.ss_size);
	printf("uc_sigmask: %s\n", maskstr(uc->uc_sigmask));
	printf("oldmask: %s\n", maskstr(uc->mc.oldmask));
	printf("mask in the handler: %s\n", maskstr(probe_mask_in));
	expect(uc->mc.rip == (uint64_t)frame_trigger_ret, "saved rip = after the syscall");
	expect(uc->mc.rsp == trig_rsp, "saved rsp = the interrupted rsp");
	expect(uc->mc.rcx == (uint64_t)frame_trigger_ret, "saved rcx = the syscall's return address");
	expect(uc->mc.r11 == uc->mc.eflags, "saved r11 = saved rflags");
	expect(uc->mc.eflags & 0x400, "saved rflags has DF");
	expect(uc->mc.rax == 0, "saved rax = kill's result");
	expect(uc->mc.rdi == (uint64_t)getpid() && uc->mc.rsi == SIGUSR1, "saved rdi, rsi = kill's arguments");
	expect(uc->mc.r12 == 0x1212121212121212 && uc->mc.r15 == 0x1515151515151515 &&
	       uc->mc.rbx == 0x0b0b0b0b0b0b0b0b && uc->mc.rbp == 0x0bb0bb0bb0bb0bb0 &&
	       uc->mc.r8 == 0x0808080808080808 && uc->mc.r10 == 0x1010101010101010,
	       "saved general registers");
	printf("cs %#x ss %#x fs %#x gs %#x\n", uc->mc.cs, uc->mc.ss, uc->mc.fs, uc->mc.gs);
	printf("siginfo: signo %s errno %d code %d, pid/uid ours %d\n", sname(probe_si.si_signo),
	       probe_si.si_errno, probe_si.si_code,
	       probe_si.si_pid == getpid() && probe_si.si_uid == getuid());

	uint64_t fp = uc->mc.fpstate;
	expect(fp != 0, "fpstate set");
	expect(fp % 64 == 0, "fpstate 64-byte aligned");
	expect(probe_sw[0] == 0x46505853U, "FP_XSTATE_MAGIC1 at offset 464");
	expect(probe_magic2 == 0x46505845U, "FP_XSTATE_MAGIC2 at fpstate + extended_size - 4");
	expect(probe_sw[1] == probe_sw[3] + 4, "extended_size = xstate_size + 4");
	printf("extended_size %llu, xfeatures %#llx, xstate_size %llu\n", (unsigned long long)probe_sw[1],
	       (unsigned long long)probe_sw[2], (unsigned long long)probe_sw[3]);
	printf("xsave header: xstate_bv within xfeatures %d, xcomp_bv %#llx, reserved %#llx\n",
	       (probe_xhdr[0] & ~probe_sw[2]) == 0, (unsigned long long)probe_xhdr[1],
	       (unsigned long long)probe_xhdr[2]);
	expect(fp == ((uc->mc.rsp - 128 - probe_sw[1]) & ~63ULL),
	       "fpstate = round_down(rsp - 128 (red zone) - extended_size, 64)");
	printf("fpstate - frame: %lld\n", (long long)(fp - probe[3]));
	expect(probe[1] + sizeof(siginfo_t) <= fp, "the siginfo lies below the fpstate");

	expect(flags & 0x400, "DF set again after sigreturn");
	expect(trig_after[0] == 0x1212121212121212 && trig_after[1] == 0x1313131313131313 &&
	       trig_after[2] == 0x1414141414141414 && trig_after[3] == 0x1515151515151515 &&
	       trig_after[4] == 0x0b0b0b0b0b0b0b0b && trig_after[5] == 0x0bb0bb0bb0bb0bb0 &&
	       trig_after[6] == 0x0808080808080808, "registers restored after sigreturn");
	printf("rax after sigreturn: %lld\n", (long long)trig_after[7]);

	/* The same with the handler changing the saved registers. */
	probe_modify = 1;
	uint64_t before = flags;
	flags = frame_trigger(getpid(), SIGUSR1);
	probe_modify = 0;
	printf("changed in the frame: r12 %#llx, r8 %#llx, rax %#llx\n", (unsigned long long)trig_after[0],
	       (unsigned long long)trig_after[6], (unsigned long long)trig_after[7]);
	printf("flags with OF|SF|ZF|AF|PF|CF|ID set in the frame: arithmetic %#llx, ID changed %d\n",
	       (unsigned long long)(flags & 0x8d5), ((flags ^ before) & 0x200000) != 0);
	dfl(SIGUSR1);
}

/* ---- a fault skipped by moving rip ---- */
static volatile uint64_t fault_addr_seen;
static struct kucontext fault_uc;
static void skip_fault(int sig, siginfo_t *si, void *ucv)
{
	struct kucontext *uc = ucv;
	fault_uc = *uc;
	fault_addr_seen = (uint64_t)si->si_addr;
	uc->mc.rbx = 0x5eed0000;
	uc->mc.r13 = 0x1313;
	uc->mc.rip = (uint64_t)fault_load_skip;
}
static void change_rip(void)
{
	printf("-- rip and registers changed in the ucontext\n");
	char *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, PAGE);
	on_info(SIGSEGV, skip_fault, 0, 0);
	long v = fault_load(p + 8);
	printf("fault_load returned %#lx\n", v);
	expect(fault_addr_seen == (uint64_t)(p + 8), "si_addr = the address");
	expect(fault_uc.mc.rip == (uint64_t)fault_load_insn, "saved rip = the faulting instruction");
	expect(fault_uc.mc.rdi == (uint64_t)(p + 8), "saved rdi = the argument");
	expect(fault_uc.mc.cr2 == (uint64_t)(p + 8), "cr2 = the address");
	printf("trapno %llu err %#llx\n", (unsigned long long)fault_uc.mc.trapno, (unsigned long long)fault_uc.mc.err);
	v = fault_load(p + 16);
	printf("again: %#lx\n", v);
	dfl(SIGSEGV);
	/* rax of an interrupted system call. */
	on_info(SIGUSR1, frame_probe_entry, 0, 0);
	probe_modify = 2;
	long r = syscall_rax(SYS_kill, getpid(), SIGUSR1);
	probe_modify = 0;
	printf("kill() returned %#lx after the handler changed rax\n", r);
	dfl(SIGUSR1);
}

/* ---- FPU and vector registers ---- */
static unsigned char fp_in[2048 + 16], fp_out[2048 + 16];
static int fp_mode;   /* 0 clobber, 1 change the frame, 2 NULL fpstate, 3 bad magic1 */
static int fp_kind;   /* 0 xmm, 1 ymm, 2 zmm */
static int frame_xmm_ok, frame_ymm_ok, frame_mxcsr_ok, frame_fcw_ok;
static const uint64_t new_xmm5[2] = { 0x5555aaaa5555aaaaULL, 0x0123456789abcdefULL };

static void fp_handler(int sig, siginfo_t *si, void *ucv)
{
	struct kucontext *uc = ucv;
	unsigned char *fp = (unsigned char *)uc->mc.fpstate;
	int stride = fp_kind == 0 ? 16 : fp_kind == 1 ? 32 : 64;
	frame_xmm_ok = 1;
	for (int i = 0; i < 16; i++)
		if (memcmp(fp + 160 + 16 * i, fp_in + stride * i, 16))
			frame_xmm_ok = 0;
	frame_ymm_ok = -1;
	if (fp_kind >= 1) {
		frame_ymm_ok = 1;
		for (int i = 0; i < 16; i++)
			if (memcmp(fp + avx_offset + 16 * i, fp_in + stride * i + 16, 16))
				frame_ymm_ok = 0;
	}
	uint32_t mxcsr;
	uint16_t fcw;
	memcpy(&mxcsr, fp + 24, 4);
	memcpy(&fcw, fp, 2);
	frame_mxcsr_ok = mxcsr == 0x1f80;
	frame_fcw_ok = fcw == 0x37f;
	clobber_xmm();
	if (fp_kind >= 1)
		clobber_ymm();
	if (fp_kind == 2)
		clobber_zmm();
	switch (fp_mode) {
	case 1:
		memcpy(fp + 160 + 16 * 5, new_xmm5, 16);
		mxcsr = 0x9f80; /* FZ */
		memcpy(fp + 24, &mxcsr, 4);
		break;
	case 2:
		uc->mc.fpstate = 0;
		break;
	case 3:
		memset(fp + 464, 0, 4);
		break;
	}
}

static void fp_case(int kind, int mode, const char *label)
{
	int stride = kind == 0 ? 16 : kind == 1 ? 32 : 64, nregs = kind == 2 ? 32 : 16;
	for (size_t i = 0; i < sizeof fp_in; i++)
		fp_in[i] = (unsigned char)rng();
	memset(fp_out, 0, sizeof fp_out);
	fp_kind = kind;
	fp_mode = mode;
	on_info(SIGUSR1, fp_handler, 0, 0);
	if (kind == 0)
		xmm_roundtrip(fp_in, fp_out, getpid(), SIGUSR1);
	else if (kind == 1)
		ymm_roundtrip(fp_in, fp_out, getpid(), SIGUSR1);
	else
		zmm_roundtrip(fp_in, fp_out, getpid(), SIGUSR1);
	uint32_t mxcsr = 0;
	uint16_t fcw = 0, fsw = 0;
	if (kind == 0) {
		memcpy(&mxcsr, fp_out + 2048, 4);
		memcpy(&fcw, fp_out + 2052, 2);
		memcpy(&fsw, fp_out + 2054, 2);
	}
	/* What came back, register by register: "=" kept, "0" zeroed,
	 * "5" the value written into the frame, "x" anything else. */
	char low[40] = "", high[40] = "", kregs[8] = "";
	static const unsigned char zero[64];
	for (int i = 0; i < nregs; i++) {
		const unsigned char *in = fp_in + stride * i, *out = fp_out + stride * i;
		int lowlen = i < 16 ? 16 : stride;
		low[i] = !memcmp(in, out, lowlen) ? '=' : !memcmp(out, zero, lowlen) ? '0' :
			 (i == 5 && !memcmp(out, new_xmm5, 16)) ? '5' : 'x';
		if (kind >= 1 && i < 16)
			high[i] = !memcmp(in + 16, out + 16, stride - 16) ? '=' :
				  !memcmp(out + 16, zero, stride - 16) ? '0' : 'x';
	}
	if (kind == 2)
		for (int i = 1; i < 8; i++)
			kregs[i - 1] = !memcmp(fp_in + 2048 + 2 * i, fp_out + 2048 + 2 * i, 2) ? '=' :
				       !memcmp(fp_out + 2048 + 2 * i, zero, 2) ? '0' : 'x';
	printf("%s: frame xmm %s", label, frame_xmm_ok ? "match" : "DIFFER");
	if (kind >= 1)
		printf(", frame ymm upper %s", frame_ymm_ok ? "match" : "DIFFER");
	printf("; after: %s %s", kind == 2 ? "zmm0-31" : kind == 1 ? "ymm0-15 low" : "xmm0-15", low);
	if (kind >= 1)
		printf(", upper %s", high);
	if (kind == 2)
		printf(", k1-7 %s", kregs);
	if (kind == 0)
		printf(", mxcsr %#x, fcw %#x, x87 top %d (frame had default mxcsr %d fcw %d)", mxcsr, fcw,
		       (fsw >> 11) & 7, frame_mxcsr_ok, frame_fcw_ok);
	printf("\n");
	/* Back to a clean FPU state for the next case. */
	uint32_t def = 0x1f80;
	__asm__ volatile("ldmxcsr %0" : : "m"(def));
	__asm__ volatile("fninit");
	dfl(SIGUSR1);
}

static void fpu(void)
{
	printf("-- FPU and vector registers\n");
	features();
	fp_case(0, 0, "xmm clobbered");
	fp_case(0, 1, "xmm5 and mxcsr changed in the frame");
	fp_case(0, 2, "fpstate NULL");
	fp_case(0, 3, "magic1 zeroed");
	if (have_avx) {
		fp_case(1, 0, "ymm clobbered");
		fp_case(1, 3, "ymm, magic1 zeroed");
		fp_case(1, 2, "ymm, fpstate NULL");
	} else {
		printf("ymm: no AVX\n");
	}
	if (have_avx512) {
		fp_case(2, 0, "zmm clobbered");
		fp_case(2, 1, "zmm, xmm5 changed in the frame");
	} else {
		printf("zmm: no AVX-512\n");
	}
}

/* ---- masks, SA_NODEFER, SA_RESETHAND, nesting ---- */
static char events[1024];
static int depth;
static void ev(const char *s)
{
	size_t n = strlen(events);
	snprintf(events + n, sizeof events - n, "%s%s", n ? ", " : "", s);
}
static void nest_handler(int sig, siginfo_t *si, void *ucv)
{
	char b[160];
	depth++;
	snprintf(b, sizeof b, "%s in (depth %d, mask %s)", sname(sig), depth, maskstr(cur_mask()));
	ev(b);
	if (sig == SIGUSR1 && depth == 1 && strncmp(events, "SIGUSR1 in", 10) == 0 && !strstr(events, "out")) {
		self_kill(SIGUSR1);
		self_kill(SIGUSR2);
	}
	snprintf(b, sizeof b, "%s out", sname(sig));
	ev(b);
	depth--;
}
static void masking(void)
{
	printf("-- sa_mask and SA_NODEFER\n");
	events[0] = 0;
	on_info(SIGUSR1, nest_handler, 0, sigbit(SIGUSR2));
	on_info(SIGUSR2, nest_handler, 0, 0);
	self_kill(SIGUSR1);
	printf("sa_mask {USR2}: %s\n", events);
	events[0] = 0;
	on_info(SIGUSR1, nest_handler, SA_NODEFER, 0);
	self_kill(SIGUSR1);
	printf("SA_NODEFER: %s\n", events);
	events[0] = 0;
	on_info(SIGUSR1, nest_handler, SA_NODEFER, sigbit(SIGUSR1));
	self_kill(SIGUSR1);
	printf("SA_NODEFER with itself in sa_mask: %s\n", events);
	dfl(SIGUSR1);
	dfl(SIGUSR2);
}

static struct ksigaction reset_inside;
static uint64_t reset_mask_inside;
static void reset_handler(int sig, siginfo_t *si, void *uc)
{
	reset_inside = kquery(sig);
	reset_mask_inside = cur_mask();
}
static void resethand_child(void)
{
	on_info(SIGUSR1, reset_handler, SA_RESETHAND | SA_RESTART, 0);
	self_kill(SIGUSR1);
	struct ksigaction after = kquery(SIGUSR1);
	printf("SA_RESETHAND: inside %s flags %#llx mask %s; after %s flags %#llx\n",
	       reset_inside.handler == SIG_DFL ? "SIG_DFL" : "handler",
	       (unsigned long long)(reset_inside.flags & ~(uint64_t)SA_RESTORER), maskstr(reset_mask_inside),
	       after.handler == SIG_DFL ? "SIG_DFL" : "handler",
	       (unsigned long long)(after.flags & ~(uint64_t)SA_RESTORER));
	fflush(stdout);
	self_kill(SIGUSR1);
	say("NO: survived the second SIGUSR1\n");
}

static uint64_t outer_rsp, inner_uc_rsp, inner_uc_mask;
static void inner(int sig, siginfo_t *si, void *ucv)
{
	struct kucontext *uc = ucv;
	inner_uc_rsp = uc->mc.rsp;
	inner_uc_mask = uc->uc_sigmask;
}
static void outer(int sig, siginfo_t *si, void *ucv)
{
	outer_rsp = (uint64_t)ucv;
	self_kill(SIGUSR2);
}
static void nesting(void)
{
	printf("-- nested handlers\n");
	on_info(SIGUSR1, outer, 0, 0);
	on_info(SIGUSR2, inner, 0, 0);
	self_kill(SIGUSR1);
	expect(inner_uc_rsp < outer_rsp, "the inner frame is below the outer one");
	printf("inner uc_sigmask: %s\n", maskstr(inner_uc_mask));
	dfl(SIGUSR1);
	dfl(SIGUSR2);
}

/* ---- SA_SIGINFO or not: the frame goes on a stack filled with 0xa5 ---- */
static unsigned char pattern_stack[1 << 16] __attribute__((aligned(64)));
static void siginfo_written(void)
{
	printf("-- SA_SIGINFO\n");
	for (int with = 0; with < 2; with++) {
		memset(pattern_stack, 0xa5, sizeof pattern_stack);
		stack_t ss = { .ss_sp = pattern_stack, .ss_size = sizeof pattern_stack, .ss_flags = 0 };
		sigaltstack(&ss, NULL);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = frame_probe_entry;
		sa.sa_flags = SA_ONSTACK | (with ? SA_SIGINFO : 0);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		self_kill(SIGUSR1);
		ss.ss_flags = SS_DISABLE;
		sigaltstack(&ss, NULL);
		const unsigned char *info = (const unsigned char *)probe[1];
		int untouched = 1;
		for (size_t i = 0; i < sizeof(siginfo_t); i++)
			if (info[i] != 0xa5)
				untouched = 0;
		printf("%s: rsi = &info %d, rdx = &uc %d, siginfo %s\n", with ? "SA_SIGINFO" : "plain",
		       probe[1] == probe[3] + 312, probe[2] == probe[3] + 8,
		       untouched ? "not written" : probe_si.si_signo == SIGUSR1 ? "written" : "garbage");
		printf("%s: frame at top - %llu\n", with ? "SA_SIGINFO" : "plain",
		       (unsigned long long)((uint64_t)(pattern_stack + sizeof pattern_stack) - probe[3]));
	}
	dfl(SIGUSR1);
}

/* ---- bad frames ---- */
static int bad_kind;
static void bad_handler(int sig, siginfo_t *si, void *ucv)
{
	struct kucontext *uc = ucv;
	unsigned char *fp = (unsigned char *)uc->mc.fpstate;
	uint64_t v;
	switch (bad_kind) {
	case 0: {
		void *p = mmap(NULL, PAGE * 4, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(p, PAGE * 4);
		uc->mc.fpstate = (uint64_t)p;
		break;
	}
	case 1: uc->mc.fpstate += 8; break;
	case 2: v = 1; memcpy(fp + 512 + 16, &v, 8); break;           /* header reserved */
	case 3: v = 0x8000000000000003ULL; memcpy(fp + 512 + 8, &v, 8); break; /* xcomp_bv */
	case 4: v = 1ULL << 62; memcpy(fp + 512, &v, 8); break;       /* unknown xstate_bv bit */
	case 5: uc->mc.rip = 0x8000000000000000ULL; break;
	case 6: uc->mc.fpstate = 0x8000000000000000ULL; break;
	}
}
static void bad_child(void)
{
	on_info(SIGUSR1, bad_handler, 0, 0);
	self_kill(SIGUSR1);
	say("survived the sigreturn\n");
}
static void bad_frames(void)
{
	printf("-- bad frames on sigreturn\n");
	static const char *what[] = {
		"fpstate unmapped", "fpstate misaligned", "xsave header reserved bits",
		"xcomp_bv set", "unknown xstate_bv bit", "non-canonical rip", "kernel fpstate",
	};
	for (bad_kind = 0; bad_kind < 7; bad_kind++) {
		printf("%s: ", what[bad_kind]);
		fflush(stdout);
		int st = in_child(bad_child);
		printf("%s\n", status_core(st));
	}
}

int main(int argc, char **argv)
{
	sig_start(argc, argv);
	entry_and_frame();
	change_rip();
	fpu();
	masking();
	printf("-- SA_RESETHAND\n");
	printf("child: %s\n", status_str(in_child(resethand_child)));
	nesting();
	siginfo_written();
	bad_frames();
	return sig_end();
}
