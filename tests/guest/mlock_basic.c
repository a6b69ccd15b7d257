/* mlock, mlock2, munlock, mlockall, munlockall and MAP_LOCKED: VmLck in
 * /proc/self/status, ranges with holes (ENOMEM after changing the part
 * before), unaligned starts, bad flags; then without CAP_IPC_LOCK (a
 * child that left root, or any user): RLIMIT_MEMLOCK gives ENOMEM,
 * EAGAIN for mmap, EPERM at zero. Locks are not inherited by fork. */
#include "util.h"
#include <stdbool.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

/* Read without stdio: no allocation (a mapping that MCL_FUTURE would
 * lock) while the count is taken. */
static long vmlck(void)
{
	static char buf[8192];
	int fd = open("/proc/self/status", O_RDONLY);
	long n = 0, r;
	while (fd >= 0 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	if (fd >= 0)
		close(fd);
	buf[n] = 0;
	char *v = strstr(buf, "VmLck:");
	return v ? atol(v + 6) : -1;
}

static void show(const char *what)
{
	printf("%s: VmLck %ld kB\n", what, vmlck());
}

static char *map(size_t pages, int extra)
{
	return mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
}

static void basics(void)
{
	show("start");
	char *p = map(8, 0);
	res("mlock 3 pages", rsys(SYS_mlock, p, 3 * PAGE));
	show("3 pages");
	res("mlock overlapping", rsys(SYS_mlock, p + PAGE, 3 * PAGE));
	show("4 pages");
	res("munlock middle page", rsys(SYS_munlock, p + PAGE, PAGE));
	show("3 pages");
	res("mlock unaligned start, 2 bytes over a page boundary", rsys(SYS_mlock, p + 5 * PAGE + PAGE - 1, 2));
	show("5 pages");
	res("mlock2 ONFAULT", rsys(SYS_mlock2, p + 7 * PAGE, PAGE, MLOCK_ONFAULT));
	show("6 pages");
	res("mlock2 bad flags", rsys(SYS_mlock2, p, PAGE, 2));
	res("mlock length 0", rsys(SYS_mlock, p, 0));
	res("munlock all 8", rsys(SYS_munlock, p, 8 * PAGE));
	show("none");
	/* A hole: the part before it stays locked. */
	munmap(p + 4 * PAGE, PAGE);
	res("mlock over a hole", rsys(SYS_mlock, p, 8 * PAGE));
	show("before the hole");
	res("munlock over a hole", rsys(SYS_munlock, p, 8 * PAGE));
	show("after munlock");
	res("mlock in a hole", rsys(SYS_mlock, p + 4 * PAGE, PAGE));
	res("mlock wrapping", rsys(SYS_mlock, p, -2 * (long)PAGE));
	res("mlock PROT_NONE", (mprotect(p, PAGE, PROT_NONE), rsys(SYS_mlock, p, PAGE)));
	show("PROT_NONE page");
	res("munmap locked", rsys(SYS_munmap, p, 4 * PAGE));
	show("unmapped");
	munmap(p + 5 * PAGE, 3 * PAGE);

	char *q = map(4, MAP_LOCKED);
	printf("mmap MAP_LOCKED: %s\n", q == MAP_FAILED ? "failed" : "ok");
	show("MAP_LOCKED 4 pages");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		show("fork child");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	munmap(q, 4 * PAGE);

	res("mlockall 0", rsys(SYS_mlockall, 0));
	res("mlockall ONFAULT alone", rsys(SYS_mlockall, MCL_ONFAULT));
	res("mlockall 8", rsys(SYS_mlockall, 8));
	res("mlockall CURRENT", rsys(SYS_mlockall, MCL_CURRENT));
	printf("everything locked: %s\n", vmlck() > 100 ? "yes" : "no");
	res("munlockall", rsys(SYS_munlockall));
	show("munlockall");
	res("mlockall FUTURE", rsys(SYS_mlockall, MCL_FUTURE));
	show("future only");
	q = map(2, 0);
	show("new mapping");
	res("munlockall", rsys(SYS_munlockall));
	q = map(2, 0);
	show("after munlockall, new mapping");
}

static void limited(void)
{
	struct rlimit rl = { 8 * PAGE, 8 * PAGE };
	lres("setrlimit MEMLOCK 8 pages", setrlimit(RLIMIT_MEMLOCK, &rl));
	char *p = map(16, 0);
	res("mlock 16 pages", rsys(SYS_mlock, p, 16 * PAGE));
	res("mlock 6 pages", rsys(SYS_mlock, p, 6 * PAGE));
	res("mlock the same 6 again", rsys(SYS_mlock, p, 6 * PAGE));
	res("mlock 4 more (over)", rsys(SYS_mlock, p + 6 * PAGE, 4 * PAGE));
	res("mlock 2 more", rsys(SYS_mlock, p + 6 * PAGE, 2 * PAGE));
	show("8 pages");
	char *q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	printf("MAP_LOCKED over the limit: %s\n", q == MAP_FAILED ? errname(errno) : "ok");
	res("mlockall CURRENT over the limit", rsys(SYS_mlockall, MCL_CURRENT));
	res("munlock", rsys(SYS_munlock, p, 16 * PAGE));
	res("mlockall FUTURE", rsys(SYS_mlockall, MCL_FUTURE));
	q = mmap(NULL, 16 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap over the limit with MCL_FUTURE: %s\n", q == MAP_FAILED ? errname(errno) : "ok");
	rsys(SYS_munlockall);
	rl.rlim_cur = 0;
	lres("setrlimit MEMLOCK 0", setrlimit(RLIMIT_MEMLOCK, &rl));
	res("mlock with limit 0", rsys(SYS_mlock, p, PAGE));
	res("mlockall with limit 0", rsys(SYS_mlockall, MCL_CURRENT));
	q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	printf("MAP_LOCKED with limit 0: %s\n", q == MAP_FAILED ? errname(errno) : "ok");
	res("munlock with limit 0", rsys(SYS_munlock, p, PAGE));
	res("munlockall with limit 0", rsys(SYS_munlockall));
}

int main(void)
{
	if (geteuid() == 0) {
		basics();
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			/* Leaving root drops CAP_IPC_LOCK. */
			rsys(SYS_setresuid, 1000, 1000, 1000);
			limited();
			fflush(stdout);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	} else {
		limited();
	}
	return 0;
}
