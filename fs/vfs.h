/* The VFS core: mounts, dentries (names) and inodes (objects), owned by
 * the kernel. Guest path lookup (fs/namei.c) walks dentries, never host
 * path strings; file systems supply inode operations:
 *
 *   memfs   (fs/memfs.c)   tmpfs, /dev, and the root overlay: an in-memory
 *                          tree whose objects may stand over a read-only
 *                          lower inode (copy-up on change, whiteouts)
 *   hostfs  (fs/hostfs.c)  host directories (the overlay's lower layer,
 *                          --bind, --ro-bind), one host O_PATH fd per inode
 *   pseudofs (fs/pseudofs.h) generated trees (/proc)
 *
 * Dentries of file systems that keep their tree in memory (memfs) are
 * *pinned*: the tree holds a reference, and a deleted name of an overlay
 * directory stays as a negative dentry (a whiteout). Other dentries live
 * while referenced (open files, cwds, children, walks in progress), and
 * stable ones (inode.stable, and names missing from stable directories)
 * a while longer in dcache.c's cache of unused dentries.
 *
 * ".." is the dentry's parent (or the mount's mountpoint at a mount root),
 * never a host "..": no lookup can leave the tree the sandbox was given.
 *
 * Locking, in order:
 *  1. vfs_lock (a mutex): the shape of the tree: dentry hashing, parents,
 *     names, pins, the mount table, and every change to a directory
 *     (create, unlink, rename...), including the host calls of hostfs.
 *     Never held across guest-memory copies or sleeps.
 *  2. inode.lock: an inode's attributes and data (file pages).
 *  3. the lock table of an inode (fs/locks.c), fs/filepages, memory file.
 * mm.lock (guest memory) may be held when inode.lock is taken (reads and
 * writes into guest memory, file mappings), never the other way round.
 * Reference counts are atomics; a dentry's count drops to zero only under
 * vfs_lock (lookups take references under it). */
#ifndef COCOON_FS_VFS_H
#define COCOON_FS_VFS_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include "kernel/kernel.h"

struct file;
struct inode;
struct dentry;
struct mount;
struct super;
struct fsnotify_mark;

struct path {
	struct mount *mnt;
	struct dentry *dentry;
};

#define SETATTR_UNMAP_PAST_SIZE 1

/* Changes for setattr (Linux's iattr). */
enum {
	ATTR_MODE = 1 << 0, ATTR_UID = 1 << 1, ATTR_GID = 1 << 2, ATTR_SIZE = 1 << 3,
	ATTR_ATIME = 1 << 4, ATTR_MTIME = 1 << 5, ATTR_CTIME = 1 << 6,
};
struct iattr {
	unsigned valid;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	off_t size;
	struct timespec atime, mtime; /* resolved (no UTIME_NOW) */
};

/* readdir: each entry is handed to emit; a non-zero return stops. */
struct dir_ctx {
	int (*emit)(struct dir_ctx *c, const char *name, size_t len, uint64_t ino, unsigned dtype);
};

/* What a file system does. NULL members: the operation is not supported
 * (the VFS gives Linux's errno for that: EPERM, EROFS, ENOTDIR...).
 * Directory changes are called with vfs_lock held; name is one component. */
