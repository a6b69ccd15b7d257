/* Signal handlers shared between processes: clone(CLONE_VM|CLONE_SIGHAND)
 * without CLONE_THREAD gives parent and child one table of handlers
 * (Linux's sighand_struct), so a sigaction in one is seen by the other,
 * a one-shot handler run by one is reset for both, and /proc shows it;
 * SIG_IGN drops pending signals of the caller only. exec gives the
 * execing child a copy of its own (Linux's unshare_sighand): what it
 * does then is not seen by the parent, nor does its reset of handlers
 * touch the parent's. The table outlives the child.
 *
 * The child shares our memory (errno and stdio included), so it makes
 * raw calls only, one command at a time, answered through a pipe. */
#include "proc_util.h"
#include <sched.h>

struct kact {
	uint64_t handler, flags, restorer, mask;
};

static volatile int hits1, hits2, hits3;
static volatile int hit_pid;
static void h1(int s) { hits1++; hit_pid = (int)rsys(SYS_getpid); }
static void h2(int s) { hits2++; hit_pid = (int)rsys(SYS_getpid); }
static void h3(int s) { hits3++; hit_pid = (int)rsys(SYS_getpid); }

static struct kact base; /* our libc's action for SIGUSR1: its restorer */
static int cmd[2], rep[2];
static struct kact child_seen;

static long kaction(int sig, const struct kact *act, struct kact *old)
{
	return rsys(SYS_rt_sigaction, sig, act, old, 8);
}

static struct kact with_handler(void (*h)(int), uint64_t extra_flags)
{
	struct kact a = base;
	a.handler = (uint64_t)(uintptr_t)h;
	a.flags |= extra_flags;
	return a;
}

static struct kact plain(uint64_t handler)
{
	return (struct kact){ .handler = handler };
}

static const char *handler_name(uint64_t h)
{
	if (h == (uint64_t)(uintptr_t)SIG_DFL)
		return "SIG_DFL";
	if (h == (uint64_t)(uintptr_t)SIG_IGN)
		return "SIG_IGN";
	if (h == (uint64_t)(uintptr_t)h1)
		return "h1";
	if (h == (uint64_t)(uintptr_t)h2)
		return "h2";
	if (h == (uint64_t)(uintptr_t)h3)
		return "h3";
	return "other";
}

static const char *ours(int sig)
{
	struct kact a;
	return kaction(sig, NULL, &a) ? "error" : handler_name(a.handler);
}

static char exe_arg[] = "sighand-exec";
static char fd_args[2][16];

/* The sharing child: one command per byte. */
static int child_main(void *arg)
{
	for (;;) {
		char c;
		if (rsys(SYS_read, cmd[0], &c, 1) != 1)
			return 1;
		struct kact a;
		switch (c) {
		case 'a': /* SIGUSR2 to h2 */
			a = with_handler(h2, 0);
			kaction(SIGUSR2, &a, NULL);
			break;
		case 'b': /* what is SIGUSR1 now */
			kaction(SIGUSR1, NULL, &child_seen);
			break;
		case 'k': /* SIGHUP to ourselves */
			rsys(SYS_kill, rsys(SYS_getpid), SIGHUP);
			break;
		case 'i': /* SIGUSR1 ignored */
			a = plain((uint64_t)(uintptr_t)SIG_IGN);
			kaction(SIGUSR1, &a, NULL);
			break;
		case 'e': { /* exec: the new image answers */
			char *argv[] = { (char *)self_exe, exe_arg, fd_args[0], fd_args[1], NULL };
			char *envp[] = { NULL };
			rsys(SYS_execve, self_exe, argv, envp);
			return 2;
		}
		case 'q':
			return 0;
		}
		rsys(SYS_write, rep[1], &c, 1);
	}
}

static void ask(char c)
{
	(void)!write(cmd[1], &c, 1);
	(void)!read(rep[0], &c, 1);
}

/* The child after its exec: what it inherited, then changes of its own. */
static int exec_main(int cmd_fd, int rep_fd)
{
	printf("exec'd child: SIGUSR1 %s, SIGUSR2 %s, SIGHUP %s\n", ours(SIGUSR1), ours(SIGUSR2), ours(SIGHUP));
	struct kact a = plain((uint64_t)(uintptr_t)SIG_DFL);
	res("exec'd child: SIGUSR1 to SIG_DFL", kaction(SIGUSR1, &a, NULL));
	a = plain((uint64_t)(uintptr_t)SIG_IGN);
	res("exec'd child: SIGTERM to SIG_IGN", kaction(SIGTERM, &a, NULL));
	res("exec'd child: unshare SIGHAND", rsys(SYS_unshare, CLONE_SIGHAND));
	fflush(stdout);
	char c = 'e';
	(void)!write(rep_fd, &c, 1);
	(void)!read(cmd_fd, &c, 1);
	return 0;
}

