/* The control thread of a guest host-process and the start of its guest
 * threads. The control thread maps, unmaps and protects pieces of the
 * memory file on the kernel's orders and creates guest threads; the
 * zygote's forks new host processes. It never
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
#define CLONE_PARENT 0x8000
#define CLONE_SYSVSEM 0x40000
#include "stub/stub_abi.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define MAP_SHARED_FIXED 0x11
#define MAP_PRIVATE_FIXED 0x12
#define AT_FDCWD -100
#define O_RDONLY_CLOEXEC 0x80000
#define EMFILE 24
#define PROT_READ 1
#define PROT_READ_WRITE 3
#define PR_SET_PDEATHSIG 1
#define SIGKILL 9
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
	cmp $ORDER_FORK, %eax
	je .Lfork
	cmp $ORDER_BIND, %eax
	je .Lbind
	cmp $ORDER_MMAP_FILE, %eax
	je .Lmmap_file
	cmp $ORDER_CLOSE_FILES, %eax
	je .Lclose_files
.Leinval:
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
.Lmmap_file:
	/* The kernel's fd of a host file, reopened read-only through its
	 * /proc path (in this read-only page) at its batch's first use, is
	 * fd STUB_FILEFD + its path index until ORDER_CLOSE_FILES. */
	movzwl 6(%rbp), %r8d
	cmp $STUB_MAX_FILE_PATHS, %r8d
	jae .Leinval
	add $STUB_FILEFD, %r8d
	testl $ORDER_FILE_OPEN, 4(%rbp)
	jz 1f
	movzwl 6(%rbp), %esi
	shl $5, %esi
	lea ORDERS_FILE_PATHS(%r12,%rsi), %rsi
	mov $AT_FDCWD, %edi
	mov $O_RDONLY_CLOEXEC, %edx
	xor %r10d, %r10d
	mov $SYS_openat, %eax
	syscall
	cmp $-4095, %rax
	jae .Lresult
	cmp %r8, %rax
	jne .Lfile_badfd
1:	mov 8(%rbp), %rdi
	mov 16(%rbp), %rsi
	movzbl 4(%rbp), %edx
	mov $MAP_PRIVATE_FIXED, %r10d
	mov 24(%rbp), %r9
	mov $SYS_mmap, %eax
	syscall
	jmp .Lresult
.Lfile_badfd:
	/* Not the fd expected (an earlier open failed): close it, fail. */
	mov %rax, %rdi
	mov %rax, %rsi
	xor %edx, %edx
	mov $SYS_close_range, %eax
	syscall
	mov $-EMFILE, %rax
	jmp .Lresult
.Lclose_files:
	mov $STUB_FILEFD, %edi
	mov 16(%rbp), %rsi
	add $(STUB_FILEFD - 1), %rsi
	xor %edx, %edx
	mov $SYS_close_range, %eax
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
	mov %eax, (AREA_MBOX_OFF + MBOX_HOST_TID)(%r9) /* where its kicks go */
	xor %eax, %eax
	jmp .Lresult
.Lbind:
	xor %edi, %edi
	mov $8, %esi
	lea ORDERS_CPU_MASK(%r12), %rdx
	mov $SYS_sched_setaffinity, %eax
	syscall
	xor %eax, %eax /* a hint: a refusal is no failure */
	jmp .Lresult
.Lfork:
	/* A copy of this process as cocoon's child (CLONE_PARENT), so
	 * cocoon reaps it. Only the zygote gets this order: it has no guest
	 * threads, so its ack page is the kernel's alone. The child gets
	 * its pages' offset in %r9: the order may be overwritten by the
	 * next one before the child runs. */
	mov 24(%rbp), %r9
	mov $CLONE_PARENT, %edi
	xor %esi, %esi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	mov $SYS_clone, %eax
	syscall
	test %rax, %rax
	jz stub_fork_child
	js .Lresult
	mov %eax, ACK_FORK_PID(%r13)
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
	/* The completion: the batch's number (from the read-only page)
	 * written into orders->done through the memory file, then a wake-up
	 * for the kernel thread in case it sleeps on that word. */
	lea ORDERS_SEQ(%r12), %rsi
	bt $32, %r14
	jnc 1f
	lea ORDERS_SEQ_FAILED(%r12), %rsi
1:	mov %r15d, %edi
	mov $4, %edx
	mov ORDERS_DONE_OFF(%r12), %r10
	mov $SYS_pwrite64, %eax
	syscall
	cmp $4, %rax
	jne .Lfail
	lea ORDERS_DONE(%r12), %rdi
	mov $FUTEX_WAKE, %esi
	mov $0x7fffffff, %edx /* the kernel thread, and stubs yielding their CPU (mailbox yield_cpu) */
	mov $SYS_futex, %eax
	syscall
	jmp .Lwait

	/* A new host process forked by the zygote, with the zygote's
	 * registers: %r9 is its pages' offset, %r15 the memory file. It takes its
	 * own orders and ack pages, goes to its CPU, asks to die with cocoon
	 * (fork cleared that) and checks cocoon did not die first, then
	 * serves its orders. */
stub_fork_child:
	mov %r9, %rbx
	movabs $STUB_ORDERS, %rdi
	mov $STUB_ORDERS_SIZE, %esi
	mov $PROT_READ, %edx
	mov $MAP_SHARED_FIXED, %r10d
	mov %r15, %r8
	mov %rbx, %r9
	mov $SYS_mmap, %eax
	syscall
	cmp $-4095, %rax
	jae .Lfail
	movabs $STUB_ACK, %rdi
	mov $(STUB_PROC_SIZE - STUB_ORDERS_SIZE), %esi
	mov $PROT_READ_WRITE, %edx
	mov $MAP_SHARED_FIXED, %r10d
	mov %r15, %r8
	lea STUB_ORDERS_SIZE(%rbx), %r9
	mov $SYS_mmap, %eax
	syscall
	cmp $-4095, %rax
	jae .Lfail
	movabs $STUB_ORDERS, %r12
	cmpq $0, ORDERS_CPU_MASK(%r12)
	je 1f
	xor %edi, %edi
	mov $8, %esi
	lea ORDERS_CPU_MASK(%r12), %rdx
	mov $SYS_sched_setaffinity, %eax
	syscall
1:	mov $PR_SET_PDEATHSIG, %edi
	mov $SIGKILL, %esi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	mov $SYS_prctl, %eax
	syscall
	mov $SYS_getppid, %eax
	syscall
	cmp ORDERS_KERNEL_PID(%r12), %eax
	jne .Lfail
	jmp stub_control_loop

.Lfail:
	mov $6, %edi
	mov $SYS_exit_group, %eax
	syscall
	ud2

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
	/* Bound to the CPU its kernel thread will follow it to. */
	cmpq $0, CONST_CPU_MASK(%r9)
	je 1f
	xor %edi, %edi
	mov $8, %esi
	lea CONST_CPU_MASK(%r9), %rdx
	mov $SYS_sched_setaffinity, %eax
	syscall
1:	mov $1, %edi /* SECCOMP_SET_MODE_FILTER */
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
