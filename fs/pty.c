/* Pseudo-terminals: /dev/ptmx makes a pair, whose slave is /dev/pts/N
 * (fs/devpts.c). What the master writes waits in the slave's input
 * queue (Linux's flip buffer, 64 KiB) until the line discipline
 * (kernel/tty_ldisc.c) has room; what the slave writes, and the echoes,
 * go through output processing into the master's queue. One termios, the
 * slave's: termios ioctls on the master act on it, as on Linux.
 *
 * Lifetimes (Linux's pty_close): the last slave close makes master reads
 * fail with EIO once drained (and master polls POLLHUP); the master's
 * close hangs the slave up -- its files read 0 and write EIO, a reader
 * asleep wakes with EIO, the session loses its controlling terminal and
 * its leader gets SIGHUP -- and takes /dev/pts/N away. The index is free
 * again when nothing holds the pair.
 *
 * Locking: pty.lock covers both queues, the line discipline and the
 * pair's state; it is taken after tasklist_lock (kernel/tty.h) and is
 * never held while calling into kernel/tty.c, nor while copying guest
 * memory (reads and writes come with bounce buffers: may_block). The
 * table of ptys (table_lock) comes before pty.lock. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include "fs/file.h"
#include "fs/poll.h"
#include "kernel/ktime.h"
#include "kernel/task.h"
#include "kernel/tty.h"
#include "mm/uaccess.h"

#define PTY_QUEUE (64 * 1024)    /* TTYB_DEFAULT_MEM_LIMIT */
#define PTY_MAX 4096             /* /proc/sys/kernel/pty/max is larger; enough here */
#define TIOCSIG_CMD 0x40045436U  /* _IOW('T', 0x36, int) */

