/* Inodes, dentries and the mount table (see vfs.h for the rules). The
 * dentry cache is one hash table of (parent, name) plus a children list
 * per directory for listings. */
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "fs/vfs.h"
#include "fs/locks.h"
#include "kernel/ktime.h"

pthread_mutex_t vfs_lock = PTHREAD_MUTEX_INITIALIZER;
struct mount *mount_list;

#define HASH_BITS 16
static struct dentry *hash_table[1 << HASH_BITS];

static unsigned name_hash(const struct dentry *parent, const char *name)
{
	uint64_t h = (uintptr_t)parent * 0x9e3779b97f4a7c15ULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return (unsigned)(h ^ (h >> 29)) & ((1u << HASH_BITS) - 1);
}

/* ---- inodes ---------------------------------------------------------------- */

struct super *super_new(const char *type, unsigned long magic, bool pins)
{
	struct super *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return NULL;
	sb->type = type;
	sb->magic = magic;
	sb->pins = pins;
	sb->dev = anon_dev();
	atomic_init(&sb->next_ino, 1);
	return sb;
}

dev_t anon_dev(void)
{
	static atomic_uint next = 20; /* clear of the host's usual anonymous minors */
	return makedev(0, atomic_fetch_add(&next, 1));
}

struct inode *inode_new(struct super *sb, const struct inode_ops *ops, mode_t mode, uint64_t ino)
{
	struct inode *i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	atomic_init(&i->refs, 1);
	pthread_mutex_init(&i->lock, NULL);
	i->ops = ops;
	i->sb = sb;
	i->mode = mode;
	i->ino = ino ? ino : atomic_fetch_add(&sb->next_ino, 1);
	i->dev = sb->dev;
	return i;
}

struct inode *iget(struct inode *i)
{
	if (i)
		atomic_fetch_add_explicit(&i->refs, 1, memory_order_relaxed);
	return i;
}

