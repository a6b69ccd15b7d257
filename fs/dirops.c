/* Calls that change the tree or an object's attributes: mkdir, mknod,
 * symlink, link, unlink, rmdir, rename, chmod, chown, utimensat,
 * truncate. Each checks in Linux's order (lookup, EEXIST/ENOENT, EROFS,
 * permissions, kind of object) before asking the file system.
 *
 * A name is looked up without vfs_lock (the file system may ask the
 * host), then vfs_lock is taken and the dentry checked to still be that
 * name's: if a rename got in between, the lookup is done again. */
#include <linux/fs.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fs/file.h"
#include "fs/fsnotify.h"
#include "fs/vfs_ops.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/mm.h"
#include "mm/uaccess.h"

static bool dead_dir(const struct dentry *d)
{
	return !d->hashed && d->parent; /* removed (roots are never hashed) */
}

/* Lock vfs_lock with the current positive dentry of name in dir (counted)
 * or NULL if there is none; or return -errno unlocked. */
static int lock_child(struct dentry *dir, const char *name, struct dentry **out)
{
	for (int tries = 0; tries < 100; tries++) {
		struct dentry *c = NULL;
		int err = vfs_lookup_one(dir, name, &c);
		if (err && err != -ENOENT)
			return err;
		pthread_mutex_lock(&vfs_lock);
		struct dentry *now = d_find_locked(dir, name);
		if (now && !now->inode)
			now = NULL;
		if (now == c) {
			*out = c;
			return 0;
		}
		pthread_mutex_unlock(&vfs_lock);
		dput(c);
	}
	return -EAGAIN;
}

static void unlock_child(struct dentry *c)
{
	pthread_mutex_unlock(&vfs_lock);
	dput(c);
}

/* Linux's may_create(): on a live directory we may write and search. */
static int may_create(struct dentry *dir)
{
	if (dead_dir(dir))
		return -ENOENT;
	return inode_permission(dir->inode, MAY_WRITE | MAY_EXEC);
}

/* Linux's may_delete(): c is the victim in dir. */
static int may_delete(struct dentry *dir, struct dentry *c, bool isdir)
{
	struct inode *di = dir->inode, *i = c->inode;
	int err = inode_permission(di, MAY_WRITE | MAY_EXEC);
	if (err)
		return err;
	if ((di->mode & S_ISVTX) && cur_fsuid() != i->uid && cur_fsuid() != di->uid &&
	    !capable_fowner())
		return -EPERM;
	if (isdir && !S_ISDIR(i->mode))
		return -ENOTDIR;
	if (!isdir && S_ISDIR(i->mode))
		return -EISDIR;
	if (c->mounted)
		return -EBUSY;
	return 0;
}

/* An empty directory has only "." and "..". */
struct emptiness {
	struct dir_ctx ctx;
	bool empty;
};

static int see(struct dir_ctx *c, const char *name, size_t len, uint64_t ino, unsigned type)
{
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		return 0;
	((struct emptiness *)c)->empty = false;
	return 1;
}

/* vfs_lock held: memfs iterates with it, so drop it around. */
static int dir_empty_locked(struct dentry *d)
{
	struct inode *i = d->inode;
	if (!i->sb->pins)
		return 0; /* the host checks itself */
	struct emptiness e = { { see }, true };
	pthread_mutex_unlock(&vfs_lock);
	int err = i->ops->iterate(i, d, &e.ctx);
	pthread_mutex_lock(&vfs_lock);
	if (err)
		return err;
	/* A name made while the lock was dropped (the lower layer does not
	 * change, so the cache holds anything new). */
	d_for_each_child(c, d)
		if (c->inode)
			e.empty = false;
	return e.empty ? 0 : -ENOTEMPTY;
}

/* ---- creating -------------------------------------------------------------- */

