/* Security test, run only under cocoon:
 *   cocoon run --root ROOT -- /escape_stubjump.glibc-static CANARY VICTIM MODE
 * The stub's code sits at STUB_BASE in every guest host-process, and the
 * seccomp filter lets a few system calls through when they are made from
 * there. A guest can jump into it with registers of its choosing. MODE:
 *   count        print how many `0f 05` (syscall) byte pairs the first
 *                STUB_CODE_MAX bytes of the stub hold
 *   SITE:KIND    jump to the SITE-th of them with registers set for KIND:
 *                open   - open(CANARY) then read it (through the same site)
 *                kill   - kill(VICTIM, SIGKILL)
 *                mmap   - mmap of the memory file (its fd number is in the
 *                         orders page) MAP_SHARED
 *                mprotect - make the stub's code page writable
 *   direct       ordinary (trapped) calls on the stub's ranges: mprotect,
 *                MAP_FIXED over them, munmap; the stub must stay intact
 *   write_code / write_orders   store into the stub's code or orders page
 * Acceptable outcomes: the call is trapped and handled as the guest's own
 * (open fails inside ROOT, kill finds no such process, ...), or the guest
 * dies, or it hangs in the stub (the runner's timeout). Never: the canary
 * read, the victim killed, a host mapping or protection change.
 * The stub's return path is unknown, so the jump leaves the stack and rbp
 * full of the address to come back to, and restores everything after. */
#include "util.h"
#include "../../stub/stub_abi.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>

static char buf[512];
unsigned long jump_saved[8];
/* Jump to `site` with rax = r[0] and rdi, rsi, rdx, r10, r8, r9 = r[1..6];
 * returns rax if control ever comes back. */
long do_jump(unsigned long site, const long *r);

__asm__(
	".text\n"
	".globl do_jump\n"
	"do_jump:\n"
	"	mov %rbx, jump_saved+0(%rip)\n"
	"	mov %rbp, jump_saved+8(%rip)\n"
	"	mov %r12, jump_saved+16(%rip)\n"
	"	mov %r13, jump_saved+24(%rip)\n"
	"	mov %r14, jump_saved+32(%rip)\n"
	"	mov %r15, jump_saved+40(%rip)\n"
	"	mov %rsp, jump_saved+48(%rip)\n"
	"	mov %rdi, %r11\n"            /* site */
	"	sub $1024, %rsp\n"
	"	and $-16, %rsp\n"
	"	lea jump_back(%rip), %rcx\n"
	"	xor %ebx, %ebx\n"
	"1:	mov %rcx, (%rsp,%rbx,8)\n"   /* fill 1 KiB of stack with the way back */
	"	inc %rbx\n"
	"	cmp $128, %rbx\n"
	"	jne 1b\n"
	"	lea 512(%rsp), %rbp\n"
	"	mov %rcx, %rbx\n"
	"	mov %rcx, %r12\n"
	"	mov %rcx, %r13\n"
	"	mov %rcx, %r14\n"
	"	mov %rcx, %r15\n"
	"	push %rcx\n"
	"	mov 0(%rsi), %rax\n"
	"	mov 8(%rsi), %rdi\n"
	"	mov 32(%rsi), %r10\n"
	"	mov 40(%rsi), %r8\n"
	"	mov 48(%rsi), %r9\n"
	"	mov 24(%rsi), %rdx\n"
	"	mov 16(%rsi), %rsi\n"
	"	jmp *%r11\n"
	"jump_back:\n"
	"	mov jump_saved+48(%rip), %rsp\n"
	"	mov jump_saved+0(%rip), %rbx\n"
	"	mov jump_saved+8(%rip), %rbp\n"
	"	mov jump_saved+16(%rip), %r12\n"
	"	mov jump_saved+24(%rip), %r13\n"
	"	mov jump_saved+32(%rip), %r14\n"
	"	mov jump_saved+40(%rip), %r15\n"
	"	ret\n");

static long jump6(unsigned long site, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long r[7] = { nr, a1, a2, a3, a4, a5, a6 };
	return do_jump(site, r);
}

