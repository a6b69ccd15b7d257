/* SIGPIPE from a kernel pipe without readers: blocked it stays pending
 * (the write says EPIPE), ignored nothing happens, and with the default
 * action the writer dies of it. */
#include "util.h"
#include <signal.h>

int main(void)
{
	int p[2];
	sigset_t set, pend;
	setvbuf(stdout, NULL, _IONBF, 0);
	pipe(p);
	close(p[0]);
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	res("blocked: write", rsys(SYS_write, p[1], "x", 1));
	sigpending(&pend);
	printf("blocked: pending %d\n", sigismember(&pend, SIGPIPE));
	signal(SIGPIPE, SIG_IGN); /* discards the pending one */
	sigpending(&pend);
	printf("ignored: pending %d\n", sigismember(&pend, SIGPIPE));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	res("ignored: write", rsys(SYS_write, p[1], "x", 1));
	signal(SIGPIPE, SIG_DFL);
	say("default: writing\n");
	rsys(SYS_write, p[1], "x", 1);
	say("NO: still alive\n");
	return 0;
}
