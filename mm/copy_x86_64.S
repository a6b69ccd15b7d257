/* Copy routines that may fault (see mm/copy.h). Each instruction that may
 * touch the faulting memory is listed in the exception table (section
 * cocoon_extable) as two 32-bit offsets relative to the entry's fields:
 * (insn - .), (fixup - .). kernel/fault.c's SIGSEGV/SIGBUS handler resumes
 * at the fixup. No relocations remain after linking, so the table works in
 * PIE and stays read-only. */

#define EFAULT 14

.macro EXTABLE insn, fixup
	.pushsection cocoon_extable, "a"
	.balign 4
	.long \insn - .
	.long \fixup - .
	.popsection
.endm

.macro FUNC name
	.globl \name
	.type \name, @function
	.balign 16
\name:
.endm

.macro ENDFUNC name
	.size \name, . - \name
.endm

	.text

/* size_t raw_copy(void *dst %rdi, const void *src %rsi, size_t n %rdx):
 * bytes not copied. rep movsb leaves the bytes still to go in %rcx when it
 * faults; it may stop a little before the faulting byte, so the fixup
 * finishes byte by byte to return the exact remainder. */
FUNC raw_copy
	movq	%rdx, %rcx
1:	rep movsb
	xorl	%eax, %eax
	ret
2:	testq	%rcx, %rcx
	jz	5f
3:	movb	(%rsi), %al
4:	movb	%al, (%rdi)
	incq	%rsi
	incq	%rdi
	decq	%rcx
	jnz	3b
5:	movq	%rcx, %rax
	ret
	EXTABLE 1b, 2b
	EXTABLE 3b, 5b
	EXTABLE 4b, 5b
ENDFUNC raw_copy

/* size_t raw_clear(void *dst %rdi, size_t n %rsi): bytes not cleared. */
FUNC raw_clear
	movq	%rsi, %rcx
	xorl	%eax, %eax
1:	rep stosb
	ret
2:	testq	%rcx, %rcx
	jz	4f
3:	movb	$0, (%rdi)
	incq	%rdi
	decq	%rcx
	jnz	3b
4:	movq	%rcx, %rax
	ret
	EXTABLE 1b, 2b
	EXTABLE 3b, 4b
ENDFUNC raw_clear

/* long raw_strncpy(char *dst %rdi, const char *src %rsi, size_t n %rdx):
 * bytes copied including the NUL, n if no NUL, -1 on a fault. */
FUNC raw_strncpy
	xorl	%eax, %eax
	testq	%rdx, %rdx
	jz	3f
1:	movb	(%rsi,%rax), %cl
2:	movb	%cl, (%rdi,%rax)
	incq	%rax
	testb	%cl, %cl
	jz	3f
	cmpq	%rdx, %rax
	jb	1b
3:	ret
4:	movq	$-1, %rax
	ret
	EXTABLE 1b, 4b
	EXTABLE 2b, 4b
ENDFUNC raw_strncpy

/* int raw_cmpxchg32(uint32_t *p %rdi, uint32_t *old %rsi, uint32_t new %edx):
 * 0 with *old = the value found, or -EFAULT. */
FUNC raw_cmpxchg32
	movl	(%rsi), %eax
1:	lock cmpxchgl %edx, (%rdi)
	movl	%eax, (%rsi)
	xorl	%eax, %eax
	ret
2:	movl	$-EFAULT, %eax
	ret
	EXTABLE 1b, 2b
ENDFUNC raw_cmpxchg32

/* int raw_load32(const uint32_t *p %rdi, uint32_t *out %rsi): 0 or -EFAULT.
 * An aligned 32-bit load is atomic. */
FUNC raw_load32
1:	movl	(%rdi), %eax
	movl	%eax, (%rsi)
	xorl	%eax, %eax
	ret
2:	movl	$-EFAULT, %eax
	ret
	EXTABLE 1b, 2b
ENDFUNC raw_load32

/* int raw_futex_op32(uint32_t *p %rdi, int op %esi, uint32_t oparg %edx,
 * uint32_t *old %rcx): *p = *p OP oparg atomically, for FUTEX_WAKE_OP
 * (op: 0 set, 1 add, 2 or, 3 and-not, 4 xor; the caller checks it). 0
 * with *old = the value before, or -EFAULT. */
FUNC raw_futex_op32
	movq	%rcx, %r9
	cmpl	$1, %esi
	jb	10f
	je	11f
	/* or, and-not, xor: a compare-and-exchange loop. */
1:	movl	(%rdi), %eax
2:	movl	%eax, %r8d
	cmpl	$3, %esi
	je	4f
	ja	5f
	orl	%edx, %r8d
	jmp	6f
4:	movl	%edx, %r10d
	notl	%r10d
	andl	%r10d, %r8d
	jmp	6f
5:	xorl	%edx, %r8d
6:	lock cmpxchgl %r8d, (%rdi)
	jne	2b		/* %eax has the value found: try again */
	jmp	20f
10:	movl	%edx, %eax
7:	xchgl	%eax, (%rdi)	/* set: xchg locks by itself */
	jmp	20f
11:	movl	%edx, %eax
8:	lock xaddl %eax, (%rdi)
20:	movl	%eax, (%r9)
	xorl	%eax, %eax
	ret
30:	movl	$-EFAULT, %eax
	ret
	EXTABLE 1b, 30b
	EXTABLE 6b, 30b
	EXTABLE 7b, 30b
	EXTABLE 8b, 30b
ENDFUNC raw_futex_op32

	.section .note.GNU-stack, "", @progbits
