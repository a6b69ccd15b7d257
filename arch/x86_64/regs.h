/* Guest general registers, in the order of the Linux ucontext's
 * mcontext gregs (and glibc's REG_* indices), so the platform can copy
 * them to and from a host signal frame in one go. */
#ifndef COCOON_REGS_H
#define COCOON_REGS_H

#include <stdint.h>

struct guest_regs {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	uint64_t eflags;
	uint64_t csgsfs; /* cs, gs, fs, ss as u16 each */
	uint64_t err, trapno, oldmask, cr2;
};

#endif
