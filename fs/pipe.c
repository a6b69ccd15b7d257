/* Pipes, with Linux's buffer rules (fs/pipe.c of Linux is the reference):
 * a power-of-two ring of page buffers, head and tail free-running. A
 * write first tops up the last buffer if its remainder fits there whole
 * (so small writes merge), then fills whole fresh pages; a write of at
 * most a page therefore always lands in one buffer, which is what makes
 * writes up to PIPE_BUF atomic. Packet mode (O_DIRECT) gives each write
 * chunk its own buffer and each read one packet.
 *
 * The guest's reads and writes (pipe_rw_guest) copy straight between
 * guest memory (through the memory file) and the buffers, once each way
 * like Linux, holding the guest memory lock only while copying: a
 * blocked call holds nothing but its wait-queue entry. Kernel callers
 * (splice, sendfile) come with kernel iovecs.
 *
 * Buffers keep their page when emptied, so a busy pipe allocates nothing
 * after its first round. Sleepers are woken only when a queue is active. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include "fs/file.h"
#include "fs/pipe.h"
#include "fs/poll.h"
#include "kernel/ktime.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/copy.h"
#include "mm/uaccess.h"

#define PIPE_DEF_SLOTS 16       /* 64 KiB */
#define PIPEFS_DEV_MINOR 12     /* pipefs is an anonymous device: 0:N */

struct pipe_buf {
	char *page;        /* kept when the buffer empties */
	unsigned off, len;
	bool can_merge;    /* writes may append (not after splice/tee, not packets) */
	bool packet;
};

struct pipe {
	pthread_mutex_t lock;
	struct waitq rd_wait, wr_wait;
	atomic_int refs;   /* the two files and poll-table pins */
	int readers, writers;
	unsigned head, tail, nslots;
	struct pipe_buf *bufs;
	uint64_t ino;
	uint32_t uid, gid;
	struct timespec atime, mtime, ctime;
	void **fifo_slot;  /* a FIFO's pipe: where its inode keeps it */
	unsigned r_counter, w_counter; /* opens of each end, for fifo_open */
};

static const struct file_ops pipe_ops;

bool file_is_pipe(const struct file *f)
{
	return f->ops == &pipe_ops;
}

