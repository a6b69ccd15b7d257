/* The fd table: guest fd numbers to file objects, with close-on-exec
 * flags. Lowest free fd first, bounded by RLIMIT_NOFILE. The table lock
 * is a leaf: files are released only after it is dropped. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>
#include "fs/file.h"
#include "fs/pipe.h"
#include "fs/locks.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define NR_OPEN_MAX (1 << 20) /* Linux's fs.nr_open default */

static struct fdtable *cur_files(void)
{
	return current->files;
}

unsigned nofile_limit(void)
{
	rlim_t l = current ? current->proc->rlimits[RLIMIT_NOFILE].rlim_cur : 1024;
	return l > NR_OPEN_MAX ? NR_OPEN_MAX : l;
}

static struct fdtable *fdtable_alloc(void)
{
	struct fdtable *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	atomic_init(&t->refs, 1);
	return t;
}

/* Make fd a valid index. */
static int expand(struct fdtable *t, int fd)
{
	if (fd < t->size)
		return 0;
	int n = t->size ? t->size : 64;
	while (n <= fd)
		n *= 2;
	struct fd_entry *e = realloc(t->fds, n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	memset(e + t->size, 0, (n - t->size) * sizeof(*e));
	t->fds = e;
	t->size = n;
	return 0;
}

static int alloc_locked(struct fdtable *t, int min, unsigned limit)
{
	int fd = min;
	while (fd < t->size && t->fds[fd].file)
		fd++;
	if ((unsigned)fd >= limit)
		return -EMFILE;
	int err = expand(t, fd);
	return err ? err : fd;
}

int fd_install(struct file *f, int min, bool cloexec)
{
	struct fdtable *t = cur_files();
	pthread_mutex_lock(&t->lock);
	int fd = alloc_locked(t, min, nofile_limit());
	if (fd >= 0)
		t->fds[fd] = (struct fd_entry){ f, cloexec };
	pthread_mutex_unlock(&t->lock);
	return fd;
}

int fd_check_free(void)
{
	struct fdtable *t = cur_files();
	pthread_mutex_lock(&t->lock);
	int fd = alloc_locked(t, 0, nofile_limit());
	pthread_mutex_unlock(&t->lock);
	return fd < 0 ? fd : 0;
}

struct file *fget_raw(int fd)
{
	struct fdtable *t = cur_files();
	struct file *f = NULL;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->size && t->fds[fd].file)
		f = file_get(t->fds[fd].file);
	pthread_mutex_unlock(&t->lock);
	return f;
}

struct file *fget(int fd)
{
	struct file *f = fget_raw(fd);
	if (f && (f->flags & O_PATH)) {
		fput(f);
		return NULL;
	}
	return f;
}

/* The close-on-exec flag of fd: 0/1, or -EBADF. set < 0 only reads it. */
int fd_cloexec(int fd, int set)
{
	struct fdtable *t = cur_files();
	int r = -EBADF;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->size && t->fds[fd].file) {
		if (set >= 0)
			t->fds[fd].cloexec = set;
		r = t->fds[fd].cloexec;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* t lets go of f: its POSIX locks on the file go with it. */
static void close_file(struct fdtable *t, struct file *f)
{
	if (!f)
		return;
	locks_remove_posix(f, t);
	fput(f);
}

static struct file *take(struct fdtable *t, int fd)
{
	struct file *f = NULL;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->size) {
		f = t->fds[fd].file;
		t->fds[fd].file = NULL;
	}
	pthread_mutex_unlock(&t->lock);
	return f;
}

/* Status flags F_SETFL may change (Linux's SETFL_MASK). FASYNC is not
 * supported by any file kind yet, so it is dropped like Linux does for
 * files without ->fasync. */
#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

int file_setfl(struct file *f, int flags)
{
	static pthread_mutex_t setfl_lock = PTHREAD_MUTEX_INITIALIZER;
	int err = 0;
	pthread_mutex_lock(&setfl_lock);
	if (f->ops->setfl)
		err = f->ops->setfl(f, flags);
	if (!err)
		f->flags = (flags & SETFL_MASK) | (f->flags & ~SETFL_MASK);
	pthread_mutex_unlock(&setfl_lock);
	return err;
}

struct fdtable *fdtable_new_stdio(void)
{
	struct fdtable *t = fdtable_alloc();
	if (!t || expand(t, 2) < 0) {
		free(t);
		return NULL;
	}
	for (int i = 0; i < 3; i++) {
		int hostfd = fcntl(i, F_DUPFD_CLOEXEC, 3);
		if (hostfd < 0)
			continue; /* closed on the host: closed in the guest too */
		struct file *f = hostfile_new(hostfd, fcntl(hostfd, F_GETFL), NULL);
		if (!f)
			close(hostfd);
		t->fds[i].file = f;
	}
	return t;
}

