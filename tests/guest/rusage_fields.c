/* getrusage's fields besides the CPU time, compared by what must hold
 * both natively and under cocoon: page faults grow as fresh pages are
 * touched (ru_minflt), the peak resident set covers memory touched even
 * once it is unmapped (ru_maxrss, KiB), a blocking read or a sleep is a
 * voluntary context switch (ru_nvcsw); for RUSAGE_SELF, RUSAGE_THREAD,
 * RUSAGE_CHILDREN (children's summed at wait, maxrss the largest), in
 * wait4's rusage and in /proc/self/stat's minflt; a busy loop sharing
 * its CPU with a busy thread is preempted (ru_nivcsw above 0: the
 * number itself differs from run to run). */
#include "util.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#ifndef RUSAGE_THREAD
#define RUSAGE_THREAD 1
#endif

#define PG 4096L

static struct rusage usage(int who)
{
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	if (getrusage(who, &ru))
		printf("getrusage(%d): %s\n", who, errname(errno));
	return ru;
}

/* Fresh anonymous pages, one fault each (no huge pages). */
static char *touch_new(long bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, bytes, MADV_NOHUGEPAGE);
	for (long i = 0; i < bytes; i += PG)
		((volatile char *)p)[i] = 1;
	return p;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

static long stat_minflt(void)
{
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return -1;
	char buf[1024];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *s = strrchr(buf, ')');
	long v = -1;
	/* After ")": state ppid pgrp session tty tpgid flags minflt */
	if (s && sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %ld", &v) != 1)
		v = -1;
	return v;
}

/* /proc/self/status's VmHWM in KiB (-1 if not found). */
static long status_hwm(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long v = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void self(void)
{
	struct rusage a = usage(RUSAGE_SELF);
	char *p = touch_new(100 * PG);
	struct rusage b = usage(RUSAGE_SELF);
	expect(b.ru_minflt - a.ru_minflt >= 100, "self: minflt grew by 100 or more after touching 100 pages");
	expect(b.ru_majflt >= a.ru_majflt, "self: majflt never goes back");
	long sm = stat_minflt();
	expect(sm >= b.ru_minflt, "/proc/self/stat minflt at least getrusage's");
	munmap(p, 100 * PG);

	/* Linux's resident counts are kept per CPU and summed approximately
	 * (a few hundred KiB off): the bounds leave 512 KiB. */
	p = touch_new(4 << 20);
	a = usage(RUSAGE_SELF);
	expect(a.ru_maxrss >= 3584, "self: maxrss at least 4 MiB after touching 4 MiB");
	munmap(p, 4 << 20);
	/* Above any peak so far (Linux keeps the one of the program that
	 * exec'd us, a shell say), 4 MiB more raise it by as much. */
	p = touch_new(32 << 20);
	a = usage(RUSAGE_SELF);
	char *q = touch_new(4 << 20);
	b = usage(RUSAGE_SELF);
	expect(b.ru_maxrss - a.ru_maxrss >= 3584, "self: maxrss grew by 4 MiB with 4 MiB more touched");
	munmap(p, 32 << 20);
	munmap(q, 4 << 20);
	/* The peak stays once the memory is gone. */
	p = touch_new(12 << 20);
	munmap(p, 12 << 20);
	struct rusage c = usage(RUSAGE_SELF);
	expect(c.ru_maxrss >= 11 * 1024 + 512, "self: maxrss covers 12 MiB touched then unmapped");
	expect(status_hwm() >= 11 * 1024 + 512, "/proc/self/status VmHWM covers them too");

	a = usage(RUSAGE_SELF);
	sleep_ms(5);
	int fds[2];
	if (pipe(fds))
		return;
	pid_t w = fork();
	if (w == 0) {
		sleep_ms(200); /* the parent is in its read by then, on a busy machine too */
		(void)!write(fds[1], "x", 1);
		_exit(0);
	}
	char ch;
	(void)!read(fds[0], &ch, 1); /* blocks until the child writes */
	b = usage(RUSAGE_SELF);
	expect(b.ru_nvcsw - a.ru_nvcsw >= 2, "self: nvcsw grew after a sleep and a blocking read");
	waitpid(w, NULL, 0);
	close(fds[0]);
	close(fds[1]);
}

static struct rusage thread_before, thread_after;
static void *thread_work(void *arg)
{
	thread_before = usage(RUSAGE_THREAD);
	char *p = touch_new(200 * PG);
	sleep_ms(5);
	thread_after = usage(RUSAGE_THREAD);
	munmap(p, 200 * PG);
	return NULL;
}

static void thread(void)
{
	struct rusage self_before = usage(RUSAGE_SELF);
	pthread_t t;
	pthread_create(&t, NULL, thread_work, NULL);
	pthread_join(t, NULL);
	struct rusage self_after = usage(RUSAGE_SELF);
	expect(thread_after.ru_minflt - thread_before.ru_minflt >= 200,
	       "thread: its own minflt grew by 200 or more after it touched 200 pages");
	expect(thread_after.ru_nvcsw - thread_before.ru_nvcsw >= 1, "thread: its nvcsw grew after it slept");
	expect(self_after.ru_minflt - self_before.ru_minflt >= 200,
	       "self: the exited thread's faults stay counted in the process");
	expect(thread_after.ru_maxrss > 0, "thread: maxrss is the process's (not 0)");
}

static void children(void)
{
	struct rusage a = usage(RUSAGE_CHILDREN);
	pid_t pid = fork();
	if (pid == 0) {
		touch_new(8 << 20);
		sleep_ms(5);
		_exit(0);
	}
	/* Not reaped yet: the children's figures have not moved. */
	sleep_ms(50);
	struct rusage mid = usage(RUSAGE_CHILDREN);
	expect(mid.ru_minflt == a.ru_minflt, "children: nothing counted before the wait");
	int status;
	struct rusage w;
	memset(&w, 0, sizeof(w));
	pid_t r = wait4(pid, &status, 0, &w);
	struct rusage b = usage(RUSAGE_CHILDREN);
	expect(r == pid, "wait4 reaped the child");
	expect(w.ru_minflt >= 2048, "wait4: the child's minflt covers its 2048 pages");
	/* 512 KiB off, as above: the resident counts are approximate. */
	expect(w.ru_maxrss >= 7680, "wait4: the child's maxrss covers its 8 MiB");
	expect(w.ru_nvcsw >= 1, "wait4: the child slept");
	expect(b.ru_minflt - a.ru_minflt >= 2048, "children: minflt added at the wait");
	expect(b.ru_maxrss >= 7680, "children: maxrss is the largest child's");
	expect(b.ru_nvcsw - a.ru_nvcsw >= 1, "children: nvcsw added at the wait");

	/* A grandchild's figures reach us through its parent's wait. */
	pid = fork();
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			touch_new(16 << 20);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	memset(&w, 0, sizeof(w));
	wait4(pid, &status, 0, &w);
	b = usage(RUSAGE_CHILDREN);
	expect(w.ru_maxrss >= 15872, "wait4: includes the grandchild's maxrss");
	expect(b.ru_maxrss >= 15872, "children: maxrss includes the grandchild's");
	expect(w.ru_minflt >= 4096, "wait4: includes the grandchild's faults");
	/* Our own peak is ours: a bigger child's does not raise it. */
	struct rusage s = usage(RUSAGE_SELF);
	pid = fork();
	if (pid == 0) {
		touch_new(s.ru_maxrss * 1024 + (64 << 20));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	struct rusage s2 = usage(RUSAGE_SELF), c2 = usage(RUSAGE_CHILDREN);
	expect(s2.ru_maxrss < s.ru_maxrss + 16384, "self: maxrss not raised by a bigger child's");
	expect(c2.ru_maxrss >= s.ru_maxrss + 32768, "children: maxrss is that child's (32 MiB above ours at least)");
}

/* A stopped child's report carries its figures too. */
static void stopped(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		touch_new(4 << 20);
		raise(SIGSTOP);
		_exit(0);
	}
	int status = 0;
	struct rusage w;
	memset(&w, 0xff, sizeof(w));
	pid_t r = wait4(pid, &status, WUNTRACED, &w);
	expect(r == pid && WIFSTOPPED(status), "wait4 WUNTRACED: the child stopped");
	expect(w.ru_minflt >= 1024 && w.ru_minflt < 1L << 40, "wait4 WUNTRACED: the stopped child's minflt");
	expect(w.ru_maxrss >= 3584 && w.ru_maxrss < 1L << 40, "wait4 WUNTRACED: the stopped child's maxrss");
	kill(pid, SIGCONT);
	waitpid(pid, &status, 0);
}

/* Involuntary context switches: the calling thread and a rival thread,
 * both pinned to one CPU, spin; the caller goes on until getrusage shows
 * it was preempted, or 10 s went by (no timing window: under load it is
 * preempted sooner). Returns whether it was. */
static volatile int rival_cpu, rival_running, rival_stop;

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s))
		printf("sched_setaffinity: %s\n", errname(errno));
}

