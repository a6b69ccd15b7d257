/* inotify: the errors of its calls; events for a directory and a file in
 * it (create, open, modify merged, close-write/nowrite, access, attrib,
 * truncate, rename with one cookie, move-self, mkdir/rmdir, link/unlink
 * and delete-self, ignored), IN_ONESHOT, IN_MASK_ADD/IN_MASK_CREATE,
 * IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK; reads (whole records, names
 * padded to 16, EINVAL for a small buffer, EAGAIN), FIONREAD and poll. */
#include "util.h"
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static char dir[64];
static int ifd;
static uint32_t last_cookie;

static const struct { uint32_t bit; const char *name; } bits[] = {
	{ IN_ACCESS, "ACCESS" }, { IN_MODIFY, "MODIFY" }, { IN_ATTRIB, "ATTRIB" },
	{ IN_CLOSE_WRITE, "CLOSE_WRITE" }, { IN_CLOSE_NOWRITE, "CLOSE_NOWRITE" }, { IN_OPEN, "OPEN" },
	{ IN_MOVED_FROM, "MOVED_FROM" }, { IN_MOVED_TO, "MOVED_TO" }, { IN_CREATE, "CREATE" },
	{ IN_DELETE, "DELETE" }, { IN_DELETE_SELF, "DELETE_SELF" }, { IN_MOVE_SELF, "MOVE_SELF" },
	{ IN_UNMOUNT, "UNMOUNT" }, { IN_Q_OVERFLOW, "Q_OVERFLOW" }, { IN_IGNORED, "IGNORED" },
	{ IN_ISDIR, "ISDIR" },
};

static void print_mask(uint32_t m)
{
	bool first = true;
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (m & bits[i].bit) {
			printf("%s%s", first ? "" : "|", bits[i].name);
			first = false;
			m &= ~bits[i].bit;
		}
	if (m)
		printf("%s%#x", first ? "" : "|", m);
}

/* Read and print every queued event. */
static void drain(const char *what)
{
	char buf[4096] __attribute__((aligned(8)));
	printf("-- %s\n", what);
	for (;;) {
		long n = rsys(SYS_read, ifd, buf, sizeof buf);
		if (n < 0) {
			if (n != -EAGAIN)
				printf("read: %s\n", errname((int)-n));
			return;
		}
		for (long off = 0; off < n;) {
			struct inotify_event *e = (struct inotify_event *)(buf + off);
			printf("wd %d ", e->wd);
			print_mask(e->mask);
			if (e->cookie) {
				printf(" cookie %s", e->cookie == last_cookie ? "same" : "new");
				last_cookie = e->cookie;
			}
			if (e->len) {
				bool padded = e->len % 16 == 0 && strlen(e->name) < e->len;
				for (uint32_t k = strlen(e->name); k < e->len; k++)
					padded = padded && !e->name[k];
				printf(" name %s (len %u, padded: %s)", e->name, e->len, padded ? "yes" : "no");
			}
			printf("\n");
			off += sizeof(*e) + e->len;
		}
	}
}

