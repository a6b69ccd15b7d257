/* /proc/self/fd and fdinfo: the link texts of every kind of file (paths,
 * deleted files, pipes, eventfd, epoll, pidfd, memfd, directories), the
 * link modes, fdinfo's lines, stat through a link, and reopening through
 * a link (a pipe's other end, a directory, an eventfd: ENXIO). */
#include "util.h"
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <dirent.h>

static char dir[256];

static const char *link_of(long fd)
{
	static char t[4096];
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
	long n = rsys(SYS_readlink, p, t, sizeof t - 1);
	if (n < 0)
		return rstr(n);
	t[n] = 0;
	return t;
}

/* The link text with the test directory replaced by DIR. */
static void show_link(const char *what, long fd)
{
	const char *t = link_of(fd);
	size_t n = strlen(dir);
	if (!strncmp(t, dir, n))
		printf("%s: DIR%s\n", what, t + n);
	else
		printf("%s: %s\n", what, t);
}

static char info[4096];

static const char *fdinfo(long fd)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fdinfo/%ld", fd);
	long f = rsys(SYS_open, p, O_RDONLY);
	if (f < 0)
		return rstr(f);
	long n = rsys(SYS_read, f, info, sizeof info - 1);
	info[n > 0 ? n : 0] = 0;
	rsys(SYS_close, f);
	return info;
}

/* fdinfo's line "key:\t..." or "-". */
static void show_info_line(const char *what, long fd, const char *key)
{
	const char *t = fdinfo(fd);
	size_t k = strlen(key);
	for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == ':') {
			printf("%s %.*s\n", what, (int)strcspn(l, "\n"), l);
			return;
		}
	printf("%s %s: -\n", what, key);
}

