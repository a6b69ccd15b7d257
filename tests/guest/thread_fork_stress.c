/* Threads racing with fork, exec, thread creation, pipes and signals:
 * a fork while other threads write memory must give the child one
 * instant's copy (a child that sees a lock taken after the fork would
 * hang), a write fault already resolved by another thread is retried,
 * exit_group stops busy threads. */
#include "util.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
static volatile int hits;
static void h(int s) { __atomic_add_fetch(&hits, 1, __ATOMIC_RELAXED); }
static void *spawner(void *a) {
	for (int i = 0; i < 20; i++) {
		pid_t p = fork();
		if (!p) { execl("/bin/true", "true", (char*)0); _exit(1); }
		int st; waitpid(p, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) printf("bad child\n");
	}
	return 0;
}
static void *creator(void *a) {
	for (int i = 0; i < 200; i++) { pthread_t t; pthread_create(&t, 0, (void*(*)(void*))sched_yield, 0); pthread_join(t, 0); }
	return 0;
}
static void *piper(void *a) {
	int p[2]; pipe(p);
	for (int i = 0; i < 2000; i++) { char c = 1; write(p[1], &c, 1); read(p[0], &c, 1); }
	close(p[0]); close(p[1]);
	return 0;
}
int main(void) {
	signal(SIGUSR1, h);
	for (int round = 0; round < 3; round++) {
		pthread_t t[6];
		pthread_create(&t[0], 0, spawner, 0);
		pthread_create(&t[1], 0, creator, 0);
		pthread_create(&t[2], 0, piper, 0);
		pthread_create(&t[3], 0, piper, 0);
		pthread_create(&t[4], 0, creator, 0);
		pthread_create(&t[5], 0, spawner, 0);
		for (int i = 0; i < 100; i++) { kill(getpid(), SIGUSR1); usleep(100); }
		for (int i = 0; i < 6; i++) pthread_join(t[i], 0);
	}
	/* exit_group while threads are busy */
	pid_t p = fork();
	if (!p) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, i & 1 ? piper : creator, 0);
		usleep(5000);
		exit(7);
	}
	int st; waitpid(p, &st, 0);
	printf("hits>0 %d exit %d\n", hits > 0, WEXITSTATUS(st));
	return 0;
}
