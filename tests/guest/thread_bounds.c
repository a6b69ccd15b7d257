/* Bounds a thread's creation and its futexes check: clone's TLS base
 * must be a user address (EPERM, the clone fails and nothing dies), as
 * for arch_prctl(ARCH_SET_FS); a private futex may sit on the last user
 * page; get_robust_list reads a sibling thread's list head. */
#include "util.h"
#include <dirent.h>
#include <pthread.h>
#include <sched.h>

#define ARCH_SET_FS_ 0x1002 /* asm/prctl.h, which musl lacks */
#define ARCH_GET_FS_ 0x1003
#define FUTEX_WAKE_PRIVATE_ 129 /* linux/futex.h, which musl lacks */

static char child_stack[65536] __attribute__((aligned(64)));

/* A raw thread clone whose child only exits: the error, or "ok". */
static const char *clone_tls(unsigned long tls)
{
	const unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				    CLONE_SYSVSEM | CLONE_SETTLS;
	long ret;
	register long r10 __asm__("r10") = 0, r8 __asm__("r8") = (long)tls;
	__asm__ volatile("syscall\n\ttest %%rax,%%rax\n\tjnz 1f\n\tmov $60,%%eax\n\txor %%edi,%%edi\n\tsyscall\n\thlt\n1:"
			 : "=a"(ret)
			 : "a"(SYS_clone), "D"(flags), "S"(child_stack + sizeof(child_stack)), "d"(0), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	if (ret < 0)
		return errname((int)-ret);
	usleep(100000); /* let it exit before the stack is reused */
	return "ok";
}

static uint64_t sibling_head;
static volatile int sibling_ready, sibling_stop;

static void *sibling(void *arg)
{
	uint64_t len;
	rsys(SYS_get_robust_list, 0, &sibling_head, &len);
	sibling_ready = 1;
	while (!sibling_stop)
		usleep(1000);
	return arg;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	static const unsigned long bases[] = { 0x800000000000UL, 0x8000000000000000UL, 0x7ffffffff000UL,
					       0xffffffffff600000UL, 0x7ffffffe0000UL };
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		printf("clone(CLONE_SETTLS, %#lx): %s\n", bases[i], clone_tls(bases[i]));
	/* Nothing of libc may run while FS is elsewhere: raw calls only. */
	uint64_t fs;
	rsys(SYS_arch_prctl, ARCH_GET_FS_, &fs);
	long bad = rsys(SYS_arch_prctl, ARCH_SET_FS_, 0x7ffffffff000UL);
	long good = rsys(SYS_arch_prctl, ARCH_SET_FS_, 0x7ffffffe0000UL);
	long back = rsys(SYS_arch_prctl, ARCH_SET_FS_, fs);
	res("arch_prctl(ARCH_SET_FS, 0x7ffffffff000)", bad);
	res("arch_prctl(ARCH_SET_FS, 0x7ffffffe0000)", good);
	res("arch_prctl(ARCH_SET_FS, back)", back);

	res("FUTEX_WAKE at 0x7ffffffff000", rsys(SYS_futex, 0x7ffffffff000UL, FUTEX_WAKE_PRIVATE_, 1));
	res("FUTEX_WAKE at 0x7ffffffff004", rsys(SYS_futex, 0x7ffffffff004UL, FUTEX_WAKE_PRIVATE_, 1));
	res("FUTEX_WAKE at 0x7fffffffeffc", rsys(SYS_futex, 0x7fffffffeffcUL, FUTEX_WAKE_PRIVATE_, 1));

	pthread_t t;
	pthread_create(&t, NULL, sibling, NULL);
	while (!sibling_ready)
		usleep(1000);
	/* The sibling's tid: glibc's pthread_t holds it; ask the kernel
	 * through /proc instead, portably: the task that is not us. */
	pid_t tid = -1, me = (pid_t)syscall(SYS_gettid);
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != me)
			tid = atoi(e->d_name);
	if (d)
		closedir(d);
	uint64_t head = 0, len = 0;
	res("get_robust_list(sibling)", rsys(SYS_get_robust_list, tid, &head, &len));
	printf("its length: %lu, its head as it sees it: %s\n", (unsigned long)len,
	       head == sibling_head ? "yes" : "no");
	res("get_robust_list(no such thread)", rsys(SYS_get_robust_list, 99999, &head, &len));
	sibling_stop = 1;
	pthread_join(t, NULL);
	return 0;
}
