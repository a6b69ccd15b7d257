/* fadvise64: advice is accepted and has no effect (the page cache keeps
 * whole files); the checks are Linux's (mm/fadvise.c). */
#include <fcntl.h>
#include "fs/file.h"
#include "kernel/syscall.h"

long sys_fadvise64(const struct sysargs *a)
{
	int64_t len = (int64_t)a->a[2];
	int advice = (int)a->a[3];
	struct file *f = fget((int)a->a[0]);
	if (!f)
		return -EBADF;
	long ret = 0;
	if (S_ISFIFO(f->type))
		ret = -ESPIPE;
	else if (advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE || len < 0)
		ret = -EINVAL;
	fput(f);
	return ret;
}
