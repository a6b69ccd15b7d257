/* The control thread of a guest host-process and the start of its guest
 * threads. The control thread maps, unmaps and protects pieces of the
 * memory file on the kernel's orders and creates guest threads. It never
 * runs guest code and never touches memory for its control flow: guest
 * threads share its address space and could write any writable page, so
 * everything it trusts is in registers or in the read-only orders page. */
#include <sys/syscall.h>
/* clone flags */
#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#include "stub/stub_abi.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define MAP_SHARED_FIXED 0x11
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

	.section cocoon_stub, "ax", @progbits
	.balign 4096
	.globl stub_section_start
stub_section_start:

	/* Signal return for the stub's handler (SA_RESTORER). */
	.globl stub_restorer
stub_restorer:
	mov $SYS_rt_sigreturn, %eax
	syscall
	ud2

	/* r12 orders (ro), r13 ack (rw, write-only for us), r14d last seq,
	 * r15 memory file fd, rbp current order, ebx count/spin. */
	.globl stub_control_loop
stub_control_loop:
	movabs $STUB_ORDERS, %r12
	movabs $STUB_ACK, %r13
	xor %r14d, %r14d
	mov ORDERS_MEMFD(%r12), %r15d
.Lwait:
	/* Spin for orders while it pays (budget in TSC ticks), then sleep. */
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	add ORDERS_CTRL_SPIN(%r12), %rax
	mov %rax, %rbx
.Lspin:
	mov ORDERS_SEQ(%r12), %eax
	cmp %eax, %r14d
	jne .Lwork
	pause
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	cmp %rbx, %rax
	jb .Lspin
	/* Announce sleep, re-check, sleep on orders->seq. */
	movl $1, ACK_CTRL_SLEEPING(%r13)
	mfence
	mov ORDERS_SEQ(%r12), %eax
	cmp %eax, %r14d
	jne .Lawake
	mov $SYS_futex, %eax
	mov %r12, %rdi
	mov $FUTEX_WAIT, %esi
	mov %r14d, %edx
	xor %r10d, %r10d
	syscall
	movl $0, ACK_CTRL_SLEEPING(%r13)
	jmp .Lwait
.Lawake:
	movl $0, ACK_CTRL_SLEEPING(%r13)
.Lwork:
	mov %eax, %r14d
	mov ORDERS_COUNT(%r12), %ebx
	cmp $STUB_MAX_ORDERS, %ebx
	jbe 1f
	mov $STUB_MAX_ORDERS, %ebx
1:	lea ORDERS_OPS(%r12), %rbp
	movq $0, ACK_FIRST_ERROR(%r13)
.Lop:
	test %ebx, %ebx
	jz .Ldone
	mov 0(%rbp), %eax
	cmp $ORDER_MMAP, %eax
	je .Lmmap
	cmp $ORDER_MUNMAP, %eax
	je .Lmunmap
	cmp $ORDER_MPROTECT, %eax
	je .Lmprotect
	cmp $ORDER_CLONE_THREAD, %eax
	je .Lclone
	mov $-22, %rax
	jmp .Lresult
.Lmmap:
	mov 8(%rbp), %rdi
	mov 16(%rbp), %rsi
	mov 4(%rbp), %edx
	mov $MAP_SHARED_FIXED, %r10d
	mov %r15, %r8
	mov 24(%rbp), %r9
	mov $SYS_mmap, %eax
	syscall
	jmp .Lresult
.Lmunmap:
	mov 8(%rbp), %rdi
	mov 16(%rbp), %rsi
	mov $SYS_munmap, %eax
	syscall
	jmp .Lresult
.Lmprotect:
	mov 8(%rbp), %rdi
	mov 16(%rbp), %rsi
	mov 4(%rbp), %edx
	mov $SYS_mprotect, %eax
	syscall
	jmp .Lresult
.Lclone:
	/* The child keeps our registers: pass it its area in rdx... rbx is
	 * our loop counter, so use r8/r9-free registers: area in %r9. */
	mov 8(%rbp), %r9
	mov $THREAD_FLAGS, %edi
	lea STUB_AREA_SIZE(%r9), %rsi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	mov $SYS_clone, %eax
	syscall
	test %rax, %rax
	jz stub_thread_start
	js .Lresult
	xor %eax, %eax
.Lresult:
	cmp $-4095, %rax
	jb .Lnext
	/* Remember the failure in r14's high half (the next batch's
	 * `mov %eax, %r14d` clears it); the ack page only gets a hint. */
	bts $32, %r14
	cmpq $0, ACK_FIRST_ERROR(%r13)
	jne .Lnext
	mov %rax, ACK_FIRST_ERROR(%r13)
.Lnext:
	add $ORDER_SIZE, %rbp
	dec %ebx
	jmp .Lop
.Ldone:
	/* The hint for a spinning kernel, then the real completion: the
	 * batch's number, written from the read-only page. */
	mov %r14d, ACK_DONE_SEQ(%r13)
	lea ORDERS_SEQ(%r12), %rsi
	bt $32, %r14
	jnc 1f
	lea ORDERS_SEQ_FAILED(%r12), %rsi
1:	mov $SYS_write, %eax
	mov ORDERS_DONE_FD(%r12), %edi
	mov $4, %edx
	syscall
	jmp .Lwait

	/* A new guest thread; %r9 = its area, %r12 = orders. Until its own
	 * filter is installed it runs with the control thread's, so it uses
	 * no memory but read-only pages. */
stub_thread_start:
	lea CONST_ALTSTACK(%r9), %rdi
	xor %esi, %esi
	mov $SYS_sigaltstack, %eax
	syscall
	test %rax, %rax
	jnz .Lthread_fail
	mov $2, %edi /* SIG_SETMASK */
	lea CONST_EMPTY_MASK(%r9), %rsi
	xor %edx, %edx
	mov $8, %r10d
	mov $SYS_rt_sigprocmask, %eax
	syscall
	test %rax, %rax
	jnz .Lthread_fail
	mov $1, %edi /* SECCOMP_SET_MODE_FILTER */
	xor %esi, %esi
	lea ORDERS_GUEST_PROG(%r12), %rdx
	mov $SYS_seccomp, %eax
	syscall
	test %rax, %rax
	jnz .Lthread_fail
	/* Birth: the first trap; the kernel answers with the guest's
	 * initial context. */
	.globl stub_thread_birth
stub_thread_birth:
	ud2
.Lthread_fail:
	mov $127, %edi
	mov $SYS_exit_group, %eax
	syscall
	ud2

	.section .note.GNU-stack, "", @progbits
