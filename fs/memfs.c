/* memfs: the in-memory file system behind tmpfs, /dev and the root
 * overlay. Its tree is the dentry cache (pinned dentries); file data are
 * pages of the memory file (fs/filepages.h).
 *
 * As an overlay, an object may stand over a read-only *lower* inode (a
 * host file, through hostfs): its attributes and contents are the
 * lower's until the first change copies them up (attributes alone for
 * chmod/chown/utimes and directory changes, contents on a write or
 * truncate). A directory with a lower one shows the union of both; names
 * deleted from it stay as whiteouts (negative dentries). A directory
 * created in memory has no lower one, so it is opaque. The lower object's
 * st_dev/st_ino are kept, copied up or not. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>
#include "fs/file.h"
#include "fs/filepages.h"
#include "fs/memfs.h"
#include "mm/memfile.h"
#include "mm/mm.h"

#define BOGO_DIRENT_SIZE 20 /* tmpfs's directory size per entry */
#define COPY_CHUNK (64 * 1024)

struct memnode {
	struct inode *lower;   /* read-only object below, or NULL */
	bool attr_up;          /* the attributes below are ours */
	bool data_up;          /* the contents are ours (pages, target) */
	nlink_t nlink;
	off_t size;
	dev_t rdev;
	struct timespec atime, mtime, ctime, btime;
	struct filepages pages;
	char *target;          /* symlinks */
	bool memfd;            /* seals apply (memfd_create) */
	unsigned seals;        /* F_SEAL_* */
};

static const struct inode_ops mem_iops;
static const struct file_ops mem_fops;

static struct memnode *M(const struct inode *i)
{
	return i->priv;
}

bool memfs_is(const struct inode *i)
{
	return i->ops == &mem_iops;
}

static struct inode *mem_inode(struct super *sb, mode_t mode, uint64_t ino)
{
	struct memnode *m = calloc(1, sizeof(*m));
	struct inode *i = m ? inode_new(sb, &mem_iops, mode, ino) : NULL;
	if (!i) {
		free(m);
		return NULL;
	}
	i->priv = m;
	return i;
}

/* A memfs object over lower (reference taken over). */
static struct inode *wrap_lower(struct super *sb, struct inode *lower)
{
	struct inode *i = mem_inode(sb, lower->mode, lower->ino);
	if (!i) {
		iput(lower);
		return NULL;
	}
	i->uid = lower->uid;
	i->gid = lower->gid;
	i->dev = lower->dev;
	/* Names missing below stay missing but for our own creations. */
	i->stable = lower->stable;
	M(i)->lower = lower;
	return i;
}

/* Make the attributes ours. inode lock held. */
static int copy_up_attr(struct inode *i)
{
	struct memnode *m = M(i);
	if (m->attr_up || !m->lower) {
		m->attr_up = true;
		return 0;
	}
	struct statx x;
	int err = inode_getattr(m->lower, &x);
	if (err)
		return err;
	m->nlink = x.stx_nlink;
	m->size = x.stx_size;
	m->rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
	m->atime = (struct timespec){ x.stx_atime.tv_sec, x.stx_atime.tv_nsec };
	m->mtime = (struct timespec){ x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec };
	m->ctime = (struct timespec){ x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec };
	m->btime = (struct timespec){ x.stx_btime.tv_sec, x.stx_btime.tv_nsec };
	i->mode = x.stx_mode;
	i->uid = x.stx_uid;
	i->gid = x.stx_gid;
	m->attr_up = true;
	return 0;
}

static bool all_zero(const char *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (p[k])
			return false;
	return true;
}

/* Make the contents ours: a regular file's bytes into pages, a symlink's
 * target into memory. inode lock held. */
