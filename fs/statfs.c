/* statfs and fstatfs: the file system's figures, with the mount's flags. */
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <limits.h>
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

/* Files of the kernel's internal file systems (pipes, sockets, anonymous
 * inodes, pidfds): Linux's simple_statfs figures for their file
 * system, which nothing mounts. */
#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534F434B
#define ANON_INODE_FS_MAGIC 0x09041934

static long statfs_internal(const struct file *f, gaddr_t ubuf)
{
	struct statfs st = {
		.f_type = f->ops->fs_magic ? f->ops->fs_magic
			  : S_ISFIFO(f->type) ? PIPEFS_MAGIC
			  : S_ISSOCK(f->type) ? SOCKFS_MAGIC : ANON_INODE_FS_MAGIC,
		.f_bsize = PAGE_SIZE, .f_frsize = PAGE_SIZE, .f_namelen = NAME_MAX, .f_flags = ST_VALID,
	};
	return copy_to_guest(ubuf, &st, sizeof(st));
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
		ret = statfs_internal(f, a->a[1]);
	}
	fput(f);
	return ret;
}
