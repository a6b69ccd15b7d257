/* The controlling terminal of the sandbox. Guest host-processes leave the
 * terminal's session (stub/setup.c), so the host's terminal signals reach
 * only cocoon; a forwarder thread sends them on to the guests' foreground
 * process group, which guests set with tcsetpgrp like on Linux. The
 * terminal belongs to the session of the sandbox's first process. */
#include <pthread.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kernel/tty.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

static struct {
	bool have;             /* cocoon's stdin is a terminal */
	struct termios saved;
	sigset_t forwarded;
	int sid, fg_pgrp;      /* guest ids; tasklist_lock */
} tty = { .sid = 1, .fg_pgrp = 1 };

void tty_init(void)
{
	tty.have = isatty(0) && tcgetattr(0, &tty.saved) == 0;
	sigemptyset(&tty.forwarded);
	int sigs[] = { SIGINT, SIGQUIT, SIGTSTP, SIGHUP, SIGWINCH };
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&tty.forwarded, sigs[i]);
	/* Blocked in every thread, taken by the forwarder with sigwait. */
	pthread_sigmask(SIG_BLOCK, &tty.forwarded, NULL);
}

void tty_restore(void)
{
	if (tty.have)
		tcsetattr(0, TCSANOW, &tty.saved);
}

static void *forwarder(void *arg)
{
	for (;;) {
		int sig;
		if (sigwait(&tty.forwarded, &sig))
			continue;
		pthread_mutex_lock(&tasklist_lock);
		int pgrp = tty.fg_pgrp;
		for (int pid = 1; pid < PID_MAX; pid++) {
			struct process *p = pid_lookup(pid);
			if (p && p->pgid == pgrp)
				signal_send_info(p, NULL, sig, &(siginfo_t){ .si_signo = sig, .si_code = SI_KERNEL });
		}
		pthread_mutex_unlock(&tasklist_lock);
	}
	return NULL;
}

void tty_start(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, forwarder, NULL) == 0)
		pthread_detach(t);
}

long tty_jobctl_ioctl(int hostfd, unsigned cmd, gaddr_t arg)
{
	if (cmd != TIOCGPGRP && cmd != TIOCSPGRP && cmd != TIOCGSID && cmd != TIOCSCTTY && cmd != TIOCNOTTY)
		return 1;
	if (!tty.have || !isatty(hostfd))
		return -ENOTTY;
	struct process *me = current->proc;
	long ret = 0;
	int v;
	pthread_mutex_lock(&tasklist_lock);
	bool ours = me->sid == tty.sid; /* the terminal is our session's */
	switch (cmd) {
	case TIOCGPGRP:
	case TIOCGSID:
		v = cmd == TIOCGPGRP ? tty.fg_pgrp : tty.sid;
		pthread_mutex_unlock(&tasklist_lock);
		return !ours ? -ENOTTY : copy_to_guest(arg, &v, sizeof(v));
	case TIOCSPGRP:
		pthread_mutex_unlock(&tasklist_lock);
		if (copy_from_guest(&v, arg, sizeof(v)))
			return -EFAULT;
		pthread_mutex_lock(&tasklist_lock);
		if (!ours) {
			ret = -ENOTTY;
		} else if (v < 0) {
			ret = -EINVAL;
		} else {
			/* Linux: a group of the terminal's session must exist. */
			ret = -EPERM;
			for (int pid = 1; pid < PID_MAX; pid++) {
				struct process *p = pid_lookup(pid);
				if (p && p->pgid == v && p->sid == tty.sid) {
					tty.fg_pgrp = v;
					ret = 0;
					break;
				}
			}
		}
		break;
	case TIOCSCTTY: /* a session leader takes the terminal */
		if (me->sid != me->pid)
			ret = -EPERM;
		else if (me->sid != tty.sid) {
			tty.sid = me->sid;
			tty.fg_pgrp = me->pgid;
		}
		break;
	case TIOCNOTTY:
		ret = ours ? 0 : -ENOTTY;
		break;
	}
	pthread_mutex_unlock(&tasklist_lock);
	return ret;
}
