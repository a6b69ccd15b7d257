/* Calls that take a process's lock and its address space's lock in the
 * opposite order to mmap, or sleep holding the latter, racing threads
 * that map and unmap memory: getrusage; waitpid reporting a stop or a
 * continue of a child whose threads map; ftruncate shrinking a memfd
 * that others map shared; a read of an eventfd or inotify fd that sleeps
 * while another thread maps before it writes. Each of these hung the
 * whole sandbox once. Fixed counts, no timing. */
#include "util.h"
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

static volatile int stop;

static void *mapper(void *arg)
{
	(void)arg;
	while (!stop) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
	return NULL;
}

static void getrusage_vs_mmap(void)
{
	pthread_t t;
	stop = 0;
	pthread_create(&t, NULL, mapper, NULL);
	long sum = 0;
	for (int i = 0; i < 2000; i++) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		sum += ru.ru_maxrss > 0;
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("getrusage while mapping: %s\n", sum == 2000 ? "all with a max RSS" : "some without");
}

static void waitstop_vs_child_mmap(void)
{
	stop = 0; /* the child maps until it is killed */
	pid_t c = fork();
	if (c == 0) {
		pthread_t t;
		pthread_create(&t, NULL, mapper, NULL);
		mapper(NULL);
		_exit(0);
	}
	/* How many of the stops and continues are reported apart varies
	 * natively too (they coalesce): only that none hangs is checked. */
	for (int i = 0; i < 300; i++) {
		int st;
		kill(c, SIGSTOP);
		waitpid(c, &st, WUNTRACED | WNOHANG);
		kill(c, SIGCONT);
		waitpid(c, &st, WCONTINUED | WNOHANG);
	}
	kill(c, SIGKILL);
	int st;
	printf("stopped and continued a mapping child 300 times, then killed it: %s\n",
	       waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "reaped" : "not reaped");
}

static int memfd;

static void *shared_mapper(void *arg)
{
	(void)arg;
	while (!stop) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, memfd, 0);
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
	return NULL;
}

static void truncate_vs_shared_mmap(void)
{
	memfd = (int)syscall(SYS_memfd_create, "shrinking", 0);
	pthread_t t;
	stop = 0;
	pthread_create(&t, NULL, shared_mapper, NULL);
	int ok = 0;
	for (int i = 0; i < 2000; i++)
		ok += ftruncate(memfd, (i & 1) ? 8192 : 4096) == 0;
	stop = 1;
	pthread_join(t, NULL);
	close(memfd);
	printf("ftruncate of a memfd others map shared: %d of 2000\n", ok);
}

static int sleepy_fd;

static void *sleepy_reader(void *arg)
{
	char buf[4096];
	*(long *)arg = read(sleepy_fd, buf, sizeof(buf));
	return NULL;
}

static void read_sleeps_vs_mmap(const char *what, int fd, int (*wake)(void))
{
	sleepy_fd = fd;
	long got = -1;
	pthread_t t;
	pthread_create(&t, NULL, sleepy_reader, &got);
	usleep(100000); /* the reader sleeps in read */
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int woke = wake();
	pthread_join(t, NULL);
	printf("%s: mmap while a read sleeps: %s, the read got data: %s\n", what, p != MAP_FAILED ? "ok" : "failed",
	       woke == 0 && got > 0 ? "yes" : "no");
	munmap(p, 4096);
	close(fd);
}

static int efd, ifd_dir_made;

static int wake_eventfd(void)
{
	uint64_t one = 1;
	return write(efd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

static int wake_inotify(void)
{
	return mkdir("/tmp/lock_order_races.d", 0700);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(60);
	getrusage_vs_mmap();
	waitstop_vs_child_mmap();
	truncate_vs_shared_mmap();
	efd = eventfd(0, 0);
	read_sleeps_vs_mmap("eventfd", efd, wake_eventfd);
	int ifd = inotify_init1(0);
	inotify_add_watch(ifd, "/tmp", IN_CREATE);
	read_sleeps_vs_mmap("inotify", ifd, wake_inotify);
	ifd_dir_made = rmdir("/tmp/lock_order_races.d") == 0;
	printf("cleaned up: %s\n", ifd_dir_made ? "yes" : "no");
	return 0;
}
