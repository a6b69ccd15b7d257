/* Calls that would change the host tree. It is a read-only mount for
 * now, so they all fail with EROFS, but only after the errors Linux finds
 * first (bad flags, lookup errors, EEXIST...), which programs rely on:
 * "mkdir -p" wants EEXIST for an existing directory. */
#include <linux/fs.h>
#include <unistd.h>
#include "fs/file.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

/* Linux's filename_create(): a new name for mkdir, mknod, symlink, link. */
static long ro_create(int dirfd, gaddr_t upath, bool want_dir)
{
	struct walk_result r;
	struct file *f;
	struct stat st;
	long err = user_walk(dirfd, upath, EMPTY_NO, WALK_PARENT, &r, &f);
	if (err)
		return err;
	bool exists = r.type == LAST_NORM && !fstatat(r.dirfd, r.last, &st, AT_SYMLINK_NOFOLLOW);
	if (r.type != LAST_NORM)
		err = -EEXIST;
	else if (!exists && errno != ENOENT)
		err = -errno;
	else if (exists)
		err = -EEXIST;
	else /* "new/" names no file to create, only a directory */
		err = r.slash && !want_dir ? -ENOENT : -EROFS;
	walk_done(&r);
	return err;
}

/* unlink and rmdir: Linux refuses on a read-only mount before it even
 * looks the last name up. */
static long ro_remove(int dirfd, gaddr_t upath, bool dir)
{
	struct walk_result r;
	struct file *f;
	long err = user_walk(dirfd, upath, EMPTY_NO, WALK_PARENT, &r, &f);
	if (err)
		return err;
	if (r.type == LAST_NORM)
		err = -EROFS;
	else if (!dir)
		err = -EISDIR;
	else
		err = r.type == LAST_DOTDOT ? -ENOTEMPTY : r.type == LAST_DOT ? -EINVAL : -EBUSY;
	walk_done(&r);
	return err;
}

/* chmod, chown, utimes: the file must exist. */
static long ro_change(int dirfd, gaddr_t upath, int empty, int wflags)
{
	struct walk_result r;
	struct file *f;
	long err = user_walk(dirfd, upath, empty, wflags, &r, &f);
	if (err)
		return err;
	if (f)
		fput(f);
	else
		walk_done(&r);
	return -EROFS;
}

static long ro_fd(int fd)
{
	struct file *f = fget(fd);
	fput(f);
	return f ? -EROFS : -EBADF;
}

long sys_mkdir(const struct sysargs *a) { return ro_create(AT_FDCWD, a->a[0], true); }
long sys_mkdirat(const struct sysargs *a) { return ro_create(a->a[0], a->a[1], true); }

static long do_mknod(int dirfd, gaddr_t upath, mode_t mode)
{
	switch (mode & S_IFMT) {
	case 0: case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		return ro_create(dirfd, upath, false);
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
}

long sys_mknod(const struct sysargs *a) { return do_mknod(AT_FDCWD, a->a[0], a->a[1]); }
long sys_mknodat(const struct sysargs *a) { return do_mknod(a->a[0], a->a[1], a->a[2]); }

static long do_symlink(gaddr_t utarget, int dirfd, gaddr_t upath)
{
	char target[PATH_MAX];
	long n = path_from_guest(target, utarget);
	if (n <= 0)
		return n ? n : -ENOENT;
	return ro_create(dirfd, upath, false);
}

long sys_symlink(const struct sysargs *a) { return do_symlink(a->a[0], AT_FDCWD, a->a[1]); }
long sys_symlinkat(const struct sysargs *a) { return do_symlink(a->a[0], a->a[1], a->a[2]); }

static long do_link(int olddir, gaddr_t old, int newdir, gaddr_t new, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (flags & AT_EMPTY_PATH)
		return -ENOENT; /* needs CAP_DAC_READ_SEARCH */
	struct walk_result r;
	struct file *f;
	long err = user_walk(olddir, old, EMPTY_NO, (flags & AT_SYMLINK_FOLLOW) ? WALK_FOLLOW : 0, &r, &f);
	if (err)
		return err;
	walk_done(&r);
	return ro_create(newdir, new, false);
}

long sys_link(const struct sysargs *a) { return do_link(AT_FDCWD, a->a[0], AT_FDCWD, a->a[1], 0); }
long sys_linkat(const struct sysargs *a) { return do_link(a->a[0], a->a[1], a->a[2], a->a[3], a->a[4]); }

long sys_unlink(const struct sysargs *a) { return ro_remove(AT_FDCWD, a->a[0], false); }
long sys_rmdir(const struct sysargs *a) { return ro_remove(AT_FDCWD, a->a[0], true); }

long sys_unlinkat(const struct sysargs *a)
{
	int flags = a->a[2];
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	return ro_remove(a->a[0], a->a[1], flags & AT_REMOVEDIR);
}

static long do_rename(int olddir, gaddr_t old, int newdir, gaddr_t new, unsigned flags)
{
	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) ||
	    ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE)))
		return -EINVAL;
	struct walk_result ro, rn;
	struct file *f;
	long err = user_walk(olddir, old, EMPTY_NO, WALK_PARENT, &ro, &f);
	if (err)
		return err;
	if (!(err = user_walk(newdir, new, EMPTY_NO, WALK_PARENT, &rn, &f))) {
		if (ro.type != LAST_NORM)
			err = -EBUSY;
		else if (rn.type != LAST_NORM)
			err = (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
		else
			err = -EROFS;
		walk_done(&rn);
	}
	walk_done(&ro);
	return err;
}

