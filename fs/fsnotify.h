/* File-system events for inotify (fs/inotify.c): the VFS calls one of
 * these where it changes or uses a file, and the watches on the object
 * and on its directory get Linux's event. Each hook is one line at its
 * call site; with no watch anywhere each returns at once.
 *
 * The _locked hooks are called with vfs_lock held (directory changes);
 * the others without it (they take it to read a file's name and parent).
 * Lock order: vfs_lock -> fsnotify's lock -> an inotify instance's lock
 * -> waitq.lock. */
#ifndef COCOON_FS_FSNOTIFY_H
#define COCOON_FS_FSNOTIFY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct file;
struct dentry;
struct inode;

/* A read (IN_ACCESS) or write (IN_MODIFY) moved bytes through f. */
void fsnotify_rw(struct file *f, bool write);
/* f was opened (IN_OPEN) or its last reference is going (IN_CLOSE_*). */
void fsnotify_open(struct file *f);
void fsnotify_close(struct file *f);
/* Attributes of d's object changed (iattr valid bits: IN_ATTRIB, or
 * IN_MODIFY for a size change). */
void fsnotify_change(struct dentry *d, unsigned ia_valid);

/* vfs_lock held. d was made in dir (IN_CREATE), or linked there (and
 * its link count changed: IN_ATTRIB). */
void fsnotify_create_locked(struct dentry *dir, struct dentry *d);
void fsnotify_link_locked(struct dentry *dir, struct dentry *d);
/* d (still holding its inode) was removed from dir under name: IN_ATTRIB
 * (link count), IN_DELETE_SELF once no name is left, IN_DELETE. */
void fsnotify_unlink_locked(struct dentry *dir, const char *name, struct dentry *d);
/* moved went from odir/oname to its new place (IN_MOVED_FROM/TO with
 * one cookie, IN_MOVE_SELF); target: the object it replaced (or, with
 * exchange, the one that moved the other way). */
void fsnotify_rename_locked(struct dentry *odir, const char *oname, struct dentry *moved,
			    struct dentry *target, bool exchange);

/* ---- for fs/inotify.c ---- */

/* A watch: one (instance, inode) pair. */
struct fsnotify_mark {
	struct inotify *group;
	int wd;
	uint32_t mask;              /* events and IN_ONESHOT, IN_EXCL_UNLINK */
	struct inode *inode;        /* counted */
	struct dentry *dentry;      /* counted: keeps the inode the name's */
	struct fsnotify_mark *next; /* on the inode */
	struct fsnotify_mark *gnext; /* in the group */
};

/* Protects every inode's mark list and every group's. */
extern pthread_mutex_t fsnotify_lock;
/* Number of marks in the sandbox (the hooks' fast path). */
extern _Atomic long fsnotify_marks;

/* fsnotify_lock held: take m off its inode and group lists and queue
 * IN_IGNORED; m is freed later, without locks (fsnotify_reap). */
void fsnotify_remove_mark(struct fsnotify_mark *m);
/* Free removed marks (drops their references): call without vfs_lock. */
void fsnotify_reap(void);
void fsnotify_add_mark(struct fsnotify_mark *m);
struct fsnotify_mark *fsnotify_find_mark(struct inode *i, struct inotify *g);

/* fs/inotify.c: queue an event for a mark's group (group lock inside);
 * take a removed mark off its group's list; drop a group reference. */
void inotify_queue(struct inotify *g, int wd, uint32_t mask, uint32_t cookie, const char *name);
void inotify_forget(struct fsnotify_mark *m);
void inotify_put(struct inotify *g);

#endif
