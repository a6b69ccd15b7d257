/* eventfd: a 64-bit counter as a file (Linux's fs/eventfd.c semantics).
 * read takes the count (or 1 in semaphore mode) and waits while it is 0;
 * write adds and waits while the sum would reach 2^64-1. Both need 8
 * bytes. Like epoll files it is an anonymous-inode file: all share one
 * inode (anon_inode_statx). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include "fs/file.h"
#include "kernel/signal.h"
#include "fs/poll.h"
#include "fs/pseudofs.h"
#include "kernel/syscall.h"
#include "mm/copy.h"

struct eventfd {
	pthread_mutex_t lock;
	struct waitq wq;
	atomic_int refs; /* the file and poll-table pins */
	uint64_t count;
	bool semaphore;
	int id; /* for /proc/<pid>/fdinfo, like Linux's */
};

#define ANON_INODE_INO 1
#define ANON_INODE_DEV_MINOR 15

int anon_inode_statx(struct statx *x)
{
	memset(x, 0, sizeof(*x));
	x->stx_mask = STATX_BASIC_STATS;
	x->stx_blksize = PAGE_SIZE;
	x->stx_nlink = 1;
	x->stx_mode = S_IRUSR | S_IWUSR;
	x->stx_ino = ANON_INODE_INO;
	x->stx_dev_minor = ANON_INODE_DEV_MINOR;
	return 0;
}

static struct eventfd *efd_ref(struct eventfd *e)
{
	atomic_fetch_add(&e->refs, 1);
	return e;
}

