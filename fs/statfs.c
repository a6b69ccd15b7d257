/* statfs and fstatfs: the host file system's figures, flagged read-only
 * as the guest sees every host file system. */
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include "fs/file.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

static long statfs_out(int hostfd, gaddr_t ubuf)
{
	struct statfs st;
	if (fstatfs(hostfd, &st) < 0)
		return -errno;
	st.f_flags |= ST_RDONLY;
	return copy_to_guest(ubuf, &st, sizeof(st));
}

long sys_statfs(const struct sysargs *a)
{
	struct walk_result r;
	struct file *f;
	int err = user_walk(AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW, &r, &f);
	if (err)
		return err;
	long ret = statfs_out(r.fd, a->a[1]);
	walk_done(&r);
	return ret;
}

long sys_fstatfs(const struct sysargs *a)
{
	struct file *f = fget_raw((int)a->a[0]);
	if (!f)
		return -EBADF;
	long ret = f->hostfd >= 0 ? statfs_out(f->hostfd, a->a[1]) : -ENOSYS;
	fput(f);
	return ret;
}
