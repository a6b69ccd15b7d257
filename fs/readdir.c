/* getdents64. Entries are read into a bounce buffer (the host wants one
 * contiguous buffer, guest pages are not) and copied out whole; if the
 * guest buffer ends early the directory is rewound to the first entry not
 * delivered, as Linux leaves it. */
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

#define DENTS_MAX (64 * 1024)

struct dirent64_head { /* struct linux_dirent64 up to d_name */
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
};

long sys_getdents64(const struct sysargs *a)
{
	struct file *f = fget(a->a[0]);
	gaddr_t ubuf = a->a[1];
	size_t count = MIN((unsigned)a->a[2], DENTS_MAX);
	long r;
	if (!f)
		return -EBADF;
	char *buf = f->ops->getdents64 ? malloc(count ? count : 1) : NULL;
	if (!f->ops->getdents64)
		r = -ENOTDIR;
	else if (!buf)
		r = -ENOMEM;
	else {
		off_t start = f->ops->llseek ? f->ops->llseek(f, 0, SEEK_CUR) : 0;
		r = f->ops->getdents64(f, buf, count);
		size_t acc = r > 0 ? guest_accessible_len(ubuf, r, true) : 0, n = 0;
		struct dirent64_head d;
		/* The whole entries that fit where the guest can take them. */
		while (r > 0 && n < (size_t)r) {
			memcpy(&d, buf + n, sizeof(d));
			if (!d.d_reclen || n + d.d_reclen > acc)
				break;
			n += d.d_reclen;
			start = d.d_off;
		}
		if (r > 0 && n < (size_t)r) {
			if (f->ops->llseek)
				f->ops->llseek(f, start, SEEK_SET);
			r = n ? (long)n : -EFAULT;
		}
		if (r > 0 && copy_to_guest(ubuf, buf, r))
			r = -EFAULT;
	}
	free(buf);
	fput(f);
	return r;
}
