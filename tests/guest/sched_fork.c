/* What a child inherits from the thread that forks it: its nice value,
 * policy and CPU affinity; SCHED_RESET_ON_FORK gives it the default
 * policy and a nice value no better than 0, and is not inherited. Needs
 * sched_fork (kernel/cputime.h) in the clone path. */
#include "proc_util.h"
#include <sched.h>
#include <sys/resource.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static void child_report(const char *label)
{
	pid_t c = xfork();
	if (c == 0) {
		unsigned long m[16] = { 0 };
		rsys(SYS_sched_getaffinity, 0, sizeof(m), m);
		int n = 0;
		for (int i = 0; i < 16; i++)
			n += __builtin_popcountl(m[i]);
		printf("%s: nice %ld policy %#lx CPUs %d\n", label, 20 - rsys(SYS_getpriority, PRIO_PROCESS, 0),
		       rsys(SYS_sched_getscheduler, 0), n);
		_exit(0);
	}
	reap(c);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	child_report("default");
	setpriority(PRIO_PROCESS, 0, 7);
	int prio = 0;
	sched_setscheduler(0, SCHED_BATCH, (struct sched_param *)&prio);
	unsigned long m[16] = { 1 };
	rsys(SYS_sched_setaffinity, 0, sizeof(m), m);
	child_report("nice 7, BATCH, CPU 0");
	sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, (struct sched_param *)&prio);
	child_report("BATCH|RESET_ON_FORK, nice 7");
	setpriority(PRIO_PROCESS, 0, -3);
	child_report("BATCH|RESET_ON_FORK, nice -3");
	sched_setscheduler(0, SCHED_IDLE | SCHED_RESET_ON_FORK, (struct sched_param *)&prio);
	child_report("IDLE|RESET_ON_FORK, nice -3");
	return 0;
}
