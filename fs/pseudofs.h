/* Synthetic file systems (/proc, and any other tree whose entries are
 * generated): the tree is described by constant `struct pseudo_node`s,
 * and what varies (which process, which fd) travels in a small context.
 *
 * A node is one of:
 *   - a file (S_IFREG): show() writes its whole contents into a seqbuf
 *     when the file is opened; reads then come from that snapshot, as
 *     Linux's seq_file does for most /proc files. st_size is 0, like
 *     procfs. store() (optional) takes what a writer wrote in one write(2)
 *     at offset 0 (missing: the file is read-only, EACCES/EIO as Linux).
 *     A sysctl-like file has show_at() and store_at() instead: no
 *     snapshot, each read and write sees its offset.
 *   - a symlink (S_IFLNK): readlink() gives its target as text, looked up
 *     like any symlink (/proc/self -> "42"); or, for a *magic* link,
 *     jump() gives the path it stands for, which a lookup jumps to
 *     without reading any text (/proc/self/fd/N, /proc/self/cwd, root,
 *     exe): then readlink() is still what readlink(2) shows.
 *   - a directory (S_IFDIR): children is a constant array of nodes ended
 *     by one with name NULL; for generated entries, list() emits them
 *     with pseudo_emit() and lookup() finds one by name (both optional:
 *     /proc lists pids, /proc/<pid>/fd lists fds).
 *
 * The context: a node's children see the context of their directory;
 * lookup() and list() set the child's context (e.g. /proc's lookup("42")
 * gives the pid directory node with id[0] = 42, and that directory's
 * static children "stat", "fd"... then all see id[0] = 42).
 *
 * Callbacks run in the calling guest thread (`current`), without VFS
 * locks held, and return 0 or -errno (ENOENT for something gone: a dead
 * process). owner() (optional, on any node) gives the uid/gid shown for
 * the node; root otherwise. Dentries of a pseudofs are never pinned: a
 * lookup asks lookup() again once nothing holds the old one.
 *
 * Example, a file /proc/answer:
 *
 *   static int show_answer(const struct pseudo_ctx *c, struct seqbuf *s)
 *   { seq_printf(s, "%d\n", 42); return 0; }
 *   ... { .name = "answer", .mode = S_IFREG | 0444, .show = show_answer },
 *
 * Entries of /proc are the children array in fs/procfs.c. */
#ifndef COCOON_FS_PSEUDOFS_H
#define COCOON_FS_PSEUDOFS_H

#include <stdarg.h>
#include "fs/vfs.h"

struct pseudo_ctx {
	int64_t id[4]; /* e.g. a pid, its identity, a tid, an fd */
};

/* A growing text buffer. Out of memory is remembered (err) and reported
 * by the open. */
struct seqbuf {
	char *buf;
	size_t len, cap;
	int err;
};
void seq_printf(struct seqbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void seq_write(struct seqbuf *s, const void *p, size_t n);

struct pseudo_lister;

struct pseudo_node {
	const char *name;
	mode_t mode;
	int (*show)(const struct pseudo_ctx *ctx, struct seqbuf *out);
	ssize_t (*store)(const struct pseudo_ctx *ctx, const char *buf, size_t len);
	/* For a file read and written like a sysctl (Linux's proc_sys_read
	 * and proc_sys_write), instead of show() and store(): each read asks
	 * show_at() anew what a read at pos gets, and takes as much of it as
	 * it has room for; store_at() takes a write with its offset. Reads
	 * and write(2) move the file position by what they return. */
	int (*show_at)(const struct pseudo_ctx *ctx, struct seqbuf *out, off_t pos);
	ssize_t (*store_at)(const struct pseudo_ctx *ctx, const char *buf, size_t len, off_t pos);
	int (*readlink)(const struct pseudo_ctx *ctx, char *buf, size_t size);
	int (*jump)(const struct pseudo_ctx *ctx, struct path *out);
	const struct pseudo_node *children;
	int (*list)(const struct pseudo_ctx *ctx, struct pseudo_lister *l);
	int (*lookup)(const struct pseudo_ctx *ctx, const char *name,
		      const struct pseudo_node **node, struct pseudo_ctx *child);
	void (*owner)(const struct pseudo_ctx *ctx, uid_t *uid, gid_t *gid);
	/* Optional: change the attributes stat shows (filled in already
	 * from the node), e.g. a size, or those of what the node stands for. */
	int (*getattr)(const struct pseudo_ctx *ctx, struct statx *x);
	/* Optional, for a node that opens as another object (the target of
	 * a magic link that has no name, such as a pipe): the open file. */
	int (*open)(const struct pseudo_ctx *ctx, int flags, struct file **out);
	/* Optional: chmod, truncate... (EPERM without it). */
	int (*setattr)(const struct pseudo_ctx *ctx, const struct iattr *a);
	/* Optional: whether the node still stands for something (a process
	 * that may end): a lookup finding it cached asks, and looks again
	 * if not. */
	bool (*valid)(const struct pseudo_ctx *ctx);
};

/* From list(): one generated entry (name, its node, its context). A
 * non-zero return means stop listing (return it from list()). */
int pseudo_emit(struct pseudo_lister *l, const char *name, const struct pseudo_node *node,
		const struct pseudo_ctx *ctx);

/* A path for node in no directory, under mnt's root (a pseudofs mount):
 * what a magic link to an object without a name jumps to. The name shows
 * nowhere. 0 or -ENOMEM. */
int pseudo_path_detached(struct mount *mnt, const char *name, const struct pseudo_node *node,
			 const struct pseudo_ctx *ctx, struct path *out);

/* The node and context inode stands for, or NULL if it is not a pseudo
 * file system's. */
const struct pseudo_node *pseudo_node_of(const struct inode *i, struct pseudo_ctx *ctx);

/* A new pseudo file system whose root directory is root. */
struct dentry *pseudofs_root(const char *type, unsigned long magic, const struct pseudo_node *root);

/* The mount table as /proc/mounts shows it, seen from the caller's root
 * (fs/mount.c). */
int fs_show_mounts(struct seqbuf *s);
/* The same as /proc/<pid>/mountinfo shows it, and a mount's id there. */
int fs_show_mountinfo(struct seqbuf *s);
int mount_id(const struct mount *m);

/* /proc (fs/procfs.c). */
struct dentry *procfs_root(void);
/* Whether f is an open /proc/<pid> directory (which pidfd_send_signal
 * takes as a pidfd, like Linux): then the pid and the process's identity
 * (start time in ns) it names. */
bool proc_pid_dir_file(const struct file *f, int *pid, int64_t *identity);

#endif