struct inode_ops {
	/* Find a name the dentry cache does not hold: a new inode reference,
	 * or -ENOENT (remembered as a negative dentry when dir is stable).
	 * Called without vfs_lock (may ask the host). */
	int (*lookup)(struct inode *dir, const char *name, struct inode **out);
	/* A new object: S_IFREG/S_IFDIR/S_IFIFO/S_IFCHR/S_IFBLK/S_IFSOCK with
	 * permission bits (umask applied), or S_IFLNK with target. */
	int (*create)(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
		      const char *target, struct inode **out);
	int (*link)(struct inode *dir, const char *name, struct inode *old);
	/* Remove the name (victim's inode is i). >0: leave a whiteout. */
	int (*unlink)(struct inode *dir, const char *name, struct inode *i, bool isdir);
	/* flags: RENAME_NOREPLACE/EXCHANGE (checked already); >0: leave a
	 * whiteout at the old name. target is the inode replaced, if any. */
	int (*rename)(struct inode *odir, const char *oname, struct inode *ndir,
		      const char *nname, struct inode *i, struct inode *target, unsigned flags);
	/* Target of a symlink into buf (not terminated): its length. */
	int (*readlink)(struct inode *i, char *buf, size_t size);
	/* Magic links (/proc/self/fd/N): the path they jump to. */
	int (*get_link)(struct inode *i, struct path *out);
	int (*getattr)(struct inode *i, struct statx *x);
	/* 0, -errno, or SETATTR_UNMAP_PAST_SIZE: done, and the file shrank
	 * under shared mappings, whose pages past the new size vfs_setattr
	 * drops once vfs_lock is released (mm locks come before it). */
	int (*setattr)(struct inode *i, const struct iattr *a);
	/* A new open file for i (flags are the guest's). The VFS fills in the
	 * file's path and inode afterwards. */
	int (*open)(struct inode *i, int flags, struct file **out);
	/* Every entry, "." and ".." first. d is the directory's dentry. */
	int (*iterate)(struct inode *dir, struct dentry *d, struct dir_ctx *ctx);
	int (*statfs)(struct inode *i, struct statfs *st);
	/* Last reference gone: free the file system's part. */
	void (*evict)(struct inode *i);
	/* Optional: whether a cached dentry of i still names it (Linux's
	 * d_revalidate: /proc/<pid> of a process that is gone does not).
	 * Called without vfs_lock; false drops the dentry and looks again. */
	bool (*revalidate)(struct inode *i);
};

struct inode {
	atomic_int refs;
	pthread_mutex_t lock;
	const struct inode_ops *ops;
	struct super *sb;
	/* Kept current by the file system for permission checks; getattr
	 * gives the rest. The S_IFMT bits never change. */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	uint64_t ino;
	dev_t dev;             /* st_dev shown for it */
	void *priv;            /* the file system's own */
	void *locks;           /* fs/locks.c: record locks and flocks */
	void *pipe;            /* FIFOs of memfs: fs/pipe.c's state */
	/* Linux's i_writecount: > 0 open for writing that many times, < 0
	 * running as a program that many times (ETXTBSY either way). */
	atomic_int writecount;
	struct fsnotify_mark *watches; /* fs/fsnotify.c: inotify watches */
	/* Only this VFS changes what the file system says of it: a read-only
	 * host layer, whose changes underneath are undefined as overlayfs's
	 * lower layers' are. Its attributes, link target and missing names
	 * may be cached for the sandbox's life. Set at creation. */
	bool stable;
};

/* One file system instance. */
struct super {
	const char *type;      /* "tmpfs", "overlay"... for /proc/mounts */
	unsigned long magic;   /* statfs f_type */
	dev_t dev;             /* st_dev of objects of its own */
	bool pins;             /* the tree lives in the dentry cache */
	atomic_uint_fast64_t next_ino;
	void *priv;
};

struct dentry {
	atomic_int refs;
	struct dentry *parent; /* NULL at a file system's root; counted */
	struct inode *inode;   /* NULL: a negative dentry (whiteout) */
	struct super *sb;
	struct dentry *hnext;  /* hash chain */
	struct dentry *child, *sib_next, *sib_prev; /* children list */
	bool hashed;           /* findable by name in parent */
	bool pinned;           /* the tree holds a reference */
	bool in_lru;           /* the unused-dentry cache holds a reference */
	struct dentry *lru_next;
	int mounted;           /* mounts on it */
	char *name;
};

enum {
	MNT_RDONLY = 1 << 0, MNT_NOEXEC = 1 << 1, MNT_NODEV = 1 << 2, MNT_NOSUID = 1 << 3,
};
/* Mounts live for the sandbox's lifetime (no umount yet). */
struct mount {
	struct mount *parent;     /* NULL for the root mount */
	struct dentry *mountpoint;
	struct dentry *root;
	struct super *sb;
	int flags;
	char *source;             /* for /proc/mounts */
	struct mount *next;       /* the mount table */
};

extern pthread_mutex_t vfs_lock;
extern struct mount *mount_list; /* the mount table, oldest first */

/* ---- inodes (fs/dcache.c) */
struct inode *inode_new(struct super *sb, const struct inode_ops *ops, mode_t mode, uint64_t ino);
struct inode *iget(struct inode *i);
/* Writers and executables exclude each other (fs/file.c): 0 or
 * -ETXTBSY. */
int inode_get_write_access(struct inode *i);
void inode_put_write_access(struct inode *i);
int inode_deny_write_access(struct inode *i);
void inode_allow_write_access(struct inode *i);
void iput(struct inode *i);
struct super *super_new(const char *type, unsigned long magic, bool pins);
int inode_getattr(struct inode *i, struct statx *x);

