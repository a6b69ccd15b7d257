/* Address-space calls at their edges: ranges that wrap around, moves of
 * file mappings, hints past the end of the address space. Each case once
 * broke cocoon (see the review notes in git history). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"

int main(void)
{
	long r;
	char *buf = mmap(NULL, 0x8000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 7, 0x8000);

	puts("-- mremap ranges that wrap");
	r = rsys(SYS_mremap, buf, 0x8000, (long)(0 - 0x7fff00010000UL + 0x1000), MREMAP_MAYMOVE | MREMAP_FIXED,
		 0x7fff00010000UL);
	res("mremap FIXED to a target whose end wraps", r);
	r = rsys(SYS_mremap, buf, 0x8000, 0x8000, MREMAP_MAYMOVE | MREMAP_FIXED, (long)-0x4000);
	res("mremap FIXED to the top of the address space", r);
	expect(buf[0] == 7 && buf[0x7fff] == 7, "the source mapping is intact");

	puts("-- mmap hints past the end");
	char *p = mmap((void *)-0x3000L, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect(p != MAP_FAILED && (uintptr_t)p < 0x800000000000UL, "a hint that wraps is ignored");
	if (p != MAP_FAILED)
		p[0] = 1;
	r = rsys(SYS_mmap, -0x3000L, 0x2000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	res("MAP_FIXED whose end wraps", r);

	puts("-- moving file mappings");
	int fd = open("/etc/passwd", O_RDONLY);
	char first[8];
	pread(fd, first, sizeof(first), 0);
	char *f = mmap(NULL, 0x1000, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	/* Keep the next page busy so growing must move. */
	char *block = mmap(f + 0x1000, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char *g = mremap(f, 0x1000, 0x3000, MREMAP_MAYMOVE);
	expect(g != MAP_FAILED, "a file mapping grows by moving");
	if (g != MAP_FAILED) {
		expect(memcmp(g, first, sizeof(first)) == 0, "the moved mapping keeps the file's bytes");
		res("madvise DONTNEED over the moved and grown mapping", rsys(SYS_madvise, g, 0x3000, MADV_DONTNEED));
		expect(memcmp(g, first, sizeof(first)) == 0, "DONTNEED shows the file's bytes again");
		res("munmap the moved mapping", rsys(SYS_munmap, g, 0x3000));
	}
	if (block != MAP_FAILED)
		munmap(block, 0x1000);

	puts("-- reused memory reads zero");
	for (int i = 0; i < 50; i++) {
		char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int dirty = 0;
		for (size_t o = 0; o < (1 << 20); o += 4096)
			dirty |= m[o];
		if (dirty) {
			expect(0, "fresh anonymous memory reads zero (round %d)", i);
			break;
		}
		memset(m, 0xa5, 1 << 20);
		munmap(m, 1 << 20);
	}
	puts("fresh anonymous memory checked");

	puts("-- mappings of /dev/zero and /dev/null");
	int zero = open("/dev/zero", O_RDWR), zero_ro = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_RDWR);
	char *zp = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero, 0x5000);
	expect(zp != MAP_FAILED && zp[0] == 0 && zp[0x1fff] == 0, "private /dev/zero reads zero");
	if (zp != MAP_FAILED) {
		zp[1] = 3;
		expect(zp[1] == 3, "private /dev/zero is writable");
	}
	char *zs = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0);
	expect(zs != MAP_FAILED && zs[0] == 0, "shared /dev/zero reads zero");
	if (zs != MAP_FAILED) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			zs[0] = 42;
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		expect(zs[0] == 42, "shared /dev/zero is shared with a fork child");
	}
	res("shared writable /dev/zero opened read-only",
	    rsys(SYS_mmap, 0, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, zero_ro, 0));
	res("private writable /dev/zero opened read-only",
	    rsys(SYS_mmap, 0, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero_ro, 0) > 0 ? 0 : -1);
	res("/dev/null", rsys(SYS_mmap, 0, 0x1000, PROT_READ, MAP_PRIVATE, null, 0));
	return expect_failures ? 1 : 0;
}
