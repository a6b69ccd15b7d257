/* inotify: an instance (a file) holds a queue of events and its watches
 * (marks on inodes, fs/fsnotify.c), Linux's fs/notify/inotify semantics:
 * watch descriptors from 1 up, one watch per (instance, inode) whose
 * mask a new inotify_add_watch replaces (IN_MASK_ADD: ORs, IN_MASK_CREATE:
 * EEXIST), an event equal to the last queued one is merged into it,
 * IN_Q_OVERFLOW once the queue holds max_queued_events, read returns
 * whole struct inotify_event records with names padded with NULs to a
 * multiple of 16 bytes, FIONREAD the bytes queued, poll POLLIN. */
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include "fs/file.h"
#include "fs/fsnotify.h"
#include "fs/poll.h"
#include "fs/pseudofs.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "mm/copy.h"
#include "mm/uaccess.h"

#define MAX_QUEUED_EVENTS 16384 /* /proc/sys/fs/inotify/max_queued_events */
#define MAX_WATCHES 65536       /* per instance (Linux: per user) */
#define EVENT_HEADER 16         /* sizeof(struct inotify_event) */
#define ALL_INOTIFY_BITS (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | \
	IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ISDIR | IN_ONESHOT)
#define MARK_BITS (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)

struct event {
	struct event *next;
	int wd;
	uint32_t mask, cookie, len; /* len: the padded name's size */
	char name[];
};

struct inotify {
	pthread_mutex_t lock;  /* the queue */
	struct waitq wq;
	atomic_int refs;       /* the file, marks, poll pins */
	struct event *head, *tail;
	unsigned count;
	size_t bytes;
	/* fsnotify_lock: */
	struct fsnotify_mark *marks;
	int last_wd, nmarks;
};

static struct inotify *group_ref(struct inotify *g)
{
	atomic_fetch_add(&g->refs, 1);
	return g;
}