static int copy_up_data(struct inode *i)
{
	struct memnode *m = M(i);
	int err = copy_up_attr(i);
	if (err || m->data_up)
		return err;
	if (!m->lower) {
		m->data_up = true;
		return 0;
	}
	if (S_ISLNK(i->mode)) {
		char t[PATH_MAX];
		int n = m->lower->ops->readlink(m->lower, t, sizeof(t) - 1);
		if (n < 0)
			return n;
		if (!(m->target = strndup(t, n)))
			return -ENOMEM;
		m->data_up = true;
		return 0;
	}
	if (!S_ISREG(i->mode)) {
		m->data_up = true;
		return 0;
	}
	struct file *lf;
	if ((err = m->lower->ops->open(m->lower, O_RDONLY, &lf)))
		return err;
	char *buf = malloc(COPY_CHUNK);
	struct filepages pages = { 0 };
	off_t pos = 0;
	if (!buf)
		err = -ENOMEM;
	while (!err) {
		ssize_t n = kernel_pread(lf, buf, COPY_CHUNK, pos);
		if (n <= 0) {
			err = n;
			break;
		}
		/* Pages of zeros stay holes: sparse files stay sparse. */
		for (ssize_t k = 0; k < n && !err; k += PAGE_SIZE) {
			size_t len = MIN((size_t)(n - k), PAGE_SIZE);
			if (all_zero(buf + k, len))
				continue;
			int64_t off = fp_get(&pages, (pos + k) / PAGE_SIZE, (n - k) / PAGE_SIZE);
			if (off < 0)
				err = off;
			else
				memcpy(memfile_ptr(off), buf + k, len);
		}
		pos += n;
	}
	free(buf);
	fput(lf);
	if (err) {
		fp_free_all(&pages);
		return err;
	}
	m->pages = pages;
	m->size = pos;
	m->data_up = true;
	return 0;
}

int64_t memfs_page(struct inode *i, uint64_t idx, bool alloc)
{
	struct memnode *m = M(i);
	int64_t off;
	pthread_mutex_lock(&i->lock);
	if (!S_ISREG(i->mode))
		off = -ENODEV;
	else if (!m->data_up && m->lower && !alloc)
		off = -ENODEV;
	else if ((off = copy_up_data(i)) == 0) {
		off = alloc ? fp_get(&m->pages, idx, 1) : fp_lookup(&m->pages, idx);
		if (off == -1)
			off = -ENXIO;
		if (off >= 0)
			memfile_ref(off, PAGE_SIZE);
	}
	pthread_mutex_unlock(&i->lock);
	return off;
}

struct inode *memfs_lower_data(struct inode *i)
{
	if (!memfs_is(i))
		return NULL;
	pthread_mutex_lock(&i->lock);
	struct inode *l = M(i)->data_up ? NULL : iget(M(i)->lower);
	pthread_mutex_unlock(&i->lock);
	return l;
}

void memfs_unlinked(struct inode *i)
{
	pthread_mutex_lock(&i->lock);
	M(i)->nlink = 0;
	pthread_mutex_unlock(&i->lock);
}

int memfs_copy_up(struct inode *i)
{
	pthread_mutex_lock(&i->lock);
	int err = copy_up_data(i);
	pthread_mutex_unlock(&i->lock);
	return err;
}

/* ---- attributes ----------------------------------------------------------- */

static void fill_statx(struct inode *i, struct statx *x)
{
	struct memnode *m = M(i);
	x->stx_mask = STATX_BASIC_STATS | STATX_BTIME;
	x->stx_blksize = PAGE_SIZE;
	x->stx_nlink = m->nlink;
	x->stx_uid = i->uid;
	x->stx_gid = i->gid;
	x->stx_mode = i->mode;
	x->stx_ino = i->ino;
	x->stx_size = m->size;
	x->stx_blocks = S_ISREG(i->mode) ? m->pages.npages * (PAGE_SIZE / 512) : 0;
	x->stx_atime = (struct statx_timestamp){ .tv_sec = m->atime.tv_sec, .tv_nsec = m->atime.tv_nsec };
	x->stx_btime = (struct statx_timestamp){ .tv_sec = m->btime.tv_sec, .tv_nsec = m->btime.tv_nsec };
	x->stx_ctime = (struct statx_timestamp){ .tv_sec = m->ctime.tv_sec, .tv_nsec = m->ctime.tv_nsec };
	x->stx_mtime = (struct statx_timestamp){ .tv_sec = m->mtime.tv_sec, .tv_nsec = m->mtime.tv_nsec };
	x->stx_rdev_major = major(m->rdev);
	x->stx_rdev_minor = minor(m->rdev);
	x->stx_dev_major = major(i->dev);
	x->stx_dev_minor = minor(i->dev);
}

