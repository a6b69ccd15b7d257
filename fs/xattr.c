/* Extended attributes: the sandbox shows none (reads give ENODATA, lists
 * are empty) and takes none (EROFS on read-only mounts, else EOPNOTSUPP).
 * Lookups and argument checks come first, in Linux's order. */
#include <sys/xattr.h>
#include "fs/file.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

#define XATTR_NAME_MAX 255

/* The name argument: 0, -EFAULT, or -ERANGE (empty or too long). */
static long xattr_name(gaddr_t uname)
{
	char name[XATTR_NAME_MAX + 1];
	long n = strncpy_from_guest(name, uname, sizeof(name));
	if (n == -ENAMETOOLONG || n == 0)
		return -ERANGE;
	return n < 0 ? n : 0;
}

/* Resolve the object of a path or fd variant; 0 or -errno. *ro: it is
 * on a read-only mount. */
static long xattr_target(const struct sysargs *a, int variant, bool *ro)
{
	*ro = false;
	if (variant == 2) { /* f*xattr */
		struct file *f = fget((int)a->a[0]);
		if (!f)
			return -EBADF;
		*ro = mnt_readonly(f->mnt);
		fput(f);
		return 0;
	}
	struct walk_result r;
	struct file *f;
	int err = user_walk(AT_FDCWD, a->a[0], EMPTY_NO, variant == 0 ? WALK_FOLLOW : 0, &r, &f);
	if (!err) {
		*ro = mnt_readonly(r.path.mnt);
		walk_done(&r);
	}
	return err;
}

static long get(const struct sysargs *a, int variant)
{
	bool ro;
	long err = xattr_target(a, variant, &ro);
	if (!err)
		err = xattr_name(a->a[1]);
	return err ? err : -ENODATA;
}

static long list(const struct sysargs *a, int variant)
{
	bool ro;
	long err = xattr_target(a, variant, &ro);
	return err ? err : 0;
}

/* set*xattr (with flags) and remove*xattr (without). */
static long change(const struct sysargs *a, int variant, bool has_flags)
{
	if (has_flags && ((int)a->a[4] & ~(XATTR_CREATE | XATTR_REPLACE)))
		return -EINVAL;
	bool ro;
	long err = xattr_target(a, variant, &ro);
	if (!err)
		err = xattr_name(a->a[1]);
	return err ? err : ro ? -EROFS : -EOPNOTSUPP;
}

long sys_getxattr(const struct sysargs *a) { return get(a, 0); }
long sys_lgetxattr(const struct sysargs *a) { return get(a, 1); }
long sys_fgetxattr(const struct sysargs *a) { return get(a, 2); }
long sys_listxattr(const struct sysargs *a) { return list(a, 0); }
long sys_llistxattr(const struct sysargs *a) { return list(a, 1); }
long sys_flistxattr(const struct sysargs *a) { return list(a, 2); }
long sys_setxattr(const struct sysargs *a) { return change(a, 0, true); }
long sys_lsetxattr(const struct sysargs *a) { return change(a, 1, true); }
long sys_fsetxattr(const struct sysargs *a) { return change(a, 2, true); }
long sys_removexattr(const struct sysargs *a) { return change(a, 0, false); }
long sys_lremovexattr(const struct sysargs *a) { return change(a, 1, false); }
long sys_fremovexattr(const struct sysargs *a) { return change(a, 2, false); }
