/* stat, lstat, fstat, newfstatat, statx, readlink(at), getdents64 on host
 * paths and on the runner's fixture directory. Printed: type, permission
 * bits, size (not for directories), nlink, owner; inode and device
 * numbers are only compared between calls. */
#include "util.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

/* statx, declared here because musl 1.2.3 lacks it. */
struct kstatx_ts { int64_t tv_sec; uint32_t tv_nsec; int32_t pad; };
struct kstatx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, pad1;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct kstatx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare[14];
};
#define K_STATX_BASIC_STATS 0x7ffU
#define K_AT_STATX_SYNC_TYPE 0x6000
#ifndef SYS_statx
#define SYS_statx 332
#endif

static const char *ftype(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	}
	return "?";
}

static void show(const char *how, const char *path, long r, struct stat *st)
{
	if (r < 0) {
		printf("%s %s: %s\n", how, path, rstr(r));
		return;
	}
	printf("%s %s: %s %04o nlink=%lu uid=%u gid=%u", how, path, ftype(st->st_mode),
	       st->st_mode & 07777, (unsigned long)st->st_nlink, st->st_uid, st->st_gid);
	if (!S_ISDIR(st->st_mode))
		printf(" size=%lld", (long long)st->st_size);
	printf("\n");
}

static int same(struct stat *a, struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_mode == b->st_mode &&
	       a->st_nlink == b->st_nlink && a->st_size == b->st_size &&
	       a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec;
}

