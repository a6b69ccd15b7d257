/* Synthetic file systems (see pseudofs.h): inodes are (node, context)
 * pairs; directories iterate their fixed and generated children; files
 * are snapshots taken at open. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "fs/file.h"
#include "fs/pseudofs.h"

struct pnode {
	const struct pseudo_node *node;
	struct pseudo_ctx ctx;
};

static const struct inode_ops pseudo_iops, pseudo_magic_iops;

void seq_write(struct seqbuf *s, const void *p, size_t n)
{
	if (s->err)
		return;
	if (s->len + n > s->cap) {
		size_t cap = MAX(s->cap * 2, s->len + n + 256);
		char *b = realloc(s->buf, cap);
		if (!b) {
			s->err = -ENOMEM;
			return;
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

void seq_printf(struct seqbuf *s, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		seq_write(s, small, n);
		return;
	}
	char *big = malloc(n + 1);
	if (!big) {
		s->err = -ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, n + 1, fmt, ap);
	va_end(ap);
	seq_write(s, big, n);
	free(big);
}

static struct pnode *P(const struct inode *i)
{
	return i->priv;
}

const struct pseudo_node *pseudo_node_of(const struct inode *i, struct pseudo_ctx *ctx)
{
	if (!i || (i->ops != &pseudo_iops && i->ops != &pseudo_magic_iops))
		return NULL;
	*ctx = P(i)->ctx;
	return P(i)->node;
}

/* An object's inode number, the same at every lookup (a new inode is
 * made each time): a hash of its node and context, above the numbers
 * handed out in turn, so that stat, fstat and a second lookup agree
 * (samestat, fwalk). */
static uint64_t pseudo_ino(const struct pseudo_node *node, const struct pseudo_ctx *ctx)
{
	uint64_t h = (uint64_t)(uintptr_t)node;
	for (int k = 0; k < 4; k++) {
		h ^= (uint64_t)ctx->id[k] + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
		h *= 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	return (h | (1ULL << 32)) & ((1ULL << 62) - 1);
}

static struct inode *pseudo_inode(struct super *sb, const struct pseudo_node *node,
				  const struct pseudo_ctx *ctx)
{
	struct pnode *p = malloc(sizeof(*p));
	struct inode *i = p ? inode_new(sb, node->jump ? &pseudo_magic_iops : &pseudo_iops,
					node->mode, pseudo_ino(node, ctx)) : NULL;
	if (!i) {
		free(p);
		return NULL;
	}
	p->node = node;
	p->ctx = *ctx;
	i->priv = p;
	if (node->owner)
		node->owner(ctx, &i->uid, &i->gid);
	return i;
}

static int pseudo_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct pnode *p = P(dir);
	const struct pseudo_node *n = NULL;
	struct pseudo_ctx ctx = p->ctx;
	for (const struct pseudo_node *c = p->node->children; c && c->name; c++)
		if (!strcmp(c->name, name)) {
			n = c;
			break;
		}
	if (!n) {
		if (!p->node->lookup)
			return -ENOENT;
		int err = p->node->lookup(&p->ctx, name, &n, &ctx);
		if (err)
			return err;
	}
	*out = pseudo_inode(dir->sb, n, &ctx);
	return *out ? 0 : -ENOMEM;
}

struct pseudo_lister {
	struct dir_ctx *ctx;
};

int pseudo_emit(struct pseudo_lister *l, const char *name, const struct pseudo_node *node,
		const struct pseudo_ctx *ctx)
{
	/* No inode is made for a listing: d_ino is the number a lookup's
	 * inode gets (pseudo_ino), from the same node and context. */
	return l->ctx->emit(l->ctx, name, strlen(name), pseudo_ino(node, ctx), dtype_of(node->mode));
}

static int pseudo_iterate(struct inode *dir, struct dentry *d, struct dir_ctx *ctx)
{
	struct pnode *p = P(dir);
	uint64_t pino = d && d->parent && d->parent->inode ? d->parent->inode->ino : dir->ino;
	int err = ctx->emit(ctx, ".", 1, dir->ino, DT_DIR);
	if (!err)
		err = ctx->emit(ctx, "..", 2, pino, DT_DIR);
	struct pseudo_lister l = { ctx };
	for (const struct pseudo_node *c = p->node->children; !err && c && c->name; c++)
		err = pseudo_emit(&l, c->name, c, &p->ctx);
	if (!err && p->node->list)
		err = p->node->list(&p->ctx, &l);
	return err > 0 ? 0 : err;
}