static struct pipe *pipe_ref(struct pipe *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

static void pipe_free_bufs(struct pipe_buf *bufs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(bufs[i].page);
	free(bufs);
}

static void pipe_put(void *obj)
{
	struct pipe *p = obj;
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	pipe_free_bufs(p->bufs, p->nslots);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static bool pipe_empty(const struct pipe *p) { return p->head == p->tail; }
static bool pipe_full(const struct pipe *p) { return p->head - p->tail >= p->nslots; }
static struct pipe_buf *slot(struct pipe *p, unsigned i) { return &p->bufs[i & (p->nslots - 1)]; }
static bool can_read(const struct pipe *p) { return !pipe_empty(p) || !p->writers; }
static bool can_write(const struct pipe *p) { return !pipe_full(p) || !p->readers; }

static void wake(struct waitq *q)
{
	if (waitq_active(q))
		waitq_wake_all(q);
}

static void stamp(struct timespec *t)
{
	ktime_get(CLOCK_REALTIME_COARSE, t);
}

struct kiter;
static void kiter_unlock(struct kiter *it);

/* Sleep until ready(p): called and returns with p->lock held; 0 or
 * -EINTR (a signal, or the thread is exiting); callers return
 * -ERESTARTSYS when nothing moved yet, like Linux. The guest memory
 * lock of it (if any) is dropped first. */
static int pipe_wait(struct pipe *p, struct waitq *q, bool (*ready)(const struct pipe *),
		     struct kiter *it)
{
	struct wait_entry e;
	int r = 0;
	waitq_add(q, &e);
	for (;;) {
		uint32_t snap = sleep_prepare();
		if (ready(p))
			break;
		kiter_unlock(it);
		pthread_mutex_unlock(&p->lock);
		r = sleep_until(snap, NULL);
		pthread_mutex_lock(&p->lock);
		if (r) {
			if (ready(p))
				r = 0;
			break;
		}
	}
	waitq_remove(&e);
	return r;
}

/* A buffer's page, allocated on first use. */
static char *buf_page(struct pipe_buf *b)
{
	if (!b->page)
		b->page = malloc(PAGE_SIZE);
	return b->page;
}

/* ---- iovec cursor ------------------------------------------------------ */

/* Where a read puts and a write takes the bytes: kernel iovecs (splice,
 * kernel callers) or guest segments (read/write/vmsplice of the guest).
 * Guest memory is reached through the memory file under the guest
 * memory lock, taken at the first copy and dropped before the pipe
 * sleeps and at the end, so a blocked pipe never holds it; `span` is the
 * piece of the memory file at the cursor, valid while the lock is held. */
struct kiter {
	const struct iovec *iov;     /* kernel iovecs, or */
	const struct guest_seg *seg; /* guest segments */
	int n;                       /* iovecs or segments left */
	size_t off, left;            /* into the current one; bytes in all */
	bool to_guest;               /* guest mode: the pipe is read */
	bool locked;
	char *span;
	size_t span_len;
};

static void kiter_init(struct kiter *it, const struct iovec *iov, int n)
{
	*it = (struct kiter){ .iov = iov, .n = n };
	for (int i = 0; i < n; i++)
		it->left += iov[i].iov_len;
}

static void kiter_init_guest(struct kiter *it, const struct guest_seg *seg, int n, bool to_guest)
{
	*it = (struct kiter){ .seg = seg, .n = n, .to_guest = to_guest };
	for (int i = 0; i < n; i++)
		it->left += seg[i].len;
}

static void kiter_unlock(struct kiter *it)
{
	if (it && it->locked) {
		guest_mem_unlock();
		it->locked = false;
		it->span_len = 0;
	}
}

#define COW_AHEAD (256 * 1024) /* pages unshared at a time for a read */

/* Translate the guest bytes at the cursor: false if the first one is not
 * accessible. A write into pages shared since fork (the process forked
 * while the pipe slept) gets them copied first, once. */
static bool kiter_translate(struct kiter *it)
{
	gaddr_t addr = it->seg->base + it->off;
	size_t want = it->seg->len - it->off;
	for (int tries = 0; tries < 2; tries++) {
		if (!it->locked) {
			guest_mem_lock();
			it->locked = true;
		}
		struct iovec io;
		size_t cov = 0;
		if (guest_iovecs(addr, want, it->to_guest, &io, 1, &cov) && cov) {
			it->span = io.iov_base;
			it->span_len = cov;
			return true;
		}
		if (!it->to_guest)
			break;
		kiter_unlock(it);
		guest_prepare_write(addr, MIN(want, COW_AHEAD));
	}
	return false;
}

static void kiter_advance(struct kiter *it, size_t k)
{
	size_t len = it->seg ? it->seg->len : it->iov->iov_len;
	it->off += k;
	it->left -= k;
	if (it->seg) {
		it->span += k;
		it->span_len -= k;
	}
	if (it->off == len) {
		if (it->seg)
			it->seg++;
		else
			it->iov++;
		it->n--;
		it->off = 0;
		it->span_len = 0;
	}
}

/* Move len bytes between the cursor and buf (to_iov: buf -> iovecs).
 * Returns the bytes moved: fewer only if guest memory faulted. */
static size_t kiter_copy(struct kiter *it, char *buf, size_t len, bool to_iov)
{
	size_t done = 0;
	while (done < len && it->n) {
		char *io;
		size_t avail;
		if (it->seg && !it->seg->len) {
			kiter_advance(it, 0);
			continue;
		}
		if (it->seg) {
			if (!it->span_len && !kiter_translate(it))
				break;
			io = it->span;
			avail = it->span_len;
		} else {
			io = (char *)it->iov->iov_base + it->off;
			avail = it->iov->iov_len - it->off;
		}
		size_t chunk = MIN(len - done, avail);
		size_t bad = to_iov ? raw_copy(io, buf + done, chunk) : raw_copy(buf + done, io, chunk);
		done += chunk - bad;
		kiter_advance(it, chunk - bad);
		if (bad)
			break;
	}
	return done;
}

/* ---- read and write ------------------------------------------------------ */

static bool nonblocking(struct file *f, int rwf)
{
	return (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT);
}

static ssize_t read_iter(struct file *f, struct kiter *it, int rwf)
{
	struct pipe *p = f->priv;
	ssize_t ret = 0;
	bool consumed = false;
	if (!it->left)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (!pipe_empty(p)) {
			struct pipe_buf *b = slot(p, p->tail);
			size_t chars = MIN((size_t)b->len, it->left);
			size_t want = it->left;
			if (kiter_copy(it, b->page + b->off, chars, true) < chars) {
				if (!ret)
					ret = -EFAULT;
				break;
			}
			ret += chars;
			b->off += chars;
			b->len -= chars;
			if (b->packet) { /* one packet per read; the rest is dropped */
				b->len = 0;
				want = chars;
			}
			if (!b->len) {
				p->tail++;
				consumed = true;
			}
			if (want == chars)
				break;
			if (!pipe_empty(p))
				continue;
		}
		if (!p->writers || ret)
			break;
		if (nonblocking(f, rwf)) {
			ret = -EAGAIN;
			break;
		}
		if (consumed) {
			wake(&p->wr_wait);
			consumed = false;
		}
		if (pipe_wait(p, &p->rd_wait, can_read, it)) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	if (ret > 0)
		stamp(&p->atime);
	pthread_mutex_unlock(&p->lock);
	if (consumed)
		wake(&p->wr_wait);
	return ret;
}

static ssize_t pipe_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct kiter it;
	kiter_init(&it, iov, n);
	return read_iter(f, &it, rwf);
}

/* Queued like Linux's send_sig: delivered (or dropped, if ignored) as
 * the call returns. process.lock is a leaf, so taking it here under the
 * guest memory lock is safe. */
static void raise_sigpipe(void)
{
	if (current)
		signal_raise(SIGPIPE);
}

static ssize_t write_iter(struct file *f, struct kiter *it, int rwf)
{
	struct pipe *p = f->priv;
	ssize_t ret = 0;
	bool added = false, packet = f->flags & O_DIRECT;
	if (!it->left)
		return 0;
	pthread_mutex_lock(&p->lock);
	if (!p->readers) {
		pthread_mutex_unlock(&p->lock);
		raise_sigpipe();
		return -EPIPE;
	}
	/* The part of the write past whole pages goes first, into the last
	 * buffer if it fits there (Linux merges exactly this way). */
	size_t chars = it->left & (PAGE_SIZE - 1);
	if (chars && !pipe_empty(p)) {
		struct pipe_buf *b = slot(p, p->head - 1);
		if (b->can_merge && b->off + b->len + chars <= PAGE_SIZE) {
			if (kiter_copy(it, b->page + b->off + b->len, chars, false) < chars) {
				ret = -EFAULT;
				goto out;
			}
			b->len += chars;
			ret = chars;
			added = true;
			if (!it->left)
				goto out;
		}
	}
	for (;;) {
		if (!p->readers) {
			if (!ret)
				ret = -EPIPE;
			pthread_mutex_unlock(&p->lock);
			raise_sigpipe();
			goto woken;
		}
		if (!pipe_full(p)) {
			struct pipe_buf *b = slot(p, p->head);
			if (!buf_page(b)) {
				if (!ret)
					ret = -ENOMEM;
				break;
			}
			size_t want = MIN(PAGE_SIZE, it->left);
			size_t copied = kiter_copy(it, b->page, want, false);
			*b = (struct pipe_buf){ b->page, 0, copied, !packet, packet };
			if (copied) {
				p->head++;
				added = true;
			}
			if (copied < want) { /* like Linux, the partial page is not counted */
				if (!ret)
					ret = -EFAULT;
				break;
			}
			ret += copied;
			if (!it->left)
				break;
			continue;
		}
		if (nonblocking(f, rwf)) {
			if (!ret)
				ret = -EAGAIN;
			break;
		}
		if (added) {
			wake(&p->rd_wait);
			added = false;
		}
		if (pipe_wait(p, &p->wr_wait, can_write, it)) {
			if (!ret)
				ret = -ERESTARTSYS;
			break;
		}
	}
out:
	if (ret > 0) {
		stamp(&p->mtime);
		p->ctime = p->mtime;
	}
	pthread_mutex_unlock(&p->lock);
woken:
	if (added)
		wake(&p->rd_wait);
	return ret;
}

static ssize_t pipe_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct kiter it;
	kiter_init(&it, iov, n);
	return write_iter(f, &it, rwf);
}

