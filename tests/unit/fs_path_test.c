/* The confined path walk: a temporary tree whose symlinks point outside
 * the sandbox root (absolute and ../../..), loops, long names. Every
 * lookup must stay inside the root and give Linux's errno. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "fs/fs.h"
#include "fs/walk.h"
#include "fs_standins.h"

static char top[PATH_MAX / 2], rootdir[PATH_MAX];
static struct walk_base base;

static void mkfile(const char *rel, const char *content)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", top, rel);
	FILE *f = fopen(p, "w");
	fputs(content, f);
	fclose(f);
}
static void mkd(const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", top, rel);
	mkdir(p, 0755);
}
static void lnk(const char *target, const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (symlink(target, p))
		perror(p);
}

/* Walk and report: the errno, or 0 and the first bytes of the file. */
static int look(const char *path, int flags, char *content, char *canon)
{
	struct walk_result r;
	int err = walk(&base, path, flags, &r);
	if (err)
		return err;
	if (content) {
		int fd = S_ISREG(r.st.st_mode) ? openat(r.dirfd, r.last, O_RDONLY | O_NOFOLLOW) : -1;
		ssize_t n = fd >= 0 ? read(fd, content, 63) : 0;
		content[n > 0 ? n : 0] = '\0';
		if (fd >= 0)
			close(fd);
	}
	if (canon)
		strcpy(canon, r.path);
	walk_done(&r);
	return 0;
}

static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static int look_err(const char *path, int flags)
{
	return look(path, flags, NULL, NULL);
}

