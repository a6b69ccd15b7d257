/* The file-system side of the kernel, as seen by the rest of it. */
#ifndef COCOON_FS_H
#define COCOON_FS_H

#include "kernel/kernel.h"

struct fdtable;
struct fs_struct;
struct stat;

/* Mounts asked for on the command line, before fs_init: --bind (rw),
 * --ro-bind, --tmpfs. 0, or -errno for a bad value (EINVAL: DST not
 * absolute; ENOENT: no such SRC...). */
int fs_add_bind(const char *src, const char *dst, bool readonly);
int fs_add_tmpfs(const char *dst);
/* Build the sandbox's mounts once at start-up: host_root (a host
 * directory, "/" if NULL) read-only under an in-memory overlay at "/",
 * tmpfs at /tmp, /dev, /proc, then the command line's mounts. The initial
 * working directory is the host cwd if it lies inside the root, else "/".
 * 0 or -errno; *what (if given) names the mount that failed. */
int fs_init(const char *host_root);
const char *fs_init_failure(void);

/* Guest fds 0-2 are the host's 0-2 behind kernel file objects. */
struct fdtable *fdtable_new_stdio(void);
void fdtable_put(struct fdtable *t);
struct fs_struct *fs_struct_new(void); /* root and cwd of a process */
void fs_struct_put(struct fs_struct *fs);

/* Open a guest path for execve, looked up like openat(AT_FDCWD, path) of
 * the current process (or of the initial state when there is no current
 * task): must be a regular file the guest may execute. Returns a host fd
 * with its bytes (the host file itself, or a memfd copy of an in-memory
 * one; read-only, close-on-exec) that the caller closes, or -errno
 * (ENOENT, EACCES, ENOTDIR, ELOOP, ENAMETOOLONG...). */
int fs_open_exec(const char *path);
/* The same relative to dirfd, with execveat's AT_EMPTY_PATH (the file
 * open on dirfd) and AT_SYMLINK_NOFOLLOW (a symlink: ELOOP). */
int fs_open_exec_at(int dirfd, const char *path, int at_flags);

/* The same for any kind of file (a program written into the overlay or
 * /tmp too): the open file (read-only) or NULL with *err set. Checks as
 * execve: a regular file (EACCES), not on a noexec mount (EACCES), exec
 * permission (EACCES). fs_open_exec_file_at is execveat's lookup: dirfd and
 * AT_EMPTY_PATH / AT_SYMLINK_NOFOLLOW (ELOOP for a symlink). */
struct file *fs_open_exec_file(const char *path, int *err);
struct file *fs_open_exec_file_at(int dirfd, const char *path, int at_flags, int *err);
/* A host fd (read-only, close-on-exec, the caller closes it) with the
 * bytes of a file opened for exec: the host file itself, or a memfd copy
 * of an in-memory one. -errno on failure. */
int fs_exec_fd(struct file *f);

/* For fork, clone, execve and unshare. */
struct fdtable *fdtable_get(struct fdtable *t);  /* share (CLONE_FILES) */
struct fdtable *fdtable_copy(struct fdtable *t); /* private copy; NULL if out of memory */
void fdtable_exec(struct fdtable *t);            /* close the close-on-exec fds */
bool fdtable_shared(struct fdtable *t);          /* used by another thread or process too */
struct fs_struct *fs_struct_get(struct fs_struct *fs);  /* share (CLONE_FS) */
struct fs_struct *fs_struct_copy(struct fs_struct *fs); /* NULL if out of memory */
bool fs_struct_shared(struct fs_struct *fs);
/* The current thread's umask (022 before any guest runs). */
mode_t cur_umask(void);
/* Set it; returns the old one. */
mode_t cur_umask_set(mode_t mask);
/* An fs state's umask (/proc/<pid>/status). */
mode_t fs_struct_umask(struct fs_struct *fs);

/* Open files, for other parts (mmap, exec). fget returns a reference to
 * the file at a guest fd of the current process (NULL: EBADF; O_PATH
 * files are refused like Linux's fdget); fput drops it. */
struct file;
struct file *fget(int fd);
void fput(struct file *f);
/* A running program's file refuses writers (ETXTBSY): hold it so (false
 * if it is open for writing), and give it back. */
bool file_deny_write(struct file *f);
void file_allow_write(struct file *f);
/* Read from a file at pos into a kernel buffer: bytes read or -errno.
 * Works for every kind of file with a read operation. */
ssize_t kernel_pread(struct file *f, void *buf, size_t n, off_t pos);
/* A file's size (what fstat's st_size says), or -errno. */
int64_t file_size(struct file *f);
/* For mapping in-memory files (tmpfs, memfds, the overlay's files) by
 * their own pages: the memory-file offset of page idx, with a reference
 * the caller drops with memfile_free(). With alloc a hole gets a page
 * (and an overlay file is copied up first). -ENXIO: a hole (alloc
 * false); -ENODEV: the file keeps no pages (host files, and overlay files
 * not yet copied up when alloc is false: read those with kernel_pread).
 * Truncation and hole punching drop the file's reference only. */
int64_t file_page_get(struct file *f, uint64_t idx, bool alloc);
/* The host fd behind a host-backed file (for mapping), or -1. */
int file_host_fd(const struct file *f);
/* fstat of that fd: 0 or -errno. A read-only layer's file (hostfs.c's
 * stable inodes) answers from what its lookup found, without asking. */
int file_host_stat(struct file *f, struct stat *st);

#endif
