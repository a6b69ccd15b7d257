/* The sandbox's mounts, set up once at start-up: the host root read-only
 * under an in-memory overlay at "/", tmpfs at /tmp, devtmpfs at /dev
 * (with /dev/shm), proc at /proc, then --bind, --ro-bind and --tmpfs in
 * command-line order. Mount points missing from the host are created in
 * the overlay (the host is not touched). /dev/pts is the sandbox's devpts
 * (fs/devpts.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fs/file.h"
#include "fs/hostfs.h"
#include "fs/memfs.h"
#include "fs/pseudofs.h"
#include "fs/vfs_ops.h"
#include "kernel/task.h"
#include "kernel/tty.h"

#define MAX_MOUNT_OPTS 64

static struct mount_opt {
	enum { OPT_BIND, OPT_RO_BIND, OPT_TMPFS } kind;
	char *src, *dst;
} opts[MAX_MOUNT_OPTS];
static int nopts;
static char failure[PATH_MAX + 64];

const char *fs_init_failure(void)
{
	return failure;
}

static int add_opt(int kind, const char *src, const char *dst)
{
	if (dst[0] != '/')
		return -EINVAL;
	if (nopts == MAX_MOUNT_OPTS)
		return -E2BIG;
	struct stat st;
	if (src && stat(src, &st) < 0)
		return -errno;
	opts[nopts].kind = kind;
	opts[nopts].src = src ? strdup(src) : NULL;
	opts[nopts].dst = strdup(dst);
	nopts++;
	return 0;
}

int fs_add_bind(const char *src, const char *dst, bool readonly)
{
	return add_opt(readonly ? OPT_RO_BIND : OPT_BIND, src, dst);
}

int fs_add_tmpfs(const char *dst)
{
	return add_opt(OPT_TMPFS, NULL, dst);
}

/* The path of guest path `path`, made if missing (directories, or a file
 * for the last component when file is set); counted into *out. */
static int make_path(struct path *root, const char *path, bool file, struct path *out)
{
	struct walk_result r;
	struct path cur = path_get(*root);
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	int err = 0;
	for (char *name = strtok(buf, "/"); name && !err; ) {
		char *next = strtok(NULL, "/");
		err = walk(root, &cur, name, WALK_FOLLOW, &r);
		if (err == -ENOENT) {
			struct dentry *d;
			mode_t mode = file && !next ? S_IFREG | 0644 : S_IFDIR | 0755;
			err = vfs_create(&cur, name, mode, 0, NULL, false, &d);
			if (!err) {
				dput(d);
				err = walk(root, &cur, name, WALK_FOLLOW, &r);
			}
		}
		if (!err) {
			path_put(&cur);
			cur = r.path;
			r.path = (struct path){ 0 };
			walk_done(&r);
		}
		name = next;
	}
	if (err) {
		path_put(&cur);
		return err;
	}
	*out = cur;
	return 0;
}

static int mount_at(struct path *root, const char *dst, struct dentry *fsroot, int flags,
		    const char *source)
{
	struct path at;
	if (!fsroot)
		return -ENOMEM;
	bool file = !S_ISDIR(fsroot->inode->mode);
	int err = make_path(root, dst, file, &at);
	if (!err && file != !S_ISDIR(at.dentry->inode->mode))
		err = file ? -EISDIR : -ENOTDIR;
	if (!err && !mount_add(&at, fsroot, flags, source))
		err = -ENOMEM;
	path_put(&at);
	return err;
}

/* /dev: the devices of fs/chrdev.c, links to /proc/self/fd, and empty
 * shm and pts directories (shm gets a tmpfs). */
