/* Writing files, in a fresh directory under /tmp (natively a disk
 * directory, in cocoon a tmpfs): create, write, read back, append,
 * positioned and vector I/O, truncate both ways, holes, lseek with
 * SEEK_DATA/SEEK_HOLE, fallocate, open flags and their errors, fsync,
 * umask, timestamps moving. Everything is removed at the end. */
#include "util.h"
#include <fcntl.h>
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 1
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 2
#endif
#include <sys/stat.h>
#include <sys/uio.h>

static char dir[64];
static char p[256];

static const char *at(const char *name)
{
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void show_stat(const char *label, const char *path)
{
	struct stat st;
	long r = rsys(SYS_lstat, path, &st);
	if (r < 0) {
		printf("%s: %s\n", label, rstr(r));
		return;
	}
	printf("%s: mode %o nlink %ld size %lld\n", label, st.st_mode, (long)st.st_nlink,
	       (long long)st.st_size);
}

static void show_content(const char *label, const char *path)
{
	char buf[256];
	long fd = rsys(SYS_open, path, O_RDONLY);
	if (fd < 0) {
		printf("%s: %s\n", label, rstr(fd));
		return;
	}
	long n = rsys(SYS_read, fd, buf, sizeof buf - 1);
	rsys(SYS_close, fd);
	if (n < 0) {
		printf("%s: read %s\n", label, rstr(n));
		return;
	}
	buf[n] = 0;
	for (long k = 0; k < n; k++)
		if (buf[k] == 0)
			buf[k] = '@';
	printf("%s: [%s]\n", label, buf);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	strcpy(dir, "/tmp/vfs_files.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("mkdtemp failed\n");
		return 1;
	}
	rsys(SYS_umask, 022);

	/* create and write */
	long fd = rsys(SYS_open, at("a"), O_CREAT | O_EXCL | O_WRONLY, 0666);
	res("create a", fd);
	resv("write", rsys(SYS_write, fd, "hello, world\n", 13));
	resv("read on O_WRONLY", rsys(SYS_read, fd, p, 1));
	resv("lseek SEEK_CUR", rsys(SYS_lseek, fd, 0, SEEK_CUR));
	res("close", rsys(SYS_close, fd));
	show_stat("a", at("a"));
	show_content("a content", at("a"));
	res("O_EXCL again", rsys(SYS_open, at("a"), O_CREAT | O_EXCL | O_WRONLY, 0666));
	res("O_CREAT|O_DIRECTORY", rsys(SYS_open, at("b"), O_CREAT | O_DIRECTORY | O_RDWR, 0666));
	res("O_CREAT name/", rsys(SYS_open, at("b/"), O_CREAT | O_RDWR, 0666));
	res("O_CREAT in missing dir", rsys(SYS_open, at("nodir/b"), O_CREAT | O_RDWR, 0666));
	res("O_CREAT under a file", rsys(SYS_open, at("a/b"), O_CREAT | O_RDWR, 0666));
	res("O_DIRECTORY on a file", rsys(SYS_open, at("a"), O_RDONLY | O_DIRECTORY));
	res("open dir O_RDWR", rsys(SYS_open, dir, O_RDWR));
	res("open dir O_CREAT", rsys(SYS_open, dir, O_RDONLY | O_CREAT, 0644));

	/* modes and umask */
	rsys(SYS_umask, 077);
	rsys(SYS_close, rsys(SYS_creat, at("m"), 0777));
	show_stat("creat 0777 under umask 077", at("m"));
	rsys(SYS_umask, 022);
	res("chmod 4755", rsys(SYS_chmod, at("m"), 04755));
	show_stat("after chmod", at("m"));
	fd = rsys(SYS_open, at("m"), O_RDONLY);
	res("fchmod 0600", rsys(SYS_fchmod, fd, 0600));
	rsys(SYS_close, fd);
	show_stat("after fchmod", at("m"));
	/* a file created read-only can still be written by its creator's fd */
	fd = rsys(SYS_open, at("ro"), O_CREAT | O_RDWR, 0444);
	resv("write to new 0444 file", rsys(SYS_write, fd, "x", 1));
	rsys(SYS_close, fd);

	/* append, pwrite, pread, vectors */
	fd = rsys(SYS_open, at("a"), O_WRONLY | O_APPEND);
	resv("append", rsys(SYS_write, fd, "more\n", 5));
	resv("pwrite with O_APPEND still appends", rsys(SYS_pwrite64, fd, "X", 1, 0));
	rsys(SYS_close, fd);
	show_content("after append", at("a"));
	fd = rsys(SYS_open, at("a"), O_RDWR);
	resv("pwrite at 7", rsys(SYS_pwrite64, fd, "WORLD", 5, 7));
	char b[32] = { 0 };
	resv("pread 5 at 7", rsys(SYS_pread64, fd, b, 5, 7));
	printf("pread: [%s]\n", b);
	resv("position untouched", rsys(SYS_lseek, fd, 0, SEEK_CUR));
	struct iovec iov[3] = { { b, 2 }, { b + 10, 3 }, { b + 20, 4 } };
	memset(b, 0, sizeof b);
	resv("readv", rsys(SYS_readv, fd, iov, 3));
	printf("readv: [%.2s][%.3s][%.4s]\n", b, b + 10, b + 20);
	struct iovec wv[2] = { { "AB", 2 }, { "CD", 2 } };
	resv("pwritev at 100", rsys(SYS_pwritev, fd, wv, 2, 100, 0));
	struct stat st;
	rsys(SYS_fstat, fd, &st);
	printf("size after pwritev past the end: %lld\n", (long long)st.st_size);
	memset(b, 'x', sizeof b);
	resv("pread in the gap", rsys(SYS_pread64, fd, b, 4, 50));
	printf("gap reads zeros: %s\n", !b[0] && !b[1] && !b[2] && !b[3] ? "yes" : "no");

	/* truncate */
	res("ftruncate 5", rsys(SYS_ftruncate, fd, 5));
	show_content("after ftruncate 5", at("a"));
	res("ftruncate 8 (grows with zeros)", rsys(SYS_ftruncate, fd, 8));
	show_content("after ftruncate 8", at("a"));
	res("ftruncate -1", rsys(SYS_ftruncate, fd, -1));
	rsys(SYS_close, fd);
	res("truncate path 3", rsys(SYS_truncate, at("a"), 3));
	show_content("after truncate 3", at("a"));
	res("truncate a directory", rsys(SYS_truncate, dir, 0));
	res("truncate missing", rsys(SYS_truncate, at("missing"), 0));
	fd = rsys(SYS_open, at("a"), O_RDONLY);
	res("ftruncate read-only fd", rsys(SYS_ftruncate, fd, 0));
	resv("write read-only fd", rsys(SYS_write, fd, "x", 1));
	rsys(SYS_close, fd);
	fd = rsys(SYS_open, at("a"), O_RDWR | O_TRUNC);
	rsys(SYS_fstat, fd, &st);
	printf("O_TRUNC size: %lld\n", (long long)st.st_size);

	/* a big write across pages, read back */
	static char big[200000], back[200000];
	for (size_t k = 0; k < sizeof big; k++)
		big[k] = (char)rng();
	resv("big write", rsys(SYS_write, fd, big, sizeof big));
	resv("big pread", rsys(SYS_pread64, fd, back, sizeof back, 0));
	expect(!memcmp(big, back, sizeof big), "big data reads back");
	resv("read at EOF", rsys(SYS_read, fd, back, 10));
	resv("lseek SEEK_END", rsys(SYS_lseek, fd, 0, SEEK_END));
	resv("lseek -1", rsys(SYS_lseek, fd, -1, SEEK_SET));
	resv("lseek whence 9", rsys(SYS_lseek, fd, 0, 9));
	resv("SEEK_DATA 0", rsys(SYS_lseek, fd, 0, SEEK_DATA));
	resv("SEEK_HOLE 0", rsys(SYS_lseek, fd, 0, SEEK_HOLE));
	resv("SEEK_DATA past end", rsys(SYS_lseek, fd, 300000, SEEK_DATA));
	resv("SEEK_HOLE past end", rsys(SYS_lseek, fd, 300000, SEEK_HOLE));
	res("fsync", rsys(SYS_fsync, fd));
	res("fdatasync", rsys(SYS_fdatasync, fd));

	/* fallocate */
	resv("fallocate grow", rsys(SYS_fallocate, fd, 0, 0, 300000));
	rsys(SYS_fstat, fd, &st);
	printf("size after fallocate: %lld\n", (long long)st.st_size);
	resv("fallocate KEEP_SIZE", rsys(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 0, 400000));
	rsys(SYS_fstat, fd, &st);
	printf("size after KEEP_SIZE: %lld\n", (long long)st.st_size);
	resv("punch hole", rsys(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 8192));
	memset(back, 1, 16);
	rsys(SYS_pread64, fd, back, 16, 8192);
	printf("punched bytes read zero: %s\n", !back[0] && !back[15] ? "yes" : "no");
	rsys(SYS_pread64, fd, back, 4, 8188);
	printf("bytes before the hole kept: %s\n", !memcmp(back, big + 8188, 4) ? "yes" : "no");
	resv("punch without KEEP_SIZE", rsys(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0, 10));
	resv("fallocate len 0", rsys(SYS_fallocate, fd, 0, 0, 0));
	resv("fallocate negative offset", rsys(SYS_fallocate, fd, 0, -1, 10));
	rsys(SYS_close, fd);
	fd = rsys(SYS_open, at("a"), O_RDONLY);
	resv("fallocate on read-only fd", rsys(SYS_fallocate, fd, 0, 0, 10));
	rsys(SYS_close, fd);
	fd = rsys(SYS_open, dir, O_RDONLY | O_DIRECTORY);
	resv("fsync on a directory", rsys(SYS_fsync, fd));
	resv("read on a directory", rsys(SYS_read, fd, b, 1));
	resv("write on a directory fd", rsys(SYS_write, fd, b, 1));
	rsys(SYS_close, fd);

	/* timestamps move on write */
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 500 } };
	res("utimensat", rsys(SYS_utimensat, AT_FDCWD, at("a"), ts, 0));
	rsys(SYS_stat, at("a"), &st);
	printf("mtime set: %ld.%09ld atime %ld\n", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	       (long)st.st_atim.tv_sec);
	fd = rsys(SYS_open, at("a"), O_WRONLY);
	rsys(SYS_write, fd, "z", 1);
	rsys(SYS_close, fd);
	rsys(SYS_stat, at("a"), &st);
	printf("mtime moved by write: %s\n", st.st_mtim.tv_sec > 1000000000 ? "yes" : "no");
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	res("utimensat OMIT/NOW", rsys(SYS_utimensat, AT_FDCWD, at("a"), ts, 0));
	ts[1].tv_nsec = 1000000000;
	res("utimensat bad nsec", rsys(SYS_utimensat, AT_FDCWD, at("a"), ts, 0));
	res("utimensat missing", rsys(SYS_utimensat, AT_FDCWD, at("missing"), NULL, 0));

	/* clean up */
	const char *names[] = { "a", "m", "ro" };
	for (size_t k = 0; k < 3; k++)
		rsys(SYS_unlink, at(names[k]));
	res("rmdir", rsys(SYS_rmdir, dir));
	return expect_failures != 0;
}
