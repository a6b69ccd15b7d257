/* mincore and process_vm_readv/writev against Linux: residency of
 * anonymous, shared and file memory, the partial vector an unmapped hole
 * leaves; copies from and into the caller and a fork child (scatter and
 * gather, copy-on-write pages, short copies at unmapped or read-only
 * memory), and the errors in Linux's order. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"

#define PG 4096L

static void show_vec(const char *label, long r, const unsigned char *vec, int n)
{
	printf("%s: %s [", label, rstr(r));
	for (int i = 0; i < n; i++)
		putchar(vec[i] > 9 ? '?' : '0' + vec[i]);
	puts("]");
}

static void mincore_cases(void)
{
	unsigned char vec[16];
	puts("-- mincore");
	char *m = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m[0] = 1;
	m[2 * PG] = 1;
	m[5 * PG] = 1;
	volatile char c = m[6 * PG]; /* a read: Linux maps the zero page */
	(void)c;
	memset(vec, 9, sizeof(vec));
	show_vec("private anonymous, pages 0 2 5 written, 6 read", rsys(SYS_mincore, m, 8 * PG, vec), vec, 8);
	memset(vec, 9, sizeof(vec));
	show_vec("a length not a page multiple", rsys(SYS_mincore, m, 2 * PG + 1, vec), vec, 4);
	res("unaligned start", rsys(SYS_mincore, m + 1, PG, vec));
	res("length 0", rsys(SYS_mincore, m, 0, vec));
	res("vector at an unmapped address", rsys(SYS_mincore, m, PG, (void *)8));
	res("range past the end of the address space", rsys(SYS_mincore, 0x7ffffffff000L, 2 * PG, vec));
	res("length that wraps", rsys(SYS_mincore, m, -PG, vec));
	rsys(SYS_madvise, m, PG, MADV_DONTNEED);
	memset(vec, 9, sizeof(vec));
	show_vec("page 0 after MADV_DONTNEED", rsys(SYS_mincore, m, 3 * PG, vec), vec, 3);
	munmap(m + 3 * PG, PG);
	memset(vec, 9, sizeof(vec));
	show_vec("a hole at page 3 (what came before is written)", rsys(SYS_mincore, m, 8 * PG, vec), vec, 8);
	memset(vec, 9, sizeof(vec));
	show_vec("starting in the hole", rsys(SYS_mincore, m + 3 * PG, PG, vec), vec, 2);

	char *none = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(vec, 9, sizeof(vec));
	show_vec("PROT_NONE", rsys(SYS_mincore, none, 2 * PG, vec), vec, 2);
	char *sh = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sh[PG] = 1;
	memset(vec, 9, sizeof(vec));
	show_vec("shared anonymous, page 1 written", rsys(SYS_mincore, sh, 3 * PG, vec), vec, 3);

	char path[] = "/tmp/mm_remote.XXXXXX";
	int fd = mkstemp(path);
	static char page[PG];
	for (int i = 0; i < 3; i++) {
		memset(page, 'a' + i, sizeof(page));
		if (write(fd, page, sizeof(page)) != PG)
			puts("write failed");
	}
	char *f = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	memset(vec, 9, sizeof(vec));
	show_vec("a file just written, shared, 3 pages of 4 mapped", rsys(SYS_mincore, f, 4 * PG, vec), vec, 4);
	char *fp = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	memset(vec, 9, sizeof(vec));
	show_vec("the same file, private", rsys(SYS_mincore, fp, 3 * PG, vec), vec, 3);
	close(fd);
	unlink(path);
}

static char child_buf[64] = "initial contents of the buffer";
static char rodata_buf[PG] __attribute__((aligned(PG))) = "read-only after mprotect";

static long vm_rw(int write, pid_t pid, void *local, size_t llen, void *remote, size_t rlen)
{
	struct iovec l = { local, llen }, r = { remote, rlen };
	return rsys(write ? SYS_process_vm_writev : SYS_process_vm_readv, pid, &l, 1, &r, 1, 0);
}