static int mem_getattr(struct inode *i, struct statx *x)
{
	struct memnode *m = M(i);
	pthread_mutex_lock(&i->lock);
	int err = 0;
	if (m->attr_up || !m->lower) {
		fill_statx(i, x);
	} else {
		err = inode_getattr(m->lower, x);
		x->stx_dev_major = major(i->dev);
		x->stx_dev_minor = minor(i->dev);
		x->stx_ino = i->ino;
	}
	pthread_mutex_unlock(&i->lock);
	return err;
}

/* Truncate or extend to size. inode lock held, contents ours. */
static void set_size(struct inode *i, off_t size)
{
	struct memnode *m = M(i);
	if (size < m->size) {
		fp_punch(&m->pages, PAGE_ALIGN((uint64_t)size) / PAGE_SIZE, FP_MAX_PAGES);
		/* Bytes past the end in the last page must read as zero if the
		 * file grows again. */
		int64_t off = fp_lookup(&m->pages, size / PAGE_SIZE);
		if (off >= 0 && size % PAGE_SIZE)
			memset(memfile_ptr(off) + size % PAGE_SIZE, 0, PAGE_SIZE - size % PAGE_SIZE);
	}
	m->size = size;
}

static int mem_setattr(struct inode *i, const struct iattr *a)
{
	struct memnode *m = M(i);
	pthread_mutex_lock(&i->lock);
	bool shrinks = (a->valid & ATTR_SIZE) && a->size < m->size;
	int err = (a->valid & ATTR_SIZE) ? copy_up_data(i) : copy_up_attr(i);
	if (!err && (a->valid & ATTR_SIZE) && a->size > (off_t)(FP_MAX_PAGES * PAGE_SIZE))
		err = -EFBIG;
	if (!err && (a->valid & ATTR_SIZE) &&
	    (((m->seals & F_SEAL_SHRINK) && a->size < m->size) ||
	     ((m->seals & F_SEAL_GROW) && a->size > m->size)))
		err = -EPERM;
	if (!err) {
		if (a->valid & ATTR_SIZE)
			set_size(i, a->size);
		if (a->valid & ATTR_MODE)
			i->mode = (i->mode & S_IFMT) | (a->mode & 07777);
		if (a->valid & ATTR_UID)
			i->uid = a->uid;
		if (a->valid & ATTR_GID)
			i->gid = a->gid;
		if (a->valid & ATTR_ATIME)
			m->atime = a->atime;
		if (a->valid & ATTR_MTIME)
			m->mtime = a->mtime;
		time_now(&m->ctime);
	}
	pthread_mutex_unlock(&i->lock);
	return !err && shrinks ? SETATTR_UNMAP_PAST_SIZE : err;
}

/* ---- directories ---------------------------------------------------------- */

static int mem_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct inode *lower = M(dir)->lower, *li;
	if (!lower || !S_ISDIR(lower->mode) || !lower->ops->lookup)
		return -ENOENT;
	int err = lower->ops->lookup(lower, name, &li);
	if (err)
		return err;
	*out = wrap_lower(dir->sb, li);
	return *out ? 0 : -ENOMEM;
}

