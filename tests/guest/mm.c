/* mmap, munmap, mprotect, mremap, madvise and brk: behaviour and errno
 * cases, all through raw system calls. No addresses are printed, only
 * how results relate to each other. */
#include "util.h"
#include <fcntl.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)

static long mm(long addr, long len, long prot, long flags, long fd, long off)
{
	return rsys(SYS_mmap, addr, len, prot, flags, fd, off);
}
static int is_err(long r) { return r < 0 && r >= -4095; }

/* A free, page-aligned range of n pages (mapped then unmapped). */
static long hole(long n)
{
	long a = mm(0, n * PAGE, PROT_NONE, PA, -1, 0);
	if (is_err(a)) {
		printf("cannot find a hole: %s\n", rstr(a));
		exit(1);
	}
	rsys(SYS_munmap, a, n * PAGE);
	return a;
}

/* Is the page at addr mapped? Probed with MAP_FIXED_NOREPLACE, which
 * fails with EEXIST on a mapped page (and maps a free one: undone). */
static int mapped(long addr)
{
	long r = mm(addr, PAGE, PROT_NONE, PA | MAP_FIXED_NOREPLACE, -1, 0);
	if (r == addr) {
		rsys(SYS_munmap, addr, PAGE);
		return 0;
	}
	return r == -EEXIST;
}

