/* Files backed by a host fd: files of host directories (hostfs) and the
 * host's stdio. The host fd is the kernel's own; the guest only ever sees
 * its fd-table slot. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fs/file.h"
#include "fs/poll.h"
#include "kernel/tty.h"
#include "mm/uaccess.h"

/* A single-buffer call keeps read(2)'s semantics (read(dir, buf, 0) is
 * EISDIR, readv of nothing is 0); vectors and flags need preadv2. */
static ssize_t host_read(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	ssize_t r;
	if (n == 1 && !rwf)
		r = pos < 0 ? read(f->hostfd, iov->iov_base, iov->iov_len)
			    : pread(f->hostfd, iov->iov_base, iov->iov_len, pos);
	else
		r = preadv2(f->hostfd, iov, n, pos, rwf);
	return r < 0 ? -errno : r;
}

static ssize_t host_write(struct file *f, const struct iovec *iov, int n, off_t pos, int rwf)
{
	ssize_t r;
	if (n == 1 && !rwf)
		r = pos < 0 ? write(f->hostfd, iov->iov_base, iov->iov_len)
			    : pwrite(f->hostfd, iov->iov_base, iov->iov_len, pos);
	else
		r = pwritev2(f->hostfd, iov, n, pos, rwf);
	return r < 0 ? -errno : r;
}

static off_t host_llseek(struct file *f, off_t off, int whence)
{
	off_t r = lseek(f->hostfd, off, whence);
	return r < 0 ? -errno : r;
}

static long host_getdents64(struct file *f, void *buf, size_t len)
{
	long r = syscall(SYS_getdents64, f->hostfd, buf, len);
	return r < 0 ? -errno : r;
}

static int host_statx_op(struct file *f, int flags, unsigned mask, struct statx *stx)
{
	if (f->inode && f->inode->stable) /* a read-only layer's: kept */
		return inode_getattr(f->inode, stx);
	return host_statx(f->hostfd, flags, mask, stx);
}

/* Terminals are kernel/tty.c's; of the rest only pipes and sockets
 * answer FIONREAD. */
static long host_ioctl(struct file *f, unsigned cmd, gaddr_t arg)
{
	int n;
	if (cmd != FIONREAD || S_ISREG(f->type) || S_ISDIR(f->type))
		return -ENOTTY;
	if (ioctl(f->hostfd, cmd, &n) < 0)
		return -errno;
	return copy_to_guest(arg, &n, sizeof(n));
}

/* The host file's own flags follow the guest's; O_ASYNC stays ours, the
 * host would signal the kernel. */
static int host_setfl(struct file *f, int flags)
{
	int host = fcntl(f->hostfd, F_GETFL);
	int mask = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;
	if (host < 0 || fcntl(f->hostfd, F_SETFL, (host & ~mask) | (flags & mask)) < 0)
		return -errno;
	return 0;
}

static void host_release(struct file *f)
{
	close(f->hostfd);
}

static const struct file_ops host_ops = {
	.read = host_read,
	.write = host_write,
	.llseek = host_llseek,
	.getdents64 = host_getdents64,
	.statx = host_statx_op,
	.ioctl = host_ioctl,
	.poll = host_fd_poll,
	.setfl = host_setfl,
	.release = host_release,
};

struct file *hostfile_new(int hostfd, int flags, const char *path)
{
	struct stat st;
	if (fstat(hostfd, &st) < 0)
		return NULL;
	if (S_ISCHR(st.st_mode) && major(st.st_rdev) != 1 && isatty(hostfd))
		return tty_host_file(hostfd, flags, path);
	struct file *f = file_new(&host_ops, flags, st.st_mode & S_IFMT, NULL);
	if (!f)
		return NULL;
	if (path && !(f->path = strdup(path))) {
		fput(f);
		return NULL;
	}
	f->hostfd = hostfd;
	/* ttys, pipes, sockets; not the memory devices (major 1) */
	f->may_block = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
		(S_ISCHR(st.st_mode) && major(st.st_rdev) != 1);
	/* Like nonseekable_open(): ttys, pipes and sockets have no pread. */
	f->no_pread = !(flags & O_PATH) && lseek(hostfd, 0, SEEK_CUR) < 0 && errno == ESPIPE;
	return f;
}

struct file *hostfile_new_reg(int hostfd, int flags, mode_t type)
{
	if (!S_ISREG(type) && !S_ISDIR(type))
		return hostfile_new(hostfd, flags, NULL);
	/* Files and directories never wait and always have positions. */
	struct file *f = file_new(&host_ops, flags, type & S_IFMT, NULL);
	if (f)
		f->hostfd = hostfd;
	return f;
}
