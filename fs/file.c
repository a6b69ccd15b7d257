/* File object lifetime: a file lives while an fd, a cwd, a mapping or a
 * handler in progress holds a reference to it. */
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"
#include "fs/fsnotify.h"
#include "fs/hostfs.h"
#include "fs/locks.h"
#include "fs/memfs.h"
#include "mm/memfile.h"

struct file *file_new(const struct file_ops *ops, int flags, mode_t type, void *priv)
{
	struct file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->ops = ops;
	f->hostfd = -1;
	f->flags = flags;
	f->type = type;
	f->priv = priv;
	pthread_mutex_init(&f->pos_lock, NULL);
	return f;
}

struct file *file_get(struct file *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

int inode_get_write_access(struct inode *i)
{
	int n = atomic_load(&i->writecount);
	do {
		if (n < 0)
			return -ETXTBSY;
	} while (!atomic_compare_exchange_weak(&i->writecount, &n, n + 1));
	return 0;
}

void inode_put_write_access(struct inode *i)
{
	atomic_fetch_sub(&i->writecount, 1);
}

int inode_deny_write_access(struct inode *i)
{
	int n = atomic_load(&i->writecount);
	do {
		if (n > 0)
			return -ETXTBSY;
	} while (!atomic_compare_exchange_weak(&i->writecount, &n, n - 1));
	return 0;
}

void inode_allow_write_access(struct inode *i)
{
	atomic_fetch_add(&i->writecount, 1);
}

bool file_deny_write(struct file *f)
{
	return f->inode && inode_deny_write_access(f->inode) == 0;
}

void file_allow_write(struct file *f)
{
	inode_allow_write_access(f->inode);
}

void fput(struct file *f)
{
	if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (f->inode)
		locks_remove_file(f);
	fsnotify_close(f);
	if (f->ops->release)
		f->ops->release(f);
	if (f->holds_write)
		inode_put_write_access(f->inode);
	if (f->dentry)
		dput(f->dentry);
	iput(f->inode);
	pthread_mutex_destroy(&f->pos_lock);
	free(f->path);
	free(f);
}

ssize_t kernel_pread(struct file *f, void *buf, size_t n, off_t pos)
{
	if (!f->ops->read)
		return -EINVAL;
	struct iovec iov = { buf, n };
	return f->ops->read(f, &iov, 1, pos, 0);
}

int file_host_fd(const struct file *f)
{
	return f->hostfd;
}

int file_host_stat(struct file *f, struct stat *st)
{
	/* The host file of a stable inode (hostfs's, or below an overlay
	 * file not copied up) is the one the inode describes. */
	struct inode *lower = f->inode ? memfs_lower_data(f->inode) : NULL;
	struct inode *i = lower ? lower : f->inode;
	bool kept = i && hostfs_stable_stat(i, st);
	iput(lower);
	if (kept)
		return 0;
	return f->hostfd < 0 ? -EBADF : fstat(f->hostfd, st) < 0 ? -errno : 0;
}

int64_t file_size(struct file *f)
{
	struct statx x;
	if (f->inode && memfs_is(f->inode))
		return memfs_size(f->inode);
	if (!f->ops->statx || f->ops->statx(f, 0, STATX_SIZE, &x))
		return -EINVAL;
	return (int64_t)x.stx_size;
}

int64_t file_page_get(struct file *f, uint64_t idx, bool alloc)
{
	if (!f->inode || !memfs_is(f->inode))
		return -ENODEV;
	int64_t off = memfs_page(f->inode, idx, alloc);
	if (alloc && off >= 0 && f->dentry && f->dentry->sb->pins) {
		/* Its contents are the overlay's now: keep them. */
		pthread_mutex_lock(&vfs_lock);
		d_pin_locked(f->dentry);
		pthread_mutex_unlock(&vfs_lock);
	}
	return off;
}
