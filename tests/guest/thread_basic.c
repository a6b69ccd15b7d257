/* Threads (CLONE_THREAD): creation and join storms with return values,
 * one pid and distinct tids, the tid words (CLONE_PARENT_SETTID,
 * CLONE_CHILD_CLEARTID through pthread_join), clone's EINVAL rules,
 * /proc/self/task, exit of one thread vs exit_group, the leader leaving
 * first, fork from a thread (the child has one thread), execve from a
 * thread that is not the leader (it takes over the pid). */
#include "util.h"
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#endif

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void *ret_arg(void *arg) { return arg; }

static void storm(void)
{
	long sum = 0;
	int ok = 1;
	for (int round = 0; round < 20; round++) {
		pthread_t t[8];
		for (long i = 0; i < 8; i++)
			ok &= pthread_create(&t[i], NULL, ret_arg, (void *)(i + round)) == 0;
		for (int i = 0; i < 8; i++) {
			void *r;
			ok &= pthread_join(t[i], &r) == 0;
			sum += (long)r;
		}
	}
	printf("storm: created and joined 160 threads ok=%d sum=%ld\n", ok, sum);
}

struct ids { pid_t pid, tid; };
static void *get_ids(void *arg)
{
	struct ids *x = arg;
	x->pid = getpid();
	x->tid = gettid_();
	return NULL;
}

static void ids(void)
{
	struct ids a, b;
	pthread_t ta, tb;
	pthread_create(&ta, NULL, get_ids, &a);
	pthread_create(&tb, NULL, get_ids, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	printf("ids: same pid %d, tids differ %d, tid != pid %d, main tid == pid %d\n",
	       a.pid == getpid() && b.pid == getpid(), a.tid != b.tid, a.tid != getpid(),
	       gettid_() == getpid());
}

/* Raw clone: the tid words and the flag rules. */
static volatile int raw_done;
static int raw_thread(void *arg)
{
	raw_done = 1;
	rsys(SYS_exit, 0);
	return 0;
}

static void raw_clone(void)
{
	static char stack[65536] __attribute__((aligned(16)));
	volatile pid_t ptid = 0, ctid = -1;
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	int tid = clone(raw_thread, stack + sizeof(stack), flags, NULL, &ptid, NULL, &ctid);
	printf("raw clone: ok %d, parent tid word set %d\n", tid > 0, tid > 0 && ptid == tid);
	/* CLONE_CHILD_CLEARTID: the word is zeroed and woken at exit. */
	while (ctid != 0)
		syscall(SYS_futex, &ctid, FUTEX_WAIT, ctid, NULL, NULL, 0);
	printf("raw clone: ran %d, child tid word cleared %d\n", raw_done, ctid == 0);

	res("clone THREAD without SIGHAND", rsys(SYS_clone, CLONE_VM | CLONE_THREAD, 0, 0, 0, 0));
	res("clone SIGHAND without VM", rsys(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0));
}

static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static pthread_barrier_t bar;
static void *wait_bar(void *arg)
{
	pthread_barrier_wait(&bar); /* all up */
	pthread_barrier_wait(&bar); /* counted */
	return NULL;
}

static void proc_task(void)
{
	pthread_t t[3];
	pthread_barrier_init(&bar, NULL, 4);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, wait_bar, NULL);
	pthread_barrier_wait(&bar);
	int n = count_tasks();
	char path[64];
	struct ids x;
	pthread_t tx;
	pthread_create(&tx, NULL, get_ids, &x);
	pthread_join(tx, NULL);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	snprintf(path, sizeof(path), "/proc/self/task/%d", x.tid);
	/* pthread_join returns once the thread's tid word is cleared, a bit
	 * before Linux unlists the thread (a busy machine can stretch that):
	 * give them up to 2 s to go. */
	for (int i = 0; i < 200 && (access(path, F_OK) == 0 || count_tasks() != 1); i++)
		usleep(10000);
	printf("/proc/self/task: %d entries with 4 threads, gone thread's dir: %s, after joins %d\n", n,
	       access(path, F_OK) ? errname(errno) : "exists", count_tasks());
	pthread_barrier_destroy(&bar);
}

/* The exit of one thread leaves the others running. */
static void *exit_thread(void *arg)
{
	pthread_exit(arg);
}

static void *spin(void *arg)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
	return NULL;
}

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

static void *group_exit(void *arg)
{
	usleep(20000);
	exit(42); /* exit_group from a thread that is not the leader */
}

static void exit_group_from_thread(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t a, b, c;
		pthread_create(&a, NULL, spin, NULL);
		pthread_create(&b, NULL, sleeper, NULL);
		pthread_create(&c, NULL, group_exit, NULL);
		for (;;)
			pause();
	}
	int st;
	waitpid(pid, &st, 0);
	printf("exit_group from a thread: exited %d code %d\n", WIFEXITED(st), WEXITSTATUS(st));
}

/* The leader leaves with pthread_exit; the last thread's exit ends the
 * process with its code. */
static void *last_one(void *arg)
{
	usleep(20000);
	rsys(SYS_exit, 5);
	return NULL;
}

static void leader_first(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, last_one, NULL);
		pthread_exit(NULL); /* only the leader */
	}
	int st;
	waitpid(pid, &st, 0);
	printf("leader exits first: exited %d code %d (the last thread's)\n", WIFEXITED(st), WEXITSTATUS(st));
}

static void *forker(void *arg)
{
	pid_t pid = fork();
	if (pid == 0) {
		printf("fork from a thread: child has %d task(s)\n", count_tasks());
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return NULL;
}

static void fork_from_thread(void)
{
	fflush(stdout);
	pthread_t t, s;
	pthread_create(&s, NULL, sleeper, NULL);
	pthread_create(&t, NULL, forker, NULL);
	pthread_join(t, NULL);
}

static char *self_path;
static void *execer(void *arg)
{
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", getpid());
	execl(self_path, self_path, "--after-exec", pid, (char *)NULL);
	printf("NO: execl: %s\n", strerror(errno));
	exit(1);
}

static void exec_from_thread(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t, s;
		pthread_create(&s, NULL, spin, NULL);
		pthread_create(&t, NULL, execer, NULL);
		for (;;)
			pause();
	}
	int st;
	waitpid(pid, &st, 0);
	printf("exec from a thread: exited %d code %d\n", WIFEXITED(st), WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--after-exec")) {
		/* The new image runs as the old pid, alone, as the leader. */
		printf("after exec: same pid %d, tid == pid %d, tasks %d\n", atoi(argv[2]) == getpid(),
		       gettid_() == getpid(), count_tasks());
		return 9;
	}
	self_path = argv[0];
	storm();
	ids();
	raw_clone();
	proc_task();
	pthread_t t;
	pthread_create(&t, NULL, exit_thread, NULL);
	pthread_join(t, NULL);
	printf("exit of one thread: the process goes on\n");
	exit_group_from_thread();
	leader_first();
	fork_from_thread();
	exec_from_thread();
	return expect_failures != 0;
}