struct fdtable *fdtable_get(struct fdtable *t)
{
	atomic_fetch_add(&t->refs, 1);
	return t;
}

struct fdtable *fdtable_copy(struct fdtable *old)
{
	struct fdtable *t = fdtable_alloc();
	if (!t)
		return NULL;
	pthread_mutex_lock(&old->lock);
	if (expand(t, old->size - 1) < 0) {
		pthread_mutex_unlock(&old->lock);
		fdtable_put(t);
		return NULL;
	}
	for (int i = 0; i < old->size; i++) {
		t->fds[i] = old->fds[i];
		if (t->fds[i].file)
			file_get(t->fds[i].file);
	}
	pthread_mutex_unlock(&old->lock);
	return t;
}

bool fdtable_shared(struct fdtable *t)
{
	return atomic_load(&t->refs) > 1;
}

void fdtable_exec(struct fdtable *t)
{
	for (int fd = 0; fd < t->size; fd++) {
		pthread_mutex_lock(&t->lock);
		struct file *f = t->fds[fd].cloexec ? t->fds[fd].file : NULL;
		if (f)
			t->fds[fd] = (struct fd_entry){ 0 };
		pthread_mutex_unlock(&t->lock);
		close_file(t, f);
	}
}

void fdtable_put(struct fdtable *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	for (int fd = 0; fd < t->size; fd++)
		close_file(t, t->fds[fd].file);
	free(t->fds);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- system calls --------------------------------------------------- */

long sys_close(const struct sysargs *a)
{
	struct fdtable *t = cur_files();
	struct file *f = take(t, (int)a->a[0]);
	if (!f)
		return -EBADF;
	close_file(t, f);
	return 0;
}

long sys_dup(const struct sysargs *a)
{
	struct file *f = fget_raw((int)a->a[0]);
	if (!f)
		return -EBADF;
	int fd = fd_install(f, 0, false);
	if (fd < 0)
		fput(f);
	return fd;
}

static long do_dup3(int oldfd, int newfd, bool cloexec)
{
	struct fdtable *t = cur_files();
	struct file *f, *old = NULL;
	if (newfd < 0 || (unsigned)newfd >= nofile_limit())
		return -EBADF;
	pthread_mutex_lock(&t->lock);
	if (oldfd < 0 || oldfd >= t->size || !(f = t->fds[oldfd].file))
		newfd = -EBADF;
	else if (expand(t, newfd) < 0)
		newfd = -EMFILE;
	else {
		old = t->fds[newfd].file;
		t->fds[newfd] = (struct fd_entry){ file_get(f), cloexec };
	}
	pthread_mutex_unlock(&t->lock);
	close_file(t, old);
	return newfd;
}

long sys_dup2(const struct sysargs *a)
{
	int oldfd = (int)a->a[0], newfd = (int)a->a[1];
	if (oldfd == newfd) {
		struct file *f = fget_raw(oldfd);
		fput(f);
		return f ? newfd : -EBADF;
	}
	return do_dup3(oldfd, newfd, false);
}

long sys_dup3(const struct sysargs *a)
{
	int flags = (int)a->a[2];
	if ((flags & ~O_CLOEXEC) || (int)a->a[0] == (int)a->a[1])
		return -EINVAL;
	return do_dup3((int)a->a[0], (int)a->a[1], flags & O_CLOEXEC);
}

#define F_OWNER_TID_ 0 /* struct f_owner_ex's types */
#define F_OWNER_PID_ 1
#define F_OWNER_PGRP_ 2

/* Whether id names a task (type TID, PID) or a process group (PGRP),
 * as Linux's find_vpid finds any pid that is in use. */
static bool owner_exists(int type, int id)
{
	pthread_mutex_lock(&tasklist_lock);
	bool found = pid_or_tid_lookup(id) != NULL;
	for (int pid = 1; !found && type == F_OWNER_PGRP_ && pid < PID_MAX; pid++) {
		struct process *p = pid_lookup(pid);
		found = p && p->pgid == id;
	}
	pthread_mutex_unlock(&tasklist_lock);
	return found;
}

/* F_SETOWN and F_SETOWN_EX (Linux's f_setown / f_setown_ex): who may be
 * 0 (nobody). Only stored: no SIGIO is ever sent. */
static long set_owner(struct file *f, int type, int who)
{
	if (type < F_OWNER_TID_ || type > F_OWNER_PGRP_)
		return -EINVAL;
	if (who && !owner_exists(type, who))
		return -ESRCH;
	f->owner = who;
	f->owner_type = type;
	return 0;
}

/* Ownership, signals, leases and dnotify: what fcntl stores of them. */
static long owner_fcntl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct { int type; int pid; } ex;
	int who = (int)arg;
	switch (cmd) {
	case F_SETOWN:
		if (who == INT_MIN)
			return -EINVAL;
		return who < 0 ? set_owner(f, F_OWNER_PGRP_, -who) : set_owner(f, F_OWNER_PID_, who);
	case F_GETOWN:
		return f->owner_type == F_OWNER_PGRP_ ? -f->owner : f->owner;
	case F_SETOWN_EX:
		if (copy_from_guest(&ex, arg, sizeof(ex)))
			return -EFAULT;
		return set_owner(f, ex.type, ex.pid); /* a negative pid is nobody's: ESRCH */
	case F_GETOWN_EX:
		ex.type = f->owner_type;
		ex.pid = f->owner;
		return copy_to_guest(arg, &ex, sizeof(ex)) ? -EFAULT : 0;
	case F_SETSIG:
		if (arg > 64) /* !valid_signal */
			return -EINVAL;
		f->owner_sig = (int)arg;
		return 0;
	case F_GETSIG:
		return f->owner_sig;
	case F_GETLEASE:
		return F_UNLCK; /* no leases are ever granted */
	case F_SETLEASE:
		/* None is ever granted, and removing one that is not there is
		 * EAGAIN too (generic_delete_lease). */
		return arg == F_UNLCK || arg == F_RDLCK || arg == F_WRLCK ? -EAGAIN : -EINVAL;
	case F_NOTIFY: /* accepted on a directory; no dnotify signal is sent */
		return S_ISDIR(f->type) ? 0 : -ENOTDIR;
	}
	return -EINVAL;
}