/* A directory gained (+1) or lost (-1) an entry, subdir or not. */
static int dir_changed(struct inode *dir, int delta, bool subdir)
{
	pthread_mutex_lock(&dir->lock);
	int err = copy_up_attr(dir);
	if (!err) {
		struct memnode *m = M(dir);
		m->size += delta * BOGO_DIRENT_SIZE;
		if (subdir)
			m->nlink += delta;
		time_now(&m->mtime);
		m->ctime = m->mtime;
	}
	pthread_mutex_unlock(&dir->lock);
	return err;
}

static void init_times(struct memnode *m)
{
	time_now(&m->mtime);
	m->atime = m->ctime = m->btime = m->mtime;
}

struct inode *memfs_new_inode(struct super *sb, mode_t mode, dev_t rdev, const char *target)
{
	struct inode *i = mem_inode(sb, mode, 0);
	if (!i)
		return NULL;
	struct memnode *m = M(i);
	m->attr_up = m->data_up = true;
	m->nlink = S_ISDIR(mode) ? 2 : 1;
	m->rdev = rdev;
	i->uid = cur_fsuid();
	i->gid = cur_fsgid();
	init_times(m);
	if (S_ISDIR(mode))
		m->size = 2 * BOGO_DIRENT_SIZE;
	if (target) {
		if (!(m->target = strdup(target))) {
			iput(i);
			return NULL;
		}
		m->size = strlen(target);
	}
	return i;
}

static int mem_create(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
		      const char *target, struct inode **out)
{
	struct inode *i = memfs_new_inode(dir->sb, mode, rdev, target);
	if (!i)
		return -ENOMEM;
	/* Linux's inode_init_owner(): a setgid directory hands down its group
	 * (and, to directories, the setgid bit). */
	if (dir->mode & S_ISGID) {
		i->gid = dir->gid;
		if (S_ISDIR(mode))
			i->mode |= S_ISGID;
	} else if (S_ISDIR(mode)) {
		i->mode &= ~S_ISGID;
	}
	int err = dir_changed(dir, 1, S_ISDIR(mode));
	if (err) {
		iput(i);
		return err;
	}
	*out = i;
	return 0;
}

static int mem_link(struct inode *dir, const char *name, struct inode *old)
{
	pthread_mutex_lock(&old->lock);
	int err = copy_up_attr(old);
	if (!err) {
		M(old)->nlink++;
		time_now(&M(old)->ctime);
	}
	pthread_mutex_unlock(&old->lock);
	return err ? err : dir_changed(dir, 1, false);
}

static bool has_lower_dir(struct inode *dir)
{
	return M(dir)->lower != NULL;
}

static int drop_link(struct inode *i)
{
	pthread_mutex_lock(&i->lock);
	int err = copy_up_attr(i);
	if (!err) {
		if (S_ISDIR(i->mode))
			M(i)->nlink = 0;
		else if (M(i)->nlink)
			M(i)->nlink--;
		time_now(&M(i)->ctime);
	}
	pthread_mutex_unlock(&i->lock);
	return err;
}

static int mem_unlink(struct inode *dir, const char *name, struct inode *i, bool isdir)
{
	int err = drop_link(i);
	if (!err)
		err = dir_changed(dir, -1, isdir);
	return err ? err : has_lower_dir(dir);
}

