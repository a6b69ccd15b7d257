/* What cocoon may cache of a read-only host layer (attributes, symlink
 * targets, missing names) must never hide the sandbox's own changes:
 * a name made after it was found missing, attributes after chmod, a
 * write, truncate or utimes (copy-up), a symlink replaced, a rename over
 * a name found missing, an unlink or rmdir of a lower object.
 *
 * vfs_cache DIR [ALIAS]: DIR is a fresh copy of the tree below (tests/
 * run.sh makes one per run: under cocoon it is the overlay's lower layer,
 * or a --ro-bind). Every change is made through ALIAS (default DIR), every
 * question asked through DIR: under cocoon ALIAS may be a read-write
 * --bind of the same host directory, whose changes DIR must show as the
 * one directory they are natively. Each question is asked twice or more,
 * before and after the change, so an answer kept from before shows.
 * Without arguments it makes the tree under /tmp itself.
 *
 * Tree: a ("lower a"), b ("lower b"), sub/x, sub/y, link -> a,
 * dirlink -> sub, inc1/ (empty), inc2/h.h. */
#include "util.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static const char *dir, *alias;

static const char *path_in(const char *base, const char *name)
{
	static char p[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(p[k], sizeof p[k], "%s/%s", base, name);
	return p[k];
}
#define P(name) path_in(dir, name)   /* where questions are asked */
#define Q(name) path_in(alias, name) /* where changes are made */

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("cannot write %s\n", path);
		exit(1);
	}
	close(fd);
}

static void make_tree(const char *d)
{
	char p[512];
	mkdir(d, 0755);
	put(path_in(d, "a"), "lower a\n");
	put(path_in(d, "b"), "lower b\n");
	mkdir(path_in(d, "sub"), 0755);
	put(path_in(d, "sub/x"), "lower x\n");
	put(path_in(d, "sub/y"), "lower y\n");
	/* Older than the clock's tick: a write must move it. */
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	utimensat(AT_FDCWD, path_in(d, "sub/y"), old, 0);
	symlink("a", path_in(d, "link"));
	symlink("sub", path_in(d, "dirlink"));
	mkdir(path_in(d, "inc1"), 0755);
	mkdir(path_in(d, "inc2"), 0755);
	snprintf(p, sizeof p, "%s/inc2/h.h", d);
	put(p, "int h;\n");
}

/* stat (following links): "ENOENT", or the kind, mode, size and nlink. */
static void st(const char *label, const char *path)
{
	struct stat s;
	long r = rsys(SYS_newfstatat, AT_FDCWD, path, &s, 0);
	if (r < 0) {
		printf("%s: %s\n", label, rstr(r));
		return;
	}
	printf("%s: %s %04o size %lld nlink %ld\n", label,
	       S_ISREG(s.st_mode) ? "file" : S_ISDIR(s.st_mode) ? "dir" : S_ISLNK(s.st_mode) ? "link" :
	       S_ISFIFO(s.st_mode) ? "fifo" : "other", (unsigned)(s.st_mode & 07777),
	       S_ISDIR(s.st_mode) ? 0LL : (long long)s.st_size, S_ISDIR(s.st_mode) ? 0L : (long)s.st_nlink);
}

/* The same question asked n times must get the same answer (printed once). */
static void st_n(const char *label, const char *path, int n)
{
	struct stat s0, s;
	long r0 = rsys(SYS_newfstatat, AT_FDCWD, path, &s0, AT_SYMLINK_NOFOLLOW);
	for (int k = 1; k < n; k++) {
		long r = rsys(SYS_newfstatat, AT_FDCWD, path, &s, AT_SYMLINK_NOFOLLOW);
		expect(r == r0 && (r < 0 || (s.st_mode == s0.st_mode && s.st_size == s0.st_size)),
		       "%s: asked again, the same answer", label);
	}
	st(label, path);
}

static void cat(const char *label, const char *path)
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
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	printf("%s: \"%s\"\n", label, buf);
}

