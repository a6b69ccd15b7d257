/* Path resolution with the sandbox root at "/": "..", ".", repeated
 * slashes, symlinks (the host's /bin -> usr/bin and the runner's fixture
 * links), O_NOFOLLOW, openat with directory fds, chdir/getcwd, name
 * length limits. Every case behaves the same natively. Nothing is
 * written: the O_CREAT cases all fail before creating anything. */
#include "util.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

static char fx[4096];
static uint64_t passwd_sum;

static uint64_t fd_sum(long fd)
{
	static char buf[65536];
	uint64_t h = FNV_INIT;
	long n;
	while ((n = rsys(SYS_read, fd, buf, sizeof buf)) > 0)
		h = fnv1a(h, buf, n);
	return h;
}

static void show_open(const char *label, long fd)
{
	if (fd < 0) {
		printf("%s: %s\n", label, rstr(fd));
		return;
	}
	struct stat st;
	rsys(SYS_fstat, fd, &st);
	if (S_ISDIR(st.st_mode)) {
		printf("%s: ok (directory)\n", label);
	} else {
		uint64_t h = fd_sum(fd);
		if (h == passwd_sum)
			printf("%s: ok (/etc/passwd)\n", label);
		else
			printf("%s: ok (%lld bytes, fnv %016llx)\n", label, (long long)st.st_size,
			       (unsigned long long)h);
	}
	rsys(SYS_close, fd);
}

static void o(const char *path, int flags)
{
	char lbl[256];
	snprintf(lbl, sizeof lbl, "open %s%s", path,
		 (flags & O_NOFOLLOW) ? " O_NOFOLLOW" : (flags & O_DIRECTORY) ? " O_DIRECTORY" : "");
	show_open(lbl, rsys(SYS_open, path, flags | O_CLOEXEC));
}

/* open a fixture-relative path (printed relative to the fixture). */
static void of(const char *rel, int flags)
{
	char p[8192], lbl[256];
	snprintf(p, sizeof p, "%s/%s", fx, rel);
	snprintf(lbl, sizeof lbl, "open fixture/%s%s", rel, (flags & O_NOFOLLOW) ? " O_NOFOLLOW" : "");
	show_open(lbl, rsys(SYS_open, p, flags | O_CLOEXEC));
}

