/* Leaving: exit and exit_group. */
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

