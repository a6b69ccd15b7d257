/* Host directories as file systems (fs/hostfs.c). */
#ifndef COCOON_FS_HOSTFS_H
#define COCOON_FS_HOSTFS_H

#include "fs/vfs.h"

/* A new hostfs whose root is the host directory (or file) hostdir: its
 * root dentry, or NULL with *err set. Writability is the mount's; a
 * stable one (read-only layers) keeps what the host said (hostfs.c). */
struct dentry *hostfs_root(const char *hostdir, bool stable, int *err);
/* hostpath is the source of a read-write bind: what is below it is never
 * stable, through any layer. Before the first hostfs_root. */
int hostfs_note_writable(const char *hostpath);
bool hostfs_is(const struct inode *i);
int hostfs_fd(const struct inode *i);
/* If i is a stable hostfs inode: its attributes as a struct stat, kept
 * since its lookup, and true. */
bool hostfs_stable_stat(const struct inode *i, struct stat *st);
/* Open i's host object anew with host open flags: a host fd or -errno. */
int hostfs_reopen(struct inode *i, int hflags);

#endif
