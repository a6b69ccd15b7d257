/* __vdso_rt_sigreturn: the signal-return trampoline. A handler whose frame
 * the kernel built with this as its return address returns here, with rsp
 * at the frame's ucontext (its return-address slot popped), and the
 * trampoline makes rt_sigreturn.
 *
 * Its CFI describes that frame, so an unwinder (libgcc, gdb) steps from
 * the handler through here into the interrupted code: the CFA is the
 * interrupted rsp and every register, rip included, is read from
 * uc_mcontext. 'S' (.cfi_signal_frame) tells the unwinder the next pc is
 * exact, not a return address. Unwinders look up (return address - 1) in
 * the handler's caller, so the FDE starts one byte early, at the nop. */

#define NR_rt_sigreturn 15

/* Linux x86-64: ucontext = uc_flags, uc_link, uc_stack (24 bytes), then
 * struct sigcontext: r8 .. r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp,
 * rip (8 bytes each). */
#define UC_MCONTEXT 40
#define SC_R8 (UC_MCONTEXT + 0 * 8)
#define SC_R9 (UC_MCONTEXT + 1 * 8)
#define SC_R10 (UC_MCONTEXT + 2 * 8)
#define SC_R11 (UC_MCONTEXT + 3 * 8)
#define SC_R12 (UC_MCONTEXT + 4 * 8)
#define SC_R13 (UC_MCONTEXT + 5 * 8)
#define SC_R14 (UC_MCONTEXT + 6 * 8)
#define SC_R15 (UC_MCONTEXT + 7 * 8)
#define SC_RDI (UC_MCONTEXT + 8 * 8)
#define SC_RSI (UC_MCONTEXT + 9 * 8)
#define SC_RBP (UC_MCONTEXT + 10 * 8)
#define SC_RBX (UC_MCONTEXT + 11 * 8)
#define SC_RDX (UC_MCONTEXT + 12 * 8)
#define SC_RAX (UC_MCONTEXT + 13 * 8)
#define SC_RCX (UC_MCONTEXT + 14 * 8)
#define SC_RSP (UC_MCONTEXT + 15 * 8)
#define SC_RIP (UC_MCONTEXT + 16 * 8)

/* DWARF: DW_CFA_def_cfa_expression 0x0f, DW_CFA_expression 0x10,
 * DW_OP_breg7 (rsp + sleb128) 0x77, DW_OP_deref 0x06. Offsets here are
 * below 8192, so their sleb128 is one or two bytes. */
/* DWARF register `reg` of the interrupted code is saved at rsp + off. */
.macro saved_at reg, off
	.if \off < 64
	.cfi_escape 0x10, \reg, 2, 0x77, \off
	.else
	.cfi_escape 0x10, \reg, 3, 0x77, ((\off) & 0x7f) | 0x80, (\off) >> 7
	.endif
.endm

	.text
	.globl __vdso_rt_sigreturn
	.type __vdso_rt_sigreturn, @function
	.cfi_startproc simple
	.cfi_signal_frame
	/* CFA = *(rsp + SC_RSP): the interrupted stack pointer. */
	.cfi_escape 0x0f, 4, 0x77, (SC_RSP & 0x7f) | 0x80, SC_RSP >> 7, 0x06
	saved_at 8, SC_R8
	saved_at 9, SC_R9
	saved_at 10, SC_R10
	saved_at 11, SC_R11
	saved_at 12, SC_R12
	saved_at 13, SC_R13
	saved_at 14, SC_R14
	saved_at 15, SC_R15
	saved_at 5, SC_RDI
	saved_at 4, SC_RSI
	saved_at 6, SC_RBP
	saved_at 3, SC_RBX
	saved_at 1, SC_RDX
	saved_at 0, SC_RAX
	saved_at 2, SC_RCX
	saved_at 7, SC_RSP
	saved_at 16, SC_RIP /* the return-address column */
	nop
__vdso_rt_sigreturn:
	mov $NR_rt_sigreturn, %eax
	syscall
	ud2 /* rt_sigreturn does not return */
	.cfi_endproc
	.size __vdso_rt_sigreturn, . - __vdso_rt_sigreturn

	.section .note.GNU-stack, "", @progbits
