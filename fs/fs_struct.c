/* Root and working directory of a process, the sandbox root set up at
 * start-up, and the resolution of guest path arguments against them. */
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
	return current && current->proc->fs ? current->proc->fs : init_fs;
}

static struct fs_struct *fs_alloc(struct file *root, struct file *cwd)
{
	struct fs_struct *fs = calloc(1, sizeof(*fs));
	if (!fs) {
		fput(root);
		fput(cwd);
		return NULL;
	}
	pthread_mutex_init(&fs->lock, NULL);
	atomic_init(&fs->refs, 1);
	fs->root = root;
	fs->cwd = cwd;
	return fs;
}

/* The guest path of the host cwd if it lies under host_root, else "/". */
static struct file *initial_cwd(struct file *root, const char *host_root)
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
	struct walk_result r;
	struct walk_base b = { root->hostfd, "/", root->hostfd, "/" };
	struct file *f = NULL;
	if (rel && !walk(&b, rel, WALK_FOLLOW | WALK_DIRECTORY, &r)) {
		if ((f = hostfile_new(r.fd, O_PATH, r.path)))
			r.fd = -1;
		walk_done(&r);
	}
	free(hr);
	return f ? f : file_get(root);
}

int fs_init(const char *host_root)
{
	if (!host_root)
		host_root = cocoon_config.root ? cocoon_config.root : "/";
	int fd = open(host_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct file *root = hostfile_new(fd, O_PATH, "/");
	if (!root) {
		close(fd);
		return -ENOMEM;
	}
	struct fs_struct *fs = fs_alloc(root, initial_cwd(root, host_root));
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
	struct file *root = file_get(fs->root), *cwd = file_get(fs->cwd);
	pthread_mutex_unlock(&fs->lock);
	return fs_alloc(root, cwd);
}

struct fs_struct *fs_struct_new(void)
{
	return init_fs ? fs_struct_copy(init_fs) : NULL;
}

void fs_struct_put(struct fs_struct *fs)
{
	if (!fs || atomic_fetch_sub(&fs->refs, 1) != 1)
		return;
	fput(fs->root);
	fput(fs->cwd);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

long path_from_guest(char buf[PATH_MAX], gaddr_t upath)
{
	return strncpy_from_guest(buf, upath, PATH_MAX);
}

int walk_at(int dirfd, const char *path, int flags, struct walk_result *r)
{
	struct fs_struct *fs = cur_fs();
	struct file *start = NULL;
	/* Like Linux, dirfd is not even looked at for absolute paths. */
	bool use_dirfd = dirfd != AT_FDCWD &&
		(path[0] != '/' || (flags & (WALK_BENEATH | WALK_IN_ROOT)));
	pthread_mutex_lock(&fs->lock);
	struct file *root = file_get(fs->root);
	if (!use_dirfd)
		start = file_get(fs->cwd);
	pthread_mutex_unlock(&fs->lock);
	int err = 0;
	if (!start && !(start = fget_raw(dirfd)))
		err = -EBADF;
	else if (!file_is_dir(start) || !start->path || start->hostfd < 0)
		err = -ENOTDIR;
	else {
		struct walk_base b = { root->hostfd, root->path, start->hostfd, start->path };
		err = walk(&b, path, flags, r);
	}
	fput(start);
	fput(root);
	return err;
}

struct file *empty_path_file(int dirfd)
{
	if (dirfd != AT_FDCWD)
		return fget_raw(dirfd);
	struct fs_struct *fs = cur_fs();
	pthread_mutex_lock(&fs->lock);
	struct file *f = file_get(fs->cwd);
	pthread_mutex_unlock(&fs->lock);
	return f;
}

int user_walk(int dirfd, gaddr_t upath, int empty, int wflags,
	      struct walk_result *r, struct file **fp)
{
	char path[PATH_MAX];
	*fp = NULL;
	r->fd = r->dirfd = -1;
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
	strcpy(path, fs->cwd->path);
	pthread_mutex_unlock(&fs->lock);
	size_t len = strlen(path) + 1;
	if (len > a->a[1])
		return -ERANGE;
	int err = copy_to_guest(a->a[0], path, len);
	return err ? err : (long)len;
}

static long set_cwd(struct file *f)
{
	int err = host_access(f->hostfd, X_OK, AT_EACCESS);
	if (err) {
		fput(f);
		return err;
	}
	struct fs_struct *fs = cur_fs();
	pthread_mutex_lock(&fs->lock);
	struct file *old = fs->cwd;
	fs->cwd = f;
	pthread_mutex_unlock(&fs->lock);
	fput(old);
	return 0;
}

long sys_chdir(const struct sysargs *a)
{
	struct walk_result r;
	struct file *f;
	int err = user_walk(AT_FDCWD, a->a[0], EMPTY_NO, WALK_FOLLOW | WALK_DIRECTORY, &r, &f);
	if (err)
		return err;
	f = hostfile_new(r.fd, O_PATH, r.path);
	if (f)
		r.fd = -1;
	walk_done(&r);
	return f ? set_cwd(f) : -ENOMEM;
}

long sys_fchdir(const struct sysargs *a)
{
	struct file *f = fget_raw((int)a->a[0]);
	if (!f)
		return -EBADF;
	if (!file_is_dir(f) || !f->path || f->hostfd < 0) {
		fput(f);
		return -ENOTDIR;
	}
	return set_cwd(f);
}
