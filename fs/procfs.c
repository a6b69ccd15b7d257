/* /proc: the generic part. Per-process entries (self, <pid>/...) come
 * from whoever owns processes, through the same pseudo_node tables
 * (fs/pseudofs.h): add them to proc_root_children (static) or give the
 * root node a list()/lookup() for pids. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/magic.h>
#include "fs/fs.h"
#include "fs/pseudofs.h"

static int show_filesystems(const struct pseudo_ctx *c, struct seqbuf *s)
{
	static const char *const fs[] = { "nodev\ttmpfs", "nodev\tproc", "nodev\tdevtmpfs",
					  "nodev\toverlay", "nodev\tpipefs" };
	for (size_t k = 0; k < ARRAY_SIZE(fs); k++)
		seq_printf(s, "%s\n", fs[k]);
	return 0;
}

static int show_ostype(const struct pseudo_ctx *c, struct seqbuf *s)
{
	seq_printf(s, "Linux\n");
	return 0;
}

/* The release uname(2) shows: the host's. */
static int show_osrelease(const struct pseudo_ctx *c, struct seqbuf *s)
{
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	seq_printf(s, "%s\n", u.release);
	return 0;
}

/* Linux's default: 32768, or 1024 per possible CPU if more. */
static int show_pid_max(const struct pseudo_ctx *c, struct seqbuf *s)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	seq_printf(s, "%ld\n", MAX(32768L, 1024 * cpus));
	return 0;
}

static int show_mounts(const struct pseudo_ctx *c, struct seqbuf *s)
{
	return fs_show_mounts(s);
}

static const struct pseudo_node kernel_children[] = {
	{ .name = "ostype", .mode = S_IFREG | 0444, .show = show_ostype },
	{ .name = "osrelease", .mode = S_IFREG | 0444, .show = show_osrelease },
	{ .name = "pid_max", .mode = S_IFREG | 0644, .show = show_pid_max },
	{ 0 },
};

static const struct pseudo_node sys_children[] = {
	{ .name = "kernel", .mode = S_IFDIR | 0555, .children = kernel_children },
	{ 0 },
};

static const struct pseudo_node proc_root_children[] = {
	{ .name = "filesystems", .mode = S_IFREG | 0444, .show = show_filesystems },
	{ .name = "mounts", .mode = S_IFREG | 0444, .show = show_mounts },
	{ .name = "sys", .mode = S_IFDIR | 0555, .children = sys_children },
	{ 0 },
};

static const struct pseudo_node proc_root = {
	.name = "/", .mode = S_IFDIR | 0555, .children = proc_root_children,
};

struct dentry *procfs_root(void)
{
	return pseudofs_root("proc", PROC_SUPER_MAGIC, &proc_root);
}
