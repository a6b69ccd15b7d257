/* Process file descriptors: a file that names one process for good.
 * It records the pid and the process's identity (its start time), so a
 * recycled pid is never mistaken for it. */
#include <fcntl.h>
#include <stdlib.h>
#include "kernel/pidfd.h"
#include "kernel/task.h"
#include "kernel/syscall.h"
#include "fs/file.h"

struct pidfd {
	int pid;
	struct timespec start;
};

static void pidfd_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops pidfd_ops = {
	.release = pidfd_release,
	.anon_name = "[pidfd]",
};

int pidfd_install(struct process *p)
{
	struct pidfd *pd = malloc(sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pd->pid = p->pid;
	pd->start = p->start_time;
	struct file *f = file_new(&pidfd_ops, O_RDWR, 0, pd);
	if (!f) {
		free(pd);
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, true);
	if (fd < 0)
		fput(f);
	return fd;
}

int pidfd_pid(int fd)
{
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	int pid = -EBADF; /* Linux's pidfd_get_pid: not a pidfd is EBADF too */
	if (f->ops == &pidfd_ops) {
		struct pidfd *pd = f->priv;
		pthread_mutex_lock(&tasklist_lock);
		struct process *p = pid_lookup(pd->pid);
		bool same = p && p->start_time.tv_sec == pd->start.tv_sec &&
			    p->start_time.tv_nsec == pd->start.tv_nsec;
		pthread_mutex_unlock(&tasklist_lock);
		pid = same ? pd->pid : 0; /* 0: gone, names nobody */
	}
	fput(f);
	return pid;
}

long sys_pidfd_open(const struct sysargs *a)
{
	int pid = (int)a->a[0];
	unsigned flags = (unsigned)a->a[1];
	if (flags & ~(unsigned)O_NONBLOCK)
		return -EINVAL;
	if (pid <= 0)
		return -EINVAL;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = pid_lookup(pid);
	/* Linux also refuses a process whose threads are all gone (ESRCH for
	 * a zombie is newer behaviour; older kernels allow it). */
	pthread_mutex_unlock(&tasklist_lock);
	if (!p)
		return -ESRCH;
	return pidfd_install(p);
}