struct pty {
	pthread_mutex_t lock;
	atomic_int refs;             /* files, poll-table pins, the table's until the master goes */
	unsigned index;
	uint64_t gen;
	uint32_t uid, gid;           /* the slave's owner (devpts) */
	mode_t mode;
	struct tty tty;              /* the slave's job control */
	struct ldisc ld;             /* the slave's termios and input */
	struct tty_queue to_master;  /* output and echoes, read by the master */
	struct tty_queue to_slave;   /* master writes not yet taken by the ldisc */
	struct winsize ws;
	bool locked;                 /* TIOCSPTLCK */
	bool master_open;
	bool hungup;                 /* the master closed: the slave is hung up */
	bool slave_closed;           /* the last slave closed (master: EIO, POLLHUP) */
	int slave_opens;
	bool packet;                 /* TIOCPKT */
	unsigned char ctrl_status;
	struct waitq master_wq, slave_wq;
	struct timespec atime, mtime;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pty *table[PTY_MAX];   /* by index, while the pair lives */
static uint64_t next_gen = 1;

static const struct file_ops master_ops, slave_ops;

static struct pty *pty_get(struct pty *p)
{
	atomic_fetch_add(&p->refs, 1);
	return p;
}

static void pty_put(void *obj)
{
	struct pty *p = obj;
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	pthread_mutex_lock(&table_lock);
	if (table[p->index] == p)
		table[p->index] = NULL;
	pthread_mutex_unlock(&table_lock);
	free(p->to_master.buf);
	free(p->to_slave.buf);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void wake(struct waitq *q)
{
	if (waitq_active(q))
		waitq_wake_all(q);
}

static void stamp(struct timespec *t)
{
	ktime_get(CLOCK_REALTIME_COARSE, t);
}

static bool nonblocking(struct file *f, int rwf)
{
	return (f->flags & O_NONBLOCK) || (rwf & RWF_NOWAIT);
}

/* ---- devpts' view ------------------------------------------------------ */

bool pty_exists(unsigned index, uint32_t *uid, uint32_t *gid, uint64_t *gen)
{
	bool r = false;
	pthread_mutex_lock(&table_lock);
	struct pty *p = index < PTY_MAX ? table[index] : NULL;
	if (p) {
		pthread_mutex_lock(&p->lock);
		r = p->master_open;
		*uid = p->uid;
		*gid = p->gid;
		*gen = p->gen;
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&table_lock);
	return r;
}

int pty_next(unsigned *index)
{
	pthread_mutex_lock(&table_lock);
	while (*index < PTY_MAX && !table[*index])
		(*index)++;
	pthread_mutex_unlock(&table_lock);
	return *index < PTY_MAX;
}

/* ---- moving input into the line discipline ------------------------------ */

/* Feed queued master writes to the line discipline while it has room:
 * called and returns with p->lock held; signals of ISIG characters are
 * sent with the lock released, before the characters after them. */
static void push_input(struct pty *p)
{
	bool moved = false;
	while (tq_count(&p->to_slave)) {
		unsigned char chunk[256];
		size_t n = MIN(sizeof(chunk), tq_count(&p->to_slave));
		for (size_t i = 0; i < n; i++)
			chunk[i] = p->to_slave.buf[(p->to_slave.tail + i) % p->to_slave.cap];
		struct ldisc_effect e;
		size_t used = ldisc_receive(&p->ld, chunk, n, &e);
		p->to_slave.tail += used;
		moved |= used > 0;
		if (e.sig) {
			pthread_mutex_unlock(&p->lock);
			tty_signal_pgrp(&p->tty, e.sig);
			pthread_mutex_lock(&p->lock);
		}
		if (used < n && !e.sig)
			break; /* the line discipline is full */
	}
	if (moved) {
		wake(&p->slave_wq);  /* input (and the master's room) */
		wake(&p->master_wq); /* echoes */
	}
}

/* Sleep on q until ready(p) or the deadline: called and returns with
 * p->lock held; 0, -EINTR or -ETIMEDOUT. */
static int pty_wait(struct pty *p, struct waitq *q, bool (*ready)(struct pty *, void *), void *arg,
		    const struct timespec *deadline)
{
	struct wait_entry e;
	int r = 0;
	waitq_add(q, &e);
	for (;;) {
		uint32_t snap = sleep_prepare();
		if (ready(p, arg))
			break;
		pthread_mutex_unlock(&p->lock);
		r = sleep_until(snap, deadline);
		pthread_mutex_lock(&p->lock);
		if (r) {
			if (ready(p, arg))
				r = 0;
			break;
		}
	}
	waitq_remove(&e);
	return r;
}

/* ---- the slave -------------------------------------------------------- */

static bool slave_can_read(struct pty *p, void *amt)
{
	return ldisc_readable(&p->ld, *(size_t *)amt) || p->hungup || !p->master_open;
}

static ssize_t slave_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct pty *p = f->priv;
	unsigned char *buf = iov->iov_base;
	size_t nr = iov->iov_len, done = 0;
	if (p->hungup)
		return 0; /* hung_up_tty_read */
	int r = tty_check_read(&p->tty);
	if (r)
		return r;
	pthread_mutex_lock(&p->lock);
	/* n_tty_read's VMIN/VTIME rules. */
	size_t minimum = 0;
	long time_ds = 0;
	bool timed = false;
	if (!p->ld.icanon) {
		minimum = p->ld.termios.c_cc[VMIN];
		if (minimum) {
			time_ds = p->ld.termios.c_cc[VTIME];
		} else {
			minimum = 1;
			time_ds = p->ld.termios.c_cc[VTIME];
			timed = true; /* the whole read waits at most VTIME */
		}
	}
	struct timespec deadline, *dl = NULL;
	if (timed) {
		deadline = deadline_after(&(struct timespec){ time_ds / 10, time_ds % 10 * 100000000L });
		dl = &deadline;
	}
	ssize_t ret = 0;
	while (done < nr) {
		if (!ldisc_readable(&p->ld, 0)) {
			if (p->hungup || !p->master_open) {
				ret = -EIO;
				break;
			}
			if (timed && !time_ds)
				break; /* VMIN 0, VTIME 0: what is there */
			if (nonblocking(f, rwf)) {
				ret = -EAGAIN;
				break;
			}
			int w = pty_wait(p, &p->slave_wq, slave_can_read, &(size_t){ 1 }, dl);
			if (w == -ETIMEDOUT)
				break;
			if (w) {
				ret = -ERESTARTSYS;
				break;
			}
			continue;
		}
		bool eof_push;
		size_t got = ldisc_read(&p->ld, buf + done, nr - done, &eof_push);
		done += got;
		push_input(p); /* room again for what the master wrote */
		wake(&p->master_wq);
		if (eof_push)
			continue;
		if (p->ld.icanon || done >= minimum)
			break;
		if (time_ds) { /* inter-byte timer from now */
			deadline = deadline_after(&(struct timespec){ time_ds / 10, time_ds % 10 * 100000000L });
			dl = &deadline;
		}
	}
	if (done)
		stamp(&p->atime);
	pthread_mutex_unlock(&p->lock);
	return done ? (ssize_t)done : ret;
}

static bool slave_can_write(struct pty *p, void *unused)
{
	return (tq_room(&p->to_master) && !p->ld.stopped) || p->hungup || !p->master_open;
}

static ssize_t slave_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct pty *p = f->priv;
	const unsigned char *buf = iov->iov_base;
	size_t nr = iov->iov_len, done = 0;
	if (p->hungup)
		return -EIO;
	if (p->ld.termios.c_lflag & TOSTOP) {
		int r = tty_check_change(&p->tty);
		if (r)
			return r;
	}
	pthread_mutex_lock(&p->lock);
	ssize_t ret = 0;
	while (done < nr) {
		if (p->hungup || !p->master_open) {
			ret = -EIO;
			break;
		}
		size_t w = ldisc_write(&p->ld, buf + done, nr - done);
		if (w) {
			done += w;
			wake(&p->master_wq);
			continue;
		}
		if (nonblocking(f, rwf)) {
			ret = -EAGAIN;
			break;
		}
		if (pty_wait(p, &p->slave_wq, slave_can_write, NULL, NULL)) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	if (done)
		stamp(&p->mtime);
	pthread_mutex_unlock(&p->lock);
	return done ? (ssize_t)done : ret;
}

static unsigned slave_poll(struct file *f, struct poll_table *pt)
{
	struct pty *p = f->priv;
	if (pt && pt->queue)
		poll_wait_obj(&p->slave_wq, pt, pty_put, pty_get(p));
	pthread_mutex_lock(&p->lock);
	unsigned mask = 0;
	if (p->hungup) {
		mask = POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
	} else {
		const uint8_t *cc = p->ld.termios.c_cc;
		if (ldisc_readable(&p->ld, cc[VTIME] ? 0 : cc[VMIN]))
			mask |= POLLIN | POLLRDNORM;
		if (!p->master_open)
			mask |= POLLHUP;
		if (tq_room(&p->to_master) && !p->ld.stopped)
			mask |= POLLOUT | POLLWRNORM;
	}
	pthread_mutex_unlock(&p->lock);
	return mask;
}

/* ---- the master ------------------------------------------------------- */

static bool master_can_read(struct pty *p, void *unused)
{
	return tq_count(&p->to_master) || (p->packet && p->ctrl_status) || p->slave_closed;
}

static ssize_t master_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct pty *p = f->priv;
	unsigned char *buf = iov->iov_base;
	size_t nr = iov->iov_len;
	ssize_t ret = 0;
	if (!nr)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->packet && p->ctrl_status) { /* a status byte alone */
			buf[0] = p->ctrl_status;
			p->ctrl_status = 0;
			ret = 1;
			break;
		}
		if (tq_count(&p->to_master)) {
			size_t off = 0;
			if (p->packet) {
				buf[0] = TIOCPKT_DATA;
				off = 1;
			}
			ret = off + tq_get(&p->to_master, buf + off, nr - off);
			wake(&p->slave_wq);
			break;
		}
		if (p->slave_closed) {
			ret = -EIO;
			break;
		}
		if (nonblocking(f, rwf)) {
			ret = -EAGAIN;
			break;
		}
		if (pty_wait(p, &p->master_wq, master_can_read, NULL, NULL)) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static bool master_can_write(struct pty *p, void *unused)
{
	return tq_room(&p->to_slave) > 0;
}