void inotify_put(struct inotify *g)
{
	if (atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	for (struct event *e = g->head, *n; e; e = n) {
		n = e->next;
		free(e);
	}
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static void group_unpin(void *obj) { inotify_put(obj); }

void inotify_forget(struct fsnotify_mark *m)
{
	struct inotify *g = m->group;
	for (struct fsnotify_mark **pp = &g->marks; *pp; pp = &(*pp)->gnext)
		if (*pp == m) {
			*pp = m->gnext;
			g->nmarks--;
			break;
		}
}

static bool same(const struct event *e, int wd, uint32_t mask, uint32_t cookie, const char *name)
{
	if (e->wd != wd || e->mask != mask || e->cookie != cookie)
		return false;
	if (!name)
		return e->len == 0;
	return e->len && !strcmp(e->name, name);
}

void inotify_queue(struct inotify *g, int wd, uint32_t mask, uint32_t cookie, const char *name)
{
	pthread_mutex_lock(&g->lock);
	if (g->tail && same(g->tail, wd, mask, cookie, name)) {
		pthread_mutex_unlock(&g->lock);
		return;
	}
	if (g->count >= MAX_QUEUED_EVENTS) {
		/* One overflow event marks the loss. */
		if (g->tail && g->tail->mask == IN_Q_OVERFLOW) {
			pthread_mutex_unlock(&g->lock);
			return;
		}
		wd = -1;
		mask = IN_Q_OVERFLOW;
		cookie = 0;
		name = NULL;
	}
	size_t len = name ? (strlen(name) + 1 + EVENT_HEADER - 1) / EVENT_HEADER * EVENT_HEADER : 0;
	struct event *e = calloc(1, sizeof(*e) + len);
	if (!e) {
		pthread_mutex_unlock(&g->lock);
		return;
	}
	e->wd = wd;
	e->mask = mask;
	e->cookie = cookie;
	e->len = (uint32_t)len;
	if (name)
		strcpy(e->name, name);
	if (g->tail)
		g->tail->next = e;
	else
		g->head = e;
	g->tail = e;
	g->count++;
	g->bytes += EVENT_HEADER + len;
	pthread_mutex_unlock(&g->lock);
	if (waitq_active(&g->wq))
		waitq_wake_all(&g->wq);
}

/* ---- the file ---------------------------------------------------------------- */

static bool nonblocking(struct file *f, int rwf)
{
	return (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT);
}

/* Copy n bytes into the iovecs at offset off: 0 or -EFAULT. */
static int iov_put(const struct iovec *iov, int n, size_t off, const void *src, size_t len)
{
	const char *s = src;
	for (int i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t c = MIN(iov[i].iov_len - off, len);
		if (raw_copy((char *)iov[i].iov_base + off, s, c))
			return -EFAULT;
		s += c;
		len -= c;
		off = 0;
	}
	return 0;
}

static ssize_t ino_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct inotify *g = f->priv;
	size_t room = 0;
	for (int i = 0; i < n; i++)
		room += iov[i].iov_len;
	pthread_mutex_lock(&g->lock);
	struct wait_entry w;
	bool queued = false;
	int r = 0;
	while (!g->head) {
		if (nonblocking(f, rwf)) {
			r = -EAGAIN;
			break;
		}
		if (!queued) {
			waitq_add(&g->wq, &w);
			queued = true;
		}
		uint32_t snap = sleep_prepare();
		if (g->head)
			break;
		pthread_mutex_unlock(&g->lock);
		r = sleep_until(snap, NULL);
		pthread_mutex_lock(&g->lock);
		if (r) {
			r = g->head ? 0 : -ERESTARTSYS;
			break;
		}
	}
	if (queued)
		waitq_remove(&w);
	ssize_t done = 0;
	while (!r && g->head) {
		struct event *e = g->head;
		size_t sz = EVENT_HEADER + e->len;
		if (sz > room - done) {
			if (!done)
				r = -EINVAL; /* the buffer cannot hold the first event */
			break;
		}
		struct inotify_event h = { e->wd, e->mask, e->cookie, e->len };
		if (iov_put(iov, n, done, &h, EVENT_HEADER) || iov_put(iov, n, done + EVENT_HEADER, e->name, e->len)) {
			r = -EFAULT;
			break;
		}
		done += sz;
		g->head = e->next;
		if (!g->head)
			g->tail = NULL;
		g->count--;
		g->bytes -= sz;
		free(e);
	}
	pthread_mutex_unlock(&g->lock);
	return done ? done : r;
}

static unsigned ino_poll(struct file *f, struct poll_table *pt)
{
	struct inotify *g = f->priv;
	if (pt && pt->queue)
		poll_wait_obj(&g->wq, pt, group_unpin, group_ref(g));
	pthread_mutex_lock(&g->lock);
	bool ready = g->head != NULL;
	pthread_mutex_unlock(&g->lock);
	return ready ? POLLIN | POLLRDNORM : 0;
}

static long ino_ioctl(struct file *f, unsigned cmd, gaddr_t arg)
{
	struct inotify *g = f->priv;
	if (cmd != FIONREAD)
		return -ENOTTY;
	pthread_mutex_lock(&g->lock);
	int bytes = (int)MIN(g->bytes, (size_t)INT32_MAX);
	pthread_mutex_unlock(&g->lock);
	return copy_to_guest(arg, &bytes, sizeof(bytes));
}

static off_t ino_llseek(struct file *f, off_t off, int whence)
{
	return 0; /* Linux's noop_llseek */
}

static int ino_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	return anon_inode_statx(x);
}

/* Closing the instance removes its watches (no IN_IGNORED is read). */
static void ino_release(struct file *f)
{
	struct inotify *g = f->priv;
	eventpoll_release(f);
	pthread_mutex_lock(&fsnotify_lock);
	while (g->marks)
		fsnotify_remove_mark(g->marks);
	pthread_mutex_unlock(&fsnotify_lock);
	fsnotify_reap();
	inotify_put(g);
}

static void ino_show_fdinfo(struct file *f, struct seqbuf *s)
{
	struct inotify *g = f->priv;
	pthread_mutex_lock(&fsnotify_lock);
	for (struct fsnotify_mark *m = g->marks; m; m = m->gnext)
		seq_printf(s, "inotify wd:%x ino:%llx sdev:%llx mask:%x ignored_mask:0\n", m->wd,
			   (unsigned long long)m->inode->ino, (unsigned long long)m->inode->dev, m->mask);
	pthread_mutex_unlock(&fsnotify_lock);
}

