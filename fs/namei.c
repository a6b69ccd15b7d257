/* Path lookup (see walk.h) and permission checks.
 *
 * The walker holds a reference on its current (mount, dentry). ".." is
 * decided on the dentry tree: at the walk's root it stays; at a mount's
 * root it first crosses to the mountpoint. A symlink's target is spliced
 * into the rest of the path; absolute targets restart at the root. */
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include "kernel/proc_ext.h"
#include "fs/walk.h"
#include "kernel/task.h"

/* ---- credentials and permissions ---------------------------------------- */

/* access(2) without AT_EACCESS checks with the real ids, and with the
 * permitted capabilities if the real uid is root, none otherwise
 * (Linux's access_override_creds): set around its checks. */
static __thread const struct access_creds *access_creds;

void fs_access_creds_begin(struct access_creds *c)
{
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	c->uid = p->ruid;
	c->gid = p->rgid;
	c->caps = p->ruid == 0 ? p->ext.caps.prm : 0;
	pthread_mutex_unlock(&p->lock);
	access_creds = c;
}

void fs_access_creds_end(void)
{
	access_creds = NULL;
}

uid_t cur_fsuid(void)
{
	if (fs_setting_up())
		return 0;
	if (access_creds)
		return access_creds->uid;
	return current ? current->proc->fsuid : getuid();
}

gid_t cur_fsgid(void)
{
	if (fs_setting_up())
		return 0;
	if (access_creds)
		return access_creds->gid;
	return current ? current->proc->fsgid : getgid();
}

bool in_group(gid_t g)
{
	if (fs_setting_up())
		return g == cur_fsgid();
	if (!current) { /* the kernel's own lookups: the invoking user's groups */
		if (g == cur_fsgid())
			return true;
		gid_t groups[256];
		int n = getgroups(256, groups);
		for (int k = 0; k < n; k++)
			if (groups[k] == g)
				return true;
		return false;
	}
	if (access_creds)
		return g == access_creds->gid || in_supplementary_groups(g);
	return in_group_p(g);
}

/* A capability for file-system checks (the sandbox's root while the
 * mounts are built; for the kernel's own lookups, the invoking user's
 * being root). */
static bool fs_capable(int cap)
{
	if (fs_setting_up())
		return true;
	if (!current)
		return getuid() == 0;
	if (access_creds)
		return (access_creds->caps >> cap) & 1;
	return capable(cap);
}

bool capable_fowner(void)
{
	return fs_capable(CAP_FOWNER);
}

bool inode_owner_or_capable(struct inode *i)
{
	return cur_fsuid() == i->uid || capable_fowner();
}

/* Linux's generic_permission(): the owner's, group's or others' bits;
 * then CAP_DAC_READ_SEARCH (reading, searching a directory) and
 * CAP_DAC_OVERRIDE (anything but executing a file without an x bit). */
int inode_permission(struct inode *i, int mask)
{
	mode_t m = i->mode;
	mode_t bits;
	if (cur_fsuid() == i->uid)
		bits = m >> 6;
	else if (in_group(i->gid))
		bits = m >> 3;
	else
		bits = m;
	if (!(mask & ~bits & 7))
		return 0;
	if (S_ISDIR(m)) {
		if (!(mask & MAY_WRITE) && fs_capable(CAP_DAC_READ_SEARCH))
			return 0;
		return fs_capable(CAP_DAC_OVERRIDE) ? 0 : -EACCES;
	}
	if ((mask & 7) == MAY_READ && fs_capable(CAP_DAC_READ_SEARCH))
		return 0;
	if ((!(mask & MAY_EXEC) || (m & 0111)) && fs_capable(CAP_DAC_OVERRIDE))
		return 0;
	return -EACCES;
}

/* ---- the walk -------------------------------------------------------------- */

struct walker {
	int flags;
	struct path root;   /* where "/" and ".." stop (not counted) */
	struct path cur;    /* counted */
	struct mount *xdev; /* WALK_NO_XDEV: the only mount allowed */
	int links;
	char rem[2 * PATH_MAX];
};

static void set_cur(struct walker *w, struct path p)
{
	path_put(&w->cur);
	w->cur = p;
}

static int check_xdev(struct walker *w)
{
	return (w->flags & WALK_NO_XDEV) && w->cur.mnt != w->xdev ? -EXDEV : 0;
}

/* Go down through whatever is mounted on w->cur. */
static int follow_mounts(struct walker *w)
{
	for (;;) {
		pthread_mutex_lock(&vfs_lock);
		struct mount *m = mount_on_locked(w->cur.mnt, w->cur.dentry);
		struct dentry *root = m ? dget(m->root) : NULL;
		pthread_mutex_unlock(&vfs_lock);
		if (!m)
			return check_xdev(w);
		set_cur(w, (struct path){ m, root });
	}
}

