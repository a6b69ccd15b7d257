/* Generic open files of VFS objects: directories read through their
 * inode's iterate, O_PATH files, statx through the inode.
 *
 * A directory's listing is taken whole when it is read at offset 0 (like
 * overlayfs's merged directories): d_off of entry k is k + 1, so seeking
 * to any offset a listing returned resumes there, and rewinding sees
 * changes made since. */
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"

struct listing {
	size_t n, cap;
	struct lent {
		uint64_t ino;
		unsigned char type;
		char *name;
	} *v;
};

struct builder {
	struct dir_ctx ctx;
	struct listing *l;
};

static int add(struct dir_ctx *c, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct listing *l = ((struct builder *)c)->l;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n].name = strndup(name, len)))
		return -ENOMEM;
	l->v[l->n].ino = ino;
	l->v[l->n].type = type;
	l->n++;
	return 0;
}

static void listing_free(struct listing *l)
{
	if (!l)
		return;
	for (size_t k = 0; k < l->n; k++)
		free(l->v[k].name);
	free(l->v);
	free(l);
}

static long dir_getdents64(struct file *f, void *buf, size_t len)
{
	struct inode *i = f->inode;
	long r = 0;
	pthread_mutex_lock(&f->pos_lock);
	if (f->pos == 0 || !f->dir) {
		struct listing *l = calloc(1, sizeof(*l));
		struct builder b = { { add }, l };
		int err = !l ? -ENOMEM : i->ops->iterate(i, f->dentry, &b.ctx);
		if (err) {
			listing_free(l);
			pthread_mutex_unlock(&f->pos_lock);
			return err;
		}
		listing_free(f->dir);
		f->dir = l;
	}
	struct listing *l = f->dir;
	size_t used = 0;
	while ((size_t)f->pos < l->n) {
		struct lent *e = &l->v[f->pos];
		size_t nlen = strlen(e->name);
		size_t reclen = (19 + nlen + 1 + 7) & ~7UL;
		if (used + reclen > len) {
			if (!used)
				r = -EINVAL;
			break;
		}
		char *p = (char *)buf + used;
		memset(p, 0, reclen);
		int64_t off = f->pos + 1;
		memcpy(p, &e->ino, 8);
		memcpy(p + 8, &off, 8);
		uint16_t rl = reclen;
		memcpy(p + 16, &rl, 2);
		p[18] = e->type;
		memcpy(p + 19, e->name, nlen);
		used += reclen;
		f->pos++;
	}
	pthread_mutex_unlock(&f->pos_lock);
	return r ? r : (long)used;
}

static off_t dir_llseek(struct file *f, off_t off, int whence)
{
	off_t r;
	if (whence != SEEK_SET && whence != SEEK_CUR)
		return -EINVAL;
	pthread_mutex_lock(&f->pos_lock);
	r = whence == SEEK_SET ? off : f->pos + off;
	if (r < 0)
		r = -EINVAL;
	else
		f->pos = r;
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

static ssize_t dir_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	return -EISDIR;
}

static void dir_release(struct file *f)
{
	listing_free(f->dir);
}

int vfs_file_statx(struct file *f, int flags, unsigned mask, struct statx *stx)
{
	return f->inode ? inode_getattr(f->inode, stx) : -EBADF;
}

static const struct file_ops dir_fops = {
	.read = dir_read,
	.llseek = dir_llseek,
	.getdents64 = dir_getdents64,
	.statx = vfs_file_statx,
	.release = dir_release,
};

int vfs_dir_open(struct inode *i, int flags, struct file **out)
{
	if (!i->ops->iterate)
		return -ENOTDIR;
	*out = file_new(&dir_fops, flags, S_IFDIR, NULL);
	return *out ? 0 : -ENOMEM;
}

static const struct file_ops path_fops = {
	.statx = vfs_file_statx,
};

struct file *path_file_new(void)
{
	return file_new(&path_fops, O_PATH, 0, NULL);
}
