/* Security test, run only under cocoon (never natively by the runner):
 *   cocoon run --root ROOT -- /escape_syscall.glibc-static CANARY VICTIM MODE
 * ROOT holds just this binary; CANARY is a host file outside ROOT whose
 * content the runner knows; VICTIM is the pid of a host process the
 * runner started. The guest tries to reach them with system calls made
 * from its own code, by every entry the CPU offers:
 *   syscall  - the `syscall` instruction: open/read the canary, kill and
 *              ptrace the victim, process_vm_readv from it
 *   int80    - `int $0x80`, the i386 entry (numbers and registers differ)
 *   sysenter - `sysenter` (Intel CPUs take it as an i386 call; it cannot
 *              return to 64-bit code, so the guest is expected to die)
 *   fds      - reads every descriptor 3..1023 (the runner starts cocoon
 *              with the canary open on fd 9: it must not reach the guest)
 * Anything read is printed, so the runner can see a leak of the canary's
 * content; success of a call that must fail prints ESCAPED. At the end it
 * prints "contained". */
// ESCAPE-RUN: syscall
// ESCAPE-RUN: int80
// ESCAPE-RUN: sysenter may-die
// ESCAPE-RUN: fds
#include "util.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>

static char buf[4096];
static char path32[4096];   /* in .bss: below 4 GiB in a non-PIE static binary */

static void show_read(const char *how, long fd)
{
	long n = rsys(SYS_read, fd, buf, 256);
	if (n > 0) {
		buf[n] = 0;
		printf("%s: read %ld bytes: [%s]\n", how, n, buf);
	} else {
		printf("%s: read %s\n", how, rstr(n));
	}
}

static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 4) {
		printf("usage: escape_syscall CANARY VICTIM MODE\n");
		return 2;
	}
	const char *canary = argv[1];
	long victim = atol(argv[2]);
	const char *mode = argv[3];
	int escaped = 0;

	if (!strcmp(mode, "syscall")) {
		long fd = rsys(SYS_open, canary, O_RDONLY);
		printf("open canary: %s\n", rstr(fd));
		if (fd >= 0) {
			show_read("canary", fd);
			escaped = 1;
		}
		fd = rsys(SYS_openat, AT_FDCWD, canary, O_RDONLY);
		printf("openat canary: %s\n", rstr(fd));
		if (fd >= 0) {
			show_read("canary", fd);
			escaped = 1;
		}
		fd = rsys(SYS_open, "/etc/passwd", O_RDONLY);
		printf("open /etc/passwd (not in the root): %s\n", rstr(fd));
		if (fd >= 0) {
			show_read("/etc/passwd", fd);
			escaped = 1;
		}
		long r = rsys(SYS_kill, victim, 0);
		printf("kill(victim, 0): %s\n", rstr(r));
		r = rsys(SYS_kill, victim, SIGKILL);
		printf("kill(victim, SIGKILL): %s\n", rstr(r));
		if (r == 0)
			escaped = 1;
		r = rsys(SYS_ptrace, 16 /* PTRACE_ATTACH */, victim, 0, 0);
		printf("ptrace(ATTACH, victim): %s\n", rstr(r));
		if (r == 0)
			escaped = 1;
		struct iovec local = { buf, 64 }, remote = { (void *)0x400000, 64 };
		r = rsys(SYS_process_vm_readv, victim, &local, 1, &remote, 1, 0);
		printf("process_vm_readv(victim): %s\n", rstr(r));
		if (r > 0)
			escaped = 1;
		r = rsys(SYS_getppid);
		printf("getppid != victim: %s\n", r != victim ? "yes" : "no");
	} else if (!strcmp(mode, "int80")) {
		strcpy(path32, canary);
		long fd = int80(5 /* i386 open */, (long)path32, O_RDONLY, 0);
		printf("int80 open canary: %s\n", rstr(fd));
		if (fd >= 0) {
			escaped = 1;
			long n = int80(3 /* i386 read */, fd, (long)buf, 1000);
			printf("int80 read: %s\n", rstr(n));
			if (n > 0)
				printf("int80 read %ld bytes: [%.*s]\n", n, (int)n, buf);
		}
		long r = int80(37 /* i386 kill */, victim, SIGKILL, 0);
		printf("int80 kill(victim, SIGKILL): %s\n", rstr(r));
		if (r == 0)
			escaped = 1;
		r = int80(20 /* i386 getpid */, 0, 0, 0);
		printf("int80 getpid: %s\n", rstr(r));
		strcpy(path32, "/etc/passwd");
		fd = int80(5, (long)path32, O_RDONLY, 0);
		printf("int80 open /etc/passwd: %s\n", rstr(fd));
		if (fd >= 0)
			escaped = 1;
	} else if (!strcmp(mode, "sysenter")) {
		/* i386 kill(victim, SIGKILL) through sysenter. On AMD this is #UD
		 * (SIGILL); on Intel the call runs and the return to 32-bit mode
		 * kills us. Either way the victim must live. */
		long ret;
		__asm__ volatile("mov %%rsp, %%rbp\n\tsysenter"
			: "=a"(ret) : "a"(37L), "b"(victim), "c"((long)SIGKILL) : "rbp", "memory");
		printf("sysenter returned %s\n", rstr(ret));
	} else if (!strcmp(mode, "fds")) {
		int open_fds = 0;
		for (int fd = 3; fd < 1024; fd++) {
			long r = rsys(SYS_pread64, fd, buf, sizeof buf - 1, 0);
			if (r == -EBADF)
				continue;
			open_fds++;
			if (r > 0) {
				buf[r] = 0;
				printf("fd %d: read %ld bytes: [%s]\n", fd, r, buf);
			} else {
				printf("fd %d: %s\n", fd, rstr(r));
			}
		}
		printf("open descriptors above 2: %d\n", open_fds);
	} else {
		printf("unknown mode %s\n", mode);
		return 2;
	}
	if (escaped) {
		printf("ESCAPED\n");
		return 1;
	}
	printf("contained\n");
	return 0;
}
