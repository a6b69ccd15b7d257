/* /dev/pts: the sandbox's devpts, a pseudofs whose entries are "ptmx"
 * (5:2) and one character device per pseudo-terminal whose master is
 * open (136 + N/256 : N%256, inode N + 3 as Linux numbers them). The
 * slaves' mode and group, and ptmx's mode, follow the host's devpts
 * mount options (mode=, gid=, ptmxmode=), so a guest sees what a program
 * on the host sees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "fs/file.h"
#include "fs/pseudofs.h"
#include "kernel/task.h"
#include "kernel/tty.h"

#define DEVPTS_SUPER_MAGIC 0x1cd1

static struct {
	mode_t mode, ptmxmode;
	long gid;              /* -1: the creator's */
	struct dentry *root;
} opts = { 0600, 0, -1, NULL };

/* The host's options, from its mount table. */
static void read_host_options(void)
{
	FILE *m = fopen("/proc/self/mounts", "re");
	char line[1024];
	while (m && fgets(line, sizeof(line), m)) {
		char dev[256], dir[256], type[64], o[512];
		if (sscanf(line, "%255s %255s %63s %511s", dev, dir, type, o) != 4 ||
		    strcmp(type, "devpts") || strcmp(dir, "/dev/pts"))
			continue;
		for (char *save, *t = strtok_r(o, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (!strncmp(t, "mode=", 5))
				opts.mode = strtoul(t + 5, NULL, 8) & 07777;
			else if (!strncmp(t, "ptmxmode=", 9))
				opts.ptmxmode = strtoul(t + 9, NULL, 8) & 07777;
			else if (!strncmp(t, "gid=", 4))
				opts.gid = strtol(t + 4, NULL, 10);
		}
		break;
	}
	if (m)
		fclose(m);
}

dev_t devpts_dev(void)
{
	return opts.root ? opts.root->sb->dev : 0;
}

uint32_t devpts_slave_gid(uint32_t fsgid)
{
	return opts.gid >= 0 ? (uint32_t)opts.gid : fsgid;
}

mode_t devpts_slave_mode(void)
{
	return opts.mode;
}

static int parse_index(const char *name, unsigned *index)
{
	char *end;
	if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]))
		return -ENOENT;
	unsigned long v = strtoul(name, &end, 10);
	if (*end || v > 0xfffff)
		return -ENOENT;
	*index = v;
	return 0;
}

static bool slave_valid(const struct pseudo_ctx *c)
{
	uint64_t gen;
	uint32_t uid, gid;
	return pty_exists(c->id[0], &uid, &gid, &gen) && gen == (uint64_t)c->id[1];
}

static void slave_owner(const struct pseudo_ctx *c, uid_t *uid, gid_t *gid)
{
	uint64_t gen;
	uint32_t u = 0, g = 0;
	pty_exists(c->id[0], &u, &g, &gen);
	*uid = u;
	*gid = g;
}

static int slave_getattr(const struct pseudo_ctx *c, struct statx *x)
{
	uint64_t gen;
	uint32_t uid, gid;
	if (!pty_exists(c->id[0], &uid, &gid, &gen))
		return -ENOENT;
	unsigned index = c->id[0];
	x->stx_ino = index + 3;
	x->stx_uid = uid;
	x->stx_gid = gid;
	x->stx_rdev_major = 136 + index / 256;
	x->stx_rdev_minor = index % 256;
	return 0;
}

static int ptmx_getattr(const struct pseudo_ctx *c, struct statx *x)
{
	x->stx_ino = 2;
	x->stx_rdev_major = 5;
	x->stx_rdev_minor = 2;
	return 0;
}

/* Not const: the modes come from the host's options at start-up. */
static struct pseudo_node slave_node = {
	.name = "slave", .mode = S_IFCHR | 0600, .owner = slave_owner,
	.getattr = slave_getattr, .valid = slave_valid,
};
static struct pseudo_node root_children[] = {
	{ .name = "ptmx", .mode = S_IFCHR, .getattr = ptmx_getattr },
	{ .name = NULL },
};

static int root_lookup(const struct pseudo_ctx *c, const char *name,
		       const struct pseudo_node **node, struct pseudo_ctx *child)
{
	unsigned index;
	uint64_t gen;
	uint32_t uid, gid;
	if (parse_index(name, &index) || !pty_exists(index, &uid, &gid, &gen))
		return -ENOENT;
	child->id[0] = index;
	child->id[1] = (int64_t)gen;
	*node = &slave_node;
	return 0;
}

static int root_list(const struct pseudo_ctx *c, struct pseudo_lister *l)
{
	unsigned index = 0;
	while (pty_next(&index)) {
		uint64_t gen;
		uint32_t uid, gid;
		if (pty_exists(index, &uid, &gid, &gen)) {
			char name[16];
			struct pseudo_ctx child = { { index, (int64_t)gen } };
			snprintf(name, sizeof(name), "%u", index);
			int err = pseudo_emit(l, name, &slave_node, &child);
			if (err)
				return err;
		}
		index++;
	}
	return 0;
}

static const struct pseudo_node root_node = {
	.name = "", .mode = S_IFDIR | 0755, .children = root_children,
	.lookup = root_lookup, .list = root_list,
};

struct dentry *devpts_root(void)
{
	read_host_options();
	slave_node.mode = S_IFCHR | opts.mode;
	root_children[0].mode = S_IFCHR | opts.ptmxmode;
	opts.root = pseudofs_root("devpts", DEVPTS_SUPER_MAGIC, &root_node);
	return opts.root;
}

/* TIOCGPTPEER: the slave opened through its devpts name (so that
 * /proc/<pid>/fd and ttyname show it), like Linux's ptm_open_peer. */
int devpts_open_slave(unsigned index, int flags, struct file **out)
{
	struct mount *mnt = NULL;
	pthread_mutex_lock(&vfs_lock);
	for (struct mount *m = mount_list; m && opts.root; m = m->next)
		if (m->root == opts.root) {
			mnt = m;
			break;
		}
	pthread_mutex_unlock(&vfs_lock);
	if (!mnt)
		return pty_slave_open(index, flags, out);
	char name[16];
	struct dentry *d;
	snprintf(name, sizeof(name), "%u", index);
	int err = vfs_lookup_one(opts.root, name, &d);
	if (err)
		return err == -ENOENT ? -EIO : err;
	struct path p = { mnt, d };
	err = vfs_open(&p, flags, out);
	dput(d);
	return err;
}