static void stat_path(const char *path)
{
	struct stat s1, s2, s3, s4;
	long r = rsys(SYS_stat, path, &s1);
	show("stat", path, r, &s1);
	long r2 = rsys(SYS_lstat, path, &s2);
	if (r2 < 0 || !S_ISLNK(s2.st_mode)) {
		expect(r == r2 && (r < 0 || same(&s1, &s2)), "lstat agrees with stat");
	} else {
		show("lstat", path, r2, &s2);
	}
	long r3 = rsys(SYS_newfstatat, AT_FDCWD, path, &s3, AT_SYMLINK_NOFOLLOW);
	expect(r3 == r2 && (r3 < 0 || same(&s2, &s3)), "newfstatat NOFOLLOW agrees with lstat");
	if (r < 0)
		return;
	long fd = rsys(SYS_open, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		long r4 = rsys(SYS_fstat, fd, &s4);
		expect(r4 == 0 && same(&s1, &s4), "fstat agrees with stat");
		r4 = rsys(SYS_newfstatat, fd, "", &s4, AT_EMPTY_PATH);
		expect(r4 == 0 && same(&s1, &s4), "newfstatat AT_EMPTY_PATH agrees");
		struct kstatx sx;
		memset(&sx, 0xff, sizeof sx);
		long r5 = rsys(SYS_statx, fd, "", AT_EMPTY_PATH, K_STATX_BASIC_STATS, &sx);
		res("statx AT_EMPTY_PATH", r5);
		if (r5 == 0) {
			expect((sx.stx_mask & K_STATX_BASIC_STATS) == K_STATX_BASIC_STATS,
			       "statx returned the basic stats");
			expect(sx.stx_mode == s1.st_mode && sx.stx_size == (uint64_t)s1.st_size &&
			       sx.stx_nlink == s1.st_nlink && sx.stx_ino == s1.st_ino &&
			       sx.stx_uid == s1.st_uid && sx.stx_gid == s1.st_gid &&
			       (int64_t)sx.stx_mtime.tv_sec == (int64_t)s1.st_mtim.tv_sec &&
			       sx.stx_blocks == (uint64_t)s1.st_blocks,
			       "statx agrees with stat");
		}
		rsys(SYS_close, fd);
	} else {
		res("open", fd);
	}
	struct kstatx sx;
	long r6 = rsys(SYS_statx, AT_FDCWD, path, 0, K_STATX_BASIC_STATS, &sx);
	expect(r6 == 0 && sx.stx_mode == s1.st_mode, "statx by path agrees");
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct ent { char *name; int type; };
static int cmpent(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

static const char *dtype(int t)
{
	switch (t) {
	case DT_REG: return "reg";
	case DT_DIR: return "dir";
	case DT_LNK: return "lnk";
	case DT_CHR: return "chr";
	case DT_BLK: return "blk";
	case DT_FIFO: return "fifo";
	case DT_SOCK: return "sock";
	case DT_UNKNOWN: return "unknown";
	}
	return "?";
}

/* List a directory with getdents64 and a buffer of bufsz bytes. */
static int list(const char *path, size_t bufsz, struct ent *out, int max, long *err)
{
	static char buf[65536];
	int n = 0;
	*err = 0;
	long fd = rsys(SYS_open, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*err = fd;
		return 0;
	}
	for (;;) {
		long r = rsys(SYS_getdents64, fd, buf, bufsz);
		if (r < 0) {
			*err = r;
			break;
		}
		if (r == 0)
			break;
		for (long off = 0; off < r;) {
			struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + off);
			if (n < max) {
				out[n].name = strdup(d->name);
				out[n].type = d->type;
			}
			n++;
			off += d->reclen;
		}
	}
	rsys(SYS_close, fd);
	return n;
}

static void listing(const char *path, int print)
{
	enum { MAX = 20000 };
	static struct ent e[MAX], e2[MAX];
	long err;
	int n = list(path, 65536, e, MAX, &err);
	printf("getdents64 %s: %d entries%s%s\n", path, n, err ? ", error " : "", err ? rstr(err) : "");
	if (n > MAX)
		n = MAX;
	qsort(e, n, sizeof e[0], cmpent);
	uint64_t h = FNV_INIT;
	for (int i = 0; i < n; i++) {
		if (print)
			printf("  %-8s %s\n", dtype(e[i].type), e[i].name);
		h = fnv1a(h, e[i].name, strlen(e[i].name) + 1);
		h = fnv1a(h, &e[i].type, 1);
	}
	if (!print)
		printf("  names+types fnv %016llx\n", (unsigned long long)h);
	int has_dot = 0, has_dotdot = 0;
	for (int i = 0; i < n; i++) {
		has_dot |= !strcmp(e[i].name, ".");
		has_dotdot |= !strcmp(e[i].name, "..");
	}
	expect(has_dot && has_dotdot, "'.' and '..' listed");
	/* Again with a small buffer: same entries. */
	int n2 = list(path, 300, e2, MAX, &err);
	if (n2 > MAX)
		n2 = MAX;
	qsort(e2, n2, sizeof e2[0], cmpent);
	int eq = n2 == n && !err;
	for (int i = 0; eq && i < n; i++)
		eq = !strcmp(e[i].name, e2[i].name) && e[i].type == e2[i].type;
	expect(eq, "same listing with a 300-byte buffer");
	for (int i = 0; i < n; i++)
		free(e[i].name);
	for (int i = 0; i < n2; i++)
		free(e2[i].name);
}

static void getdents_errors(void)
{
	char buf[4096];
	long fd = rsys(SYS_open, "/etc", O_RDONLY | O_DIRECTORY);
	res("getdents64 1-byte buffer", rsys(SYS_getdents64, fd, buf, 1));
	res("getdents64 bad buffer", rsys(SYS_getdents64, fd, 16, sizeof buf));
	long r = rsys(SYS_getdents64, fd, buf, sizeof buf);
	expect(r > 0, "getdents64 reads entries");
	long all = 0;
	while ((r = rsys(SYS_getdents64, fd, buf, sizeof buf)) > 0)
		all += r;
	resv("getdents64 at end", r);
	resv("lseek dir to 0", rsys(SYS_lseek, fd, 0, SEEK_SET));
	r = rsys(SYS_getdents64, fd, buf, sizeof buf);
	expect(r > 0, "rewound directory lists again");
	rsys(SYS_close, fd);
	fd = rsys(SYS_open, "/etc/passwd", O_RDONLY);
	res("getdents64 on a file", rsys(SYS_getdents64, fd, buf, sizeof buf));
	rsys(SYS_close, fd);
	res("getdents64 bad fd", rsys(SYS_getdents64, 12345, buf, sizeof buf));
	res("open file with O_DIRECTORY", rsys(SYS_open, "/etc/passwd", O_RDONLY | O_DIRECTORY));
}

static void links(void)
{
	char buf[256];
	long r;
#define RL(label, path, size) do { \
	memset(buf, 0, sizeof buf); \
	r = rsys(SYS_readlink, path, buf, size); \
	if (r >= 0) printf("%s: %ld [%.*s]\n", label, r, (int)r, buf); \
	else res(label, r); } while (0)
	RL("readlink /bin", "/bin", sizeof buf);
	RL("readlink /bin bufsiz 3", "/bin", 3);
	RL("readlink /bin bufsiz 0", "/bin", 0);
	RL("readlink /bin bufsiz -1", "/bin", -1);
	RL("readlink /etc/passwd", "/etc/passwd", sizeof buf);
	RL("readlink /nonexistent", "/nonexistent", sizeof buf);
	RL("readlink /bin/", "/bin/", sizeof buf);
	RL("readlink empty path", "", sizeof buf);
	long dfd = rsys(SYS_open, "/", O_RDONLY | O_DIRECTORY);
	memset(buf, 0, sizeof buf);
	r = rsys(SYS_readlinkat, dfd, "bin", buf, sizeof buf);
	printf("readlinkat / bin: %s [%s]\n", rstr(r), r > 0 ? buf : "");
	rsys(SYS_close, dfd);
	const char *fx = fixture_dir();
	if (fx) {
		char p[4096];
		const char *names[] = { "abs", "dangling", "loop", "s0", "updir", "dir" };
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			snprintf(p, sizeof p, "%s/%s", fx, names[i]);
			char lbl[64];
			snprintf(lbl, sizeof lbl, "readlink fixture/%s", names[i]);
			RL(lbl, p, sizeof buf);
		}
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *paths[] = { "/", "/etc", "/etc/passwd", "/bin", "/bin/", "/bin/busybox",
		"/usr/bin", "/etc/passwd/", "/etc/passwd/.", "/nonexistent", "", "/etc/../etc",
		"//etc///passwd" };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		stat_path(paths[i]);
	const char *fx = fixture_dir();
	if (fx) {
		const char *names[] = { "empty", "small", "big", "dir", "dir/sub", "dir/f1",
			"abs", "dangling", "loop", "s0", "s1", "updir", "noperm", "exec" };
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			char p[4096], lbl[64];
			snprintf(p, sizeof p, "%s/%s", fx, names[i]);
			snprintf(lbl, sizeof lbl, "fixture/%s", names[i]);
			struct stat st;
			show("stat", lbl, rsys(SYS_stat, p, &st), &st);
			show("lstat", lbl, rsys(SYS_lstat, p, &st), &st);
		}
	}
	/* errors */
	struct stat st;
	res("fstat bad fd", rsys(SYS_fstat, 12345, &st));
	res("newfstatat bad flags", rsys(SYS_newfstatat, AT_FDCWD, "/etc", &st, 0x12345678));
	res("newfstatat relative with bad dirfd", rsys(SYS_newfstatat, 12345, "etc", &st, 0));
	res("newfstatat absolute with bad dirfd", rsys(SYS_newfstatat, 12345, "/etc", &st, 0));
	struct kstatx sx;
	res("statx bad flags", rsys(SYS_statx, AT_FDCWD, "/etc", 0x12345678, K_STATX_BASIC_STATS, &sx));
	res("statx reserved mask bit", rsys(SYS_statx, AT_FDCWD, "/etc", 0, 0x80000000U, &sx));
	res("statx sync flags both", rsys(SYS_statx, AT_FDCWD, "/etc", K_AT_STATX_SYNC_TYPE, K_STATX_BASIC_STATS, &sx));

	links();
	listing("/etc", 1);
	listing("/usr/bin", 0);
	listing("/", 0);
	if (fx) {
		char p[4096];
		snprintf(p, sizeof p, "%s/dir", fx);
		listing(p, 1);
		snprintf(p, sizeof p, "%s/many", fx);
		listing(p, 0);
	}
	getdents_errors();
	return expect_failures ? 1 : 0;
}
