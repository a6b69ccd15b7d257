/* One signal to oneself: raise() (libc: kill/tgkill, with its mask
 * changes), the kernel builds the frame, the handler runs, rt_sigreturn.
 * 20 rounds of about 50 ms each; the median round, in µs per signal. */
#include "bench.h"
#include <signal.h>

static volatile long handled;
static void handler(int s) { (void)s; handled++; }

static void run(long n)
{
	for (long i = 0; i < n; i++)
		raise(SIGUSR1);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return 1;
	double ns = bench_adaptive(run, 20, 50, 10, 200000);
	if (handled == 0)
		return 1;
	printf("sig_raise %.2f us/signal\n", ns / 1000);
	return 0;
}
