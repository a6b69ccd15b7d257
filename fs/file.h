/* Open files inside the fs part: reference-counted file objects with an
 * ops table (so host files, tmpfs, pipes... slot in), the fd table, and
 * the helpers the system-call handlers share.
 *
 * Locking: fdtable.lock and fs_struct.lock are leaves (only references are
 * taken under them; files are released after). guest_mem_lock() is held
 * only around zero-copy transfers, never with those locks. */
#ifndef COCOON_FS_FILE_H
#define COCOON_FS_FILE_H

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "fs/fs.h"
#include "fs/vfs.h"
#include "fs/walk.h"

struct file;
struct poll_table;
struct seqbuf;

/* Transfers take kernel iovecs (pointing into the memory file or a bounce
 * buffer). pos -1 means the file position, like preadv2. Missing ops give
 * the errno Linux gives for files without them. */
struct file_ops {
	ssize_t (*read)(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf);
	ssize_t (*write)(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf);
	off_t (*llseek)(struct file *f, off_t off, int whence);
	long (*getdents64)(struct file *f, void *buf, size_t len);
	int (*statx)(struct file *f, int flags, unsigned mask, struct statx *stx);
	/* Only file-specific commands; generic ones are the handler's. */
	long (*ioctl)(struct file *f, unsigned cmd, gaddr_t arg);
	/* Readiness (POLLIN|POLLOUT|...) now; with pt, also queue the caller
	 * on the file's wait queues through poll_wait() (fs/poll.h). NULL:
	 * always ready for reading and writing, like Linux's regular files. */
	unsigned (*poll)(struct file *f, struct poll_table *pt);
	int (*setfl)(struct file *f, int flags); /* O_APPEND, O_NONBLOCK... */
	void (*release)(struct file *f);
	/* /proc/<pid>/fdinfo/N: lines of the kind's own after the common
	 * ones (Linux's show_fdinfo); optional. */
	void (*show_fdinfo)(struct file *f, struct seqbuf *s);
	/* Anonymous-inode files: the name /proc/<pid>/fd shows after
	 * "anon_inode:", e.g. "[eventfd]". */
	const char *anon_name;
	/* A mapping of the file was made (mmap, a split, fork's copy) or
	 * went away: Linux's vm_ops open and close (SysV shm counts its
	 * attachments with them). Called with the VMA's reference held;
	 * the mm lock may be held. Optional. */
	void (*vma_open)(struct file *f);
	void (*vma_close)(struct file *f);
	/* mmap of the file is anonymous memory, shared or private as asked
	 * (Linux's /dev/zero). */
	bool mmap_anonymous;
	/* fstatfs's f_type for a file without an inode, if not what its
	 * type says (pipefs, sockfs, else the anonymous-inode file system). */
	uint32_t fs_magic;
};

struct file {
	atomic_int refs;
	const struct file_ops *ops;
	int hostfd;           /* host-backed files; -1 otherwise */
	int flags;            /* guest-visible status flags (F_GETFL) */
	mode_t type;          /* S_IFMT bits */
	bool may_block;       /* I/O may wait (tty, pipe): no zero-copy under the mm lock */
	bool write_each_segment; /* Linux's .write without .write_iter: writev calls it per segment */
	bool no_pread;        /* no positioned I/O (ESPIPE) */
	/* F_SETOWN(_EX), F_SETSIG: stored and read back; no SIGIO is ever
	 * sent (fs/fdtable.c). */
	int owner, owner_type, owner_sig;
	/* The file holds write access to its inode (opened for writing,
	 * which a running program's file refuses: ETXTBSY); given back at
	 * release. */
	bool holds_write;
	char *path;           /* guest path when opened, or NULL */
	void *priv;           /* the file kind's own state */
	/* Files opened through the VFS (NULL otherwise): where, and what. */
	struct mount *mnt;
	struct dentry *dentry; /* counted */
	struct inode *inode;   /* counted */
	/* The position of files whose kind keeps it in the kernel. */
	off_t pos;
	pthread_mutex_t pos_lock;
	void *dir;            /* directory listing (fs/vfs_file.c) */
};

/* Host-backed files (fs/hostfile.c). On success the file owns hostfd;
 * NULL if out of memory. */
struct file *hostfile_new(int hostfd, int flags, const char *path);
/* The same for a host object whose type is known (no host calls for a
 * regular file or directory). */