static void cwd(const char *label)
{
	char buf[4096];
	long r = rsys(SYS_getcwd, buf, sizeof buf);
	if (r < 0)
		printf("%s: getcwd %s\n", label, rstr(r));
	else
		printf("%s: cwd %s\n", label, buf);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	long fd = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	passwd_sum = fd_sum(fd);
	rsys(SYS_close, fd);

	printf("-- absolute paths\n");
	o("/etc/passwd", O_RDONLY);
	o("/../../etc/passwd", O_RDONLY);
	o("/../../../../../../../../etc/../etc/passwd", O_RDONLY);
	o("//etc//passwd", O_RDONLY);
	o("/etc/./passwd", O_RDONLY);
	o("/./etc/../etc/passwd", O_RDONLY);
	o("/usr/bin/../../etc/passwd", O_RDONLY);
	o("/bin/../etc/passwd", O_RDONLY);        /* /bin -> usr/bin: this is /usr/etc/passwd */
	o("/bin/../bin/busybox", O_RDONLY);
	o("/bin/busybox", O_RDONLY);
	o("/bin/busybox", O_RDONLY | O_NOFOLLOW); /* only the last component counts */
	o("/bin", O_RDONLY | O_NOFOLLOW);
	o("/bin", O_RDONLY | O_DIRECTORY);
	o("/bin/", O_RDONLY | O_NOFOLLOW);       /* trailing slash follows */
	o("/etc/passwd/", O_RDONLY);
	o("/etc/passwd/..", O_RDONLY);
	o("/etc/", O_RDONLY);
	o("/etc/.", O_RDONLY);
	o("/etc/..", O_RDONLY);
	o("/nonexistent/passwd", O_RDONLY);
	o("", O_RDONLY);
	o("/", O_RDONLY);
	o("/..", O_RDONLY);
	show_open("open /etc O_WRONLY", rsys(SYS_open, "/etc", O_WRONLY));
	show_open("open /etc O_RDWR", rsys(SYS_open, "/etc", O_RDWR));
	show_open("open /etc/passwd O_CREAT|O_EXCL", rsys(SYS_open, "/etc/passwd", O_RDONLY | O_CREAT | O_EXCL, 0644));
	show_open("open /nonexistent/x O_CREAT", rsys(SYS_open, "/nonexistent/x", O_RDONLY | O_CREAT, 0644));
	show_open("open /etc/passwd/x O_CREAT", rsys(SYS_open, "/etc/passwd/x", O_RDONLY | O_CREAT, 0644));
	show_open("open /etc/passwd bad flags", rsys(SYS_open, "/etc/passwd", O_RDONLY | 0x40000000));
	show_open("open /etc/passwd O_PATH", rsys(SYS_open, "/etc/passwd", O_PATH));

	printf("-- O_PATH on a symlink\n");
	fd = rsys(SYS_open, "/bin", O_PATH | O_NOFOLLOW);
	res("open /bin O_PATH|O_NOFOLLOW", fd);
	if (fd >= 0) {
		struct stat st;
		res("fstat of it", rsys(SYS_fstat, fd, &st));
		printf("it is a symlink: %s\n", S_ISLNK(st.st_mode) ? "yes" : "no");
		char buf[64] = { 0 };
		long r = rsys(SYS_readlinkat, fd, "", buf, sizeof buf);
		printf("readlinkat(fd, \"\"): %s [%s]\n", rstr(r), r > 0 ? buf : "");
		res("read from O_PATH fd", rsys(SYS_read, fd, buf, 1));
		rsys(SYS_close, fd);
	}

	printf("-- openat\n");
	long etc = rsys(SYS_open, "/etc", O_RDONLY | O_DIRECTORY);
	show_open("openat /etc passwd", rsys(SYS_openat, etc, "passwd", O_RDONLY));
	show_open("openat /etc ../etc/passwd", rsys(SYS_openat, etc, "../etc/passwd", O_RDONLY));
	show_open("openat /etc ../../../../etc/passwd", rsys(SYS_openat, etc, "../../../../etc/passwd", O_RDONLY));
	show_open("openat /etc .", rsys(SYS_openat, etc, ".", O_RDONLY));
	show_open("openat /etc \"\"", rsys(SYS_openat, etc, "", O_RDONLY));
	show_open("openat bad dirfd, absolute", rsys(SYS_openat, 12345, "/etc/passwd", O_RDONLY));
	show_open("openat bad dirfd, relative", rsys(SYS_openat, 12345, "passwd", O_RDONLY));
	long file = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	show_open("openat file as dirfd", rsys(SYS_openat, file, "x", O_RDONLY));
	rsys(SYS_close, file);
	long usrbin = rsys(SYS_open, "/bin", O_RDONLY | O_DIRECTORY);
	show_open("openat /bin ../../etc/passwd", rsys(SYS_openat, usrbin, "../../etc/passwd", O_RDONLY));
	show_open("openat /bin ../etc/passwd", rsys(SYS_openat, usrbin, "../etc/passwd", O_RDONLY));
	rsys(SYS_close, usrbin);

	printf("-- chdir and getcwd\n");
	res("chdir /etc", rsys(SYS_chdir, "/etc"));
	cwd("after chdir /etc");
	show_open("open passwd (relative)", rsys(SYS_open, "passwd", O_RDONLY));
	show_open("open ./passwd", rsys(SYS_open, "./passwd", O_RDONLY));
	show_open("open ../etc/passwd", rsys(SYS_open, "../etc/passwd", O_RDONLY));
	res("chdir /bin", rsys(SYS_chdir, "/bin"));
	cwd("after chdir /bin");
	res("chdir ..", rsys(SYS_chdir, ".."));
	cwd("after chdir ..");
	res("chdir /", rsys(SYS_chdir, "/"));
	res("chdir ..", rsys(SYS_chdir, ".."));
	res("chdir ../../..", rsys(SYS_chdir, "../../.."));
	cwd("after chdir .. at /");
	res("chdir /etc/passwd", rsys(SYS_chdir, "/etc/passwd"));
	res("chdir /nonexistent", rsys(SYS_chdir, "/nonexistent"));
	res("chdir \"\"", rsys(SYS_chdir, ""));
	res("fchdir /etc fd", rsys(SYS_fchdir, etc));
	cwd("after fchdir");
	res("fchdir bad fd", rsys(SYS_fchdir, 12345));
	file = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	res("fchdir to a file", rsys(SYS_fchdir, file));
	rsys(SYS_close, file);
	char small[4];
	res("getcwd 4-byte buffer", rsys(SYS_getcwd, small, sizeof small));
	res("getcwd size 0", rsys(SYS_getcwd, small, 0));
	resv("getcwd returns length+1", rsys(SYS_getcwd, (char[64]){0}, 64));
	rsys(SYS_chdir, "/");
	rsys(SYS_close, etc);

	printf("-- access\n");
	res("access /etc/passwd R_OK", rsys(SYS_access, "/etc/passwd", R_OK));
	res("access /etc/passwd X_OK", rsys(SYS_access, "/etc/passwd", X_OK));
	res("access /bin/busybox X_OK", rsys(SYS_access, "/bin/busybox", X_OK));
	res("access /nonexistent F_OK", rsys(SYS_access, "/nonexistent", F_OK));
	res("access bad mode", rsys(SYS_access, "/etc/passwd", 0x100));
	res("faccessat /etc passwd", rsys(SYS_faccessat, AT_FDCWD, "/etc/passwd", R_OK));

	printf("-- name limits\n");
	char longname[300];
	memset(longname, 'a', sizeof longname);
	longname[0] = '/';
	longname[257] = 0;
	show_open("open 256-char component", rsys(SYS_open, longname, O_RDONLY));
	longname[256] = 0;
	show_open("open 255-char component", rsys(SYS_open, longname, O_RDONLY));
	static char longpath[8192];
	for (int i = 0; i < 8000; i += 2) {
		longpath[i] = '/';
		longpath[i + 1] = '.';
	}
	strcpy(longpath + 4094, "/etc/passwd");   /* 4105 bytes + NUL */
	show_open("open path of 4105 bytes", rsys(SYS_open, longpath, O_RDONLY));
	for (int i = 0; i < 4084; i += 2) {
		longpath[i] = '/';
		longpath[i + 1] = '.';
	}
	strcpy(longpath + 4084, "/etc/passwd");   /* 4095 bytes + NUL */
	show_open("open path of 4095 bytes", rsys(SYS_open, longpath, O_RDONLY));

	const char *f = fixture_dir();
	if (!f) {
		printf("no fixture\n");
		return expect_failures ? 1 : 0;
	}
	snprintf(fx, sizeof fx, "%s", f);
	printf("-- fixture symlinks\n");
	of("small", O_RDONLY);
	of("abs", O_RDONLY);              /* -> /etc/passwd */
	of("abs", O_RDONLY | O_NOFOLLOW);
	of("dangling", O_RDONLY);
	of("loop", O_RDONLY);             /* -> loop */
	of("loop/x", O_RDONLY);
	of("ping", O_RDONLY);             /* ping -> pong -> ping */
	of("s1", O_RDONLY);               /* 40 links then small */
	of("s0", O_RDONLY);               /* 41 links: ELOOP */
	of("updir/fixture/small", O_RDONLY);    /* updir -> .. */
	of("dirlink/../f1", O_RDONLY);    /* dirlink -> dir/sub: .. is dir */
	of("dir/sub/../f1", O_RDONLY);
	of("dir/sub/../../small", O_RDONLY);
	of("noperm", O_RDONLY);
	of("dir/f1/", O_RDONLY);
	of("rootlink/etc/passwd", O_RDONLY);  /* rootlink -> / */
	of("rootlink/../../../etc/passwd", O_RDONLY);
	res("chdir fixture/dirlink", rsys(SYS_chdir, (snprintf(longpath, sizeof longpath, "%s/dirlink", fx), longpath)));
	show_open("open ../f1 from there", rsys(SYS_open, "../f1", O_RDONLY));
	char buf[4096];
	long r = rsys(SYS_getcwd, buf, sizeof buf);
	expect(r > 0 && strcmp(buf + strlen(buf) - 8, "/dir/sub") == 0, "getcwd shows the physical path");
	return expect_failures ? 1 : 0;
}