static int mem_rename(struct inode *odir, const char *oname, struct inode *ndir,
		      const char *nname, struct inode *i, struct inode *target, unsigned flags)
{
	bool isdir = S_ISDIR(i->mode);
	int err;
	pthread_mutex_lock(&i->lock);
	err = copy_up_attr(i);
	if (!err)
		time_now(&M(i)->ctime);
	pthread_mutex_unlock(&i->lock);
	if (err)
		return err;
	if (flags & RENAME_EXCHANGE) {
		bool tdir = S_ISDIR(target->mode);
		pthread_mutex_lock(&target->lock);
		err = copy_up_attr(target);
		if (!err)
			time_now(&M(target)->ctime);
		pthread_mutex_unlock(&target->lock);
		if (!err && odir != ndir && isdir != tdir) {
			err = dir_changed(odir, 0, false);
			if (!err)
				err = dir_changed(ndir, 0, false);
			pthread_mutex_lock(&odir->lock);
			M(odir)->nlink += tdir ? 1 : -1;
			pthread_mutex_unlock(&odir->lock);
			pthread_mutex_lock(&ndir->lock);
			M(ndir)->nlink += isdir ? 1 : -1;
			pthread_mutex_unlock(&ndir->lock);
		} else if (!err) {
			err = dir_changed(odir, 0, false);
			if (!err && ndir != odir)
				err = dir_changed(ndir, 0, false);
		}
		return err;
	}
	if (target && (err = drop_link(target)))
		return err;
	err = dir_changed(odir, -1, isdir);
	if (!err)
		err = dir_changed(ndir, target ? 0 : 1, false);
	if (!err && isdir) {
		/* The new parent gains a subdirectory, unless it replaced one. */
		pthread_mutex_lock(&ndir->lock);
		M(ndir)->nlink += 1 - (target && S_ISDIR(target->mode));
		pthread_mutex_unlock(&ndir->lock);
	}
	return err ? err : has_lower_dir(odir);
}

static int mem_readlink(struct inode *i, char *buf, size_t size)
{
	struct memnode *m = M(i);
	pthread_mutex_lock(&i->lock);
	int n;
	if (m->target) {
		n = MIN(strlen(m->target), size);
		memcpy(buf, m->target, n);
	} else if (m->lower && m->lower->ops->readlink) {
		n = m->lower->ops->readlink(m->lower, buf, size);
	} else {
		n = -EINVAL;
	}
	pthread_mutex_unlock(&i->lock);
	return n;
}

/* Merged listing: ".", "..", our names, then the lower names not shadowed
 * by ours or by whiteouts. */
struct lower_names {
	struct dir_ctx ctx;
	size_t n, cap;
	struct lname { uint64_t ino; unsigned type; char *name; } *v;
};

static int collect(struct dir_ctx *c, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct lower_names *l = (struct lower_names *)c;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
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

static int mem_iterate(struct inode *dir, struct dentry *d, struct dir_ctx *ctx)
{
	struct inode *lower = M(dir)->lower;
	struct lower_names l = { .ctx.emit = collect };
	int err = 0;
	if (lower && S_ISDIR(lower->mode) && lower->ops->iterate)
		err = lower->ops->iterate(lower, NULL, &l.ctx);
	pthread_mutex_lock(&vfs_lock);
	uint64_t pino = d->parent && d->parent->inode ? d->parent->inode->ino : dir->ino;
	if (!err)
		err = ctx->emit(ctx, ".", 1, dir->ino, DT_DIR);
	if (!err)
		err = ctx->emit(ctx, "..", 2, pino, DT_DIR);
	d_for_each_child(c, d) {
		if (err)
			break;
		if (c->inode)
			err = ctx->emit(ctx, c->name, strlen(c->name), c->inode->ino, dtype_of(c->inode->mode));
	}
	for (size_t k = 0; k < l.n && !err; k++)
		if (!d_find_locked(d, l.v[k].name))
			err = ctx->emit(ctx, l.v[k].name, strlen(l.v[k].name), l.v[k].ino, l.v[k].type);
	pthread_mutex_unlock(&vfs_lock);
	for (size_t k = 0; k < l.n; k++)
		free(l.v[k].name);
	free(l.v);
	return err > 0 ? 0 : err;
}

static int mem_statfs(struct inode *i, struct statfs *st)
{
	long pages = sysconf(_SC_PHYS_PAGES) / 2; /* tmpfs's default size */
	long used = memfile_allocated() / PAGE_SIZE;
	memset(st, 0, sizeof(*st));
	st->f_type = i->sb->magic;
	st->f_bsize = st->f_frsize = PAGE_SIZE;
	st->f_blocks = pages;
	st->f_bfree = st->f_bavail = used < pages ? pages - used : 0;
	st->f_files = pages;
	st->f_ffree = pages - atomic_load(&i->sb->next_ino) % pages;
	st->f_namelen = NAME_MAX;
	return 0;
}

static void mem_evict(struct inode *i)
{
	struct memnode *m = M(i);
	fp_free_all(&m->pages);
	free(m->target);
	iput(m->lower);
	free(m);
}

/* ---- open files ---------------------------------------------------------- */

static int mem_open(struct inode *i, int flags, struct file **out)
{
	struct memnode *m = M(i);
	if (S_ISDIR(i->mode))
		return vfs_dir_open(i, flags, out);
	if (!S_ISREG(i->mode))
		return -ENXIO;
	int acc = flags & O_ACCMODE, err = 0;
	struct file *lf = NULL;
	pthread_mutex_lock(&i->lock);
	if (acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC))
		err = copy_up_data(i);
	else if (!m->data_up && m->lower)
		err = m->lower->ops->open(m->lower, O_RDONLY, &lf);
	pthread_mutex_unlock(&i->lock);
	if (err)
		return err;
	struct file *f = file_new(&mem_fops, flags, S_IFREG, lf);
	if (!f) {
		fput(lf);
		return -ENOMEM;
	}
	/* Until mm maps by file_size()/kernel_pread(): an unchanged lower
	 * file's host fd (the lower file owns it). */
	if (lf)
		f->hostfd = lf->hostfd;
	*out = f;
	return 0;
}

