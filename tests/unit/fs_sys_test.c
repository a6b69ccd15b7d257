/* The fs system-call handlers on a temporary tree, with a fake task and
 * guest memory standing in (fs_standins.h). Skipped once the real mm is
 * linked: then these are guest tests' business. */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/close_range.h>
#include "check.h"
#include "fs/fs.h"
#include "kernel/syscall.h"
#include "fs_standins.h"

/* Declared by kernel/syscall.h once the syscall table names them. */
#define H_(n) long sys_##n(const struct sysargs *);
H_(read) H_(write) H_(pread64) H_(preadv) H_(readv) H_(writev) H_(lseek) H_(ioctl)
H_(open) H_(openat) H_(openat2) H_(creat) H_(close) H_(fstat) H_(stat) H_(lstat)
H_(newfstatat) H_(statx) H_(readlink) H_(readlinkat) H_(access) H_(faccessat2)
H_(fcntl) H_(getdents64) H_(getcwd) H_(chdir) H_(fchdir) H_(dup) H_(dup2) H_(dup3)
H_(close_range) H_(mkdir) H_(unlink) H_(unlinkat) H_(rmdir) H_(rename) H_(symlink)
H_(chmod) H_(truncate) H_(mknod)

#define SYS(fn, ...) fn(&(struct sysargs){ .a = { __VA_ARGS__ } })
#define S(str) gstr(str)

static size_t arena_used;
static gaddr_t galloc(size_t n)
{
	gaddr_t g = G(arena + arena_used);
	arena_used += (n + 15) & ~15UL;
	return g;
}
static gaddr_t gstr(const char *s)
{
	gaddr_t g = galloc(strlen(s) + 1);
	strcpy((char *)(uintptr_t)g, s);
	return g;
}
static char *H(gaddr_t g) { return (char *)(uintptr_t)g; }

static char top[PATH_MAX / 2];
static void sh(const char *cmd)
{
	char c[PATH_MAX];
	snprintf(c, sizeof(c), "cd '%s' && %s", top, cmd);
	if (system(c))
		printf("# failed: %s\n", cmd);
}

