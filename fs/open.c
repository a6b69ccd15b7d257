/* open, openat, openat2, creat, and opening for execve: Linux's
 * build_open_flags(), the lookup, O_CREAT, then do_open()'s checks in its
 * order before the file system opens the object. */
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fs/file.h"
#include "fs/fsnotify.h"
#include "fs/hostfs.h"
#include "fs/memfs.h"
#include "fs/vfs_ops.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define VALID_OPEN_FLAGS (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | \
	O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_ASYNC | O_DIRECT | LARGEFILE_BIT | \
	O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE)
#define O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)
#define VALID_RESOLVE (RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | \
	RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED)
/* Linux's own bits: glibc's __O_TMPFILE includes O_DIRECTORY, and its
 * O_LARGEFILE is 0 on x86-64. */
#define TMPFILE_BIT 020000000
#define LARGEFILE_BIT 0100000
#define SYNC_BIT 04000000
#define OPEN_HOW_SIZE_VER0 24
#define WILL_CREATE(f) ((f) & (O_CREAT | TMPFILE_BIT))

/* Linux's build_open_flags(): the walk flags, or -errno. */
static int open_flags(uint64_t flags, uint64_t mode, uint64_t resolve)
{
	int acc = flags & O_ACCMODE;
	if (flags & ~(uint64_t)VALID_OPEN_FLAGS & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	if (resolve & ~(uint64_t)VALID_RESOLVE)
		return -EINVAL;
	if ((resolve & RESOLVE_BENEATH) && (resolve & RESOLVE_IN_ROOT))
		return -EINVAL;
	if (WILL_CREATE(flags) ? (mode & ~07777ULL) : mode)
		return -EINVAL;
	if ((flags & (O_DIRECTORY | O_CREAT)) == (O_DIRECTORY | O_CREAT))
		return -EINVAL;
	if ((flags & TMPFILE_BIT) && (!(flags & O_DIRECTORY) || acc == O_RDONLY))
		return -EINVAL;
	if ((flags & O_PATH) && (flags & ~(uint64_t)O_PATH_FLAGS))
		return -EINVAL;
	if ((resolve & RESOLVE_CACHED) && (flags & (O_TRUNC | O_CREAT | TMPFILE_BIT)))
		return -EAGAIN;
	int w = 0;
	if (!(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL)))
		w |= WALK_FOLLOW;
	if (flags & O_DIRECTORY)
		w |= WALK_DIRECTORY;
	if ((flags & O_CREAT) && !(flags & TMPFILE_BIT))
		w |= WALK_CREATE;
	if (resolve & RESOLVE_NO_XDEV)
		w |= WALK_NO_XDEV;
	if (resolve & RESOLVE_NO_SYMLINKS)
		w |= WALK_NO_SYMLINKS;
	if (resolve & RESOLVE_NO_MAGICLINKS)
		w |= WALK_NO_MAGICLINKS;
	if (resolve & RESOLVE_BENEATH)
		w |= WALK_BENEATH;
	if (resolve & RESOLVE_IN_ROOT)
		w |= WALK_IN_ROOT;
	return w;
}

static int acc_mode(int flags)
{
	int acc = flags & O_ACCMODE;
	int m = acc == O_RDONLY ? MAY_READ : acc == O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
	if (flags & O_TRUNC)
		m |= MAY_WRITE;
	return m;
}

/* F_GETFL shows what open kept (Linux drops the create-time flags). */
static int kept_flags(int flags)
{
	int fl = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC | TMPFILE_BIT);
	if (flags & TMPFILE_BIT)
		fl &= ~O_DIRECTORY;
	if (fl & SYNC_BIT)
		fl |= O_DSYNC;
	if (!(flags & O_PATH))
		fl |= LARGEFILE_BIT;
	return fl;
}

int fifo_open(struct inode *i, void **pipe, int flags, struct file **out) __attribute__((weak));
int fifo_open(struct inode *i, void **pipe, int flags, struct file **out)
{
	return -ENXIO;
}