static int pseudo_readlink(struct inode *i, char *buf, size_t size)
{
	struct pnode *p = P(i);
	if (!p->node->readlink)
		return -EINVAL;
	char tmp[PATH_MAX];
	int n = p->node->readlink(&p->ctx, tmp, sizeof(tmp));
	if (n < 0)
		return n;
	n = MIN((size_t)n, size);
	memcpy(buf, tmp, n);
	return n;
}

static int pseudo_get_link(struct inode *i, struct path *out)
{
	struct pnode *p = P(i);
	return p->node->jump(&p->ctx, out);
}

static int pseudo_getattr(struct inode *i, struct statx *x)
{
	static struct timespec boot;
	if (!boot.tv_sec)
		time_now(&boot);
	x->stx_mask = STATX_BASIC_STATS;
	x->stx_mode = i->mode;
	x->stx_nlink = S_ISDIR(i->mode) ? 2 : 1;
	x->stx_uid = i->uid;
	x->stx_gid = i->gid;
	x->stx_ino = i->ino;
	x->stx_blksize = 1024;
	x->stx_dev_major = major(i->dev);
	x->stx_dev_minor = minor(i->dev);
	x->stx_atime = x->stx_mtime = x->stx_ctime =
		(struct statx_timestamp){ .tv_sec = boot.tv_sec, .tv_nsec = boot.tv_nsec };
	struct pnode *p = P(i);
	return p->node->getattr ? p->node->getattr(&p->ctx, x) : 0;
}

static bool writable(const struct pseudo_node *n)
{
	return n->store || n->store_at;
}

static int pseudo_setattr(struct inode *i, const struct iattr *a)
{
	struct pnode *p = P(i);
	/* open(O_TRUNC) of a writable file (/proc/self/comm): nothing to
	 * truncate, like Linux's proc_setattr. */
	if (!p->node->setattr && writable(p->node) && (a->valid & ATTR_SIZE))
		return 0;
	return p->node->setattr ? p->node->setattr(&p->ctx, a) : -EPERM;
}

static bool pseudo_revalidate(struct inode *i)
{
	struct pnode *p = P(i);
	return !p->node->valid || p->node->valid(&p->ctx);
}

static int pseudo_statfs(struct inode *i, struct statfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_type = i->sb->magic;
	st->f_bsize = st->f_frsize = 4096;
	st->f_namelen = NAME_MAX;
	return 0;
}

/* ---- open files: a snapshot of show() ------------------------------------ */

/* A sysctl-like file's read: what show_at() gives for the offset now. */
static ssize_t fresh_read(struct file *f, const struct pnode *p, const struct iovec *iov, int n, off_t pos)
{
	bool at_pos = pos < 0;
	if (at_pos) {
		pthread_mutex_lock(&f->pos_lock);
		pos = f->pos;
	}
	struct seqbuf s = { 0 };
	int err = p->node->show_at(&p->ctx, &s, pos);
	if (!err)
		err = s.err;
	size_t done = 0;
	for (int k = 0; !err && k < n && done < s.len; k++) {
		size_t c = MIN(iov[k].iov_len, s.len - done);
		memcpy(iov[k].iov_base, s.buf + done, c);
		done += c;
	}
	if (at_pos) {
		f->pos = pos + (off_t)done;
		pthread_mutex_unlock(&f->pos_lock);
	}
	free(s.buf);
	return err ? err : (ssize_t)done;
}

static ssize_t snap_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct pnode *p = P(f->inode);
	if (p->node->show_at)
		return fresh_read(f, p, iov, n, pos);
	struct seqbuf *s = f->priv;
	bool at_pos = pos < 0;
	if (at_pos) {
		pthread_mutex_lock(&f->pos_lock);
		pos = f->pos;
	}
	ssize_t done = 0;
	for (int k = 0; k < n && (size_t)pos < s->len; k++) {
		size_t c = MIN(iov[k].iov_len, s->len - pos);
		memcpy(iov[k].iov_base, s->buf + pos, c);
		pos += c;
		done += c;
	}
	if (at_pos) {
		f->pos = pos;
		pthread_mutex_unlock(&f->pos_lock);
	}
	return done;
}