static void *rival(void *arg)
{
	pin(rival_cpu);
	rival_running = 1;
	while (!rival_stop)
		;
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static int busy_until_preempted(void)
{
	cpu_set_t old;
	CPU_ZERO(&old);
	if (sched_getaffinity(0, sizeof(old), &old))
		return 0;
	int cpu = 0;
	while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &old))
		cpu++;
	rival_cpu = cpu;
	rival_running = rival_stop = 0;
	pin(cpu);
	pthread_t t;
	pthread_create(&t, NULL, rival, NULL);
	while (!rival_running)
		sched_yield();
	long start = usage(RUSAGE_THREAD).ru_nivcsw, end = now_ms() + 10000;
	int preempted = 0;
	while (!preempted && now_ms() < end) {
		/* Spin 20 ms between looks: a system call may sleep (a
		 * voluntary switch), which would spare us the preemption. */
		long until = now_ms() + 20;
		while (now_ms() < until)
			;
		preempted = usage(RUSAGE_THREAD).ru_nivcsw > start;
	}
	rival_stop = 1;
	pthread_join(t, NULL);
	sched_setaffinity(0, sizeof(old), &old);
	return preempted;
}

static void involuntary(void)
{
	struct rusage self_before = usage(RUSAGE_SELF);
	expect(busy_until_preempted(), "nivcsw: a spinning thread with a spinning rival on its CPU was preempted");
	struct rusage self_after = usage(RUSAGE_SELF);
	expect(self_after.ru_nivcsw > self_before.ru_nivcsw, "nivcsw: counted in RUSAGE_SELF");
	/* A child's preemptions (its exited threads' too) reach its parent. */
	struct rusage a = usage(RUSAGE_CHILDREN);
	pid_t pid = fork();
	if (pid == 0)
		_exit(busy_until_preempted() ? 0 : 1);
	int status = 0;
	struct rusage w;
	memset(&w, 0, sizeof(w));
	wait4(pid, &status, 0, &w);
	struct rusage b = usage(RUSAGE_CHILDREN);
	expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nivcsw: the child was preempted");
	expect(w.ru_nivcsw > 0, "nivcsw: wait4's rusage has the child's");
	expect(b.ru_nivcsw > a.ru_nivcsw, "nivcsw: added to RUSAGE_CHILDREN at the wait");
}

static void errors(void)
{
	res("getrusage(5)", rsys(SYS_getrusage, 5, 0));
	res("getrusage(-3)", rsys(SYS_getrusage, -3, 0));
	res("getrusage(RUSAGE_SELF, bad address)", rsys(SYS_getrusage, RUSAGE_SELF, 8));
}

int main(void)
{
	self();
	thread();
	children();
	stopped();
	involuntary();
	errors();
	return expect_failures ? 1 : 0;
}