long sys_fcntl(const struct sysargs *a)
{
	int fd = (int)a->a[0];
	unsigned cmd = a->a[1];
	uint64_t arg = a->a[2];
	struct file *f = fget_raw(fd);
	long r;
	if (!f)
		return -EBADF;
	if ((f->flags & O_PATH) && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC &&
	    cmd != F_GETFD && cmd != F_SETFD && cmd != F_GETFL) {
		fput(f);
		return -EBADF;
	}
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= nofile_limit()) {
			r = -EINVAL;
			break;
		}
		r = fd_install(file_get(f), arg, cmd == F_DUPFD_CLOEXEC);
		if (r < 0)
			fput(f);
		break;
	case F_GETFD:
		r = fd_cloexec(fd, -1);
		break;
	case F_SETFD:
		r = fd_cloexec(fd, arg & FD_CLOEXEC);
		r = r < 0 ? r : 0;
		break;
	case F_GETFL:
		r = f->flags;
		break;
	case F_SETFL:
		r = file_setfl(f, arg);
		break;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		r = locks_fcntl(f, cur_files(), cmd, arg);
		break;
	case F_ADD_SEALS:
	case F_GET_SEALS:
		r = memfd_fcntl(f, cmd, arg);
		break;
	case F_SETPIPE_SZ:
	case F_GETPIPE_SZ:
		r = pipe_fcntl(f, cmd, arg);
		break;
	case F_SETOWN:
	case F_GETOWN:
	case F_SETOWN_EX:
	case F_GETOWN_EX:
	case F_SETSIG:
	case F_GETSIG:
	case F_GETLEASE:
	case F_SETLEASE:
	case F_NOTIFY:
		r = owner_fcntl(f, cmd, arg);
		break;
	default:
		r = -EINVAL;
	}
	fput(f);
	return r;
}

long sys_close_range(const struct sysargs *a)
{
	unsigned first = a->a[0], last = a->a[1], flags = a->a[2];
	if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) || first > last)
		return -EINVAL;
	struct fdtable *t = cur_files();
	if ((flags & CLOSE_RANGE_UNSHARE) && atomic_load(&t->refs) > 1) {
		struct fdtable *copy = fdtable_copy(t);
		if (!copy)
			return -ENOMEM;
		struct process *p = current->proc;
		pthread_mutex_lock(&p->lock);
		current->files = copy;
		pthread_mutex_unlock(&p->lock);
		fdtable_put(t);
		t = copy;
	}
	for (unsigned fd = first; fd <= last && fd < (unsigned)t->size; fd++) {
		if (flags & CLOSE_RANGE_CLOEXEC)
			fd_cloexec(fd, 1);
		else
			close_file(t, take(t, fd));
	}
	return 0;
}

long sys_flock(const struct sysargs *a)
{
	struct file *f = fget((int)a->a[0]);
	if (!f)
		return -EBADF;
	long r = locks_flock(f, a->a[1]);
	fput(f);
	return r;
}