static ssize_t snap_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct pnode *p = P(f->inode);
	if (!writable(p->node))
		return -EIO;
	size_t len = 0;
	for (int k = 0; k < n; k++)
		len += iov[k].iov_len;
	char *buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t k = 0, o = 0; k < (size_t)n; o += iov[k].iov_len, k++)
		memcpy(buf + o, iov[k].iov_base, iov[k].iov_len);
	buf[len] = '\0';
	ssize_t r;
	if (p->node->store_at) {
		bool at_pos = pos < 0;
		if (at_pos) {
			pthread_mutex_lock(&f->pos_lock);
			pos = f->pos;
		}
		r = p->node->store_at(&p->ctx, buf, len, pos);
		if (at_pos) {
			if (r > 0)
				f->pos = pos + r;
			pthread_mutex_unlock(&f->pos_lock);
		}
	} else {
		r = p->node->store(&p->ctx, buf, len);
	}
	free(buf);
	return r;
}

static off_t snap_llseek(struct file *f, off_t off, int whence)
{
	struct seqbuf *s = f->priv;
	pthread_mutex_lock(&f->pos_lock);
	off_t r = whence == SEEK_SET ? off : whence == SEEK_CUR ? f->pos + off
		: whence == SEEK_END ? (off_t)s->len + off : -1;
	if (r < 0)
		r = -EINVAL;
	else
		f->pos = r;
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

static void snap_release(struct file *f)
{
	struct seqbuf *s = f->priv;
	free(s->buf);
	free(s);
}

static const struct file_ops snap_ops = {
	.read = snap_read,
	.write = snap_write,
	.llseek = snap_llseek,
	.statx = vfs_file_statx,
	.release = snap_release,
};

static int pseudo_open(struct inode *i, int flags, struct file **out)
{
	struct pnode *p = P(i);
	if (p->node->open)
		return p->node->open(&p->ctx, flags, out);
	if (S_ISDIR(i->mode))
		return vfs_dir_open(i, flags, out);
	if (!S_ISREG(i->mode))
		return -ENXIO;
	struct seqbuf *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int acc = flags & O_ACCMODE;
	int err = 0;
	/* Without store() nobody writes it, root included (like sysctl's
	 * read-only entries). */
	if ((acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC)) && !writable(p->node))
		return -EACCES;
	if (p->node->show && acc != O_WRONLY)
		err = p->node->show(&p->ctx, s);
	if (!err)
		err = s->err;
	if (!err && !(*out = file_new(&snap_ops, flags, S_IFREG, s)))
		err = -ENOMEM;
	if (err) {
		free(s->buf);
		free(s);
	}
	return err;
}

static void pseudo_evict(struct inode *i)
{
	free(i->priv);
}

static const struct inode_ops pseudo_iops = {
	.lookup = pseudo_lookup,
	.readlink = pseudo_readlink,
	.getattr = pseudo_getattr,
	.setattr = pseudo_setattr,
	.open = pseudo_open,
	.revalidate = pseudo_revalidate,
	.iterate = pseudo_iterate,
	.statfs = pseudo_statfs,
	.evict = pseudo_evict,
};

/* Magic links need get_link; plain ones must not have it. */
static const struct inode_ops pseudo_magic_iops = {
	.readlink = pseudo_readlink,
	.get_link = pseudo_get_link,
	.getattr = pseudo_getattr,
	.revalidate = pseudo_revalidate,
	.statfs = pseudo_statfs,
	.evict = pseudo_evict,
};

int pseudo_path_detached(struct mount *mnt, const char *name, const struct pseudo_node *node,
			 const struct pseudo_ctx *ctx, struct path *out)
{
	struct inode *i = pseudo_inode(mnt->sb, node, ctx);
	struct dentry *d = i ? d_alloc_unhashed(mnt->root, name, i) : NULL;
	if (!d) {
		if (i)
			iput(i);
		return -ENOMEM;
	}
	*out = (struct path){ mnt, d };
	return 0;
}

struct dentry *pseudofs_root(const char *type, unsigned long magic, const struct pseudo_node *root)
{
	struct super *sb = super_new(type, magic, false);
	if (!sb)
		return NULL;
	struct inode *i = pseudo_inode(sb, root, &(struct pseudo_ctx){ { 0, 0 } });
	if (!i)
		return NULL;
	struct dentry *d = d_alloc_root(sb, i);
	if (!d)
		iput(i);
	return d;
}