/* Open the object at p. may: the permission to check (0 for a file this
 * open created). */
static int open_object(struct path *p, int flags, int may, struct file **out)
{
	struct inode *i = p->dentry->inode;
	mode_t m = i->mode;
	int acc = flags & O_ACCMODE, err;
	struct file *f = NULL;
	if (flags & O_PATH) {
		if (!(f = path_file_new()))
			return -ENOMEM;
	} else {
		/* may_open() */
		if (S_ISLNK(m))
			return -ELOOP;
		if (S_ISDIR(m) && (may & MAY_WRITE))
			return -EISDIR;
		if ((S_ISCHR(m) || S_ISBLK(m)) && (p->mnt->flags & MNT_NODEV))
			return -EACCES;
		if (may && (err = inode_permission(i, may)))
			return err;
		if ((flags & O_NOATIME) && !inode_owner_or_capable(i))
			return -EPERM;
		/* do_dentry_open(): writing a file needs a writable mount. */
		if ((acc == O_WRONLY || acc == O_RDWR) && mnt_readonly(p->mnt) &&
		    (S_ISREG(m) || S_ISDIR(m)))
			return -EROFS;
		if (S_ISCHR(m) || S_ISBLK(m)) {
			struct statx x;
			if ((err = inode_getattr(i, &x)))
				return err;
			err = S_ISBLK(m) ? -ENXIO
				: chrdev_open(makedev(x.stx_rdev_major, x.stx_rdev_minor), flags, &f);
		} else if (S_ISFIFO(m) && memfs_is(i)) {
			err = fifo_open(i, &i->pipe, flags, &f);
		} else if (S_ISSOCK(m)) {
			err = -ENXIO;
		} else {
			err = i->ops->open ? i->ops->open(i, flags, &f) : -ENXIO;
		}
		if (err)
			return err;
	}
	/* Opening an overlay file for writing copied it up: the overlay
	 * keeps it from now on. */
	if (!(flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC)) &&
	    p->dentry->sb->pins) {
		pthread_mutex_lock(&vfs_lock);
		d_pin_locked(p->dentry);
		pthread_mutex_unlock(&vfs_lock);
	}
	f->flags = kept_flags(flags);
	f->type = m & S_IFMT;
	if (!f->dentry) {
		f->mnt = p->mnt;
		f->dentry = dget(p->dentry);
		f->inode = iget(i);
	}
	/* A program that is running cannot be opened for writing. */
	if (!(flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR) && S_ISREG(m) && f->inode) {
		if ((err = inode_get_write_access(f->inode))) {
			fput(f);
			return err;
		}
		f->holds_write = true;
	}
	char path[PATH_MAX];
	struct path root = cur_root();
	if (!f->path && d_path(p, &root, path, sizeof(path)) == 0)
		f->path = strdup(path);
	path_put(&root);
	*out = f;
	return 0;
}

int vfs_open(struct path *p, int flags, struct file **out)
{
	return open_object(p, flags, acc_mode(flags), out);
}

/* O_TMPFILE: an unnamed file in directory p. */
static int open_tmpfile(struct path *p, int flags, mode_t mode, struct file **out)
{
	struct inode *di = p->dentry->inode;
	int err = inode_permission(di, MAY_WRITE | MAY_EXEC);
	if (err)
		return err;
	if (mnt_readonly(p->mnt))
		return -EROFS;
	if (!memfs_is(di))
		return -EOPNOTSUPP;
	struct inode *i = memfs_new_inode(di->sb, S_IFREG | mode, 0, NULL);
	if (!i)
		return -ENOMEM;
	char name[32];
	snprintf(name, sizeof(name), "#%llu", (unsigned long long)i->ino);
	struct dentry *d = d_alloc_unhashed(p->dentry, name, i);
	if (!d) {
		iput(i);
		return -ENOMEM;
	}
	memfs_unlinked(i); /* no name yet: nlink 0, like Linux's */
	struct path fp = { p->mnt, d };
	err = open_object(&fp, flags, 0, out);
	dput(d);
	return err;
}

