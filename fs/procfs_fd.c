/* The magic links of /proc/<pid>: exe, cwd, root and fd/<N>, and the
 * fdinfo/<N> files (Linux's fs/proc/base.c and fd.c).
 *
 * A magic link jumps to the object itself, never to a path string: the
 * walk lands on the VFS path of the file, directory or program, which is
 * inside the sandbox by construction (no host path is ever looked up). A
 * file without a name (a pipe, an eventfd, the host's stdio) gets a node
 * of its own in no directory of /proc, whose open reopens the object like
 * Linux (a pipe with a FIFO's rules, a host file through the host, at most
 * with the access the fd already has) and whose stat is the object's.
 *
 * readlink shows Linux's text: the path seen from the reader's root (with
 * " (deleted)"), "pipe:[ino]", "socket:[ino]", "anon_inode:[eventfd]"... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fs/pipe.h"
#include "fs/procfs_internal.h"
#include "kernel/task.h"

/* ---- files of another process ------------------------------------------ */

struct fd_ref {
	struct file *file;
	bool cloexec;
};

/* The file at fd of the process c names (a reference), checking the
 * caller's access if asked. 0, -ENOENT (no such fd, or the process is
 * gone), or -EACCES. */
static int proc_fget(const struct pseudo_ctx *c, int fd, bool check, struct fd_ref *out)
{
	int err = -ENOENT;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	if (p && check && !proc_may_access_locked(p)) {
		err = -EACCES;
	} else if (p) {
		pthread_mutex_lock(&p->lock);
		struct thread *th = proc_thread_locked(c, p);
		struct fdtable *t = th ? th->files : NULL;
		if (t) {
			pthread_mutex_lock(&t->lock);
			if (fd >= 0 && fd < t->size && t->fds[fd].file) {
				out->file = file_get(t->fds[fd].file);
				out->cloexec = t->fds[fd].cloexec;
				err = 0;
			}
			pthread_mutex_unlock(&t->lock);
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
	return err;
}

int proc_fdsize_locked(struct thread *th)
{
	struct fdtable *t = th ? th->files : NULL;
	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	int n = t->size;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* ---- link texts ------------------------------------------------------------- */

/* The path seen from the reader's root, with Linux's " (deleted)". */
static int path_text(const struct path *p, char *buf, size_t size)
{
	struct path root = cur_root();
	int err = d_path(p, &root, buf, size);
	path_put(&root);
	if (err == -ENOENT) {
		size_t n = strlen(buf);
		if (n + sizeof(" (deleted)") > size)
			return -ENAMETOOLONG;
		strcpy(buf + n, " (deleted)");
	} else if (err) {
		return err;
	}
	return strlen(buf);
}

/* Whether the file's name is a path of the VFS (not a node of ours in
 * no directory, standing for a nameless object). */
static bool has_path(const struct file *f)
{
	return f->dentry && f->mnt && (f->dentry->sb != proc_super() || f->dentry->hashed);
}

/* The host directory the sandbox sees as "/", resolved once. */
static pthread_once_t host_root_once = PTHREAD_ONCE_INIT;
static char *host_root_path;

static void host_root_resolve(void)
{
	host_root_path = realpath(cocoon_config.root ? cocoon_config.root : "/", NULL);
}

static const char *host_root(void)
{
	pthread_once(&host_root_once, host_root_resolve);
	return host_root_path ? host_root_path : "/";
}

/* A host object the sandbox was handed (its stdio): pipes and sockets by
 * inode, devices by their name, files by their path as the guest sees it
 * if they lie under the sandbox's root; nothing of the host otherwise. */
static int host_text(int hostfd, char *buf, size_t size)
{
	struct stat st;
	if (fstat(hostfd, &st) < 0)
		return -errno;
	if (S_ISFIFO(st.st_mode))
		return snprintf(buf, size, "pipe:[%llu]", (unsigned long long)st.st_ino);
	if (S_ISSOCK(st.st_mode))
		return snprintf(buf, size, "socket:[%llu]", (unsigned long long)st.st_ino);
	char link[32], hp[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", hostfd);
	ssize_t n = readlink(link, hp, sizeof(hp) - 1);
	if (n < 0)
		return -errno;
	hp[n] = '\0';
	const char *root = host_root();
	size_t rl = strlen(root);
	if (S_ISCHR(st.st_mode) && !strncmp(hp, "/dev/", 5))
		return snprintf(buf, size, "%s", hp);
	if (!strncmp(hp, "anon_inode:", 11))
		return snprintf(buf, size, "%s", hp);
	if (!strcmp(root, "/") && hp[0] == '/')
		return snprintf(buf, size, "%s", hp);
	if (!strncmp(hp, root, rl) && (hp[rl] == '/' || hp[rl] == '\0'))
		return snprintf(buf, size, "%s", hp[rl] ? hp + rl : "/");
	return snprintf(buf, size, "(unreachable)");
}

int proc_file_text(struct file *f, char *buf, size_t size)
{
	if (has_path(f))
		return path_text(&(struct path){ f->mnt, f->dentry }, buf, size);
	if (file_is_pipe(f)) {
		struct statx x;
		int err = f->ops->statx(f, 0, STATX_INO, &x);
		return err ? err : snprintf(buf, size, "pipe:[%llu]", (unsigned long long)x.stx_ino);
	}
	if (S_ISSOCK(f->type) && f->hostfd < 0 && f->ops->statx) { /* net/socket.c */
		struct statx x;
		int err = f->ops->statx(f, 0, STATX_INO, &x);
		return err ? err : snprintf(buf, size, "socket:[%llu]", (unsigned long long)x.stx_ino);
	}
	if (f->ops->anon_name)
		return snprintf(buf, size, "anon_inode:%s", f->ops->anon_name);
	if (f->hostfd >= 0)
		return host_text(f->hostfd, buf, size);
	/* Kernel files named by their kind (SysV shm: "/SYSV%08x (deleted)"). */
	if (S_ISREG(f->type) && f->path && !f->mnt)
		return snprintf(buf, size, "%s", f->path);
	/* The one kind without a name of its own yet: kernel/pidfd.c's. */
	return snprintf(buf, size, "anon_inode:[pidfd]");
}

/* ---- objects without a name: what their link jumps to ---------------------------- */

/* Set by a reopen that truncated through the host: the open's own
 * truncate (fs/open.c calls it right after) then has nothing to do. */
static __thread bool reopen_truncated;

static int reopen_open(const struct pseudo_ctx *c, int flags, struct file **out)
{
	struct fd_ref r;
	int err = proc_fget(c, (int)c->id[CTX_FD], true, &r);
	if (err)
		return err;
	struct file *f = r.file;
	int acc = flags & O_ACCMODE, have = f->flags & O_ACCMODE;
	reopen_truncated = false;
	if (file_is_pipe(f)) {
		err = pipe_reopen(f, flags, out);
	} else if (f->hostfd >= 0 && !S_ISSOCK(f->type)) {
		/* Never more access than the fd gives: the host object may be
		 * one the guest was handed for writing only. */
		if (((acc == O_RDONLY || acc == O_RDWR) && have == O_WRONLY) ||
		    ((acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC)) && have == O_RDONLY)) {
			err = -EACCES;
		} else {
			char link[32];
			snprintf(link, sizeof(link), "/proc/self/fd/%d", f->hostfd);
			int hf = open(link, (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_TRUNC |
						     O_SYNC | O_DSYNC)) | O_NOCTTY | O_CLOEXEC);
			if (hf < 0) {
				err = -errno;
			} else if (!(*out = hostfile_new(hf, flags, NULL))) {
				close(hf);
				err = -ENOMEM;
			} else {
				reopen_truncated = flags & O_TRUNC;
			}
		}
	} else {
		err = -ENXIO; /* anonymous inodes, sockets: Linux's answer */
	}
	fput(f);
	return err;
}

static int reopen_setattr(const struct pseudo_ctx *c, const struct iattr *a)
{
	if (a->valid & ATTR_SIZE && a->size == 0 && reopen_truncated) {
		reopen_truncated = false;
		return 0;
	}
	return -EPERM;
}

/* stat through the link: the object's own attributes. */
static int reopen_getattr(const struct pseudo_ctx *c, struct statx *x)
{
	struct fd_ref r;
	int err = proc_fget(c, (int)c->id[CTX_FD], false, &r);
	if (err)
		return err;
	struct statx fx;
	err = r.file->ops->statx ? r.file->ops->statx(r.file, 0, STATX_BASIC_STATS, &fx) : -EINVAL;
	if (!err)
		*x = fx;
	else if (err == -EINVAL) /* no attributes of its own (pidfds): an anonymous inode's */
		err = 0;
	fput(r.file);
	return err;
}

/* The node's type decides how the VFS opens it: FIFOs and the rest. */
static const struct pseudo_node reopen_fifo = {
	.name = "fd", .mode = S_IFIFO | 0666, .open = reopen_open, .getattr = reopen_getattr,
	.setattr = reopen_setattr,
};
static const struct pseudo_node reopen_other = {
	.name = "fd", .mode = S_IFREG | 0666, .open = reopen_open, .getattr = reopen_getattr,
	.setattr = reopen_setattr,
};

static int file_jump(const struct pseudo_ctx *c, struct file *f, struct path *out)
{
	if (has_path(f)) {
		*out = path_get((struct path){ f->mnt, f->dentry });
		return 0;
	}
	struct mount *m = proc_mount();
	if (!m)
		return -ENOENT;
	return pseudo_path_detached(m, "fd", S_ISFIFO(f->type) ? &reopen_fifo : &reopen_other, c,
				    out);
}

/* ---- fd/<N> ---------------------------------------------------------------------- */

static int fd_readlink(const struct pseudo_ctx *c, char *buf, size_t size)
{
	struct fd_ref r;
	int err = proc_fget(c, (int)c->id[CTX_FD], true, &r);
	if (err)
		return err;
	err = proc_file_text(r.file, buf, size);
	fput(r.file);
	return err;
}

static int fd_jump(const struct pseudo_ctx *c, struct path *out)
{
	struct fd_ref r;
	int err = proc_fget(c, (int)c->id[CTX_FD], true, &r);
	if (err)
		return err;
	err = file_jump(c, r.file, out);
	fput(r.file);
	return err;
}

/* ls -l shows 64 for these, like Linux. */
static int fd_getattr(const struct pseudo_ctx *c, struct statx *x)
{
	x->stx_size = 64;
	return 0;
}

/* A cached fd/N or fdinfo/N is looked up again once N is closed. */
static bool fd_valid(const struct pseudo_ctx *c)
{
	struct fd_ref r;
	if (proc_fget(c, (int)c->id[CTX_FD], false, &r))
		return false;
	fput(r.file);
	return true;
}

/* The link's mode tells the fd's access, like Linux's. */
#define FD_LINK(m) { .mode = S_IFLNK | (m), .owner = proc_owner, .readlink = fd_readlink, \
	.jump = fd_jump, .getattr = fd_getattr, .valid = fd_valid }
static const struct pseudo_node fd_links[4] = {
	FD_LINK(0500), FD_LINK(0300), FD_LINK(0700), FD_LINK(0),
};

static const struct pseudo_node *fd_link_node(int flags)
{
	if (flags & O_PATH)
		return &fd_links[3];
	int acc = flags & O_ACCMODE;
	return &fd_links[acc == O_RDONLY ? 0 : acc == O_WRONLY ? 1 : 2];
}

static int show_fdinfo(const struct pseudo_ctx *c, struct seqbuf *s);

static const struct pseudo_node fdinfo_file = {
	.mode = S_IFREG | 0444, .owner = proc_owner, .show = show_fdinfo, .valid = fd_valid,
};

struct fd_entry_info {
	int fd;
	int flags;
};

/* The open fds of the process (with their status flags), ascending. */
static int list_fds(const struct pseudo_ctx *c, struct fd_entry_info **out, int *n)
{
	*out = NULL;
	*n = 0;
	int err = -ENOENT;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	if (p && !proc_may_access_locked(p)) {
		err = -EACCES;
	} else if (p) {
		err = 0;
		pthread_mutex_lock(&p->lock);
		struct thread *th = proc_thread_locked(c, p);
		struct fdtable *t = th ? th->files : NULL;
		if (t) {
			pthread_mutex_lock(&t->lock);
			int used = 0;
			for (int fd = 0; fd < t->size; fd++)
				used += t->fds[fd].file != NULL;
			if (used && !(*out = malloc(used * sizeof(**out))))
				err = -ENOMEM;
			for (int fd = 0; !err && fd < t->size; fd++)
				if (t->fds[fd].file)
					(*out)[(*n)++] = (struct fd_entry_info){ fd, t->fds[fd].file->flags };
			pthread_mutex_unlock(&t->lock);
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
	return err;
}

static int list_dir(const struct pseudo_ctx *c, struct pseudo_lister *l, bool info)
{
	struct fd_entry_info *v;
	int n, err = list_fds(c, &v, &n);
	for (int k = 0; k < n && !err; k++) {
		char name[16];
		struct pseudo_ctx child = *c;
		child.id[CTX_FD] = v[k].fd;
		snprintf(name, sizeof(name), "%d", v[k].fd);
		err = pseudo_emit(l, name, info ? &fdinfo_file : fd_link_node(v[k].flags), &child);
	}
	free(v);
	return err;
}

int proc_fd_list(const struct pseudo_ctx *c, struct pseudo_lister *l)
{
	return list_dir(c, l, false);
}

int proc_fdinfo_list(const struct pseudo_ctx *c, struct pseudo_lister *l)
{
	return list_dir(c, l, true);
}

static int lookup_fd(const struct pseudo_ctx *c, const char *name, const struct pseudo_node **node,
		     struct pseudo_ctx *child, bool info)
{
	/* Linux's name_to_int: decimal, no leading zero. */
	if (!*name || (name[0] == '0' && name[1]) || strlen(name) > 10)
		return -ENOENT;
	long fd = 0;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			return -ENOENT;
		fd = fd * 10 + (*p - '0');
	}
	if (fd > INT32_MAX)
		return -ENOENT;
	struct fd_ref r;
	int err = proc_fget(c, (int)fd, false, &r);
	if (err)
		return err;
	*child = *c;
	child->id[CTX_FD] = fd;
	*node = info ? &fdinfo_file : fd_link_node(r.file->flags);
	fput(r.file);
	return 0;
}

int proc_fd_lookup(const struct pseudo_ctx *c, const char *name, const struct pseudo_node **node,
		   struct pseudo_ctx *child)
{
	return lookup_fd(c, name, node, child, false);
}

int proc_fdinfo_lookup(const struct pseudo_ctx *c, const char *name,
		       const struct pseudo_node **node, struct pseudo_ctx *child)
{
	return lookup_fd(c, name, node, child, true);
}

/* ---- fdinfo/<N> -------------------------------------------------------------------- */

static int show_fdinfo(const struct pseudo_ctx *c, struct seqbuf *s)
{
	struct fd_ref r;
	int err = proc_fget(c, (int)c->id[CTX_FD], true, &r);
	if (err)
		return err;
	struct file *f = r.file;
	off_t pos = 0;
	if (f->ops->llseek && !f->no_pread) {
		pos = f->ops->llseek(f, 0, SEEK_CUR);
		if (pos < 0)
			pos = 0;
	}
	struct statx x = { 0 };
	if (f->ops->statx && f->ops->statx(f, 0, STATX_INO, &x))
		x.stx_ino = 0;
	/* Files of no mount (pipes, anonymous inodes) are on the kernel's
	 * internal mounts, which have ids of their own in Linux too. */
	int mnt = f->mnt ? mount_id(f->mnt) : 15;
	seq_printf(s, "pos:\t%lld\nflags:\t0%o\nmnt_id:\t%d\nino:\t%llu\n", (long long)pos,
		   (unsigned)(f->flags | (r.cloexec ? O_CLOEXEC : 0)), mnt,
		   (unsigned long long)x.stx_ino);
	if (f->ops->show_fdinfo)
		f->ops->show_fdinfo(f, s);
	fput(f);
	return 0;
}

/* ---- exe, cwd, root ----------------------------------------------------------------- */

/* One of the process's paths (which: 0 exe, 1 cwd, 2 root), counted. */
static int proc_path(const struct pseudo_ctx *c, int which, struct path *out)
{
	int err = -ENOENT;
	struct file *exe = NULL;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = proc_get_locked(c);
	if (p && !proc_may_access_locked(p)) {
		err = -EACCES;
	} else if (p) {
		pthread_mutex_lock(&p->lock);
		struct thread *th = proc_thread_locked(c, p);
		struct fs_struct *fs = th ? th->fs : NULL;
		/* Linux's get_task_exe_file: the task's memory's, none once
		 * it has left (a zombie leader) */
		if (which == 0 && p->exe && th) {
			exe = file_get(p->exe);
		} else if (which != 0 && fs) {
			pthread_mutex_lock(&fs->lock);
			*out = path_get(which == 1 ? fs->cwd : fs->root);
			pthread_mutex_unlock(&fs->lock);
			err = 0;
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
	if (exe) {
		if (exe->dentry && exe->mnt) {
			*out = path_get((struct path){ exe->mnt, exe->dentry });
			err = 0;
		}
		fput(exe);
	}
	return err;
}

static int link_readlink(const struct pseudo_ctx *c, int which, char *buf, size_t size)
{
	struct path p;
	int err = proc_path(c, which, &p);
	if (err)
		return err;
	err = path_text(&p, buf, size);
	path_put(&p);
	return err;
}

int proc_exe_readlink(const struct pseudo_ctx *c, char *buf, size_t size) { return link_readlink(c, 0, buf, size); }
int proc_cwd_readlink(const struct pseudo_ctx *c, char *buf, size_t size) { return link_readlink(c, 1, buf, size); }
int proc_root_readlink(const struct pseudo_ctx *c, char *buf, size_t size) { return link_readlink(c, 2, buf, size); }
int proc_exe_jump(const struct pseudo_ctx *c, struct path *out) { return proc_path(c, 0, out); }
int proc_cwd_jump(const struct pseudo_ctx *c, struct path *out) { return proc_path(c, 1, out); }
int proc_root_jump(const struct pseudo_ctx *c, struct path *out) { return proc_path(c, 2, out); }
