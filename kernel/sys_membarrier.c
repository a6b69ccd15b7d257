/* membarrier: Linux's commands, registrations and errors, with a real
 * barrier behind them.
 *
 * What gives the guarantee: every guest thread runs on a host thread,
 * and the guest host-processes cannot call the host's membarrier (the
 * stub's filter allows no such call). The kernel thread serving the
 * caller can: the host's MEMBARRIER_CMD_GLOBAL makes every thread running
 * on the machine pass a full memory barrier (a grace period of RCU, like
 * Linux's own GLOBAL command, milliseconds) before it returns, guest
 * threads of every process included. It is only needed when another
 * thread may run guest code in the caller's address space (PRIVATE_*:
 * another thread, or a vfork child, shares the mm) or in another
 * registered process (GLOBAL_EXPEDITED). Otherwise the caller is alone:
 * its trap into the kernel and the return to the guest already order its
 * own accesses, and a fence here is all Linux's own path does for it.
 * Trade: an expedited barrier with company costs a grace period here
 * (IPIs natively). SYNC_CORE: the interrupts that end a grace period
 * return to user mode through iret, which serialises each core.
 *
 * Registrations are per address space (struct proc_ext.membarrier);
 * fork keeps them (Linux copies the mm's state), execve clears them. */
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/mm.h"

#define CMD_GET_REGISTRATIONS 512 /* MEMBARRIER_CMD_GET_REGISTRATIONS (6.3) */
#define CMD_FLAG_CPU 1            /* MEMBARRIER_CMD_FLAG_CPU */

/* What QUERY reports: every command (x86 has SYNC_CORE; rseq commands
 * work as plain barriers, since no guest can register an rseq area). */
#define CMD_BITMASK (MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED | \
	MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED | \
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE | \
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE | MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ | \
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ | CMD_GET_REGISTRATIONS)

/* Each registration and the command that made it (GET_REGISTRATIONS). */
static const struct {
	unsigned state;
	int cmd;
} registrations[] = {
	{ MB_GLOBAL_READY, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED },
	{ MB_PRIVATE_READY, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED },
	{ MB_SYNC_CORE_READY, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE },
	{ MB_RSEQ_READY, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ },
};

/* Every running thread on the machine passes a full barrier. */
static void barrier_everywhere(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0)
		kdebug("host membarrier(GLOBAL) failed: errno %d", errno);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Can a thread other than the caller run guest code in its address
 * space? (Other threads, or CLONE_VM children sharing the mm.) */
static bool mm_shared(struct process *p)
{
	struct mm *mm = p->mm;
	return __atomic_load_n(&p->nr_threads, __ATOMIC_ACQUIRE) > 1 ||
	       (mm && __atomic_load_n(&mm->users, __ATOMIC_ACQUIRE) > 1);
}

struct other_registered {
	struct process *self;
	bool found;
};
static void find_registered(struct process *p, void *ctx)
{
	struct other_registered *o = ctx;
	if (p != o->self && p->state == PROC_ALIVE &&
	    (__atomic_load_n(&p->ext.membarrier, __ATOMIC_RELAXED) & MB_GLOBAL_READY))
		o->found = true;
}

static long private_expedited(unsigned need)
{
	struct process *p = current->proc;
	if (!(__atomic_load_n(&p->ext.membarrier, __ATOMIC_ACQUIRE) & need))
		return -EPERM;
	if (mm_shared(p))
		barrier_everywhere();
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

static long global_expedited(void)
{
	struct other_registered o = { current->proc, false };
	pthread_mutex_lock(&tasklist_lock);
	for_each_process(find_registered, &o);
	pthread_mutex_unlock(&tasklist_lock);
	if (o.found || mm_shared(current->proc))
		barrier_everywhere();
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

static long do_register(unsigned state)
{
	__atomic_fetch_or(&current->proc->ext.membarrier, state, __ATOMIC_ACQ_REL);
	return 0;
}

long sys_membarrier(const struct sysargs *a)
{
	int cmd = (int)a->a[0];
	unsigned flags = (unsigned)a->a[1];
	if (cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) {
		if (flags && flags != CMD_FLAG_CPU)
			return -EINVAL;
	} else if (flags) {
		return -EINVAL;
	}
	switch (cmd) {
	case MEMBARRIER_CMD_QUERY:
		return CMD_BITMASK;
	case MEMBARRIER_CMD_GLOBAL:
		barrier_everywhere();
		return 0;
	case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
		return global_expedited();
	case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
		return do_register(MB_GLOBAL_READY);
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
		return private_expedited(MB_PRIVATE_READY);
	case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
		return do_register(MB_PRIVATE_READY);
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
		return private_expedited(MB_SYNC_CORE_READY);
	case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
		return do_register(MB_SYNC_CORE_READY);
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
		/* With FLAG_CPU only one CPU would be interrupted: no rseq
		 * areas exist, so it is the same barrier. */
		return private_expedited(MB_RSEQ_READY);
	case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
		return do_register(MB_RSEQ_READY);
	case CMD_GET_REGISTRATIONS: {
		unsigned state = __atomic_load_n(&current->proc->ext.membarrier, __ATOMIC_ACQUIRE);
		long ret = 0;
		for (size_t i = 0; i < ARRAY_SIZE(registrations); i++)
			if (state & registrations[i].state)
				ret |= registrations[i].cmd;
		return ret;
	}
	default:
		return -EINVAL;
	}
}
