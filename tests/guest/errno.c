/* Error returns: EFAULT for bad user pointers (NULL, unmapped, read-only
 * or PROT_NONE buffers, kernel addresses, strings running into an
 * unmapped page), EBADF, ENOENT, ENOTDIR, EISDIR, ENOSYS, ENOTTY, EMFILE.
 * All through raw system calls: libc must not get in the way. */
#include "util.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#define KADDR 0xffff880000000000L
#define NONCANON 0x0000800000000000L

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	long fd = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	char *ro = (char *)rsys(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = (char *)rsys(SYS_mmap, 0, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *gone = (char *)rsys(SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rsys(SYS_munmap, gone, PAGE);
	/* Two pages, the second unmapped: a string that runs off the end. */
	char *edge = (char *)rsys(SYS_mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rsys(SYS_munmap, edge + PAGE, PAGE);
	memcpy(edge + PAGE - 9, "/etc/pass", 9);
	char *edge2 = (char *)rsys(SYS_mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rsys(SYS_munmap, edge2 + PAGE, PAGE);
	char *edge_ok = edge2 + PAGE - 12;
	memcpy(edge_ok, "/etc/passwd", 12);   /* the NUL is the page's last byte */
	struct stat st;

	printf("-- EFAULT\n");
	res("read into NULL", rsys(SYS_read, fd, 0, 10));
	res("read into unmapped", rsys(SYS_read, fd, gone, 10));
	res("read into read-only page", rsys(SYS_read, fd, ro, 10));
	res("read into PROT_NONE page", rsys(SYS_read, fd, none, 10));
	res("read into kernel address", rsys(SYS_read, fd, KADDR, 10));
	res("read into non-canonical address", rsys(SYS_read, fd, NONCANON, 10));
	res("read into range ending past user space", rsys(SYS_read, fd, NONCANON - 4, 10));
	resv("read 0 bytes into NULL", rsys(SYS_read, fd, 0, 0));
	resv("offset unchanged by failed reads", rsys(SYS_lseek, fd, 0, SEEK_CUR));
	res("pread into unmapped", rsys(SYS_pread64, fd, gone, 10, 0));
	res("write from NULL", rsys(SYS_write, 1, 0, 10));
	res("write from unmapped", rsys(SYS_write, 1, gone, 10));
	res("write from PROT_NONE page", rsys(SYS_write, 1, none, 10));
	res("write from kernel address", rsys(SYS_write, 1, KADDR, 10));
	resv("write 0 bytes from NULL", rsys(SYS_write, 1, 0, 0));
	struct iovec iov[2] = { { (char[8]){0}, 8 }, { gone, 8 } };
	res("readv with NULL iov array", rsys(SYS_readv, fd, 0, 2));
	res("readv with unmapped iov array", rsys(SYS_readv, fd, gone, 2));
	res("readv into an unmapped iov_base (first)", rsys(SYS_readv, fd, iov + 1, 1));
	res("writev with NULL iov array", rsys(SYS_writev, 1, 0, 1));
	res("open NULL path", rsys(SYS_open, 0, O_RDONLY));
	res("open unmapped path", rsys(SYS_open, gone, O_RDONLY));
	res("open path running into an unmapped page", rsys(SYS_open, edge + PAGE - 9, O_RDONLY));
	long r = rsys(SYS_open, edge_ok, O_RDONLY);
	res("open path ending at the last byte of a page", r);
	if (r >= 0)
		rsys(SYS_close, r);
	res("stat NULL path", rsys(SYS_stat, 0, &st));
	res("stat NULL buffer", rsys(SYS_stat, "/etc/passwd", 0));
	res("stat into read-only page", rsys(SYS_stat, "/etc/passwd", ro));
	res("stat into unmapped", rsys(SYS_stat, "/etc/passwd", gone));
	res("stat missing file, NULL buffer", rsys(SYS_stat, "/nonexistent", 0));
	res("fstat NULL buffer", rsys(SYS_fstat, fd, 0));
	res("lstat NULL buffer", rsys(SYS_lstat, "/bin", 0));
	res("newfstatat NULL buffer", rsys(SYS_newfstatat, AT_FDCWD, "/etc", 0, 0));
	res("readlink into unmapped", rsys(SYS_readlink, "/bin", gone, 10));
	res("readlink into read-only page", rsys(SYS_readlink, "/bin", ro, 10));
	res("clock_gettime MONOTONIC NULL", rsys(SYS_clock_gettime, CLOCK_MONOTONIC, 0));
	res("clock_gettime REALTIME into read-only page", rsys(SYS_clock_gettime, CLOCK_REALTIME, ro));
	res("clock_gettime bad clock NULL", rsys(SYS_clock_gettime, 12345, 0));
	res("clock_getres MONOTONIC NULL (allowed)", rsys(SYS_clock_getres, CLOCK_MONOTONIC, 0));
	res("gettimeofday into unmapped", rsys(SYS_gettimeofday, gone, 0));
	res("time into unmapped", rsys(SYS_time, gone));
	res("uname NULL", rsys(SYS_uname, 0));
	res("uname into read-only page", rsys(SYS_uname, ro));
	res("getrandom into NULL", rsys(SYS_getrandom, 0, 32, 0));
	resv("getrandom 0 bytes into NULL", rsys(SYS_getrandom, 0, 0, 0));
	res("getcwd into NULL", rsys(SYS_getcwd, 0, 100));
	res("nanosleep NULL", rsys(SYS_nanosleep, 0, 0));
	res("nanosleep unmapped", rsys(SYS_nanosleep, gone, 0));
	res("getdents64 into read-only page", rsys(SYS_getdents64, rsys(SYS_open, "/etc", O_RDONLY), ro, PAGE));
	res("sched_getaffinity into NULL", rsys(SYS_sched_getaffinity, 0, 128, 0));
	res("prlimit64 old into unmapped", rsys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, gone));
	res("prlimit64 new from unmapped", rsys(SYS_prlimit64, 0, RLIMIT_NOFILE, gone, 0));
	res("getrlimit into NULL", rsys(SYS_getrlimit, RLIMIT_NOFILE, 0));
	res("rt_sigprocmask set unmapped", rsys(SYS_rt_sigprocmask, SIG_BLOCK, gone, 0, 8));
	res("rt_sigprocmask old into read-only", rsys(SYS_rt_sigprocmask, SIG_BLOCK, 0, ro, 8));
	res("chdir NULL", rsys(SYS_chdir, 0));
	res("access unmapped", rsys(SYS_access, gone, R_OK));

	printf("-- EBADF\n");
	res("read fd -1", rsys(SYS_read, -1, (char[4]){0}, 4));
	res("read fd 12345", rsys(SYS_read, 12345, (char[4]){0}, 4));
	res("read fd 1<<30", rsys(SYS_read, 1 << 30, (char[4]){0}, 4));
	res("write fd -1", rsys(SYS_write, -1, "x", 1));
	res("close -1", rsys(SYS_close, -1));
	res("close 12345", rsys(SYS_close, 12345));
	res("fstat fd -1", rsys(SYS_fstat, -1, &st));
	res("lseek fd -1", rsys(SYS_lseek, -1, 0, SEEK_SET));
	res("dup fd -1", rsys(SYS_dup, -1));
	res("read NULL buffer on bad fd", rsys(SYS_read, 12345, 0, 4));

	printf("-- others\n");
	res("open /nonexistent", rsys(SYS_open, "/nonexistent", O_RDONLY));
	res("open /etc/passwd/x", rsys(SYS_open, "/etc/passwd/x", O_RDONLY));
	long dfd = rsys(SYS_open, "/etc", O_RDONLY);
	res("read from a directory", rsys(SYS_read, dfd, (char[16]){0}, 16));
	res("pread from a directory", rsys(SYS_pread64, dfd, (char[16]){0}, 16, 0));
	res("write to a directory fd", rsys(SYS_write, dfd, "x", 1));
	rsys(SYS_close, dfd);
	res("ioctl TCGETS on a file", rsys(SYS_ioctl, fd, 0x5401, (char[64]){0}));
	res("ioctl FIONREAD on a bad fd", rsys(SYS_ioctl, 12345, 0x541B, (int[1]){0}));
	res("syscall 1000", rsys(1000));
	res("syscall 511 (unassigned)", rsys(511));
	res("syscall -1", rsys(-1));
	res("syscall 0x7fffffff", rsys(0x7fffffff));
	res("lseek bad whence", rsys(SYS_lseek, fd, 0, 17));

	printf("-- EMFILE\n");
	struct rlimit old, lim;
	rsys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &old);
	lim.rlim_cur = 20;
	lim.rlim_max = old.rlim_max;
	res("lower RLIMIT_NOFILE to 20", rsys(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, 0));
	long last = 0;
	int opened = 0;
	for (int i = 0; i < 100; i++) {
		last = rsys(SYS_open, "/etc/passwd", O_RDONLY);
		if (last < 0)
			break;
		opened++;
	}
	res("open until failure", last);
	expect(opened < 20, "fewer than 20 opens succeeded");
	res("dup2 to fd 20 (= limit)", rsys(SYS_dup2, fd, 20));
	res("dup2 to fd 19", rsys(SYS_dup2, fd, 19));
	res("F_DUPFD 20", rsys(SYS_fcntl, fd, F_DUPFD, 20));
	res("restore RLIMIT_NOFILE", rsys(SYS_prlimit64, 0, RLIMIT_NOFILE, &old, 0));
	long f = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	res("open after restoring", f);
	return expect_failures ? 1 : 0;
}
