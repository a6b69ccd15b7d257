/* The errors of the signal-sending calls in Linux's order: a bad signal
 * number is EINVAL only once the target is found (a missing target is
 * ESRCH first); rt_(tg)sigqueueinfo copy the siginfo first (EFAULT), then
 * refuse kernel-looking si_codes for others (EPERM), and
 * rt_tgsigqueueinfo checks its ids between the two. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"

#define NO_PID 4000000 /* above any pid_max */

int main(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_code = SI_QUEUE;
	pid_t me = getpid(), tid = (pid_t)rsys(SYS_gettid);
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}

	puts("-- kill");
	res("missing pid, signal 99", rsys(SYS_kill, NO_PID, 99));
	res("self, signal 99", rsys(SYS_kill, me, 99));
	res("self, signal -1", rsys(SYS_kill, me, -1));
	res("child, signal 65", rsys(SYS_kill, child, 65));
	res("missing group, signal 99", rsys(SYS_kill, -(NO_PID - 1), 99));
	res("own group, signal 99", rsys(SYS_kill, 0, 99));
	res("self, signal 0", rsys(SYS_kill, me, 0));

	puts("-- tkill, tgkill");
	res("tkill missing tid, signal 99", rsys(SYS_tkill, NO_PID, 99));
	res("tkill self, signal 65", rsys(SYS_tkill, tid, 65));
	res("tkill tid 0, signal 99", rsys(SYS_tkill, 0, 99));
	res("tgkill missing tid, signal 99", rsys(SYS_tgkill, me, NO_PID, 99));
	res("tgkill self, signal 99", rsys(SYS_tgkill, me, tid, 99));
	res("tgkill tgid 0, signal 99", rsys(SYS_tgkill, 0, tid, 99));
	res("tgkill tid of another process", rsys(SYS_tgkill, me, child, 0));

	puts("-- rt_sigqueueinfo");
	res("missing pid, signal 99", rsys(SYS_rt_sigqueueinfo, NO_PID, 99, &si));
	res("self, signal 99", rsys(SYS_rt_sigqueueinfo, me, 99, &si));
	res("self, signal 99, bad siginfo", rsys(SYS_rt_sigqueueinfo, me, 99, 8));
	res("missing pid, bad siginfo", rsys(SYS_rt_sigqueueinfo, NO_PID, 10, 8));
	res("pid 0, signal 99", rsys(SYS_rt_sigqueueinfo, 0, 99, &si));
	si.si_code = SI_USER;
	res("child, si_code SI_USER, signal 99", rsys(SYS_rt_sigqueueinfo, child, 99, &si));
	res("missing pid, si_code SI_USER", rsys(SYS_rt_sigqueueinfo, NO_PID, 10, &si));
	si.si_code = SI_TKILL;
	res("child, si_code SI_TKILL", rsys(SYS_rt_sigqueueinfo, child, 0, &si));
	si.si_code = SI_QUEUE;
	res("child, signal 0", rsys(SYS_rt_sigqueueinfo, child, 0, &si));

	puts("-- rt_tgsigqueueinfo");
	res("tid 0, bad siginfo", rsys(SYS_rt_tgsigqueueinfo, me, 0, 10, 8));
	res("tid 0", rsys(SYS_rt_tgsigqueueinfo, me, 0, 10, &si));
	res("missing tid, signal 99", rsys(SYS_rt_tgsigqueueinfo, me, NO_PID, 99, &si));
	res("self, signal 99", rsys(SYS_rt_tgsigqueueinfo, me, tid, 99, &si));
	res("self, signal -1", rsys(SYS_rt_tgsigqueueinfo, me, tid, -1, &si));
	si.si_code = SI_USER;
	res("tid 0, si_code SI_USER", rsys(SYS_rt_tgsigqueueinfo, me, 0, 10, &si));
	res("child, si_code SI_USER", rsys(SYS_rt_tgsigqueueinfo, child, child, 0, &si));

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}
