/* sendfile, splice, tee and copy_file_range, with Linux's checks in
 * Linux's order. Data moves through the file ops with kernel buffers, so
 * every file kind works; the pipe side is fs/pipe.c's (splice into a pipe
 * reads straight into its buffers, pipe to pipe moves whole buffers). */
#include <limits.h>
#include <stdlib.h>
#include "fs/file.h"
#include "fs/pipe.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

#define MAX_RW_COUNT (INT_MAX & PAGE_MASK)
#define COPY_CHUNK (64 * 1024)
#define K_SPLICE_F_NONBLOCK 0x02
#define K_SPLICE_F_ALL 0x0f /* MOVE, NONBLOCK, MORE, GIFT */

static bool readable(const struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return acc == O_RDONLY || acc == O_RDWR;
}

static bool writable(const struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return acc == O_WRONLY || acc == O_RDWR;
}

/* The file position (0 for files without one, like Linux's f_pos). */
static off_t file_pos(struct file *f)
{
	off_t p = f->ops->llseek && !f->no_pread ? f->ops->llseek(f, 0, SEEK_CUR) : 0;
	return p < 0 ? 0 : p;
}

static void set_file_pos(struct file *f, off_t pos)
{
	if (f->ops->llseek && !f->no_pread)
		f->ops->llseek(f, pos, SEEK_SET);
}

/* Files Linux can splice from (those with a splice_read): not
 * directories, not pipes (pipe to pipe is its own path), not /dev/null. */
static bool splice_source(const struct file *f)
{
	return f->ops->read && !S_ISDIR(f->type) && !file_is_pipe(f) && chrdev_can_splice(f, false);
}

/* Files Linux can splice to (those with a splice_write): not /dev/full.
 * Pipes have their own path. */
static bool splice_sink(const struct file *f)
{
	return chrdev_can_splice(f, true);
}

/* Linux's FMODE_LSEEK, which sendfile wants of an input that is not
 * spliced into a pipe: regular files, block devices, the memory devices;
 * not pipes, sockets, terminals or eventfds. */
static bool seekable(const struct file *f)
{
	return f->ops->llseek && !f->no_pread;
}

/* The memory devices (zero, full, random, urandom) read without moving
 * the position: Linux's read_iter_zero and urandom_read_iter leave
 * ki_pos alone, so a splice or sendfile from one leaves its offset. */
static bool reads_keep_pos(const struct file *f)
{
	return S_ISCHR(f->type);
}

/* Linux's rw_verify_area for a position and count. */
static int verify_area(off_t pos, size_t count)
{
	if ((ssize_t)count < 0 || pos < 0 || (off_t)((uint64_t)pos + count) < 0)
		return -EINVAL;
	return 0;
}

/* Move up to len bytes from in to out through a kernel buffer. The
 * positions (NULL: the file position) advance by what was written; a
 * file read by its position gets back what could not be written. Stops
 * at the end of in or at a short write. */
static ssize_t copy_loop(struct file *in, off_t *ipos, struct file *out, off_t *opos, size_t len)
{
	size_t cap = MIN(len, COPY_CHUNK);
	char *buf = malloc(MAX(cap, 1));
	ssize_t done = 0, err = 0;
	if (!buf)
		return -ENOMEM;
	while (len) {
		size_t n = MIN(len, cap), w = 0;
		ssize_t r = in->ops->read(in, &(struct iovec){ buf, n }, 1, ipos ? *ipos : -1, 0);
		if (r <= 0) {
			err = r;
			break;
		}
		if (!splice_sink(out)) { /* Linux's do_splice_from, once there is data */
			err = -EINVAL;
			break;
		}
		while (w < (size_t)r) {
			ssize_t k = out->ops->write(out, &(struct iovec){ buf + w, r - w }, 1,
						    opos ? *opos + (off_t)w : -1, 0);
			if (k <= 0) {
				err = k;
				break;
			}
			w += k;
		}
		if (ipos)
			*ipos += w;
		else if (w < (size_t)r && in->ops->llseek)
			in->ops->llseek(in, -(off_t)(r - w), SEEK_CUR);
		if (opos)
			*opos += w;
		done += w;
		len -= w;
		if (w < (size_t)r || (size_t)r < n)
			break;
	}
	free(buf);
	return done ? done : err;
}

/* ---- sendfile ---------------------------------------------------------------- */