static ssize_t master_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	struct pty *p = f->priv;
	const unsigned char *buf = iov->iov_base;
	size_t nr = iov->iov_len, done = 0;
	ssize_t ret = 0;
	pthread_mutex_lock(&p->lock);
	while (done < nr) {
		size_t w = tq_put(&p->to_slave, buf + done, nr - done);
		done += w;
		push_input(p);
		if (done == nr)
			break;
		if (nonblocking(f, rwf)) {
			ret = -EAGAIN;
			break;
		}
		if (pty_wait(p, &p->master_wq, master_can_write, NULL, NULL)) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return done ? (ssize_t)done : ret;
}

static unsigned master_poll(struct file *f, struct poll_table *pt)
{
	struct pty *p = f->priv;
	if (pt && pt->queue)
		poll_wait_obj(&p->master_wq, pt, pty_put, pty_get(p));
	pthread_mutex_lock(&p->lock);
	unsigned mask = 0;
	if (tq_count(&p->to_master))
		mask |= POLLIN | POLLRDNORM;
	if (p->packet && p->ctrl_status)
		mask |= POLLPRI | POLLIN | POLLRDNORM;
	if (p->slave_closed)
		mask |= POLLHUP;
	if (tq_room(&p->to_slave))
		mask |= POLLOUT | POLLWRNORM;
	pthread_mutex_unlock(&p->lock);
	return mask;
}

