/* Root, working directory and umask of a thread (shared by CLONE_FS),
 * and the resolution of guest path arguments against them. */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "fs/file.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

/* The state before any process exists; new processes start from it. */
static struct fs_struct *init_fs;

static struct fs_struct *cur_fs(void)
{
	return current && current->fs ? current->fs : init_fs;
}

static struct fs_struct *fs_alloc(struct path root, struct path cwd, mode_t umask)
{
	struct fs_struct *fs = calloc(1, sizeof(*fs));
	if (!fs) {
		path_put(&root);
		path_put(&cwd);
		return NULL;
	}
	pthread_mutex_init(&fs->lock, NULL);
	atomic_init(&fs->refs, 1);
	fs->root = root;
	fs->cwd = cwd;
	fs->umask = umask;
	return fs;
}

int fs_struct_init(struct path root, const char *cwd)
{
	struct walk_result r;
	struct path c = path_get(root);
	if (cwd && !walk(&root, &root, cwd, WALK_FOLLOW | WALK_DIRECTORY, &r)) {
		path_put(&c);
		c = r.path;
		r.path = (struct path){ 0 };
		walk_done(&r);
	}
	struct fs_struct *fs = fs_alloc(path_get(root), c, 022);
	if (!fs)
		return -ENOMEM;
	fs_struct_put(init_fs);
	init_fs = fs;
	return 0;
}

struct fs_struct *fs_struct_get(struct fs_struct *fs)
{
	atomic_fetch_add(&fs->refs, 1);
	return fs;
}

struct fs_struct *fs_struct_copy(struct fs_struct *fs)
{
	pthread_mutex_lock(&fs->lock);
	struct path root = path_get(fs->root), cwd = path_get(fs->cwd);
	mode_t umask = fs->umask;
	pthread_mutex_unlock(&fs->lock);
	return fs_alloc(root, cwd, umask);
}

bool fs_struct_shared(struct fs_struct *fs)
{
	return atomic_load(&fs->refs) > 1;
}

mode_t fs_struct_umask(struct fs_struct *fs)
{
	pthread_mutex_lock(&fs->lock);
	mode_t m = fs->umask;
	pthread_mutex_unlock(&fs->lock);
	return m;
}

mode_t cur_umask(void)
{
	return fs_struct_umask(cur_fs());
}

mode_t cur_umask_set(mode_t mask)
{
	struct fs_struct *fs = cur_fs();
	pthread_mutex_lock(&fs->lock);
	mode_t old = fs->umask;
	fs->umask = mask;
	pthread_mutex_unlock(&fs->lock);
	return old;
}

struct fs_struct *fs_struct_new(void)
{
	return init_fs ? fs_struct_copy(init_fs) : NULL;
}

