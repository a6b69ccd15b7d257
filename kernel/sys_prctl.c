/* prctl: the options that are per-process state the kernel keeps. */
#include <string.h>
#include <sys/prctl.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

long sys_prctl(const struct sysargs *a)
{
	int option = (int)a->a[0];
	uint64_t arg2 = a->a[1];
	struct process *p = current->proc;

	switch (option) {
	case PR_SET_NAME: {
		char name[16];
		long n = strncpy_from_guest(name, arg2, sizeof(name));
		if (n == -EFAULT)
			return -EFAULT;
		name[15] = '\0'; /* longer names are cut, like Linux */
		pthread_mutex_lock(&p->lock);
		memcpy(p->comm, name, sizeof(name));
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	case PR_GET_NAME: {
		char name[16];
		pthread_mutex_lock(&p->lock);
		memcpy(name, p->comm, sizeof(name));
		pthread_mutex_unlock(&p->lock);
		return copy_to_guest(arg2, name, sizeof(name));
	}
	case PR_SET_PDEATHSIG:
		if (arg2 > 64)
			return -EINVAL;
		current->pdeath_signal = (int)arg2;
		return 0;
	case PR_GET_PDEATHSIG:
		return copy_to_guest(arg2, &current->pdeath_signal, sizeof(int));
	case PR_GET_DUMPABLE:
		return p->dumpable;
	case PR_SET_DUMPABLE:
		if (arg2 > 1)
			return -EINVAL;
		p->dumpable = (int)arg2;
		return 0;
	case PR_SET_NO_NEW_PRIVS:
		if (arg2 != 1 || a->a[2] || a->a[3] || a->a[4])
			return -EINVAL;
		current->no_new_privs = true;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		if (arg2 || a->a[2] || a->a[3] || a->a[4])
			return -EINVAL;
		return current->no_new_privs;
	case PR_GET_SECCOMP:
		return 0; /* the guest has no filter of its own */
	case PR_SET_CHILD_SUBREAPER:
		pthread_mutex_lock(&tasklist_lock);
		p->child_subreaper = arg2 != 0;
		pthread_mutex_unlock(&tasklist_lock);
		return 0;
	case PR_GET_CHILD_SUBREAPER: {
		int v = p->child_subreaper;
		return copy_to_guest(arg2, &v, sizeof(v));
	}
	case PR_GET_TIMERSLACK:
		return 50000;
	default:
		kdebug("prctl option %d is not supported", option);
		return -EINVAL;
	}
}