long sys_rename(const struct sysargs *a) { return do_rename(AT_FDCWD, a->a[0], AT_FDCWD, a->a[1], 0); }
long sys_renameat(const struct sysargs *a) { return do_rename(a->a[0], a->a[1], a->a[2], a->a[3], 0); }
long sys_renameat2(const struct sysargs *a) { return do_rename(a->a[0], a->a[1], a->a[2], a->a[3], a->a[4]); }

long sys_chmod(const struct sysargs *a) { return ro_change(AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW); }
long sys_fchmodat(const struct sysargs *a) { return ro_change(a->a[0], a->a[1], EMPTY_NO, WALK_FOLLOW); }
long sys_chown(const struct sysargs *a) { return ro_change(AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW); }
long sys_lchown(const struct sysargs *a) { return ro_change(AT_FDCWD, a->a[0], EMPTY_NO, 0); }
long sys_fchmod(const struct sysargs *a) { return ro_fd(a->a[0]); }
long sys_fchown(const struct sysargs *a) { return ro_fd(a->a[0]); }

long sys_fchownat(const struct sysargs *a)
{
	int flags = a->a[4];
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	return ro_change(a->a[0], a->a[1], (flags & AT_EMPTY_PATH) ? EMPTY_OK : EMPTY_NO,
			 (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW);
}

long sys_utimensat(const struct sysargs *a)
{
	int dirfd = a->a[0], flags = a->a[3];
	struct timespec ts[2];
	if (a->a[2]) {
		if (copy_from_guest(ts, a->a[2], sizeof(ts)))
			return -EFAULT;
		if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
			return 0; /* nothing to do: Linux does not even look the path up */
		for (int i = 0; i < 2; i++)
			if ((ts[i].tv_nsec < 0 || ts[i].tv_nsec > 999999999) &&
			    ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT)
				return -EINVAL;
	}
	if (!a->a[1] && dirfd != AT_FDCWD) /* futimens() */
		return ro_fd(dirfd);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	return ro_change(dirfd, a->a[1], (flags & AT_EMPTY_PATH) ? EMPTY_OK : EMPTY_NO,
			 (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW);
}

long sys_truncate(const struct sysargs *a)
{
	struct walk_result r;
	struct file *f;
	if ((int64_t)a->a[1] < 0)
		return -EINVAL;
	long err = user_walk(AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW, &r, &f);
	if (err)
		return err;
	err = S_ISDIR(r.st.st_mode) ? -EISDIR : !S_ISREG(r.st.st_mode) ? -EINVAL : -EROFS;
	walk_done(&r);
	return err;
}

/* Only a writable file can be truncated, and only the host's stdio can
 * be writable: that one is the host's business. */
long sys_ftruncate(const struct sysargs *a)
{
	int64_t len = a->a[1];
	if (len < 0)
		return -EINVAL;
	struct file *f = fget(a->a[0]);
	if (!f)
		return -EBADF;
	long err = -EINVAL;
	if (S_ISREG(f->type) && (f->flags & O_ACCMODE) != O_RDONLY && f->hostfd >= 0)
		err = ftruncate(f->hostfd, len) < 0 ? -errno : 0;
	fput(f);
	return err;
}
