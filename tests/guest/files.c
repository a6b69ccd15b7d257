/* Reading host files: read with several buffer sizes, pread, readv,
 * preadv, lseek, dup/fcntl, checksums of /etc/passwd and /bin/busybox
 * (a big one) and of the runner's fixture files. Nothing is written. */
#include "util.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

static unsigned char big[1 << 20];

static uint64_t sum_read(int fd, size_t bufsz, long *total)
{
	uint64_t h = FNV_INIT;
	*total = 0;
	for (;;) {
		long n = rsys(SYS_read, fd, big, bufsz);
		if (n < 0) {
			printf("read failed: %s\n", rstr(n));
			return 0;
		}
		if (n == 0)
			break;
		h = fnv1a(h, big, n);
		*total += n;
	}
	return h;
}

static void one_file(const char *path)
{
	printf("== %s\n", path);
	long fd = rsys(SYS_open, path, O_RDONLY | O_CLOEXEC);
	res("open", fd);
	if (fd < 0)
		return;
	struct stat st;
	res("fstat", rsys(SYS_fstat, fd, &st));
	printf("size: %lld\n", (long long)st.st_size);
	resv("lseek SEEK_END", rsys(SYS_lseek, fd, 0, SEEK_END));
	resv("lseek SEEK_CUR", rsys(SYS_lseek, fd, 0, SEEK_CUR));
	resv("read at EOF", rsys(SYS_read, fd, big, 100));
	resv("lseek SEEK_SET 0", rsys(SYS_lseek, fd, 0, SEEK_SET));

	size_t sizes[] = { 1, 100, 4096, 65536, sizeof big };
	uint64_t first = 0;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		if (sizes[i] < 4096 && st.st_size > 100000)
			continue;   /* too slow for big files */
		rsys(SYS_lseek, fd, 0, SEEK_SET);
		long total;
		uint64_t h = sum_read(fd, sizes[i], &total);
		if (!first) {
			first = h;
			printf("read: %ld bytes, fnv %016llx\n", total, (unsigned long long)h);
		}
		expect(h == first && total == st.st_size, "read with %zu-byte buffer agrees", sizes[i]);
	}

	/* pread at chosen offsets; it does not move the file offset. */
	rsys(SYS_lseek, fd, 10, SEEK_SET);
	long offs[] = { 0, 1, st.st_size / 2, st.st_size - 1, st.st_size, st.st_size + 100 };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		long n = rsys(SYS_pread64, fd, big, 37, offs[i]);
		char lbl[64];
		snprintf(lbl, sizeof lbl, "pread 37 at offset #%zu", i);
		if (n > 0)
			printf("%s: %ld bytes, fnv %016llx\n", lbl, n, (unsigned long long)fnv1a(FNV_INIT, big, n));
		else
			resv(lbl, n);
	}
	resv("offset after preads", rsys(SYS_lseek, fd, 0, SEEK_CUR));
	res("pread negative offset", rsys(SYS_pread64, fd, big, 10, -1));

	/* Whole file via pread in odd-sized pieces. */
	uint64_t h = FNV_INIT;
	long off = 0;
	for (;;) {
		long n = rsys(SYS_pread64, fd, big, 65521, off);
		if (n <= 0)
			break;
		h = fnv1a(h, big, n);
		off += n;
	}
	expect(h == first && off == st.st_size, "pread in 65521-byte pieces agrees");

	/* readv / preadv with three uneven buffers. */
	static unsigned char b1[7], b2[4096], b3[100000];
	struct iovec iov[3] = { { b1, sizeof b1 }, { b2, sizeof b2 }, { b3, sizeof b3 } };
	rsys(SYS_lseek, fd, 0, SEEK_SET);
	h = FNV_INIT;
	off = 0;
	for (;;) {
		long n = rsys(SYS_readv, fd, iov, 3);
		if (n <= 0) {
			if (n < 0)
				res("readv", n);
			break;
		}
		long left = n;
		for (int i = 0; i < 3 && left > 0; i++) {
			long k = left < (long)iov[i].iov_len ? left : (long)iov[i].iov_len;
			h = fnv1a(h, iov[i].iov_base, k);
			left -= k;
		}
		off += n;
	}
	expect(h == first && off == st.st_size, "readv agrees");
	long n = rsys(SYS_preadv, fd, iov, 3, 3, 0);
	long want = st.st_size - 3 < 104103 ? st.st_size - 3 : 104103;
	expect(n == (want < 0 ? 0 : want), "preadv at offset 3 reads min(size-3, sum of iovecs)");
	unsigned char tmp[7] = { 0 };
	rsys(SYS_pread64, fd, tmp, 7, 3);
	expect(n <= 0 || memcmp(b1, tmp, n < 7 ? n : 7) == 0, "preadv bytes match pread");
	struct iovec bad[2] = { { b1, 1 }, { b2, -1UL } };
	res("readv with huge iov_len", rsys(SYS_readv, fd, bad, 2));
	res("readv iovcnt -1", rsys(SYS_readv, fd, iov, -1));
	res("readv iovcnt 1025", rsys(SYS_readv, fd, iov, 1025));
	resv("readv iovcnt 0", rsys(SYS_readv, fd, iov, 0));

	/* lseek errors and beyond-EOF. */
	res("lseek negative", rsys(SYS_lseek, fd, -1, SEEK_SET));
	res("lseek bad whence", rsys(SYS_lseek, fd, 0, 99));
	long r = rsys(SYS_lseek, fd, -1, SEEK_END);
	if (r < 0)
		res("lseek SEEK_END -1", r);
	else
		printf("lseek SEEK_END -1: size%+ld\n", r - (long)st.st_size);
	r = rsys(SYS_lseek, fd, 1000, SEEK_END);
	if (r < 0)
		res("lseek SEEK_END +1000", r);
	else
		printf("lseek SEEK_END +1000: size%+ld\n", r - (long)st.st_size);
	resv("read past EOF", rsys(SYS_read, fd, big, 10));
	resv("read count 0", rsys(SYS_read, fd, big, 0));
	res("write to O_RDONLY fd", rsys(SYS_write, fd, "x", 1));
	rsys(SYS_close, fd);
}