struct file *hostfile_new_reg(int hostfd, int flags, mode_t type);

/* A new file of a kernel-side kind (pipes, eventfd, tmpfs...): one
 * reference, hostfd -1. NULL if out of memory. */
struct file *file_new(const struct file_ops *ops, int flags, mode_t type, void *priv);
struct file *file_get(struct file *f);
/* Like fget(), but O_PATH files too (fstat, fchdir, dup, fcntl). */
struct file *fget_raw(int fd);
static inline bool file_is_dir(const struct file *f) { return S_ISDIR(f->type); }

/* Generic file kinds (fs/vfs_file.c): a directory read through its
 * inode's iterate (a listing taken at offset 0, like overlayfs), an O_PATH
 * file, and statx through the inode. */
int vfs_dir_open(struct inode *i, int flags, struct file **out);
struct file *path_file_new(void);
int vfs_file_statx(struct file *f, int flags, unsigned mask, struct statx *stx);

/* fd table (fs/fdtable.c). */
struct fd_entry {
	struct file *file;
	bool cloexec;
};
struct fdtable {
	pthread_mutex_t lock;
	atomic_int refs;
	int size;
	struct fd_entry *fds;
};
/* Install f (reference taken over on success) at the lowest free fd >=
 * min; the fd or -EMFILE. */
int fd_install(struct file *f, int min, bool cloexec);
int fd_check_free(void);          /* 0, or -EMFILE if no fd is free */
int fd_cloexec(int fd, int set);  /* the flag (set < 0: read only) or -EBADF */
unsigned nofile_limit(void);
int file_setfl(struct file *f, int flags); /* F_SETFL */

/* A thread's fs state (fs/fs_struct.c), shared by CLONE_FS. */
struct fs_struct {
	pthread_mutex_t lock;
	atomic_int refs;
	struct path root, cwd;
	mode_t umask;            /* lock */
};
/* Copy a guest path argument: its length, or -EFAULT/-ENAMETOOLONG. */
long path_from_guest(char buf[PATH_MAX], gaddr_t upath);
/* Resolve a kernel path against dirfd (AT_FDCWD or a guest fd) for the
 * current process (the initial state when there is none). */
int walk_at(int dirfd, const char *path, int flags, struct walk_result *r);
/* The initial root and cwd (fs/mount.c calls it once the mounts exist). */
int fs_struct_init(struct path root, const char *cwd);
/* The current process's root (counted). */
struct path cur_root(void);
/* The file an empty path with AT_EMPTY_PATH names: dirfd's or the cwd. */
struct file *empty_path_file(int dirfd);
/* Resolve a guest path argument. An empty path is ENOENT (EMPTY_NO) or
 * names dirfd itself (EMPTY_OK: AT_EMPTY_PATH; EMPTY_OR_NULL: a NULL
 * pointer too, as fstatat and statx allow): then *fp gets that file and
 * r is untouched, otherwise r gets the walk. 0 or -errno. */
enum { EMPTY_NO, EMPTY_OK, EMPTY_OR_NULL };
int user_walk(int dirfd, gaddr_t upath, int empty, int wflags,
	      struct walk_result *r, struct file **fp);

/* statx of a host fd, fs/stat.c. */
int host_statx(int fd, int flags, unsigned mask, struct statx *stx);

/* Open what a walk found (fs/open.c): Linux's checks after lookup, then
 * the file (flags are the guest's open flags). */
int vfs_open(struct path *p, int flags, struct file **out);
/* Devices by number (fs/chrdev.c): a new open file or -ENXIO. */
int chrdev_open(dev_t rdev, int flags, struct file **out);
/* Whether splice may read from (write: into) f as far as its device
 * goes: not /dev/null's reads nor /dev/full's writes; true for others. */
bool chrdev_can_splice(const struct file *f, bool write);
/* FIFOs of in-memory file systems: fs/pipe.c provides it (a weak stand-in
 * gives ENXIO until then). *pipe is the inode's pipe slot, under the
 * inode's lock the first time. */
int fifo_open(struct inode *i, void **pipe, int flags, struct file **out);
/* F_ADD_SEALS and F_GET_SEALS (fs/memfd.c). */
long memfd_fcntl(struct file *f, unsigned cmd, uint64_t arg);
/* The mount is read-only for writes (EROFS). */
static inline bool mnt_readonly(const struct mount *m) { return m && (m->flags & MNT_RDONLY); }

#endif
