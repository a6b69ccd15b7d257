/* Host directories: the overlay's lower layer and --bind/--ro-bind mounts.
 *
 * Each inode holds an O_PATH|O_NOFOLLOW host fd of its object, found by
 * openat() of one name relative to its parent's fd: the host never
 * resolves a path or a symlink for us, and never sees "..". Objects are
 * reopened for I/O through /proc/self/fd/N (the same host file, whatever
 * was renamed meanwhile). Changes (read-write binds only) are made with
 * the *at calls relative to the parent's fd, under vfs_lock.
 *
 * A read-only layer (the overlay's lower one, --ro-bind) is *stable*
 * (inode.stable): as with overlayfs's lower layers, changes made under it
 * meanwhile are undefined, so what the host said is kept for the
 * sandbox's life: attributes from the lookup, a symlink's target from
 * its first reading, and missing names (negative dentries, namei.c).
 * Except where the sandbox itself can write: the sources of read-write
 * binds, and all below them, are asked every time, whichever layer they
 * are seen through. Read-write binds are never stable: other host
 * processes may change them. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fs/file.h"
#include "fs/hostfs.h"

#define OPATH (O_PATH | O_NOFOLLOW | O_CLOEXEC)
#define ATTR_MASK (STATX_BASIC_STATS | STATX_BTIME)

struct hostnode {
	int fd;
	struct statx attr;  /* stable inodes: from the lookup, never changes */
	char *target;       /* stable symlinks: the target once read (inode.lock) */
	size_t target_len;
};

static const struct inode_ops host_iops;

/* The host objects of read-write binds, registered before any mount. */
#define MAX_WRITABLE 64
static struct {
	dev_t dev;
	ino_t ino;
} writable[MAX_WRITABLE];
static int nwritable;

int hostfs_note_writable(const char *hostpath)
{
	struct stat st;
	if (stat(hostpath, &st) < 0)
		return -errno;
	if (nwritable == MAX_WRITABLE)
		return -E2BIG;
	writable[nwritable].dev = st.st_dev;
	writable[nwritable].ino = st.st_ino;
	nwritable++;
	return 0;
}

static bool writable_through_bind(dev_t dev, ino_t ino)
{
	for (int k = 0; k < nwritable; k++)
		if (writable[k].dev == dev && writable[k].ino == ino)
			return true;
	return false;
}

/* Whether hostpath or a directory above it is a read-write bind's source
 * (below a layer's root, lookups inherit it: host_inode). */
static bool under_writable(const char *hostpath)
{
	char *p = realpath(hostpath, NULL);
	if (!p)
		return true; /* cannot tell: keep nothing */
	bool found = false;
	for (;;) {
		struct stat st;
		if (stat(p, &st) == 0 && writable_through_bind(st.st_dev, st.st_ino)) {
			found = true;
			break;
		}
		char *slash = strrchr(p, '/');
		if (!slash || !strcmp(p, "/"))
			break;
		slash[slash == p] = '\0'; /* "/usr" goes up to "/" */
	}
	free(p);
	return found;
}

static int hfd(const struct inode *i)
{
	return ((struct hostnode *)i->priv)->fd;
}