static int jump_root(struct walker *w)
{
	if (w->flags & WALK_BENEATH)
		return -EXDEV;
	set_cur(w, path_get(w->root));
	return check_xdev(w);
}

static bool is_under(const struct path *p, const struct path *root)
{
	bool under = false;
	pthread_mutex_lock(&vfs_lock);
	struct mount *m = p->mnt;
	struct dentry *d = p->dentry;
	for (;;) {
		if (m == root->mnt && d == root->dentry) {
			under = true;
			break;
		}
		if (d == m->root) {
			if (!m->parent)
				break;
			d = m->mountpoint;
			m = m->parent;
		} else if (d->parent) {
			d = d->parent;
		} else {
			break;
		}
	}
	pthread_mutex_unlock(&vfs_lock);
	return under;
}

static int dotdot(struct walker *w)
{
	if (path_equal(&w->cur, &w->root))
		return (w->flags & WALK_BENEATH) ? -EXDEV : 0;
	pthread_mutex_lock(&vfs_lock);
	struct mount *m = w->cur.mnt;
	struct dentry *d = w->cur.dentry;
	while (d == m->root && m->parent) {
		if (m == w->root.mnt && d == w->root.dentry)
			break;
		d = m->mountpoint;
		m = m->parent;
	}
	if (!(m == w->root.mnt && d == w->root.dentry) && d->parent && d != m->root)
		d = d->parent;
	dget(d);
	pthread_mutex_unlock(&vfs_lock);
	set_cur(w, (struct path){ m, d });
	int err = follow_mounts(w);
	if (err)
		return err;
	/* A rename may have moved us out from under a scoped root. */
	if ((w->flags & (WALK_BENEATH | WALK_IN_ROOT)) && !is_under(&w->cur, &w->root))
		return -EXDEV;
	return 0;
}

/* A name missing from a stable directory stays missing until the VFS
 * itself makes it: a negative dentry answers the next lookup without
 * asking the file system (cc1 looks for each header in every include
 * directory). Unpinned, it lives in the unused-dentry cache like a
 * positive one; a create or rename replaces it, and it hides nothing in
 * a listing, since the name is not below. */
static void remember_missing(struct dentry *dir, const char *name)
{
	struct dentry *neg = NULL;
	pthread_mutex_lock(&vfs_lock);
	if (!d_find_locked(dir, name) && (dir->hashed || !dir->parent))
		neg = d_add_locked(dir, name, NULL);
	pthread_mutex_unlock(&vfs_lock);
	dput(neg);
}

int vfs_lookup_one(struct dentry *dir, const char *name, struct dentry **out)
{
	struct inode *di = dir->inode;
	pthread_mutex_lock(&vfs_lock);
	struct dentry *c = d_lookup_locked(dir, name);
	pthread_mutex_unlock(&vfs_lock);
	if (c && c->inode && c->inode->ops->revalidate && !c->inode->ops->revalidate(c->inode)) {
		pthread_mutex_lock(&vfs_lock);
		if (c->hashed)
			d_drop_locked(c);
		pthread_mutex_unlock(&vfs_lock);
		dput(c);
		c = NULL;
	}
	if (!c) {
		struct inode *i;
		if (!di->ops->lookup)
			return -ENOENT;
		int err = di->ops->lookup(di, name, &i);
		if (err == -ENOENT && di->stable)
			remember_missing(dir, name);
		if (err)
			return err;
		pthread_mutex_lock(&vfs_lock);
		c = d_lookup_locked(dir, name); /* someone was faster */
		if (c)
			iput(i);
		else if (!dir->hashed && dir->parent)
			err = -ENOENT; /* the directory was removed meanwhile */
		else if (!(c = d_add_locked(dir, name, i)))
			err = -ENOMEM;
		pthread_mutex_unlock(&vfs_lock);
		if (err) {
			if (!c)
				iput(i);
			return err;
		}
	}
	if (!c->inode) {
		dput(c);
		return -ENOENT;
	}
	*out = c;
	return 0;
}

/* Follow the symlink `link` found in w->cur; rest is what followed it. */
static int follow(struct walker *w, struct dentry *link, const char *rest)
{
	struct inode *i = link->inode;
	if (w->flags & WALK_NO_SYMLINKS)
		return -ELOOP;
	if (++w->links > MAXSYMLINKS)
		return -ELOOP;
	size_t restlen = strlen(rest);
	if (i->ops->get_link) {
		struct path p;
		if (w->flags & WALK_NO_MAGICLINKS)
			return -ELOOP;
		int err = i->ops->get_link(i, &p);
		if (err)
			return err;
		if (w->flags & (WALK_BENEATH | WALK_IN_ROOT)) {
			path_put(&p);
			return -EXDEV;
		}
		set_cur(w, p);
		memmove(w->rem, rest, restlen + 1);
		return check_xdev(w);
	}
	char target[PATH_MAX];
	int n = i->ops->readlink ? i->ops->readlink(i, target, sizeof(target)) : -EINVAL;
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	if ((size_t)n + restlen >= sizeof(w->rem))
		return -ENAMETOOLONG;
	memmove(w->rem + n, rest, restlen + 1);
	memcpy(w->rem, target, n);
	return target[0] == '/' ? jump_root(w) : 0;
}

