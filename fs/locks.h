/* Advisory locks (fs/locks.c): fcntl record locks (POSIX, owned by an fd
 * table; OFD, owned by an open file) and flock (owned by an open file),
 * kept per inode, between all processes of the sandbox. A blocking wait
 * sleeps on the inode's wait queue (kernel/waitq.h), interruptibly.
 * Locking: the lock table's mutex is a leaf. */
#ifndef COCOON_FS_LOCKS_H
#define COCOON_FS_LOCKS_H

#include "kernel/kernel.h"

struct inode;
struct file;
struct fdtable;

/* The last reference to an open file is gone: its OFD locks and flock. */
void locks_remove_file(struct file *f);
/* An fd table closes f (close, dup2 over it, exit): the table's POSIX
 * locks on f's inode go, as Linux's locks_remove_posix(). */
void locks_remove_posix(struct file *f, struct fdtable *owner);
void locks_free_inode(struct inode *i);
/* fcntl's lock commands and flock(2); -errno. */
long locks_fcntl(struct file *f, struct fdtable *owner, unsigned cmd, gaddr_t arg);
long locks_flock(struct file *f, unsigned op);

#endif
