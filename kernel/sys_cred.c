/* Supplementary groups. The guest runs with the invoking user's
 * credentials; its group list is a copy of the host process's, which the
 * guest can read but, without privileges, not change. */
#include <grp.h>
#include <unistd.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define NGROUPS_MAX 65536

long sys_getgroups(const struct sysargs *a)
{
	int size = (int)a->a[0];
	if (size < 0)
		return -EINVAL;
	gid_t groups[256];
	int n = getgroups(256, groups);
	if (n < 0)
		return -errno;
	if (size == 0)
		return n;
	if (size < n)
		return -EINVAL;
	int err = copy_to_guest(a->a[1], groups, (size_t)n * sizeof(gid_t));
	return err ? err : n;
}

long sys_setgroups(const struct sysargs *a)
{
	if (a->a[0] > NGROUPS_MAX)
		return -EINVAL;
	return -EPERM; /* the sandbox grants no CAP_SETGID */
}