static long do_open(int dirfd, gaddr_t upath, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	char path[PATH_MAX];
	struct walk_result r;
	struct file *f = NULL;
	int w = open_flags(flags, mode, resolve);
	if (w < 0)
		return w;
	long err = path_from_guest(path, upath);
	if (err >= 0)
		err = err ? fd_check_free() : -ENOENT;
	if (!err)
		err = walk_at(dirfd, path, w, &r);
	if (err)
		return err;
	mode_t umask = cur_umask();
	int may = acc_mode(flags);
	bool trunc = false;
	if (flags & TMPFILE_BIT) {
		err = open_tmpfile(&r.path, flags, mode & ~umask & 07777, &f);
		goto done;
	}
	if (!r.path.dentry) { /* O_CREAT of a missing name */
		struct dentry *d;
		err = vfs_create(&r.dir, r.last, S_IFREG | (mode & ~umask & 07777), 0, NULL, false, &d);
		if (err == -EEXIST && !(flags & O_EXCL)) {
			/* Created by someone else meanwhile: open theirs. */
			walk_done(&r);
			if ((err = walk_at(dirfd, path, w & ~WALK_CREATE, &r)))
				return err;
		} else if (err) {
			goto done;
		} else {
			r.path = (struct path){ r.dir.mnt, d };
			flags &= ~O_TRUNC;
			may = 0; /* the creator may write what it made */
			goto open;
		}
	}
	struct inode *i = walk_inode(&r);
	if ((flags & O_CREAT) && (flags & O_EXCL)) {
		err = -EEXIST;
		goto done;
	}
	if ((flags & O_CREAT) && S_ISDIR(i->mode)) {
		err = -EISDIR;
		goto done;
	}
	trunc = (flags & O_TRUNC) && S_ISREG(i->mode) && !(flags & O_PATH);
	if (trunc && mnt_readonly(r.path.mnt)) {
		err = -EROFS;
		goto done;
	}
open:
	if ((err = open_object(&r.path, flags, may, &f)))
		goto done;
	fsnotify_open(f);
	if (trunc && (err = vfs_truncate(&r.path, 0))) {
		fput(f);
		f = NULL;
	}
done:
	walk_done(&r);
	if (err)
		return err;
	err = fd_install(f, 0, flags & O_CLOEXEC);
	if (err < 0)
		fput(f);
	return err;
}

/* Older calls ignore unknown flags and a mode without O_CREAT. */
static long open_legacy(int dirfd, gaddr_t upath, int flags, mode_t mode)
{
	uint64_t fl = (unsigned)flags & VALID_OPEN_FLAGS;
	if (fl & O_PATH)
		fl &= O_PATH_FLAGS;
	return do_open(dirfd, upath, fl, WILL_CREATE(fl) ? mode & 07777 : 0, 0);
}

long sys_open(const struct sysargs *a)
{
	return open_legacy(AT_FDCWD, a->a[0], a->a[1], a->a[2]);
}

long sys_openat(const struct sysargs *a)
{
	return open_legacy(a->a[0], a->a[1], a->a[2], a->a[3]);
}

long sys_creat(const struct sysargs *a)
{
	return open_legacy(AT_FDCWD, a->a[0], O_CREAT | O_WRONLY | O_TRUNC, a->a[1]);
}

