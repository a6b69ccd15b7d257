/* The stub's host signal handler: the trap from guest code into the kernel.
 *
 * It runs on the thread's alternate stack inside its stub area, so the
 * host's signal frame (all registers, the xsave image) lands in memory the
 * kernel maps too. It posts the trap in the mailbox, waits for the kernel
 * thread's reply (spinning briefly, then on a futex) and returns through
 * rt_sigreturn into whatever context the kernel left in the frame. */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <asm/prctl.h>
#include "stub/stub_abi.h"
#include "stub/stub_sys.h"

STUB_FN void stub_handler(int signo, void *info, void *uc)
{
	/* The frame is on this thread's alternate stack, so the stack pointer
	 * names the thread's area. */
	uintptr_t area = (uintptr_t)__builtin_frame_address(0) & ~(STUB_AREA_SIZE - 1);
	struct stub_mailbox *mb = (struct stub_mailbox *)(area + AREA_MBOX_OFF);
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
	uint64_t deadline = __builtin_ia32_rdtsc() + mb->spin_tsc;
	do {
		if (stub_load(&mb->state) <= MBOX_RUNNING_KSLEEP)
			goto replied;
		__builtin_ia32_pause();
	} while (__builtin_ia32_rdtsc() < deadline);
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