int vfs_create(struct path *dir, const char *name, mode_t mode, dev_t rdev, const char *target,
	       bool slash, struct dentry **out)
{
	struct dentry *c;
	struct inode *di = dir->dentry->inode;
	int err = lock_child(dir->dentry, name, &c);
	if (err)
		return err;
	if (c)
		err = -EEXIST;
	else if (slash && !S_ISDIR(mode))
		err = -ENOENT; /* "new/" names only a directory */
	else if (mnt_readonly(dir->mnt))
		err = -EROFS;
	else if (!di->ops->create)
		err = -ENOENT; /* /proc: the lookup itself fails there */
	else
		err = may_create(dir->dentry);
	if (!err && (S_ISCHR(mode) || S_ISBLK(mode)) && cur_fsuid() != 0)
		err = -EPERM; /* CAP_MKNOD */
	struct inode *i = NULL;
	struct dentry *d = NULL;
	if (!err)
		err = di->ops->create(di, name, mode, rdev, target, &i);
	if (!err) {
		if (!(d = d_add_locked(dir->dentry, name, i)))
			err = -ENOMEM;
		else
			d_pin_locked(d);
		d_pin_locked(dir->dentry);
		fsnotify_create_locked(dir->dentry, d);
	}
	unlock_child(c);
	if (out)
		*out = d;
	else
		dput(d);
	return err;
}

static long create_at(int dirfd, gaddr_t upath, mode_t mode, dev_t rdev, const char *target)
{
	struct walk_result r;
	struct file *f;
	long err = user_walk(dirfd, upath, EMPTY_NO, WALK_PARENT, &r, &f);
	if (err)
		return err;
	if (r.type != LAST_NORM)
		err = -EEXIST;
	else
		err = vfs_create(&r.dir, r.last, mode, rdev, target, r.slash, NULL);
	walk_done(&r);
	return err;
}

static mode_t umasked(mode_t mode)
{
	mode_t mask = cur_umask();
	return mode & ~mask;
}

long sys_mkdir(const struct sysargs *a)
{
	return create_at(AT_FDCWD, a->a[0], S_IFDIR | umasked(a->a[1] & 01777), 0, NULL);
}

long sys_mkdirat(const struct sysargs *a)
{
	return create_at(a->a[0], a->a[1], S_IFDIR | umasked(a->a[2] & 01777), 0, NULL);
}

