/* Confined path walk (see walk.h).
 *
 * Invariants: `cur` is an O_PATH fd of a directory inside the root and
 * `canon` is its canonical guest path. ".." is decided on `canon`: at the
 * root it stays, elsewhere the host's ".." of a directory strictly below
 * the root is still inside it. Every host lookup is openat() of one
 * component with O_NOFOLLOW, so the host never follows a link for us. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "fs/walk.h"

#define OPATH (O_PATH | O_NOFOLLOW | O_CLOEXEC)

struct walker {
	const struct walk_base *base;
	int flags;
	int cur;
	int root_fd;             /* the root ".." and "/" stop at */
	const char *root_path;
	size_t root_len;
	int links;
	dev_t dev;               /* WALK_NO_XDEV: the device we started on */
	char canon[PATH_MAX];
	char rem[2 * PATH_MAX];  /* the part of the path still to walk */
};

static int set_cur(struct walker *w, int fd)
{
	if (w->cur >= 0)
		close(w->cur);
	w->cur = fd;
	return fd < 0 ? -errno : 0;
}

static int jump_root(struct walker *w)
{
	if (w->flags & WALK_BENEATH)
		return -EXDEV;
	strcpy(w->canon, w->root_path);
	return set_cur(w, fcntl(w->root_fd, F_DUPFD_CLOEXEC, 0));
}

static int canon_append(char *canon, const char *name)
{
	size_t len = strlen(canon), n = strlen(name);
	bool root = len == 1;
	if (len + !root + n >= PATH_MAX)
		return -ENAMETOOLONG;
	if (!root)
		canon[len++] = '/';
	memcpy(canon + len, name, n + 1);
	return 0;
}

static int dotdot(struct walker *w)
{
	if (strlen(w->canon) <= w->root_len)
		return w->flags & WALK_BENEATH ? -EXDEV : 0;
	char *slash = strrchr(w->canon, '/');
	slash[slash == w->canon] = '\0';
	int err = set_cur(w, openat(w->cur, "..", OPATH | O_DIRECTORY));
	struct stat st;
	if (!err && (w->flags & WALK_NO_XDEV)) {
		if (fstat(w->cur, &st) < 0)
			return -errno;
		if (st.st_dev != w->dev)
			return -EXDEV;
	}
	return err;
}

/* Replace the walked part of rem, up to rest (a pointer into rem), with
 * the link's target, and move to where the target starts. */
static int follow(struct walker *w, int fd, const char *rest)
{
	char target[PATH_MAX];
	if (w->flags & WALK_NO_SYMLINKS)
		return -ELOOP;
	if (++w->links > MAXSYMLINKS)
		return -ELOOP;
	ssize_t n = readlinkat(fd, "", target, sizeof(target));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENOENT;
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	size_t restlen = strlen(rest);
	if ((size_t)n + restlen >= sizeof(w->rem))
		return -ENAMETOOLONG;
	memmove(w->rem + n, rest, restlen + 1);
	memcpy(w->rem, target, n);
	return target[0] == '/' ? jump_root(w) : 0;
}

/* End the walk at the directory holding `name` (NULL: "." or ".."):
 * the result owns that directory, and `name` becomes its last part. */
static int take_parent(struct walker *w, struct walk_result *r, const char *name)
{
	if (name) {
		strcpy(r->last, name);
		int err = canon_append(w->canon, name);
		if (err)
			return err;
	}
	r->dirfd = w->cur;
	w->cur = -1;
	return 0;
}

