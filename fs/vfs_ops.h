/* Tree changes with Linux's checks (fs/dirops.c), for the system calls
 * and for setting up mounts. vfs_lock must not be held. */
#ifndef COCOON_FS_VFS_OPS_H
#define COCOON_FS_VFS_OPS_H

#include "fs/walk.h"

/* Create name in dir (mode includes the type; umask already applied).
 * slash: the name had a trailing slash. *out (if given) gets the new
 * dentry, counted. */
int vfs_create(struct path *dir, const char *name, mode_t mode, dev_t rdev, const char *target,
	       bool slash, struct dentry **out);
int vfs_link(struct path *old, struct path *dir, const char *name, bool slash);
int vfs_unlink(struct path *dir, const char *name, bool isdir, bool slash);
/* Both results from WALK_PARENT walks on the same mount. -EAGAIN: a
 * concurrent change got in the way, try again. */
int vfs_rename(struct walk_result *from, struct walk_result *to, unsigned flags);
/* Apply a (checked) attribute change. */
int vfs_setattr(struct path *p, struct iattr *a);
int vfs_truncate(struct path *p, off_t len);

#endif