static long do_sendfile(int out_fd, int in_fd, off_t *ppos, size_t count)
{
	struct file *in = fget(in_fd), *out = NULL;
	long r = -EBADF;
	off_t pos;
	if (!in || !readable(in))
		goto done;
	r = -ESPIPE;
	if (ppos && in->no_pread)
		goto done;
	pos = ppos ? *ppos : file_pos(in);
	if ((r = verify_area(pos, count)))
		goto done;
	count = MIN(count, MAX_RW_COUNT);
	r = -EBADF;
	out = fget(out_fd);
	if (!out || !writable(out))
		goto done;
	off_t start = pos;
	if (file_is_pipe(out)) {
		/* Into a pipe: at most the room it has, like splice. */
		r = !splice_source(in) ? -EINVAL
			: pipe_splice_write(in, &pos, out, count, out->flags & O_NONBLOCK);
	} else if (out->flags & O_APPEND) {
		r = -EINVAL;
	} else if (!seekable(in)) {
		r = -EINVAL; /* splice_direct_to_actor: FMODE_LSEEK (Linux 6.0+) */
	} else if (!count) {
		r = 0; /* its loop does not run: no splice_read needed */
	} else if (!splice_source(in)) {
		r = -EINVAL;
	} else {
		r = copy_loop(in, &pos, out, NULL, count);
	}
	if (reads_keep_pos(in))
		pos = start;
	if (ppos)
		*ppos = pos;
	else if (r > 0)
		set_file_pos(in, pos);
done:
	if (out)
		fput(out);
	if (in)
		fput(in);
	return r;
}

long sys_sendfile(const struct sysargs *a)
{
	gaddr_t uoff = a->a[2];
	off_t pos;
	if (!uoff)
		return do_sendfile(a->a[0], a->a[1], NULL, a->a[3]);
	if (copy_from_guest(&pos, uoff, sizeof(pos)))
		return -EFAULT;
	long r = do_sendfile(a->a[0], a->a[1], &pos, a->a[3]);
	if (copy_to_guest(uoff, &pos, sizeof(pos)))
		return -EFAULT;
	return r;
}

/* ---- splice, tee --------------------------------------------------------- */

static long do_splice(struct file *in, off_t *off_in, struct file *out, off_t *off_out,
		      size_t len, bool nonblock)
{
	bool ipipe = file_is_pipe(in), opipe = file_is_pipe(out);
	if (!readable(in) || !writable(out))
		return -EBADF;
	if (ipipe && opipe) {
		if (in->priv == out->priv) /* one pipe */
			return -EINVAL;
		nonblock |= (in->flags | out->flags) & O_NONBLOCK;
		return pipe_splice_pipe(in, out, len, nonblock);
	}
	if (ipipe) {
		if (off_out && out->no_pread)
			return -EINVAL;
		if (out->flags & O_APPEND)
			return -EINVAL;
		int err = verify_area(off_out ? *off_out : file_pos(out), len);
		if (err)
			return err;
		if (!splice_sink(out))
			return -EINVAL;
		return pipe_splice_read(in, out, off_out, MIN(len, MAX_RW_COUNT),
					nonblock || (in->flags & O_NONBLOCK));
	}
	if (opipe) {
		if (off_in && in->no_pread)
			return -EINVAL;
		if (!splice_source(in))
			return -EINVAL;
		int err = verify_area(off_in ? *off_in : file_pos(in), len);
		if (err)
			return err;
		off_t start = off_in ? *off_in : 0;
		ssize_t r = pipe_splice_write(in, off_in, out, MIN(len, MAX_RW_COUNT),
					      nonblock || (out->flags & O_NONBLOCK));
		if (off_in && reads_keep_pos(in))
			*off_in = start;
		return r;
	}
	return -EINVAL;
}

long sys_splice(const struct sysargs *a)
{
	int fd_in = a->a[0], fd_out = a->a[2];
	gaddr_t uoff_in = a->a[1], uoff_out = a->a[3];
	size_t len = a->a[4];
	unsigned flags = a->a[5];
	off_t off_in, off_out;
	if (!len)
		return 0;
	if (flags & ~K_SPLICE_F_ALL)
		return -EINVAL;
	struct file *in = fget(fd_in), *out = in ? fget(fd_out) : NULL;
	long r = -EBADF;
	if (!out)
		goto done;
	r = -ESPIPE;
	if ((file_is_pipe(in) && uoff_in) || (file_is_pipe(out) && uoff_out))
		goto done;
	r = -EFAULT;
	if ((uoff_out && copy_from_guest(&off_out, uoff_out, sizeof(off_out))) ||
	    (uoff_in && copy_from_guest(&off_in, uoff_in, sizeof(off_in))))
		goto done;
	r = do_splice(in, uoff_in ? &off_in : NULL, out, uoff_out ? &off_out : NULL, len,
		      flags & K_SPLICE_F_NONBLOCK);
	if (r >= 0 && ((uoff_out && copy_to_guest(uoff_out, &off_out, sizeof(off_out))) ||
		       (uoff_in && copy_to_guest(uoff_in, &off_in, sizeof(off_in)))))
		r = -EFAULT;
done:
	if (out)
		fput(out);
	if (in)
		fput(in);
	return r;
}

