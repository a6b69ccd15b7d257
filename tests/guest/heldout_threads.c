/* Threads as a held-out program uses them: named POSIX semaphores in
 * /dev/shm, thread names through /proc, cancellation at cancellation
 * points (pipe read, sleep, condition wait, sigwait) with cleanup
 * handlers, asynchronous cancellation, a dedicated signal thread with
 * sigtimedwait, fork from a multithreaded process, and an epoll loop
 * fed by timerfd and eventfd from other threads. */
#include "util.h"
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#define E(x) ({ long __r = (long)(x); __r < 0 ? -errno : __r; })

static void named_semaphores(void)
{
	printf("-- sem_open\n");
	/* Per process: native runs of the three builds share /dev/shm. */
	char name[64], glibc_file[96], musl_file[96];
	snprintf(name, sizeof(name), "/heldout-sem-%d", (int)getpid());
	snprintf(glibc_file, sizeof(glibc_file), "/dev/shm/sem.%s", name + 1);
	snprintf(musl_file, sizeof(musl_file), "/dev/shm/%s", name + 1);
	sem_unlink(name);
	sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 2);
	printf("created %d\n", s != SEM_FAILED);
	struct stat st = { 0 };
	/* glibc names the file sem.NAME, musl NAME. */
	int found = stat(glibc_file, &st) == 0 || stat(musl_file, &st) == 0;
	printf("in /dev/shm %d\n", found);
	printf("size ok %d mode %o\n", st.st_size >= (off_t)sizeof(sem_t), st.st_mode & 0777);
	sem_t *again = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
	printf("excl again: %s\n", again == SEM_FAILED ? errname(errno) : "opened");
	sem_t *s2 = sem_open(name, 0);
	printf("reopen %d\n", s2 != SEM_FAILED);
	sem_wait(s);
	int v = -1;
	sem_getvalue(s2, &v);
	printf("value through other mapping %d\n", v);
	pid_t pid = fork();
	if (pid == 0) {
		sem_t *c = sem_open(name, 0);
		sem_wait(c);
		sem_wait(c); /* blocks until the parent posts */
		_exit(7);
	}
	usleep(100000);
	sem_getvalue(s, &v);
	printf("after child took one %d\n", v);
	sem_post(s);
	int status;
	waitpid(pid, &status, 0);
	printf("child exit %d\n", WEXITSTATUS(status));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 200000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	printf("timedwait empty: %s\n", sem_timedwait(s, &ts) ? errname(errno) : "0");
	printf("trywait empty: %s\n", sem_trywait(s) ? errname(errno) : "0");
	printf("unlink %d\n", sem_unlink(name));
	printf("unlink again: %s\n", sem_unlink(name) ? errname(errno) : "0");
	printf("still usable %d\n", sem_post(s) == 0 && sem_trywait(s2) == 0);
	sem_close(s);
	sem_close(s2);
}

static void *idle_thread(void *arg)
{
	pause();
	return arg;
}

static void thread_names(void)
{
	printf("-- names\n");
	pthread_t t;
	pthread_create(&t, NULL, idle_thread, NULL);
	char name[32] = "";
	printf("set other %d\n", pthread_setname_np(t, "worker-one"));
	pthread_getname_np(t, name, sizeof(name));
	printf("get other %s\n", name);
	printf("too long %s\n", errname(pthread_setname_np(t, "0123456789abcdefg")));
	pthread_setname_np(pthread_self(), "main-thr");
	pthread_getname_np(pthread_self(), name, sizeof(name));
	printf("self %s\n", name);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)gettid());
	FILE *f = fopen(path, "r");
	if (f) {
		fgets(name, sizeof(name), f);
		fclose(f);
	}
	printf("comm %s", name);
	f = fopen("/proc/self/comm", "r");
	if (f) {
		fgets(name, sizeof(name), f);
		fclose(f);
	}
	printf("process comm %s", name);
	printf("small buffer %s\n", errname(pthread_getname_np(t, name, 4)));
	pthread_cancel(t);
	pthread_join(t, NULL);
	pthread_setname_np(pthread_self(), "heldout_threads");
}

static int cleanups;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pipefd[2];

static void cleanup(void *arg)
{
	__atomic_add_fetch(&cleanups, 1, __ATOMIC_SEQ_CST);
	if (arg)
		pthread_mutex_unlock(arg);
}

static void *cancel_read(void *arg)
{
	char c;
	pthread_cleanup_push(cleanup, NULL);
	read(pipefd[0], &c, 1);
	pthread_cleanup_pop(0);
	return arg;
}

static void *cancel_sleep(void *arg)
{
	pthread_cleanup_push(cleanup, NULL);
	sleep(100);
	pthread_cleanup_pop(0);
	return arg;
}