ssize_t pipe_rw_guest(struct file *f, const struct guest_seg *seg, int nseg, int rwf, bool write)
{
	struct kiter it;
	kiter_init_guest(&it, seg, nseg, !write);
	ssize_t r = write ? write_iter(f, &it, rwf) : read_iter(f, &it, rwf);
	kiter_unlock(&it);
	return r;
}

/* ---- poll, ioctl, stat, release --------------------------------------- */

static unsigned pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->priv;
	int acc = f->flags & O_ACCMODE;
	bool rd = acc != O_WRONLY, wr = acc != O_RDONLY;
	unsigned mask = 0;
	if (pt && pt->queue) {
		if (rd)
			poll_wait_obj(&p->rd_wait, pt, pipe_put, pipe_ref(p));
		if (wr)
			poll_wait_obj(&p->wr_wait, pt, pipe_put, pipe_ref(p));
	}
	pthread_mutex_lock(&p->lock);
	if (rd) {
		if (!pipe_empty(p))
			mask |= POLLIN | POLLRDNORM;
		if (!p->writers)
			mask |= POLLHUP;
	}
	if (wr) {
		if (!pipe_full(p))
			mask |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			mask |= POLLERR;
	}
	pthread_mutex_unlock(&p->lock);
	return mask;
}

static long pipe_ioctl(struct file *f, unsigned cmd, gaddr_t arg)
{
	struct pipe *p = f->priv;
	if (cmd != FIONREAD)
		return -ENOTTY;
	int count = 0;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = p->tail; i != p->head; i++)
		count += slot(p, i)->len;
	pthread_mutex_unlock(&p->lock);
	return copy_to_guest(arg, &count, sizeof(count));
}

