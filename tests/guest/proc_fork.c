/* fork: return values and ids, memory copied (globals, heap, stack, a
 * large heap region written by both sides), MAP_SHARED anonymous memory
 * shared and MAP_PRIVATE private, file mappings, the fd table copied with
 * shared offsets, signal state (handlers and mask kept, pending cleared),
 * nested forks, and clone() with SIGCHLD, with another exit signal
 * (__WCLONE) and with none (__WALL). */
#include "proc_util.h"
#include <sched.h>
#include <sys/mman.h>

static int global_var = 100;
static char global_buf[64] = "parent-global";

/* Parent and child meet at each step: each writes a byte to the other
 * and reads one back. */
struct meet { int to_child[2], to_parent[2]; };
static void meet_init(struct meet *m) { pipe(m->to_child); pipe(m->to_parent); }
static void meet_child(struct meet *m) { char c = 1; write(m->to_parent[1], &c, 1); read(m->to_child[0], &c, 1); }
static void meet_parent(struct meet *m) { char c = 1; read(m->to_parent[0], &c, 1); write(m->to_child[1], &c, 1); }
static void meet_close(struct meet *m)
{
	close(m->to_child[0]); close(m->to_child[1]);
	close(m->to_parent[0]); close(m->to_parent[1]);
}

static void basics(void)
{
	printf("-- fork basics\n");
	pid_t me = getpid();
	int p[2];
	pipe(p);
	pid_t pid = xfork();
	if (pid == 0) {
		/* Report relations through the exit status, one bit each. */
		int bits = 0;
		if (getppid() == me) bits |= 1;
		if (getpid() != me) bits |= 2;
		if (getpid() > 0) bits |= 4;
		if (rsys(SYS_gettid) == getpid()) bits |= 8;
		write(p[1], &(pid_t){ getpid() }, sizeof(pid_t));
		_exit(bits);
	}
	expect(pid > 0, "fork returns the child's pid (> 0) in the parent");
	pid_t seen = 0;
	read(p[0], &seen, sizeof seen);
	expect(seen == pid, "the child's getpid == fork's return value");
	int st = reap(pid);
	expect(WIFEXITED(st), "child exited normally");
	int bits = WEXITSTATUS(st);
	expect(bits & 1, "getppid in child == parent's getpid");
	expect(bits & 2, "child's pid differs from the parent's");
	expect(bits & 4, "child's pid > 0");
	expect(bits & 8, "child's gettid == its getpid");
	close(p[0]);
	close(p[1]);
}

static void memory_copied(void)
{
	printf("-- memory is copied\n");
	int stack_var = 7;
	char *heap = malloc(100);
	strcpy(heap, "parent-heap");
	struct meet m;
	meet_init(&m);
	pid_t pid = xfork();
	if (pid == 0) {
		global_var = 200;
		strcpy(global_buf, "child-global");
		stack_var = 8;
		strcpy(heap, "child-heap");
		meet_child(&m);   /* the parent writes its own values now */
		meet_child(&m);
		int ok = global_var == 200 && !strcmp(global_buf, "child-global") &&
			stack_var == 8 && !strcmp(heap, "child-heap");
		_exit(ok ? 0 : 1);
	}
	meet_parent(&m);
	expect(global_var == 100, "parent's global unchanged by the child's write");
	expect(!strcmp(global_buf, "parent-global"), "parent's global buffer unchanged");
	expect(stack_var == 7, "parent's stack variable unchanged");
	expect(!strcmp(heap, "parent-heap"), "parent's heap unchanged");
	global_var = 300;
	stack_var = 9;
	strcpy(heap, "parent-heap-2");
	meet_parent(&m);
	int st = reap(pid);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "child still sees its own values after the parent wrote: %s", status_str(st));
	expect(global_var == 300 && stack_var == 9 && !strcmp(heap, "parent-heap-2"),
	       "parent sees its own later writes");
	meet_close(&m);
	free(heap);
}

/* A large heap region: filled before fork, then rewritten by both sides
 * in different patterns while the other is still alive. */