static void *cancel_cond(void *arg)
{
	pthread_mutex_lock(&mu);
	pthread_cleanup_push(cleanup, &mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	pthread_cleanup_pop(1);
	return arg;
}

static volatile int spinning;
static void *cancel_async(void *arg)
{
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	pthread_cleanup_push(cleanup, NULL);
	spinning = 1;
	for (;;)
		__asm__ volatile("" ::: "memory");
	pthread_cleanup_pop(0);
	return arg;
}

static void *cancel_disabled(void *arg)
{
	(void)arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	usleep(200000);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	pthread_testcancel();
	return (void *)42;
}

static void cancellation(void)
{
	printf("-- cancel\n");
	pipe(pipefd);
	void *(*fns[])(void *) = { cancel_read, cancel_sleep, cancel_cond, cancel_async };
	const char *names[] = { "read", "sleep", "cond_wait", "async" };
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		spinning = 0;
		pthread_create(&t, NULL, fns[i], NULL);
		if (i == 3)
			while (!spinning)
				usleep(1000);
		else
			usleep(100000);
		int r = pthread_cancel(t);
		void *ret;
		pthread_join(t, &ret);
		printf("%s: cancel %d canceled %d cleanups %d\n", names[i], r, ret == PTHREAD_CANCELED, cleanups);
	}
	printf("mutex free after cond cancel %d\n", pthread_mutex_trylock(&mu) == 0);
	pthread_mutex_unlock(&mu);
	pthread_t t;
	pthread_create(&t, NULL, cancel_disabled, NULL);
	usleep(50000);
	pthread_cancel(t);
	void *ret;
	pthread_join(t, &ret);
	printf("disabled then testcancel: canceled %d\n", ret == PTHREAD_CANCELED);
	pthread_create(&t, NULL, idle_thread, NULL);
	pthread_cancel(t);
	pthread_join(t, &ret);
	printf("cancel before it ran: canceled %d\n", ret == PTHREAD_CANCELED);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* A dedicated signal thread: every other thread blocks the signals. */
static int sig_counts[65];
static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	struct timespec ts = { 0, 400000000 };
	for (;;) {
		siginfo_t si;
		int s = sigtimedwait(set, &si, &ts);
		if (s < 0) {
			printf("signal thread: %s\n", errname(errno));
			return NULL;
		}
		sig_counts[s]++;
		if (s == SIGUSR2 && si.si_code == SI_QUEUE)
			printf("  sigqueue value %d\n", si.si_value.sival_int);
	}
}

static void *sender(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++)
		kill(getpid(), SIGUSR1);
	return NULL;
}

static void signal_threads(void)
{
	printf("-- signals\n");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_t st, sn[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&sn[i], NULL, sender, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(sn[i], NULL);
	/* Real-time signals queue; standard ones collapse into one. */
	for (int i = 0; i < 5; i++)
		sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = i });
	sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 99 });
	pthread_create(&st, NULL, signal_thread, &set);
	pthread_join(st, NULL);
	printf("usr1 %d usr2 %d rtmin %d\n", sig_counts[SIGUSR1], sig_counts[SIGUSR2], sig_counts[SIGRTMIN]);
	/* pthread_kill to a thread blocking it stays pending for that thread. */
	memset(sig_counts, 0, sizeof(sig_counts));
	pthread_create(&st, NULL, signal_thread, &set);
	pthread_kill(st, SIGUSR1);
	pthread_kill(st, SIGRTMIN);
	pthread_join(st, NULL);
	printf("directed usr1 %d rtmin %d\n", sig_counts[SIGUSR1], sig_counts[SIGRTMIN]);
	sigset_t pending;
	sigpending(&pending);
	printf("nothing left pending %d\n", !sigismember(&pending, SIGUSR1) && !sigismember(&pending, SIGRTMIN));
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static volatile int holder_ready;
static void *holder(void *arg)
{
	pthread_mutex_lock(&held);
	holder_ready = 1;
	pause();
	return arg;
}

static void *child_thread(void *arg)
{
	return (void *)((long)arg + 1);
}

static void fork_threads(void)
{
	printf("-- fork\n");
	pthread_t t;
	pthread_create(&t, NULL, holder, NULL);
	while (!holder_ready)
		usleep(1000);
	pid_t pid = fork();
	if (pid == 0) {
		int n = 0;
		char path[64];
		FILE *f = fopen("/proc/self/status", "r");
		char line[256];
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "Threads:", 8))
				n = atoi(line + 8);
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "%d", n);
		printf("child threads %s\n", path);
		printf("child trylock held: %s\n", errname(pthread_mutex_trylock(&held)));
		pthread_t c;
		void *ret;
		pthread_create(&c, NULL, child_thread, (void *)41L);
		pthread_join(c, &ret);
		printf("child thread ok %ld\n", (long)ret);
		fflush(stdout);
		_exit(3);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child status %d\n", WEXITSTATUS(status));
	pthread_cancel(t);
	pthread_join(t, NULL);
}

static int efd, tfd;
static void *event_poster(void *arg)
{
	for (int i = 0; i < 100; i++) {
		uint64_t one = 1;
		write(efd, &one, sizeof(one));
	}
	return arg;
}

