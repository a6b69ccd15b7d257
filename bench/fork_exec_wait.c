/* fork, exec of a tiny static program (argv[1]: bench/run.sh builds one
 * that only calls exit; without it this binary re-runs itself, which
 * exits at the top of main), wait. Median of 15 rounds of ~50 ms (at
 * least 10 each), in µs per fork+exec+wait. */
#include "bench.h"
#include <sys/wait.h>

static char *prog[3];
extern char **environ;

static void run(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			execve(prog[0], prog, environ);
			_exit(127);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
			abort();
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--exit"))
		_exit(0);
	if (argc > 1) {
		prog[0] = argv[1];
	} else {
		prog[0] = argv[0];   /* an absolute path when run by bench/run.sh */
		prog[1] = "--exit";
	}
	printf("fork_exec_wait %.1f us/op\n", bench_adaptive(run, 15, 50, 10, 2000) / 1000);
	return 0;
}
