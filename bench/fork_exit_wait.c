/* Process creation: fork, the child _exits at once, the parent waits for
 * it. Median of 15 rounds of ~50 ms (at least 20 forks each), in µs per
 * fork+exit+wait. */
#include "bench.h"
#include <sys/wait.h>

static void run(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			abort();
	}
}

int main(void)
{
	printf("fork_exit_wait %.1f us/op\n", bench_adaptive(run, 15, 50, 20, 5000) / 1000);
	return 0;
}