static void show_mode(const char *what, long fd)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
	if (lstat(p, &st))
		printf("%s: lstat %s\n", what, errname(errno));
	else
		printf("%s: %s %o size %lld\n", what, S_ISLNK(st.st_mode) ? "link" : "?",
		       (unsigned)(st.st_mode & 07777), (long long)st.st_size);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(dir, sizeof dir, "/tmp/procfs_fd.%d", getpid());
	mkdir(dir, 0755);
	char path[512];
	snprintf(path, sizeof path, "%s/file", dir);
	long f = rsys(SYS_open, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	rsys(SYS_write, f, "hello world\n", 12);
	rsys(SYS_lseek, f, 5, SEEK_SET);
	show_link("file", f);
	show_mode("file mode", f);
	show_info_line("file", f, "pos");
	show_info_line("file", f, "flags");
	const char *t = fdinfo(f);
	expect(!strncmp(t, "pos:\t", 5) && strstr(t, "\nflags:\t0") && strstr(t, "\nmnt_id:\t") &&
	       strstr(t, "\nino:\t"), "fdinfo: pos, flags, mnt_id, ino in order");
	struct stat st, sl;
	fstat(f, &st);
	char want[64];
	snprintf(want, sizeof want, "\nino:\t%lu\n", (unsigned long)st.st_ino);
	expect(strstr(t, want) != NULL, "fdinfo: ino is fstat's");
	snprintf(path, sizeof path, "/proc/self/fd/%ld", f);
	expect(stat(path, &sl) == 0 && sl.st_ino == st.st_ino && sl.st_dev == st.st_dev,
	       "stat through the link: the file");
	long again = rsys(SYS_open, path, O_RDONLY);
	char b[32] = { 0 };
	rsys(SYS_read, again, b, 5);
	printf("reopened reads from 0: [%s]\n", b);
	show_info_line("reopened", again, "pos");
	rsys(SYS_close, again);

	long ro = rsys(SYS_open, path, O_RDONLY | O_CLOEXEC);
	show_mode("read-only mode", ro);
	show_info_line("cloexec", ro, "flags");
	long wo = rsys(SYS_open, path, O_WRONLY | O_APPEND);
	show_mode("write-only mode", wo);
	show_info_line("append", wo, "flags");
	long op = rsys(SYS_open, path, O_PATH);
	show_mode("O_PATH mode", op);
	show_link("O_PATH", op);
	rsys(SYS_close, ro);
	rsys(SYS_close, wo);
	rsys(SYS_close, op);

	/* deleted */
	snprintf(path, sizeof path, "%s/file", dir);
	unlink(path);
	show_link("deleted", f);
	snprintf(path, sizeof path, "/proc/self/fd/%ld", f);
	again = rsys(SYS_open, path, O_RDONLY);
	memset(b, 0, sizeof b);
	rsys(SYS_read, again, b, 11);
	printf("deleted file reopened: [%s]\n", b);
	rsys(SYS_close, again);
	rsys(SYS_close, f);
	show_link("closed", f);
	res("closed: fdinfo", rsys(SYS_open, "/proc/self/fdinfo/99999", O_RDONLY));

	/* directories */
	long d = rsys(SYS_open, dir, O_RDONLY | O_DIRECTORY);
	show_link("dir", d);
	snprintf(path, sizeof path, "/proc/self/fd/%ld/..", d);
	long up = rsys(SYS_open, path, O_RDONLY | O_DIRECTORY);
	show_link("dir/..", up);
	rsys(SYS_close, up);
	snprintf(path, sizeof path, "/proc/self/fd/%ld/newfile", d);
	long nf = rsys(SYS_open, path, O_WRONLY | O_CREAT, 0600);
	show_link("created through the dir link", nf);
	rsys(SYS_close, nf);
	snprintf(path, sizeof path, "%s/newfile", dir);
	unlink(path);
	long dev = rsys(SYS_open, "/dev/null", O_WRONLY);
	show_link("/dev/null", dev);
	rsys(SYS_close, dev);

	/* pipes */
	int p[2];
	pipe(p);
	fstat(p[0], &st);
	snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)st.st_ino);
	expect(!strcmp(link_of(p[0]), want) && !strcmp(link_of(p[1]), want), "pipe ends: pipe:[ino]");
	show_mode("pipe read end", p[0]);
	show_mode("pipe write end", p[1]);
	show_info_line("pipe read end", p[0], "flags");
	show_info_line("pipe write end", p[1], "flags");
	show_info_line("pipe read end", p[0], "pos");
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
	expect(stat(path, &sl) == 0 && S_ISFIFO(sl.st_mode) && sl.st_ino == st.st_ino,
	       "stat through a pipe link: the pipe");
	/* the write end's link opened for reading: the same pipe */
	long r = rsys(SYS_open, path, O_RDONLY | O_NONBLOCK);
	res("open the write end's link for reading", r);
	rsys(SYS_write, p[1], "via", 3);
	memset(b, 0, sizeof b);
	resv("read it", rsys(SYS_read, r, b, sizeof b));
	printf("got [%s]\n", b);
	rsys(SYS_close, r);
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
	long w = rsys(SYS_open, path, O_WRONLY);
	res("open the read end's link for writing", w);
	resv("write through it", rsys(SYS_write, w, "xy", 2));
	memset(b, 0, sizeof b);
	rsys(SYS_read, p[0], b, sizeof b);
	printf("read end got [%s]\n", b);
	rsys(SYS_close, w);
	rsys(SYS_close, p[0]);
	rsys(SYS_close, p[1]);

	/* anonymous inodes */
	long e = eventfd(5, EFD_NONBLOCK);
	show_link("eventfd", e);
	show_info_line("eventfd", e, "eventfd-count");
	show_info_line("eventfd", e, "flags");
	show_info_line("eventfd", e, "eventfd-semaphore");
	snprintf(path, sizeof path, "/proc/self/fd/%ld", e);
	res("open an eventfd's link", rsys(SYS_open, path, O_RDWR));
	expect(stat(path, &sl) == 0 && (sl.st_mode & S_IFMT) == 0, "stat through an eventfd's link: no type");
	long ep = epoll_create1(EPOLL_CLOEXEC);
	show_link("epoll", ep);
	show_info_line("epoll", ep, "flags");
	long pfd = rsys(SYS_pidfd_open, getpid(), 0);
	if (pfd >= 0)
		show_link("pidfd", pfd);
	else
		printf("pidfd: %s\n", rstr(pfd));
	long m = rsys(SYS_memfd_create, "procfs-test", 0);
	show_link("memfd", m);
	show_mode("memfd mode", m);
	rsys(SYS_close, e);
	rsys(SYS_close, ep);
	rsys(SYS_close, pfd);
	rsys(SYS_close, m);

	/* the directory's listing shows exactly the open fds */
	long a = rsys(SYS_open, "/dev/null", O_RDONLY);
	long bfd = rsys(SYS_dup2, a, 40);
	int n40 = 0, na = 0, n41 = 0;
	DIR *dd = opendir("/proc/self/fd");
	struct dirent *de;
	char sa[16];
	snprintf(sa, sizeof sa, "%ld", a);
	while (dd && (de = readdir(dd))) {
		n40 += !strcmp(de->d_name, "40") && de->d_type == DT_LNK;
		n41 += !strcmp(de->d_name, "41");
		na += !strcmp(de->d_name, sa);
	}
	if (dd)
		closedir(dd);
	expect(bfd == 40 && n40 == 1 && na == 1 && n41 == 0, "fd/ lists 40 and the dup'd fd, not 41");
	res("fd/41", rsys(SYS_readlink, "/proc/self/fd/41", info, 10));
	res("fd/040", rsys(SYS_readlink, "/proc/self/fd/040", info, 10));
	res("fd/x", rsys(SYS_readlink, "/proc/self/fd/x", info, 10));
	rmdir(dir);
	return expect_failures ? 1 : 0;
}