static uint64_t region_hash(const unsigned char *p, size_t n)
{
	return fnv1a(FNV_INIT, p, n);
}
static void large_region(void)
{
	printf("-- a 48 MiB region written by both after fork\n");
	size_t n = 48UL << 20;
	unsigned char *r = malloc(n);
	for (size_t i = 0; i < n; i += PAGE)
		memset(r + i, (int)(i / PAGE) & 0xff, PAGE);
	uint64_t before = region_hash(r, n);
	struct meet m;
	meet_init(&m);
	pid_t pid = xfork();
	if (pid == 0) {
		int ok = region_hash(r, n) == before;
		for (size_t i = 0; i < n; i += PAGE)
			r[i + 17] = 0xc1;
		meet_child(&m);   /* parent writes its pattern */
		meet_child(&m);
		for (size_t i = 0; i < n; i += PAGE)
			if (r[i + 17] != 0xc1 || r[i + 18] != (unsigned char)(i / PAGE) ||
			    r[i + 19] != (unsigned char)(i / PAGE))
				ok = 0;
		_exit(ok ? 0 : 1);
	}
	meet_parent(&m);
	int ok = 1;
	for (size_t i = 0; i < n; i += PAGE)
		if (r[i + 17] != (unsigned char)(i / PAGE))
			ok = 0;
	expect(ok, "parent does not see the child's writes to the region");
	for (size_t i = 0; i < n; i += 2 * PAGE)
		r[i + 18] = 0x5a;
	meet_parent(&m);
	int st = reap(pid);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "child saw the region as at fork, then only its own writes: %s", status_str(st));
	ok = 1;
	for (size_t i = 0; i < n; i += PAGE) {
		unsigned char want18 = (i / PAGE) % 2 ? (unsigned char)(i / PAGE) : 0x5a;
		if (r[i + 17] != (unsigned char)(i / PAGE) || r[i + 18] != want18)
			ok = 0;
	}
	expect(ok, "parent sees only its own writes after the child exited");
	meet_close(&m);
	free(r);
}

static void mappings(void)
{
	printf("-- shared and private mappings\n");
	int *sh = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int *pr = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Untouched pages of the shared mapping before fork: the child's
	 * first touch must still be shared. */
	sh[0] = 1;
	pr[0] = 1;
	struct meet m;
	meet_init(&m);
	pid_t pid = xfork();
	if (pid == 0) {
		sh[0] = 2;
		sh[PAGE / sizeof(int) * 3] = 33;   /* first touch of page 3 */
		pr[0] = 2;
		pr[PAGE / sizeof(int) * 3] = 33;
		meet_child(&m);
		meet_child(&m);
		_exit(sh[1] == 44 && pr[1] == 0 ? 0 : 1);
	}
	meet_parent(&m);
	expect(sh[0] == 2, "MAP_SHARED|MAP_ANONYMOUS: parent sees the child's write");
	expect(sh[PAGE / sizeof(int) * 3] == 33, "MAP_SHARED: a page first touched by the child is shared");
	expect(pr[0] == 1, "MAP_PRIVATE|MAP_ANONYMOUS: parent keeps its value");
	expect(pr[PAGE / sizeof(int) * 3] == 0, "MAP_PRIVATE: the child's first touch stays in the child");
	sh[1] = 44;
	pr[1] = 44;
	meet_parent(&m);
	int st = reap(pid);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "child sees the parent's shared write, not its private one: %s", status_str(st));
	expect(sh[0] == 2, "shared memory keeps the value after the child exited");

	/* A shared mapping made in the child after fork is its own. */
	pid = xfork();
	if (pid == 0) {
		int *own = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		own[0] = 5;
		munmap(sh, 4 * PAGE);   /* unmapping in the child leaves the parent's */
		_exit(own[0]);
	}
	st = reap(pid);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 5, "child maps and unmaps on its own");
	expect(sh[0] == 2, "parent's shared mapping still there after the child unmapped it");

	/* A private file mapping written by the child. */
	int fd = open("/etc/passwd", O_RDONLY);
	char *f = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char first = f[0];
	pid = xfork();
	if (pid == 0) {
		f[0] = first + 1;
		_exit(f[0] == first + 1 ? 0 : 1);
	}
	st = reap(pid);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child writes its copy of a private file mapping");
	expect(f[0] == first, "parent's private file mapping unchanged");
	close(fd);

	/* Protections are inherited. */
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid = xfork();
	if (pid == 0) {
		ro[0] = 1;   /* SIGSEGV */
		_exit(0);
	}
	st = reap(pid);
	printf("child writing a read-only page: %s\n", status_str(st));
	munmap(sh, 4 * PAGE);
	munmap(pr, 4 * PAGE);
	munmap(ro, PAGE);
}

static void fds(void)
{
	printf("-- the fd table\n");
	int fd = open("/etc/passwd", O_RDONLY);
	int p[2];
	pipe(p);
	pid_t pid = xfork();
	if (pid == 0) {
		char buf[10];
		int ok = read(fd, buf, 10) == 10;   /* moves the shared offset */
		close(fd);                          /* closes only the child's */
		write(p[1], "x", 1);
		_exit(ok ? 0 : 1);
	}
	char c;
	read(p[0], &c, 1);
	int st = reap(pid);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child reads the inherited fd");
	expect(fcntl(fd, F_GETFD) >= 0, "parent's fd still open after the child closed its copy");
	expect(lseek(fd, 0, SEEK_CUR) == 10, "the file offset is shared with the child");
	close(fd);

	/* Pipes across fork: EOF only when every writer closed. */
	pid = xfork();
	if (pid == 0) {
		close(p[0]);
		write(p[1], "from child", 10);
		_exit(0);
	}
	close(p[1]);
	char buf[32] = { 0 };
	ssize_t n = read_all(p[0], buf, sizeof buf - 1);
	printf("pipe from the child: [%.*s], then EOF\n", (int)(n > 0 ? n : 0), buf);
	reap(pid);
	close(p[0]);
}

