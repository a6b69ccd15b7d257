/* RLIMIT_AS and RLIMIT_DATA against Linux (may_expand_vm): mmap, brk
 * and mremap may not take the address space (all mappings) or its data
 * (private writable ones) past the limit; MAP_FIXED over a mapping counts
 * only what it adds; shared and read-only mappings are not data; a data
 * limit of 0 means only the hard limit (Linux's Valgrind exception).
 * Limits are set relative to /proc/self/status's VmSize and VmData, so
 * the layouts of libc and of the sandbox do not matter. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"

#define MB (1024L * 1024)

static long status_kb(const char *field)
{
	static char buf[4096];
	FILE *f = fopen("/proc/self/status", "r");
	long kb = -1;
	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, field, strlen(field)))
			sscanf(buf + strlen(field), "%ld", &kb);
	if (f)
		fclose(f);
	return kb;
}

static void limit(int res, rlim_t cur, rlim_t max)
{
	struct rlimit r = { cur, max };
	if (setrlimit(res, &r))
		puts("setrlimit failed");
}

static long map(long len, int prot, int flags, void *at)
{
	return rsys(SYS_mmap, at, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

int main(void)
{
	status_kb("VmSize:"); /* stdio's buffers now, not between the readings */
	puts("-- RLIMIT_AS");
	long size = status_kb("VmSize:") * 1024;
	/* 66 MiB free: 2 to spare for what libc or a growing stack takes. */
	limit(RLIMIT_AS, size + 66 * MB, RLIM_INFINITY);
	long a = map(64 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE, NULL);
	res("map 64 MiB of 66 free", a);
	res("map 32 MiB more", map(32 * MB, PROT_READ, MAP_PRIVATE, NULL));
	res("map 32 MiB PROT_NONE more", map(32 * MB, PROT_NONE, MAP_PRIVATE, NULL));
	/* A hole of our own above 48 MiB of it, for MAP_FIXED to fill. */
	if (a > 0)
		munmap((char *)a + 48 * MB, 16 * MB);
	res("MAP_FIXED 32 MiB over 16 mapped and 16 new",
	    a > 0 ? map(32 * MB, PROT_READ, MAP_PRIVATE | MAP_FIXED, (char *)a + 32 * MB) : -1);
	res("MAP_FIXED 16 MiB over the mapping", a > 0 ? map(16 * MB, PROT_READ, MAP_PRIVATE | MAP_FIXED, (void *)a) : -1);
	if (a > 0)
		munmap((char *)a + 48 * MB, 16 * MB);
	void *g = a > 0 ? (void *)a : NULL;
	res("mremap grows 16 MiB of it by 32", g ? rsys(SYS_mremap, g, 16 * MB, 48 * MB, MREMAP_MAYMOVE) : -1);
	res("mremap grows it by 8", g ? rsys(SYS_mremap, g, 16 * MB, 24 * MB, MREMAP_MAYMOVE) : -1);
	long brk0 = rsys(SYS_brk, 0);
	printf("brk past the limit moves: %s\n", rsys(SYS_brk, brk0 + 64 * MB) == brk0 ? "no" : "yes");
	printf("a small brk moves: %s\n", rsys(SYS_brk, brk0 + 4096) == brk0 + 4096 ? "yes" : "no");
	rsys(SYS_brk, brk0);
	limit(RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY);

	puts("-- RLIMIT_DATA");
	long data = status_kb("VmData:") * 1024;
	limit(RLIMIT_DATA, data + 16 * MB, RLIM_INFINITY);
	res("private writable 12 MiB", map(12 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE, NULL));
	res("private writable 8 MiB more", map(8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE, NULL));
	res("private read-only 64 MiB", map(64 * MB, PROT_READ, MAP_PRIVATE, NULL));
	res("shared writable 64 MiB", map(64 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, NULL));
	printf("brk of 8 MiB moves: %s\n", rsys(SYS_brk, brk0 + 8 * MB) == brk0 + 8 * MB ? "yes" : "no");
	rsys(SYS_brk, brk0);
	limit(RLIMIT_DATA, 0, data + 16 * MB);
	res("data limit 0, hard limit 4 MiB above: 8 MiB", map(8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE, NULL));
	res("data limit 0, hard limit 4 MiB above: 2 MiB", map(2 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE, NULL));
	/* The hard limit 0 for good, and libc may need memory to print: in a
	 * child, which answers with its exit status. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		limit(RLIMIT_DATA, 0, 0);
		_exit(map(4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, NULL) == -ENOMEM ? 1 : 0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("data limit 0, hard 0: 1 page: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "ENOMEM" : "mapped");
	return 0;
}