static struct statx_timestamp stx_time(struct timespec t)
{
	return (struct statx_timestamp){ .tv_sec = t.tv_sec, .tv_nsec = t.tv_nsec };
}

static int pipe_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	struct pipe *p = f->priv;
	if (f->inode) /* a named FIFO: its inode, as its lstat shows it */
		return inode_getattr(f->inode, x);
	memset(x, 0, sizeof(*x));
	x->stx_mask = STATX_BASIC_STATS;
	x->stx_blksize = PAGE_SIZE;
	x->stx_nlink = 1;
	x->stx_uid = p->uid;
	x->stx_gid = p->gid;
	x->stx_mode = S_IFIFO | 0600;
	x->stx_ino = p->ino;
	x->stx_dev_minor = PIPEFS_DEV_MINOR;
	pthread_mutex_lock(&p->lock);
	x->stx_atime = stx_time(p->atime);
	x->stx_mtime = stx_time(p->mtime);
	x->stx_ctime = stx_time(p->ctime);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static pthread_mutex_t fifo_lock = PTHREAD_MUTEX_INITIALIZER; /* before pipe.lock */

/* The last reader or writer gone: wake the other side (EOF, EPIPE). */
static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;
	int acc = f->flags & O_ACCMODE;
	eventpoll_release(f);
	if (p->fifo_slot)
		pthread_mutex_lock(&fifo_lock);
	pthread_mutex_lock(&p->lock);
	if (acc != O_WRONLY)
		p->readers--;
	if (acc != O_RDONLY)
		p->writers--;
	bool unused = p->fifo_slot && !p->readers && !p->writers;
	if (unused) { /* a FIFO's data goes with its last opener */
		*p->fifo_slot = NULL;
		p->fifo_slot = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	if (unused) {
		pthread_mutex_unlock(&fifo_lock);
		pipe_put(p); /* the inode's reference */
	} else if (p->fifo_slot) {
		pthread_mutex_unlock(&fifo_lock);
	}
	wake(&p->rd_wait);
	wake(&p->wr_wait);
	pipe_put(p);
}

static const struct file_ops pipe_ops = {
	.read = pipe_read,
	.write = pipe_write,
	.poll = pipe_poll,
	.ioctl = pipe_ioctl,
	.statx = pipe_statx,
	.release = pipe_release,
};