static volatile sig_atomic_t got_usr2;
static void on_usr2(int s) { got_usr2 = 1; }

static void signal_state(void)
{
	printf("-- signal state\n");
	struct sigaction sa = { .sa_handler = on_usr2 };
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	raise(SIGUSR1);   /* pending in the parent only */
	pid_t pid = xfork();
	if (pid == 0) {
		int bits = 0;
		sigset_t pend, mask;
		sigpending(&pend);
		if (!sigismember(&pend, SIGUSR1)) bits |= 1;
		sigprocmask(SIG_BLOCK, NULL, &mask);
		if (sigismember(&mask, SIGUSR1)) bits |= 2;
		raise(SIGUSR2);
		if (got_usr2) bits |= 4;
		_exit(bits);
	}
	int st = reap(pid);
	int bits = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
	expect(bits & 1, "a signal pending in the parent is not pending in the child");
	expect(bits & 2, "the signal mask is inherited");
	expect(bits & 4, "signal handlers are inherited");
	sigset_t pend;
	sigpending(&pend);
	expect(sigismember(&pend, SIGUSR1), "still pending in the parent");
	signal(SIGUSR1, SIG_IGN);   /* discard it */
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/* Each level forks the next and exits with its status + 1. */
static int nest(int depth)
{
	if (depth == 0)
		return 0;
	pid_t pid = xfork();
	if (pid == 0)
		_exit(nest(depth - 1));
	int st = reap(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) + 1 : 200;
}

static void nested(void)
{
	printf("-- nested forks\n");
	printf("20 levels of fork, each exiting with its child's status + 1: %d\n", nest(20));
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int s) { got_usr1++; }

static int clone_fn(void *arg)
{
	return (int)(long)arg;
}

static void clones(void)
{
	printf("-- clone\n");
	size_t stsz = 64 * 1024;
	char *stack = malloc(stsz);

	/* Raw clone(SIGCHLD) with no new stack: a fork. */
	int x = 1;
	long r = rsys(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (r == 0) {
		x = 2;
		rsys(SYS_exit_group, getppid() > 0 ? 11 : 12);
	}
	expect(r > 0, "raw clone(SIGCHLD) returns the child's pid");
	int st = reap((pid_t)r);
	printf("raw clone(SIGCHLD) child: %s\n", status_str(st));
	expect(x == 1, "the child's write did not reach the parent");

	/* clone() with SIGCHLD on its own stack (libc wrapper). */
	pid_t pid = clone(clone_fn, stack + stsz, SIGCHLD, (void *)21L);
	expect(pid > 0, "clone(fn, SIGCHLD) returns the child's pid");
	st = reap(pid);
	printf("clone(SIGCHLD) child: %s\n", status_str(st));

	/* Exit signal SIGUSR1: a "clone" child, invisible to plain waitpid. */
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	int p[2];
	pipe(p);
	got_usr1 = 0;
	pid = clone(clone_fn, stack + stsz, SIGUSR1, (void *)22L);
	expect(pid > 0, "clone(fn, SIGUSR1) returns the child's pid");
	/* Wait for the exit without reaping (WNOWAIT), then check the rest. */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int w = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | __WCLONE);
	lres("waitid(__WCLONE|WNOWAIT) for the SIGUSR1 child", w);
	int z = 0;
	r = waitpid(pid, &z, WNOHANG);
	printf("waitpid without __WCLONE: %s\n", r < 0 ? errname(errno) : "found it");
	for (int i = 0; i < 200 && !got_usr1; i++)
		sleep_ms(5);
	expect(got_usr1 == 1, "the parent got SIGUSR1 when the child exited");
	r = waitpid(pid, &z, __WCLONE);
	expect(r == pid, "waitpid(__WCLONE) reaps it");
	printf("clone(SIGUSR1) child: %s\n", status_str(z));
	signal(SIGUSR1, SIG_DFL);
	close(p[0]);
	close(p[1]);

	/* No exit signal at all: only __WALL (or __WCLONE) finds it. */
	pid = clone(clone_fn, stack + stsz, 0, (void *)23L);
	expect(pid > 0, "clone(fn, 0) returns the child's pid");
	r = waitpid(pid, &z, 0);
	printf("waitpid of an exit-signal-0 child without __WALL: %s\n", r < 0 ? errname(errno) : "found it");
	r = waitpid(pid, &z, __WALL);
	expect(r == pid, "waitpid(__WALL) reaps it");
	printf("clone(0) child: %s\n", status_str(z));
	free(stack);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	basics();
	memory_copied();
	large_region();
	mappings();
	fds();
	signal_state();
	nested();
	clones();
	errno = 0;
	expect(wait(NULL) == -1 && errno == ECHILD, "no children left (wait: ECHILD)");
	return expect_failures ? 1 : 0;
}