int main(void)
{
	if (real_mm()) {
		printf("ok - skipped: the real mm is linked\n");
		return 0;
	}
	snprintf(top, sizeof(top), "%s/fs_sys_test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top))
		return 1;
	sh("echo outside > secret && mkdir -p root/a/b && printf abc > root/a/b/c && "
	   "echo inside > root/secret && ln -s /secret root/abs && ln -s a/b/c root/filelink");
	char rootdir[PATH_MAX];
	snprintf(rootdir, sizeof(rootdir), "%s/root", top);

	fs_init("/"); /* the same initial state as at the end, for counting fds */
	int fds_before = 0;
	for (int i = 0; i < 1024; i++)
		fds_before += fcntl(i, F_GETFD) >= 0;
	/* Guest stdin is a pipe we feed, guest stderr a pipe we drain. */
	int in[2], err[2], save0 = dup(0), save2 = dup(2);
	if (pipe(in) || pipe(err))
		return 1;
	dup2(in[0], 0);
	dup2(err[1], 2);
	static struct process proc;
	static struct thread th = { .proc = &proc };
	CHECK_EQ(fs_init(rootdir), 0, "fs_init");
	proc.files = fdtable_new_stdio();
	proc.fs = fs_struct_new();
	proc.rlimits[RLIMIT_NOFILE].rlim_cur = 32;
	current = &th;
	dup2(save0, 0);
	dup2(save2, 2);
	close(in[0]);
	close(err[1]);

	/* open and read */
	gaddr_t buf = galloc(8192);
	long fd = SYS(sys_openat, AT_FDCWD, S("/a/b/c"), O_RDONLY);
	CHECK_EQ(fd, 3, "openat gives the lowest free fd");
	CHECK_EQ(SYS(sys_read, fd, buf, 100), 3, "read");
	CHECK(!memcmp(H(buf), "abc", 3), "read data");
	CHECK_EQ(SYS(sys_read, fd, buf, 100), 0, "read at EOF");
	CHECK_EQ(SYS(sys_lseek, fd, 1, SEEK_SET), 1, "lseek");
	CHECK_EQ(SYS(sys_lseek, fd, 0, 7), -EINVAL, "lseek whence");
	CHECK_EQ(SYS(sys_read, fd, buf, 100), 2, "read after lseek");
	CHECK_EQ(SYS(sys_pread64, fd, buf, 3, 0), 3, "pread64");
	CHECK_EQ(SYS(sys_pread64, fd, buf, 3, -1), -EINVAL, "pread64 at -1");
	CHECK_EQ(SYS(sys_pread64, fd, G(arena) + arena_len - 1, 3, 0), 1, "read into a partly mapped buffer");
	CHECK_EQ(SYS(sys_pread64, fd, G(arena) + arena_len, 3, 0), -EFAULT, "read into an unmapped buffer");
	CHECK_EQ(SYS(sys_pread64, fd, G(arena) + arena_len, 3, 3), 0, "at EOF the buffer does not matter");
	CHECK_EQ(SYS(sys_pread64, fd, 0x7ffffffff000UL - 1, 3, 0), -EFAULT, "buffer past TASK_SIZE");
	CHECK_EQ(SYS(sys_write, fd, buf, 1), -EBADF, "write to a read-only fd");
	CHECK_EQ(SYS(sys_read, 99, buf, 1), -EBADF, "read of a bad fd");
	uint64_t *iov = (uint64_t *)H(galloc(32));
	iov[0] = buf; iov[1] = 1; iov[2] = buf + 5000; iov[3] = 10;
	CHECK_EQ(SYS(sys_preadv, fd, G(iov), 2, 0), 3, "preadv across pages");
	CHECK(H(buf)[0] == 'a' && !memcmp(H(buf) + 5000, "bc", 2), "preadv data");
	CHECK_EQ(SYS(sys_readv, fd, G(iov), 1025), -EINVAL, "readv of 1025 iovecs");
	iov[3] = -1;
	CHECK_EQ(SYS(sys_preadv, fd, G(iov), 2, 0), -EINVAL, "negative iovec length");
	CHECK_EQ(SYS(sys_readv, fd, G(iov), 0), 0, "readv of nothing");
	CHECK_EQ(SYS(sys_ioctl, fd, TCGETS, buf), -ENOTTY, "TCGETS on a file");
	SYS(sys_lseek, fd, 1, SEEK_SET);
	CHECK_EQ(SYS(sys_ioctl, fd, FIONREAD, buf), 0, "FIONREAD");
	CHECK_EQ(*(int *)H(buf), 2, "FIONREAD bytes left");

	/* stat family */
	struct stat *st = (struct stat *)H(galloc(sizeof(struct stat)));
	CHECK_EQ(SYS(sys_fstat, fd, G(st)), 0, "fstat");
	CHECK(S_ISREG(st->st_mode) && st->st_size == 3, "fstat data");
	CHECK_EQ(SYS(sys_lstat, S("/filelink"), G(st)), 0, "lstat");
	CHECK(S_ISLNK(st->st_mode), "lstat sees the link");
	CHECK_EQ(SYS(sys_stat, S("/filelink"), G(st)), 0, "stat");
	CHECK(S_ISREG(st->st_mode) && st->st_size == 3, "stat follows");
	CHECK_EQ(SYS(sys_newfstatat, fd, S(""), G(st), AT_EMPTY_PATH), 0, "fstatat AT_EMPTY_PATH");
	CHECK_EQ(SYS(sys_newfstatat, fd, 0, G(st), AT_EMPTY_PATH), 0, "fstatat NULL path");
	CHECK_EQ(SYS(sys_newfstatat, AT_FDCWD, S(""), G(st), 0), -ENOENT, "fstatat empty path");
	CHECK_EQ(SYS(sys_newfstatat, AT_FDCWD, S("/"), G(st), 0x1), -EINVAL, "fstatat bad flags");
	CHECK_EQ(SYS(sys_newfstatat, fd, S("x"), G(st), 0), -ENOTDIR, "relative to a file fd");
	CHECK_EQ(SYS(sys_newfstatat, 99, S("x"), G(st), 0), -EBADF, "relative to a bad fd");
	CHECK_EQ(SYS(sys_newfstatat, 99, S("/secret"), G(st), 0), 0, "absolute ignores dirfd");
	CHECK_EQ(SYS(sys_stat, G(arena) + arena_len, G(st)), -EFAULT, "unmapped path");
	struct statx *stx = (struct statx *)H(galloc(sizeof(struct statx)));
	CHECK_EQ(SYS(sys_statx, AT_FDCWD, S("secret"), 0, STATX_BASIC_STATS, G(stx)), 0, "statx");
	CHECK_EQ(stx->stx_size, 7, "statx size");
	CHECK_EQ(SYS(sys_statx, AT_FDCWD, S("secret"), 0x6000, STATX_BASIC_STATS, G(stx)), -EINVAL, "statx sync flags");
	CHECK_EQ(SYS(sys_readlink, S("/abs"), buf, 100), 7, "readlink");
	CHECK(!memcmp(H(buf), "/secret", 7), "readlink data");
	CHECK_EQ(SYS(sys_readlink, S("/abs"), buf, 3), 3, "readlink truncates");
	CHECK_EQ(SYS(sys_readlink, S("/secret"), buf, 100), -EINVAL, "readlink of a file");
	CHECK_EQ(SYS(sys_readlink, S("/abs"), buf, 0), -EINVAL, "readlink size 0");
	CHECK_EQ(SYS(sys_access, S("/secret"), R_OK), 0, "access R_OK");
	CHECK_EQ(SYS(sys_access, S("/secret"), W_OK), -EROFS, "access W_OK");
	CHECK_EQ(SYS(sys_access, S("/secret"), X_OK), -EACCES, "access X_OK");
	CHECK_EQ(SYS(sys_access, S("/secret"), 8), -EINVAL, "access bad mode");
	CHECK_EQ(SYS(sys_faccessat2, AT_FDCWD, S("/secret"), 0, 0x8000), -EINVAL, "faccessat2 bad flags");

	/* open errors on the read-only tree */
	CHECK_EQ(SYS(sys_open, S("/secret"), O_WRONLY), -EROFS, "open for writing");
	CHECK_EQ(SYS(sys_open, S("/secret"), O_RDONLY | O_TRUNC), -EROFS, "O_TRUNC");
	CHECK_EQ(SYS(sys_open, S("/secret"), O_CREAT | O_EXCL | O_RDONLY, 0644), -EEXIST, "O_EXCL existing");
	CHECK_EQ(SYS(sys_open, S("/abs"), O_CREAT | O_EXCL | O_RDONLY, 0644), -EEXIST, "O_EXCL on a link");
	CHECK_EQ(SYS(sys_open, S("/new"), O_CREAT | O_RDONLY, 0644), -EROFS, "O_CREAT new");
	CHECK_EQ(SYS(sys_open, S("/new/"), O_CREAT | O_RDONLY, 0644), -EISDIR, "O_CREAT new/");
	CHECK_EQ(SYS(sys_open, S("/nodir/new"), O_CREAT | O_RDONLY, 0644), -ENOENT, "O_CREAT in nothing");
	CHECK_EQ(SYS(sys_open, S("/secret/"), O_CREAT | O_RDONLY, 0644), -EISDIR, "O_CREAT file/");
	CHECK_EQ(SYS(sys_open, S("/a/"), O_CREAT | O_RDONLY, 0644), -EISDIR, "O_CREAT dir/");
	CHECK_EQ(SYS(sys_open, S("/secret/"), O_RDONLY), -ENOTDIR, "open file/");
	CHECK_EQ(SYS(sys_open, S("/a"), O_CREAT | O_RDONLY, 0644), -EISDIR, "O_CREAT on a directory");
	CHECK_EQ(SYS(sys_creat, S("/x"), 0644), -EROFS, "creat");
	CHECK_EQ(SYS(sys_open, S("/a"), O_RDWR), -EISDIR, "directory for writing");
	CHECK_EQ(SYS(sys_open, S("/a"), 3), -EISDIR, "directory with mode 3");
	long m3 = SYS(sys_open, S("/secret"), 3);
	CHECK(m3 > 0, "file with mode 3 (ioctl only)");
	CHECK_EQ(SYS(sys_read, m3, buf, 1), -EBADF, "no read with mode 3");
	SYS(sys_close, m3);
	CHECK_EQ(SYS(sys_open, S("/a"), O_DIRECTORY | O_CREAT), -EINVAL, "O_DIRECTORY|O_CREAT");
	CHECK_EQ(SYS(sys_open, S("/a"), O_TMPFILE | O_RDWR, 0600), -EROFS, "O_TMPFILE");
	CHECK_EQ(SYS(sys_open, S("/a"), O_TMPFILE | O_RDONLY), -EINVAL, "O_TMPFILE read-only");
	CHECK_EQ(SYS(sys_open, S("/filelink"), O_RDONLY | O_NOFOLLOW), -ELOOP, "O_NOFOLLOW on a link");
	CHECK_EQ(SYS(sys_open, S("/secret"), O_RDONLY | O_DIRECTORY), -ENOTDIR, "O_DIRECTORY on a file");
	CHECK_EQ(SYS(sys_open, S("/missing"), O_RDONLY), -ENOENT, "missing");
	long pfd = SYS(sys_open, S("/filelink"), O_PATH | O_NOFOLLOW);
	CHECK(pfd >= 0, "O_PATH|O_NOFOLLOW of a link");
	CHECK_EQ(SYS(sys_read, pfd, buf, 1), -EBADF, "read of an O_PATH fd");
	CHECK_EQ(SYS(sys_fcntl, pfd, F_GETFL), O_PATH | O_NOFOLLOW, "F_GETFL of O_PATH");
	CHECK_EQ(SYS(sys_readlinkat, pfd, S(""), buf, 100), 5, "readlinkat of an O_PATH link");
	CHECK_EQ(SYS(sys_fcntl, fd, F_GETFL), O_RDONLY | 0100000 /* the kernel's O_LARGEFILE */, "F_GETFL");

	/* openat2 */
	struct open_how *how = (struct open_how *)H(galloc(64));
	*how = (struct open_how){ .flags = O_RDONLY };
	long afd = SYS(sys_openat, AT_FDCWD, S("/a"), O_RDONLY | O_DIRECTORY);
	CHECK_EQ(SYS(sys_openat2, afd, S("b/c"), G(how), sizeof(*how)), afd + 1, "openat2");
	SYS(sys_close, afd + 1);
	CHECK_EQ(SYS(sys_openat2, afd, S("b/c"), G(how), 23), -EINVAL, "openat2 small size");
	CHECK_EQ(SYS(sys_openat2, afd, S("b/c"), G(how), 4097), -E2BIG, "openat2 huge size");
	CHECK_EQ(SYS(sys_openat2, afd, S("b/c"), G(how), 32), afd + 1, "openat2 bigger struct, zeros");
	SYS(sys_close, afd + 1);
	H(G(how))[30] = 1;
	CHECK_EQ(SYS(sys_openat2, afd, S("b/c"), G(how), 32), -E2BIG, "openat2 nonzero tail");
	how->resolve = RESOLVE_BENEATH;
	CHECK_EQ(SYS(sys_openat2, afd, S("../secret"), G(how), 24), -EXDEV, "RESOLVE_BENEATH");
	how->resolve = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
	CHECK_EQ(SYS(sys_openat2, afd, S("b/c"), G(how), 24), -EINVAL, "BENEATH|IN_ROOT");
	*how = (struct open_how){ .flags = O_RDONLY, .mode = 0644 };
	CHECK_EQ(SYS(sys_openat2, afd, S("b/c"), G(how), 24), -EINVAL, "mode without O_CREAT");
	*how = (struct open_how){ .flags = 1ULL << 40 };
	CHECK_EQ(SYS(sys_openat2, afd, S("b/c"), G(how), 24), -EINVAL, "unknown flag");

	/* getdents64 */
	long rfd = SYS(sys_open, S("/"), O_RDONLY | O_DIRECTORY);
	long n = SYS(sys_getdents64, rfd, buf, 8192);
	bool seen_a = false;
	for (long off = 0; off < n;) {
		char *d = H(buf) + off;
		seen_a |= !strcmp(d + 19, "a");
		off += *(uint16_t *)(d + 16);
	}
	CHECK(n > 0 && seen_a, "getdents64 lists a");
	CHECK_EQ(SYS(sys_getdents64, rfd, buf, 8192), 0, "getdents64 at the end");
	SYS(sys_lseek, rfd, 0, SEEK_SET);
	CHECK_EQ(SYS(sys_getdents64, rfd, buf, 10), -EINVAL, "getdents64 tiny buffer");
	CHECK_EQ(SYS(sys_getdents64, rfd, G(arena) + arena_len - 30, 8192), 24, "getdents64 partly mapped buffer");
	CHECK_EQ(SYS(sys_getdents64, fd, buf, 8192), -ENOTDIR, "getdents64 of a file");
	CHECK_EQ(SYS(sys_read, rfd, buf, 10), -EISDIR, "read of a directory");
	CHECK_EQ(SYS(sys_read, rfd, G(arena) + arena_len, 10), -EISDIR, "read of a directory, bad buffer");

	/* cwd */
	CHECK_EQ(SYS(sys_getcwd, buf, 100), 2, "getcwd");
	CHECK_EQ(SYS(sys_chdir, S("a/b")), 0, "chdir");
	CHECK_EQ(SYS(sys_getcwd, buf, 100), 5, "getcwd after chdir");
	CHECK(!strcmp(H(buf), "/a/b"), "cwd is %s", H(buf));
	CHECK_EQ(SYS(sys_getcwd, buf, 4), -ERANGE, "getcwd small buffer");
	CHECK_EQ(SYS(sys_chdir, S("c")), -ENOTDIR, "chdir to a file");
	long cfd = SYS(sys_open, S("c"), O_RDONLY);
	CHECK(cfd > 0, "relative open");
	SYS(sys_close, cfd);
	CHECK_EQ(SYS(sys_fchdir, rfd), 0, "fchdir");
	CHECK_EQ(SYS(sys_getcwd, buf, 100), 2, "getcwd after fchdir");
	CHECK_EQ(SYS(sys_fchdir, fd), -ENOTDIR, "fchdir to a file");

	/* fd table */
	SYS(sys_close, afd);
	CHECK_EQ(SYS(sys_dup, fd), afd, "dup");
	CHECK_EQ(SYS(sys_dup2, fd, 20), 20, "dup2");
	CHECK_EQ(SYS(sys_dup2, fd, fd), fd, "dup2 to itself");
	CHECK_EQ(SYS(sys_dup2, 30, 30), -EBADF, "dup2 of a closed fd to itself");
	CHECK_EQ(SYS(sys_dup2, fd, 32), -EBADF, "dup2 past RLIMIT_NOFILE");
	CHECK_EQ(SYS(sys_dup3, fd, fd, 0), -EINVAL, "dup3 to itself");
	CHECK_EQ(SYS(sys_dup3, fd, 21, 1), -EINVAL, "dup3 bad flags");
	CHECK_EQ(SYS(sys_dup3, fd, 21, O_CLOEXEC), 21, "dup3");
	CHECK_EQ(SYS(sys_fcntl, 21, F_GETFD), FD_CLOEXEC, "F_GETFD");
	CHECK_EQ(SYS(sys_fcntl, 21, F_SETFD, 0), 0, "F_SETFD");
	CHECK_EQ(SYS(sys_fcntl, 21, F_GETFD), 0, "F_GETFD cleared");
	CHECK_EQ(SYS(sys_fcntl, fd, F_DUPFD, 20), 22, "F_DUPFD");
	CHECK_EQ(SYS(sys_fcntl, fd, F_DUPFD, 32), -EINVAL, "F_DUPFD past the limit");
	CHECK_EQ(SYS(sys_fcntl, fd, F_SETFL, O_NONBLOCK), 0, "F_SETFL");
	CHECK_EQ(SYS(sys_fcntl, fd, F_GETFL), O_RDONLY | 0100000 /* the kernel's O_LARGEFILE */ | O_NONBLOCK, "F_GETFL after F_SETFL");
	CHECK_EQ(SYS(sys_fcntl, pfd, F_SETFL, 0), -EBADF, "F_SETFL of O_PATH");
	CHECK_EQ(SYS(sys_ioctl, fd, FIOCLEX, 0), 0, "FIOCLEX");
	CHECK_EQ(SYS(sys_fcntl, fd, F_GETFD), FD_CLOEXEC, "FIOCLEX sets the flag");
	long last = 0;
	for (int i = 0; i < 40 && last >= 0; i++)
		last = SYS(sys_dup, fd);
	CHECK_EQ(last, -EMFILE, "EMFILE at RLIMIT_NOFILE");
	CHECK_EQ(SYS(sys_open, S("/secret"), O_RDONLY), -EMFILE, "open with a full table");
	CHECK_EQ(SYS(sys_close_range, 10, 5, 0), -EINVAL, "close_range backwards");
	CHECK_EQ(SYS(sys_close_range, 23, ~0U, CLOSE_RANGE_CLOEXEC), 0, "close_range CLOEXEC");
	CHECK_EQ(SYS(sys_fcntl, 25, F_GETFD), FD_CLOEXEC, "close_range set the flag");
	CHECK_EQ(SYS(sys_close_range, 8, ~0U, 0), 0, "close_range");
	CHECK_EQ(SYS(sys_close, 20), -EBADF, "closed by close_range");
	CHECK_EQ(SYS(sys_close, fd), 0, "close");
	CHECK_EQ(SYS(sys_close, fd), -EBADF, "close twice");

	/* calls that would modify the tree */
	CHECK_EQ(SYS(sys_mkdir, S("/a"), 0755), -EEXIST, "mkdir existing");
	CHECK_EQ(SYS(sys_mkdir, S("/new"), 0755), -EROFS, "mkdir new");
	CHECK_EQ(SYS(sys_mkdir, S("/nodir/new"), 0755), -ENOENT, "mkdir in nothing");
	CHECK_EQ(SYS(sys_unlink, S("/missing")), -EROFS, "unlink missing");
	CHECK_EQ(SYS(sys_unlinkat, AT_FDCWD, S("/a"), 1), -EINVAL, "unlinkat bad flags");
	CHECK_EQ(SYS(sys_rmdir, S("/")), -EBUSY, "rmdir /");
	CHECK_EQ(SYS(sys_rmdir, S("/a/..")), -ENOTEMPTY, "rmdir ..");
	CHECK_EQ(SYS(sys_rename, S("/secret"), S("/x")), -EROFS, "rename");
	CHECK_EQ(SYS(sys_symlink, S("x"), S("/abs")), -EEXIST, "symlink over a link");
	CHECK_EQ(SYS(sys_symlink, S("x"), S("/secret/")), -EEXIST, "symlink over file/");
	CHECK_EQ(SYS(sys_symlink, S("x"), S("/new/")), -ENOENT, "symlink to new/");
	CHECK_EQ(SYS(sys_chmod, S("/secret"), 0600), -EROFS, "chmod");
	CHECK_EQ(SYS(sys_chmod, S("/missing"), 0600), -ENOENT, "chmod missing");
	CHECK_EQ(SYS(sys_truncate, S("/a"), 0), -EISDIR, "truncate a directory");
	CHECK_EQ(SYS(sys_mknod, S("/d"), S_IFDIR), -EPERM, "mknod a directory");

	/* stdio: guest fd 0 and 2 are the host pipes */
	if (write(in[1], "hello", 5) != 5)
		return 1;
	CHECK_EQ(SYS(sys_read, 0, buf, 100), 5, "read from guest stdin");
	CHECK(!memcmp(H(buf), "hello", 5), "stdin data");
	CHECK_EQ(SYS(sys_pread64, 0, buf, 1, 0), -ESPIPE, "pread64 of a pipe");
	CHECK_EQ(SYS(sys_lseek, 0, 0, SEEK_CUR), -ESPIPE, "lseek of a pipe");
	iov[0] = S("wor"); iov[1] = 3; iov[2] = S("ld"); iov[3] = 2;
	CHECK_EQ(SYS(sys_writev, 2, G(iov), 2), 5, "writev to guest stderr");
	char hb[16] = { 0 };
	CHECK(read(err[0], hb, 15) == 5 && !strcmp(hb, "world"), "stderr got %s", hb);
	CHECK_EQ(SYS(sys_write, 2, G(arena) + arena_len - 2, 10), 2, "short write from a partly mapped buffer");
	CHECK_EQ(SYS(sys_write, 2, G(arena) + arena_len, 10), -EFAULT, "write from an unmapped buffer");
	CHECK_EQ(SYS(sys_fcntl, 0, F_GETFL) & O_ACCMODE, O_RDONLY, "stdin F_GETFL");

	fdtable_put(proc.files);
	fs_struct_put(proc.fs);
	fs_init("/"); /* drops the initial state's fds of the test tree */
	close(in[1]);
	close(err[0]);
	close(save0);
	close(save2);
	int fds_after = 0;
	for (int i = 0; i < 1024; i++)
		fds_after += fcntl(i, F_GETFD) >= 0;
	CHECK_EQ(fds_after, fds_before, "no host fd leaked");
	sh("cd .. && rm -rf \"$OLDPWD\"");
	CHECK_DONE();
}