int main(void)
{
	char buf[64], canon[PATH_MAX];
	char *t = getenv("TMPDIR");
	snprintf(top, sizeof(top), "%s/fs_path_test.XXXXXX", t ? t : "/tmp");
	if (!mkdtemp(top))
		return perror("mkdtemp"), 1;
	snprintf(rootdir, sizeof(rootdir), "%s/root", top);

	/* top/secret is outside the root; root/secret is its inside twin. */
	mkfile("secret", "outside");
	mkd("root");
	mkfile("root/secret", "inside");
	mkd("root/a");
	mkd("root/a/b");
	mkfile("root/a/b/c", "abc");
	lnk("/secret", "root/abs");
	lnk("../../../../../../../../secret", "root/up");
	lnk("../../secret", "root/a/up2");
	lnk(top, "root/hostabs"); /* the host path of top: means root/<top> */
	lnk("a", "root/dirlink");
	lnk("a/b/c", "root/filelink");
	lnk("nowhere", "root/dangling");
	lnk("loop2", "root/loop1");
	lnk("loop1", "root/loop2");
	lnk("/b", "root/a/absb");
	/* chain0 -> chain1 -> ... -> chain40 -> secret: 41 links */
	for (int i = 0; i <= 40; i++) {
		char tgt[32], name[32];
		snprintf(name, sizeof(name), "root/chain%d", i);
		if (i == 40)
			snprintf(tgt, sizeof(tgt), "secret");
		else
			snprintf(tgt, sizeof(tgt), "chain%d", i + 1);
		lnk(tgt, name);
	}

	int rootfd = open(rootdir, O_PATH | O_DIRECTORY);
	int afd = openat(rootfd, "a", O_PATH | O_DIRECTORY);
	base = (struct walk_base){ rootfd, "/", rootfd, "/" };
	int fds_before = count_fds();

	CHECK_EQ(look("/secret", WALK_FOLLOW, buf, canon), 0, "absolute path");
	CHECK(!strcmp(buf, "inside") && !strcmp(canon, "/secret"), "/secret is the root's");
	CHECK_EQ(look("abs", WALK_FOLLOW, buf, NULL), 0, "absolute symlink");
	CHECK(!strcmp(buf, "inside"), "absolute symlink restarts at the sandbox root");
	CHECK_EQ(look("up", WALK_FOLLOW, buf, canon), 0, "../../.. symlink");
	CHECK(!strcmp(buf, "inside") && !strcmp(canon, "/secret"), ".. stops at the root: %s", canon);
	CHECK_EQ(look("a/up2", WALK_FOLLOW, buf, NULL), 0, "nested ../.. symlink");
	CHECK(!strcmp(buf, "inside"), "nested .. stays inside");
	CHECK_EQ(look("/../../../secret", 0, buf, NULL), 0, "/../../..");
	CHECK(!strcmp(buf, "inside"), "/.. is /");
	CHECK_EQ(look("a/../../../a/b/../b/c", 0, buf, canon), 0, "dots in the middle");
	CHECK(!strcmp(buf, "abc") && !strcmp(canon, "/a/b/c"), "canonical path %s", canon);
	CHECK_EQ(look_err("hostabs/secret", WALK_FOLLOW), -ENOENT, "host path in a link means nothing");
	CHECK_EQ(look("dirlink/b/c", 0, buf, canon), 0, "symlink to a directory");
	CHECK(!strcmp(canon, "/a/b/c"), "canonical path through a link: %s", canon);
	CHECK_EQ(look("..", 0, NULL, canon), 0, "..");
	CHECK(!strcmp(canon, "/"), ".. of / is /");

	/* Last component and trailing slashes. */
	struct walk_result r;
	CHECK_EQ(walk(&base, "filelink", 0, &r), 0, "lstat-like walk");
	CHECK(S_ISLNK(r.st.st_mode) && !strcmp(r.last, "filelink"), "the link itself");
	walk_done(&r);
	CHECK_EQ(walk(&base, "filelink", WALK_FOLLOW, &r), 0, "stat-like walk");
	CHECK(S_ISREG(r.st.st_mode) && !strcmp(r.last, "c"), "its target");
	walk_done(&r);
	CHECK_EQ(look_err("filelink/", 0), -ENOTDIR, "link to a file with a slash");
	CHECK_EQ(look_err("a/b/c/", 0), -ENOTDIR, "file with a trailing slash");
	CHECK_EQ(look_err("a/b/c/.", 0), -ENOTDIR, "file/.");
	CHECK_EQ(look_err("a/b/c/x", 0), -ENOTDIR, "file in the middle");
	CHECK_EQ(look_err("a/b/c", WALK_DIRECTORY), -ENOTDIR, "O_DIRECTORY on a file");
	CHECK_EQ(look_err("dirlink/", 0), 0, "link to a directory with a slash");
	CHECK_EQ(look_err("a/b//", WALK_DIRECTORY), 0, "directory with slashes");
	CHECK_EQ(look_err("missing", 0), -ENOENT, "missing");
	CHECK_EQ(look_err("missing/x", WALK_CREATE), -ENOENT, "missing in the middle");
	CHECK_EQ(look_err("", 0), -ENOENT, "empty path");
	CHECK_EQ(look_err("dangling", WALK_FOLLOW), -ENOENT, "dangling link");
	CHECK_EQ(walk(&base, "dangling", WALK_FOLLOW | WALK_CREATE, &r), 0, "creating through a dangling link");
	CHECK(r.fd < 0 && r.dirfd >= 0 && !strcmp(r.last, "nowhere") && !strcmp(r.path, "/nowhere"),
	      "names the target: %s", r.path);
	walk_done(&r);

	/* Loops and limits. */
	CHECK_EQ(look_err("loop1", WALK_FOLLOW), -ELOOP, "symlink loop");
	CHECK_EQ(look_err("loop1/x", 0), -ELOOP, "loop in the middle");
	CHECK_EQ(look_err("loop1", 0), 0, "a loop not followed is just a link");
	CHECK_EQ(look_err("chain1", WALK_FOLLOW), 0, "40 links are followed");
	CHECK_EQ(look_err("chain0", WALK_FOLLOW), -ELOOP, "the 41st is ELOOP");
	char name[300];
	memset(name, 'x', 256);
	name[256] = '\0';
	CHECK_EQ(look_err(name, 0), -ENAMETOOLONG, "component of 256 bytes");
	name[255] = '\0';
	CHECK_EQ(look_err(name, 0), -ENOENT, "component of 255 bytes is fine");
	char *longp = malloc(PATH_MAX + 1);
	for (int i = 0; i < PATH_MAX; i += 2)
		memcpy(longp + i, "./", 2);
	longp[PATH_MAX] = '\0';
	CHECK_EQ(look_err(longp, 0), -ENAMETOOLONG, "path of PATH_MAX bytes");
	longp[PATH_MAX - 1] = '\0';
	CHECK_EQ(look_err(longp, 0), 0, "path of PATH_MAX-1 bytes");
	free(longp);

	/* RESOLVE_* scoping, from root/a. */
	base = (struct walk_base){ rootfd, "/", afd, "/a" };
	CHECK_EQ(look("b/c", 0, buf, canon), 0, "relative to a directory");
	CHECK(!strcmp(canon, "/a/b/c"), "canonical %s", canon);
	CHECK_EQ(look_err("../secret", WALK_BENEATH), -EXDEV, "BENEATH: .. out");
	CHECK_EQ(look_err("/secret", WALK_BENEATH), -EXDEV, "BENEATH: absolute");
	CHECK_EQ(look_err("b/../b/c", WALK_BENEATH), 0, "BENEATH: .. within");
	CHECK_EQ(look_err("up2", WALK_BENEATH | WALK_FOLLOW), -EXDEV, "BENEATH: link out");
	CHECK_EQ(look("../../b/c", WALK_IN_ROOT, NULL, canon), 0, "IN_ROOT: .. clamps");
	CHECK(!strcmp(canon, "/a/b/c"), "IN_ROOT canonical %s", canon);
	CHECK_EQ(look("absb/c", WALK_IN_ROOT, buf, NULL), 0, "IN_ROOT: absolute link");
	CHECK(!strcmp(buf, "abc"), "IN_ROOT: / is the start");
	CHECK_EQ(look_err("/b/c", WALK_IN_ROOT), 0, "IN_ROOT: absolute path");
	base = (struct walk_base){ rootfd, "/", rootfd, "/" };
	CHECK_EQ(look_err("dirlink/b", WALK_NO_SYMLINKS), -ELOOP, "NO_SYMLINKS");
	CHECK_EQ(look_err("a/b", WALK_NO_XDEV), 0, "NO_XDEV on one device");

	/* WALK_PARENT: where a name would be created or removed. */
	CHECK_EQ(walk(&base, "a/b/c/", WALK_PARENT, &r), 0, "parent walk");
	CHECK(r.fd < 0 && r.dirfd >= 0 && r.type == LAST_NORM && r.slash &&
	      !strcmp(r.last, "c"), "parent of a/b/c/");
	walk_done(&r);
	CHECK_EQ(walk(&base, "/", WALK_PARENT, &r), 0, "parent walk of /");
	CHECK(r.type == LAST_ROOT && r.dirfd >= 0, "LAST_ROOT");
	walk_done(&r);
	CHECK_EQ(walk(&base, "a/..", WALK_PARENT, &r), 0, "parent walk of a/..");
	CHECK(r.type == LAST_DOTDOT, "LAST_DOTDOT");
	walk_done(&r);

	CHECK_EQ(count_fds(), fds_before, "no fd leaked by the walks");

	/* The process-level layer: fs_init and fs_open_exec with no task. */
	CHECK_EQ(fs_init(rootdir), 0, "fs_init");
	CHECK_EQ(fs_open_exec("/a/b/c"), -EACCES, "exec of a file without x");
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/a/b/c", rootdir);
	chmod(p, 0755);
	CHECK_EQ(fs_open_exec("/up"), -EACCES, "exec through a link to a non-x file");
	int fd = fs_open_exec("dirlink/b/c");
	CHECK(fd >= 0, "exec of an x file: %d", fd);
	ssize_t n = fd >= 0 ? read(fd, buf, 3) : -1;
	CHECK(n == 3 && !memcmp(buf, "abc", 3), "reads the file");
	if (fd >= 0)
		CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "close-on-exec");
	close(fd);
	CHECK_EQ(fs_open_exec("/a"), -EACCES, "exec of a directory");
	CHECK_EQ(fs_open_exec("/missing"), -ENOENT, "exec of nothing");
	CHECK_EQ(fs_open_exec(""), -ENOENT, "exec of an empty path");
	CHECK_EQ(fs_open_exec("a/b/c/"), -ENOTDIR, "exec with a trailing slash");

	close(afd);
	close(rootfd);
	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	if (system(p))
		return 1;
	CHECK_DONE();
}
