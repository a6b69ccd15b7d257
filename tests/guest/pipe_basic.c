/* Pipes in one process: pipe/pipe2 arguments, flags, fstat, capacity and
 * merging (filled with O_NONBLOCK until EAGAIN), PIPE_BUF atomicity, EOF,
 * EPIPE with SIGPIPE ignored, FIONREAD, packet mode, vectors. */
#include "util.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

static char buf[1 << 20];

static void mkpipe(int p[2], int flags)
{
	if (rsys(SYS_pipe2, p, flags) != 0) {
		printf("NO: pipe2 failed\n");
		exit(1);
	}
}

static int avail(int fd)
{
	int n = -1;
	long r = rsys(SYS_ioctl, fd, FIONREAD, &n);
	return r < 0 ? (int)r : n;
}

/* Write chunks of `size` with O_NONBLOCK until EAGAIN; the bytes taken. */
static long fill(int wfd, size_t size, long *calls)
{
	long total = 0;
	*calls = 0;
	memset(buf, 'f', size);
	for (;;) {
		long r = rsys(SYS_write, wfd, buf, size);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			printf("fill write: %s\n", rstr(r));
			break;
		}
		total += r;
		++*calls;
		if (*calls > 100000)
			break;
	}
	return total;
}

static void capacity(size_t size)
{
	int p[2];
	long calls;
	mkpipe(p, O_NONBLOCK);
	long total = fill(p[1], size, &calls);
	printf("fill with %zu-byte writes: %ld bytes in %ld writes, FIONREAD %d\n", size, total,
	       calls, avail(p[0]));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	int p[2], q[2];
	struct stat st, st2, st3;

	/* arguments */
	res("pipe2 bad flags", rsys(SYS_pipe2, p, O_APPEND));
	res("pipe2 O_RDWR", rsys(SYS_pipe2, p, O_RDWR));
	res("pipe2 bad pointer", rsys(SYS_pipe2, (void *)8, 0));
	res("pipe bad pointer", rsys(SYS_pipe, (void *)8));
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	res("pipe read-only memory", rsys(SYS_pipe, ro));
	/* the fds of a failed call were not left open */
	long fd = rsys(SYS_dup, 0);
	long fd2 = rsys(SYS_dup, 0);
	expect(fd2 == fd + 1, "no fds leaked by the failed calls");
	close(fd);
	close(fd2);

	res("pipe", rsys(SYS_pipe, p));
	resv("F_GETFL read end", rsys(SYS_fcntl, p[0], F_GETFL));
	resv("F_GETFL write end", rsys(SYS_fcntl, p[1], F_GETFL));
	resv("F_GETFD", rsys(SYS_fcntl, p[0], F_GETFD));
	res("fstat", rsys(SYS_fstat, p[0], &st));
	rsys(SYS_fstat, p[1], &st2);
	printf("mode %o size %ld blksize %ld nlink %ld blocks %ld\n", st.st_mode, (long)st.st_size,
	       (long)st.st_blksize, (long)st.st_nlink, (long)st.st_blocks);
	expect(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev, "both ends: one inode");
	expect(major(st.st_dev) == 0, "an anonymous device");
	expect(st.st_uid == getuid() && st.st_gid == getgid(), "owned by the caller");
	mkpipe(q, O_CLOEXEC | O_NONBLOCK);
	rsys(SYS_fstat, q[0], &st3);
	expect(st3.st_ino != st.st_ino && st3.st_dev == st.st_dev, "another pipe: same device, new inode");
	resv("pipe2 O_CLOEXEC|O_NONBLOCK: F_GETFD", rsys(SYS_fcntl, q[0], F_GETFD));
	resv("pipe2 O_CLOEXEC|O_NONBLOCK: F_GETFL", rsys(SYS_fcntl, q[1], F_GETFL));

	/* wrong ends, positioned I/O */
	res("read the write end", rsys(SYS_read, p[1], buf, 1));
	res("write the read end", rsys(SYS_write, p[0], "x", 1));
	res("pread", rsys(SYS_pread64, p[0], buf, 1, 0));
	res("pwrite", rsys(SYS_pwrite64, p[1], "x", 1, 0));
	res("lseek", rsys(SYS_lseek, p[0], 0, SEEK_CUR));
	res("ioctl TCGETS", rsys(SYS_ioctl, p[0], TCGETS, buf));

	/* data */
	resv("read nothing from empty", rsys(SYS_read, q[0], buf, 0));
	resv("read empty nonblocking", rsys(SYS_read, q[0], buf, 10));
	resv("write 5", rsys(SYS_write, p[1], "hello", 5));
	resv("write 6", rsys(SYS_write, p[1], " world", 6));
	resv("FIONREAD", avail(p[0]));
	resv("read 3", rsys(SYS_read, p[0], buf, 3));
	resv("read rest", rsys(SYS_read, p[0], buf + 3, 100));
	buf[11] = 0;
	printf("data: %s\n", buf);
	res("FIONREAD bad pointer", rsys(SYS_ioctl, p[0], FIONREAD, (void *)8));
	res("write bad buffer", rsys(SYS_write, p[1], (void *)8, 10));
	resv("FIONREAD after bad write", avail(p[0]));

	/* vectors */
	struct iovec iov[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
	resv("writev", rsys(SYS_writev, p[1], iov, 3));
	char r1[3] = { 0 }, r2[8] = { 0 };
	struct iovec riov[2] = { { r1, 2 }, { r2, 7 } };
	resv("readv", rsys(SYS_readv, p[0], riov, 2));
	printf("readv: %s %s\n", r1, r2);
	resv("readv empty vector", rsys(SYS_readv, q[0], riov, 0));

	/* capacity and merging: Linux's 16 page buffers */
	capacity(1);
	capacity(100);
	capacity(1000);
	capacity(4096);
	capacity(4097);
	capacity(5000);
	capacity(65536);
	capacity(100000);

	/* atomicity: a write of at most PIPE_BUF goes in whole or not at all */
	{
		int a[2];
		mkpipe(a, O_NONBLOCK);
		long calls;
		fill(a[1], 4096, &calls);
		resv("read 100 from full", rsys(SYS_read, a[0], buf, 100));
		resv("write 4096 with 100 free", rsys(SYS_write, a[1], buf, 4096));
		resv("write 100 with 100 free", rsys(SYS_write, a[1], buf, 100));
		resv("read a page", rsys(SYS_read, a[0], buf, 4096));
		resv("write 5000 with a page free", rsys(SYS_write, a[1], buf, 5000));
		resv("write 4096 with a page free", rsys(SYS_write, a[1], buf, 4096));
		resv("write 1 when full", rsys(SYS_write, a[1], buf, 1));
		resv("FIONREAD full", avail(a[0]));
		close(a[0]);
		close(a[1]);
	}

	/* EOF and EPIPE */
	resv("write 3", rsys(SYS_write, p[1], "eof", 3));
	close(p[1]);
	resv("read after writer closed", rsys(SYS_read, p[0], buf, 100));
	resv("read at EOF", rsys(SYS_read, p[0], buf, 100));
	close(p[0]);

	signal(SIGPIPE, SIG_IGN);
	mkpipe(p, 0);
	close(p[0]);
	res("write without readers", rsys(SYS_write, p[1], "x", 1));
	resv("write nothing without readers", rsys(SYS_write, p[1], "x", 0));
	res("writev without readers", rsys(SYS_writev, p[1], iov, 3));
	close(p[1]);

	/* packet mode: one write, one packet; a short read drops the rest */
	mkpipe(p, O_DIRECT | O_NONBLOCK);
	resv("packet F_GETFL read end", rsys(SYS_fcntl, p[0], F_GETFL));
	resv("packet F_GETFL write end", rsys(SYS_fcntl, p[1], F_GETFL));
	rsys(SYS_write, p[1], "one", 3);
	rsys(SYS_write, p[1], "two!", 4);
	rsys(SYS_write, p[1], "three", 5);
	resv("packet read 100", rsys(SYS_read, p[0], buf, 100));
	resv("packet read 2", rsys(SYS_read, p[0], buf, 2));
	resv("packet read 100 again", rsys(SYS_read, p[0], buf, 100));
	buf[5] = 0;
	printf("packet: %s\n", buf);
	long calls;
	long total = fill(p[1], 10, &calls);
	printf("packet fill with 10-byte writes: %ld bytes in %ld writes\n", total, calls);
	close(p[0]);
	close(p[1]);

	/* O_NONBLOCK can be set and cleared */
	mkpipe(p, 0);
	rsys(SYS_fcntl, p[0], F_SETFL, O_NONBLOCK);
	res("read after F_SETFL O_NONBLOCK", rsys(SYS_read, p[0], buf, 1));
	int on = 0;
	rsys(SYS_ioctl, p[0], FIONBIO, &on);
	resv("F_GETFL after FIONBIO 0", rsys(SYS_fcntl, p[0], F_GETFL));
	close(p[0]);
	close(p[1]);

	/* a big write and read in one call each (a read returns what is there) */
	mkpipe(p, O_NONBLOCK);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)rng();
	resv("big nonblocking write", rsys(SYS_write, p[1], buf, sizeof buf));
	static char back[1 << 20];
	resv("big read", rsys(SYS_read, p[0], back, sizeof back));
	expect(memcmp(buf, back, 65536) == 0, "data intact");
	close(p[0]);
	close(p[1]);
	return expect_failures != 0;
}
