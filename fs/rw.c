/* read, write and their vector and positioned forms, and lseek.
 *
 * Files that never wait (regular files, directories) move data straight
 * between the host and the memory file, under the guest memory lock, so a
 * page cannot be unmapped while the host writes it. Pipes copy straight
 * too, taking that lock only while they copy (fs/pipe.c). Other files
 * that may wait (ttys, host FIFOs) go through a bounce buffer: holding
 * the lock while blocked would stall the process's mmap calls. */
#include <signal.h>
#include <limits.h>
#include <stdlib.h>
#include "fs/file.h"
#include "fs/fsnotify.h"
#include "fs/pipe.h"
#include "kernel/task.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"
#include "mm/mmap_shared.h"

#define MAX_RW_COUNT (INT_MAX & PAGE_MASK)
#define KIOV_MAX 64
#define BOUNCE_MAX (64 * 1024)

#define useg guest_seg /* fs/pipe.h */

typedef ssize_t (*rw_op)(struct file *, const struct iovec *, int, off_t, int);

static bool access_ok(uint64_t addr, uint64_t len)
{
	return len <= TASK_SIZE_MAX && addr <= TASK_SIZE_MAX - len;
}

/* A read into a buffer the guest cannot take still returns 0 at the end
 * of a file, and EISDIR on a directory, as Linux finds those before it
 * touches the buffer. Ask with one byte, leaving the position alone. */
static ssize_t read_fault(struct file *f, off_t pos, int rwf)
{
	char c;
	if (pos < 0)
		pos = f->ops->llseek ? f->ops->llseek(f, 0, SEEK_CUR) : -1;
	ssize_t r = pos < 0 ? 1 : f->ops->read(f, &(struct iovec){ &c, 1 }, 1, pos, rwf);
	return r <= 0 ? r : -EFAULT;
}

static ssize_t direct(struct file *f, rw_op op, const struct useg *seg, int nseg,
		      off_t pos, int rwf, bool write)
{
	struct iovec kiov[KIOV_MAX];
	ssize_t done = 0, err = 0;
	int si = 0;
	uint64_t off = 0;
	for (int i = 0; !write && i < nseg; i++)
		guest_prepare_write(seg[i].base, seg[i].len);
	guest_mem_lock();
	while (si < nseg) {
		int n = 0;
		size_t want = 0, cov;
		bool fault = false;
		while (si < nseg && n < KIOV_MAX) {
			n += guest_iovecs(seg[si].base + off, seg[si].len - off, !write,
					  kiov + n, KIOV_MAX - n, &cov);
			want += cov;
			off += cov;
			if (off == seg[si].len) {
				si++;
				off = 0;
			} else if (n < KIOV_MAX) {
				fault = true;
				break;
			}
		}
		if (!want) {
			err = done ? 0 : write ? -EFAULT : read_fault(f, pos, rwf);
			break;
		}
		ssize_t r = op(f, kiov, n, pos, rwf);
		if (r < 0) {
			err = done ? 0 : r;
			break;
		}
		done += r;
		if (pos >= 0)
			pos += r;
		if ((size_t)r < want || fault)
			break;
	}
	guest_mem_unlock();
	return err ? err : done;
}

static ssize_t bounce_read(struct file *f, const struct useg *seg, int nseg,
			   size_t cap, off_t pos, int rwf, char *buf)
{
	/* Read no more than the guest can take: the data cannot go back. */
	size_t want = 0;
	for (int i = 0; i < nseg && want < cap; i++) {
		size_t l = MIN(seg[i].len, cap - want);
		size_t acc = guest_accessible_len(seg[i].base, l, true);
		want += acc;
		if (acc < l)
			break;
	}
	if (!want)
		return -EFAULT;
	ssize_t r = f->ops->read(f, &(struct iovec){ buf, want }, 1, pos, rwf);
	size_t done = 0;
	for (int i = 0; r > 0 && done < (size_t)r; i++) {
		size_t l = MIN(seg[i].len, (size_t)r - done);
		if (copy_to_guest(seg[i].base, buf + done, l))
			return done ? (ssize_t)done : -EFAULT; /* unmapped meanwhile */
		done += l;
	}
	return r;
}