/* ---- ioctls of both sides --------------------------------------------- */

static int termios_ioctl(struct pty *p, bool master, unsigned cmd, gaddr_t arg)
{
	int set;
	size_t size = tty_termios_cmd(cmd, &set);
	struct ktermios t;
	if (!set) {
		pthread_mutex_lock(&p->lock);
		t = p->ld.termios;
		pthread_mutex_unlock(&p->lock);
		return copy_to_guest(arg, &t, size);
	}
	if (!master) {
		int r = tty_check_change(&p->tty);
		if (r)
			return r;
	}
	pthread_mutex_lock(&p->lock);
	t = p->ld.termios;
	pthread_mutex_unlock(&p->lock);
	if (copy_from_guest(&t, arg, size))
		return -EFAULT;
	if (size == KTERMIOS_V1_SIZE)
		tty_termios_speeds(&t);
	pthread_mutex_lock(&p->lock);
	if (set == TTY_SET_FLUSH) {
		ldisc_flush_input(&p->ld);
		p->to_slave.tail = p->to_slave.head;
	}
	bool was_stopped = p->ld.stopped;
	ldisc_set_termios(&p->ld, &t);
	if (p->packet && was_stopped != p->ld.stopped)
		p->ctrl_status |= p->ld.stopped ? TIOCPKT_STOP : TIOCPKT_START;
	push_input(p);
	pthread_mutex_unlock(&p->lock);
	wake(&p->slave_wq);
	wake(&p->master_wq);
	return 0;
}