/* Copy between the file's pages at pos and the iovecs; inode lock held. */
static ssize_t pages_io(struct inode *i, const struct iovec *iov, int n, off_t pos, bool write)
{
	struct memnode *m = M(i);
	ssize_t done = 0;
	for (int k = 0; k < n; k++) {
		char *p = iov[k].iov_base;
		size_t len = iov[k].iov_len;
		if (!write)
			len = pos >= m->size ? 0 : MIN(len, (size_t)(m->size - pos));
		while (len) {
			uint64_t idx = pos / PAGE_SIZE, in = pos % PAGE_SIZE;
			size_t chunk = MIN(len, PAGE_SIZE - in);
			if (write) {
				int64_t off = fp_get(&m->pages, idx, (in + len + PAGE_SIZE - 1) / PAGE_SIZE);
				if (off < 0)
					return done ? done : off;
				memcpy(memfile_ptr(off) + in, p, chunk);
			} else {
				int64_t off = fp_lookup(&m->pages, idx);
				if (off < 0)
					memset(p, 0, chunk);
				else
					memcpy(p, memfile_ptr(off) + in, chunk);
			}
			p += chunk;
			pos += chunk;
			len -= chunk;
			done += chunk;
		}
		if (write && pos > m->size)
			m->size = pos;
	}
	return done;
}