static void rl(const char *label, const char *path)
{
	char buf[256];
	long n = rsys(SYS_readlink, path, buf, sizeof buf - 1);
	if (n < 0) {
		printf("%s: %s\n", label, rstr(n));
		return;
	}
	buf[n] = '\0';
	printf("%s: -> %s\n", label, buf);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of a directory with their types. */
static void list(const char *label, const char *path)
{
	static char buf[8192];
	char *names[256];
	int n = 0;
	long fd = rsys(SYS_open, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		printf("%s: %s\n", label, rstr(fd));
		return;
	}
	long got;
	while ((got = rsys(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		for (long off = 0; off < got;) {
			struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(buf + off);
			if (n < 256 && strcmp(e->name, ".") && strcmp(e->name, "..")) {
				names[n] = malloc(strlen(e->name) + 4);
				sprintf(names[n], "%s:%c", e->name, "?pc?d?b?-?l?s???"[e->type & 15]);
				n++;
			}
			off += e->reclen;
		}
	}
	rsys(SYS_close, fd);
	qsort(names, n, sizeof *names, cmp);
	printf("%s:", label);
	for (int k = 0; k < n; k++) {
		printf(" %s", names[k]);
		free(names[k]);
	}
	printf("\n");
}

static void missing_then_made(void)
{
	printf("-- a name made after it was found missing\n");
	st_n("new before", P("new"), 3);
	res("access new", rsys(SYS_access, P("new"), F_OK));
	res("open new", rsys(SYS_open, P("new"), O_RDONLY));
	res("open new/x", rsys(SYS_open, P("new/x"), O_RDONLY));
	long fd = rsys(SYS_open, Q("new"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	res("create new", fd);
	if (fd >= 0) {
		rsys(SYS_write, fd, "made\n", 5);
		rsys(SYS_close, fd);
	}
	st("new after", P("new"));
	cat("new reads", P("new"));
	res("create new again (O_EXCL)", rsys(SYS_open, P("new"), O_WRONLY | O_CREAT | O_EXCL, 0644));

	st_n("newdir before", P("newdir"), 2);
	st_n("newdir/f before", P("newdir/f"), 2);
	res("mkdir newdir", rsys(SYS_mkdir, Q("newdir"), 0755));
	st_n("newdir/f in it", P("newdir/f"), 2);
	put(Q("newdir/f"), "f\n");
	st("newdir/f after", P("newdir/f"));

	rl("newlink before", P("newlink"));
	rl("newlink before, again", P("newlink"));
	res("symlink newlink -> a", rsys(SYS_symlink, "a", Q("newlink")));
	rl("newlink after", P("newlink"));
	cat("newlink reads", P("newlink"));

	st_n("fifo before", P("fifo"), 2);
	res("mknod fifo", rsys(SYS_mknod, Q("fifo"), S_IFIFO | 0644, 0));
	st("fifo after", P("fifo"));

	st_n("hard before", P("hard"), 2);
	res("link a hard", rsys(SYS_link, Q("a"), Q("hard")));
	st("hard after", P("hard"));
	st("a after link", P("a"));

	/* A compiler looking for a header in each include directory. */
	for (int k = 0; k < 3; k++) {
		long f1 = rsys(SYS_open, P("inc1/h.h"), O_RDONLY);
		long f2 = rsys(SYS_open, P("inc2/h.h"), O_RDONLY);
		if (k == 0)
			printf("include search: inc1 %s, inc2 %s\n", rstr(f1), rstr(f2));
		expect(f1 == -ENOENT && f2 >= 0, "include search %d: inc1 missing, inc2 there", k);
		if (f1 >= 0)
			rsys(SYS_close, f1);
		if (f2 >= 0)
			rsys(SYS_close, f2);
	}
	put(Q("inc1/h.h"), "int h1;\n");
	cat("inc1/h.h after", P("inc1/h.h"));
	list("inc1", P("inc1"));
}

static void attributes(void)
{
	printf("-- attributes after changes\n");
	struct stat s0, s;
	st_n("b", P("b"), 3);
	long fd = rsys(SYS_open, P("b"), O_RDONLY);
	res("chmod b 600", rsys(SYS_chmod, Q("b"), 0600));
	st("b after chmod", P("b"));
	if (fd >= 0 && rsys(SYS_fstat, fd, &s) == 0)
		printf("fstat of b opened before: %04o\n", (unsigned)(s.st_mode & 07777));
	rsys(SYS_close, fd);

	rsys(SYS_newfstatat, AT_FDCWD, P("sub/y"), &s0, 0);
	long rfd = rsys(SYS_open, P("sub/y"), O_RDONLY);
	long wfd = rsys(SYS_open, Q("sub/y"), O_WRONLY | O_APPEND);
	res("append to sub/y", wfd >= 0 ? rsys(SYS_write, wfd, "more\n", 5) : wfd);
	rsys(SYS_close, wfd);
	st("sub/y after append", P("sub/y"));
	rsys(SYS_newfstatat, AT_FDCWD, P("sub/y"), &s, 0);
	expect(s.st_mtim.tv_sec > s0.st_mtim.tv_sec ||
	       (s.st_mtim.tv_sec == s0.st_mtim.tv_sec && s.st_mtim.tv_nsec > s0.st_mtim.tv_nsec),
	       "the write moved sub/y's mtime");
	if (rfd >= 0 && rsys(SYS_fstat, rfd, &s) == 0)
		printf("fstat of sub/y opened before: size %lld\n", (long long)s.st_size);
	rsys(SYS_close, rfd);
	cat("sub/y reads", P("sub/y"));

	res("truncate sub/x 3", rsys(SYS_truncate, Q("sub/x"), 3));
	st("sub/x after truncate", P("sub/x"));
	cat("sub/x reads", P("sub/x"));

	struct timespec ts[2] = { { 1000000000, 5000 }, { 1200000000, 7000 } };
	res("utimensat a", rsys(SYS_utimensat, AT_FDCWD, Q("a"), ts, 0));
	if (rsys(SYS_newfstatat, AT_FDCWD, P("a"), &s, 0) == 0)
		printf("a times: atime %lld.%09ld mtime %lld.%09ld\n", (long long)s.st_atim.tv_sec,
		       s.st_atim.tv_nsec, (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);

	st_n("sub", P("sub"), 2);
	res("chmod sub 700", rsys(SYS_chmod, Q("sub"), 0700));
	st("sub after chmod", P("sub"));
	res("chmod sub 755", rsys(SYS_chmod, Q("sub"), 0755));
	st("sub after chmod back", P("sub"));
}

static void symlinks(void)
{
	printf("-- symbolic links\n");
	for (int k = 0; k < 3; k++)
		rl("link", P("link"));
	rl("dirlink", P("dirlink"));
	st("dirlink/x", P("dirlink/x"));
	res("unlink link", rsys(SYS_unlink, Q("link")));
	rl("link after unlink", P("link"));
	res("symlink link -> b", rsys(SYS_symlink, "b", Q("link")));
	rl("link replaced", P("link"));
	cat("link reads", P("link"));
	res("symlink link2 -> sub/y", rsys(SYS_symlink, "sub/y", Q("link2")));
	res("rename link2 link", rsys(SYS_rename, Q("link2"), Q("link")));
	rl("link renamed over", P("link"));
	rl("link2 after rename", P("link2"));
	st_n("link, followed", P("link"), 2);
	cat("link reads", P("link"));
}

static void renames(void)
{
	printf("-- renames over names found missing\n");
	st_n("moved before", P("moved"), 3);
	res("rename sub/x moved", rsys(SYS_rename, Q("sub/x"), Q("moved")));
	st("moved after", P("moved"));
	cat("moved reads", P("moved"));
	st_n("sub/x after", P("sub/x"), 2);
	list("sub", P("sub"));

	st_n("a before", P("a"), 2);
	res("rename a b", rsys(SYS_rename, Q("a"), Q("b")));
	st_n("a after", P("a"), 2);
	st("b after", P("b"));
	cat("b reads", P("b"));
	st("hard (a's other name)", P("hard"));

	st_n("nope before", P("nope"), 2);
	res("renameat2 moved nope NOREPLACE",
	    rsys(SYS_renameat2, AT_FDCWD, Q("moved"), AT_FDCWD, Q("nope"), RENAME_NOREPLACE));
	cat("nope reads", P("nope"));
	st("moved after NOREPLACE", P("moved"));

	res("renameat2 new b EXCHANGE",
	    rsys(SYS_renameat2, AT_FDCWD, Q("new"), AT_FDCWD, Q("b"), RENAME_EXCHANGE));
	cat("new reads", P("new"));
	cat("b reads", P("b"));
}

static void unlinks(void)
{
	printf("-- unlink and rmdir of lower objects\n");
	st_n("sub/y", P("sub/y"), 2);
	res("unlink sub/y", rsys(SYS_unlink, Q("sub/y")));
	st_n("sub/y after", P("sub/y"), 3);
	res("open sub/y", rsys(SYS_open, P("sub/y"), O_RDONLY));
	list("sub", P("sub"));
	put(Q("sub/y"), "again\n");
	st("sub/y made again", P("sub/y"));
	cat("sub/y reads", P("sub/y"));
	list("sub", P("sub"));

	long fd = rsys(SYS_open, P("hard"), O_RDONLY);
	res("unlink hard", rsys(SYS_unlink, Q("hard")));
	struct stat s;
	if (fd >= 0 && rsys(SYS_fstat, fd, &s) == 0)
		printf("fstat of hard opened before: nlink %ld\n", (long)s.st_nlink);
	rsys(SYS_close, fd);
	st("new (hard's other name)", P("new"));

	st_n("sub/zz", P("sub/zz"), 3);
	res("unlink sub/y", rsys(SYS_unlink, Q("sub/y")));
	res("rmdir sub", rsys(SYS_rmdir, Q("sub")));
	st_n("sub after rmdir", P("sub"), 2);
	st_n("sub/zz after rmdir", P("sub/zz"), 2);
	st("dirlink/x", P("dirlink/x"));
	res("mkdir sub", rsys(SYS_mkdir, Q("sub"), 0755));
	list("sub made again", P("sub"));
	st_n("sub/x in it", P("sub/x"), 2);
	st_n("sub/zz in it", P("sub/zz"), 2);
	put(Q("sub/zz"), "zz\n");
	st("sub/zz made", P("sub/zz"));
	list("sub", P("sub"));
	res("rmdir inc2 (not empty)", rsys(SYS_rmdir, Q("inc2")));
	res("unlink inc2/h.h", rsys(SYS_unlink, Q("inc2/h.h")));
	res("rmdir inc2", rsys(SYS_rmdir, Q("inc2")));
	st_n("inc2/h.h", P("inc2/h.h"), 2);
	list("top", dir);
}

int main(int argc, char **argv)
{
	static char tmp[64];
	if (argc > 1) {
		dir = argv[1];
		alias = argc > 2 ? argv[2] : dir;
	} else {
		snprintf(tmp, sizeof tmp, "/tmp/vfs_cache.%d", (int)getpid());
		make_tree(tmp);
		dir = alias = tmp;
	}
	list("top", dir);
	missing_then_made();
	attributes();
	symlinks();
	renames();
	unlinks();
	if (argc <= 1) {
		const char *names[] = { "sub/zz", "sub", "inc1/h.h", "inc1", "b", "new", "nope",
					"newdir/f", "newdir", "newlink", "fifo", "link", "dirlink" };
		for (size_t k = 0; k < sizeof names / sizeof *names; k++)
			if (rmdir(P(names[k])) < 0)
				unlink(P(names[k]));
		rmdir(dir);
	}
	return expect_failures ? 1 : 0;
}