void fs_struct_put(struct fs_struct *fs)
{
	if (!fs || atomic_fetch_sub(&fs->refs, 1) != 1)
		return;
	path_put(&fs->root);
	path_put(&fs->cwd);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

struct path cur_root(void)
{
	struct fs_struct *fs = cur_fs();
	pthread_mutex_lock(&fs->lock);
	struct path p = path_get(fs->root);
	pthread_mutex_unlock(&fs->lock);
	return p;
}

long path_from_guest(char buf[PATH_MAX], gaddr_t upath)
{
	return strncpy_from_guest(buf, upath, PATH_MAX);
}

int walk_at(int dirfd, const char *path, int flags, struct walk_result *r)
{
	struct fs_struct *fs = cur_fs();
	struct path start = { 0 };
	/* Like Linux, dirfd is not even looked at for absolute paths. */
	bool use_dirfd = dirfd != AT_FDCWD &&
		(path[0] != '/' || (flags & (WALK_BENEATH | WALK_IN_ROOT)));
	pthread_mutex_lock(&fs->lock);
	struct path root = path_get(fs->root);
	if (!use_dirfd)
		start = path_get(fs->cwd);
	pthread_mutex_unlock(&fs->lock);
	int err = 0;
	if (use_dirfd) {
		struct file *f = fget_raw(dirfd);
		if (!f)
			err = -EBADF;
		else if (!f->dentry || !file_is_dir(f))
			err = -ENOTDIR;
		else
			start = path_get((struct path){ f->mnt, f->dentry });
		fput(f);
	}
	if (!err)
		err = walk(&root, &start, path, flags, r);
	else
		memset(r, 0, sizeof(*r));
	path_put(&start);
	path_put(&root);
	return err;
}

struct file *empty_path_file(int dirfd)
{
	if (dirfd != AT_FDCWD)
		return fget_raw(dirfd);
	struct fs_struct *fs = cur_fs();
	pthread_mutex_lock(&fs->lock);
	struct path cwd = path_get(fs->cwd);
	pthread_mutex_unlock(&fs->lock);
	struct file *f = path_file_new();
	if (!f) {
		path_put(&cwd);
		return NULL;
	}
	f->mnt = cwd.mnt;
	f->dentry = cwd.dentry;
	f->inode = iget(cwd.dentry->inode);
	f->type = S_IFDIR;
	return f;
}

int user_walk(int dirfd, gaddr_t upath, int empty, int wflags,
	      struct walk_result *r, struct file **fp)
{
	char path[PATH_MAX];
	*fp = NULL;
	memset(r, 0, sizeof(*r));
	long len = upath || empty != EMPTY_OR_NULL ? path_from_guest(path, upath) : 0;
	if (len < 0)
		return len;
	if (len > 0)
		return walk_at(dirfd, path, wflags, r);
	if (empty == EMPTY_NO)
		return -ENOENT;
	*fp = empty_path_file(dirfd);
	return *fp ? 0 : -EBADF;
}

/* ---- system calls --------------------------------------------------- */

long sys_getcwd(const struct sysargs *a)
{
	char path[PATH_MAX];
	struct fs_struct *fs = cur_fs();
	pthread_mutex_lock(&fs->lock);
	struct path root = path_get(fs->root), cwd = path_get(fs->cwd);
	pthread_mutex_unlock(&fs->lock);
	int err = d_path(&cwd, &root, path, sizeof(path));
	path_put(&root);
	path_put(&cwd);
	if (err)
		return err;
	size_t len = strlen(path) + 1;
	if (len > a->a[1])
		return -ERANGE;
	err = copy_to_guest(a->a[0], path, len);
	return err ? err : (long)len;
}

/* Make p (counted, a directory) the cwd or, for chroot, the root. */
static long set_fs_path(struct path p, bool root)
{
	int err = inode_permission(p.dentry->inode, MAY_EXEC);
	if (!err && root && cur_fsuid() != 0)
		err = -EPERM; /* CAP_SYS_CHROOT */
	if (err) {
		path_put(&p);
		return err;
	}
	struct fs_struct *fs = cur_fs();
	pthread_mutex_lock(&fs->lock);
	struct path old = root ? fs->root : fs->cwd;
	if (root)
		fs->root = p;
	else
		fs->cwd = p;
	pthread_mutex_unlock(&fs->lock);
	path_put(&old);
	return 0;
}

static long chdir_path(gaddr_t upath, bool root)
{
	struct walk_result r;
	struct file *f;
	int err = user_walk(AT_FDCWD, upath, EMPTY_NO, WALK_FOLLOW | WALK_DIRECTORY, &r, &f);
	if (err)
		return err;
	struct path p = r.path;
	r.path = (struct path){ 0 };
	walk_done(&r);
	return set_fs_path(p, root);
}

long sys_chdir(const struct sysargs *a) { return chdir_path(a->a[0], false); }
long sys_chroot(const struct sysargs *a) { return chdir_path(a->a[0], true); }

long sys_fchdir(const struct sysargs *a)
{
	struct file *f = fget_raw((int)a->a[0]);
	if (!f)
		return -EBADF;
	struct path p = { 0 };
	if (file_is_dir(f) && f->dentry)
		p = path_get((struct path){ f->mnt, f->dentry });
	fput(f);
	return p.dentry ? set_fs_path(p, false) : -ENOTDIR;
}