static const struct file_ops inotify_ops = {
	.read = ino_read,
	.llseek = ino_llseek,
	.poll = ino_poll,
	.ioctl = ino_ioctl,
	.statx = ino_statx,
	.release = ino_release,
	.show_fdinfo = ino_show_fdinfo,
	.anon_name = "inotify",
};

/* ---- system calls -------------------------------------------------------------- */

static long do_init(int flags)
{
	if (flags & ~(IN_CLOEXEC | IN_NONBLOCK))
		return -EINVAL;
	struct inotify *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	waitq_init(&g->wq);
	atomic_init(&g->refs, 1);
	struct file *f = file_new(&inotify_ops, O_RDONLY | (flags & O_NONBLOCK), 0, g);
	if (!f) {
		inotify_put(g);
		return -ENOMEM;
	}
	f->no_pread = true;
	f->may_block = true; /* read sleeps: no guest memory lock held meanwhile */
	int fd = fd_install(f, 0, flags & IN_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

long sys_inotify_init(const struct sysargs *a) { return do_init(0); }
long sys_inotify_init1(const struct sysargs *a) { return do_init((int)a->a[0]); }

/* The instance behind fd (counted file): -EBADF, or -EINVAL if fd is not
 * an inotify file. */
static long get_group(int fd, struct file **fp)
{
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	if (f->ops != &inotify_ops) {
		fput(f);
		return -EINVAL;
	}
	*fp = f;
	return 0;
}

long sys_inotify_add_watch(const struct sysargs *a)
{
	uint32_t mask = (uint32_t)a->a[2];
	if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE))
		return -EINVAL;
	if (!(mask & ALL_INOTIFY_BITS))
		return -EINVAL;
	struct file *f;
	long r = get_group((int)a->a[0], &f);
	if (r)
		return r;
	struct inotify *g = f->priv;
	struct walk_result w;
	struct file *unused;
	int wflags = (mask & IN_DONT_FOLLOW ? 0 : WALK_FOLLOW) | (mask & IN_ONLYDIR ? WALK_DIRECTORY : 0);
	r = user_walk(AT_FDCWD, a->a[1], EMPTY_NO, wflags, &w, &unused);
	if (r) {
		fput(f);
		return r;
	}
	struct inode *i = walk_inode(&w);
	r = inode_permission(i, MAY_READ);
	uint32_t want = mask & MARK_BITS;
	pthread_mutex_lock(&fsnotify_lock);
	struct fsnotify_mark *m = r ? NULL : fsnotify_find_mark(i, g);
	if (r) {
		;
	} else if (m) {
		if (mask & IN_MASK_CREATE)
			r = -EEXIST;
		else {
			m->mask = (mask & IN_MASK_ADD) ? m->mask | want : want;
			r = m->wd;
		}
	} else if (g->nmarks >= MAX_WATCHES) {
		r = -ENOSPC;
	} else if (!(m = calloc(1, sizeof(*m)))) {
		r = -ENOMEM;
	} else {
		m->group = group_ref(g);
		m->wd = ++g->last_wd;
		m->mask = want;
		m->inode = iget(i);
		m->dentry = dget(w.path.dentry);
		m->gnext = g->marks;
		g->marks = m;
		g->nmarks++;
		fsnotify_add_mark(m);
		r = m->wd;
	}
	pthread_mutex_unlock(&fsnotify_lock);
	walk_done(&w);
	fput(f);
	return r;
}

long sys_inotify_rm_watch(const struct sysargs *a)
{
	struct file *f;
	long r = get_group((int)a->a[0], &f);
	if (r)
		return r;
	struct inotify *g = f->priv;
	int wd = (int)a->a[1];
	r = -EINVAL;
	pthread_mutex_lock(&fsnotify_lock);
	for (struct fsnotify_mark *m = g->marks; m; m = m->gnext)
		if (m->wd == wd) {
			fsnotify_remove_mark(m);
			r = 0;
			break;
		}
	pthread_mutex_unlock(&fsnotify_lock);
	fsnotify_reap();
	fput(f);
	return r;
}