int walk(const struct walk_base *b, const char *path, int flags, struct walk_result *r)
{
	struct walker *w = &(struct walker){ .base = b, .flags = flags, .cur = -1 };
	int err = 0;

	memset(r, 0, offsetof(struct walk_result, path));
	r->fd = r->dirfd = -1;
	r->type = LAST_ROOT;
	if (!*path)
		return -ENOENT;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(w->rem, path);
	bool confined = flags & (WALK_BENEATH | WALK_IN_ROOT);
	w->root_fd = confined ? b->start_fd : b->root_fd;
	w->root_path = confined ? b->start_path : b->root_path;
	w->root_len = strlen(w->root_path);
	if (strlen(b->start_path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(w->canon, b->start_path);
	if ((err = set_cur(w, fcntl(b->start_fd, F_DUPFD_CLOEXEC, 0))))
		return err;
	if (flags & WALK_NO_XDEV) {
		struct stat st;
		if (fstat(w->cur, &st) < 0)
			goto fail_errno;
		w->dev = st.st_dev;
	}
	if (w->rem[0] == '/' && (err = jump_root(w)))
		goto fail;

	const char *p = w->rem;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break; /* only slashes left: the result is cur */
		const char *end = strchrnul(p, '/'), *next = end;
		size_t len = end - p;
		while (*next == '/')
			next++;
		bool last = !*next;
		r->slash = last && end != next;
		if (len > NAME_MAX) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		char name[NAME_MAX + 1];
		memcpy(name, p, len);
		name[len] = '\0';
		r->type = !strcmp(name, ".") ? LAST_DOT : !strcmp(name, "..") ? LAST_DOTDOT : LAST_NORM;
		if (last && (flags & WALK_PARENT)) {
			if ((err = take_parent(w, r, r->type == LAST_NORM ? name : NULL)))
				goto fail;
			goto out;
		}
		if (r->type == LAST_DOT) {
			p = end;
			continue;
		}
		if (r->type == LAST_DOTDOT) {
			if ((err = dotdot(w)))
				goto fail;
			p = end;
			continue;
		}

		if (last && r->slash && (flags & WALK_CREATE)) {
			err = -EISDIR; /* O_CREAT of "name/": Linux looks no further */
			goto fail;
		}
		int fd = openat(w->cur, name, OPATH);
		if (fd < 0) {
			if (errno == ENOENT && last && (flags & WALK_CREATE)) {
				if ((err = take_parent(w, r, name)))
					goto fail;
				goto out;
			}
			goto fail_errno;
		}
		struct stat st;
		if (fstat(fd, &st) < 0)
			err = -errno;
		else if ((flags & WALK_NO_XDEV) && st.st_dev != w->dev)
			err = -EXDEV;
		else if (S_ISLNK(st.st_mode) && (!last || r->slash || (flags & WALK_FOLLOW))) {
			err = follow(w, fd, end);
			close(fd);
			if (err)
				goto fail;
			r->type = LAST_ROOT; /* until the target names something */
			p = w->rem;
			continue;
		} else if ((!last || r->slash) && !S_ISDIR(st.st_mode))
			err = -ENOTDIR;
		else
			err = canon_append(w->canon, name);
		if (err) {
			close(fd);
			goto fail;
		}
		if (!last) {
			set_cur(w, fd);
			p = end;
			continue;
		}
		strcpy(r->last, name);
		r->fd = fd;
		r->st = st;
		r->dirfd = w->cur;
		w->cur = -1;
		goto out;
	}
	/* Ended on the root, ".", or "..": the object is cur itself. */
	if (flags & WALK_PARENT) {
		r->dirfd = w->cur;
		w->cur = -1;
		goto out;
	}
	if (fstat(w->cur, &r->st) < 0)
		goto fail_errno;
	r->fd = w->cur;
	w->cur = -1;
out:
	strcpy(r->path, w->canon);
	if ((flags & WALK_DIRECTORY) && r->fd >= 0 && !S_ISDIR(r->st.st_mode)) {
		walk_done(r);
		return -ENOTDIR;
	}
	return 0;
fail_errno:
	err = -errno;
fail:
	set_cur(w, -1);
	walk_done(r);
	return err;
}

void walk_done(struct walk_result *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->fd = r->dirfd = -1;
}