long sys_openat2(const struct sysargs *a)
{
	struct open_how how = { 0 };
	size_t usize = a->a[3];
	if (usize < OPEN_HOW_SIZE_VER0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (usize > sizeof(how)) {
		/* A newer caller's extra fields must be zero for us to ignore. */
		char rest[PAGE_SIZE];
		size_t n = usize - sizeof(how);
		if (copy_from_guest(rest, a->a[2] + sizeof(how), n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++)
			if (rest[i])
				return -E2BIG;
	}
	if (copy_from_guest(&how, a->a[2], MIN(usize, sizeof(how))))
		return -EFAULT;
	if (!(how.flags & O_PATH))
		how.flags |= LARGEFILE_BIT;
	return do_open(a->a[0], a->a[1], how.flags, how.mode, how.resolve);
}

/* ---- execve ------------------------------------------------------------------ */

/* Linux's do_open_execat(): a regular file on an exec mount that we may
 * execute. */
static struct file *open_exec_walked(struct walk_result *r, int *err)
{
	struct inode *i = walk_inode(r);
	struct file *f = NULL;
	if (!S_ISREG(i->mode) || (r->path.mnt->flags & MNT_NOEXEC))
		*err = -EACCES;
	else if (!(*err = inode_permission(i, MAY_EXEC)))
		*err = open_object(&r->path, O_RDONLY, 0, &f);
	/* ... and a file open for writing cannot run. (Checked here; the
	 * process holds its program against writers from exec on,
	 * process_set_exe.) */
	if (!*err && f->inode) {
		if ((*err = inode_deny_write_access(f->inode))) {
			fput(f);
			f = NULL;
		} else {
			inode_allow_write_access(f->inode);
		}
	}
	walk_done(r);
	return *err ? NULL : f;
}

struct file *fs_open_exec_file_at(int dirfd, const char *path, int at_flags, int *err)
{
	struct walk_result r;
	if (at_flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		*err = -EINVAL;
		return NULL;
	}
	if (!*path) {
		if (!(at_flags & AT_EMPTY_PATH)) {
			*err = -ENOENT;
			return NULL;
		}
		struct file *f = empty_path_file(dirfd);
		if (!f || !f->dentry) {
			fput(f);
			*err = f ? -EACCES : -EBADF;
			return NULL;
		}
		memset(&r, 0, sizeof(r));
		r.path = path_get((struct path){ f->mnt, f->dentry });
		fput(f);
		return open_exec_walked(&r, err);
	}
	*err = walk_at(dirfd, path, (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &r);
	if (*err)
		return NULL;
	if ((at_flags & AT_SYMLINK_NOFOLLOW) && S_ISLNK(walk_inode(&r)->mode)) {
		walk_done(&r);
		*err = -ELOOP;
		return NULL;
	}
	return open_exec_walked(&r, err);
}

struct file *fs_open_exec_file(const char *path, int *err)
{
	return fs_open_exec_file_at(AT_FDCWD, path, 0, err);
}

/* A host fd with the file's bytes, for callers that still read
 * executables through the host: the host file itself, or a sealed memfd
 * copy of an in-memory one. */
int fs_open_exec(const char *path)
{
	return fs_open_exec_at(AT_FDCWD, path, 0);
}

int fs_open_exec_at(int dirfd, const char *path, int at_flags)
{
	int err;
	struct file *f = fs_open_exec_file_at(dirfd, path, at_flags, &err);
	if (!f)
		return err;
	int fd = fs_exec_fd(f);
	fput(f);
	return fd;
}

int fs_exec_fd(struct file *f)
{
	int fd = -1;
	struct inode *i = f->inode, *lower = memfs_lower_data(i);
	if (lower && hostfs_is(lower)) {
		fd = hostfs_reopen(lower, O_RDONLY);
	} else if (hostfs_is(i)) {
		fd = hostfs_reopen(i, O_RDONLY);
	} else {
		int64_t size = file_size(f);
		fd = memfd_create("cocoon-exec", MFD_CLOEXEC);
		if (fd < 0) {
			fd = -errno;
		} else {
			char buf[65536];
			for (int64_t pos = 0; pos < size && fd >= 0;) {
				ssize_t n = kernel_pread(f, buf, sizeof(buf), pos);
				if (n <= 0 || write(fd, buf, n) != n) {
					close(fd);
					fd = n < 0 ? (int)n : -EIO;
					break;
				}
				pos += n;
			}
		}
	}
	iput(lower);
	return fd;
}
