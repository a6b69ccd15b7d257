/* eventfd and eventfd2: flags, counter semantics, semaphore mode, the
 * limits at 2^64-1, sizes, poll states, fstat and fcntl. */
#include "util.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>

static unsigned revents(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	return rsys(SYS_poll, &p, 1, 0) < 0 ? 0xdead : p.revents;
}

static void rd(const char *label, int fd)
{
	uint64_t v = 0;
	long r = rsys(SYS_read, fd, &v, 8);
	if (r == 8)
		printf("%s: %llu\n", label, (unsigned long long)v);
	else
		res(label, r);
}

static void wr(const char *label, int fd, uint64_t v)
{
	resv(label, rsys(SYS_write, fd, &v, 8));
}

int main(void)
{
	res("eventfd2 bad flags", rsys(SYS_eventfd2, 0, O_APPEND));
	res("eventfd2 O_RDWR flag", rsys(SYS_eventfd2, 0, O_RDWR));
	long fd = rsys(SYS_eventfd2, 3, EFD_NONBLOCK);
	res("eventfd2 3 nonblock", fd);
	resv("F_GETFL", rsys(SYS_fcntl, fd, F_GETFL));
	resv("F_GETFD", rsys(SYS_fcntl, fd, F_GETFD));
	long fdc = rsys(SYS_eventfd2, 0, EFD_CLOEXEC);
	resv("EFD_CLOEXEC: F_GETFL", rsys(SYS_fcntl, fdc, F_GETFL));
	resv("EFD_CLOEXEC: F_GETFD", rsys(SYS_fcntl, fdc, F_GETFD));
	long fd0 = rsys(SYS_eventfd, 7);
	res("eventfd 7", fd0);
	resv("eventfd F_GETFL", rsys(SYS_fcntl, fd0, F_GETFL));

	struct stat a, b;
	rsys(SYS_fstat, fd, &a);
	rsys(SYS_fstat, fd0, &b);
	printf("fstat mode %o nlink %ld size %ld blksize %ld\n", a.st_mode, (long)a.st_nlink,
	       (long)a.st_size, (long)a.st_blksize);
	expect(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "eventfds share the anonymous inode");

	printf("poll count 3: %#x\n", revents(fd));
	rd("read", fd);
	printf("poll count 0: %#x\n", revents(fd));
	rd("read empty nonblocking", fd);
	wr("write 5", fd, 5);
	wr("write 6", fd, 6);
	rd("read", fd);
	wr("write ULLONG_MAX", fd, ~0ULL);
	wr("write ULLONG_MAX-1", fd, ~0ULL - 1);
	printf("poll count max-1: %#x\n", revents(fd));
	wr("write 1 more", fd, 1);
	wr("write 0", fd, 0);
	rd("read", fd);
	wr("write ULLONG_MAX-2", fd, ~0ULL - 2);
	printf("poll count max-2: %#x\n", revents(fd));
	rd("read", fd);

	/* sizes */
	uint64_t v = 1;
	char big[16] = { 0 };
	resv("write 4 bytes", rsys(SYS_write, fd, &v, 4));
	resv("write 16 bytes", rsys(SYS_write, fd, big, 16));
	resv("read 4 bytes", rsys(SYS_read, fd, big, 4));
	resv("read 16 bytes", rsys(SYS_read, fd, big, 16));
	wr("write 2", fd, 2);
	uint32_t lo = 0, hi = 0;
	struct iovec iov[2] = { { &lo, 4 }, { &hi, 4 } };
	resv("readv 4+4", rsys(SYS_readv, fd, iov, 2));
	printf("readv value: %u %u\n", lo, hi);
	lo = 9;
	resv("writev 4+4", rsys(SYS_writev, fd, iov, 2));
	uint64_t one = 1;
	struct iovec empty_first[2] = { { &one, 0 }, { &one, 8 } };
	resv("writev 0+8", rsys(SYS_writev, fd, empty_first, 2));
	rd("read", fd);
	res("write bad pointer", rsys(SYS_write, fd, (void *)8, 8));
	wr("write 1", fd, 1);
	rd("read", fd);

	/* semaphore */
	long sfd = rsys(SYS_eventfd2, 2, EFD_SEMAPHORE | EFD_NONBLOCK);
	rd("semaphore read", sfd);
	rd("semaphore read", sfd);
	rd("semaphore read", sfd);
	wr("semaphore write 3", sfd, 3);
	rd("semaphore read", sfd);

	/* positioned I/O and seeking */
	res("pread", rsys(SYS_pread64, fd0, &v, 8, 0));
	resv("lseek", rsys(SYS_lseek, fd0, 5, SEEK_SET));
	res("ioctl FIONREAD", rsys(SYS_ioctl, fd0, 0x541B, &lo));
	return expect_failures != 0;
}