/* A new pipe object with refs references and no ends counted. */
static struct pipe *pipe_alloc(int refs)
{
	static _Atomic uint64_t next_ino = 1000;
	struct pipe *p = calloc(1, sizeof(*p));
	struct pipe_buf *bufs = calloc(PIPE_DEF_SLOTS, sizeof(*bufs));
	if (!p || !bufs) {
		free(p);
		free(bufs);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	waitq_init(&p->rd_wait);
	waitq_init(&p->wr_wait);
	atomic_init(&p->refs, refs);
	p->nslots = PIPE_DEF_SLOTS;
	p->bufs = bufs;
	p->ino = atomic_fetch_add(&next_ino, 1);
	p->uid = current ? current->proc->uid : 0;
	p->gid = current ? current->proc->gid : 0;
	stamp(&p->atime);
	p->mtime = p->ctime = p->atime;
	return p;
}

static bool partner_opened(struct pipe *p, bool reader, unsigned seen)
{
	return (reader ? p->w_counter : p->r_counter) != seen;
}

/* Linux's fifo_open: a reader waits for a writer and a writer for a
 * reader, unless O_NONBLOCK (then a lone writer gets ENXIO); O_RDWR never
 * waits. The inode keeps the pipe (*slot) while anyone has it open. */
static int open_end(void **slot, int flags, struct file **out, bool anon);

int fifo_open(struct inode *i, void **slot, int flags, struct file **out)
{
	return open_end(slot, flags, out, false);
}

/* Another end of a pipe or FIFO. An anonymous pipe reopened through
 * /proc/<pid>/fd (anon) never waits for a partner, like Linux's is_pipe
 * case of fifo_open. */
static int open_end(void **slot, int flags, struct file **out, bool anon)
{
	int acc = flags & O_ACCMODE;
	pthread_mutex_lock(&fifo_lock);
	struct pipe *p = *slot;
	if (!p) {
		if (!(p = pipe_alloc(1))) {
			pthread_mutex_unlock(&fifo_lock);
			return -ENOMEM;
		}
		p->fifo_slot = slot;
		*slot = p;
	}
	pthread_mutex_lock(&p->lock);
	if (!anon && acc == O_WRONLY && (flags & O_NONBLOCK) && !p->readers) {
		bool unused = !p->writers;
		if (unused)
			*slot = NULL;
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_unlock(&fifo_lock);
		if (unused)
			pipe_put(p);
		return -ENXIO;
	}
	struct file *f = file_new(&pipe_ops, flags & (O_ACCMODE | O_NONBLOCK | O_DIRECT), S_IFIFO, pipe_ref(p));
	if (!f) {
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_unlock(&fifo_lock);
		pipe_put(p);
		return -ENOMEM;
	}
	f->no_pread = true;
	if (acc != O_WRONLY) {
		p->readers++;
		p->r_counter++;
	}
	if (acc != O_RDONLY) {
		p->writers++;
		p->w_counter++;
	}
	pthread_mutex_unlock(&fifo_lock);
	wake(&p->rd_wait);
	wake(&p->wr_wait);
	int err = 0;
	if (!anon && acc != O_RDWR && !(flags & O_NONBLOCK)) {
		bool reader = acc == O_RDONLY;
		unsigned seen = reader ? p->w_counter : p->r_counter;
		if ((reader ? p->writers : p->readers) == 0) {
			struct waitq *q = reader ? &p->rd_wait : &p->wr_wait;
			struct wait_entry e;
			waitq_add(q, &e);
			while (!partner_opened(p, reader, seen)) {
				uint32_t snap = sleep_prepare();
				pthread_mutex_unlock(&p->lock);
				err = partner_opened(p, reader, seen) ? 0 : sleep_until(snap, NULL);
				pthread_mutex_lock(&p->lock);
				if (err) {
					err = -ERESTARTSYS;
					break;
				}
			}
			waitq_remove(&e);
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (err) {
		fput(f); /* releases the end it counted */
		return err;
	}
	*out = f;
	return 0;
}

int pipe_reopen(struct file *f, int flags, struct file **out)
{
	if (f->ops != &pipe_ops)
		return -ENXIO;
	void *slot = f->priv; /* an open end holds it: open_end never drops it */
	return open_end(&slot, flags, out, true);
}

int pipe_create(int flags, struct file *files[2])
{
	struct pipe *p = pipe_alloc(2);
	if (!p)
		return -ENOMEM;
	struct pipe_buf *bufs = p->bufs;
	p->readers = p->writers = 1;
	/* Packet mode is the writer's: the read end does not show O_DIRECT. */
	flags &= O_NONBLOCK | O_DIRECT;
	files[0] = file_new(&pipe_ops, O_RDONLY | (flags & O_NONBLOCK), S_IFIFO, p);
	files[1] = files[0] ? file_new(&pipe_ops, O_WRONLY | flags, S_IFIFO, p) : NULL;
	if (!files[1]) {
		free(files[0]);
		pipe_free_bufs(bufs, PIPE_DEF_SLOTS);
		free(p);
		return -ENOMEM;
	}
	for (int i = 0; i < 2; i++) {
		files[i]->no_pread = true;
		files[i]->may_block = false; /* zero-copy: see the top of this file */
	}
	return 0;
}

/* ---- F_GETPIPE_SZ, F_SETPIPE_SZ --------------------------------------- */

static unsigned pipe_max_size(void)
{
	static unsigned max;
	if (!max) {
		unsigned v = 1024 * 1024;
		FILE *fp = fopen("/proc/sys/fs/pipe-max-size", "re");
		if (fp) {
			if (fscanf(fp, "%u", &v) != 1)
				v = 1024 * 1024;
			fclose(fp);
		}
		max = v;
	}
	return max;
}

/* CAP_SYS_RESOURCE: a guest running as root, when cocoon itself has it. */
static bool may_exceed_max(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (!current || current->proc->uid != 0 || syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_SYS_RESOURCE / 32].effective & (1u << (CAP_SYS_RESOURCE % 32));
}

static unsigned round_pipe_size(unsigned size)
{
	if (size > (1u << 31))
		return 0;
	if (size < PAGE_SIZE)
		return PAGE_SIZE;
	return size <= 1 ? 1 : 1u << (32 - __builtin_clz(size - 1));
}

static long pipe_set_size(struct pipe *p, unsigned arg)
{
	unsigned size = round_pipe_size(arg), nslots = size / PAGE_SIZE;
	if (!nslots)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	unsigned used = p->head - p->tail;
	long r = nslots * PAGE_SIZE;
	if (nslots > p->nslots && size > pipe_max_size() && !may_exceed_max())
		r = -EPERM;
	else if (used > nslots)
		r = -EBUSY;
	if (r < 0 || nslots == p->nslots) {
		pthread_mutex_unlock(&p->lock);
		return r;
	}
	struct pipe_buf *nb = calloc(nslots, sizeof(*nb));
	if (!nb) {
		pthread_mutex_unlock(&p->lock);
		return -ENOMEM;
	}
	/* Keep the data, in order, at the start of the new ring. */
	for (unsigned i = 0; i < used; i++) {
		nb[i] = *slot(p, p->tail + i);
		slot(p, p->tail + i)->page = NULL;
	}
	pipe_free_bufs(p->bufs, p->nslots);
	p->bufs = nb;
	p->nslots = nslots;
	p->tail = 0;
	p->head = used;
	pthread_mutex_unlock(&p->lock);
	wake(&p->wr_wait);
	return r;
}

long pipe_fcntl(struct file *f, int cmd, unsigned long arg)
{
	if (!file_is_pipe(f))
		return -EBADF;
	struct pipe *p = f->priv;
	switch (cmd) {
	case F_SETPIPE_SZ:
		return pipe_set_size(p, (unsigned)arg); /* Linux takes an unsigned int */
	case F_GETPIPE_SZ: {
		pthread_mutex_lock(&p->lock);
		long r = p->nslots * PAGE_SIZE;
		pthread_mutex_unlock(&p->lock);
		return r;
	}
	default:
		return -EINVAL;
	}
}

/* ---- splice and tee ---------------------------------------------------- */

/* Wait for data (Linux's ipipe_prep): 0 (data, or no writers left),
 * -EAGAIN or -EINTR. Called with the lock held. */
static int wait_data(struct pipe *p, bool nonblock)
{
	if (!pipe_empty(p) || !p->writers)
		return 0;
	if (nonblock)
		return -EAGAIN;
	return pipe_wait(p, &p->rd_wait, can_read, NULL);
}

/* Wait for room (Linux's opipe_prep / wait_for_space): 0, -EPIPE (with
 * SIGPIPE raised by the caller), -EAGAIN or -EINTR. Lock held. */
static int wait_room(struct pipe *p, bool nonblock)
{
	if (!p->readers)
		return -EPIPE;
	if (!pipe_full(p))
		return 0;
	if (nonblock)
		return -EAGAIN;
	int r = pipe_wait(p, &p->wr_wait, can_write, NULL);
	return r ? r : p->readers ? 0 : -EPIPE;
}

ssize_t pipe_splice_read(struct file *pf, struct file *out, off_t *pos, size_t len, bool nonblock)
{
	struct pipe *p = pf->priv;
	ssize_t done = 0;
	bool consumed = false;
	pthread_mutex_lock(&p->lock);
	int err = wait_data(p, nonblock);
	while (!err && len && !pipe_empty(p)) {
		struct pipe_buf *b = slot(p, p->tail);
		size_t n = MIN((size_t)b->len, len);
		ssize_t w = out->ops->write(out, &(struct iovec){ b->page + b->off, n }, 1,
					    pos ? *pos : -1, 0);
		if (w < 0) {
			err = w;
			break;
		}
		if (pos)
			*pos += w;
		b->off += w;
		b->len -= w;
		len -= w;
		done += w;
		if (!b->len || b->packet) {
			b->len = 0;
			p->tail++;
			consumed = true;
		}
		if ((size_t)w < n)
			break;
	}
	pthread_mutex_unlock(&p->lock);
	if (consumed)
		wake(&p->wr_wait);
	return done ? done : err;
}

#define SPLICE_MAX_SLOTS 256

/* File to pipe: read straight into fresh buffers (no merging with what
 * the pipe holds), at most the room there is, like Linux. */
ssize_t pipe_splice_write(struct file *in, off_t *pos, struct file *pf, size_t len, bool nonblock)
{
	struct pipe *p = pf->priv;
	struct iovec iov[SPLICE_MAX_SLOTS];
	pthread_mutex_lock(&p->lock);
	ssize_t r = wait_room(p, nonblock);
	if (!r) {
		unsigned room = MIN(p->nslots - (p->head - p->tail), SPLICE_MAX_SLOTS);
		unsigned k = 0;
		for (size_t left = MIN(len, (size_t)room * PAGE_SIZE); left && k < room; k++) {
			char *page = buf_page(slot(p, p->head + k));
			if (!page)
				break;
			iov[k] = (struct iovec){ page, MIN(left, PAGE_SIZE) };
			left -= iov[k].iov_len;
		}
		r = k ? in->ops->read(in, iov, k, pos ? *pos : -1, 0) : -ENOMEM;
		for (size_t left = r > 0 ? r : 0; left; p->head++) {
			struct pipe_buf *b = slot(p, p->head);
			*b = (struct pipe_buf){ b->page, 0, MIN(left, PAGE_SIZE), false, false };
			left -= b->len;
		}
		if (r > 0 && pos)
			*pos += r;
	}
	pthread_mutex_unlock(&p->lock);
	if (r > 0)
		wake(&p->rd_wait);
	if (r == -EPIPE)
		raise_sigpipe();
	return r;
}

static void lock_two(struct pipe *a, struct pipe *b)
{
	if (a > b) {
		struct pipe *t = a;
		a = b;
		b = t;
	}
	pthread_mutex_lock(&a->lock);
	pthread_mutex_lock(&b->lock);
}

static void unlock_two(struct pipe *a, struct pipe *b)
{
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_unlock(&b->lock);
}

/* Both pipes ready (Linux's ipipe_prep then opipe_prep): 0 or -errno. */
static int prep_two(struct pipe *ip, struct pipe *op, bool nonblock)
{
	pthread_mutex_lock(&ip->lock);
	int err = wait_data(ip, nonblock);
	pthread_mutex_unlock(&ip->lock);
	if (err)
		return err;
	pthread_mutex_lock(&op->lock);
	err = wait_room(op, nonblock);
	pthread_mutex_unlock(&op->lock);
	if (err == -EPIPE)
		raise_sigpipe();
	return err;
}

/* Pipe to pipe: whole buffers change rings (their pages are swapped, not
 * copied); a partial one is copied into a buffer that takes no merges. */
ssize_t pipe_splice_pipe(struct file *inf, struct file *outf, size_t len, bool nonblock)
{
	struct pipe *ip = inf->priv, *op = outf->priv;
	for (;;) {
		int err = prep_two(ip, op, nonblock);
		if (err)
			return err;
		ssize_t ret = 0;
		bool drained = false, sigpipe = false;
		lock_two(ip, op);
		while (len) {
			if (!op->readers) {
				sigpipe = true;
				if (!ret)
					ret = -EPIPE;
				break;
			}
			if (pipe_empty(ip) || pipe_full(op))
				break;
			struct pipe_buf *ib = slot(ip, ip->tail), *ob = slot(op, op->head);
			if (len >= ib->len) {
				char *spare = ob->page;
				*ob = *ib;
				*ib = (struct pipe_buf){ .page = spare };
				ip->tail++;
				drained = true;
			} else {
				if (!buf_page(ob)) {
					if (!ret)
						ret = -ENOMEM;
					break;
				}
				memcpy(ob->page, ib->page + ib->off, len);
				*ob = (struct pipe_buf){ ob->page, 0, len, false, ib->packet };
				ib->off += len;
				ib->len -= len;
			}
			op->head++;
			ret += ob->len;
			len -= ob->len;
		}
		bool retry = !ret && ip->writers;
		unlock_two(ip, op);
		if (ret > 0)
			wake(&op->rd_wait);
		if (drained)
			wake(&ip->wr_wait);
		if (sigpipe)
			raise_sigpipe();
		if (!retry)
			return ret;
	}
}

/* tee: copy what the input holds without consuming it. */
ssize_t pipe_tee(struct file *inf, struct file *outf, size_t len, bool nonblock)
{
	struct pipe *ip = inf->priv, *op = outf->priv;
	int err = prep_two(ip, op, nonblock);
	if (err)
		return err;
	ssize_t ret = 0;
	bool sigpipe = false;
	lock_two(ip, op);
	for (unsigned i = ip->tail; len; i++) {
		if (!op->readers) {
			sigpipe = true;
			if (!ret)
				ret = -EPIPE;
			break;
		}
		if (i == ip->head || pipe_full(op))
			break;
		struct pipe_buf *ib = slot(ip, i), *ob = slot(op, op->head);
		if (!buf_page(ob)) {
			if (!ret)
				ret = -ENOMEM;
			break;
		}
		size_t n = MIN((size_t)ib->len, len);
		memcpy(ob->page, ib->page + ib->off, n);
		*ob = (struct pipe_buf){ ob->page, 0, n, false, ib->packet };
		op->head++;
		ret += n;
		len -= n;
	}
	unlock_two(ip, op);
	if (ret > 0)
		wake(&op->rd_wait);
	if (sigpipe)
		raise_sigpipe();
	return ret;
}

/* ---- pipe, pipe2 -------------------------------------------------------- */

#define O_NOTIFICATION_PIPE O_EXCL

static void close_fd(int fd)
{
	sys_close(&(struct sysargs){ .a = { (uint64_t)fd } });
}

static long do_pipe2(gaddr_t ufds, int flags)
{
	struct file *f[2];
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE))
		return -EINVAL;
	if (flags & O_NOTIFICATION_PIPE)
		return -ENOPKG; /* no watch queues: Linux without CONFIG_WATCH_QUEUE */
	int err = pipe_create(flags, f);
	if (err)
		return err;
	bool cloexec = flags & O_CLOEXEC;
	int fds[2];
	fds[0] = fd_install(f[0], 0, cloexec);
	if (fds[0] < 0) {
		fput(f[0]);
		fput(f[1]);
		return fds[0];
	}
	fds[1] = fd_install(f[1], 0, cloexec);
	if (fds[1] < 0) {
		close_fd(fds[0]);
		fput(f[1]);
		return fds[1];
	}
	if (copy_to_guest(ufds, fds, sizeof(fds))) {
		close_fd(fds[0]);
		close_fd(fds[1]);
		return -EFAULT;
	}
	return 0;
}

long sys_pipe(const struct sysargs *a) { return do_pipe2(a->a[0], 0); }
long sys_pipe2(const struct sysargs *a) { return do_pipe2(a->a[0], (int)a->a[1]); }