static void fd_ops(void)
{
	printf("== descriptors\n");
	long fd = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	long d = rsys(SYS_dup, fd);
	res("dup", d);
	rsys(SYS_lseek, fd, 5, SEEK_SET);
	resv("dup shares the offset", rsys(SYS_lseek, d, 0, SEEK_CUR));
	resv("F_GETFD of dup", rsys(SYS_fcntl, d, F_GETFD));
	resv("F_GETFL & O_ACCMODE", rsys(SYS_fcntl, d, F_GETFL) & O_ACCMODE);
	resv("dup2 to 100", rsys(SYS_dup2, fd, 100));
	resv("dup2 to itself", rsys(SYS_dup2, fd, fd) == fd);
	res("dup3 to itself", rsys(SYS_dup3, fd, fd, 0));
	res("dup3 bad flags", rsys(SYS_dup3, fd, 101, 12345));
	resv("dup3 O_CLOEXEC to 101", rsys(SYS_dup3, fd, 101, O_CLOEXEC));
	resv("F_GETFD of 101", rsys(SYS_fcntl, 101, F_GETFD));
	resv("F_SETFD 0", rsys(SYS_fcntl, 101, F_SETFD, 0));
	resv("F_GETFD of 101 again", rsys(SYS_fcntl, 101, F_GETFD));
	long f = rsys(SYS_fcntl, fd, F_DUPFD, 200);
	expect(f >= 200, "F_DUPFD 200 gives an fd >= 200");
	f = rsys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 300);
	expect(f >= 300, "F_DUPFD_CLOEXEC 300 gives an fd >= 300");
	resv("F_GETFD of it", rsys(SYS_fcntl, f, F_GETFD));
	res("close 100", rsys(SYS_close, 100));
	res("close 100 again", rsys(SYS_close, 100));
	res("read from closed fd", rsys(SYS_read, 100, big, 1));
	res("fcntl bad cmd", rsys(SYS_fcntl, fd, 12345));
	res("fcntl on a bad fd", rsys(SYS_fcntl, 12345, F_GETFD));
	/* The lowest free descriptor is used. */
	long a = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	rsys(SYS_close, a);
	long b = rsys(SYS_open, "/etc/hostname", O_RDONLY);
	if (b < 0)
		b = rsys(SYS_open, "/etc", O_RDONLY);
	expect(a == b, "a new fd reuses the lowest free number");
	long c = rsys(SYS_open, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	resv("F_GETFD of O_CLOEXEC open", rsys(SYS_fcntl, c, F_GETFD));
	resv("F_GETFL of O_RDONLY|O_CLOEXEC open has no O_CLOEXEC",
	     (rsys(SYS_fcntl, c, F_GETFL) & O_CLOEXEC) != 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	one_file("/etc/passwd");
	one_file("/bin/busybox");
	const char *fx = fixture_dir();
	if (fx) {
		const char *names[] = { "empty", "small", "page", "pageplus", "big" };
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			char p[4096];
			snprintf(p, sizeof p, "%s/%s", fx, names[i]);
			one_file(p);
		}
	} else {
		printf("no fixture\n");
	}
	fd_ops();
	return expect_failures ? 1 : 0;
}
