/* The file-system side of the kernel, as seen by the rest of it. */
#ifndef COCOON_FS_H
#define COCOON_FS_H

#include "kernel/kernel.h"

struct fdtable;
struct fs_struct;

/* Set the sandbox root (a host directory) once at start-up. The initial
 * working directory is the host cwd if it lies inside the root, else "/".
 * 0 or -errno. */
int fs_init(const char *host_root);

/* Guest fds 0-2 are the host's 0-2 behind kernel file objects. */
struct fdtable *fdtable_new_stdio(void);
void fdtable_put(struct fdtable *t);
struct fs_struct *fs_struct_new(void); /* root and cwd of a process */
void fs_struct_put(struct fs_struct *fs);

/* Open a guest path for execve, looked up like openat(AT_FDCWD, path) of
 * the current process (or of the initial state when there is no current
 * task): must be a regular file the guest may execute. Returns a host fd
 * (read-only, close-on-exec) that the caller closes, or -errno
 * (ENOENT, EACCES, ENOTDIR, ELOOP, ENAMETOOLONG...). */
int fs_open_exec(const char *path);

#endif