static struct dentry *devfs_root(void)
{
	static const struct { const char *name; mode_t mode; unsigned major, minor; const char *target; } nodes[] = {
		{ "null", S_IFCHR | 0666, 1, 3, NULL },
		{ "zero", S_IFCHR | 0666, 1, 5, NULL },
		{ "full", S_IFCHR | 0666, 1, 7, NULL },
		{ "random", S_IFCHR | 0666, 1, 8, NULL },
		{ "urandom", S_IFCHR | 0666, 1, 9, NULL },
		{ "tty", S_IFCHR | 0666, 5, 0, NULL },
		{ "console", S_IFCHR | 0600, 5, 1, NULL },
		{ "stdin", S_IFLNK | 0777, 0, 0, "/proc/self/fd/0" },
		{ "stdout", S_IFLNK | 0777, 0, 0, "/proc/self/fd/1" },
		{ "stderr", S_IFLNK | 0777, 0, 0, "/proc/self/fd/2" },
		{ "fd", S_IFLNK | 0777, 0, 0, "/proc/self/fd" },
		{ "ptmx", S_IFCHR | 0666, 5, 2, NULL },
		{ "shm", S_IFDIR | 01777, 0, 0, NULL },
		{ "pts", S_IFDIR | 0755, 0, 0, NULL },
	};
	struct dentry *root = memfs_root("devtmpfs", 0755, NULL);
	if (!root)
		return NULL;
	struct path p = { NULL, root };
	for (size_t k = 0; k < ARRAY_SIZE(nodes); k++) {
		struct dentry *d;
		int err = vfs_create(&p, nodes[k].name, nodes[k].mode,
				     makedev(nodes[k].major, nodes[k].minor), nodes[k].target, false, &d);
		if (err)
			return NULL;
		dput(d);
	}
	return root;
}

/* Creating mount points as the sandbox's own root, whoever runs it. */
static bool setting_up;
bool fs_setting_up(void)
{
	return setting_up;
}

/* The guest path of the host cwd if it lies under host_root. */
static const char *initial_cwd(const char *host_root, char *buf, size_t size)
{
	char *hr = realpath(host_root, NULL), hc[PATH_MAX];
	const char *rel = NULL;
	if (hr && getcwd(hc, sizeof(hc))) {
		size_t n = strlen(hr);
		if (n == 1)
			rel = hc;
		else if (!strncmp(hc, hr, n) && (hc[n] == '/' || !hc[n]))
			rel = hc[n] ? hc + n : "/";
	}
	if (rel && strlen(rel) < size)
		strcpy(buf, rel);
	free(hr);
	return rel ? buf : NULL;
}

int fs_init(const char *host_root)
{
	if (!host_root)
		host_root = "/";
	int err;
	/* The guest's umask is applied by the kernel; the host's must not
	 * change what a --bind mount gets. */
	umask(0);
	for (int k = 0; k < nopts; k++)
		if (opts[k].kind == OPT_BIND && (err = hostfs_note_writable(opts[k].src)) < 0) {
			snprintf(failure, sizeof(failure), "--bind %s:%s", opts[k].src, opts[k].dst);
			return err;
		}
	struct dentry *lower = hostfs_root(host_root, true, &err);
	if (!lower) {
		snprintf(failure, sizeof(failure), "--root %s", host_root);
		return err;
	}
	if (!S_ISDIR(lower->inode->mode)) {
		snprintf(failure, sizeof(failure), "--root %s", host_root);
		return -ENOTDIR;
	}
	setting_up = true;
	struct dentry *over = memfs_root("overlay", 0, iget(lower->inode));
	struct mount *rootmnt = over ? mount_add(NULL, over, 0, "overlay") : NULL;
	if (!rootmnt) {
		setting_up = false;
		return -ENOMEM;
	}
	struct path root = { rootmnt, over };
	struct { const char *dst; struct dentry *(*make)(void); int flags; const char *src; } std[] = {
		{ "/tmp", NULL, MNT_NOSUID | MNT_NODEV, "tmpfs" },
		{ "/dev", devfs_root, MNT_NOSUID, "udev" },
		{ "/dev/shm", NULL, MNT_NOSUID | MNT_NODEV, "tmpfs" },
		{ "/dev/pts", devpts_root, MNT_NOSUID | MNT_NOEXEC, "devpts" },
		{ "/proc", procfs_root, MNT_NOSUID | MNT_NODEV | MNT_NOEXEC, "proc" },
	};
	err = 0;
	for (size_t k = 0; k < ARRAY_SIZE(std) && !err; k++) {
		struct dentry *d = std[k].make ? std[k].make() : memfs_root("tmpfs", 01777, NULL);
		err = mount_at(&root, std[k].dst, d, std[k].flags, std[k].src);
		if (err)
			snprintf(failure, sizeof(failure), "%s", std[k].dst);
	}
	for (int k = 0; k < nopts && !err; k++) {
		struct mount_opt *o = &opts[k];
		struct dentry *d;
		if (o->kind == OPT_TMPFS) {
			d = memfs_root("tmpfs", 01777, NULL);
			err = mount_at(&root, o->dst, d, MNT_NOSUID | MNT_NODEV, "tmpfs");
		} else if (!(d = hostfs_root(o->src, o->kind == OPT_RO_BIND, &err))) {
			;
		} else {
			err = mount_at(&root, o->dst, d, o->kind == OPT_RO_BIND ? MNT_RDONLY : 0, o->src);
		}
		if (err)
			snprintf(failure, sizeof(failure), "%s %s%s%s",
				 o->kind == OPT_TMPFS ? "--tmpfs" : o->kind == OPT_BIND ? "--bind" : "--ro-bind",
				 o->src ? o->src : "", o->src ? ":" : "", o->dst);
	}
	setting_up = false;
	if (err)
		return err;
	char buf[PATH_MAX];
	return fs_struct_init(root, initial_cwd(host_root, buf, sizeof(buf)));
}

