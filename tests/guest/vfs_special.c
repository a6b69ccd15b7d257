/* The sandbox's own files: /dev's devices and links, a few /proc files,
 * memfd_create with seals, O_TMPFILE, and advisory locks (record locks
 * between two open files of one process: OFD locks conflict, POSIX locks
 * of one process never do; flock). */
#include "util.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 1
#define F_SEAL_SHRINK 2
#define F_SEAL_GROW 4
#define F_SEAL_WRITE 8
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1
#define MFD_ALLOW_SEALING 2
#endif
#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif
#define TMPFILE_FLAG (020000000 | O_DIRECTORY)

static void dev(const char *path)
{
	struct stat st;
	long r = rsys(SYS_stat, path, &st);
	if (r < 0) {
		printf("%s: %s\n", path, rstr(r));
		return;
	}
	printf("%s: mode %o rdev %u:%u\n", path, st.st_mode, major(st.st_rdev), minor(st.st_rdev));
}

static void link_of(const char *path)
{
	char b[128] = { 0 };
	long n = rsys(SYS_readlink, path, b, sizeof b - 1);
	printf("%s -> %s\n", path, n < 0 ? rstr(n) : b);
}

static void first_line(const char *path, char *out, size_t size)
{
	long fd = rsys(SYS_open, path, O_RDONLY);
	long n = fd < 0 ? fd : rsys(SYS_read, fd, out, size - 1);
	if (fd >= 0)
		rsys(SYS_close, fd);
	out[n > 0 ? n : 0] = 0;
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
}

static void lock(const char *label, long fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	res(label, rsys(SYS_fcntl, fd, cmd, &fl));
}