static void test_mmap_errors(void)
{
	printf("-- mmap errors\n");
	res("mmap len 0", mm(0, 0, RW, PA, -1, 0));
	long h = hole(4);
	res("mmap MAP_FIXED unaligned addr", mm(h + 1, PAGE, RW, PA | MAP_FIXED, -1, 0));
	res("mmap neither SHARED nor PRIVATE", mm(0, PAGE, RW, MAP_ANONYMOUS, -1, 0));
	res("mmap file, bad fd", mm(0, PAGE, PROT_READ, MAP_PRIVATE, 12345, 0));
	res("mmap file, fd -1", mm(0, PAGE, PROT_READ, MAP_PRIVATE, -1, 0));
	res("mmap huge len", mm(0, 1L << 62, RW, PA, -1, 0));
	res("mmap len -1 (rounds to 0)", mm(0, -1L, RW, PA, -1, 0));
	res("mmap len 1<<47", mm(0, 1L << 47, RW, PA, -1, 0));
	int fd = open("/etc/passwd", O_RDONLY);
	res("mmap file, unaligned offset", mm(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 100));
	res("mmap file MAP_SHARED PROT_WRITE on O_RDONLY fd", mm(0, PAGE, RW, MAP_SHARED, fd, 0));
	long p = mm(0, PAGE, RW, MAP_PRIVATE, fd, 0);
	res("mmap file MAP_PRIVATE PROT_WRITE on O_RDONLY fd", p);
	if (!is_err(p))
		rsys(SYS_munmap, p, PAGE);
	close(fd);
	fd = open("/etc", O_RDONLY | O_DIRECTORY);
	res("mmap a directory", mm(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	close(fd);
}

static void test_mmap_basic(void)
{
	printf("-- mmap basics\n");
	long a = mm(0, 3 * PAGE, RW, PA, -1, 0);
	res("mmap anon 3 pages", a);
	expect(a % PAGE == 0, "result is page aligned");
	unsigned char *c = (unsigned char *)a;
	int zero = 1;
	for (unsigned long i = 0; i < 3 * PAGE; i++)
		if (c[i])
			zero = 0;
	expect(zero, "anonymous memory is zero");
	memset(c, 0x11, 3 * PAGE);

	/* Length is rounded up to pages. */
	long b = mm(0, 1, RW, PA, -1, 0);
	res("mmap 1 byte", b);
	((char *)b)[PAGE - 1] = 1;   /* the whole page is usable */
	rsys(SYS_munmap, b, PAGE);

	/* A hint at a free address is honoured. */
	long h = hole(2);
	long r = mm(h, PAGE, RW, PA, -1, 0);
	expect(r == h, "free hint address is used");
	rsys(SYS_munmap, r, PAGE);

	/* MAP_FIXED replaces an existing mapping, with fresh zero pages. */
	r = mm(a + PAGE, PAGE, RW, PA | MAP_FIXED, -1, 0);
	expect(r == a + PAGE, "MAP_FIXED returns the address");
	expect(c[PAGE] == 0 && c[2 * PAGE - 1] == 0, "MAP_FIXED replaced contents with zeros");
	expect(c[0] == 0x11 && c[2 * PAGE] == 0x11, "neighbours untouched");

	/* MAP_FIXED_NOREPLACE: EEXIST over a mapping, exact address otherwise. */
	res("MAP_FIXED_NOREPLACE over mapping", mm(a + PAGE, PAGE, RW, PA | MAP_FIXED_NOREPLACE, -1, 0));
	res("MAP_FIXED_NOREPLACE partly over mapping", mm(a + 2 * PAGE, 2 * PAGE, RW, PA | MAP_FIXED_NOREPLACE, -1, 0));
	h = hole(3);
	r = mm(h + PAGE, PAGE, RW, PA | MAP_FIXED_NOREPLACE, -1, 0);
	expect(r == h + PAGE, "MAP_FIXED_NOREPLACE at a free address");
	rsys(SYS_munmap, r, PAGE);
	rsys(SYS_munmap, a, 3 * PAGE);

	/* Unmapping a hole is fine; munmap errors. */
	h = hole(4);
	res("munmap of a hole", rsys(SYS_munmap, h, 4 * PAGE));
	res("munmap unaligned", rsys(SYS_munmap, h + 1, PAGE));
	res("munmap len 0", rsys(SYS_munmap, h, 0));
	res("munmap unaligned len (rounded up)", rsys(SYS_munmap, h, 1));
	res("munmap above user space", rsys(SYS_munmap, 0x800000000000L, PAGE));
	res("munmap wrapping range", rsys(SYS_munmap, h, -PAGE));

	/* Punch a hole in the middle of a mapping. */
	a = mm(0, 3 * PAGE, RW, PA, -1, 0);
	c = (unsigned char *)a;
	memset(c, 0x22, 3 * PAGE);
	res("munmap middle page", rsys(SYS_munmap, a + PAGE, PAGE));
	expect(mapped(a) && !mapped(a + PAGE) && mapped(a + 2 * PAGE), "middle page gone, ends stay");
	expect(c[0] == 0x22 && c[3 * PAGE - 1] == 0x22, "ends keep contents");
	rsys(SYS_munmap, a, 3 * PAGE);
	expect(!mapped(a) && !mapped(a + 2 * PAGE), "munmap across a hole removes both ends");
}

static void test_mprotect(void)
{
	printf("-- mprotect\n");
	long a = mm(0, 4 * PAGE, PROT_NONE, PA, -1, 0);
	res("mprotect NONE->RW", rsys(SYS_mprotect, a, 4 * PAGE, RW));
	memset((void *)a, 0x33, 4 * PAGE);
	res("mprotect RO", rsys(SYS_mprotect, a, PAGE, PROT_READ));
	expect(*(unsigned char *)a == 0x33, "read-only page still readable, contents kept");
	res("mprotect unaligned", rsys(SYS_mprotect, a + 1, PAGE, PROT_READ));
	res("mprotect bad prot bits", rsys(SYS_mprotect, a, PAGE, 0x100));
	res("mprotect len 0", rsys(SYS_mprotect, a, 0, PROT_READ));
	res("mprotect GROWSDOWN|GROWSUP", rsys(SYS_mprotect, a, PAGE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP));
	long h = hole(2);
	res("mprotect unmapped", rsys(SYS_mprotect, h, PAGE, PROT_READ));
	rsys(SYS_munmap, a + 2 * PAGE, PAGE);
	res("mprotect range with a hole", rsys(SYS_mprotect, a, 4 * PAGE, RW));
	res("mprotect PROT_EXEC", rsys(SYS_mprotect, a, PAGE, PROT_READ | PROT_EXEC));
	rsys(SYS_munmap, a, 4 * PAGE);
}

static void test_mremap(void)
{
	printf("-- mremap\n");
	/* Grow in place when the next page is free. */
	long h = hole(4);
	long a = mm(h, PAGE, RW, PA | MAP_FIXED, -1, 0);
	memset((void *)a, 0x44, PAGE);
	long r = rsys(SYS_mremap, a, PAGE, 2 * PAGE, 0);
	expect(r == a, "grow in place into free space");
	unsigned char *c = (unsigned char *)a;
	expect(c[0] == 0x44 && c[PAGE] == 0, "old contents kept, new page zero");
	/* Shrink. */
	r = rsys(SYS_mremap, a, 2 * PAGE, PAGE, 0);
	expect(r == a && !mapped(a + PAGE), "shrink in place");
	/* Blocked growth without MAYMOVE. */
	long blk = mm(a + PAGE, PAGE, RW, PA | MAP_FIXED, -1, 0);
	res("grow into a mapping without MAYMOVE", rsys(SYS_mremap, a, PAGE, 2 * PAGE, 0));
	r = rsys(SYS_mremap, a, PAGE, 64 * PAGE, MREMAP_MAYMOVE);
	res("grow with MAYMOVE", r);
	if (!is_err(r)) {
		expect(r != a, "it moved");
		expect(((unsigned char *)r)[0] == 0x44 && ((unsigned char *)r)[63 * PAGE] == 0,
		       "moved contents kept");
		expect(!mapped(a), "old range unmapped");
		rsys(SYS_munmap, r, 64 * PAGE);
	}
	rsys(SYS_munmap, blk, PAGE);
	/* Errors. */
	a = mm(0, 2 * PAGE, RW, PA, -1, 0);
	res("mremap unaligned old", rsys(SYS_mremap, a + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
	res("mremap new_len 0", rsys(SYS_mremap, a, PAGE, 0, MREMAP_MAYMOVE));
	res("mremap bad flags", rsys(SYS_mremap, a, PAGE, PAGE, 0x80));
	res("mremap FIXED without MAYMOVE", rsys(SYS_mremap, a, PAGE, PAGE, MREMAP_FIXED, hole(1)));
	h = hole(3);
	res("mremap of unmapped", rsys(SYS_mremap, h, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
	/* MREMAP_FIXED to a chosen place. */
	((unsigned char *)a)[0] = 0x55;
	r = rsys(SYS_mremap, a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, h + PAGE);
	expect(r == h + PAGE && ((unsigned char *)r)[0] == 0x55, "MREMAP_FIXED moves to new_addr");
	expect(!mapped(a) && mapped(a + PAGE), "source page gone, its neighbour stays");
	res("mremap FIXED overlapping itself", rsys(SYS_mremap, r, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, r));
	rsys(SYS_munmap, r, PAGE);
	rsys(SYS_munmap, a + PAGE, PAGE);
}

static void test_madvise(void)
{
	printf("-- madvise\n");
	long a = mm(0, 4 * PAGE, RW, PA, -1, 0);
	memset((void *)a, 0x66, 4 * PAGE);
	res("madvise DONTNEED", rsys(SYS_madvise, a + PAGE, 2 * PAGE, MADV_DONTNEED));
	unsigned char *c = (unsigned char *)a;
	expect(c[PAGE] == 0 && c[3 * PAGE - 1] == 0, "DONTNEED zeroes private anonymous pages");
	expect(c[0] == 0x66 && c[3 * PAGE] == 0x66, "pages outside the range kept");
	res("madvise unaligned", rsys(SYS_madvise, a + 1, PAGE, MADV_DONTNEED));
	res("madvise bad advice", rsys(SYS_madvise, a, PAGE, 12345));
	res("madvise NORMAL", rsys(SYS_madvise, a, PAGE, MADV_NORMAL));
	res("madvise WILLNEED", rsys(SYS_madvise, a, PAGE, MADV_WILLNEED));
	rsys(SYS_munmap, a, 4 * PAGE);
	res("madvise DONTNEED unmapped", rsys(SYS_madvise, a, PAGE, MADV_DONTNEED));

	/* A private file mapping: DONTNEED drops our copy, the file's bytes
	 * come back. Writing the private copy never reaches the file. */
	int fd = open("/etc/passwd", O_RDONLY);
	char first[16] = { 0 };
	pread(fd, first, sizeof first - 1, 0);
	long m = mm(0, PAGE, RW, MAP_PRIVATE, fd, 0);
	res("mmap /etc/passwd private RW", m);
	if (!is_err(m)) {
		expect(memcmp((void *)m, first, strlen(first)) == 0, "mapping shows file bytes");
		memset((void *)m, 'X', 8);
		char again[16] = { 0 };
		pread(fd, again, sizeof again - 1, 0);
		expect(strcmp(again, first) == 0, "private write did not reach the file");
		rsys(SYS_madvise, m, PAGE, MADV_DONTNEED);
		expect(memcmp((void *)m, first, strlen(first)) == 0, "DONTNEED restores file bytes");
		rsys(SYS_munmap, m, PAGE);
	}
	close(fd);
}

static void test_brk(void)
{
	printf("-- brk\n");
	long cur = rsys(SYS_brk, 0);
	expect(cur > 0, "brk(0) returns the current break");
	long r = rsys(SYS_brk, cur + 1024 * 1024);
	expect(r == cur + 1024 * 1024, "brk grows by 1 MiB");
	if (r == cur + 1024 * 1024) {
		unsigned char *p = (unsigned char *)cur;
		int zero = 1;
		for (long i = 0; i < 1024 * 1024; i += 512)
			if (p[i])
				zero = 0;
		expect(zero, "new heap memory is zero");
		memset(p, 0x77, 1024 * 1024);
		r = rsys(SYS_brk, cur + PAGE);
		expect(r == cur + PAGE, "brk shrinks");
		expect(!mapped(cur + 2 * PAGE), "shrunk part unmapped");
		r = rsys(SYS_brk, cur + 2 * PAGE);
		expect(r == cur + 2 * PAGE && p[PAGE] == 0, "regrown heap is zero");
		expect(p[0] == 0x77, "kept heap kept its contents");
	}
	r = rsys(SYS_brk, 4096);
	expect(r == rsys(SYS_brk, 0), "brk below the start fails (returns the old break)");
	r = rsys(SYS_brk, 1L << 48);
	expect(r == rsys(SYS_brk, 0), "brk beyond user space fails (returns the old break)");
	/* brk does not grow into an existing mapping. */
	long now = rsys(SYS_brk, 0);
	long top = (now + PAGE - 1) & ~(PAGE - 1);
	long blk = mm(top + 4 * PAGE, PAGE, RW, PA | MAP_FIXED_NOREPLACE, -1, 0);
	if (blk == top + 4 * PAGE) {
		r = rsys(SYS_brk, top + 8 * PAGE);
		expect(r == now, "brk refuses to grow over a mapping");
		rsys(SYS_munmap, blk, PAGE);
	} else {
		printf("(no room above the break: %s)\n", rstr(blk));
	}
	rsys(SYS_brk, cur);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_mmap_errors();
	test_mmap_basic();
	test_mprotect();
	test_mremap();
	test_madvise();
	test_brk();
	return expect_failures ? 1 : 0;
}