/* /proc/mounts: what each mount is, seen from the caller's root. */
int fs_show_mounts(struct seqbuf *s)
{
	struct path root = cur_root();
	for (struct mount *m = mount_list; m; m = m->next) {
		char path[PATH_MAX];
		struct path at = { m, m->root };
		if (d_path(&at, &root, path, sizeof(path)) < 0)
			continue;
		seq_printf(s, "%s %s %s %s%s%s%s 0 0\n", m->source, path, m->sb->type,
			   (m->flags & MNT_RDONLY) ? "ro" : "rw",
			   (m->flags & MNT_NOSUID) ? ",nosuid" : "",
			   (m->flags & MNT_NODEV) ? ",nodev" : "",
			   (m->flags & MNT_NOEXEC) ? ",noexec" : "");
	}
	path_put(&root);
	return 0;
}

/* Mounts never go away, so a mount's id is its place in the table (from
 * 21, under an unlisted 20, as in a container's namespace). */
int mount_id(const struct mount *m)
{
	int id = 21;
	pthread_mutex_lock(&vfs_lock);
	for (struct mount *q = mount_list; q && q != m; q = q->next)
		id++;
	pthread_mutex_unlock(&vfs_lock);
	return id;
}

/* /proc/<pid>/mountinfo: the same with Linux's ids and devices. */
int fs_show_mountinfo(struct seqbuf *s)
{
	struct path root = cur_root();
	int id = 21;
	for (struct mount *m = mount_list; m; m = m->next, id++) {
		char path[PATH_MAX];
		struct path at = { m, m->root };
		if (d_path(&at, &root, path, sizeof(path)) < 0)
			continue;
		int parent = 20, k = 21;
		for (struct mount *q = mount_list; q && m->parent; q = q->next, k++)
			if (q == m->parent)
				parent = k;
		const char *rw = (m->flags & MNT_RDONLY) ? "ro" : "rw";
		seq_printf(s, "%d %d %u:%u / %s %s%s%s%s - %s %s %s\n", id, parent,
			   major(m->sb->dev), minor(m->sb->dev), path, rw,
			   (m->flags & MNT_NOSUID) ? ",nosuid" : "",
			   (m->flags & MNT_NODEV) ? ",nodev" : "",
			   (m->flags & MNT_NOEXEC) ? ",noexec" : "", m->sb->type, m->source, rw);
	}
	path_put(&root);
	return 0;
}