static void getlk(const char *label, long fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	long r = rsys(SYS_fcntl, fd, cmd, &fl);
	if (r < 0)
		printf("%s: %s\n", label, rstr(r));
	else if (fl.l_type == F_UNLCK)
		printf("%s: unlocked\n", label);
	else
		printf("%s: %s lock at %lld len %lld pid %s\n", label, fl.l_type == F_RDLCK ? "read" : "write",
		       (long long)fl.l_start, (long long)fl.l_len, fl.l_pid == -1 ? "-1" : "some");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char b[4096];

	/* /dev */
	const char *devs[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty" };
	for (size_t k = 0; k < sizeof devs / sizeof *devs; k++)
		dev(devs[k]);
	link_of("/dev/stdin");
	link_of("/dev/stdout");
	link_of("/dev/stderr");
	link_of("/dev/fd");
	long fd = rsys(SYS_open, "/dev/null", O_RDWR);
	resv("write /dev/null", rsys(SYS_write, fd, "abc", 3));
	resv("read /dev/null", rsys(SYS_read, fd, b, 10));
	resv("lseek /dev/null", rsys(SYS_lseek, fd, 100, SEEK_SET));
	rsys(SYS_close, fd);
	fd = rsys(SYS_open, "/dev/zero", O_RDONLY);
	memset(b, 7, 100);
	resv("read /dev/zero", rsys(SYS_read, fd, b, 100));
	printf("zeros: %s\n", !b[0] && !b[99] ? "yes" : "no");
	rsys(SYS_close, fd);
	fd = rsys(SYS_open, "/dev/full", O_WRONLY);
	resv("write /dev/full", rsys(SYS_write, fd, "x", 1));
	rsys(SYS_close, fd);
	fd = rsys(SYS_open, "/dev/urandom", O_RDONLY);
	resv("read /dev/urandom", rsys(SYS_read, fd, b, 64));
	rsys(SYS_close, fd);
	struct stat st;
	rsys(SYS_stat, "/dev", &st);
	printf("/dev is a directory: %s\n", S_ISDIR(st.st_mode) ? "yes" : "no");

	/* /proc */
	long pfd = rsys(SYS_open, "/proc/filesystems", O_RDONLY);
	long n = pfd < 0 ? pfd : rsys(SYS_read, pfd, b, sizeof b - 1);
	b[n > 0 ? n : 0] = 0;
	printf("/proc/filesystems has tmpfs: %s, proc: %s\n", strstr(b, "nodev\ttmpfs\n") ? "yes" : "no",
	       strstr(b, "nodev\tproc\n") ? "yes" : "no");
	rsys(SYS_close, pfd);
	first_line("/proc/sys/kernel/ostype", b, sizeof b);
	printf("ostype: %s\n", b);
	struct utsname u;
	uname(&u);
	first_line("/proc/sys/kernel/osrelease", b, sizeof b);
	printf("osrelease is uname's: %s\n", !strcmp(b, u.release) ? "yes" : "no");
	first_line("/proc/sys/kernel/pid_max", b, sizeof b);
	printf("pid_max is a number: %s\n", atoi(b) >= 32768 ? "yes" : "no");
	res("write /proc/sys/kernel/ostype", rsys(SYS_open, "/proc/sys/kernel/ostype", O_WRONLY));
	res("create in /proc", rsys(SYS_open, "/proc/newfile", O_CREAT | O_WRONLY, 0644));

	/* memfd */
	fd = rsys(SYS_memfd_create, "test", MFD_ALLOW_SEALING);
	res("memfd_create", fd);
	resv("write", rsys(SYS_write, fd, "memfd data", 10));
	resv("pread", rsys(SYS_pread64, fd, b, 20, 0));
	rsys(SYS_fstat, fd, &st);
	printf("regular %s size %lld nlink %ld\n", S_ISREG(st.st_mode) ? "yes" : "no",
	       (long long)st.st_size, (long)st.st_nlink);
	resv("F_GET_SEALS", rsys(SYS_fcntl, fd, F_GET_SEALS));
	res("F_ADD_SEALS grow|shrink", rsys(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK));
	resv("write within", rsys(SYS_pwrite64, fd, "D", 1, 0));
	resv("write past the end", rsys(SYS_pwrite64, fd, "xyz", 3, 9));
	res("ftruncate smaller", rsys(SYS_ftruncate, fd, 2));
	res("F_ADD_SEALS write|seal", rsys(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL));
	resv("write sealed", rsys(SYS_pwrite64, fd, "D", 1, 0));
	res("F_ADD_SEALS after SEAL", rsys(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW));
	resv("F_GET_SEALS", rsys(SYS_fcntl, fd, F_GET_SEALS));
	rsys(SYS_close, fd);
	fd = rsys(SYS_memfd_create, "noseal", MFD_CLOEXEC);
	resv("F_GET_SEALS without ALLOW_SEALING", rsys(SYS_fcntl, fd, F_GET_SEALS));
	res("F_ADD_SEALS without ALLOW_SEALING", rsys(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE));
	resv("F_GETFD", rsys(SYS_fcntl, fd, F_GETFD));
	rsys(SYS_close, fd);
	res("memfd_create bad flags", rsys(SYS_memfd_create, "x", 0x100));
	memset(b, 'n', 300);
	b[300] = 0;
	res("memfd_create long name", rsys(SYS_memfd_create, b, 0));
	fd = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	resv("F_GET_SEALS on a plain file", rsys(SYS_fcntl, fd, F_GET_SEALS));
	rsys(SYS_close, fd);

	/* O_TMPFILE in a tmpfs directory */
	char dir[64];
	strcpy(dir, "/dev/shm/vfs_special.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	fd = rsys(SYS_open, dir, TMPFILE_FLAG | O_RDWR, 0600);
	res("O_TMPFILE", fd);
	resv("write", rsys(SYS_write, fd, "tmp", 3));
	rsys(SYS_fstat, fd, &st);
	printf("nlink %ld size %lld\n", (long)st.st_nlink, (long long)st.st_size);
	rsys(SYS_close, fd);
	res("O_TMPFILE read-only", rsys(SYS_open, dir, TMPFILE_FLAG | O_RDONLY, 0600));

	/* locks */
	char path[128];
	snprintf(path, sizeof path, "%s/lockfile", dir);
	long a = rsys(SYS_open, path, O_CREAT | O_RDWR, 0644);
	long c = rsys(SYS_open, path, O_RDWR);
	long r = rsys(SYS_open, path, O_RDONLY);
	rsys(SYS_write, a, "0123456789", 10);
	lock("OFD write 0-9 on a", a, F_OFD_SETLK, F_WRLCK, 0, 10);
	lock("OFD write 5-14 on c", c, F_OFD_SETLK, F_WRLCK, 5, 10);
	lock("OFD read 20+ on c", c, F_OFD_SETLK, F_RDLCK, 20, 0);
	getlk("OFD getlk on c for 0-4", c, F_OFD_GETLK, F_WRLCK, 0, 5);
	getlk("OFD getlk on c for 10-19", c, F_OFD_GETLK, F_WRLCK, 10, 10);
	getlk("OFD getlk on a for 25", a, F_OFD_GETLK, F_RDLCK, 25, 1);
	getlk("OFD getlk on a for 25 (write)", a, F_OFD_GETLK, F_WRLCK, 25, 1);
	lock("OFD unlock 3-5 on a", a, F_OFD_SETLK, F_UNLCK, 3, 3);
	getlk("OFD getlk on c for 0-9", c, F_OFD_GETLK, F_WRLCK, 0, 10);
	getlk("OFD getlk on c for 4", c, F_OFD_GETLK, F_WRLCK, 4, 1);
	lock("POSIX write on c (conflicts with a's OFD)", c, F_SETLK, F_WRLCK, 0, 2);
	lock("POSIX write on c at 100", c, F_SETLK, F_WRLCK, 100, 10);
	lock("POSIX write on a at 100 (same process)", a, F_SETLK, F_WRLCK, 100, 10);
	getlk("POSIX getlk at 100 (own lock)", a, F_GETLK, F_WRLCK, 100, 1);
	getlk("OFD getlk on r at 100", r, F_OFD_GETLK, F_RDLCK, 100, 1);
	lock("POSIX write lock on a read-only fd", r, F_SETLK, F_WRLCK, 200, 1);
	lock("OFD with l_pid set", a, F_OFD_SETLK, F_RDLCK, 300, 1);
	lock("bad type", a, F_SETLK, 7, 0, 1);
	struct flock bad = { .l_type = F_RDLCK, .l_whence = 5 };
	res("bad whence", rsys(SYS_fcntl, a, F_SETLK, &bad));
	bad.l_whence = SEEK_SET;
	bad.l_start = -5;
	res("negative start", rsys(SYS_fcntl, a, F_SETLK, &bad));
	rsys(SYS_close, r); /* closing any fd drops this process's POSIX locks */
	getlk("OFD getlk at 100 after a close", c, F_OFD_GETLK, F_WRLCK, 100, 1);
	res("flock EX on a", rsys(SYS_flock, a, LOCK_EX | LOCK_NB));
	res("flock SH on c", rsys(SYS_flock, c, LOCK_SH | LOCK_NB));
	res("flock EX on a again", rsys(SYS_flock, a, LOCK_EX | LOCK_NB));
	res("flock SH on a (convert)", rsys(SYS_flock, a, LOCK_SH | LOCK_NB));
	res("flock SH on c now", rsys(SYS_flock, c, LOCK_SH | LOCK_NB));
	res("flock UN on c", rsys(SYS_flock, c, LOCK_UN));
	res("flock bad op", rsys(SYS_flock, c, 99));
	res("flock bad fd", rsys(SYS_flock, 999, LOCK_SH));
	rsys(SYS_close, a);
	res("flock EX on c after a closed", rsys(SYS_flock, c, LOCK_EX | LOCK_NB));
	getlk("OFD getlk on c after a closed", c, F_OFD_GETLK, F_WRLCK, 0, 0);
	rsys(SYS_close, c);
	rsys(SYS_unlink, path);
	res("rmdir", rsys(SYS_rmdir, dir));
	return expect_failures != 0;
}
