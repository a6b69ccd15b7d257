/* memfd_create: a tmpfs file in no directory, and its seals (fcntl
 * F_ADD_SEALS / F_GET_SEALS). */
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"
#include "fs/memfs.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

#define MFD_NAME_MAX (NAME_MAX - 6) /* "memfd:" + name */
#define MFD_ALL (MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)
#define SEALS_ALL (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | \
		   F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

/* The file system memfds live on: a tmpfs mounted nowhere. */
static struct mount memfd_mnt;

static void memfd_init(void)
{
	memfd_mnt.root = memfs_root("tmpfs", 01777, NULL);
	if (memfd_mnt.root) {
		memfd_mnt.sb = memfd_mnt.root->sb;
		memfd_mnt.source = "memfd";
	}
}

static struct mount *memfd_mount(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, memfd_init);
	return memfd_mnt.root ? &memfd_mnt : NULL;
}

long sys_memfd_create(const struct sysargs *a)
{
	unsigned flags = a->a[1];
	char name[MFD_NAME_MAX + 1 + 6];
	if (flags & ~MFD_ALL)
		return -EINVAL;
	if ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL))
		return -EINVAL;
	if (flags & MFD_HUGETLB)
		return -EINVAL; /* no huge pages here */
	strcpy(name, "memfd:");
	long n = strncpy_from_guest(name + 6, a->a[0], MFD_NAME_MAX + 1);
	if (n == -ENAMETOOLONG)
		return -EINVAL;
	if (n < 0)
		return n;
	int err = fd_check_free();
	if (err)
		return err;
	struct mount *m = memfd_mount();
	if (!m)
		return -ENOMEM;
	mode_t mode = (flags & MFD_NOEXEC_SEAL) ? 0666 : 0777;
	struct inode *i = memfs_new_inode(m->sb, S_IFREG | mode, 0, NULL);
	if (!i)
		return -ENOMEM;
	unsigned seals = (flags & MFD_ALLOW_SEALING) ? 0 : F_SEAL_SEAL;
	if (flags & MFD_NOEXEC_SEAL)
		seals |= F_SEAL_EXEC;
	memfs_make_memfd(i, seals);
	struct dentry *d = d_alloc_unhashed(m->root, name, i);
	if (!d) {
		iput(i);
		return -ENOMEM;
	}
	struct file *f;
	err = vfs_open(&(struct path){ m, d }, O_RDWR, &f);
	dput(d);
	if (err)
		return err;
	free(f->path);
	char path[sizeof(name) + 16];
	snprintf(path, sizeof(path), "/%s (deleted)", name);
	f->path = strdup(path);
	err = fd_install(f, 0, flags & MFD_CLOEXEC);
	if (err < 0)
		fput(f);
	return err;
}

long memfd_fcntl(struct file *f, unsigned cmd, uint64_t arg)
{
	if (!f->inode)
		return -EINVAL;
	if (cmd == F_GET_SEALS)
		return memfs_seals(f->inode, 0);
	if (arg & ~(uint64_t)SEALS_ALL)
		return -EINVAL;
	int acc = f->flags & O_ACCMODE;
	if (memfs_seals(f->inode, 0) < 0)
		return -EINVAL;
	if (acc != O_WRONLY && acc != O_RDWR)
		return -EPERM;
	if (!arg)
		return 0;
	return memfs_seals(f->inode, arg);
}
