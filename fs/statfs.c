/* statfs and fstatfs: the file system's figures, with the mount's flags. */
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include "fs/file.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

#define ST_VALID 0x0020 /* Linux: f_flags is meaningful */

static long statfs_out(struct inode *i, struct mount *m, gaddr_t ubuf)
{
	struct statfs st;
	if (!i->ops->statfs)
		return -ENOSYS;
	int err = i->ops->statfs(i, &st);
	if (err)
		return err;
	st.f_flags = ST_VALID | ((m->flags & MNT_RDONLY) ? ST_RDONLY : 0) |
		((m->flags & MNT_NOSUID) ? ST_NOSUID : 0) | ((m->flags & MNT_NODEV) ? ST_NODEV : 0) |
		((m->flags & MNT_NOEXEC) ? ST_NOEXEC : 0);
	st.f_fsid = (fsid_t){ { (int)major(i->sb->dev) ^ (int)minor(i->sb->dev), 0 } };
	return copy_to_guest(ubuf, &st, sizeof(st));
}

long sys_statfs(const struct sysargs *a)
{
	struct walk_result r;
	struct file *f;
	int err = user_walk(AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW, &r, &f);
	if (err)
		return err;
	long ret = statfs_out(walk_inode(&r), r.path.mnt, a->a[1]);
	walk_done(&r);
	return ret;
}

long sys_fstatfs(const struct sysargs *a)
{
	struct file *f = fget_raw((int)a->a[0]);
	if (!f)
		return -EBADF;
	long ret;
	if (f->inode) {
		ret = statfs_out(f->inode, f->mnt, a->a[1]);
	} else if (f->hostfd >= 0) { /* the host's stdio */
		struct statfs st;
		ret = fstatfs(f->hostfd, &st) < 0 ? -errno : copy_to_guest(a->a[1], &st, sizeof(st));
	} else {
		ret = -ENOSYS;
	}
	fput(f);
	return ret;
}