void iput(struct inode *i)
{
	if (!i || atomic_fetch_sub_explicit(&i->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (i->ops->evict)
		i->ops->evict(i);
	locks_free_inode(i);
	pthread_mutex_destroy(&i->lock);
	free(i);
}

int inode_getattr(struct inode *i, struct statx *x)
{
	memset(x, 0, sizeof(*x));
	if (!i->ops->getattr)
		return -EOPNOTSUPP;
	return i->ops->getattr(i, x);
}

/* ---- dentries -------------------------------------------------------------- */

static struct dentry *d_alloc(struct dentry *parent, const char *name, struct inode *i)
{
	struct dentry *d = calloc(1, sizeof(*d));
	if (!d || !(d->name = strdup(name))) {
		free(d);
		return NULL;
	}
	atomic_init(&d->refs, 1);
	d->inode = i;
	d->parent = parent ? dget(parent) : NULL;
	d->sb = parent ? parent->sb : i->sb;
	return d;
}

struct dentry *d_alloc_root(struct super *sb, struct inode *i)
{
	struct dentry *d = d_alloc(NULL, "/", i);
	if (d) {
		d->sb = sb;
		d->pinned = true; /* a root lives as long as its mount */
		atomic_fetch_add(&d->refs, 1);
	}
	return d;
}

struct dentry *d_alloc_unhashed(struct dentry *dir, const char *name, struct inode *i)
{
	return d_alloc(dir, name, i);
}

struct dentry *dget(struct dentry *d)
{
	if (d)
		atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
	return d;
}

static void unhash(struct dentry *d)
{
	if (!d->hashed)
		return;
	struct dentry **pp = &hash_table[name_hash(d->parent, d->name)];
	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	d->hnext = NULL;
	if (d->sib_prev)
		d->sib_prev->sib_next = d->sib_next;
	else
		d->parent->child = d->sib_next;
	if (d->sib_next)
		d->sib_next->sib_prev = d->sib_prev;
	d->sib_next = d->sib_prev = NULL;
	d->hashed = false;
}

static void hash(struct dentry *d)
{
	unsigned h = name_hash(d->parent, d->name);
	d->hnext = hash_table[h];
	hash_table[h] = d;
	d->sib_prev = NULL;
	d->sib_next = d->parent->child;
	if (d->sib_next)
		d->sib_next->sib_prev = d;
	d->parent->child = d;
	d->hashed = true;
}

/* Recently used dentries nobody holds any more whose answers stay true
 * (stable objects, names missing from stable directories: read-only host
 * layers, which cost host calls to ask again): the cache keeps a
 * reference on each, oldest dropped first. Others are looked up anew
 * when next used, so a read-write bind sees the host's changes. */
#define LRU_MAX 4096
static struct {
	struct dentry *head, *tail;
	int n;
} lru;

/* Keep d (its last user reference is going) unless the cache is full;
 * returns the dentry to drop in exchange, or d itself if not kept.
 * vfs_lock held. */
static struct dentry *lru_keep_locked(struct dentry *d)
{
	bool stable = d->inode ? d->inode->stable : d->parent->inode->stable;
	if (!stable || !d->hashed || d->in_lru)
		return d;
	d->in_lru = true;
	d->lru_next = NULL;
	if (lru.tail)
		lru.tail->lru_next = d;
	else
		lru.head = d;
	lru.tail = d;
	if (++lru.n <= LRU_MAX)
		return NULL;
	struct dentry *old = lru.head;
	lru.head = old->lru_next;
	if (!lru.head)
		lru.tail = NULL;
	lru.n--;
	old->in_lru = false;
	return old;
}

void dput(struct dentry *d)
{
	/* A dentry the cache just gave up is dropped, not kept again (that
	 * would turn a full cache round for ever). */
	bool evicted = false;
	while (d) {
		int r = atomic_load_explicit(&d->refs, memory_order_relaxed);
		while (r > 1)
			if (atomic_compare_exchange_weak(&d->refs, &r, r - 1))
				return;
		/* Maybe the last reference: decide under the lock, where
		 * lookups take theirs. */
		pthread_mutex_lock(&vfs_lock);
		if (!evicted && atomic_load(&d->refs) == 1) {
			/* Our reference becomes the cache's, perhaps in
			 * exchange for an older one's. */
			struct dentry *drop = lru_keep_locked(d);
			if (drop != d) {
				pthread_mutex_unlock(&vfs_lock);
				d = drop;
				evicted = true;
				continue;
			}
		}
		evicted = false;
		if (atomic_fetch_sub(&d->refs, 1) != 1) {
			pthread_mutex_unlock(&vfs_lock);
			return;
		}
		unhash(d);
		pthread_mutex_unlock(&vfs_lock);
		struct dentry *parent = d->parent;
		iput(d->inode);
		free(d->name);
		free(d);
		d = parent;
	}
}

struct dentry *d_find_locked(struct dentry *dir, const char *name)
{
	for (struct dentry *d = hash_table[name_hash(dir, name)]; d; d = d->hnext)
		if (d->parent == dir && !strcmp(d->name, name))
			return d;
	return NULL;
}

struct dentry *d_lookup_locked(struct dentry *dir, const char *name)
{
	return dget(d_find_locked(dir, name));
}

void d_pin_locked(struct dentry *d)
{
	if (!d->pinned && d->sb->pins && d->hashed) {
		d->pinned = true;
		dget(d);
	}
}

static void unpin_locked(struct dentry *d)
{
	if (d->pinned) {
		d->pinned = false;
		/* Never the last reference: callers hold their own. */
		atomic_fetch_sub(&d->refs, 1);
	}
}

void d_drop_locked(struct dentry *d)
{
	unhash(d);
	unpin_locked(d);
}

/* Drop the reference a d_lookup_locked gave on a dentry just taken out of
 * the tree, freeing it if that was the last (its parent is held by the
 * caller, so the parent's count does not reach zero here). */
static void discard_locked(struct dentry *d)
{
	if (atomic_fetch_sub(&d->refs, 1) != 1)
		return;
	iput(d->inode);
	atomic_fetch_sub(&d->parent->refs, 1);
	free(d->name);
	free(d);
}

struct dentry *d_add_locked(struct dentry *dir, const char *name, struct inode *i)
{
	struct dentry *d = d_alloc(dir, name, i);
	if (!d)
		return NULL;
	struct dentry *old = d_lookup_locked(dir, name);
	if (old) {
		d_drop_locked(old);
		discard_locked(old);
	}
	hash(d);
	return d;
}

void d_prune_negative_locked(struct dentry *dir)
{
	struct dentry *c = dir->child;
	while (c) {
		struct dentry *next = c->sib_next;
		if (!c->inode) {
			dget(c);
			d_drop_locked(c);
			discard_locked(c);
		}
		c = next;
	}
}

int d_move_locked(struct dentry *d, struct dentry *dir, const char *name)
{
	char *n = strdup(name);
	if (!n)
		return -ENOMEM;
	struct dentry *old = d_lookup_locked(dir, name);
	if (old && old != d)
		d_drop_locked(old);
	if (old)
		discard_locked(old);
	unhash(d);
	struct dentry *oldparent = d->parent;
	d->parent = dget(dir);
	free(d->name);
	d->name = n;
	hash(d);
	d_pin_locked(d);
	/* The old parent is held by the caller: not its last reference. */
	atomic_fetch_sub(&oldparent->refs, 1);
	return 0;
}

void d_exchange_locked(struct dentry *a, struct dentry *b)
{
	unhash(a);
	unhash(b);
	struct dentry *pa = a->parent;
	char *na = a->name;
	a->parent = b->parent;
	a->name = b->name;
	b->parent = pa;
	b->name = na;
	hash(a);
	hash(b);
	d_pin_locked(a);
	d_pin_locked(b);
}

bool d_ancestor_locked(const struct dentry *a, const struct dentry *b)
{
	for (; b; b = b->parent)
		if (a == b)
			return true;
	return false;
}

/* ---- paths and mounts ------------------------------------------------------ */

void path_put(struct path *p)
{
	if (p->dentry)
		dput(p->dentry);
	p->dentry = NULL;
	p->mnt = NULL;
}

struct mount *mount_on_locked(struct mount *mnt, struct dentry *d)
{
	struct mount *found = NULL;
	if (!d->mounted)
		return NULL;
	/* The newest mount on top wins. */
	for (struct mount *m = mount_list; m; m = m->next)
		if (m->parent == mnt && m->mountpoint == d)
			found = m;
	return found;
}

struct mount *mount_add(struct path *at, struct dentry *root, int flags, const char *source)
{
	struct mount *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->root = root;
	m->sb = root->sb;
	m->flags = flags;
	m->source = strdup(source ? source : "none");
	pthread_mutex_lock(&vfs_lock);
	if (at) {
		m->parent = at->mnt;
		m->mountpoint = dget(at->dentry);
		at->dentry->mounted++;
		d_pin_locked(at->dentry);
	}
	struct mount **pp = &mount_list;
	while (*pp)
		pp = &(*pp)->next;
	*pp = m;
	pthread_mutex_unlock(&vfs_lock);
	return m;
}

int d_path(const struct path *p, const struct path *root, char *buf, size_t size)
{
	char tmp[PATH_MAX];
	size_t pos = sizeof(tmp) - 1;
	tmp[pos] = '\0';
	int err = 0;
	pthread_mutex_lock(&vfs_lock);
	struct mount *mnt = p->mnt;
	struct dentry *d = p->dentry;
	bool deleted = false;
	for (;;) {
		if (root && mnt == root->mnt && d == root->dentry)
			break;
		if (d == mnt->root) {
			if (!mnt->parent)
				break;
			d = mnt->mountpoint;
			mnt = mnt->parent;
			continue;
		}
		if (!d->hashed)
			deleted = true;
		size_t n = strlen(d->name);
		if (n + 1 > pos) {
			err = -ENAMETOOLONG;
			break;
		}
		pos -= n;
		memcpy(tmp + pos, d->name, n);
		tmp[--pos] = '/';
		d = d->parent;
	}
	pthread_mutex_unlock(&vfs_lock);
	if (err)
		return err;
	if (pos == sizeof(tmp) - 1)
		tmp[--pos] = '/';
	size_t len = sizeof(tmp) - 1 - pos;
	if (len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(buf, tmp + pos, len + 1);
	return deleted ? -ENOENT : 0;
}

/* ---- small helpers ---------------------------------------------------------- */

void time_now(struct timespec *ts)
{
	if (ktime_get(CLOCK_REALTIME, ts))
		clock_gettime(CLOCK_REALTIME, ts);
}

unsigned dtype_of(mode_t mode)
{
	return (mode & S_IFMT) >> 12;
}