static void efd_put(void *obj)
{
	struct eventfd *e = obj;
	if (atomic_fetch_sub(&e->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static const struct file_ops eventfd_ops;

bool file_is_eventfd(const struct file *f)
{
	return f->ops == &eventfd_ops;
}

static bool efd_readable(struct eventfd *e) { return e->count > 0; }

/* Wait, lock held, until ok(e, arg): 0 or -ERESTARTSYS. */
static int efd_wait(struct eventfd *e, bool (*ok)(struct eventfd *, uint64_t), uint64_t arg)
{
	struct wait_entry w;
	int r = 0;
	waitq_add(&e->wq, &w);
	for (;;) {
		uint32_t snap = sleep_prepare();
		if (ok(e, arg))
			break;
		pthread_mutex_unlock(&e->lock);
		r = sleep_until(snap, NULL);
		pthread_mutex_lock(&e->lock);
		if (r) {
			r = ok(e, arg) ? 0 : -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&w);
	return r;
}

static bool can_read(struct eventfd *e, uint64_t unused) { return efd_readable(e); }
static bool can_add(struct eventfd *e, uint64_t v) { return ULLONG_MAX - e->count > v; }

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Copy a counter into iovecs: 0 or -EFAULT. */
static int iov_put_u64(const struct iovec *iov, int n, uint64_t v)
{
	char *p = (char *)&v;
	size_t done = 0;
	for (int i = 0; i < n && done < sizeof(v); i++) {
		size_t c = MIN(iov[i].iov_len, sizeof(v) - done);
		if (raw_copy(iov[i].iov_base, p + done, c))
			return -EFAULT;
		done += c;
	}
	return 0;
}

static bool nonblocking(struct file *f, int rwf)
{
	return (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT);
}

static void wake(struct eventfd *e)
{
	if (waitq_active(&e->wq))
		waitq_wake_all(&e->wq);
}

static ssize_t efd_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct eventfd *e = f->priv;
	uint64_t v;
	if (iov_total(iov, n) < sizeof(v))
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	if (!e->count) {
		int r = nonblocking(f, rwf) ? -EAGAIN : efd_wait(e, can_read, 0);
		if (r) {
			pthread_mutex_unlock(&e->lock);
			return r;
		}
	}
	v = e->semaphore ? 1 : e->count;
	e->count -= v;
	pthread_mutex_unlock(&e->lock);
	wake(e);
	return iov_put_u64(iov, n, v) ? -EFAULT : (ssize_t)sizeof(v);
}

/* Linux's eventfd write is a plain write: each segment of a writev is a
 * write of its own and must be exactly 8 bytes. */
static ssize_t efd_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct eventfd *e = f->priv;
	ssize_t done = 0;
	for (int i = 0; i < n; i++) {
		uint64_t v;
		if (iov[i].iov_len != sizeof(v))
			return done ? done : -EINVAL;
		if (raw_copy(&v, iov[i].iov_base, sizeof(v)))
			return done ? done : -EFAULT;
		if (v == ULLONG_MAX)
			return done ? done : -EINVAL;
		pthread_mutex_lock(&e->lock);
		int r = 0;
		if (!can_add(e, v))
			r = nonblocking(f, rwf) ? -EAGAIN : efd_wait(e, can_add, v);
		if (!r)
			e->count += v;
		pthread_mutex_unlock(&e->lock);
		if (r)
			return done ? done : r;
		wake(e);
		done += sizeof(v);
	}
	return done;
}

static unsigned efd_poll(struct file *f, struct poll_table *pt)
{
	struct eventfd *e = f->priv;
	unsigned mask = 0;
	if (pt && pt->queue)
		poll_wait_obj(&e->wq, pt, efd_put, efd_ref(e));
	pthread_mutex_lock(&e->lock);
	uint64_t c = e->count;
	pthread_mutex_unlock(&e->lock);
	if (c > 0)
		mask |= POLLIN | POLLRDNORM;
	if (c == ULLONG_MAX)
		mask |= POLLERR;
	if (ULLONG_MAX - 1 > c)
		mask |= POLLOUT | POLLWRNORM;
	return mask;
}

static off_t noop_llseek(struct file *f, off_t off, int whence)
{
	return 0; /* Linux's noop_llseek: the position stays 0 */
}

static int efd_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	return anon_inode_statx(x);
}

static void efd_release(struct file *f)
{
	eventpoll_release(f);
	efd_put(f->priv);
}

static void efd_show_fdinfo(struct file *f, struct seqbuf *s)
{
	struct eventfd *e = f->priv;
	pthread_mutex_lock(&e->lock);
	uint64_t c = e->count;
	pthread_mutex_unlock(&e->lock);
	seq_printf(s, "eventfd-count: %16llx\neventfd-id: %d\neventfd-semaphore: %d\n",
		   (unsigned long long)c, e->id, e->semaphore);
}

static const struct file_ops eventfd_ops = {
	.read = efd_read,
	.write = efd_write,
	.llseek = noop_llseek,
	.poll = efd_poll,
	.statx = efd_statx,
	.release = efd_release,
	.show_fdinfo = efd_show_fdinfo,
	.anon_name = "[eventfd]",
};

static long do_eventfd2(unsigned count, int flags)
{
	if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	struct eventfd *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	waitq_init(&e->wq);
	atomic_init(&e->refs, 1);
	e->count = count;
	e->semaphore = flags & EFD_SEMAPHORE;
	static atomic_int next_id;
	e->id = atomic_fetch_add(&next_id, 1);
	struct file *f = file_new(&eventfd_ops, O_RDWR | (flags & O_NONBLOCK), 0, e);
	if (!f) {
		free(e);
		return -ENOMEM;
	}
	f->no_pread = true;
	f->may_block = true; /* read and write sleep: no guest memory lock held meanwhile */
	f->write_each_segment = true; /* writev: 8 bytes in each segment, or EINVAL */
	int fd = fd_install(f, 0, flags & EFD_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

long sys_eventfd(const struct sysargs *a) { return do_eventfd2((unsigned)a->a[0], 0); }
long sys_eventfd2(const struct sysargs *a) { return do_eventfd2((unsigned)a->a[0], (int)a->a[1]); }
