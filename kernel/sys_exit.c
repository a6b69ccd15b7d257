/* Leaving: exit (the calling thread) and exit_group (the process). */
#include "kernel/syscall.h"
#include "kernel/task.h"

long sys_exit_group(const struct sysargs *a)
{
	process_exit(current->proc, ((int)a->a[0] & 0xff) << 8);
	current->exiting = true;
	return 0;
}

/* The thread goes; if it was the last, its code is the process's
 * (kernel/task.c's thread_exit). */
long sys_exit(const struct sysargs *a)
{
	current->exit_code = ((int)a->a[0] & 0xff) << 8;
	current->exiting = true;
	return 0;
}