static void self_cases(void)
{
	puts("-- process_vm_readv/writev on the caller");
	char src[32] = "from the same process", dst[32] = { 0 };
	long r = vm_rw(0, getpid(), dst, sizeof(dst), src, sizeof(src));
	printf("readv from itself: %ld [%s]\n", r, dst);

	char a[3], b[5];
	char msg[8] = "ABCDEFGH";
	struct iovec lv[2] = { { a, 3 }, { b, 5 } };
	struct iovec rv[2] = { { msg, 4 }, { msg + 4, 4 } };
	r = rsys(SYS_process_vm_readv, getpid(), lv, 2, rv, 2, 0);
	printf("scatter 4+4 into 3+5: %ld [%.3s|%.5s]\n", r, a, b);
	char out[6] = "uvwxyz";
	struct iovec lw[1] = { { out, 6 } };
	struct iovec rw[3] = { { msg, 2 }, { msg + 3, 0 }, { msg + 5, 3 } };
	r = rsys(SYS_process_vm_writev, getpid(), lw, 1, rw, 3, 0);
	printf("gather 6 into 2+0+3: %ld [%.8s]\n", r, msg);

	/* Short copies: the remote range runs into an unmapped page. */
	char *two = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(two, 'q', 2 * PG);
	munmap(two + PG, PG);
	static char big[2 * PG];
	resv("readv across into an unmapped page", vm_rw(0, getpid(), big, 2 * PG, two + PG - 100, 200));
	resv("readv of an unmapped page", vm_rw(0, getpid(), big, 100, two + PG, 100));
	struct iovec rv2[2] = { { two, 10 }, { two + PG, 10 } };
	struct iovec lv2[1] = { { big, 20 } };
	resv("second remote vector unmapped", rsys(SYS_process_vm_readv, getpid(), lv2, 1, rv2, 2, 0));
	resv("local buffer runs into an unmapped page", vm_rw(0, getpid(), two + PG - 50, 100, src, 100));
	mprotect(rodata_buf, PG, PROT_READ);
	resv("writev into read-only memory", vm_rw(1, getpid(), src, 8, rodata_buf, 8));
	printf("read-only memory unchanged: %s\n", rodata_buf);

	puts("-- errors");
	res("flags 1", rsys(SYS_process_vm_readv, getpid(), lv, 2, rv, 2, 1));
	res("1025 local vectors", rsys(SYS_process_vm_readv, getpid(), lv, 1025, rv, 2, 0));
	res("1025 remote vectors", rsys(SYS_process_vm_readv, getpid(), lv, 2, rv, 1025, 0));
	res("local vectors unreadable", rsys(SYS_process_vm_readv, getpid(), (void *)8, 2, rv, 2, 0));
	res("remote vectors unreadable", rsys(SYS_process_vm_readv, getpid(), lv, 2, (void *)8, 2, 0));
	struct iovec neg = { msg, (size_t)-1 };
	res("negative local length", rsys(SYS_process_vm_readv, getpid(), &neg, 1, rv, 2, 0));
	res("negative remote length", rsys(SYS_process_vm_readv, getpid(), lv, 2, &neg, 1, 0));
	struct iovec kern = { (void *)0xffff800000000000UL, 8 };
	res("local buffer in kernel space", rsys(SYS_process_vm_readv, getpid(), &kern, 1, rv, 2, 0));
	res("remote buffer in kernel space", rsys(SYS_process_vm_readv, getpid(), lv, 2, &kern, 1, 0));
	struct iovec empty = { msg, 0 };
	resv("nothing to copy locally (pid -1)", rsys(SYS_process_vm_readv, -1, &empty, 1, rv, 2, 0));
	resv("nothing to copy remotely (pid -1)", rsys(SYS_process_vm_readv, -1, lv, 2, &empty, 1, 0));
	res("pid -1", rsys(SYS_process_vm_readv, -1, lv, 2, rv, 2, 0));
	res("pid 0", rsys(SYS_process_vm_readv, 0, lv, 2, rv, 2, 0));
	res("no such pid", rsys(SYS_process_vm_readv, 4194304, lv, 2, rv, 2, 0));
}

static void child_cases(void)
{
	puts("-- a fork child");
	int to_child[2], to_parent[2];
	if (pipe(to_child) || pipe(to_parent))
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		strcpy(child_buf, "the child changed this");
		if (write(to_parent[1], "r", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(1);
		printf("child sees: [%s]\n", child_buf);
		fflush(stdout);
		prctl(PR_SET_DUMPABLE, 0);
		if (write(to_parent[1], "d", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	char c, got[64] = { 0 };
	if (read(to_parent[0], &c, 1) != 1)
		return;
	long r = vm_rw(0, pid, got, sizeof(got), child_buf, sizeof(child_buf));
	printf("readv from the child: %ld [%s]\n", r, got);
	char news[] = "written by the parent";
	r = vm_rw(1, pid, news, sizeof(news), child_buf, sizeof(news));
	printf("writev into the child: %ld\n", r);
	printf("the parent's own copy: [%s]\n", child_buf);
	if (write(to_child[1], "g", 1) != 1 || read(to_parent[0], &c, 1) != 1)
		return;
	/* Not dumpable: only CAP_SYS_PTRACE may (root natively and in cocoon
	 * alike; the runs of this test as another user see EPERM). */
	memset(got, 0, sizeof(got));
	r = vm_rw(0, pid, got, 8, child_buf, 8);
	printf("readv from a child that is not dumpable: %s\n", r == 8 || r == -EPERM ? "8 or EPERM" : rstr(r));
	if (write(to_child[1], "x", 1) != 1)
		return;
	siginfo_t si;
	waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	res("readv from a zombie", vm_rw(0, pid, got, 8, child_buf, 8));
	waitpid(pid, NULL, 0);
	res("readv from a reaped child", vm_rw(0, pid, got, 8, child_buf, 8));
}

int main(void)
{
	mincore_cases();
	self_cases();
	child_cases();
	return expect_failures ? 1 : 0;
}
