/* unshare(2): the calling thread stops sharing its fd table, fs state
 * (root, cwd, umask) or SysV semaphore undo list with the threads and
 * processes it shared them with (Linux's ksys_unshare). The thread
 * group, the signal handlers and the memory can be "unshared" only when
 * nothing shares them; namespaces are refused as for an unprivileged
 * user. */
#include <linux/sched.h>
#include "kernel/task.h"
#include "kernel/syscall.h"
#include "fs/fs.h"
#include "mm/mm.h"
#include "ipc/ipc.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

#define UNSHARE_NAMESPACES (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | \
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME)
#define UNSHARE_KNOWN (CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | \
	CLONE_SYSVSEM | UNSHARE_NAMESPACES)

/* What each flag drags in with it, in Linux's order (a later rule sees
 * what an earlier one added). */
static const struct { uint64_t flag, implies; } unshare_implied[] = {
	{ CLONE_NEWUSER, CLONE_THREAD | CLONE_FS },
	{ CLONE_VM, CLONE_SIGHAND },
	{ CLONE_SIGHAND, CLONE_THREAD },
	{ CLONE_NEWNS, CLONE_FS },
};

/* Linux's check_unshare_flags(): what cannot be unshared while shared
 * ("not implemented, but pretend it works if there is nothing to
 * unshare"). */
static long check_unshare(uint64_t f)
{
	if (f & ~(uint64_t)UNSHARE_KNOWN)
		return -EINVAL;
	struct thread *t = current;
	struct process *p = t->proc;
	pthread_mutex_lock(&p->lock);
	bool alone = p->nr_threads == 1;       /* thread_group_empty() */
	int sighand_users = sighand_users_locked(p);
	pthread_mutex_unlock(&p->lock);
	if ((f & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)) && !alone)
		return -EINVAL;
	/* Handlers a CLONE_SIGHAND parent or child (even a zombie) uses too. */
	if ((f & (CLONE_SIGHAND | CLONE_VM)) && sighand_users > 1)
		return -EINVAL;
	/* current_is_single_threaded(): another process runs in this memory. */
	if ((f & CLONE_VM) && __atomic_load_n(&p->mm->users, __ATOMIC_ACQUIRE) > 1)
		return -EINVAL;
	return 0;
}

long sys_unshare(const struct sysargs *a)
{
	uint64_t f = a->a[0];
	for (size_t i = 0; i < sizeof(unshare_implied) / sizeof(unshare_implied[0]); i++)
		if (f & unshare_implied[i].flag)
			f |= unshare_implied[i].implies;
	long err = check_unshare(f);
	if (err)
		return err;
	if (f & UNSHARE_NAMESPACES)
		return -EPERM; /* no namespaces inside the sandbox */
	struct thread *t = current;
	struct process *p = t->proc;
	struct fs_struct *new_fs = NULL;
	struct fdtable *new_files = NULL;
	if ((f & CLONE_FS) && fs_struct_shared(t->fs) && !(new_fs = fs_struct_copy(t->fs)))
		return -ENOMEM;
	if ((f & CLONE_FILES) && fdtable_shared(t->files) && !(new_files = fdtable_copy(t->files))) {
		fs_struct_put(new_fs);
		return -ENOMEM;
	}
	if (f & CLONE_SYSVSEM)
		sem_exit(t); /* "equivalent to sys_exit()" for the undo list, as in Linux */
	struct fs_struct *old_fs = NULL;
	struct fdtable *old_files = NULL;
	pthread_mutex_lock(&p->lock); /* /proc readers look at them under it */
	if (new_fs) {
		old_fs = t->fs;
		t->fs = new_fs;
	}
	if (new_files) {
		old_files = t->files;
		t->files = new_files;
	}
	pthread_mutex_unlock(&p->lock);
	fs_struct_put(old_fs);
	if (old_files)
		fdtable_put(old_files);
	return 0;
}
