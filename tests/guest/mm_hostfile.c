/* Private mappings of a host file. Under cocoon a read-only one is the
 * host file itself, mapped into the guest (mm/hostmap.c), and the kernel
 * reads it through a mapping of its own; a writable one, or one made
 * writable, is a copy. Checks the bytes every way a guest can see them:
 * loads, the kernel's reads (write, futex), fork,
 * mremap, MADV_DONTNEED, mprotect then write, and smaps. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0 /* musl has no linux/futex.h */
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "ok" : "WRONG");
}

/* Resident kB of the mapping at addr, from /proc/self/smaps; -1 if absent. */
static long smaps_rss(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	long rss = -1;
	int in = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') == line + strcspn(line, " "))
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "Rss: %ld kB", &rss) == 1)
			break;
	}
	if (f)
		fclose(f);
	return rss;
}

int main(void)
{
	const char *fix = getenv("COCOON_FIXTURE");
	char path[4096];
	snprintf(path, sizeof(path), "%s/big", fix ? fix : ".");
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	char *want = malloc(size);
	if (!want || pread(fd, want, size, 0) != (ssize_t)size) {
		perror("pread");
		return 1;
	}

	char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	check("loads see the file", memcmp(m, want, size) == 0);

	size_t at = 100 * 4096;
	char *part = mmap(NULL, 3 * 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, (off_t)at);
	check("an offset mapping sees its part", part != MAP_FAILED && memcmp(part, want + at, 3 * 4096) == 0);

	/* The kernel reads the mapping: write(2) from it into a pipe. */
	int p[2];
	char got[5000];
	if (pipe(p) < 0)
		return 1;
	ssize_t w = write(p[1], m + 123457, sizeof(got));
	ssize_t r = read(p[0], got, sizeof(got));
	check("write(2) from it", w == (ssize_t)sizeof(got) && r == w && memcmp(got, want + 123457, sizeof(got)) == 0);
	/* ... but cannot write it. */
	errno = 0;
	r = read(fd, m, 10);
	printf("read(2) into it: %zd %s\n", r, strerror(errno));

	/* Its last, partial page: the file, then zeros. */
	size_t tail = size % 4096;
	int zeros = 1;
	for (size_t i = size; tail && i < size - tail + 4096; i++)
		zeros &= m[i] == 0;
	check("the last page", memcmp(m + size - tail, want + size - tail, tail) == 0 && zeros);

	/* A futex word in it: FUTEX_WAIT only reads. A shared key is the
	 * file's page for every process (the other runs of this test too,
	 * which may wake it), so only the value check is made with one. */
	uint32_t word;
	memcpy(&word, m + 4096, sizeof(word));
	struct timespec ms10 = { 0, 10 * 1000 * 1000 };
	errno = 0;
	long fr = syscall(SYS_futex, m + 4096, FUTEX_WAIT, word + 1, &ms10, NULL, 0);
	printf("futex_wait, other value: %ld %s\n", fr, strerror(errno));
	errno = 0;
	fr = syscall(SYS_futex, m + 4096, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, word, &ms10, NULL, 0);
	printf("futex_wait, its value: %ld %s\n", fr, strerror(errno));
	fr = syscall(SYS_futex, m + 4096, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
	printf("futex_wake: %ld\n", fr);

	long rss = smaps_rss(m);
	check("smaps shows it resident", rss > 0);

	/* A child sees the same bytes. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(memcmp(m, want, size) == 0 && memcmp(part, want + at, 4096) == 0 ? 0 : 1);
	int status = 0;
	waitpid(pid, &status, 0);
	check("a fork child sees the file", WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Moved, its bytes move along. */
	char *moved = mremap(m, size, size + 8192, MREMAP_MAYMOVE);
	check("mremap keeps the bytes", moved != MAP_FAILED && memcmp(moved, want, size) == 0);
	m = moved;

	/* MADV_DONTNEED on a private file mapping: the file's bytes again. */
	check("MADV_DONTNEED", madvise(m, 65536, MADV_DONTNEED) == 0 && memcmp(m, want, 65536) == 0);

	/* Made writable: a private copy; the file and other mappings keep
	 * their bytes. */
	int mp = mprotect(m, 8192, PROT_READ | PROT_WRITE);
	if (mp == 0) {
		memset(m + 100, 'Z', 50);
		char file[200];
		check("written after mprotect", m[120] == 'Z' && memcmp(m + 8192, want + 8192, 4096) == 0);
		check("the file keeps its bytes", pread(fd, file, 200, 0) == 200 && memcmp(file, want, 200) == 0);
		char *again = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
		check("another mapping keeps its bytes", again != MAP_FAILED && memcmp(again, want, 8192) == 0);
		/* The kernel reads the copy now. */
		w = write(p[1], m + 100, 50);
		r = read(p[0], got, 50);
		check("write(2) from the copy", w == 50 && r == 50 && got[0] == 'Z' && got[49] == 'Z');
		munmap(again, 8192);
	} else {
		printf("mprotect: %s\n", strerror(errno));
	}

	/* A writable private mapping from the start, written. */
	char *rw = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4096);
	if (rw != MAP_FAILED) {
		int same = memcmp(rw, want + 4096, 3 * 4096) == 0;
		rw[5] = '!';
		check("a writable mapping", same && rw[5] == '!' && m[4096 + 5] == want[4096 + 5]);
	}
	printf("done\n");
	return 0;
}
