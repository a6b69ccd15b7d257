/* A shared file mapping longer than its file: pages past the end raise
 * SIGBUS only while the file does not reach them; once it grows (by
 * ftruncate, or by a write past its end) the same mapping shows the
 * file's pages, as LMDB-style databases expect when they map more than
 * they have written. After a shrink, the cut pages raise SIGBUS again
 * and come back as zeros when the file regrows. Files in /tmp (tmpfs)
 * and memfds. */
#include "util.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static void on_bus(int sig) { (void)sig; siglongjmp(jb, 1); }

static void probe(const char *label, volatile char *p)
{
	if (!sigsetjmp(jb, 1)) {
		char c = *p;
		printf("  %s: byte %d\n", label, c);
	} else {
		printf("  %s: SIGBUS\n", label);
	}
}

static void poke(const char *label, volatile char *p, char v)
{
	if (!sigsetjmp(jb, 1)) {
		*p = v;
		printf("  %s: written\n", label);
	} else {
		printf("  %s: SIGBUS\n", label);
	}
}

static void run(const char *what, int fd)
{
	const long pg = 4096;
	printf("%s\n", what);
	ftruncate(fd, pg);
	char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("  mmap: %s\n", errname(errno));
		return;
	}
	probe("page 2 of a 1-page file", m + 2 * pg);
	ftruncate(fd, 3 * pg);
	probe("page 2 after ftruncate to 3 pages", m + 2 * pg);
	poke("write to page 1 through the mapping", m + pg + 7, 42);
	char b = 0;
	pread(fd, &b, 1, pg + 7);
	printf("  read(2) sees it: %s\n", b == 42 ? "yes" : "no");
	probe("page 3 (still past the end)", m + 3 * pg);
	pwrite(fd, "Z", 1, 3 * pg + 5);
	probe("page 3 after a pwrite past the end", m + 3 * pg + 5);
	ftruncate(fd, pg);
	probe("page 1 after a shrink to 1 page", m + pg + 7);
	ftruncate(fd, 2 * pg);
	probe("page 1 after regrowing to 2 pages", m + pg + 7);
	probe("page 2 (past the end again)", m + 2 * pg);
	munmap(m, 4 * pg);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(20);
	signal(SIGBUS, on_bus);
	int fd = open("/tmp/mm_file_grow", O_RDWR | O_CREAT | O_TRUNC, 0600);
	run("tmpfs file", fd);
	close(fd);
	unlink("/tmp/mm_file_grow");
	fd = (int)syscall(SYS_memfd_create, "grow", 0);
	run("memfd", fd);
	close(fd);
	return 0;
}
