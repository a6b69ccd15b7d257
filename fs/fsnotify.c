/* File-system events (fs/fsnotify.h): marks on inodes, and the hooks the
 * VFS calls, turned into inotify events with Linux's masks and order:
 * an event about a child goes to its directory's watches (with the name)
 * first, then to the child's own (without). */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include "fs/file.h"
#include "fs/fsnotify.h"
#include "fs/vfs.h"

pthread_mutex_t fsnotify_lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic long fsnotify_marks;
static struct fsnotify_mark *dead_marks; /* fsnotify_lock */
static _Atomic uint32_t next_cookie;

#define SELF_EVENTS (IN_DELETE_SELF | IN_MOVE_SELF)

static inline bool none(void)
{
	return atomic_load_explicit(&fsnotify_marks, memory_order_relaxed) == 0;
}

struct fsnotify_mark *fsnotify_find_mark(struct inode *i, struct inotify *g)
{
	for (struct fsnotify_mark *m = i->watches; m; m = m->next)
		if (m->group == g)
			return m;
	return NULL;
}

void fsnotify_add_mark(struct fsnotify_mark *m)
{
	m->next = m->inode->watches;
	m->inode->watches = m;
	atomic_fetch_add(&fsnotify_marks, 1);
}

void fsnotify_remove_mark(struct fsnotify_mark *m)
{
	for (struct fsnotify_mark **pp = &m->inode->watches; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	inotify_forget(m);
	inotify_queue(m->group, m->wd, IN_IGNORED, 0, NULL);
	m->next = dead_marks;
	dead_marks = m;
	atomic_fetch_sub(&fsnotify_marks, 1);
}

void fsnotify_reap(void)
{
	if (!__atomic_load_n(&dead_marks, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&fsnotify_lock);
	struct fsnotify_mark *m = dead_marks;
	dead_marks = NULL;
	pthread_mutex_unlock(&fsnotify_lock);
	while (m) {
		struct fsnotify_mark *next = m->next;
		dput(m->dentry);
		iput(m->inode);
		inotify_put(m->group);
		free(m);
		m = next;
	}
}

/* fsnotify_lock held: the event to every interested mark of i. */
static void send(struct inode *i, uint32_t mask, uint32_t cookie, const char *name, bool unlinked)
{
	uint32_t ev = mask & (IN_ALL_EVENTS | IN_IGNORED);
	struct fsnotify_mark *m = i->watches, *next;
	for (; m; m = next) {
		next = m->next;
		if (!(m->mask & ev))
			continue;
		if (name && unlinked && (m->mask & IN_EXCL_UNLINK))
			continue;
		inotify_queue(m->group, m->wd, mask, cookie, name);
		if (m->mask & IN_ONESHOT)
			fsnotify_remove_mark(m);
	}
}

static uint32_t isdir(const struct inode *i)
{
	return S_ISDIR(i->mode) ? IN_ISDIR : 0;
}

/* vfs_lock held: an event on d's object, to its directory (named) and
 * to itself. */
static void notify_dentry_locked(struct dentry *d, uint32_t mask)
{
	struct inode *i = d->inode;
	if (!i)
		return;
	mask |= isdir(i);
	pthread_mutex_lock(&fsnotify_lock);
	struct dentry *p = d->parent;
	if (p && p->inode && p->inode->watches)
		send(p->inode, mask, 0, d->name, !d->hashed);
	if (i->watches)
		send(i, mask, 0, NULL, false);
	pthread_mutex_unlock(&fsnotify_lock);
}

static void notify_dentry(struct dentry *d, uint32_t mask)
{
	fsnotify_reap();
	if (!d || none())
		return;
	pthread_mutex_lock(&vfs_lock);
	notify_dentry_locked(d, mask);
	pthread_mutex_unlock(&vfs_lock);
	fsnotify_reap();
}

void fsnotify_rw(struct file *f, bool write)
{
	if (none() || !f->dentry)
		return;
	notify_dentry(f->dentry, write ? IN_MODIFY : IN_ACCESS);
}

void fsnotify_open(struct file *f)
{
	if (none() || !f->dentry || (f->flags & O_PATH))
		return;
	notify_dentry(f->dentry, IN_OPEN);
}

void fsnotify_close(struct file *f)
{
	if (none() || !f->dentry || (f->flags & O_PATH))
		return;
	int acc = f->flags & O_ACCMODE;
	notify_dentry(f->dentry, acc == O_WRONLY || acc == O_RDWR ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
}

/* Linux's fsnotify_change. */
void fsnotify_change(struct dentry *d, unsigned v)
{
	if (none())
		return;
	uint32_t mask = 0;
	if (v & (ATTR_UID | ATTR_GID | ATTR_MODE))
		mask |= IN_ATTRIB;
	if (v & ATTR_SIZE)
		mask |= IN_MODIFY;
	if ((v & (ATTR_ATIME | ATTR_MTIME)) == (ATTR_ATIME | ATTR_MTIME))
		mask |= IN_ATTRIB;
	else if (v & ATTR_ATIME)
		mask |= IN_ACCESS;
	else if (v & ATTR_MTIME)
		mask |= IN_MODIFY;
	if (mask)
		notify_dentry(d, mask);
}

/* An event on directory dir about its entry name (fsnotify_lock held). */
static void send_dir(struct dentry *dir, uint32_t mask, uint32_t cookie, const char *name)
{
	if (dir && dir->inode && dir->inode->watches)
		send(dir->inode, mask, cookie, name, false);
}

void fsnotify_create_locked(struct dentry *dir, struct dentry *d)
{
	if (none() || !d || !d->inode)
		return;
	pthread_mutex_lock(&fsnotify_lock);
	send_dir(dir, IN_CREATE | isdir(d->inode), 0, d->name);
	pthread_mutex_unlock(&fsnotify_lock);
}

void fsnotify_link_locked(struct dentry *dir, struct dentry *d)
{
	if (none() || !d || !d->inode)
		return;
	pthread_mutex_lock(&fsnotify_lock);
	if (d->inode->watches)
		send(d->inode, IN_ATTRIB, 0, NULL, false);
	send_dir(dir, IN_CREATE, 0, d->name);
	pthread_mutex_unlock(&fsnotify_lock);
}

/* The object lost its last name: IN_DELETE_SELF, and its watches go. */
static void deleted_self(struct inode *i)
{
	if (!i->watches)
		return;
	send(i, IN_DELETE_SELF, 0, NULL, false);
	while (i->watches)
		fsnotify_remove_mark(i->watches);
}

static bool no_links_left(struct inode *i)
{
	struct statx x;
	return S_ISDIR(i->mode) || (inode_getattr(i, &x) == 0 && x.stx_nlink == 0);
}

/* Linux sends IN_DELETE_SELF when the object's dentry dies with no link
 * left; here at the unlink itself, even while a file is still open. */
void fsnotify_unlink_locked(struct dentry *dir, const char *name, struct dentry *d)
{
	struct inode *i = d ? d->inode : NULL;
	if (none() || !i)
		return;
	bool gone = i->watches && no_links_left(i);
	pthread_mutex_lock(&fsnotify_lock);
	if (!S_ISDIR(i->mode) && i->watches)
		send(i, IN_ATTRIB, 0, NULL, false);
	if (gone)
		deleted_self(i);
	send_dir(dir, IN_DELETE | isdir(i), 0, name);
	pthread_mutex_unlock(&fsnotify_lock);
}

static void moved(struct dentry *odir, const char *oname, struct dentry *d)
{
	uint32_t cookie = atomic_fetch_add(&next_cookie, 1) + 1;
	uint32_t dir = isdir(d->inode);
	send_dir(odir, IN_MOVED_FROM | dir, cookie, oname);
	send_dir(d->parent, IN_MOVED_TO | dir, cookie, d->name);
}

void fsnotify_rename_locked(struct dentry *odir, const char *oname, struct dentry *m,
			    struct dentry *target, bool exchange)
{
	if (none() || !m || !m->inode)
		return;
	struct inode *ti = target ? target->inode : NULL;
	bool gone = !exchange && ti && ti->watches && no_links_left(ti);
	pthread_mutex_lock(&fsnotify_lock);
	if (exchange && target && target->inode) {
		/* Two moves: m from (odir, oname), target the other way. */
		moved(odir, oname, m);
		if (m->inode->watches)
			send(m->inode, IN_MOVE_SELF | isdir(m->inode), 0, NULL, false);
		moved(m->parent, m->name, target);
		if (target->inode->watches)
			send(target->inode, IN_MOVE_SELF | isdir(target->inode), 0, NULL, false);
	} else {
		moved(odir, oname, m);
		if (target && target->inode && target->inode->watches) {
			send(target->inode, IN_ATTRIB, 0, NULL, false);
			if (gone)
				deleted_self(target->inode);
		}
		if (m->inode->watches)
			send(m->inode, IN_MOVE_SELF | isdir(m->inode), 0, NULL, false);
	}
	pthread_mutex_unlock(&fsnotify_lock);
}