int walk(const struct path *root, const struct path *start, const char *path, int flags,
	 struct walk_result *r)
{
	struct walker *w = &(struct walker){ .flags = flags };
	int err = 0;

	memset(r, 0, sizeof(*r) - sizeof(r->last));
	r->last[0] = '\0';
	r->type = LAST_ROOT;
	if (!*path)
		return -ENOENT;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(w->rem, path);
	bool scoped = flags & (WALK_BENEATH | WALK_IN_ROOT);
	w->root = scoped ? *start : *root;
	w->cur = path_get(*start);
	w->xdev = start->mnt;
	if (w->rem[0] == '/' && (err = jump_root(w)))
		goto fail;

	const char *p = w->rem;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break; /* only slashes left: the result is cur */
		const char *end = strchrnul(p, '/'), *next = end;
		size_t len = end - p;
		while (*next == '/')
			next++;
		bool last = !*next;
		r->slash = last && end != next;
		if (len > NAME_MAX) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		char name[NAME_MAX + 1];
		memcpy(name, p, len);
		name[len] = '\0';
		struct inode *di = w->cur.dentry->inode;
		if (!S_ISDIR(di->mode)) {
			err = -ENOTDIR;
			goto fail;
		}
		if ((err = inode_permission(di, MAY_EXEC)))
			goto fail;
		r->type = !strcmp(name, ".") ? LAST_DOT : !strcmp(name, "..") ? LAST_DOTDOT : LAST_NORM;
		if (last && (flags & WALK_PARENT)) {
			if (r->type == LAST_NORM)
				strcpy(r->last, name);
			r->dir = w->cur;
			w->cur = (struct path){ 0 };
			return 0;
		}
		if (r->type == LAST_DOT) {
			p = end;
			continue;
		}
		if (r->type == LAST_DOTDOT) {
			if ((err = dotdot(w)))
				goto fail;
			p = end;
			continue;
		}
		if (last && r->slash && (flags & WALK_CREATE)) {
			err = -EISDIR; /* O_CREAT of "name/": Linux looks no further */
			goto fail;
		}
		struct dentry *c;
		err = vfs_lookup_one(w->cur.dentry, name, &c);
		if (err == -ENOENT && last && (flags & WALK_CREATE)) {
			strcpy(r->last, name);
			r->dir = w->cur;
			w->cur = (struct path){ 0 };
			return 0;
		}
		if (err)
			goto fail;
		struct inode *ci = c->inode;
		if (S_ISLNK(ci->mode) && (!last || r->slash || (flags & WALK_FOLLOW))) {
			/* Mounts on a symlink are not followed into (Linux
			 * refuses to mount there). */
			err = follow(w, c, end);
			dput(c);
			if (err)
				goto fail;
			r->type = LAST_ROOT; /* until the target names something */
			p = w->rem;
			continue;
		}
		struct path parent = path_get(w->cur);
		set_cur(w, (struct path){ w->cur.mnt, c });
		if ((err = follow_mounts(w))) {
			path_put(&parent);
			goto fail;
		}
		ci = w->cur.dentry->inode;
		if ((!last || r->slash) && !S_ISDIR(ci->mode) && !S_ISLNK(ci->mode)) {
			path_put(&parent);
			err = -ENOTDIR;
			goto fail;
		}
		if (!last) {
			path_put(&parent);
			p = end;
			continue;
		}
		strcpy(r->last, name);
		r->path = w->cur;
		r->dir = parent;
		w->cur = (struct path){ 0 };
		goto out;
	}
	/* Ended on the root, ".", "..", or a magic link: the object is cur. */
	if (flags & WALK_PARENT) {
		r->dir = w->cur;
		w->cur = (struct path){ 0 };
		return 0;
	}
	r->path = w->cur;
	w->cur = (struct path){ 0 };
out:
	if ((flags & WALK_DIRECTORY) && r->path.dentry && !S_ISDIR(r->path.dentry->inode->mode)) {
		walk_done(r);
		return -ENOTDIR;
	}
	return 0;
fail:
	path_put(&w->cur);
	walk_done(r);
	return err;
}

void walk_done(struct walk_result *r)
{
	path_put(&r->path);
	path_put(&r->dir);
}