/* Whether /proc/self/status's line `key` has sig's bit. */
static int status_has(const char *key, int sig)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	int found = -1;
	size_t n = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			found = (strtoull(line + n + 1, NULL, 16) >> (sig - 1)) & 1;
	fclose(f);
	return found;
}

static char child_stack[65536] __attribute__((aligned(16)));

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	if (argc == 4 && !strcmp(argv[1], exe_arg))
		return exec_main(atoi(argv[2]), atoi(argv[3]));
	if (pipe(cmd) || pipe(rep))
		return 1;
	snprintf(fd_args[0], sizeof(fd_args[0]), "%d", cmd[0]);
	snprintf(fd_args[1], sizeof(fd_args[1]), "%d", rep[1]);
	struct sigaction sa = { .sa_handler = h1 };
	sigaction(SIGUSR1, &sa, NULL);
	kaction(SIGUSR1, NULL, &base);
	int me = getpid();

	int pid = clone(child_main, child_stack + sizeof(child_stack), CLONE_VM | CLONE_SIGHAND | SIGCHLD, NULL);
	if (pid < 0) {
		printf("clone VM|SIGHAND: %s\n", errname(errno));
		return 1;
	}
	/* The child's sigaction is ours, and its handler runs here. */
	ask('a');
	printf("parent's SIGUSR2 after the child set it: %s\n", ours(SIGUSR2));
	hits2 = 0;
	raise(SIGUSR2);
	expect(hits2 == 1 && hit_pid == me, "the child's handler ran in the parent");
	/* Ours is the child's. */
	struct kact a = with_handler(h3, 0);
	kaction(SIGUSR1, &a, NULL);
	ask('b');
	printf("child's SIGUSR1 after the parent set it: %s\n", handler_name(child_seen.handler));

	/* A one-shot handler run by the child is reset for both. */
	a = with_handler(h1, SA_RESETHAND);
	kaction(SIGHUP, &a, NULL);
	hits1 = 0;
	ask('k');
	expect(hits1 == 1 && hit_pid == pid, "the child ran the one-shot SIGHUP handler");
	printf("parent's SIGHUP after the child's one-shot handler ran: %s\n", ours(SIGHUP));

	/* SIG_IGN set by the child drops its own pending signals, not ours;
	 * ours is then ignored at delivery. */
	sigset_t usr1, pending;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	raise(SIGUSR1);
	ask('i');
	printf("parent's SIGUSR1 after the child ignored it: %s\n", ours(SIGUSR1));
	printf("/proc/self/status: SigIgn has SIGUSR1 %d, SigCgt has SIGUSR2 %d\n", status_has("SigIgn", SIGUSR1),
	       status_has("SigCgt", SIGUSR2));
	sigpending(&pending);
	printf("parent's SIGUSR1 still pending: %d\n", sigismember(&pending, SIGUSR1));
	hits1 = hits3 = 0;
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	sigpending(&pending);
	printf("unblocked: pending %d, handlers run %d\n", sigismember(&pending, SIGUSR1), hits1 + hits3);
	res("parent: unshare SIGHAND while shared", rsys(SYS_unshare, CLONE_SIGHAND));

	/* exec: the child's handlers become its own. Our SIGUSR2 handler is
	 * not reset by its exec, and what it does next is not seen here. */
	a = plain((uint64_t)(uintptr_t)SIG_IGN);
	kaction(SIGHUP, &a, NULL);
	ask('e');
	printf("after the child's exec: parent's SIGUSR1 %s, SIGUSR2 %s, SIGTERM %s, SIGHUP %s\n", ours(SIGUSR1),
	       ours(SIGUSR2), ours(SIGTERM), ours(SIGHUP));
	res("parent: unshare SIGHAND after the child's exec", rsys(SYS_unshare, CLONE_SIGHAND));
	char q = 'q';
	(void)!write(cmd[1], &q, 1);
	int st;
	waitpid(pid, &st, 0);
	printf("child: %s\n", status_str(st));

	/* A sharing child that exits and is reaped leaves the table to us. */
	pid = clone(child_main, child_stack + sizeof(child_stack), CLONE_VM | CLONE_SIGHAND | SIGCHLD, NULL);
	if (pid < 0)
		return 1;
	a = plain((uint64_t)(uintptr_t)SIG_DFL);
	kaction(SIGUSR2, &a, NULL);
	ask('a');
	(void)!write(cmd[1], &q, 1);
	waitpid(pid, &st, 0);
	printf("second child: %s\n", status_str(st));
	hits2 = 0;
	raise(SIGUSR2);
	printf("after it was reaped: SIGUSR2 %s, its handler ran %d\n", ours(SIGUSR2), hits2);
	return expect_failures != 0;
}
