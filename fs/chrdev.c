/* Character devices, found by number wherever their node is: null, zero,
 * full, random, urandom; tty (5:0, the caller's controlling terminal, or
 * ENXIO without one), console (5:1, the host terminal), ptmx (5:2) and the pty slaves (136-143: fs/pty.c).
 * Any other number is no device here (ENXIO). */
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fs/file.h"
#include "kernel/tty.h"

static ssize_t total(const struct iovec *iov, int n)
{
	ssize_t t = 0;
	for (int k = 0; k < n; k++)
		t += iov[k].iov_len;
	return t;
}

static ssize_t zero_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	for (int k = 0; k < n; k++)
		memset(iov[k].iov_base, 0, iov[k].iov_len);
	return total(iov, n);
}

static ssize_t null_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	return 0;
}

static ssize_t sink_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	return total(iov, n);
}

/* Linux's write_full: always ENOSPC, a write of 0 bytes too (vfs_write
 * has no shortcut for 0; writev of nothing never gets here: fs/rw.c). */
static ssize_t full_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	return -ENOSPC;
}

static ssize_t random_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	ssize_t done = 0;
	for (int k = 0; k < n; k++) {
		size_t off = 0;
		while (off < iov[k].iov_len) {
			ssize_t r = getrandom((char *)iov[k].iov_base + off, iov[k].iov_len - off, 0);
			if (r < 0)
				return done ? done : -errno;
			off += r;
			done += r;
		}
	}
	return done;
}

static off_t zero_llseek(struct file *f, off_t off, int whence)
{
	return 0; /* Linux's null_lseek / noop_llseek */
}

static const struct file_ops null_ops = {
	.read = null_read, .write = sink_write, .llseek = zero_llseek, .statx = vfs_file_statx,
};
static const struct file_ops zero_ops = {
	.read = zero_read, .write = sink_write, .llseek = zero_llseek, .statx = vfs_file_statx,
	.mmap_anonymous = true,
};
static const struct file_ops full_ops = {
	.read = zero_read, .write = full_write, .llseek = zero_llseek, .statx = vfs_file_statx,
};
static const struct file_ops random_ops = {
	.read = random_read, .write = sink_write, .llseek = zero_llseek, .statx = vfs_file_statx,
};

/* Whether Linux's file_operations of f (any file) have a splice_read
 * (write: a splice_write): of these devices, null has no splice_read and
 * full no splice_write, so splice and sendfile give EINVAL there. */
bool chrdev_can_splice(const struct file *f, bool write)
{
	return f->ops != (write ? &full_ops : &null_ops);
}

static const struct chrdev {
	unsigned major, minor;
	const struct file_ops *ops;
} devices[] = {
	{ 1, 3, &null_ops },
	{ 1, 5, &zero_ops },
	{ 1, 7, &full_ops },
	{ 1, 8, &random_ops },
	{ 1, 9, &random_ops },
};

int chrdev_open(dev_t rdev, int flags, struct file **out)
{
	if (major(rdev) == 5 && minor(rdev) == 0)
		return tty_open_current(flags, out);
	if (major(rdev) == 5 && minor(rdev) == 1)
		return tty_open_console(flags, out);
	if (major(rdev) == 5 && minor(rdev) == 2)
		return ptmx_open(flags, out);
	if (major(rdev) >= 136 && major(rdev) < 144)
		return pty_slave_open((major(rdev) - 136) * 256 + minor(rdev), flags, out);
	for (size_t k = 0; k < ARRAY_SIZE(devices); k++) {
		if (devices[k].major != major(rdev) || devices[k].minor != minor(rdev))
			continue;
		*out = file_new(devices[k].ops, flags, S_IFCHR, NULL);
		return *out ? 0 : -ENOMEM;
	}
	return -ENXIO;
}