static unsigned long find_site(long want, long *count)
{
	const unsigned char *p = (const unsigned char *)STUB_BASE;
	long n = 0;
	unsigned long found = 0;
	for (unsigned long i = 0; i + 1 < STUB_CODE_MAX; i++) {
		if (p[i] == 0x0f && p[i + 1] == 0x05) {
			if (n == want)
				found = STUB_BASE + i;
			n++;
		}
	}
	*count = n;
	return found;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 4) {
		printf("usage: escape_stubjump CANARY VICTIM MODE\n");
		return 2;
	}
	const char *canary = argv[1];
	long victim = atol(argv[2]);
	const char *mode = argv[3];
	int escaped = 0;

	if (!strncmp(mode, "fake:", 5)) {
		/* Native self-test of this probe (the runner's "probe works"
		 * check): map a fake stub whose code is `syscall; ret` and an
		 * orders page naming the canary as the "memory file", then run
		 * MODE. Natively every kind must then escape. */
		mode += 5;
		long r = rsys(SYS_mmap, STUB_BASE, STUB_CODE_MAX + STUB_ORDERS_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
			      MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r != (long)STUB_BASE) {
			printf("cannot map the fake stub: %s\n", rstr(r));
			return 2;
		}
		memcpy((void *)(STUB_BASE + 0x100), "\x0f\x05\xc3", 3);
		((struct stub_orders *)STUB_ORDERS)->memfd = (uint32_t)rsys(SYS_open, canary, O_RDONLY);
	}

	if (!strcmp(mode, "count")) {
		say("reading the stub's code\n");
		long n;
		find_site(-1, &n);
		printf("sites: %ld\n", n);
		return 0;
	}
	if (!strcmp(mode, "direct")) {
		long r = rsys(SYS_mprotect, STUB_BASE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
		printf("mprotect(stub code, RWX): %s\n", rstr(r));
		r = rsys(SYS_mprotect, STUB_ORDERS, PAGE, PROT_READ | PROT_WRITE);
		printf("mprotect(orders page, RW): %s\n", rstr(r));
		r = rsys(SYS_mmap, STUB_BASE, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("mmap MAP_FIXED over stub code: %s\n", rstr(r));
		if (r == (long)STUB_BASE)
			escaped = 1;
		r = rsys(SYS_mmap, STUB_ORDERS, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("mmap MAP_FIXED over orders page: %s\n", rstr(r));
		if (r == (long)STUB_ORDERS)
			escaped = 1;
		r = rsys(SYS_mmap, STUB_THREADS, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("mmap MAP_FIXED_NOREPLACE on thread areas: %s\n", rstr(r));
		r = rsys(SYS_munmap, STUB_BASE, STUB_END - STUB_BASE);
		printf("munmap(whole stub range): %s\n", rstr(r));
		r = rsys(SYS_mremap, STUB_BASE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x100000000UL);
		printf("mremap(stub code -> 4 GiB): %s\n", rstr(r));
		r = rsys(SYS_madvise, STUB_BASE, PAGE, MADV_DONTNEED);
		printf("madvise(stub code, DONTNEED): %s\n", rstr(r));
		/* The guest must still trap into the kernel normally. */
		r = rsys(SYS_getpid);
		printf("getpid after all that: %s\n", r > 0 ? "ok" : rstr(r));
		long fd = rsys(SYS_open, canary, O_RDONLY);
		printf("open canary: %s\n", rstr(fd));
	} else if (!strcmp(mode, "write_code")) {
		say("writing into the stub's code\n");
		*(volatile unsigned char *)STUB_BASE = 0xcc;
		printf("ESCAPED: stub code is writable\n");
		return 1;
	} else if (!strcmp(mode, "write_orders")) {
		say("writing into the orders page\n");
		((volatile struct stub_orders *)STUB_ORDERS)->count = 1;
		printf("ESCAPED: orders page is writable\n");
		return 1;
	} else {
		long want = atol(mode);
		const char *kind = strchr(mode, ':');
		if (!kind) {
			printf("bad mode %s\n", mode);
			return 2;
		}
		kind++;
		long n;
		unsigned long site = find_site(want, &n);
		if (!site) {
			printf("no site %ld (of %ld)\n", want, n);
			printf("contained\n");
			return 0;
		}
		printf("site %ld of %ld, kind %s\n", want, n, kind);
		if (!strcmp(kind, "open")) {
			static char path[4096];
			strcpy(path, canary);
			long fd = jump6(site, SYS_open, (long)path, O_RDONLY, 0, 0, 0, 0);
			printf("open through the stub: %s\n", rstr(fd));
			if (fd >= 0) {
				escaped = 1;   /* the canary is not inside the root */
				long r = jump6(site, SYS_read, fd, (long)buf, sizeof buf - 1, 0, 0, 0);
				printf("read through the stub: %s\n", rstr(r));
				if (r > 0)
					printf("read %ld bytes: [%.*s]\n", r, (int)r, buf);
			}
		} else if (!strcmp(kind, "kill")) {
			long r = jump6(site, SYS_kill, victim, SIGKILL, 0, 0, 0, 0);
			printf("kill through the stub: %s\n", rstr(r));
			if (r == 0)
				escaped = 1;   /* the victim is not a guest process */
		} else if (!strcmp(kind, "mmap")) {
			long memfd = ((volatile struct stub_orders *)STUB_ORDERS)->memfd;
			printf("memory file fd read from the orders page\n");
			long r = jump6(site, SYS_mmap, 0, 1 << 20, PROT_READ, MAP_SHARED, memfd, 0);
			if (r < 0 && r >= -4095) {
				printf("mmap of the memory file through the stub: %s\n", rstr(r));
			} else {
				printf("ESCAPED: mmap of the memory file through the stub mapped something\n");
				escaped = 1;
			}
		} else if (!strcmp(kind, "mprotect")) {
			long r = jump6(site, SYS_mprotect, STUB_BASE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0);
			printf("mprotect through the stub: %s\n", rstr(r));
			if (r == 0) {
				*(volatile unsigned char *)(STUB_BASE + PAGE - 1) ^= 0;
				printf("ESCAPED: the stub's code became writable\n");
				escaped = 1;
			}
		} else {
			printf("bad kind %s\n", kind);
			return 2;
		}
	}
	if (escaped) {
		printf("ESCAPED\n");
		return 1;
	}
	printf("contained\n");
	return 0;
}