/* TCFLSH: the input or output queue of the side f is. */
static int flush_ioctl(struct pty *p, bool master, unsigned long arg)
{
	if (arg > TCIOFLUSH)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	bool in = arg == TCIFLUSH || arg == TCIOFLUSH, out = arg == TCOFLUSH || arg == TCIOFLUSH;
	if (master) {
		if (in)
			p->to_master.tail = p->to_master.head;
		if (out)
			p->to_slave.tail = p->to_slave.head;
	} else {
		if (in) {
			ldisc_flush_input(&p->ld);
			p->to_slave.tail = p->to_slave.head;
		}
		if (out)
			p->to_master.tail = p->to_master.head;
		if (p->packet)
			p->ctrl_status |= (in ? TIOCPKT_FLUSHREAD : 0) | (out ? TIOCPKT_FLUSHWRITE : 0);
	}
	pthread_mutex_unlock(&p->lock);
	wake(&p->slave_wq);
	wake(&p->master_wq);
	return 0;
}

/* TIOCGPTPEER: the slave, opened for the master's holder. */
static long open_peer(struct pty *p, unsigned long flags)
{
	struct file *f;
	int err = devpts_open_slave(p->index, (int)flags, &f);
	if (err)
		return err;
	int fd = fd_install(f, 0, flags & O_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

static long pty_ioctl(struct file *f, bool master, unsigned cmd, gaddr_t arg)
{
	struct pty *p = f->priv;
	int v;
	long r;
	if (!master && p->hungup)
		return cmd == TIOCSPGRP ? -ENOTTY : -EIO; /* hung_up_tty_ioctl */
	r = tty_jobctl_ioctl(&p->tty, f, master, cmd, arg);
	if (r != 1)
		return r;
	int set;
	if (tty_termios_cmd(cmd, &set))
		return termios_ioctl(p, master, cmd, arg);
	switch (cmd) {
	case TIOCGWINSZ: {
		pthread_mutex_lock(&p->lock);
		struct winsize ws = p->ws;
		pthread_mutex_unlock(&p->lock);
		return copy_to_guest(arg, &ws, sizeof(ws));
	}
	case TIOCSWINSZ: {
		struct winsize ws;
		if (copy_from_guest(&ws, arg, sizeof(ws)))
			return -EFAULT;
		pthread_mutex_lock(&p->lock);
		bool changed = memcmp(&ws, &p->ws, sizeof(ws)) != 0;
		p->ws = ws;
		pthread_mutex_unlock(&p->lock);
		if (changed)
			tty_signal_pgrp(&p->tty, SIGWINCH);
		return 0;
	}
	case FIONREAD:
		pthread_mutex_lock(&p->lock);
		v = master ? (int)tq_count(&p->to_master) : (int)ldisc_inq(&p->ld);
		pthread_mutex_unlock(&p->lock);
		return copy_to_guest(arg, &v, sizeof(v));
	case TIOCOUTQ:
		v = 0; /* a pty keeps no output of its own (pty_chars_in_buffer) */
		return copy_to_guest(arg, &v, sizeof(v));
	case TCFLSH:
		if (!master && (r = tty_check_change(&p->tty)))
			return r;
		return flush_ioctl(p, master, arg);
	case TCXONC:
		if (!master && (r = tty_check_change(&p->tty)))
			return r;
		if (arg > TCION)
			return -EINVAL;
		if (!master && (arg == TCOOFF || arg == TCOON)) {
			pthread_mutex_lock(&p->lock);
			p->ld.stopped = arg == TCOOFF;
			if (p->packet)
				p->ctrl_status |= arg == TCOOFF ? TIOCPKT_STOP : TIOCPKT_START;
			pthread_mutex_unlock(&p->lock);
			wake(&p->slave_wq);
			wake(&p->master_wq);
		}
		return 0;
	case TCSBRK:
	case TCSBRKP:
		return master ? 0 : tty_check_change(&p->tty);
	case TIOCGETD:
		v = N_TTY;
		return copy_to_guest(arg, &v, sizeof(v));
	case TIOCSETD:
		if (copy_from_guest(&v, arg, sizeof(v)))
			return -EFAULT;
		return v == N_TTY ? 0 : -EINVAL;
	case TIOCEXCL:
	case TIOCNXCL:
		return 0;
	}
	if (!master)
		return -ENOTTY;
	switch (cmd) { /* pty_unix98_ioctl: the master's own */
	case TIOCGPTN:
		v = p->index;
		return copy_to_guest(arg, &v, sizeof(v));
	case TIOCSPTLCK:
	case TIOCPKT:
		if (copy_from_guest(&v, arg, sizeof(v)))
			return -EFAULT;
		pthread_mutex_lock(&p->lock);
		if (cmd == TIOCSPTLCK) {
			p->locked = v != 0;
		} else {
			if (v && !p->packet)
				p->ctrl_status = 0;
			p->packet = v != 0;
		}
		pthread_mutex_unlock(&p->lock);
		return 0;
	case TIOCGPTLCK:
	case TIOCGPKT:
		pthread_mutex_lock(&p->lock);
		v = cmd == TIOCGPTLCK ? p->locked : p->packet;
		pthread_mutex_unlock(&p->lock);
		return copy_to_guest(arg, &v, sizeof(v));
	case TIOCGPTPEER:
		return open_peer(p, arg);
	case TIOCSIG_CMD:
		if (arg != SIGINT && arg != SIGQUIT && arg != SIGTSTP)
			return -EINVAL;
		pthread_mutex_lock(&p->lock);
		if (!(p->ld.termios.c_lflag & NOFLSH))
			ldisc_flush_input(&p->ld);
		pthread_mutex_unlock(&p->lock);
		tty_signal_pgrp(&p->tty, (int)arg);
		return 0;
	}
	return -ENOTTY;
}

static long master_ioctl(struct file *f, unsigned cmd, gaddr_t arg)
{
	return pty_ioctl(f, true, cmd, arg);
}

static long slave_ioctl(struct file *f, unsigned cmd, gaddr_t arg)
{
	return pty_ioctl(f, false, cmd, arg);
}

/* ---- stat, release ---------------------------------------------------- */

static struct statx_timestamp stx_time(struct timespec t)
{
	return (struct statx_timestamp){ .tv_sec = t.tv_sec, .tv_nsec = t.tv_nsec };
}

/* A slave's stat is its devpts node's, also for a file opened without
 * a path (TIOCGPTPEER), with the pair's times. */
static int slave_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	struct pty *p = f->priv;
	int err = f->inode ? vfs_file_statx(f, flags, mask, x) : 0;
	if (err && err != -ENOENT)
		return err;
	if (!f->inode || err) {
		memset(x, 0, sizeof(*x));
		x->stx_mask = STATX_BASIC_STATS;
		x->stx_blksize = 1024;
		x->stx_nlink = 1;
		x->stx_ino = p->index + 3;
		x->stx_dev_major = major(devpts_dev());
		x->stx_dev_minor = minor(devpts_dev());
		x->stx_rdev_major = 136 + p->index / 256;
		x->stx_rdev_minor = p->index % 256;
	}
	pthread_mutex_lock(&p->lock);
	x->stx_mode = S_IFCHR | p->mode;
	x->stx_uid = p->uid;
	x->stx_gid = p->gid;
	x->stx_atime = stx_time(p->atime);
	x->stx_mtime = x->stx_ctime = stx_time(p->mtime);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void slave_release(struct file *f)
{
	struct pty *p = f->priv;
	pthread_mutex_lock(&p->lock);
	if (--p->slave_opens == 0)
		p->slave_closed = true;
	pthread_mutex_unlock(&p->lock);
	wake(&p->master_wq);
	wake(&p->slave_wq);
	pty_put(p);
}

static void master_release(struct file *f)
{
	struct pty *p = f->priv;
	pthread_mutex_lock(&p->lock);
	p->master_open = false;
	p->hungup = true;
	p->packet = false;
	ldisc_flush_input(&p->ld);
	p->to_slave.tail = p->to_slave.head;
	pthread_mutex_unlock(&p->lock);
	wake(&p->slave_wq);
	wake(&p->master_wq);
	tty_hangup(&p->tty);
	/* Nobody's controlling terminal any more: out of the list while
	 * the master's reference still holds the pair. */
	tty_unregister(&p->tty);
	pty_put(p); /* the table's: the name goes */
	pty_put(p);
}

static const struct file_ops master_ops = {
	.read = master_read,
	.write = master_write,
	.poll = master_poll,
	.ioctl = master_ioctl,
	.statx = vfs_file_statx,
	.release = master_release,
};

static const struct file_ops slave_ops = {
	.read = slave_read,
	.write = slave_write,
	.poll = slave_poll,
	.ioctl = slave_ioctl,
	.statx = slave_statx,
	.release = slave_release,
};

/* ---- opening ---------------------------------------------------------- */

static struct file *pty_file(struct pty *p, const struct file_ops *ops, int flags)
{
	struct file *f = file_new(ops, flags, S_IFCHR, p);
	if (f) {
		f->may_block = true;
		f->no_pread = true;
	}
	return f;
}

int ptmx_open(int flags, struct file **out)
{
	struct pty *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->to_master = (struct tty_queue){ .buf = malloc(PTY_QUEUE), .cap = PTY_QUEUE };
	p->to_slave = (struct tty_queue){ .buf = malloc(PTY_QUEUE), .cap = PTY_QUEUE };
	struct file *f = pty_file(p, &master_ops, flags);
	if (!p->to_master.buf || !p->to_slave.buf || !f) {
		free(p->to_master.buf);
		free(p->to_slave.buf);
		free(p);
		if (f) {
			f->ops = &(const struct file_ops){ 0 }; /* nothing to release yet */
			fput(f);
		}
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	waitq_init(&p->master_wq);
	waitq_init(&p->slave_wq);
	atomic_init(&p->refs, 2); /* the master file and the table */
	ldisc_init(&p->ld, &p->to_master);
	p->locked = true;
	p->master_open = true;
	p->uid = current ? current->proc->fsuid : 0;
	p->gid = devpts_slave_gid(current ? current->proc->fsgid : 0);
	p->mode = devpts_slave_mode();
	stamp(&p->atime);
	p->mtime = p->atime;
	pthread_mutex_lock(&table_lock);
	unsigned i = 0;
	while (i < PTY_MAX && table[i])
		i++;
	if (i < PTY_MAX) {
		p->index = i;
		p->gen = next_gen++;
		table[i] = p;
	}
	pthread_mutex_unlock(&table_lock);
	if (i == PTY_MAX) {
		p->master_open = false;
		p->hungup = true;
		fput(f); /* drops both references: frees p */
		return -ENOSPC;
	}
	tty_register(&p->tty);
	*out = f;
	return 0;
}

/* A new slave file: pty_open's rules (EIO while locked or after the
 * master closed). */
static int open_slave_file(struct pty *p, int flags, bool check_lock, struct file **out)
{
	pthread_mutex_lock(&p->lock);
	int err = 0;
	if (p->hungup || !p->master_open || (check_lock && p->locked))
		err = -EIO;
	else if (!(*out = pty_file(p, &slave_ops, flags)))
		err = -ENOMEM;
	if (!err) {
		p->slave_opens++;
		p->slave_closed = false;
		pty_get(p);
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

int pty_slave_open(unsigned index, int flags, struct file **out)
{
	pthread_mutex_lock(&table_lock);
	struct pty *p = index < PTY_MAX ? table[index] : NULL;
	if (p)
		pty_get(p);
	pthread_mutex_unlock(&table_lock);
	if (!p)
		return -ENXIO;
	int err = open_slave_file(p, flags, true, out);
	pty_put(p);
	if (!err)
		tty_open_set_ctty(&p->tty, flags);
	return err;
}

int pty_open_ctty(struct tty *t, int flags, struct file **out)
{
	struct pty *p = (struct pty *)((char *)t - offsetof(struct pty, tty));
	return open_slave_file(p, flags, false, out);
}
