/* Set-up of the zygote, run once on the stub's set-up stack right after
 * cocoon forked it: drop everything of the cocoon process, install the
 * trap handlers and the control thread's seccomp filter, then become the
 * control thread (stub/control.S). Guest host-processes are forks of the
 * zygote and inherit all of this. */
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "stub/stub_abi.h"
#include "stub/stub_sys.h"

void stub_handler(int, void *, void *);
void stub_restorer(void);
_Noreturn void stub_control_loop(void);

#define STUB_SA_RESTORER 0x04000000

STUB_FN _Noreturn void stub_setup(void)
{
	const struct stub_orders *o = (const struct stub_orders *)STUB_ORDERS;
	struct stub_ack *ack = (struct stub_ack *)STUB_ACK;

	/* Nothing of cocoon stays: its code, data, heap, stacks, the host's
	 * vDSO and vvar all go; only the stub's own ranges remain. */
	if (stub_syscall(SYS_munmap, 0, STUB_BASE, 0, 0, 0, 0) != 0 ||
	    stub_syscall(SYS_munmap, STUB_PROC + STUB_PROC_SIZE, STUB_THREADS - (STUB_PROC + STUB_PROC_SIZE), 0,
			 0, 0, 0) != 0)
		stub_syscall(SYS_exit_group, 4, 0, 0, 0, 0, 0);
	/* Up to the host's TASK_SIZE (one page below 2^47): a longer range
	 * would make the call fail and leave cocoon's stack mapped. */
	if (stub_syscall(SYS_munmap, STUB_THREADS, 0x7ffffffff000UL - STUB_THREADS, 0, 0, 0, 0) != 0)
		stub_syscall(SYS_exit_group, 4, 0, 0, 0, 0, 0);
	/* No host file descriptor but the memory file (the kernel placed it
	 * at fd 0). */
	if (stub_syscall(SYS_close_range, 1, ~0U, 0, 0, 0, 0) != 0)
		stub_syscall(SYS_exit_group, 5, 0, 0, 0, 0, 0);

	stub_syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0);
	/* Out of the terminal's process group: Ctrl-C reaches cocoon, which
	 * sends the guests' foreground group its SIGINT (kernel/tty.c). */
	stub_syscall(SYS_setsid, 0, 0, 0, 0, 0, 0);
	if (stub_syscall(SYS_getppid, 0, 0, 0, 0, 0, 0) != o->kernel_pid)
		stub_syscall(SYS_exit_group, 1, 0, 0, 0, 0, 0);
	stub_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
	/* No host core dumps of guest memory (a guest can kill itself from
	 * inside the stub), and no ptrace by other host processes. */
	stub_syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0, 0);

	/* Handlers block every signal while they run; the frame goes on the
	 * thread's alternate stack (its stub area). */
	/* Filled field by field: an initialiser could become a constant
	 * template outside the stub section. */
	volatile struct { uint64_t handler, flags, restorer, mask; } sa;
	sa.handler = (uint64_t)stub_handler;
	sa.flags = SA_SIGINFO | SA_ONSTACK | STUB_SA_RESTORER;
	sa.restorer = (uint64_t)stub_restorer;
	sa.mask = ~0ULL;
	stub_syscall(SYS_rt_sigaction, SIGSYS, &sa, 0, 8, 0, 0);
	stub_syscall(SYS_rt_sigaction, SIGSEGV, &sa, 0, 8, 0, 0);
	stub_syscall(SYS_rt_sigaction, SIGBUS, &sa, 0, 8, 0, 0);
	stub_syscall(SYS_rt_sigaction, SIGFPE, &sa, 0, 8, 0, 0);
	stub_syscall(SYS_rt_sigaction, SIGILL, &sa, 0, 8, 0, 0);
	stub_syscall(SYS_rt_sigaction, SIGTRAP, &sa, 0, 8, 0, 0);
	stub_syscall(SYS_rt_sigaction, STUB_KICK_SIGNAL, &sa, 0, 8, 0, 0);
	/* The control thread takes no signals; guest threads unblock theirs. */
	stub_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &o->all_mask, 0, 8, 0, 0);

	if (stub_syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &o->ctrl_prog, 0, 0, 0) != 0)
		stub_syscall(SYS_exit_group, 2, 0, 0, 0, 0, 0);

	__atomic_store_n(&ack->ready, 1, __ATOMIC_RELEASE);
	stub_syscall(SYS_futex, &ack->ready, FUTEX_WAKE, 1, 0, 0, 0);
	stub_control_loop();
}
