/* membarrier: QUERY, the registrations and their EPERM before, flag
 * checks, GET_REGISTRATIONS, inheritance by fork and loss at execve, and
 * barriers while another thread shares the address space (a CLONE_VM
 * child spinning). */

#include "util.h"
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

enum {
	QUERY = 0, GLOBAL = 1, GLOBAL_EXPEDITED = 2, REGISTER_GLOBAL_EXPEDITED = 4,
	PRIVATE_EXPEDITED = 8, REGISTER_PRIVATE_EXPEDITED = 16, PRIVATE_EXPEDITED_SYNC_CORE = 32,
	REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64, PRIVATE_EXPEDITED_RSEQ = 128,
	REGISTER_PRIVATE_EXPEDITED_RSEQ = 256, GET_REGISTRATIONS = 512,
};

static long mb(int cmd, unsigned flags, int cpu) { return rsys(SYS_membarrier, cmd, flags, cpu); }

static volatile int stop, spinning;
static int spinner(void *arg)
{
	spinning = 1;
	while (!stop)
		__asm__ volatile("pause" ::: "memory");
	return 0;
}

int main(int argc, char **argv)
{
	bool has_get = mb(QUERY, 0, 0) & GET_REGISTRATIONS; /* Linux 6.3 */
	if (argc > 1) { /* after execve */
		res("after exec: PRIVATE_EXPEDITED", mb(PRIVATE_EXPEDITED, 0, 0));
		if (has_get)
			resv("after exec: registrations", mb(GET_REGISTRATIONS, 0, 0));
		return 0;
	}
	long q = mb(QUERY, 0, 0);
	int want = GLOBAL | GLOBAL_EXPEDITED | REGISTER_GLOBAL_EXPEDITED | PRIVATE_EXPEDITED |
		   REGISTER_PRIVATE_EXPEDITED | PRIVATE_EXPEDITED_SYNC_CORE | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
	printf("query has the commands glibc, Go and liburcu use: %s\n", (q & want) == want ? "yes" : "no");
	res("query with flags", mb(QUERY, 1, 0));
	res("unknown command 3", mb(3, 0, 0));
	res("unknown command 1024", mb(1024, 0, 0));
	res("unknown command -1", mb(-1, 0, 0));
	res("PRIVATE_EXPEDITED before registering", mb(PRIVATE_EXPEDITED, 0, 0));
	res("PRIVATE_EXPEDITED_SYNC_CORE before registering", mb(PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
	res("PRIVATE_EXPEDITED_RSEQ before registering", mb(PRIVATE_EXPEDITED_RSEQ, 0, 0));
	res("PRIVATE_EXPEDITED_RSEQ flag CPU before registering", mb(PRIVATE_EXPEDITED_RSEQ, 1, 0));
	res("PRIVATE_EXPEDITED_RSEQ flag 2", mb(PRIVATE_EXPEDITED_RSEQ, 2, 0));
	res("PRIVATE_EXPEDITED flag CPU", mb(PRIVATE_EXPEDITED, 1, 0));
	res("GLOBAL_EXPEDITED unregistered", mb(GLOBAL_EXPEDITED, 0, 0));
	res("GLOBAL", mb(GLOBAL, 0, 0));
	if (has_get)
		resv("registrations", mb(GET_REGISTRATIONS, 0, 0));
	res("REGISTER_PRIVATE_EXPEDITED", mb(REGISTER_PRIVATE_EXPEDITED, 0, 0));
	res("PRIVATE_EXPEDITED", mb(PRIVATE_EXPEDITED, 0, 0));
	res("PRIVATE_EXPEDITED_SYNC_CORE still", mb(PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
	res("REGISTER_PRIVATE_EXPEDITED_SYNC_CORE", mb(REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
	res("PRIVATE_EXPEDITED_SYNC_CORE", mb(PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
	res("REGISTER_GLOBAL_EXPEDITED", mb(REGISTER_GLOBAL_EXPEDITED, 0, 0));
	res("GLOBAL_EXPEDITED", mb(GLOBAL_EXPEDITED, 0, 0));
	res("REGISTER_PRIVATE_EXPEDITED again", mb(REGISTER_PRIVATE_EXPEDITED, 0, 0));
	if (has_get)
		resv("registrations", mb(GET_REGISTRATIONS, 0, 0));

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		res("fork child: PRIVATE_EXPEDITED", mb(PRIVATE_EXPEDITED, 0, 0));
		if (has_get)
			resv("fork child: registrations", mb(GET_REGISTRATIONS, 0, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);

	/* Another thread in our address space runs guest code meanwhile. */
	char *stack = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid = clone(spinner, stack + 64 * 1024, CLONE_VM | SIGCHLD, NULL);
	while (!spinning)
		__asm__ volatile("pause" ::: "memory");
	res("PRIVATE_EXPEDITED with a CLONE_VM sharer", mb(PRIVATE_EXPEDITED, 0, 0));
	res("PRIVATE_EXPEDITED_SYNC_CORE with a CLONE_VM sharer", mb(PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
	res("GLOBAL_EXPEDITED with a CLONE_VM sharer", mb(GLOBAL_EXPEDITED, 0, 0));
	stop = 1;
	waitpid(pid, NULL, 0);

	fflush(stdout);
	execl("/proc/self/exe", "membarrier_basic", "after-exec", (char *)NULL);
	printf("exec failed\n");
	return 1;
}