static ssize_t bounce_write(struct file *f, const struct useg *seg, int nseg,
			    size_t cap, off_t pos, int rwf, char *buf)
{
	ssize_t done = 0;
	int si = 0;
	uint64_t off = 0;
	bool fault = false;
	while (si < nseg && !fault) {
		size_t n = 0;
		while (si < nseg && n < cap) {
			size_t l = MIN(seg[si].len - off, cap - n);
			size_t acc = guest_accessible_len(seg[si].base + off, l, false);
			if (acc && copy_from_guest(buf + n, seg[si].base + off, acc))
				acc = 0;
			n += acc;
			off += acc;
			if (acc < l) {
				fault = true;
				break;
			}
			if (off == seg[si].len) {
				si++;
				off = 0;
				if (f->write_each_segment)
					break;
			}
		}
		if (!n && (fault || !f->write_each_segment))
			return done ? done : -EFAULT;
		/* (An empty segment of a file written segment by segment: the
		 * op says what 0 bytes are, EINVAL for an eventfd.) */
		ssize_t r = f->ops->write(f, &(struct iovec){ buf, n }, 1, pos, rwf);
		if (r < 0)
			return done ? done : r;
		done += r;
		if (pos >= 0)
			pos += r;
		if ((size_t)r < n)
			break;
	}
	return done;
}

/* A host regular file, which shared mappings may hold an image of
 * (mm/mmap_shared.h): what they changed in the range is written back
 * before a read, and a write is read into the image after. */
static ssize_t host_file_rw(struct file *f, rw_op op, const struct useg *seg, int nseg, off_t pos,
			    int rwf, bool write, size_t total)
{
	off_t at = pos >= 0 || !f->ops->llseek ? pos : f->ops->llseek(f, 0, SEEK_CUR);
	if (!write && at >= 0)
		shared_image_sync(f, (uint64_t)at, total);
	ssize_t r = direct(f, op, seg, nseg, pos, rwf, write);
	if (write && r > 0) {
		if (pos < 0 && f->ops->llseek) /* O_APPEND writes at the end */
			at = f->ops->llseek(f, 0, SEEK_CUR) - r;
		if (at >= 0)
			shared_image_refresh(f, (uint64_t)at, (uint64_t)r);
	}
	return r;
}

/* Move data between f and the guest segments, stopping at the first
 * short transfer or inaccessible byte; the count, or -errno if nothing
 * moved. vec: readv-style, where nothing to move is simply 0. */
static ssize_t transfer(struct file *f, const struct useg *seg, int nseg, off_t pos,
			int rwf, bool write, bool vec)
{
	rw_op op = write ? f->ops->write : f->ops->read;
	size_t total = 0;
	for (int i = 0; i < nseg; i++)
		total += seg[i].len;
	if (!total) {
		char dummy;
		return vec ? 0 : op(f, &(struct iovec){ &dummy, 0 }, 1, pos, rwf);
	}
	if (file_is_pipe(f))
		return pipe_rw_guest(f, seg, nseg, rwf, write);
	if (!f->may_block && f->hostfd >= 0 && S_ISREG(f->type) && shared_images_exist())
		return host_file_rw(f, op, seg, nseg, pos, rwf, write, total);
	if (!f->may_block)
		return direct(f, op, seg, nseg, pos, rwf, write);
	size_t cap = MIN(total, BOUNCE_MAX);
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	ssize_t r = write ? bounce_write(f, seg, nseg, cap, pos, rwf, buf)
		: bounce_read(f, seg, nseg, cap, pos, rwf, buf);
	free(buf);
	/* Writing to a pipe nobody reads: the writing thread gets SIGPIPE
	 * (the kernel process itself ignores the host's). A socket's
	 * protocol decides for itself (stream sockets do, others not). */
	if (write && r == -EPIPE && !S_ISSOCK(f->type))
		signal_raise(SIGPIPE);
	return r;
}


/* The checks of a read/write family call, in Linux's order: bad fd,
 * positioned I/O on a pipe, wrong access mode, no such operation. */
static long rw_begin(int fd, bool write, bool positioned, struct file **fp)
{
	struct file *f = fget(fd);
	int acc;
	long err = 0;
	if (!f)
		return -EBADF;
	acc = f->flags & O_ACCMODE;
	if (positioned && f->no_pread)
		err = -ESPIPE;
	else if (acc == 3 || acc == (write ? O_RDONLY : O_WRONLY))
		err = -EBADF;
	else if (!(write ? f->ops->write : f->ops->read))
		err = -EINVAL;
	if (err)
		fput(f);
	else
		*fp = f;
	return err;
}

/* RLIMIT_FSIZE on a write of regular file f at pos (-1: the file
 * position; O_APPEND and RWF_APPEND: its end), Linux's
 * generic_write_check_limits: at or past the limit, SIGXFSZ and EFBIG;
 * else the segments are cut to end at the limit. 0 or -EFBIG. */