static void fd_loop(void)
{
	printf("-- epoll with timerfd and eventfd\n");
	efd = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = efd };
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	struct itimerspec its = { { 0, 100000000 }, { 0, 100000000 } };
	timerfd_settime(tfd, 0, &its, NULL);
	pthread_t p[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&p[i], NULL, event_poster, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(p[i], NULL);
	long events = 0, ticks_seen = 0, ticks = 0;
	while (events < 400 || ticks_seen < 3) {
		struct epoll_event out[4];
		int n = epoll_wait(ep, out, 4, 2000);
		if (n <= 0) {
			printf("epoll_wait %d\n", n);
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t v;
			if (out[i].data.fd == efd) {
				while (read(efd, &v, sizeof(v)) == sizeof(v))
					events += v;
			} else {
				if (read(tfd, &v, sizeof(v)) == sizeof(v))
					ticks += v;
				ticks_seen++;
				ev.events = EPOLLIN | EPOLLONESHOT;
				ev.data.fd = tfd;
				epoll_ctl(ep, EPOLL_CTL_MOD, tfd, &ev); /* re-arm */
			}
		}
	}
	printf("eventfd total %ld timer wakeups >= 3: %d ticks >= wakeups: %d\n", events, ticks_seen >= 3, ticks >= ticks_seen);
	uint64_t v;
	printf("eventfd empty: %s\n", read(efd, &v, sizeof(v)) < 0 ? errname(errno) : "data");
	its = (struct itimerspec){ 0 };
	timerfd_settime(tfd, 0, &its, NULL);
	close(ep);
	close(efd);
	close(tfd);
}

static int proc_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Threads:", 8))
			n = atoi(line + 8);
	if (f)
		fclose(f);
	return n;
}

static sem_t fired;
static _Atomic int callbacks;
static void timer_callback(union sigval v)
{
	callbacks += v.sival_int;
	sem_post(&fired);
}

static pid_t target_tid;
static volatile int target_ready;
static void *timer_target(void *arg)
{
	sigset_t *set = arg;
	target_tid = gettid();
	target_ready = 1;
	siginfo_t si;
	struct timespec ts = { 5, 0 };
	int s = sigtimedwait(set, &si, &ts);
	printf("target thread got %s code %s value %d\n", s == SIGRTMIN + 2 ? "the timer signal" : errname(errno),
	       si.si_code == SI_TIMER ? "SI_TIMER" : "other", si.si_value.sival_int);
	return NULL;
}

static void timers(void)
{
	printf("-- timers\n");
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, idle_thread, NULL);
	printf("/proc Threads with 4 more: %d\n", proc_threads());
	for (int i = 0; i < 4; i++) {
		pthread_cancel(t[i]);
		pthread_join(t[i], NULL);
	}
	/* A joined thread may still be on its way out (the tid is cleared
	 * before the thread is released, in Linux too): wait a little. */
	int left = proc_threads();
	for (int i = 0; i < 200 && left != 1; i++) {
		usleep(10000);
		left = proc_threads();
	}
	printf("/proc Threads after join: %d\n", left);

	/* SIGEV_THREAD: both libcs make it a SIGEV_THREAD_ID timer aimed
	 * at a helper thread of theirs. */
	sem_init(&fired, 0, 0);
	timer_t tm;
	struct sigevent sev = { 0 };
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = timer_callback;
	sev.sigev_value.sival_int = 3;
	printf("SIGEV_THREAD create %d\n", timer_create(CLOCK_MONOTONIC, &sev, &tm));
	struct itimerspec its = { { 0, 100000000 }, { 0, 100000000 } };
	timer_settime(tm, 0, &its, NULL);
	struct timespec ts;
	int got = 0;
	for (int i = 0; i < 3; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		got += sem_timedwait(&fired, &ts) == 0;
	}
	timer_delete(tm);
	printf("SIGEV_THREAD callbacks %d sum ok %d\n", got, callbacks >= 9);

	/* SIGEV_THREAD_ID at another thread of the process. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_t tt;
	pthread_create(&tt, NULL, timer_target, &set);
	while (!target_ready)
		usleep(1000);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGRTMIN + 2;
	sev.sigev_value.sival_int = 11;
#ifdef sigev_notify_thread_id
	sev.sigev_notify_thread_id = target_tid;
#else
	sev._sigev_un._tid = target_tid;
#endif
	printf("SIGEV_THREAD_ID at another thread %d\n", timer_create(CLOCK_MONOTONIC, &sev, &tm));
	its = (struct itimerspec){ { 0, 0 }, { 0, 200000000 } };
	timer_settime(tm, 0, &its, NULL);
	pthread_join(tt, NULL);
	timer_delete(tm);
	sigset_t pending;
	sigpending(&pending);
	printf("main has it pending %d\n", sigismember(&pending, SIGRTMIN + 2));
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	named_semaphores();
	thread_names();
	cancellation();
	signal_threads();
	fork_threads();
	fd_loop();
	timers();
	return 0;
}
