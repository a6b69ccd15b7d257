/* Questions about files by path or fd: the stat family, readlink, and the
 * access family. Everything is asked as statx and converted, so a file
 * kind implements one operation. */
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fs/file.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

/* glibc's struct stat is the x86-64 kernel's. */
_Static_assert(sizeof(struct stat) == 144, "struct stat is not the kernel's");

int host_statx(int fd, int flags, unsigned mask, struct statx *stx)
{
	flags = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | (flags & AT_STATX_SYNC_TYPE);
	return statx(fd, "", flags, mask, stx) < 0 ? -errno : 0;
}

/* Linux's new_encode_dev(). */
static uint64_t encode_dev(uint32_t major, uint32_t minor)
{
	return (minor & 0xff) | (major << 8) | ((uint64_t)(minor & ~0xffu) << 12);
}

static long stat_to_guest(gaddr_t ubuf, const struct statx *x)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_dev = encode_dev(x->stx_dev_major, x->stx_dev_minor);
	st.st_ino = x->stx_ino;
	st.st_nlink = x->stx_nlink;
	st.st_mode = x->stx_mode;
	st.st_uid = x->stx_uid;
	st.st_gid = x->stx_gid;
	st.st_rdev = encode_dev(x->stx_rdev_major, x->stx_rdev_minor);
	st.st_size = x->stx_size;
	st.st_blksize = x->stx_blksize;
	st.st_blocks = x->stx_blocks;
	st.st_atim = (struct timespec){ x->stx_atime.tv_sec, x->stx_atime.tv_nsec };
	st.st_mtim = (struct timespec){ x->stx_mtime.tv_sec, x->stx_mtime.tv_nsec };
	st.st_ctim = (struct timespec){ x->stx_ctime.tv_sec, x->stx_ctime.tv_nsec };
	return copy_to_guest(ubuf, &st, sizeof(st));
}

static int file_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	int err = f->ops->statx ? f->ops->statx(f, flags, mask, x) : -EOPNOTSUPP;
	fput(f);
	return err;
}