long sys_tee(const struct sysargs *a)
{
	size_t len = a->a[2];
	unsigned flags = a->a[3];
	if (flags & ~K_SPLICE_F_ALL)
		return -EINVAL;
	if (!len)
		return 0;
	struct file *in = fget(a->a[0]), *out = in ? fget(a->a[1]) : NULL;
	long r = -EBADF;
	if (!out)
		goto done;
	if (!readable(in) || !writable(out))
		goto done;
	r = -EINVAL;
	if (!file_is_pipe(in) || !file_is_pipe(out) || in->priv == out->priv)
		goto done;
	r = pipe_tee(in, out, len, (flags & K_SPLICE_F_NONBLOCK) ||
		     ((in->flags | out->flags) & O_NONBLOCK));
done:
	if (out)
		fput(out);
	if (in)
		fput(in);
	return r;
}

/* ---- copy_file_range ------------------------------------------------------ */

/* Linux's generic_copy_file_checks (5.19+): regular files only, on one
 * file system, no overlap within a file, shortened to the end of in. */
static long copy_checks(struct file *in, off_t pos_in, struct file *out, off_t pos_out, size_t *len)
{
	struct statx si, so;
	if (S_ISDIR(in->type) || S_ISDIR(out->type))
		return -EISDIR;
	if (!S_ISREG(in->type) || !S_ISREG(out->type))
		return -EINVAL;
	if (!readable(in) || !writable(out) || (out->flags & O_APPEND))
		return -EBADF;
	if (!in->ops->statx || !out->ops->statx || in->ops->statx(in, 0, STATX_BASIC_STATS, &si) ||
	    out->ops->statx(out, 0, STATX_BASIC_STATS, &so))
		return -EINVAL;
	if (si.stx_dev_major != so.stx_dev_major || si.stx_dev_minor != so.stx_dev_minor ||
	    in->ops != out->ops)
		return -EXDEV;
	uint64_t count = *len;
	if ((uint64_t)pos_in + count < (uint64_t)pos_in || (uint64_t)pos_out + count < (uint64_t)pos_out)
		return -EOVERFLOW;
	if (pos_in >= (off_t)si.stx_size)
		count = 0;
	else
		count = MIN(count, si.stx_size - (uint64_t)pos_in);
	if (si.stx_ino == so.stx_ino && pos_out + (off_t)count > pos_in && pos_out < pos_in + (off_t)count)
		return -EINVAL;
	*len = count;
	return 0;
}

long sys_copy_file_range(const struct sysargs *a)
{
	gaddr_t uoff_in = a->a[1], uoff_out = a->a[3];
	size_t len = a->a[4];
	struct file *in = fget(a->a[0]), *out = in ? fget(a->a[2]) : NULL;
	off_t pos_in, pos_out;
	long r = -EBADF;
	if (!out)
		goto done;
	r = -EFAULT;
	if (uoff_in ? copy_from_guest(&pos_in, uoff_in, sizeof(pos_in)) : (pos_in = file_pos(in), 0))
		goto done;
	if (uoff_out ? copy_from_guest(&pos_out, uoff_out, sizeof(pos_out)) : (pos_out = file_pos(out), 0))
		goto done;
	r = -EINVAL;
	if ((unsigned)a->a[5])
		goto done;
	if ((r = copy_checks(in, pos_in, out, pos_out, &len)) ||
	    (r = verify_area(pos_in, len)) || (r = verify_area(pos_out, len)))
		goto done;
	if (!len)
		goto done;
	r = copy_loop(in, &pos_in, out, &pos_out, MIN(len, MAX_RW_COUNT));
	if (r > 0) {
		if (!uoff_in)
			set_file_pos(in, pos_in);
		else if (copy_to_guest(uoff_in, &pos_in, sizeof(pos_in)))
			r = -EFAULT;
		if (!uoff_out)
			set_file_pos(out, pos_out);
		else if (copy_to_guest(uoff_out, &pos_out, sizeof(pos_out)))
			r = -EFAULT;
	}
done:
	if (out)
		fput(out);
	if (in)
		fput(in);
	return r;
}
