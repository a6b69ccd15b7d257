/* prctl: the options that are per-process state the kernel keeps, in
 * Linux's order of checks (the capability options first, as Linux's
 * security hook sees them before prctl itself). */
#include <string.h>
#include <sys/prctl.h>
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"
#include "mm/vma_name.h"

#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)
#endif
#define TASK_COMM_LEN 16

/* Linux's cap_task_prctl: -ENOSYS for options it does not handle. */
static long caps_prctl(int option, const uint64_t *arg)
{
	struct process *p = current->proc;
	struct caps *c = &p->ext.caps;
	long ret = 0;
	pthread_mutex_lock(&p->lock);
	bool setpcap = (c->eff >> CAP_SETPCAP) & 1;
	switch (option) {
	case PR_CAPBSET_READ:
		ret = !cap_known(arg[2]) ? -EINVAL : (long)((c->bnd >> arg[2]) & 1);
		break;
	case PR_CAPBSET_DROP:
		if (!setpcap)
			ret = -EPERM;
		else if (!cap_known(arg[2]))
			ret = -EINVAL;
		else
			c->bnd &= ~(1ULL << arg[2]);
		break;
	case PR_GET_SECUREBITS:
		ret = c->securebits;
		break;
	case PR_SET_SECUREBITS: {
		/* No change of a locked bit, no unlocking, no unknown bits,
		 * and nothing at all without CAP_SETPCAP. */
		uint64_t old = c->securebits, want = arg[2];
		if ((((old & SECURE_ALL_LOCKS) >> 1) & (old ^ want)) || (old & SECURE_ALL_LOCKS & ~want) ||
		    (want & ~(uint64_t)(SECURE_ALL_LOCKS | SECURE_ALL_BITS)) || !setpcap)
			ret = -EPERM;
		else
			c->securebits = (uint32_t)want;
		break;
	}
	case PR_GET_KEEPCAPS:
		ret = !!(c->securebits & SECBIT_KEEP_CAPS);
		break;
	case PR_SET_KEEPCAPS:
		if (arg[2] > 1)
			ret = -EINVAL;
		else if (c->securebits & SECBIT_KEEP_CAPS_LOCKED)
			ret = -EPERM;
		else if (arg[2])
			c->securebits |= SECBIT_KEEP_CAPS;
		else
			c->securebits &= ~SECBIT_KEEP_CAPS;
		break;
	case PR_CAP_AMBIENT: {
		uint64_t bit = 1ULL << (arg[3] & 63);
		if (arg[2] == PR_CAP_AMBIENT_CLEAR_ALL) {
			if (arg[3] | arg[4] | arg[5])
				ret = -EINVAL;
			else
				c->amb = 0;
		} else if (!cap_known(arg[3]) || arg[4] || arg[5]) {
			ret = -EINVAL;
		} else if (arg[2] == PR_CAP_AMBIENT_IS_SET) {
			ret = !!(c->amb & bit);
		} else if (arg[2] == PR_CAP_AMBIENT_RAISE) {
			if (!(c->prm & bit) || !(c->inh & bit) || (c->securebits & SECBIT_NO_CAP_AMBIENT_RAISE))
				ret = -EPERM;
			else
				c->amb |= bit;
		} else if (arg[2] == PR_CAP_AMBIENT_LOWER) {
			c->amb &= ~bit;
		} else {
			ret = -EINVAL;
		}
		break;
	}
	default:
		ret = -ENOSYS;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* Linux reads at most 15 bytes: a name that ends right before an
 * unreadable page is fine, one that runs into it without a NUL is not. */
static long set_name(struct thread *t, gaddr_t addr)
{
	char name[TASK_COMM_LEN] = { 0 };
	size_t n = guest_accessible_len(addr, TASK_COMM_LEN - 1, false);
	if (n == 0 || copy_from_guest(name, addr, n))
		return -EFAULT;
	if (n < TASK_COMM_LEN - 1 && !memchr(name, 0, n))
		return -EFAULT;
	/* The calling thread's name only (name[15] is NUL). */
	pthread_mutex_lock(&t->proc->lock);
	thread_set_comm_locked(t, name);
	pthread_mutex_unlock(&t->proc->lock);
	return 0;
}

static long put_int(gaddr_t addr, int v)
{
	return copy_to_guest(addr, &v, sizeof v);
}

long sys_prctl(const struct sysargs *a)
{
	int option = (int)a->a[0];
	/* arg[2..5] are Linux's arg2..arg5. */
	const uint64_t arg[6] = { 0, 0, a->a[1], a->a[2], a->a[3], a->a[4] };
	struct process *p = current->proc;
	struct proc_ext *x = &p->ext;
	long ret = caps_prctl(option, arg);
	if (ret != -ENOSYS)
		return ret;
	ret = 0;

	switch (option) {
	case PR_SET_NAME:
		return set_name(current, arg[2]);
	case PR_GET_NAME: { /* the calling thread's */
		char name[TASK_COMM_LEN];
		pthread_mutex_lock(&p->lock);
		memcpy(name, current->comm, sizeof(name));
		pthread_mutex_unlock(&p->lock);
		name[TASK_COMM_LEN - 1] = '\0';
		return copy_to_guest(arg[2], name, sizeof(name));
	}
	case PR_SET_PDEATHSIG:
		if (arg[2] > 64)
			return -EINVAL;
		current->pdeath_signal = (int)arg[2];
		return 0;
	case PR_GET_PDEATHSIG:
		return put_int(arg[2], current->pdeath_signal);
	case PR_GET_DUMPABLE:
		return p->dumpable;
	case PR_SET_DUMPABLE:
		if (arg[2] > 1)
			return -EINVAL;
		p->dumpable = (int)arg[2];
		return 0;
	case PR_SET_NO_NEW_PRIVS:
		if (arg[2] != 1 || arg[3] || arg[4] || arg[5])
			return -EINVAL;
		current->no_new_privs = true;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		if (arg[2] || arg[3] || arg[4] || arg[5])
			return -EINVAL;
		return current->no_new_privs;
	case PR_GET_SECCOMP:
		return 0; /* the guest has no filter of its own */
	case PR_SET_CHILD_SUBREAPER:
		pthread_mutex_lock(&tasklist_lock);
		p->child_subreaper = arg[2] != 0;
		pthread_mutex_unlock(&tasklist_lock);
		return 0;
	case PR_GET_CHILD_SUBREAPER:
		return put_int(arg[2], p->child_subreaper);
	case PR_GET_TIMERSLACK: /* the calling thread's */
		pthread_mutex_lock(&p->lock);
		ret = (long)current->timer_slack_ns;
		pthread_mutex_unlock(&p->lock);
		return ret;
	case PR_SET_TIMERSLACK:
		pthread_mutex_lock(&p->lock);
		current->timer_slack_ns = arg[2] ? arg[2] : current->default_slack_ns;
		pthread_mutex_unlock(&p->lock);
		return 0;
	case PR_GET_TID_ADDRESS:
		return copy_to_guest(arg[2], &current->clear_child_tid, sizeof(uint64_t));
	case PR_GET_THP_DISABLE:
		if (arg[2] || arg[3] || arg[4] || arg[5])
			return -EINVAL;
		return x->thp_disable;
	case PR_SET_THP_DISABLE:
		/* Flags (6.18: EXCEPT_ADVISED) only when disabling. */
		if (arg[4] || arg[5] || (!arg[2] && arg[3]) || (arg[3] & ~(uint64_t)PR_THP_DISABLE_EXCEPT_ADVISED))
			return -EINVAL;
		pthread_mutex_lock(&p->lock);
		x->thp_disable = arg[2] ? 1 | (int)arg[3] : 0;
		pthread_mutex_unlock(&p->lock);
		return 0;
	case PR_MCE_KILL:
		if (arg[4] || arg[5])
			return -EINVAL;
		if (arg[2] == PR_MCE_KILL_CLEAR) {
			if (arg[3])
				return -EINVAL;
			x->mce_kill = -1;
		} else if (arg[2] == PR_MCE_KILL_SET) {
			if (arg[3] == PR_MCE_KILL_EARLY || arg[3] == PR_MCE_KILL_LATE)
				x->mce_kill = (int)arg[3];
			else if (arg[3] == PR_MCE_KILL_DEFAULT)
				x->mce_kill = -1;
			else
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		return 0;
	case PR_MCE_KILL_GET:
		if (arg[2] || arg[3] || arg[4] || arg[5])
			return -EINVAL;
		return x->mce_kill < 0 ? PR_MCE_KILL_DEFAULT : x->mce_kill;
	case PR_GET_TSC:
		return put_int(arg[2], PR_TSC_ENABLE);
	case PR_SET_TSC:
		if (arg[2] == PR_TSC_ENABLE)
			return 0;
		/* PR_TSC_SIGSEGV: the guests' clocks read the TSC (vDSO). */
		kdebug("prctl(PR_SET_TSC, %llu) is not supported", (unsigned long long)arg[2]);
		return -EINVAL;
	case PR_GET_TIMING:
		return PR_TIMING_STATISTICAL;
	case PR_SET_TIMING:
		return arg[2] == PR_TIMING_STATISTICAL ? 0 : -EINVAL;
	case PR_TASK_PERF_EVENTS_DISABLE:
	case PR_TASK_PERF_EVENTS_ENABLE:
		return 0; /* no perf events in the sandbox */
	case PR_SET_VMA:
		return prctl_set_vma(arg[2], arg[3], arg[4], arg[5]);
	default:
		/* Also Linux's answer for the options of other architectures
		 * (PR_GET_UNALIGN, PR_GET_ENDIAN, PR_GET_FP_MODE...). */
		kdebug("prctl option %d is not supported", option);
		return -EINVAL;
	}
}