/* statx of what (dirfd, path) names; empty: how AT_EMPTY_PATH applies. */
static int statx_at(int dirfd, gaddr_t upath, int flags, unsigned mask, int empty,
		    struct statx *x)
{
	struct walk_result r;
	struct file *f;
	int err = user_walk(dirfd, upath, (flags & AT_EMPTY_PATH) ? empty : EMPTY_NO,
			    (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &r, &f);
	if (err)
		return err;
	if (f)
		return file_statx(f, flags, mask, x);
	err = inode_getattr(walk_inode(&r), x);
	walk_done(&r);
	return err;
}

long sys_fstat(const struct sysargs *a)
{
	struct statx x;
	struct file *f = fget_raw(a->a[0]);
	if (!f)
		return -EBADF;
	int err = file_statx(f, 0, STATX_BASIC_STATS, &x);
	return err ? err : stat_to_guest(a->a[1], &x);
}

static long do_stat(int dirfd, gaddr_t upath, gaddr_t ubuf, int flags)
{
	struct statx x;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -EINVAL;
	int err = statx_at(dirfd, upath, flags, STATX_BASIC_STATS, EMPTY_OR_NULL, &x);
	return err ? err : stat_to_guest(ubuf, &x);
}

long sys_stat(const struct sysargs *a) { return do_stat(AT_FDCWD, a->a[0], a->a[1], 0); }
long sys_lstat(const struct sysargs *a) { return do_stat(AT_FDCWD, a->a[0], a->a[1], AT_SYMLINK_NOFOLLOW); }
long sys_newfstatat(const struct sysargs *a) { return do_stat(a->a[0], a->a[1], a->a[2], a->a[3]); }

long sys_statx(const struct sysargs *a)
{
	struct statx x;
	int flags = a->a[2];
	unsigned mask = a->a[3];
	if ((mask & STATX__RESERVED) || (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE ||
	    (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)))
		return -EINVAL;
	int err = statx_at(a->a[0], a->a[1], flags, mask, EMPTY_OR_NULL, &x);
	return err ? err : copy_to_guest(a->a[4], &x, sizeof(x));
}

/* The object a call names, for readlink and access: a walk's or a file's. */
struct target {
	struct walk_result r;
	struct file *f;
	struct inode *i;    /* NULL for files without one (the host's stdio) */
	struct mount *mnt;
	mode_t type;
};

static int target_get(struct target *t, int dirfd, gaddr_t upath, bool empty, int wflags)
{
	int err = user_walk(dirfd, upath, empty ? EMPTY_OK : EMPTY_NO, wflags, &t->r, &t->f);
	if (err)
		return err;
	t->i = t->f ? t->f->inode : walk_inode(&t->r);
	t->mnt = t->f ? t->f->mnt : t->r.path.mnt;
	t->type = t->f ? t->f->type : t->i->mode & S_IFMT;
	return 0;
}

static void target_put(struct target *t)
{
	if (t->f)
		fput(t->f);
	else
		walk_done(&t->r);
}

static long do_readlink(int dirfd, gaddr_t upath, gaddr_t ubuf, int size)
{
	struct target t;
	char buf[PATH_MAX];
	if (size <= 0)
		return -EINVAL;
	long r = target_get(&t, dirfd, upath, true, 0);
	if (r)
		return r;
	if (!S_ISLNK(t.type) || !t.i || !t.i->ops->readlink)
		r = t.f ? -ENOENT : -EINVAL; /* an empty path names no link */
	else if ((r = t.i->ops->readlink(t.i, buf, MIN(size, PATH_MAX))) >= 0 &&
		 copy_to_guest(ubuf, buf, r))
		r = -EFAULT;
	target_put(&t);
	return r;
}

long sys_readlink(const struct sysargs *a) { return do_readlink(AT_FDCWD, a->a[0], a->a[1], a->a[2]); }
long sys_readlinkat(const struct sysargs *a) { return do_readlink(a->a[0], a->a[1], a->a[2], a->a[3]); }

static long do_access(int dirfd, gaddr_t upath, unsigned mode, int flags)
{
	struct target t;
	if (mode & ~(unsigned)(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	/* The walk too checks with the real ids, unless AT_EACCESS. */
	struct access_creds real;
	if (!(flags & AT_EACCESS))
		fs_access_creds_begin(&real);
	long r = target_get(&t, dirfd, upath, flags & AT_EMPTY_PATH,
			    (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW);
	if (r) {
		if (!(flags & AT_EACCESS))
			fs_access_creds_end();
		return r;
	}
	/* Permissions first, then the read-only mount, as Linux does for a
	 * read-only bind mount. */
	if (!t.i) {
		int m = (mode & R_OK ? MAY_READ : 0) | (mode & W_OK ? MAY_WRITE : 0);
		int acc = t.f->flags & O_ACCMODE;
		r = (m & MAY_READ && acc == O_WRONLY) || (m & MAY_WRITE && acc == O_RDONLY) ? -EACCES : 0;
	} else {
		r = inode_permission(t.i, (mode & R_OK ? MAY_READ : 0) | (mode & W_OK ? MAY_WRITE : 0) |
				     (mode & X_OK ? MAY_EXEC : 0));
		if (!r && (mode & W_OK) && mnt_readonly(t.mnt) &&
		    (S_ISREG(t.type) || S_ISDIR(t.type) || S_ISLNK(t.type)))
			r = -EROFS;
	}
	if (!(flags & AT_EACCESS))
		fs_access_creds_end();
	target_put(&t);
	return r;
}

long sys_access(const struct sysargs *a) { return do_access(AT_FDCWD, a->a[0], a->a[1], 0); }
long sys_faccessat(const struct sysargs *a) { return do_access(a->a[0], a->a[1], a->a[2], 0); }
long sys_faccessat2(const struct sysargs *a) { return do_access(a->a[0], a->a[1], a->a[2], a->a[3]); }
