/* Leaving: exit and exit_group, and the kill family for the cases that
 * need no signal delivery (a default action that terminates, or an
 * ignored signal). Delivery to handlers comes with the signals issue. */
#include <signal.h>
#include "kernel/syscall.h"
#include "kernel/task.h"

long sys_exit_group(const struct sysargs *a)
{
	process_exit(current->proc, ((int)a->a[0] & 0xff) << 8);
	current->exiting = true;
	return 0;
}

long sys_exit(const struct sysargs *a)
{
	/* Every process has one thread so far: the thread's exit is the
	 * process's. */
	return sys_exit_group(a);
}

/* What happens when sig reaches the (only) thread of the current process. */
static long signal_self(int sig)
{
	if (sig == 0)
		return 0;
	struct ksigaction *act = &current->proc->sigactions[sig - 1];
	bool blocked = (current->sigmask >> (sig - 1)) & 1;
	if (sig == SIGKILL || sig == SIGSTOP || act->handler == (uint64_t)SIG_DFL) {
		switch (sig) {
		case SIGCHLD: case SIGURG: case SIGWINCH: case SIGCONT:
			return 0; /* ignored by default */
		case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
			kdebug("stop signals are not supported yet; %d ignored", sig);
			return 0;
		}
		if (blocked && sig != SIGKILL) {
			kdebug("signal %d stays pending (not supported yet); dropped", sig);
			return 0;
		}
		process_kill(current->proc, sig);
		current->exiting = true;
		return 0;
	}
	if (act->handler != (uint64_t)SIG_IGN)
		kdebug("signal %d has a handler; delivery is not supported yet, dropped", sig);
	return 0;
}

static long check_sig(uint64_t sig)
{
	return sig > 64 ? -EINVAL : 0;
}

long sys_kill(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	if (check_sig(a->a[1]))
		return -EINVAL;
	if (pid == current->proc->pid || pid == 0 || pid == -1 || pid == -current->proc->pid)
		return signal_self((int)a->a[1]);
	return -ESRCH;
}

long sys_tgkill(const struct sysargs *a)
{
	int tgid = (int)a->a[0], tid = (int)a->a[1];
	if (tgid <= 0 || tid <= 0 || check_sig(a->a[2]))
		return -EINVAL;
	if (tgid != current->proc->pid || tid != current->tid)
		return -ESRCH;
	return signal_self((int)a->a[2]);
}

long sys_tkill(const struct sysargs *a)
{
	int tid = (int)a->a[0];
	if (tid <= 0 || check_sig(a->a[1]))
		return -EINVAL;
	if (tid != current->tid)
		return -ESRCH;
	return signal_self((int)a->a[1]);
}
