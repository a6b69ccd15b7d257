/* open, openat, openat2, creat, and opening for execve. The host tree is
 * mounted read-only for now: anything that would create, truncate or
 * write gives EROFS, after the errors Linux reports before it. */
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fs/file.h"
#include "kernel/syscall.h"
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
	if (resolve & RESOLVE_BENEATH)
		w |= WALK_BENEATH;
	if (resolve & RESOLVE_IN_ROOT)
		w |= WALK_IN_ROOT;
	return w;
}

/* Open the walked object for I/O: a directory through its own fd, any
 * other file by name in its directory, checked to be the same file. */
static int reopen(struct walk_result *r, int hflags)
{
	struct stat st;
	int fd = S_ISDIR(r->st.st_mode) ? openat(r->fd, ".", hflags | O_DIRECTORY)
		: openat(r->dirfd, r->last, hflags | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_dev != r->st.st_dev || st.st_ino != r->st.st_ino) {
		close(fd);
		return -ENOENT; /* replaced on the host meanwhile */
	}
	return fd;
}

/* null, zero, full, random, urandom: harmless, and expected by most
 * programs when the sandbox root is a whole system. */
static bool mem_device(mode_t m, dev_t rdev)
{
	unsigned mi = minor(rdev);
	return S_ISCHR(m) && major(rdev) == 1 && (mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9);
}

/* Linux's checks after lookup (do_open, may_open) on a read-only mount,
 * then the open itself. flags are the guest's. */
static int open_walked(struct walk_result *r, int flags, struct file **fp)
{
	int acc = flags & O_ACCMODE, hostfd;
	/* Mode 3 (ioctl only) asks for write permission but opens nothing for
	 * writing, so a read-only mount allows it on files. */
	bool wr = acc != O_RDONLY || (flags & O_TRUNC);
	bool writes = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);
	mode_t m = r->st.st_mode;
	if (r->fd < 0) /* O_CREAT of a missing name */
		return -EROFS;
	if (flags & O_PATH) {
		hostfd = r->fd;
		r->fd = -1;
	} else {
		if ((flags & O_CREAT) && (flags & O_EXCL))
			return -EEXIST;
		if ((flags & O_CREAT) && S_ISDIR(m))
			return -EISDIR;
		if (flags & TMPFILE_BIT)
			return -EROFS;
		if (S_ISLNK(m))
			return -ELOOP;
		if (S_ISDIR(m) && wr)
			return -EISDIR;
		if (S_ISREG(m) && writes)
			return -EROFS;
		if (acc == 3 && (hostfd = host_access(r->fd, R_OK | W_OK, AT_EACCESS)))
			return hostfd;
		if (S_ISSOCK(m))
			return -ENXIO;
		/* Other devices: as on a nodev mount, until devfs. */
		if (S_ISBLK(m) || (S_ISCHR(m) && !mem_device(m, r->st.st_rdev)))
			return -EACCES;
		/* Writing to a FIFO or a device changes no file, even on a
		 * read-only mount. A FIFO's open may wait for its other end. */
		bool special = S_ISCHR(m) || S_ISFIFO(m);
		hostfd = reopen(r, (special ? acc : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
				(flags & (O_NONBLOCK | O_DIRECT | O_NOATIME)));
		if (hostfd < 0)
			return hostfd;
	}
	/* F_GETFL shows what open kept (Linux drops the create-time flags). */
	int fl = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
	if (fl & SYNC_BIT)
		fl |= O_DSYNC;
	if (!(flags & O_PATH))
		fl |= LARGEFILE_BIT;
	if (!(*fp = hostfile_new(hostfd, fl, r->path))) {
		close(hostfd);
		return -ENOMEM;
	}
	return 0;
}

static long do_open(int dirfd, gaddr_t upath, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	char path[PATH_MAX];
	struct walk_result r;
	struct file *f;
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
	err = open_walked(&r, flags, &f);
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

int fs_open_exec(const char *path)
{
	return fs_open_exec_at(AT_FDCWD, path, 0);
}

int fs_open_exec_at(int dirfd, const char *path, int at_flags)
{
	struct walk_result r;
	if (!*path) {
		if (!(at_flags & AT_EMPTY_PATH))
			return -ENOENT;
		struct file *f = empty_path_file(dirfd);
		if (!f)
			return -EBADF;
		int err = -EACCES;
		if (S_ISREG(f->type) && f->hostfd >= 0 && !(err = host_access(f->hostfd, X_OK, AT_EACCESS))) {
			/* O_PATH files too, like Linux; read through a fresh open */
			char self[64];
			snprintf(self, sizeof(self), "/proc/self/fd/%d", f->hostfd);
			err = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
			if (err < 0)
				err = -errno;
		}
		fput(f);
		return err;
	}
	int err = walk_at(dirfd, path, (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &r);
	if (err)
		return err;
	if (S_ISLNK(r.st.st_mode))
		err = -ELOOP;
	else if (!S_ISREG(r.st.st_mode))
		err = -EACCES;
	else if (!(err = host_access(r.fd, X_OK, AT_EACCESS)))
		err = reopen(&r, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	walk_done(&r);
	return err;
}