static long fsize_limit(struct file *f, off_t pos, int rwf, struct useg *seg, int nseg)
{
	rlim_t lim = current->proc->rlimits[RLIMIT_FSIZE].rlim_cur;
	if (lim == RLIM_INFINITY || !S_ISREG(f->type))
		return 0;
	uint64_t total = 0;
	for (int i = 0; i < nseg; i++)
		total += seg[i].len;
	if (!total)
		return 0;
	off_t at = pos;
	struct statx stx;
	if ((f->flags & O_APPEND) || (rwf & RWF_APPEND))
		at = f->ops->statx && !f->ops->statx(f, 0, STATX_SIZE, &stx) ? (off_t)stx.stx_size : -1;
	else if (at < 0)
		at = f->ops->llseek ? f->ops->llseek(f, 0, SEEK_CUR) : -1;
	if (at < 0)
		return 0;
	if ((uint64_t)at >= lim) {
		signal_raise(SIGXFSZ);
		return -EFBIG;
	}
	uint64_t room = lim - (uint64_t)at;
	for (int i = 0; i < nseg; i++) {
		seg[i].len = MIN(seg[i].len, room);
		room -= seg[i].len;
	}
	return 0;
}

bool fsize_exceeds(uint64_t size)
{
	rlim_t lim = current ? current->proc->rlimits[RLIMIT_FSIZE].rlim_cur : RLIM_INFINITY;
	return lim != RLIM_INFINITY && size > lim;
}

int fsize_check_grow(uint64_t new_size)
{
	if (!fsize_exceeds(new_size))
		return 0;
	signal_raise(SIGXFSZ);
	return -EFBIG;
}

static long do_rw(const struct sysargs *a, bool write, bool positioned)
{
	off_t pos = positioned ? (off_t)a->a[3] : -1;
	uint64_t buf = a->a[1], count = a->a[2];
	struct file *f;
	if (positioned && pos < 0)
		return -EINVAL;
	long r = rw_begin(a->a[0], write, positioned, &f);
	if (r)
		return r;
	struct useg seg = { buf, MIN(count, MAX_RW_COUNT) };
	if (!access_ok(buf, count))
		r = -EFAULT;
	else if (!write || !(r = fsize_limit(f, pos, 0, &seg, 1)))
		r = transfer(f, &seg, 1, pos, 0, write, false);
	if (r > 0)
		fsnotify_rw(f, write);
	fput(f);
	return r;
}

/* pos -1: the file position (readv, and preadv2 with pos -1). */
static long do_rwv(const struct sysargs *a, bool write, off_t pos, int rwf)
{
	struct useg seg[GUEST_IOV_MAX];
	struct file *f;
	long r = rw_begin(a->a[0], write, pos != -1, &f);
	if (r)
		return r;
	r = guest_import_iovecs(a->a[1], a->a[2], seg);
	if (r >= 0 && write) {
		long lim = fsize_limit(f, pos, rwf, seg, (int)a->a[2]);
		r = lim ? lim : r;
	}
	if (r >= 0)
		r = transfer(f, seg, a->a[2], pos, rwf, write, true);
	if (r > 0)
		fsnotify_rw(f, write);
	fput(f);
	return r;
}

long sys_read(const struct sysargs *a) { return do_rw(a, false, false); }
long sys_write(const struct sysargs *a) { return do_rw(a, true, false); }
long sys_pread64(const struct sysargs *a) { return do_rw(a, false, true); }
long sys_pwrite64(const struct sysargs *a) { return do_rw(a, true, true); }
long sys_readv(const struct sysargs *a) { return do_rwv(a, false, -1, 0); }
long sys_writev(const struct sysargs *a) { return do_rwv(a, true, -1, 0); }

/* On x86-64 the high half of the position is unused. */
static long do_prwv(const struct sysargs *a, bool write, bool v2)
{
	off_t pos = a->a[3];
	int rwf = v2 ? (int)a->a[5] : 0;
	if (pos < 0 && !(v2 && pos == -1))
		return -EINVAL;
	return do_rwv(a, write, pos, rwf);
}

long sys_preadv(const struct sysargs *a) { return do_prwv(a, false, false); }
long sys_pwritev(const struct sysargs *a) { return do_prwv(a, true, false); }
long sys_preadv2(const struct sysargs *a) { return do_prwv(a, false, true); }
long sys_pwritev2(const struct sysargs *a) { return do_prwv(a, true, true); }

long sys_lseek(const struct sysargs *a)
{
	struct file *f = fget(a->a[0]);
	unsigned whence = a->a[2];
	long r;
	if (!f)
		return -EBADF;
	if (whence > SEEK_HOLE)
		r = -EINVAL;
	else
		r = f->ops->llseek ? f->ops->llseek(f, a->a[1], whence) : -ESPIPE;
	fput(f);
	return r;
}