static void proc_fd_path(char *buf, int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

int hostfs_reopen(struct inode *i, int hflags)
{
	char p[32];
	proc_fd_path(p, hfd(i));
	int fd = open(p, hflags | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

static void refresh(struct inode *i, const struct statx *x)
{
	i->mode = x->stx_mode;
	i->uid = x->stx_uid;
	i->gid = x->stx_gid;
}

/* An inode for host fd (taken over), stable if its parent is and the
 * sandbox cannot write it. */
static struct inode *host_inode(struct super *sb, int fd, bool stable, int *err)
{
	struct statx x;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, ATTR_MASK, &x) < 0) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	struct hostnode *h = calloc(1, sizeof(*h));
	struct inode *i = h ? inode_new(sb, &host_iops, x.stx_mode, x.stx_ino) : NULL;
	if (!i) {
		free(h);
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	h->fd = fd;
	h->attr = x;
	i->priv = h;
	i->dev = makedev(x.stx_dev_major, x.stx_dev_minor);
	i->stable = stable && !writable_through_bind(i->dev, i->ino);
	refresh(i, &x);
	return i;
}

static int host_lookup(struct inode *dir, const char *name, struct inode **out)
{
	int fd = openat(hfd(dir), name, OPATH);
	if (fd < 0)
		return -errno;
	int err = 0;
	*out = host_inode(dir->sb, fd, dir->stable, &err);
	return err;
}

static int host_getattr(struct inode *i, struct statx *x)
{
	struct hostnode *h = i->priv;
	if (i->stable) {
		*x = h->attr;
		return 0;
	}
	if (statx(h->fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, ATTR_MASK, x) < 0)
		return -errno;
	refresh(i, x);
	return 0;
}

static int host_readlink(struct inode *i, char *buf, size_t size)
{
	struct hostnode *h = i->priv;
	if (!i->stable) {
		ssize_t n = readlinkat(h->fd, "", buf, size);
		return n < 0 ? -errno : (int)n;
	}
	int r = 0;
	pthread_mutex_lock(&i->lock);
	if (!h->target) {
		char t[PATH_MAX];
		ssize_t n = readlinkat(h->fd, "", t, sizeof(t));
		if (n < 0)
			r = -errno;
		else if (!(h->target = malloc(n ? n : 1)))
			r = -ENOMEM;
		else {
			memcpy(h->target, t, n);
			h->target_len = n;
		}
	}
	if (!r) {
		r = MIN(h->target_len, size);
		memcpy(buf, h->target, r);
	}
	pthread_mutex_unlock(&i->lock);
	return r;
}

static int host_open(struct inode *i, int flags, struct file **out)
{
	int acc = flags & O_ACCMODE;
	int hflags = (acc == 3 ? O_RDONLY : acc) |
		(flags & (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC));
	if (S_ISDIR(i->mode))
		hflags = O_RDONLY | O_DIRECTORY;
	else if (!S_ISREG(i->mode) && !S_ISFIFO(i->mode))
		return -ENXIO;
	int fd = hostfs_reopen(i, hflags);
	if (fd < 0)
		return fd;
	struct file *f = hostfile_new_reg(fd, flags, i->mode);
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

static int host_iterate(struct inode *dir, struct dentry *d, struct dir_ctx *ctx)
{
	int fd = hostfs_reopen(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	char buf[16384];
	int err = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		for (long pos = 0; pos < n && !err;) {
			struct {
				uint64_t ino;
				int64_t off;
				uint16_t reclen;
				uint8_t type;
				char name[];
			} *e = (void *)(buf + pos);
			err = ctx->emit(ctx, e->name, strlen(e->name), e->ino, e->type);
			pos += e->reclen;
		}
		if (err)
			break;
	}
	close(fd);
	return err > 0 ? 0 : err;
}

static int host_statfs(struct inode *i, struct statfs *st)
{
	return fstatfs(hfd(i), st) < 0 ? -errno : 0;
}

static int host_create(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
		       const char *target, struct inode **out)
{
	int dfd = hfd(dir), r;
	/* A stable layer is never written through (what it keeps would go
	 * stale); its read-only mount refuses before this. */
	if (dir->stable)
		return -EROFS;
	switch (mode & S_IFMT) {
	case S_IFDIR: r = mkdirat(dfd, name, mode & 07777); break;
	case S_IFLNK: r = symlinkat(target, dfd, name); break;
	case S_IFREG:
		r = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode & 07777);
		if (r >= 0)
			r = close(r);
		break;
	default: r = mknodat(dfd, name, mode, rdev); break;
	}
	if (r < 0)
		return -errno;
	return host_lookup(dir, name, out);
}

static int host_link(struct inode *dir, const char *name, struct inode *old)
{
	char p[32];
	if (dir->stable)
		return -EROFS;
	proc_fd_path(p, hfd(old));
	return linkat(AT_FDCWD, p, hfd(dir), name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

static int host_unlink(struct inode *dir, const char *name, struct inode *i, bool isdir)
{
	if (dir->stable)
		return -EROFS;
	return unlinkat(hfd(dir), name, isdir ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
}

static int host_rename(struct inode *odir, const char *oname, struct inode *ndir,
		       const char *nname, struct inode *i, struct inode *target, unsigned flags)
{
	if (odir->stable || ndir->stable)
		return -EROFS;
	long r = syscall(SYS_renameat2, hfd(odir), oname, hfd(ndir), nname, flags);
	return r < 0 ? -errno : 0;
}

static int host_setattr(struct inode *i, const struct iattr *a)
{
	char p[32];
	int fd = hfd(i);
	if (i->stable) /* as in host_create */
		return -EROFS;
	proc_fd_path(p, fd);
	if ((a->valid & ATTR_MODE) && fchmodat(AT_FDCWD, p, a->mode & 07777, 0) < 0)
		return -errno;
	if ((a->valid & (ATTR_UID | ATTR_GID)) &&
	    fchownat(fd, "", (a->valid & ATTR_UID) ? a->uid : (uid_t)-1,
		     (a->valid & ATTR_GID) ? a->gid : (gid_t)-1, AT_EMPTY_PATH) < 0)
		return -errno;
	if ((a->valid & ATTR_SIZE) && truncate(p, a->size) < 0)
		return -errno;
	if (a->valid & (ATTR_ATIME | ATTR_MTIME)) {
		struct timespec ts[2] = { a->atime, a->mtime };
		if (!(a->valid & ATTR_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		if (!(a->valid & ATTR_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	struct statx x;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, ATTR_MASK, &x) == 0)
		refresh(i, &x);
	return 0;
}

static void host_evict(struct inode *i)
{
	struct hostnode *h = i->priv;
	close(h->fd);
	free(h->target);
	free(h);
}

static const struct inode_ops host_iops = {
	.lookup = host_lookup,
	.create = host_create,
	.link = host_link,
	.unlink = host_unlink,
	.rename = host_rename,
	.readlink = host_readlink,
	.getattr = host_getattr,
	.setattr = host_setattr,
	.open = host_open,
	.iterate = host_iterate,
	.statfs = host_statfs,
	.evict = host_evict,
};

struct dentry *hostfs_root(const char *hostdir, bool stable, int *err)
{
	int fd = open(hostdir, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	struct super *sb = super_new("hostfs", 0, false);
	struct inode *i = sb ? host_inode(sb, fd, stable && !under_writable(hostdir), err) : NULL;
	if (!sb)
		*err = -ENOMEM;
	if (!i)
		return NULL;
	struct dentry *d = d_alloc_root(sb, i);
	if (!d) {
		iput(i);
		*err = -ENOMEM;
	}
	return d;
}

bool hostfs_is(const struct inode *i)
{
	return i->ops == &host_iops;
}

int hostfs_fd(const struct inode *i)
{
	return hfd(i);
}

bool hostfs_stable_stat(const struct inode *i, struct stat *st)
{
	if (!hostfs_is(i) || !i->stable)
		return false;
	const struct statx *x = &((struct hostnode *)i->priv)->attr;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x->stx_dev_major, x->stx_dev_minor);
	st->st_ino = x->stx_ino;
	st->st_mode = x->stx_mode;
	st->st_nlink = x->stx_nlink;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	st->st_size = x->stx_size;
	st->st_blksize = x->stx_blksize;
	st->st_blocks = x->stx_blocks;
	st->st_atim = (struct timespec){ x->stx_atime.tv_sec, x->stx_atime.tv_nsec };
	st->st_mtim = (struct timespec){ x->stx_mtime.tv_sec, x->stx_mtime.tv_nsec };
	st->st_ctim = (struct timespec){ x->stx_ctime.tv_sec, x->stx_ctime.tv_nsec };
	return true;
}
