/* memfs: tmpfs, /dev and the root overlay (fs/memfs.c). */
#ifndef COCOON_FS_MEMFS_H
#define COCOON_FS_MEMFS_H

#include "fs/vfs.h"

/* A new memfs: its root dentry (a directory of mode, owned by root), or
 * with lower (a reference taken over) an overlay over that directory.
 * NULL if out of memory. */
struct dentry *memfs_root(const char *type, mode_t mode, struct inode *lower);
bool memfs_is(const struct inode *i);
/* A new object of sb not yet in any directory (memfd, O_TMPFILE, the
 * initial /dev), owned by the caller's fs ids. */
struct inode *memfs_new_inode(struct super *sb, mode_t mode, dev_t rdev, const char *target);
/* See file_page_get() (fs/fs.h). */
int64_t memfs_page(struct inode *i, uint64_t idx, bool alloc);
/* The lower inode whose bytes an overlay file still has (counted), or
 * NULL once they are copied up (or for other files). */
struct inode *memfs_lower_data(struct inode *i);
void memfs_unlinked(struct inode *i); /* nlink 0: O_TMPFILE, memfd */
/* Make a file's contents the overlay's own (before a write mapping). */
int memfs_copy_up(struct inode *i);
/* fallocate (modes checked by the caller). */
int memfs_allocate(struct inode *i, int mode, off_t off, off_t len);
off_t memfs_size(struct inode *i);
/* memfd seals: add == 0 reads them; -EINVAL for other files, -EPERM once
 * F_SEAL_SEAL is set. */
int memfs_seals(struct inode *i, unsigned add);
void memfs_make_memfd(struct inode *i, unsigned seals);

#endif
