/* The stub's host signal handler: the trap from guest code into the kernel.
 *
 * It runs on the thread's alternate stack inside its stub area, so the
 * host's signal frame (all registers, the xsave image) lands in memory the
 * kernel maps too. It posts the trap in the mailbox, waits for the kernel
 * thread's reply (spinning briefly, then on a futex) and returns through
 * rt_sigreturn into whatever context the kernel left in the frame. */
#include <linux/audit.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <asm/prctl.h>
#include "stub/stub_abi.h"
#include "stub/stub_sys.h"

#define SI_CODE_OFF 8     /* siginfo: si_code */
#define SI_SYSCALL_OFF 24 /* SIGSYS: si_syscall, then si_arch */
#define SYS_SECCOMP_CODE 1

/* getpid and gettid without the kernel thread: the answers are constant
 * while the thread runs guest code (the kernel writes them into the
 * thread's read-only page before resuming it), and a round trip to the
 * kernel thread costs two host context switches. The call number comes
 * from the host's siginfo, not from guest-writable memory; signals for
 * the thread still arrive by kick, as they do while guest code runs. */
STUB_INLINE int fast_syscall(int signo, const void *info, void *uc, const struct stub_thread_const *c)
{
	if (signo != 31 /* SIGSYS */)
		return 0;
	const char *si = info;
	if (*(const int32_t *)(si + SI_CODE_OFF) != SYS_SECCOMP_CODE ||
	    *(const uint32_t *)(si + SI_SYSCALL_OFF + 4) != AUDIT_ARCH_X86_64)
		return 0;
	int32_t nr = *(const int32_t *)(si + SI_SYSCALL_OFF), v;
	if (nr == SYS_getpid)
		v = c->pid;
	else if (nr == SYS_gettid)
		v = c->tid;
	else
		return 0;
	if (v <= 0)
		return 0;
	((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = v;
	return 1;
}

STUB_FN void stub_handler(int signo, void *info, void *uc)
{
	/* The frame is on this thread's alternate stack, so the stack pointer
	 * names the thread's area. */
	uintptr_t area = (uintptr_t)__builtin_frame_address(0) & ~(STUB_AREA_SIZE - 1);
	struct stub_mailbox *mb = (struct stub_mailbox *)(area + AREA_MBOX_OFF);
	if (fast_syscall(signo, info, uc, (const struct stub_thread_const *)(area + AREA_CONST_OFF)))
		return;
	volatile uint64_t *dst = (volatile uint64_t *)mb->siginfo;
	const uint64_t *src = info;

	for (int i = 0; i < 16; i++)
		dst[i] = src[i];
	mb->signo = (uint64_t)signo;
	mb->uc = (uint64_t)uc;
	if (mb->has_rdtscp) { /* TSC_AUX is the CPU number (and node) */
		uint32_t aux;
		__asm__ volatile("rdtscp" : "=c"(aux) : : "rax", "rdx");
		mb->cpu = aux & 0xfff;
	}
	if (stub_xchg(&mb->state, MBOX_TRAPPED) == MBOX_RUNNING_KSLEEP)
		stub_syscall(SYS_futex, &mb->state, FUTEX_WAKE, 1, 0, 0, 0);

	/* The reply is RUNNING; the kernel thread may already have marked
	 * itself asleep (RUNNING_KSLEEP) before we looked: also a reply. */
	/* The kernel zeroes spin_tsc when its thread goes to sleep (a
	 * blocking call): then the CPU is better given up at once. */
	volatile uint64_t *spin = &mb->spin_tsc;
	uint64_t deadline = __builtin_ia32_rdtsc() + *spin;
	do {
		if (stub_load(&mb->state) <= MBOX_RUNNING_KSLEEP)
			goto replied;
		uint32_t batch = stub_load(&mb->yield_cpu);
		if (batch) {
			const volatile uint32_t *done = (const volatile uint32_t *)(STUB_ORDERS + ORDERS_DONE);
			uint32_t d = stub_load(done);
			/* (Batches are numbered in turn, 31 bits; the top
			 * bit marks a failed one.) */
			if ((int32_t)(((d & 0x7fffffffu) - batch) << 1) < 0)
				stub_syscall(SYS_futex, done, FUTEX_WAIT, d, 0, 0, 0);
			deadline = __builtin_ia32_rdtsc() + *spin; /* counted from the CPU's return */
		} else {
			__builtin_ia32_pause();
		}
	} while (*spin && __builtin_ia32_rdtsc() < deadline);
	for (;;) {
		uint32_t s = stub_load(&mb->state);
		if (s <= MBOX_RUNNING_KSLEEP)
			break;
		if (s == MBOX_TRAPPED) {
			if (!stub_cas(&mb->state, MBOX_TRAPPED, MBOX_TRAPPED_GSLEEP))
				continue;
			s = MBOX_TRAPPED_GSLEEP;
		}
		/* Any other value (the process is being torn down): sleep on
		 * it rather than spin. */
		stub_syscall(SYS_futex, &mb->state, FUTEX_WAIT, s, 0, 0, 0);
	}
replied:
	if (mb->set_cpu) { /* the mask is in the thread's read-only page */
		mb->set_cpu = 0;
		stub_syscall(SYS_sched_setaffinity, 0, 8, area + AREA_CONST_OFF + CONST_CPU_MASK, 0, 0, 0);
	}
	if (mb->set_fs) {
		uint64_t base = mb->fs_base;
		mb->set_fs = 0;
		if (mb->has_fsgsbase)
			__asm__ volatile("wrfsbase %0" ::"r"(base) : "memory");
		else
			stub_syscall(SYS_arch_prctl, ARCH_SET_FS, base, 0, 0, 0, 0);
	}
}