static char *at(const char *name)
{
	static char p[4][128];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static void errors(void)
{
	res("inotify_init1 bad flags", rsys(SYS_inotify_init1, 1));
	res("add_watch bad fd", rsys(SYS_inotify_add_watch, 999, dir, IN_ALL_EVENTS));
	res("add_watch not inotify", rsys(SYS_inotify_add_watch, 1, dir, IN_ALL_EVENTS));
	res("add_watch mask 0", rsys(SYS_inotify_add_watch, ifd, dir, 0));
	res("add_watch only unknown bits", rsys(SYS_inotify_add_watch, ifd, dir, 0x00800000));
	res("add_watch ADD|CREATE", rsys(SYS_inotify_add_watch, ifd, dir, IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
	res("add_watch missing", rsys(SYS_inotify_add_watch, ifd, at("missing"), IN_ALL_EVENTS));
	res("add_watch bad path", rsys(SYS_inotify_add_watch, ifd, 8, IN_ALL_EVENTS));
	res("rm_watch unknown wd", rsys(SYS_inotify_rm_watch, ifd, 12345));
	res("rm_watch bad fd", rsys(SYS_inotify_rm_watch, 999, 1));
	res("rm_watch not inotify", rsys(SYS_inotify_rm_watch, 1, 1));
}

int main(void)
{
	strcpy(dir, "/tmp/inotify_basic.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("mkdtemp failed\n");
		return 1;
	}
	ifd = (int)rsys(SYS_inotify_init1, IN_NONBLOCK | IN_CLOEXEC);
	printf("inotify_init1: %s\n", ifd >= 0 ? "ok" : errname(-ifd));
	errors();

	resv("watch dir", rsys(SYS_inotify_add_watch, ifd, dir, IN_ALL_EVENTS));
	int fd = open(at("a"), O_CREAT | O_WRONLY, 0644);
	write(fd, "hello\n", 6);
	write(fd, "again\n", 6);
	int n = -1;
	ioctl(ifd, FIONREAD, &n);
	printf("FIONREAD %d\n", n);
	struct pollfd p = { ifd, POLLIN, 0 };
	int ready = poll(&p, 1, 0);
	printf("poll: %d revents %#x\n", ready, p.revents);
	close(fd);
	drain("create, write twice, close");
	printf("poll empty: %d\n", poll(&p, 1, 0));

	resv("watch file a", rsys(SYS_inotify_add_watch, ifd, at("a"), IN_ALL_EVENTS));
	resv("watch file a again (same wd)", rsys(SYS_inotify_add_watch, ifd, at("a"), IN_ALL_EVENTS));
	chmod(at("a"), 0600);
	drain("chmod");
	char buf[16];
	fd = open(at("a"), O_RDONLY);
	read(fd, buf, sizeof buf);
	close(fd);
	drain("open, read, close");
	truncate(at("a"), 3);
	drain("truncate");
	fd = open(at("a"), O_WRONLY | O_TRUNC);
	close(fd);
	drain("open O_TRUNC");
	struct timespec ts[2] = { { 1, 0 }, { 2, 0 } };
	utimensat(AT_FDCWD, at("a"), ts, 0);
	drain("utimensat");
	rename(at("a"), at("b"));
	drain("rename a b");
	mkdir(at("sub"), 0755);
	rmdir(at("sub"));
	drain("mkdir, rmdir");
	link(at("b"), at("c"));
	drain("link b c");
	unlink(at("c"));
	drain("unlink c");
	unlink(at("b"));
	drain("unlink b (the watched file)");

	/* IN_ONESHOT, IN_MASK_ADD, IN_MASK_CREATE. */
	close(open(at("x"), O_CREAT | O_WRONLY, 0644));
	drain("create x");
	int wd = (int)rsys(SYS_inotify_add_watch, ifd, at("x"), IN_MODIFY | IN_ONESHOT);
	printf("oneshot wd: %d\n", wd);
	fd = open(at("x"), O_WRONLY);
	write(fd, "1", 1);
	write(fd, "2", 1);
	lseek(fd, 0, SEEK_SET);
	drain("oneshot: two writes");
	wd = (int)rsys(SYS_inotify_add_watch, ifd, at("x"), IN_MODIFY);
	resv("MASK_ADD ATTRIB (same wd)", rsys(SYS_inotify_add_watch, ifd, at("x"), IN_ATTRIB | IN_MASK_ADD) - wd);
	res("MASK_CREATE on a watched file", rsys(SYS_inotify_add_watch, ifd, at("x"), IN_ATTRIB | IN_MASK_CREATE));
	write(fd, "3", 1);
	fchmod(fd, 0644);
	close(fd);
	drain("modify and attrib (the dir's watch too)");
	resv("rm_watch", rsys(SYS_inotify_rm_watch, ifd, wd));
	res("rm_watch again", rsys(SYS_inotify_rm_watch, ifd, wd));
	drain("after rm_watch");

	res("ONLYDIR on a file", rsys(SYS_inotify_add_watch, ifd, at("x"), IN_ALL_EVENTS | IN_ONLYDIR));
	symlink("x", at("lnk"));
	drain("symlink");
	wd = (int)rsys(SYS_inotify_add_watch, ifd, at("lnk"), IN_ATTRIB | IN_DONT_FOLLOW);
	chmod(at("x"), 0600); /* the target: not the link's watch */
	drain("chmod the link's target");
	rsys(SYS_inotify_rm_watch, ifd, wd);
	drain("rm_watch the link's watch");

	/* A small buffer, then an exact one. */
	close(open(at("longer-name-of-a-file"), O_CREAT | O_WRONLY, 0644));
	ioctl(ifd, FIONREAD, &n);
	printf("FIONREAD %d\n", n);
	res("read 16 bytes", rsys(SYS_read, ifd, buf, 16));
	char big[256];
	resv("read exactly one event", rsys(SYS_read, ifd, big, 16 + 32));
	drain("the rest");
	res("read empty (nonblocking)", rsys(SYS_read, ifd, big, sizeof big));

	/* Cleanup; the directory's own deletion ends with IGNORED. */
	unlink(at("x"));
	unlink(at("lnk"));
	unlink(at("longer-name-of-a-file"));
	drain("unlink x, lnk, longer-name");
	rmdir(dir);
	drain("rmdir the watched directory");
	close(ifd);
	return 0;
}
