/* The tree: mkdir, rmdir, unlink, rename (with NOREPLACE and EXCHANGE),
 * link, symlink, mknod (FIFOs), directory listings and link counts,
 * chown, in a fresh directory under /tmp; and the same few changes under
 * the root itself ("/"), where cocoon keeps them in its overlay. Every
 * errno is Linux's. Everything is removed at the end. */
#include "util.h"
#include <fcntl.h>
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif
#include <sys/stat.h>

static char dir[128];

static const char *at(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of a directory, with their types. */
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
			if (n < 256) {
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

static long nlink(const char *path)
{
	struct stat st;
	long r = rsys(SYS_lstat, path, &st);
	return r < 0 ? r : (long)st.st_nlink;
}

static void content(const char *label, const char *path)
{
	char b[64];
	long fd = rsys(SYS_open, path, O_RDONLY);
	long n = fd < 0 ? fd : rsys(SYS_read, fd, b, sizeof b - 1);
	if (fd >= 0)
		rsys(SYS_close, fd);
	if (n < 0) {
		printf("%s: %s\n", label, rstr(n));
		return;
	}
	b[n] = 0;
	printf("%s: [%s]\n", label, b);
}

static void put(const char *path, const char *s)
{
	long fd = rsys(SYS_open, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	rsys(SYS_write, fd, s, strlen(s));
	rsys(SYS_close, fd);
}

static void tree(const char *base)
{
	snprintf(dir, sizeof dir, "%s", base);
	printf("== %s\n", base[1] == 't' ? "under /tmp" : "under /");
	res("mkdir d", rsys(SYS_mkdir, at("d"), 0755));
	res("mkdir d again", rsys(SYS_mkdir, at("d"), 0755));
	res("mkdir d/", rsys(SYS_mkdir, at("e/"), 0755));
	res("mkdir missing/x", rsys(SYS_mkdir, at("missing/x"), 0755));
	res("mkdir .", rsys(SYS_mkdir, at("."), 0755));
	resv("nlink of the dir with 2 subdirs", nlink(dir));
	put(at("f"), "file f");
	res("mkdir f/x", rsys(SYS_mkdir, at("f/x"), 0755));
	res("rmdir f", rsys(SYS_rmdir, at("f")));
	res("unlink d", rsys(SYS_unlink, at("d")));
	res("rmdir .", rsys(SYS_rmdir, at("d/.")));
	res("rmdir ..", rsys(SYS_rmdir, at("d/..")));
	put(at("d/inner"), "inner");
	res("rmdir non-empty", rsys(SYS_rmdir, at("d")));
	res("unlink f/", rsys(SYS_unlink, at("f/")));
	list("listing", dir);

	/* links */
	res("link f g", rsys(SYS_link, at("f"), at("g")));
	resv("nlink f", nlink(at("f")));
	res("link onto existing", rsys(SYS_link, at("f"), at("g")));
	res("link a directory", rsys(SYS_link, at("d"), at("dd")));
	res("link missing", rsys(SYS_link, at("nothing"), at("n2")));
	res("unlink g", rsys(SYS_unlink, at("g")));
	resv("nlink f after", nlink(at("f")));
	res("symlink", rsys(SYS_symlink, "f", at("s")));
	res("symlink exists", rsys(SYS_symlink, "f", at("s")));
	res("symlink empty target", rsys(SYS_symlink, "", at("s2")));
	char t[64] = { 0 };
	resv("readlink", rsys(SYS_readlink, at("s"), t, sizeof t));
	printf("target: %s\n", t);
	content("through the link", at("s"));
	res("symlink dangling", rsys(SYS_symlink, "nowhere", at("dang")));
	long fd = rsys(SYS_open, at("dang"), O_CREAT | O_WRONLY, 0644);
	res("O_CREAT through a dangling link", fd);
	rsys(SYS_close, fd);
	res("the target now exists", rsys(SYS_access, at("nowhere"), F_OK));
	res("O_CREAT|O_EXCL on a link", rsys(SYS_open, at("s"), O_CREAT | O_EXCL | O_WRONLY, 0644));
	res("mknod fifo", rsys(SYS_mknod, at("fifo"), S_IFIFO | 0644, 0));
	struct stat st;
	rsys(SYS_lstat, at("fifo"), &st);
	printf("fifo is a fifo: %s, mode %o\n", S_ISFIFO(st.st_mode) ? "yes" : "no", st.st_mode & 07777);
	res("mknod dir", rsys(SYS_mknod, at("x"), S_IFDIR | 0755, 0));
	res("mknod bad type", rsys(SYS_mknod, at("x"), 0170000, 0));
	res("chown to self", rsys(SYS_chown, at("f"), getuid(), getgid()));
	res("chown 1234:5678", rsys(SYS_chown, at("f"), 1234, 5678));
	rsys(SYS_stat, at("f"), &st);
	printf("owner now %d:%d\n", (int)st.st_uid, (int)st.st_gid);
	res("lchown link", rsys(SYS_lchown, at("s"), 4321, 8765));
	rsys(SYS_lstat, at("s"), &st);
	printf("link owner %d:%d\n", (int)st.st_uid, (int)st.st_gid);
	rsys(SYS_stat, at("s"), &st);
	printf("target owner still %d:%d\n", (int)st.st_uid, (int)st.st_gid);

	/* rename */
	res("rename f h", rsys(SYS_rename, at("f"), at("h")));
	content("h", at("h"));
	res("old name gone", rsys(SYS_access, at("f"), F_OK));
	put(at("i"), "file i");
	res("rename onto a file", rsys(SYS_rename, at("i"), at("h")));
	content("h replaced", at("h"));
	put(at("i"), "new i");
	res("RENAME_NOREPLACE onto existing", rsys(SYS_renameat2, AT_FDCWD, at("i"), AT_FDCWD, at("h"), RENAME_NOREPLACE));
	res("RENAME_EXCHANGE", rsys(SYS_renameat2, AT_FDCWD, at("i"), AT_FDCWD, at("h"), RENAME_EXCHANGE));
	content("h after exchange", at("h"));
	content("i after exchange", at("i"));
	res("EXCHANGE with missing", rsys(SYS_renameat2, AT_FDCWD, at("i"), AT_FDCWD, at("zz"), RENAME_EXCHANGE));
	res("NOREPLACE|EXCHANGE", rsys(SYS_renameat2, AT_FDCWD, at("i"), AT_FDCWD, at("h"), RENAME_NOREPLACE | RENAME_EXCHANGE));
	res("rename dir onto file", rsys(SYS_rename, at("d"), at("h")));
	res("rename file onto dir", rsys(SYS_rename, at("h"), at("d")));
	res("rename dir into itself", rsys(SYS_rename, at("d"), at("d/sub")));
	res("rename missing", rsys(SYS_rename, at("nope"), at("nope2")));
	res("rename file with slash", rsys(SYS_rename, at("h/"), at("h2")));
	res("mkdir empty", rsys(SYS_mkdir, at("empty"), 0700));
	res("rename dir onto non-empty dir", rsys(SYS_rename, at("empty"), at("d")));
	res("rename dir onto empty dir", rsys(SYS_rename, at("d"), at("empty")));
	content("moved inner", at("empty/inner"));
	resv("nlink after dir moves", nlink(dir));
	res("rename . ", rsys(SYS_rename, at("."), at("x")));
	res("rename to same", rsys(SYS_rename, at("h"), at("h")));
	list("listing after renames", dir);

	/* listings see changes after a rewind */
	fd = rsys(SYS_open, dir, O_RDONLY | O_DIRECTORY);
	static char buf[4096];
	long n1 = rsys(SYS_getdents64, fd, buf, sizeof buf);
	put(at("late"), "");
	rsys(SYS_lseek, fd, 0, SEEK_SET);
	long n2 = rsys(SYS_getdents64, fd, buf, sizeof buf);
	printf("rewound listing is longer: %s\n", n2 > n1 ? "yes" : "no");
	resv("getdents64 small buffer", rsys(SYS_getdents64, fd, buf, 8));
	rsys(SYS_close, fd);

	/* cleanup */
	const char *names[] = { "empty/inner", "h", "i", "s", "dang", "nowhere", "fifo", "late" };
	for (size_t k = 0; k < sizeof names / sizeof *names; k++)
		rsys(SYS_unlink, at(names[k]));
	res("rmdir empty", rsys(SYS_rmdir, at("empty")));
	res("rmdir e", rsys(SYS_rmdir, at("e")));
	res("rmdir top", rsys(SYS_rmdir, dir));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	rsys(SYS_umask, 022);
	char base[64];
	strcpy(base, "/tmp/vfs_dirs.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	tree(base);
	/* The same under the root: natively a real directory in /, in cocoon
	 * a directory of the overlay (and the host keeps nothing). */
	strcpy(base, "/vfs_dirs.XXXXXX");
	if (!mkdtemp(base)) {
		printf("mkdtemp in / failed\n");
		return 1;
	}
	tree(base);
	return expect_failures != 0;
}