/* ---- dentries (fs/dcache.c) */
struct dentry *d_alloc_root(struct super *sb, struct inode *i);
struct dentry *dget(struct dentry *d);
void dput(struct dentry *d);
/* The hashed child of dir called name (positive or a whiteout), with a
 * reference, or NULL. vfs_lock held. */
struct dentry *d_lookup_locked(struct dentry *dir, const char *name);
/* The same without a reference, for a quick look under the lock. */
struct dentry *d_find_locked(struct dentry *dir, const char *name);
/* Add a child for inode i (reference taken over; NULL: a whiteout),
 * replacing whatever name had (not pinned: d_pin_locked it). The new
 * dentry, counted (dput it after unlocking), or NULL if out of memory.
 * vfs_lock held. */
struct dentry *d_add_locked(struct dentry *dir, const char *name, struct inode *i);
/* A dentry for i (taken over) named name under dir but in no directory:
 * O_TMPFILE and memfd files. vfs_lock not needed. */
struct dentry *d_alloc_unhashed(struct dentry *dir, const char *name, struct inode *i);
/* Take d out of its parent's names (it lives on for open files). */
void d_drop_locked(struct dentry *d);
/* Rename d to (dir, name), dropping what is there. vfs_lock held. */
int d_move_locked(struct dentry *d, struct dentry *dir, const char *name);
void d_pin_locked(struct dentry *d);
/* Forget the whiteouts of a directory that was removed. vfs_lock held. */
void d_prune_negative_locked(struct dentry *dir);
/* Swap the names of a and b (RENAME_EXCHANGE). vfs_lock held. */
void d_exchange_locked(struct dentry *a, struct dentry *b);
/* Whether a is b or one of its ancestors. vfs_lock held. */
bool d_ancestor_locked(const struct dentry *a, const struct dentry *b);
/* Visit the hashed children of dir. vfs_lock held. */
#define d_for_each_child(c, dir) for (struct dentry *c = (dir)->child; c; c = c->sib_next)

/* ---- paths and mounts (fs/dcache.c) */
static inline struct path path_get(struct path p)
{
	dget(p.dentry);
	return p;
}
void path_put(struct path *p);
static inline bool path_equal(const struct path *a, const struct path *b)
{
	return a->mnt == b->mnt && a->dentry == b->dentry;
}
/* The mount on top of (mnt, d), or NULL. vfs_lock held. */
struct mount *mount_on_locked(struct mount *mnt, struct dentry *d);
/* Mount sb's root dentry at p (p's dentry must be a directory or, for a
 * file root, a file). */
struct mount *mount_add(struct path *at, struct dentry *root, int flags, const char *source);
/* The guest path of p seen from root into buf: 0, -ENAMETOOLONG, or
 * -ENOENT if p is deleted. Outside root (a cwd left behind by chroot)
 * gives the path from the sandbox root. */
int d_path(const struct path *p, const struct path *root, char *buf, size_t size);

/* RLIMIT_FSIZE for a file growing to new_size (truncate, fallocate):
 * past the limit, SIGXFSZ and -EFBIG (Linux's inode_newsize_ok). */
int fsize_check_grow(uint64_t new_size);
bool fsize_exceeds(uint64_t size); /* the same test, without the signal */

/* ---- permissions (fs/namei.c) */
enum { MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4 };
int inode_permission(struct inode *i, int mask);
bool inode_owner_or_capable(struct inode *i);
bool capable_fowner(void);
/* The caller's fs uid/gid and whether it is in group g. */
uid_t cur_fsuid(void);
gid_t cur_fsgid(void);
bool in_group(gid_t g);
/* Between begin and end, the calling thread's checks use the real ids
 * (access(2) without AT_EACCESS); c lives until end. */
struct access_creds {
	uid_t uid;
	gid_t gid;
	uint64_t caps;
};
void fs_access_creds_begin(struct access_creds *c);
void fs_access_creds_end(void);

/* While fs_init builds the mounts, the caller acts as the sandbox's root. */
bool fs_setting_up(void);

/* ---- shared file-system helpers */
void time_now(struct timespec *ts);
unsigned dtype_of(mode_t mode);
/* Device numbers of anonymous file systems (major 0), as Linux. */
dev_t anon_dev(void);

#endif