static long do_mknod(int dirfd, gaddr_t upath, mode_t mode, unsigned dev)
{
	switch (mode & S_IFMT) {
	case 0: mode |= S_IFREG; break;
	case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK: break;
	case S_IFDIR: return -EPERM;
	default: return -EINVAL;
	}
	/* Linux's new_decode_dev(). */
	dev_t rdev = makedev((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
	return create_at(dirfd, upath, (mode & S_IFMT) | umasked(mode & 07777),
			 (S_ISCHR(mode) || S_ISBLK(mode)) ? rdev : 0, NULL);
}

long sys_mknod(const struct sysargs *a) { return do_mknod(AT_FDCWD, a->a[0], a->a[1], a->a[2]); }
long sys_mknodat(const struct sysargs *a) { return do_mknod(a->a[0], a->a[1], a->a[2], a->a[3]); }

static long do_symlink(gaddr_t utarget, int dirfd, gaddr_t upath)
{
	char target[PATH_MAX];
	long n = path_from_guest(target, utarget);
	if (n <= 0)
		return n ? n : -ENOENT;
	return create_at(dirfd, upath, S_IFLNK | 0777, 0, target);
}

long sys_symlink(const struct sysargs *a) { return do_symlink(a->a[0], AT_FDCWD, a->a[1]); }
long sys_symlinkat(const struct sysargs *a) { return do_symlink(a->a[0], a->a[1], a->a[2]); }

/* ---- link -------------------------------------------------------------------- */

/* Linux's may_linkat() with fs.protected_hardlinks = 1. */
static int may_link(struct inode *i)
{
	if (inode_owner_or_capable(i))
		return 0;
	if (S_ISREG(i->mode) && !(i->mode & S_ISUID) &&
	    !((i->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) &&
	    !inode_permission(i, MAY_READ | MAY_WRITE))
		return 0;
	return -EPERM;
}

int vfs_link(struct path *old, struct path *dir, const char *name, bool slash)
{
	struct inode *i = old->dentry->inode, *di = dir->dentry->inode;
	struct dentry *c;
	int err = lock_child(dir->dentry, name, &c);
	if (err)
		return err;
	if (c)
		err = -EEXIST;
	else if (slash)
		err = -ENOENT;
	else if (mnt_readonly(dir->mnt))
		err = -EROFS;
	else if (old->mnt != dir->mnt)
		err = -EXDEV;
	else if (!(err = may_link(i)) && !(err = may_create(dir->dentry))) {
		if (!di->ops->link)
			err = -EPERM;
		else if (S_ISDIR(i->mode))
			err = -EPERM;
		else if (!old->dentry->hashed && old->dentry->parent)
			err = -ENOENT; /* unlinked meanwhile */
		else
			err = di->ops->link(di, name, i);
	}
	struct dentry *d = NULL;
	if (!err) {
		if (!(d = d_add_locked(dir->dentry, name, iget(i))))
			err = -ENOMEM;
		else
			d_pin_locked(d);
		d_pin_locked(dir->dentry);
		d_pin_locked(old->dentry);
		fsnotify_link_locked(dir->dentry, d);
	}
	unlock_child(c);
	dput(d);
	return err;
}

static long do_link(int olddir, gaddr_t old, int newdir, gaddr_t new, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct walk_result ro, rn;
	struct file *f, *nf;
	struct path op;
	if ((flags & AT_EMPTY_PATH) && cur_fsuid() != 0)
		flags &= ~AT_EMPTY_PATH; /* needs CAP_DAC_READ_SEARCH: then "" is ENOENT */
	long err = user_walk(olddir, old, (flags & AT_EMPTY_PATH) ? EMPTY_OK : EMPTY_NO,
			     (flags & AT_SYMLINK_FOLLOW) ? WALK_FOLLOW : 0, &ro, &f);
	if (err)
		return err;
	if (f) {
		if (!f->dentry)
			err = -ENOENT;
		op = (struct path){ f->mnt, f->dentry };
	} else {
		op = ro.path;
	}
	if (!err && !(err = user_walk(newdir, new, EMPTY_NO, WALK_PARENT, &rn, &nf))) {
		err = rn.type != LAST_NORM ? -EEXIST : vfs_link(&op, &rn.dir, rn.last, rn.slash);
		walk_done(&rn);
	}
	if (f)
		fput(f);
	else
		walk_done(&ro);
	return err;
}

long sys_link(const struct sysargs *a) { return do_link(AT_FDCWD, a->a[0], AT_FDCWD, a->a[1], 0); }
long sys_linkat(const struct sysargs *a) { return do_link(a->a[0], a->a[1], a->a[2], a->a[3], a->a[4]); }

/* ---- unlink and rmdir -------------------------------------------------------- */

int vfs_unlink(struct path *dir, const char *name, bool isdir, bool slash)
{
	struct inode *di = dir->dentry->inode;
	struct dentry *c;
	int err = lock_child(dir->dentry, name, &c);
	if (err)
		return err;
	if (!c)
		err = -ENOENT;
	else if (slash && !isdir)
		err = S_ISDIR(c->inode->mode) ? -EISDIR : -ENOTDIR;
	else if (mnt_readonly(dir->mnt))
		err = -EROFS;
	else if (!(err = may_delete(dir->dentry, c, isdir))) {
		if (isdir && c->inode->sb != di->sb)
			err = -EBUSY;
		else if (!di->ops->unlink)
			err = -EPERM;
		else if (isdir && (err = dir_empty_locked(c)))
			;
		else if (!c->hashed)
			err = -ENOENT; /* lost a race while the lock was dropped */
		else
			err = di->ops->unlink(di, name, c->inode, isdir);
	}
	struct dentry *w = NULL;
	if (err >= 0 && c) {
		fsnotify_unlink_locked(dir->dentry, name, c);
		if (isdir)
			d_prune_negative_locked(c);
		d_drop_locked(c);
		if (err > 0 && !(w = d_add_locked(dir->dentry, name, NULL)))
			err = -ENOMEM;
		else
			err = 0;
		if (w)
			d_pin_locked(w);
		d_pin_locked(dir->dentry);
	}
	unlock_child(c);
	dput(w);
	return err;
}

static long do_unlink(int dirfd, gaddr_t upath, bool isdir)
{
	struct walk_result r;
	struct file *f;
	long err = user_walk(dirfd, upath, EMPTY_NO, WALK_PARENT, &r, &f);
	if (err)
		return err;
	if (r.type != LAST_NORM) {
		if (!isdir)
			err = -EISDIR;
		else
			err = r.type == LAST_DOTDOT ? -ENOTEMPTY : r.type == LAST_DOT ? -EINVAL : -EBUSY;
	} else if (mnt_readonly(r.dir.mnt) && !r.slash) {
		/* Linux refuses on a read-only mount before the lookup. */
		err = -EROFS;
	} else {
		err = vfs_unlink(&r.dir, r.last, isdir, r.slash);
	}
	walk_done(&r);
	return err;
}

long sys_unlink(const struct sysargs *a) { return do_unlink(AT_FDCWD, a->a[0], false); }
long sys_rmdir(const struct sysargs *a) { return do_unlink(AT_FDCWD, a->a[0], true); }

long sys_unlinkat(const struct sysargs *a)
{
	int flags = a->a[2];
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	return do_unlink(a->a[0], a->a[1], flags & AT_REMOVEDIR);
}

/* ---- rename ---------------------------------------------------------------- */

int vfs_rename(struct walk_result *ro, struct walk_result *rn, unsigned flags)
{
	struct dentry *odir = ro->dir.dentry, *ndir = rn->dir.dentry;
	struct inode *odi = odir->inode, *ndi = ndir->inode;
	struct dentry *c, *t = NULL, *w = NULL;
	if (ro->dir.mnt != rn->dir.mnt)
		return -EXDEV;
	int err = lock_child(odir, ro->last, &c);
	if (err)
		return err;
	pthread_mutex_unlock(&vfs_lock);
	/* The target, looked up after the source: both then under the lock. */
	if (c) {
		err = vfs_lookup_one(ndir, rn->last, &t);
		if (err == -ENOENT)
			err = 0;
	}
	pthread_mutex_lock(&vfs_lock);
	if (err)
		goto out;
	if (!c || !c->hashed || c->parent != odir) {
		err = !c ? -ENOENT : -EAGAIN;
		goto out;
	}
	struct dentry *now = d_find_locked(ndir, rn->last);
	if (now && !now->inode)
		now = NULL;
	if (now != t) {
		err = -EAGAIN;
		goto out;
	}
	struct inode *i = c->inode, *ti = t ? t->inode : NULL;
	bool isdir = S_ISDIR(i->mode);
	if ((flags & RENAME_NOREPLACE) && t) {
		err = -EEXIST;
		goto out;
	}
	if ((flags & RENAME_EXCHANGE) && !t) {
		err = -ENOENT;
		goto out;
	}
	if (!(flags & RENAME_EXCHANGE) && !isdir && (ro->slash || rn->slash)) {
		err = -ENOTDIR;
		goto out;
	}
	if (mnt_readonly(ro->dir.mnt)) {
		err = -EROFS;
		goto out;
	}
	/* The source must not be an ancestor of the target, nor the
	 * target of the source. */
	if (d_ancestor_locked(c, ndir)) {
		err = -EINVAL;
		goto out;
	}
	if (t && d_ancestor_locked(t, odir)) {
		err = (flags & RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
		goto out;
	}
	if (ti == i) /* two names of one file: nothing to do */
		goto out;
	if ((err = may_delete(odir, c, isdir)))
		goto out;
	if (t)
		err = may_delete(ndir, t, (flags & RENAME_EXCHANGE) ? S_ISDIR(ti->mode) : isdir);
	else
		err = may_create(ndir);
	if (err)
		goto out;
	/* Moving a directory rewrites its ".." entry. */
	if (odir != ndir && ((isdir && (err = inode_permission(i, MAY_WRITE))) ||
	    ((flags & RENAME_EXCHANGE) && S_ISDIR(ti->mode) && (err = inode_permission(ti, MAY_WRITE)))))
		goto out;
	if (c->mounted || (t && t->mounted)) {
		err = -EBUSY;
		goto out;
	}
	if (!odi->ops->rename) {
		err = -EPERM;
		goto out;
	}
	if (t && S_ISDIR(ti->mode) && !(flags & RENAME_EXCHANGE) && (err = dir_empty_locked(t)))
		goto out;
	if (!c->hashed || (t && !t->hashed)) {
		err = -EAGAIN;
		goto out;
	}
	err = odi->ops->rename(odi, ro->last, ndi, rn->last, i, ti, flags);
	if (err < 0)
		goto out;
	bool whiteout = err > 0;
	err = 0;
	if (flags & RENAME_EXCHANGE) {
		d_exchange_locked(c, t);
	} else {
		if (t && S_ISDIR(ti->mode))
			d_prune_negative_locked(t);
		if (t)
			d_drop_locked(t);
		if ((err = d_move_locked(c, ndir, rn->last)))
			goto out;
		if (whiteout && !(w = d_add_locked(odir, ro->last, NULL)))
			err = -ENOMEM;
		if (w)
			d_pin_locked(w);
	}
	d_pin_locked(odir);
	d_pin_locked(ndir);
	fsnotify_rename_locked(odir, ro->last, c, t, flags & RENAME_EXCHANGE);
out:
	pthread_mutex_unlock(&vfs_lock);
	dput(c);
	dput(t);
	dput(w);
	return err;
}

static long do_rename(int olddir, gaddr_t old, int newdir, gaddr_t new, unsigned flags)
{
	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) ||
	    ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE)))
		return -EINVAL;
	if ((flags & RENAME_WHITEOUT) && cur_fsuid() != 0)
		return -EPERM;
	struct walk_result ro, rn;
	struct file *f;
	long err = user_walk(olddir, old, EMPTY_NO, WALK_PARENT, &ro, &f);
	if (err)
		return err;
	if (!(err = user_walk(newdir, new, EMPTY_NO, WALK_PARENT, &rn, &f))) {
		if (ro.dir.mnt != rn.dir.mnt)
			err = -EXDEV;
		else if (ro.type != LAST_NORM)
			err = -EBUSY;
		else if (rn.type != LAST_NORM)
			err = (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
		else if (flags & RENAME_WHITEOUT)
			err = -EINVAL; /* only overlayfs itself uses it */
		else
			do
				err = vfs_rename(&ro, &rn, flags);
			while (err == -EAGAIN);
		walk_done(&rn);
	}
	walk_done(&ro);
	return err;
}

long sys_rename(const struct sysargs *a) { return do_rename(AT_FDCWD, a->a[0], AT_FDCWD, a->a[1], 0); }
long sys_renameat(const struct sysargs *a) { return do_rename(a->a[0], a->a[1], a->a[2], a->a[3], 0); }
long sys_renameat2(const struct sysargs *a) { return do_rename(a->a[0], a->a[1], a->a[2], a->a[3], a->a[4]); }

/* ---- attributes ---------------------------------------------------------------- */

int vfs_setattr(struct path *p, struct iattr *a)
{
	struct inode *i = p->dentry->inode;
	if (!i->ops->setattr)
		return -EPERM;
	pthread_mutex_lock(&vfs_lock);
	int err = i->ops->setattr(i, a);
	bool unmap = err == SETATTR_UNMAP_PAST_SIZE;
	if (unmap)
		err = 0;
	if (!err)
		d_pin_locked(p->dentry);
	pthread_mutex_unlock(&vfs_lock);
	/* Mappings hold their own references to the pages meanwhile. */
	if (unmap)
		mm_file_shrunk(i, (uint64_t)a->size);
	if (!err)
		fsnotify_change(p->dentry, a->valid);
	return err;
}

/* The object of a path or fd call, counted: a walk's result or a file's. */
struct target {
	struct walk_result r;
	struct file *f;
	struct path p;
};

static int target_get(struct target *t, int dirfd, gaddr_t upath, int empty, int wflags)
{
	int err = user_walk(dirfd, upath, empty, wflags, &t->r, &t->f);
	if (err)
		return err;
	if (t->f) {
		if (!t->f->dentry) { /* the host's stdio, pipes...: no inode here */
			fput(t->f);
			return -EOPNOTSUPP;
		}
		t->p = (struct path){ t->f->mnt, t->f->dentry };
	} else {
		t->p = t->r.path;
	}
	return 0;
}

static void target_put(struct target *t)
{
	if (t->f)
		fput(t->f);
	else
		walk_done(&t->r);
}

static int fd_target(struct target *t, int fd)
{
	memset(t, 0, sizeof(*t));
	if (!(t->f = fget(fd)))
		return -EBADF;
	if (!t->f->dentry) {
		fput(t->f);
		return -EOPNOTSUPP;
	}
	t->p = (struct path){ t->f->mnt, t->f->dentry };
	return 0;
}

static long chmod_target(struct target *t, mode_t mode)
{
	struct inode *i = t->p.dentry->inode;
	long err;
	if (mnt_readonly(t->p.mnt))
		err = -EROFS;
	else if (!inode_owner_or_capable(i))
		err = -EPERM;
	else {
		struct iattr a = { .valid = ATTR_MODE, .mode = mode & 07777 };
		if (!in_group(i->gid) && !capable_fowner())
			a.mode &= ~S_ISGID;
		err = S_ISLNK(i->mode) ? -EOPNOTSUPP : vfs_setattr(&t->p, &a);
	}
	target_put(t);
	return err;
}

static long do_chmod(int dirfd, gaddr_t upath, mode_t mode, int flags)
{
	struct target t;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	long err = target_get(&t, dirfd, upath, (flags & AT_EMPTY_PATH) ? EMPTY_OK : EMPTY_NO,
			      (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW);
	return err ? err : chmod_target(&t, mode);
}

long sys_chmod(const struct sysargs *a) { return do_chmod(AT_FDCWD, a->a[0], a->a[1], 0); }
long sys_fchmodat(const struct sysargs *a) { return do_chmod(a->a[0], a->a[1], a->a[2], 0); }

long sys_fchmod(const struct sysargs *a)
{
	struct target t;
	long err = fd_target(&t, a->a[0]);
	return err ? err : chmod_target(&t, a->a[1]);
}

static long chown_target(struct target *t, uid_t uid, gid_t gid)
{
	struct inode *i = t->p.dentry->inode;
	struct iattr a = { 0 };
	long err = 0;
	if (uid != (uid_t)-1) {
		a.valid |= ATTR_UID;
		a.uid = uid;
	}
	if (gid != (gid_t)-1) {
		a.valid |= ATTR_GID;
		a.gid = gid;
	}
	bool root = cur_fsuid() == 0;
	if (mnt_readonly(t->p.mnt))
		err = -EROFS;
	else if ((a.valid & ATTR_UID) && uid != i->uid && !root)
		err = -EPERM; /* CAP_CHOWN */
	else if ((a.valid & ATTR_GID) && gid != i->gid && !root &&
		 (cur_fsuid() != i->uid || !in_group(gid)))
		err = -EPERM;
	else if ((a.valid & (ATTR_UID | ATTR_GID)) && !root && cur_fsuid() != i->uid)
		err = -EPERM;
	if (!err && !S_ISDIR(i->mode) && a.valid) {
		/* Changing owners drops set-user-id, and set-group-id where it
		 * means "run as the group" (group execute set). */
		mode_t m = i->mode & 07777, nm = m & ~S_ISUID;
		if ((m & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
			nm &= ~S_ISGID;
		if (nm != m && !S_ISLNK(i->mode)) {
			a.valid |= ATTR_MODE;
			a.mode = nm;
		}
	}
	if (!err)
		err = vfs_setattr(&t->p, &a);
	target_put(t);
	return err;
}

static long do_chown(int dirfd, gaddr_t upath, uid_t uid, gid_t gid, int flags)
{
	struct target t;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	long err = target_get(&t, dirfd, upath, (flags & AT_EMPTY_PATH) ? EMPTY_OK : EMPTY_NO,
			      (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW);
	return err ? err : chown_target(&t, uid, gid);
}

long sys_chown(const struct sysargs *a) { return do_chown(AT_FDCWD, a->a[0], a->a[1], a->a[2], 0); }
long sys_lchown(const struct sysargs *a)
{
	return do_chown(AT_FDCWD, a->a[0], a->a[1], a->a[2], AT_SYMLINK_NOFOLLOW);
}
long sys_fchownat(const struct sysargs *a) { return do_chown(a->a[0], a->a[1], a->a[2], a->a[3], a->a[4]); }

long sys_fchown(const struct sysargs *a)
{
	struct target t;
	long err = fd_target(&t, a->a[0]);
	return err ? err : chown_target(&t, a->a[1], a->a[2]);
}

/* utimensat's rules: setting both to now needs ownership or write
 * permission; anything else ownership. */
static long utimes_target(struct target *t, const struct timespec *ts)
{
	struct inode *i = t->p.dentry->inode;
	struct iattr a = { .valid = ATTR_ATIME | ATTR_MTIME };
	struct timespec now;
	time_now(&now);
	a.atime = a.mtime = now;
	bool all_now = true;
	if (ts) {
		if (ts[0].tv_nsec == UTIME_OMIT)
			a.valid &= ~ATTR_ATIME;
		else if (ts[0].tv_nsec != UTIME_NOW)
			a.atime = ts[0];
		if (ts[1].tv_nsec == UTIME_OMIT)
			a.valid &= ~ATTR_MTIME;
		else if (ts[1].tv_nsec != UTIME_NOW)
			a.mtime = ts[1];
		all_now = (ts[0].tv_nsec == UTIME_NOW || ts[0].tv_nsec == UTIME_OMIT) &&
			  (ts[1].tv_nsec == UTIME_NOW || ts[1].tv_nsec == UTIME_OMIT);
	}
	long err = 0;
	if (mnt_readonly(t->p.mnt))
		err = -EROFS;
	else if (!inode_owner_or_capable(i))
		err = all_now ? (inode_permission(i, MAY_WRITE) ? -EACCES : 0) : -EPERM;
	if (!err)
		err = vfs_setattr(&t->p, &a);
	target_put(t);
	return err;
}

long sys_utimensat(const struct sysargs *a)
{
	int dirfd = a->a[0], flags = a->a[3];
	struct timespec ts[2];
	if (a->a[2]) {
		if (copy_from_guest(ts, a->a[2], sizeof(ts)))
			return -EFAULT;
		if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
			return 0; /* nothing to do: Linux does not even look the path up */
		for (int i = 0; i < 2; i++)
			if ((ts[i].tv_nsec < 0 || ts[i].tv_nsec > 999999999) &&
			    ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT)
				return -EINVAL;
	}
	struct target t;
	long err;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (!a->a[1] && dirfd != AT_FDCWD) /* futimens() */
		err = fd_target(&t, dirfd);
	else
		err = target_get(&t, dirfd, a->a[1], (flags & AT_EMPTY_PATH) ? EMPTY_OK : EMPTY_NO,
				 (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW);
	return err ? err : utimes_target(&t, a->a[2] ? ts : NULL);
}

/* utime and utimes: times in seconds (and microseconds). */
long sys_utime(const struct sysargs *a)
{
	struct { int64_t actime, modtime; } u;
	struct timespec ts[2];
	if (a->a[1]) {
		if (copy_from_guest(&u, a->a[1], sizeof(u)))
			return -EFAULT;
		ts[0] = (struct timespec){ u.actime, 0 };
		ts[1] = (struct timespec){ u.modtime, 0 };
	}
	struct target t;
	long err = target_get(&t, AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW);
	return err ? err : utimes_target(&t, a->a[1] ? ts : NULL);
}

long sys_utimes(const struct sysargs *a)
{
	struct timeval tv[2];
	struct timespec ts[2];
	if (a->a[1]) {
		if (copy_from_guest(tv, a->a[1], sizeof(tv)))
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				return -EINVAL;
			ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
		}
	}
	struct target t;
	long err = target_get(&t, AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW);
	return err ? err : utimes_target(&t, a->a[1] ? ts : NULL);
}

/* A length past the file's end and RLIMIT_FSIZE: EFBIG (fsize_check_grow). */
static int truncate_limit(struct inode *i, off_t len)
{
	struct statx x;
	if (!fsize_exceeds((uint64_t)len) || !i || inode_getattr(i, &x) || (uint64_t)len <= x.stx_size)
		return 0;
	return fsize_check_grow((uint64_t)len);
}

int vfs_truncate(struct path *p, off_t len)
{
	int err = truncate_limit(p->dentry->inode, len);
	if (err)
		return err;
	struct iattr a = { .valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME, .size = len };
	time_now(&a.mtime);
	return vfs_setattr(p, &a);
}

long sys_truncate(const struct sysargs *a)
{
	struct walk_result r;
	struct file *f;
	if ((int64_t)a->a[1] < 0)
		return -EINVAL;
	long err = user_walk(AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW, &r, &f);
	if (err)
		return err;
	struct inode *i = walk_inode(&r);
	if (S_ISDIR(i->mode))
		err = -EISDIR;
	else if (!S_ISREG(i->mode))
		err = -EINVAL;
	else if (mnt_readonly(r.path.mnt))
		err = -EROFS;
	else if (!(err = inode_permission(i, MAY_WRITE)) && !(err = inode_get_write_access(i))) {
		err = vfs_truncate(&r.path, a->a[1]);
		inode_put_write_access(i);
	}
	walk_done(&r);
	return err;
}

long sys_ftruncate(const struct sysargs *a)
{
	int64_t len = a->a[1];
	if (len < 0)
		return -EINVAL;
	struct file *f = fget(a->a[0]);
	if (!f)
		return -EBADF;
	int acc = f->flags & O_ACCMODE;
	long err = -EINVAL;
	if (!S_ISREG(f->type) || (acc != O_WRONLY && acc != O_RDWR))
		err = -EINVAL;
	else if (f->dentry)
		err = vfs_truncate(&(struct path){ f->mnt, f->dentry }, len);
	else if (f->hostfd >= 0) /* the host's stdio: the host's business */
		err = ftruncate(f->hostfd, len) < 0 ? -errno : 0;
	fput(f);
	return err;
}
