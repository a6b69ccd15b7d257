/* Lookup rules on a tree the test makes under /tmp: trailing slashes,
 * O_NOFOLLOW, O_DIRECTORY, O_PATH and what it allows, AT_EMPTY_PATH,
 * AT_SYMLINK_NOFOLLOW, the 40-link limit and loops, openat2's RESOLVE_*
 * flags, crossing mount points (/proc), a directory fd kept across a
 * rename and rmdir, getcwd of a removed directory, and chroot (the last
 * thing the test does). */
#include "util.h"
#include <fcntl.h>

/* linux/openat2.h, which musl's headers lack */
struct open_how {
	uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#include <sys/stat.h>

static char dir[64];

static const char *at(const char *name)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static long o2(long dirfd, const char *path, long flags, long resolve)
{
	struct open_how how = { .flags = flags, .resolve = resolve };
	return rsys(SYS_openat2, dirfd, path, &how, sizeof how);
}

static void put(const char *path, const char *s)
{
	long fd = rsys(SYS_open, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	rsys(SYS_write, fd, s, strlen(s));
	rsys(SYS_close, fd);
}

static void closeres(const char *label, long fd)
{
	res(label, fd);
	if (fd >= 0)
		rsys(SYS_close, fd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	rsys(SYS_umask, 022);
	strcpy(dir, "/tmp/vfs_paths.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	rsys(SYS_mkdir, at("d"), 0755);
	rsys(SYS_mkdir, at("d/e"), 0755);
	put(at("f"), "f");
	rsys(SYS_symlink, "f", at("lf"));
	rsys(SYS_symlink, "d", at("ld"));
	rsys(SYS_symlink, "loop", at("loop"));
	rsys(SYS_symlink, "../d", at("d/up"));
	rsys(SYS_symlink, "/proc", at("lproc"));
	/* chain: c0 -> c1 -> ... -> c40 -> f: c1 takes 40 links, c0 41 */
	for (int k = 0; k < 40; k++) {
		char t[16], n[16];
		snprintf(t, sizeof t, "c%d", k + 1);
		snprintf(n, sizeof n, "c%d", k);
		rsys(SYS_symlink, t, at(n));
	}
	rsys(SYS_symlink, "f", at("c40"));

	closeres("f/", rsys(SYS_open, at("f/"), O_RDONLY));
	closeres("d/", rsys(SYS_open, at("d/"), O_RDONLY));
	closeres("d//e//", rsys(SYS_open, at("d//e//"), O_RDONLY));
	closeres("lf/", rsys(SYS_open, at("lf/"), O_RDONLY));
	closeres("ld/", rsys(SYS_open, at("ld/"), O_RDONLY));
	closeres("lf O_NOFOLLOW", rsys(SYS_open, at("lf"), O_RDONLY | O_NOFOLLOW));
	closeres("ld/ O_NOFOLLOW", rsys(SYS_open, at("ld/"), O_RDONLY | O_NOFOLLOW));
	closeres("f O_DIRECTORY", rsys(SYS_open, at("f"), O_RDONLY | O_DIRECTORY));
	closeres("ld O_DIRECTORY", rsys(SYS_open, at("ld"), O_RDONLY | O_DIRECTORY));
	closeres("loop", rsys(SYS_open, at("loop"), O_RDONLY));
	closeres("c1 (40 links)", rsys(SYS_open, at("c1"), O_RDONLY));
	closeres("c0 (41 links)", rsys(SYS_open, at("c0"), O_RDONLY));
	closeres("d/up/e", rsys(SYS_open, at("d/up/e"), O_RDONLY));
	closeres("d/e/../../f", rsys(SYS_open, at("d/e/../../f"), O_RDONLY));
	closeres("f/..", rsys(SYS_open, at("f/.."), O_RDONLY));

	/* O_PATH */
	long pf = rsys(SYS_open, at("lf"), O_PATH | O_NOFOLLOW);
	res("O_PATH of a symlink", pf);
	char buf[64];
	resv("read O_PATH", rsys(SYS_read, pf, buf, 1));
	struct stat st;
	res("fstat O_PATH", rsys(SYS_fstat, pf, &st));
	printf("it is a symlink: %s\n", S_ISLNK(st.st_mode) ? "yes" : "no");
	memset(buf, 0, sizeof buf);
	resv("readlinkat(fd, \"\")", rsys(SYS_readlinkat, pf, "", buf, sizeof buf));
	printf("target %s\n", buf);
	res("fchmod O_PATH", rsys(SYS_fchmod, pf, 0600));
	resv("fcntl F_GETFL O_PATH", rsys(SYS_fcntl, pf, F_GETFL) & ~0100000);
	rsys(SYS_close, pf);
	long pd = rsys(SYS_open, at("d"), O_PATH);
	closeres("openat(O_PATH dir, e)", rsys(SYS_openat, pd, "e", O_RDONLY));
	resv("getdents64 on O_PATH", rsys(SYS_getdents64, pd, buf, sizeof buf));
	res("fstatat AT_EMPTY_PATH", rsys(SYS_newfstatat, pd, "", &st, AT_EMPTY_PATH));
	printf("a directory: %s\n", S_ISDIR(st.st_mode) ? "yes" : "no");
	res("fstatat empty without the flag", rsys(SYS_newfstatat, pd, "", &st, 0));
	res("fchdir O_PATH", rsys(SYS_fchdir, pd));
	closeres("relative after fchdir", rsys(SYS_open, "e", O_RDONLY));
	rsys(SYS_close, pd);
	res("lstat link", rsys(SYS_newfstatat, AT_FDCWD, at("lf"), &st, AT_SYMLINK_NOFOLLOW));
	printf("nofollow sees a link: %s\n", S_ISLNK(st.st_mode) ? "yes" : "no");
	res("faccessat AT_SYMLINK_NOFOLLOW", rsys(SYS_faccessat2, AT_FDCWD, at("loop"), F_OK, AT_SYMLINK_NOFOLLOW));
	res("faccessat follows the loop", rsys(SYS_faccessat2, AT_FDCWD, at("loop"), F_OK, 0));

	/* openat2 */
	long d = rsys(SYS_open, at("d"), O_RDONLY | O_DIRECTORY);
	closeres("BENEATH e", o2(d, "e", O_RDONLY, RESOLVE_BENEATH));
	closeres("BENEATH ..", o2(d, "..", O_RDONLY, RESOLVE_BENEATH));
	closeres("BENEATH e/..", o2(d, "e/..", O_RDONLY, RESOLVE_BENEATH));
	closeres("BENEATH up (a link to ../d)", o2(d, "up", O_RDONLY, RESOLVE_BENEATH));
	closeres("BENEATH absolute", o2(d, "/tmp", O_RDONLY, RESOLVE_BENEATH));
	closeres("IN_ROOT ../../..", o2(d, "../../..", O_RDONLY | O_DIRECTORY, RESOLVE_IN_ROOT));
	long r = o2(d, "/e", O_RDONLY, RESOLVE_IN_ROOT);
	closeres("IN_ROOT /e", r);
	closeres("IN_ROOT up/e", o2(d, "up/e", O_RDONLY, RESOLVE_IN_ROOT));
	closeres("NO_SYMLINKS ld", o2(AT_FDCWD, at("ld"), O_RDONLY, RESOLVE_NO_SYMLINKS));
	closeres("NO_SYMLINKS O_PATH|O_NOFOLLOW ld", o2(AT_FDCWD, at("ld"), O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS));
	closeres("NO_XDEV into /proc", o2(AT_FDCWD, "/proc/filesystems", O_RDONLY, RESOLVE_NO_XDEV));
	closeres("NO_XDEV via lproc", o2(AT_FDCWD, at("lproc/filesystems"), O_RDONLY, RESOLVE_NO_XDEV));
	closeres("NO_XDEV same mount", o2(d, "e/..", O_RDONLY, RESOLVE_NO_XDEV));
	closeres("BENEATH|IN_ROOT", o2(d, "e", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT));
	closeres("crossing into /proc", rsys(SYS_open, at("lproc/filesystems"), O_RDONLY));
	closeres("/proc/..", rsys(SYS_open, "/proc/../tmp", O_RDONLY | O_DIRECTORY));

	/* a directory fd kept while its directory moves and goes */
	rsys(SYS_mkdir, at("m"), 0755);
	put(at("m/x"), "x");
	long md = rsys(SYS_open, at("m"), O_RDONLY | O_DIRECTORY);
	res("rename m n", rsys(SYS_rename, at("m"), at("n")));
	closeres("openat(old fd, x)", rsys(SYS_openat, md, "x", O_RDONLY));
	closeres("openat(old fd, ../f)", rsys(SYS_openat, md, "../f", O_RDONLY));
	rsys(SYS_unlink, at("n/x"));
	res("rmdir n", rsys(SYS_rmdir, at("n")));
	closeres("openat(removed dir, y, O_CREAT)", rsys(SYS_openat, md, "y", O_CREAT | O_RDWR, 0644));
	res("fchdir to the removed dir", rsys(SYS_fchdir, md));
	resv("getcwd there", rsys(SYS_getcwd, buf, sizeof buf));
	res("mkdir in it", rsys(SYS_mkdir, "z", 0755));
	closeres("..", rsys(SYS_open, "..", O_RDONLY | O_DIRECTORY));
	rsys(SYS_close, md);
	rsys(SYS_chdir, "/");

	/* chroot into the test directory: "/" and ".." stay inside it */
	res("chroot", rsys(SYS_chroot, dir));
	res("chroot missing", rsys(SYS_chroot, "/nonexistent"));
	res("chroot a file", rsys(SYS_chroot, at("f")));
	res("chdir /", rsys(SYS_chdir, "/"));
	resv("getcwd", rsys(SYS_getcwd, buf, sizeof buf));
	printf("cwd %s\n", buf);
	closeres("/../../f", rsys(SYS_open, "/../../f", O_RDONLY));
	closeres("/etc/passwd", rsys(SYS_open, "/etc/passwd", O_RDONLY));
	closeres("d/up/../../../f", rsys(SYS_open, "d/up/../../../f", O_RDONLY));
	return expect_failures != 0;
}
