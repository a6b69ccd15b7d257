/* ioctl: the commands Linux handles for every file (do_vfs_ioctl), then
 * the file's own. */
#include <sys/ioctl.h>
#include "fs/file.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

long sys_ioctl(const struct sysargs *a)
{
	int fd = a->a[0];
	unsigned cmd = a->a[1];
	gaddr_t arg = a->a[2];
	struct file *f = fget(fd);
	long r;
	int on;
	if (!f)
		return -EBADF;
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
		r = fd_cloexec(fd, cmd == FIOCLEX);
		r = r < 0 ? r : 0;
		break;
	case FIONBIO:
		if (!(r = copy_from_guest(&on, arg, sizeof(on))))
			r = file_setfl(f, on ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK);
		break;
	case FIONREAD:
		if (S_ISREG(f->type) && f->inode) { /* bytes left before the end */
			int64_t size = file_size(f);
			off_t pos = f->ops->llseek ? f->ops->llseek(f, 0, SEEK_CUR) : 0;
			int left = size > pos ? (int)MIN(size - pos, INT32_MAX) : 0;
			r = copy_to_guest(arg, &left, sizeof(left));
			break;
		}
		/* fall through */
	default:
		r = f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
	}
	fput(f);
	return r;
}
