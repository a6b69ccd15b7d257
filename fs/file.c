/* File object lifetime: a file lives while an fd, a cwd, a mapping or a
 * handler in progress holds a reference to it. */
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"

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
	return f;
}

struct file *file_get(struct file *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

void fput(struct file *f)
{
	if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (f->ops->release)
		f->ops->release(f);
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
