/* fallocate and the sync family. In-memory files are always "on disk";
 * files of host directories are synced by the host. */
#include <fcntl.h>
#include <unistd.h>
#include "fs/file.h"
#include "fs/memfs.h"
#include "kernel/syscall.h"

#define FALLOC_ALL (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_NO_HIDE_STALE | \
	FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | \
	FALLOC_FL_UNSHARE_RANGE)
#define MAX_LFS_FILESIZE INT64_MAX

static bool fallocate_grows(struct inode *i, int64_t end)
{
	struct statx x;
	return !inode_getattr(i, &x) && (uint64_t)end > x.stx_size;
}

/* Linux's vfs_fallocate() checks, in its order; then the file system's
 * RLIMIT_FSIZE check (inode_newsize_ok) for a growing file. */
long sys_fallocate(const struct sysargs *a)
{
	int mode = a->a[1];
	int64_t off = a->a[2], len = a->a[3];
	struct file *f = fget(a->a[0]);
	long err = 0;
	if (!f)
		return -EBADF;
	int acc = f->flags & O_ACCMODE;
	if (off < 0 || len <= 0)
		err = -EINVAL;
	else if (mode & ~FALLOC_ALL)
		err = -EOPNOTSUPP;
	else if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		err = -EOPNOTSUPP;
	else if ((mode & FALLOC_FL_PUNCH_HOLE) && (mode & FALLOC_FL_ZERO_RANGE))
		err = -EOPNOTSUPP;
	else if (acc != O_WRONLY && acc != O_RDWR)
		err = -EBADF;
	else if (S_ISFIFO(f->type))
		err = -ESPIPE;
	else if (S_ISDIR(f->type))
		err = -EISDIR;
	else if (!S_ISREG(f->type) && !S_ISBLK(f->type))
		err = -ENODEV;
	else if (off > MAX_LFS_FILESIZE - len)
		err = -EFBIG;
	else if (!(mode & FALLOC_FL_KEEP_SIZE) && fsize_exceeds((uint64_t)(off + len)) && f->inode &&
		 fallocate_grows(f->inode, off + len))
		err = fsize_check_grow((uint64_t)(off + len));
	else if (f->inode && memfs_is(f->inode))
		/* tmpfs keeps only these two. */
		err = (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) ? -EOPNOTSUPP
			: memfs_allocate(f->inode, mode, off, len);
	else if (f->hostfd >= 0)
		err = fallocate(f->hostfd, mode, off, len) < 0 ? -errno : 0;
	else
		err = -EOPNOTSUPP;
	fput(f);
	return err;
}

static long do_fsync(int fd, bool data)
{
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	long err = 0;
	if (f->inode && memfs_is(f->inode))
		err = 0;
	else if (f->hostfd >= 0)
		err = (data ? fdatasync(f->hostfd) : fsync(f->hostfd)) < 0 ? -errno : 0;
	else if (!f->inode)
		err = -EINVAL; /* pipes, eventfds...: no fsync */
	fput(f);
	return err;
}

long sys_fsync(const struct sysargs *a) { return do_fsync(a->a[0], false); }
long sys_fdatasync(const struct sysargs *a) { return do_fsync(a->a[0], true); }

/* Nothing of the sandbox's is on a host disk but --bind mounts, whose
 * writes went straight to the host. */
long sys_sync(const struct sysargs *a) { return 0; }

long sys_syncfs(const struct sysargs *a)
{
	struct file *f = fget(a->a[0]);
	fput(f);
	return f ? 0 : -EBADF;
}

long sys_sync_file_range(const struct sysargs *a)
{
	int64_t off = a->a[1], n = a->a[2];
	unsigned flags = a->a[3];
	if (flags & ~7u)
		return -EINVAL;
	if (off < 0 || n < 0 || off > INT64_MAX - n)
		return -EINVAL;
	struct file *f = fget(a->a[0]);
	if (!f)
		return -EBADF;
	long err = S_ISREG(f->type) || S_ISDIR(f->type) || S_ISLNK(f->type) || S_ISBLK(f->type)
		? 0 : -ESPIPE;
	fput(f);
	return err;
}
