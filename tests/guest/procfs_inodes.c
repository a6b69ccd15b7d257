/* /proc's inode numbers are stable: two lookups of a file, its fstat,
 * the same file through /proc/<pid> and /proc/self, and the d_ino its
 * directory lists all agree, as tools that compare (dev, ino) expect
 * (samestat, fwalk, rmtree, du). */
#include "util.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static int same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int main(void)
{
	struct stat a, b, c;
	stat("/proc/self/stat", &a);
	stat("/proc/self/stat", &b);
	printf("stat twice: same inode: %s\n", same(&a, &b) ? "yes" : "no");
	int fd = open("/proc/self/stat", O_RDONLY);
	fstat(fd, &c);
	close(fd);
	printf("fstat of the open file: same inode: %s\n", same(&a, &c) ? "yes" : "no");
	char path[320];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)getpid());
	stat(path, &c);
	printf("/proc/<pid>/stat and /proc/self/stat: same inode: %s\n", same(&a, &c) ? "yes" : "no");
	stat("/proc/self/status", &c);
	printf("stat and status: different inodes: %s\n", !same(&a, &c) ? "yes" : "no");

	static const char *dirs[] = { "/proc/self", "/proc/self/fd", "/proc/self/task", "/proc/sys/kernel" };
	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		DIR *d = opendir(dirs[k]);
		int n = 0, off = 0;
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[k], e->d_name);
			struct stat s;
			if (lstat(path, &s))
				continue; /* gone meanwhile (the fd of the listing itself) */
			n++;
			off += s.st_ino != e->d_ino;
		}
		if (d)
			closedir(d);
		printf("%s: entries listed %s, d_ino differing from lstat: %d\n", dirs[k], n > 0 ? "yes" : "no", off);
	}
	return 0;
}
