/* Security test, run only under cocoon:
 *   cocoon run --root ROOT -- /escape_vfs_paths.glibc-static CANARY VICTIM MODE
 * Tries to reach, change or read the canary (outside ROOT) through the
 * writable overlay: everything it writes must stay in the sandbox. The
 * runner checks the canary's content never shows and the file is
 * unchanged. ROOT holds this binary and the runner's links (abslink ->
 * CANARY, rellink -> ../canary, uplink -> ../../.., rootlink -> /, sub/).
 *   write:  open for writing, truncate, unlink, rename, chmod, link and
 *           replace links to the canary by every path trick, then read
 *           back what the sandbox sees
 *   dirfd:  directory fds from the overlay and from /tmp, kept across
 *           chdir, rename and rmdir, walked up with "..", renames across
 *           mounts, openat2 scoping
 *   links:  symlink loops and long chains made in the overlay, links to
 *           "..", /proc/self/root, /dev/fd */
// ESCAPE-RUN: write
// ESCAPE-RUN: dirfd
// ESCAPE-RUN: links
#include "util.h"
#include <fcntl.h>
#include <sys/stat.h>

static char buf[4096];

/* Print what an fd reads (the runner looks for the canary's secret). */
static void show_fd(const char *how, long fd)
{
	if (fd < 0) {
		printf("%s: %s\n", how, rstr(fd));
		return;
	}
	long n = rsys(SYS_pread64, fd, buf, sizeof buf - 1, 0);
	if (n < 0)
		n = rsys(SYS_read, fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("%s: read %ld: [%s]\n", how, n, buf);
	rsys(SYS_close, fd);
}

static void show(const char *how, const char *path)
{
	show_fd(how, rsys(SYS_open, path, O_RDONLY));
}

static void mode_write(const char *canary)
{
	char p[1024];
	const char *ways[] = { "/abslink", "/rellink", "/uplink%s", "/rootlink%s", "/../../..%s", "%s",
			       "/sub/../..%s", "/rootlink/../../..%s" };
	for (size_t k = 0; k < sizeof ways / sizeof *ways; k++) {
		snprintf(p, sizeof p, ways[k], canary);
		long fd = rsys(SYS_open, p, O_WRONLY | O_TRUNC | O_CREAT, 0666);
		printf("%s O_TRUNC|O_CREAT: %s\n", ways[k], rstr(fd));
		if (fd >= 0) {
			rsys(SYS_write, fd, "overwritten by the guest\n", 25);
			rsys(SYS_close, fd);
		}
		printf("  append: %s\n", rstr(rsys(SYS_open, p, O_WRONLY | O_APPEND)));
		printf("  truncate: %s\n", rstr(rsys(SYS_truncate, p, 0)));
		printf("  chmod: %s\n", rstr(rsys(SYS_chmod, p, 0)));
		printf("  utimes: %s\n", rstr(rsys(SYS_utimensat, AT_FDCWD, p, NULL, 0)));
		printf("  rename over: %s\n", rstr(rsys(SYS_rename, "/sub", p)));
		printf("  link: %s\n", rstr(rsys(SYS_link, p, "/hardlink")));
		printf("  unlink: %s\n", rstr(rsys(SYS_unlink, p)));
		show("  read back", p);
	}
	/* Replace the links themselves and every file the runner made. */
	printf("replace abslink: %s\n", rstr(rsys(SYS_unlink, "/abslink")));
	printf("new abslink: %s\n", rstr(rsys(SYS_symlink, canary, "/abslink")));
	show("read through new abslink", "/abslink");
	printf("rename rootlink: %s\n", rstr(rsys(SYS_rename, "/rootlink", "/sub/rl")));
	show("through moved rootlink", "/sub/rl/abslink");
	long me = rsys(SYS_open, "/proc/self/exe", O_WRONLY);
	if (me < 0)
		me = rsys(SYS_open, "/escape_vfs_paths.glibc-static", O_WRONLY | O_TRUNC);
	printf("truncate this program: %s\n", rstr(me));
	if (me >= 0) {
		rsys(SYS_write, me, "x", 1);
		rsys(SYS_close, me);
	}
	printf("rmdir sub: %s\n", rstr(rsys(SYS_rmdir, "/sub")));
	printf("mkdir sub/deep: %s\n", rstr(rsys(SYS_mkdir, "/sub/deep", 0755)));
	printf("rename / entries into sub: %s\n", rstr(rsys(SYS_rename, "/rellink", "/sub/deep/r")));
	show("through the moved relative link", "/sub/deep/r");
}

static void walk_up(const char *label, long d, const char *canary)
{
	for (int i = 0; i < 40; i++) {
		long up = rsys(SYS_openat, d, "..", O_RDONLY | O_DIRECTORY);
		if (up < 0)
			break;
		rsys(SYS_close, d);
		d = up;
	}
	char l[128];
	snprintf(l, sizeof l, "%s: canary from the top", label);
	show_fd(l, rsys(SYS_openat, d, canary + 1, O_RDONLY));
	snprintf(l, sizeof l, "%s: ../canary from the top", label);
	show_fd(l, rsys(SYS_openat, d, "../canary", O_RDONLY));
	rsys(SYS_close, d);
}

static void mode_dirfd(const char *canary)
{
	rsys(SYS_mkdir, "/o", 0755);
	rsys(SYS_mkdir, "/o/p", 0755);
	long d = rsys(SYS_open, "/o/p", O_RDONLY | O_DIRECTORY);
	printf("overlay dir fd: %s\n", rstr(d));
	walk_up("overlay dirfd", rsys(SYS_dup, d), canary);
	printf("chdir into it: %s\n", rstr(rsys(SYS_chdir, "/o/p")));
	printf("rename its parent away: %s\n", rstr(rsys(SYS_rename, "/o", "/sub/o")));
	walk_up("after rename", rsys(SYS_dup, d), canary);
	rsys(SYS_getcwd, buf, sizeof buf);
	printf("cwd: %s\n", buf);
	for (int i = 0; i < 40; i++)
		rsys(SYS_chdir, "..");
	rsys(SYS_getcwd, buf, sizeof buf);
	printf("cwd after 40 x ..: %s\n", buf);
	show("canary relative to that", canary + 1);
	printf("rmdir the fd's dir: %s\n", rstr(rsys(SYS_rmdir, "/sub/o/p")));
	walk_up("removed dirfd", d, canary);

	/* /tmp is another mount: renames across it fail, ".." leaves it to / */
	rsys(SYS_mkdir, "/tmp/t", 0755);
	printf("rename /tmp/t to /t: %s\n", rstr(rsys(SYS_rename, "/tmp/t", "/t")));
	printf("rename /sub to /tmp/sub: %s\n", rstr(rsys(SYS_rename, "/sub", "/tmp/sub")));
	printf("link across: %s\n", rstr(rsys(SYS_link, "/abslink", "/tmp/al")));
	walk_up("tmp dirfd", rsys(SYS_open, "/tmp/t", O_RDONLY | O_DIRECTORY), canary);
	walk_up("dev dirfd", rsys(SYS_open, "/dev", O_RDONLY | O_DIRECTORY), canary);
	walk_up("proc dirfd", rsys(SYS_open, "/proc/sys", O_RDONLY | O_DIRECTORY), canary);

	/* chroot into the overlay, then climb out of it with a kept fd */
	long top = rsys(SYS_open, "/", O_RDONLY | O_DIRECTORY);
	rsys(SYS_mkdir, "/jail", 0755);
	printf("chroot: %s\n", rstr(rsys(SYS_chroot, "/jail")));
	rsys(SYS_fchdir, top);
	for (int i = 0; i < 40; i++)
		rsys(SYS_chdir, "..");
	show("canary after leaving the chroot by a kept fd", canary + 1);
	show("abslink after leaving the chroot", "abslink");
}

static void mode_links(const char *canary)
{
	char p[1024];
	printf("loop: %s\n", rstr(rsys(SYS_symlink, "/loop", "/loop")));
	show("open loop", "/loop");
	printf("pair: %s %s\n", rstr(rsys(SYS_symlink, "/b", "/a")), rstr(rsys(SYS_symlink, "/a", "/b")));
	show("open pair", "/a/x");
	/* a chain of 60 links ending at the canary's absolute path */
	for (int k = 0; k < 60; k++) {
		char n[32], t[32];
		snprintf(n, sizeof n, "/c%d", k);
		snprintf(t, sizeof t, "/c%d", k + 1);
		rsys(SYS_symlink, t, n);
	}
	rsys(SYS_symlink, canary, "/c60");
	show("chain of 60", "/c0");
	show("chain end", "/c35");
	snprintf(p, sizeof p, "../../../../../../../../../..%s", canary);
	rsys(SYS_symlink, p, "/sub/deepup");
	show("relative link climbing", "/sub/deepup");
	rsys(SYS_symlink, "..", "/sub/dd");
	snprintf(p, sizeof p, "/sub/dd/sub/dd/sub/dd/..%s", canary);
	show("dotdot links", p);
	show("/proc/self/root/abslink", "/proc/self/root/abslink");
	snprintf(p, sizeof p, "/proc/self/root/../..%s", canary);
	show("/proc/self/root/..", p);
	show("/proc/self/cwd/../canary", "/proc/self/cwd/../canary");
	show("/dev/fd/9 (the runner's fd 9 is the canary)", "/dev/fd/9");
	show("/proc/self/fd/9", "/proc/self/fd/9");
	show_fd("fd 9 itself", rsys(SYS_dup, 9));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 4) {
		printf("usage: escape_vfs_paths CANARY VICTIM MODE\n");
		return 2;
	}
	const char *canary = argv[1], *mode = argv[3];
	if (!strcmp(mode, "write"))
		mode_write(canary);
	else if (!strcmp(mode, "dirfd"))
		mode_dirfd(canary);
	else if (!strcmp(mode, "links"))
		mode_links(canary);
	else {
		printf("unknown mode %s\n", mode);
		return 2;
	}
	printf("contained\n");
	return 0;
}