/* pos < 0: the file position, moved by what was transferred. */
static ssize_t mem_rw(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf, bool write)
{
	struct inode *i = f->inode;
	struct memnode *m = M(i);
	bool at_pos = pos < 0;
	if (at_pos) {
		pthread_mutex_lock(&f->pos_lock);
		pos = f->pos;
	}
	ssize_t r;
	pthread_mutex_lock(&i->lock);
	if (!write && !m->data_up && f->priv) {
		pthread_mutex_unlock(&i->lock);
		struct file *lf = f->priv;
		r = lf->ops->read(lf, iov, n, pos, rwf);
	} else {
		if (write && ((f->flags & O_APPEND) || (rwf & RWF_APPEND)))
			pos = m->size;
		size_t total = 0;
		for (int k = 0; k < n; k++)
			total += iov[k].iov_len;
		if (write && total && (uint64_t)pos + total > FP_MAX_PAGES * PAGE_SIZE)
			r = -EFBIG;
		else if (write && (m->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
			r = -EPERM;
		else if (write && (m->seals & F_SEAL_GROW) && (off_t)(pos + total) > m->size)
			r = -EPERM;
		else
			r = pages_io(i, iov, n, pos, write);
		if (write && r > 0) {
			time_now(&m->mtime);
			m->ctime = m->mtime;
			/* Linux's file_remove_privs(): writing drops set-id bits. */
			if ((i->mode & S_ISUID) || (i->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
				if (cur_fsuid() != 0)
					i->mode &= ~(S_ISUID | S_ISGID);
		}
		pthread_mutex_unlock(&i->lock);
	}
	if (at_pos) {
		if (r > 0)
			f->pos = pos + r;
		pthread_mutex_unlock(&f->pos_lock);
	}
	return r;
}

static ssize_t mem_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	return mem_rw(f, iov, n, pos, rwf, false);
}

static ssize_t mem_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	return mem_rw(f, iov, n, pos, rwf, true);
}

static off_t mem_llseek(struct file *f, off_t off, int whence)
{
	struct inode *i = f->inode;
	struct memnode *m = M(i);
	pthread_mutex_lock(&f->pos_lock);
	pthread_mutex_lock(&i->lock);
	off_t size = m->attr_up || !m->lower ? m->size : -1;
	bool pages = m->data_up || !m->lower;
	pthread_mutex_unlock(&i->lock);
	if (size < 0) {
		struct statx x;
		int err = inode_getattr(m->lower, &x);
		if (err) {
			pthread_mutex_unlock(&f->pos_lock);
			return err;
		}
		size = x.stx_size;
	}
	off_t r;
	switch (whence) {
	case SEEK_SET:
	case SEEK_CUR:
	case SEEK_END:
		r = off + (whence == SEEK_CUR ? f->pos : whence == SEEK_END ? size : 0);
		if (r < 0)
			r = -EINVAL;
		break;
	case SEEK_DATA:
	case SEEK_HOLE:
		if (off < 0 || off >= size) {
			r = -ENXIO;
			break;
		}
		if (!pages) { /* the lower file is one extent of data */
			r = whence == SEEK_DATA ? off : size;
			break;
		}
		pthread_mutex_lock(&i->lock);
		if (whence == SEEK_DATA) {
			uint64_t idx = fp_next_data(&m->pages, off / PAGE_SIZE);
			r = idx == UINT64_MAX || (off_t)(idx * PAGE_SIZE) >= size ? -ENXIO
				: MAX(off, (off_t)(idx * PAGE_SIZE));
		} else {
			uint64_t idx = fp_next_hole(&m->pages, off / PAGE_SIZE);
			r = MIN(size, MAX(off, (off_t)(idx * PAGE_SIZE)));
		}
		pthread_mutex_unlock(&i->lock);
		break;
	default: r = -EINVAL;
	}
	if (r >= 0)
		f->pos = r;
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

static void mem_release(struct file *f)
{
	fput(f->priv);
}

static const struct file_ops mem_fops = {
	.read = mem_read,
	.write = mem_write,
	.llseek = mem_llseek,
	.statx = vfs_file_statx,
	.release = mem_release,
};

int memfs_allocate(struct inode *i, int mode, off_t off, off_t len)
{
	if (!memfs_is(i))
		return -EOPNOTSUPP;
	struct memnode *m = M(i);
	int err = 0;
	pthread_mutex_lock(&i->lock);
	if ((err = copy_up_data(i)))
		goto out;
	uint64_t end = (uint64_t)off + len;
	if (((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) &&
	     (m->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) ||
	    (!(mode & (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) && (m->seals & F_SEAL_GROW) &&
	     (off_t)end > m->size)) {
		err = -EPERM;
		goto out;
	}
	if (end > FP_MAX_PAGES * PAGE_SIZE) {
		err = -EFBIG;
		goto out;
	}
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		/* Whole pages go; the partial ones at the edges are zeroed. */
		uint64_t first = PAGE_ALIGN((uint64_t)off) / PAGE_SIZE, last = end / PAGE_SIZE;
		for (uint64_t p = off; p < end;) {
			uint64_t idx = p / PAGE_SIZE, in = p % PAGE_SIZE;
			uint64_t chunk = MIN(end - p, PAGE_SIZE - in);
			if (in || chunk < PAGE_SIZE) {
				int64_t o = fp_lookup(&m->pages, idx);
				if (o >= 0)
					memset(memfile_ptr(o) + in, 0, chunk);
			}
			p += chunk;
		}
		if (first < last)
			fp_punch(&m->pages, first, last);
	} else if (mode & FALLOC_FL_ZERO_RANGE) {
		for (uint64_t p = off; p < end;) {
			uint64_t idx = p / PAGE_SIZE, in = p % PAGE_SIZE;
			uint64_t chunk = MIN(end - p, PAGE_SIZE - in);
			int64_t o = fp_lookup(&m->pages, idx);
			if (o >= 0)
				memset(memfile_ptr(o) + in, 0, chunk);
			p += chunk;
		}
		if (!(mode & FALLOC_FL_KEEP_SIZE) && (off_t)end > m->size)
			m->size = end;
	} else {
		for (uint64_t idx = off / PAGE_SIZE; idx < PAGE_ALIGN(end) / PAGE_SIZE; idx++) {
			int64_t o = fp_get(&m->pages, idx, PAGE_ALIGN(end) / PAGE_SIZE - idx);
			if (o < 0) {
				err = o == -ENOMEM ? -ENOSPC : (int)o;
				goto out;
			}
		}
		if (!(mode & FALLOC_FL_KEEP_SIZE) && (off_t)end > m->size)
			m->size = end;
	}
	time_now(&m->mtime);
	m->ctime = m->mtime;
out:
	pthread_mutex_unlock(&i->lock);
	return err;
}

int memfs_seals(struct inode *i, unsigned add)
{
	if (!memfs_is(i) || !M(i)->memfd)
		return -EINVAL;
	struct memnode *m = M(i);
	pthread_mutex_lock(&i->lock);
	int r;
	if (!add)
		r = m->seals;
	else if (m->seals & F_SEAL_SEAL)
		r = -EPERM;
	else {
		m->seals |= add;
		r = 0;
	}
	pthread_mutex_unlock(&i->lock);
	return r;
}

void memfs_make_memfd(struct inode *i, unsigned seals)
{
	M(i)->memfd = true;
	M(i)->seals = seals;
	M(i)->nlink = 0;
}

off_t memfs_size(struct inode *i)
{
	struct memnode *m = M(i);
	pthread_mutex_lock(&i->lock);
	off_t size = m->attr_up || !m->lower ? m->size : -1;
	pthread_mutex_unlock(&i->lock);
	if (size < 0) {
		struct statx x;
		size = inode_getattr(m->lower, &x) ? 0 : (off_t)x.stx_size;
	}
	return size;
}

static const struct inode_ops mem_iops = {
	.lookup = mem_lookup,
	.create = mem_create,
	.link = mem_link,
	.unlink = mem_unlink,
	.rename = mem_rename,
	.readlink = mem_readlink,
	.getattr = mem_getattr,
	.setattr = mem_setattr,
	.open = mem_open,
	.iterate = mem_iterate,
	.statfs = mem_statfs,
	.evict = mem_evict,
};

struct dentry *memfs_root(const char *type, mode_t mode, struct inode *lower)
{
	unsigned long magic = lower ? OVERLAYFS_SUPER_MAGIC : TMPFS_MAGIC;
	struct super *sb = super_new(type, magic, true);
	if (!sb)
		return NULL;
	struct inode *i;
	if (lower) {
		i = wrap_lower(sb, lower);
	} else {
		i = memfs_new_inode(sb, S_IFDIR | mode, 0, NULL);
		if (i)
			i->uid = i->gid = 0;
	}
	if (!i)
		return NULL;
	struct dentry *d = d_alloc_root(sb, i);
	if (!d)
		iput(i);
	return d;
}
