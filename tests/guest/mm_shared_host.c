/* Writable MAP_SHARED mappings of a file in directory argv[1] (tests/
 * run.sh runs it there with a read-write --bind of a host scratch
 * directory, then compares the files the native and cocoon runs left;
 * without an argument it uses /tmp): writes through a mapping seen by
 * read(2) and by other mappings and processes, write(2) seen by the
 * mapping, msync's checks, nothing written past the end of the file, and
 * the changes on the file after munmap and after a child exits without
 * unmapping. In /tmp the file's name is the process's own: the native
 * runs of the three builds run at once and share the host's /tmp. */
#include "util.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define SIZE (3 * 4096 + 100)
#define MAPLEN (4 * 4096)

static char path[4096];

static void show(const char *what, const char *p, size_t n)
{
	printf("%s: %.*s\n", what, (int)n, p);
}

static void pread_show(int fd, const char *what, off_t at, size_t n)
{
	char buf[64] = { 0 };
	ssize_t r = pread(fd, buf, n, at);
	printf("%s: %zd %.*s\n", what, r, (int)(r > 0 ? r : 0), buf);
}

static void reap(const char *what, pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	else
		printf("%s: did not exit\n", what);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		snprintf(path, sizeof path, "%s/shared-map", argv[1]);
	else
		snprintf(path, sizeof path, "/tmp/shared-map.%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	expect(fd >= 0, "create the file");
	static char fill[SIZE];
	memset(fill, 'a', sizeof fill);
	expect(write(fd, fill, SIZE) == SIZE, "fill it");

	char *m = mmap(NULL, MAPLEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect(m != MAP_FAILED, "MAP_SHARED read-write of the file");
	if (m == MAP_FAILED)
		return 1;
	memcpy(m + 10, "hello", 5);
	pread_show(fd, "read(2) after a write through the mapping", 8, 9);
	expect(pwrite(fd, "WORLD", 5, 5000) == 5, "pwrite");
	show("the mapping after pwrite", m + 4998, 9);

	int fd2 = open(path, O_RDWR);
	char *m2 = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 4096);
	expect(m2 != MAP_FAILED, "a second mapping (read-only, another open, offset 4096)");
	memcpy(m + 4096 + 7, "both", 4);
	show("the second mapping sees the first one's write", m2 + 5, 8);

	pid_t pid = fork();
	if (pid == 0) {
		memcpy(m + 8000, "child", 5);
		_exit(0);
	}
	reap("child writing through the inherited mapping", pid);
	show("the parent's mapping", m + 7998, 9);
	pread_show(fd, "read(2)", 7998, 9);

	/* The last page: bytes past the end of the file stay out of it. */
	memcpy(m + SIZE - 2, "ENDPAST", 7);
	expect(msync(m, MAPLEN, MS_SYNC) == 0, "msync MS_SYNC");
	struct stat st;
	fstat(fd, &st);
	printf("size after writing past the end through the mapping: %lld\n", (long long)st.st_size);
	pread_show(fd, "the end of the file", SIZE - 4, 10);

	printf("msync MS_ASYNC: %s\n", msync(m, 4096, MS_ASYNC) == 0 ? "ok" : errname(errno));
	printf("msync bad flags: %s\n", msync(m, 4096, 8) == 0 ? "ok" : errname(errno));
	printf("msync SYNC|ASYNC: %s\n", msync(m, 4096, MS_SYNC | MS_ASYNC) == 0 ? "ok" : errname(errno));
	printf("msync unaligned: %s\n", msync(m + 1, 4096, MS_SYNC) == 0 ? "ok" : errname(errno));
	printf("msync length 0: %s\n", msync(m, 0, MS_SYNC) == 0 ? "ok" : errname(errno));
	char *hole = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole + 4096, 4096);
	printf("msync over a hole: %s\n", msync(hole, 3 * 4096, MS_SYNC) == 0 ? "ok" : errname(errno));
	printf("msync MS_ASYNC over a hole: %s\n",
	       msync(hole, 3 * 4096, MS_ASYNC) == 0 ? "ok" : errname(errno));
	printf("msync of private anonymous memory: %s\n",
	       msync(hole, 4096, MS_SYNC) == 0 ? "ok" : errname(errno));

	memcpy(m + 20, "unmapped", 8);
	expect(munmap(m, MAPLEN) == 0, "munmap");
	munmap(m2, 4096);
	pread_show(fd, "after munmap", 18, 12);

	/* A child maps the file, writes and exits without unmapping. */
	pid = fork();
	if (pid == 0) {
		char *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
		if (c == MAP_FAILED)
			_exit(1);
		memcpy(c + 30, "exited", 6);
		_exit(0);
	}
	reap("child mapping and exiting", pid);
	pread_show(fd, "after the child's exit", 28, 10);
	close(fd);
	close(fd2);

	/* Everything, as the file holds it now. */
	fd = open(path, O_RDONLY);
	static char all[SIZE + 10];
	ssize_t n = read(fd, all, sizeof all);
	printf("file: %zd bytes, fnv1a %016llx\n", n, (unsigned long long)fnv1a(0xcbf29ce484222325ULL, all, n > 0 ? (size_t)n : 0));
	close(fd);
	if (argc <= 1)
		unlink(path);
	return 0;
}
