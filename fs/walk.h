/* Confined path lookup on kernel strings. The walk resolves a path one
 * component at a time with host O_PATH|O_NOFOLLOW fds, reads symlinks
 * itself and handles ".." against its own idea of the root, so no host
 * path string ever leaves the sandbox. It knows nothing of guest memory
 * or tasks, so it can be tested on its own. */
#ifndef COCOON_FS_WALK_H
#define COCOON_FS_WALK_H

#include <limits.h>
#include <sys/stat.h>
#include "kernel/kernel.h"

#define MAXSYMLINKS 40

enum {
	WALK_FOLLOW = 1 << 0,      /* follow a symlink in the last component */
	WALK_DIRECTORY = 1 << 1,   /* the result must be a directory */
	WALK_CREATE = 1 << 2,      /* O_CREAT: a missing last component is no
				    * error, "name/" is EISDIR */
	WALK_PARENT = 1 << 3,      /* stop before the last component */
	WALK_NO_SYMLINKS = 1 << 4, /* RESOLVE_NO_SYMLINKS */
	WALK_BENEATH = 1 << 5,     /* RESOLVE_BENEATH: never leave start */
	WALK_IN_ROOT = 1 << 6,     /* RESOLVE_IN_ROOT: start acts as root */
	WALK_NO_XDEV = 1 << 7,     /* RESOLVE_NO_XDEV */
};

/* Where a walk begins. Paths are canonical guest paths ("/" = root). */
struct walk_base {
	int root_fd;
	const char *root_path;
	int start_fd;           /* relative paths start here */
	const char *start_path;
};

enum last_type { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT };

struct walk_result {
	int fd;       /* O_PATH fd of the object; -1 if missing or WALK_PARENT */
	int dirfd;    /* O_PATH fd of the directory holding `last`, or -1 */
	enum last_type type;     /* of the last component */
	bool slash;              /* the path ended in '/' */
	char last[NAME_MAX + 1]; /* the last component's name (LAST_NORM) */
	struct stat st;          /* of fd */
	char path[PATH_MAX];     /* canonical guest path of what the path names */
};

/* 0 or -errno. On success the result owns its fds: walk_done() closes
 * them. With WALK_CREATE a missing last component gives 0 and fd == -1,
 * dirfd and last set; with WALK_PARENT fd is always -1. */
int walk(const struct walk_base *base, const char *path, int flags,
	 struct walk_result *res);
void walk_done(struct walk_result *res);

#endif
