/* Path lookup over the kernel's dentries (fs/namei.c). Linux's rules:
 * "." and "..", symlinks (ELOOP after 40), trailing slashes, mount
 * crossing, and openat2's RESOLVE_* scoping. ".." never goes above the
 * root it is given. It knows nothing of guest memory or tasks. */
#ifndef COCOON_FS_WALK_H
#define COCOON_FS_WALK_H

#include <limits.h>
#include "fs/vfs.h"

#define MAXSYMLINKS 40

enum {
	WALK_FOLLOW = 1 << 0,      /* follow a symlink in the last component */
	WALK_DIRECTORY = 1 << 1,   /* the result must be a directory */
	WALK_CREATE = 1 << 2,      /* O_CREAT: a missing last component is no
				    * error, "name/" is EISDIR */
	WALK_PARENT = 1 << 3,      /* stop before the last component */
	WALK_NO_SYMLINKS = 1 << 4, /* RESOLVE_NO_SYMLINKS */
	WALK_BENEATH = 1 << 5,     /* RESOLVE_BENEATH: never leave start */
	WALK_IN_ROOT = 1 << 6,     /* RESOLVE_IN_ROOT: start acts as root */
	WALK_NO_XDEV = 1 << 7,     /* RESOLVE_NO_XDEV */
	WALK_NO_MAGICLINKS = 1 << 8, /* RESOLVE_NO_MAGICLINKS */
};

enum last_type { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT };

struct walk_result {
	struct path path;        /* the object; dentry NULL if missing or WALK_PARENT */
	struct path dir;         /* the directory holding `last` (dentry NULL if none) */
	enum last_type type;     /* of the last component */
	bool slash;              /* the path ended in '/' */
	char last[NAME_MAX + 1]; /* the last component's name (LAST_NORM) */
};

/* 0 or -errno. Relative paths start at start, absolute ones (and ".."
 * stops) at root. On success the result holds references: walk_done()
 * drops them. With WALK_CREATE a missing last component gives 0 with
 * path.dentry NULL and dir, last set; with WALK_PARENT path is empty. */
int walk(const struct path *root, const struct path *start, const char *path, int flags,
	 struct walk_result *res);
void walk_done(struct walk_result *res);
static inline struct inode *walk_inode(const struct walk_result *r)
{
	return r->path.dentry ? r->path.dentry->inode : NULL;
}

/* The child name of dir: a counted positive dentry, or -errno (ENOENT).
 * Permissions are the caller's business. */
int vfs_lookup_one(struct dentry *dir, const char *name, struct dentry **out);

#endif
