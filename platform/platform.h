/* The platform runs guest threads until they trap and tells the kernel
 * why. The trap platform (platform/trap_*.c) is the one implementation:
 * seccomp RET_TRAP plus a stub signal handler in each guest host-process.
 * The interface leaves room for others (ptrace for debugging, KVM). */
#ifndef COCOON_PLATFORM_H
#define COCOON_PLATFORM_H

#include "kernel/kernel.h"
#include "arch/x86_64/regs.h"

struct platform_as;     /* a guest address space = one host process */
struct platform_thread; /* a guest thread = one host thread in it */

enum trap_kind {
	TRAP_SYSCALL, /* regs.rax holds the number; arch says which ABI */
	TRAP_FAULT,   /* a hardware fault: signo/code/addr */
	TRAP_DEAD,    /* the host process is gone (host_status: wait status) */
	TRAP_INTERRUPT, /* platform_thread_kick stopped the guest thread */
};

struct trap {
	enum trap_kind kind;
	int signo, code;
	uint64_t addr;      /* fault address */
	uint32_t arch;      /* AUDIT_ARCH_* of a system call */
	int host_status;
	uint8_t siginfo[128]; /* TRAP_FAULT: the host's siginfo of the fault */
};

int platform_init(void);
/* Whether a kernel thread may spin on an idle CPU for the traps of a
 * guest thread that traps often (cocoon run --spin; default yes). */
void platform_allow_spin(bool allow);
/* The calling kernel thread is about to sleep (a blocking call): the
 * guest thread it serves should stop spinning for the reply. */
void platform_kernel_sleeps(void);
/* Time the calling kernel thread spent spinning for its guests, in ns
 * (its CPU time, but waiting: not a guest's system time). */
int64_t platform_spin_ns(void);

int platform_as_create(struct platform_as **out);
/* Kill the host process without waiting (its threads then trap with
 * TRAP_DEAD). */
void platform_as_kill(struct platform_as *as);
/* Whether the host process is still there. */
bool platform_as_alive(struct platform_as *as);
/* Kill the host process, wait for it, free everything. */
void platform_as_destroy(struct platform_as *as);
/* Queue address-space changes; they reach the host process at the next
 * platform_as_flush (done before every resume). */
int platform_as_map(struct platform_as *as, gaddr_t addr, size_t len, int prot, uint64_t memfile_off);
/* Map [file_off, file_off+len) of the host file that is the kernel's fd
 * kernel_fd privately at addr (read-only: prot without PROT_WRITE). The
 * fd must stay open until the next flush. */
int platform_as_map_file(struct platform_as *as, gaddr_t addr, size_t len, int prot, int kernel_fd,
			 uint64_t file_off);
int platform_as_unmap(struct platform_as *as, gaddr_t addr, size_t len);
int platform_as_protect(struct platform_as *as, gaddr_t addr, size_t len, int prot);
int platform_as_flush(struct platform_as *as);

/* The calling kernel thread will not resume pt's guest thread again (it
 * exits): it must drop every reference to pt's memory, which whoever
 * reaps the process may free at any time from now on. */
void platform_thread_unserve(struct platform_thread *pt);
int platform_thread_create(struct platform_as *as, struct platform_thread **out);
void platform_thread_destroy(struct platform_thread *pt);
/* The guest thread on pt is gone but its host process lives on (a vfork
 * child exec'd into a process of its own): keep the host thread for the
 * next platform_thread_create on the same process. */
void platform_thread_release(struct platform_thread *pt);
/* At the next resume the thread's FPU state is the initial one (execve),
 * or a copy of parent's current one (fork). */
void platform_thread_fpu_reset(struct platform_thread *pt);
int platform_thread_fpu_inherit(struct platform_thread *child, struct platform_thread *parent);
/* The trapped thread's FPU state: the xsave image in Linux's signal-frame
 * layout of this machine (fxsave area with its software bytes, then the
 * xsave header and features, then FP_XSTATE_MAGIC2), a kernel pointer,
 * and its length; NULL if there is none. Valid until the next resume. */
void *platform_thread_fpstate(struct platform_thread *pt, size_t *len);
/* Make a thread that runs guest code trap soon (TRAP_INTERRUPT), so the
 * kernel sees a signal sent to it. Harmless if it is in the kernel. */
void platform_thread_kick(struct platform_thread *pt);
/* The ids the stub answers getpid and gettid with (stub/handler.c)
 * without a round trip; the kernel sets them before each resume (a tid
 * changes when a thread that is not the leader execs). */
void platform_thread_set_ids(struct platform_thread *pt, int pid, int tid);

/* What the host thread under pt has used since it was handed to its
 * current guest thread, read from the host (platform/cputime.c). */
struct thread_usage {
	int64_t user_ns, sys_ns; /* CPU time */
	int64_t minflt, majflt;  /* page faults the host resolved */
};
/* 0, or -errno with the last figures read (the host thread is gone or
 * cannot be found). Monotonic. */
int platform_thread_usage(struct platform_thread *pt, struct thread_usage *u);
/* The host thread's involuntary context switches (its preemptions, as
 * the host counts them) since it was given to its guest thread; apart
 * from platform_thread_usage as it costs another /proc read. 0, or
 * -errno with the last figure read. Monotonic. */
int platform_thread_nivcsw(struct platform_thread *pt, int64_t *n);

/* Keep the guest thread of pt on host CPUs of mask (bit i: CPU i; CPUs
 * past 63 are not told apart), from its next resume. A thread bound to
 * one CPU stays there if mask allows it, else moves to the first CPU of
 * mask. */
void platform_thread_set_cpus(struct platform_thread *pt, uint64_t mask);

/* Resume the guest thread with *regs (and fs_base if *set_fs) and wait for
 * its next trap; *regs then holds the trapped context. */
int platform_run(struct platform_thread *pt, struct guest_regs *regs, bool *set_fs,
		 uint64_t fs_base, struct trap *out);

#endif
