/* getrandom: bytes from the host's getrandom, written straight into the
 * guest's pages (through the memory file) without a bounce buffer. */
#include <limits.h>
#include <sys/random.h>
#include <sys/uio.h>
#include "kernel/syscall.h"
#include "mm/uaccess.h"

#define K_GRND_NONBLOCK 1
#define K_GRND_RANDOM 2
#define K_GRND_INSECURE 4

/* Linux caps one transfer at MAX_RW_COUNT (INT_MAX & PAGE_MASK): the old
 * 33554431-byte cap of /dev/urandom reads went with the 5.18 rewrite. */
#define MAX_RW_COUNT ((size_t)(INT_MAX & PAGE_MASK))
/* access_ok on x86-64 (4-level paging): the whole range must end at or
 * below this, else EFAULT even if nothing is copied. */
/* Guest memory stays locked for at most this much work at a time. */
#define CHUNK (1UL << 20)

/* Fill a kernel buffer; false if the host fails (it does not for a ready
 * entropy pool, but the memory file could in theory be short). */
static bool host_fill(char *p, size_t n)
{
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* As Linux: the count written, short if the buffer runs into memory that
 * is not writable, EFAULT only if nothing was. The host's pool is always
 * initialised, so GRND_NONBLOCK never gives EAGAIN and GRND_RANDOM is the
 * same pool (as in Linux since 5.6). */
long sys_getrandom(const struct sysargs *a)
{
	gaddr_t buf = a->a[0];
	size_t len = a->a[1], done = 0;
	unsigned flags = (unsigned)a->a[2];
	if (flags & ~(K_GRND_NONBLOCK | K_GRND_RANDOM | K_GRND_INSECURE))
		return -EINVAL;
	if ((flags & (K_GRND_INSECURE | K_GRND_RANDOM)) == (K_GRND_INSECURE | K_GRND_RANDOM))
		return -EINVAL;
	len = MIN(len, MAX_RW_COUNT);
	if (buf + len < buf || buf + len > TASK_SIZE_MAX)
		return -EFAULT;
	while (done < len) {
		struct iovec iov[16];
		size_t covered = 0;
		bool ok = true;
		guest_prepare_write(buf + done, MIN(len - done, CHUNK));
		guest_mem_lock();
		int n = guest_iovecs(buf + done, MIN(len - done, CHUNK), true, iov,
				     (int)ARRAY_SIZE(iov), &covered);
		for (int i = 0; i < n && ok; i++)
			ok = host_fill(iov[i].iov_base, iov[i].iov_len);
		guest_mem_unlock();
		if (!ok || covered == 0)
			break;
		done += covered;
		/* TODO(signals): Linux stops early, short, when a signal is
		 * pending at a page boundary. */
	}
	return done ? (long)done : (len ? -EFAULT : 0);
}
