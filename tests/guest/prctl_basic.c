/* prctl: names (and /proc/self/comm, stat), dumpable, no_new_privs,
 * child subreaper, parent-death signal, timer slack, the tid address,
 * THP disable, MCE kill policy, TSC, seccomp mode, and Linux's EINVAL
 * for bad arguments and for options of other architectures. */
#include "util.h"
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

static void show_file(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("%s: cannot open\n", path);
		return;
	}
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	if (!strcmp(path, "/proc/self/stat")) { /* the comm field only */
		char *a = strchr(buf, '('), *b = strrchr(buf, ')');
		if (a && b)
			printf("stat comm: %.*s\n", (int)(b - a + 1), a);
		return;
	}
	printf("%s: %s", path, buf);
}

static void names(void)
{
	char name[32];
	res("PR_SET_NAME", rsys(SYS_prctl, PR_SET_NAME, "worker-1", 0, 0, 0));
	memset(name, 'x', sizeof name);
	res("PR_GET_NAME", rsys(SYS_prctl, PR_GET_NAME, name, 0, 0, 0));
	printf("name [%s], byte 16 untouched: %s\n", name, name[16] == 'x' ? "yes" : "no");
	show_file("/proc/self/comm");
	show_file("/proc/self/stat");
	res("PR_SET_NAME long", rsys(SYS_prctl, PR_SET_NAME, "a-very-long-thread-name-indeed", 0, 0, 0));
	rsys(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
	printf("truncated [%s]\n", name);
	show_file("/proc/self/comm");
	res("PR_SET_NAME bad pointer", rsys(SYS_prctl, PR_SET_NAME, 8, 0, 0, 0));
	res("PR_GET_NAME bad pointer", rsys(SYS_prctl, PR_GET_NAME, 8, 0, 0, 0));
	/* A 15-byte name right before an unmapped page is fine; 14 bytes
	 * without a NUL are not. */
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p + PAGE, PAGE);
	memset(p + PAGE - 15, 'z', 15);
	res("PR_SET_NAME 15 bytes at a page end", rsys(SYS_prctl, PR_SET_NAME, p + PAGE - 15, 0, 0, 0));
	rsys(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
	printf("name [%s]\n", name);
	res("PR_SET_NAME 14 bytes without NUL", rsys(SYS_prctl, PR_SET_NAME, p + PAGE - 14, 0, 0, 0));
	munmap(p, PAGE);
	/* A write to /proc/self/comm is PR_SET_NAME too. */
	FILE *f = fopen("/proc/self/comm", "w");
	if (f) {
		fputs("via-proc\n", f);
		fclose(f);
	}
	rsys(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
	printf("after /proc/self/comm write [%s]\n", name);
}

static void flags(void)
{
	resv("PR_GET_DUMPABLE", rsys(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0));
	resv("PR_SET_DUMPABLE 0", rsys(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0));
	resv("PR_GET_DUMPABLE", rsys(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0));
	resv("PR_SET_DUMPABLE 2", rsys(SYS_prctl, PR_SET_DUMPABLE, 2, 0, 0, 0));
	resv("PR_SET_DUMPABLE 1", rsys(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0));

	resv("PR_GET_NO_NEW_PRIVS", rsys(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	resv("PR_GET_NO_NEW_PRIVS arg", rsys(SYS_prctl, PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
	resv("PR_SET_NO_NEW_PRIVS 2", rsys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
	resv("PR_SET_NO_NEW_PRIVS 1 arg3", rsys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));

	int v = -1;
	resv("PR_GET_CHILD_SUBREAPER", rsys(SYS_prctl, PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
	printf("subreaper %d\n", v);
	resv("PR_SET_CHILD_SUBREAPER 5", rsys(SYS_prctl, PR_SET_CHILD_SUBREAPER, 5, 0, 0, 0));
	rsys(SYS_prctl, PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
	printf("subreaper %d\n", v);
	rsys(SYS_prctl, PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	resv("PR_GET_CHILD_SUBREAPER bad pointer", rsys(SYS_prctl, PR_GET_CHILD_SUBREAPER, 8, 0, 0, 0));

	resv("PR_SET_PDEATHSIG SIGUSR1", rsys(SYS_prctl, PR_SET_PDEATHSIG, 10, 0, 0, 0));
	rsys(SYS_prctl, PR_GET_PDEATHSIG, &v, 0, 0, 0);
	printf("pdeathsig %d\n", v);
	resv("PR_SET_PDEATHSIG 65", rsys(SYS_prctl, PR_SET_PDEATHSIG, 65, 0, 0, 0));
	resv("PR_SET_PDEATHSIG 64", rsys(SYS_prctl, PR_SET_PDEATHSIG, 64, 0, 0, 0));
	rsys(SYS_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);
	resv("PR_GET_PDEATHSIG bad pointer", rsys(SYS_prctl, PR_GET_PDEATHSIG, 8, 0, 0, 0));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		rsys(SYS_prctl, PR_GET_PDEATHSIG, &v, 0, 0, 0);
		printf("child pdeathsig %d\n", v);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);

	resv("PR_GET_SECCOMP", rsys(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0));
	unsigned tsc = 99;
	resv("PR_GET_TSC", rsys(SYS_prctl, PR_GET_TSC, &tsc, 0, 0, 0));
	printf("tsc mode %u\n", tsc);
	resv("PR_SET_TSC ENABLE", rsys(SYS_prctl, PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0));
	resv("PR_SET_TSC 7", rsys(SYS_prctl, PR_SET_TSC, 7, 0, 0, 0));
	resv("PR_GET_TIMING", rsys(SYS_prctl, PR_GET_TIMING, 0, 0, 0, 0));
	resv("PR_SET_TIMING TIMESTAMP", rsys(SYS_prctl, PR_SET_TIMING, PR_TIMING_TIMESTAMP, 0, 0, 0));
	resv("PR_TASK_PERF_EVENTS_DISABLE", rsys(SYS_prctl, PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0));
}

/* A thread's slack is its own; it starts at, and resets to, its
 * creator's. */
static void *slack_thread(void *arg)
{
	(void)arg;
	resv("thread PR_GET_TIMERSLACK (its creator's)", rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0));
	rsys(SYS_prctl, PR_SET_TIMERSLACK, 7777, 0, 0, 0);
	resv("thread PR_GET_TIMERSLACK after setting 7777", rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0));
	rsys(SYS_prctl, PR_SET_TIMERSLACK, 0, 0, 0, 0);
	resv("thread slack after reset (its creator's)", rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0));
	rsys(SYS_prctl, PR_SET_TIMERSLACK, 8888, 0, 0, 0);
	return NULL;
}

static void slack_thp_mce(void)
{
	long slack = rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0);
	printf("timer slack positive: %s\n", slack > 0 ? "yes" : "no");
	resv("PR_SET_TIMERSLACK 123456", rsys(SYS_prctl, PR_SET_TIMERSLACK, 123456, 0, 0, 0));
	resv("PR_GET_TIMERSLACK", rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		resv("child PR_GET_TIMERSLACK", rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0));
		rsys(SYS_prctl, PR_SET_TIMERSLACK, 1000, 0, 0, 0);
		rsys(SYS_prctl, PR_SET_TIMERSLACK, 0, 0, 0, 0);
		resv("child slack after reset (the parent's)", rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	pthread_t t;
	pthread_create(&t, NULL, slack_thread, NULL);
	pthread_join(t, NULL);
	resv("PR_GET_TIMERSLACK after the thread set its own", rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0));
	rsys(SYS_prctl, PR_SET_TIMERSLACK, 0, 0, 0, 0);
	printf("reset to the default: %s\n", rsys(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0) == slack ? "yes" : "no");

	uint64_t addr = 0;
	res("PR_GET_TID_ADDRESS", rsys(SYS_prctl, PR_GET_TID_ADDRESS, &addr, 0, 0, 0));
	printf("tid address set: %s\n", addr ? "yes" : "no");
	res("PR_GET_TID_ADDRESS bad pointer", rsys(SYS_prctl, PR_GET_TID_ADDRESS, 8, 0, 0, 0));

	resv("PR_GET_THP_DISABLE", rsys(SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0));
	resv("PR_GET_THP_DISABLE arg", rsys(SYS_prctl, PR_GET_THP_DISABLE, 1, 0, 0, 0));
	resv("PR_SET_THP_DISABLE 1", rsys(SYS_prctl, PR_SET_THP_DISABLE, 1, 0, 0, 0));
	resv("PR_GET_THP_DISABLE", rsys(SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0));
	resv("PR_SET_THP_DISABLE 0 with flags", rsys(SYS_prctl, PR_SET_THP_DISABLE, 0, 2, 0, 0));
	resv("PR_SET_THP_DISABLE 1 bad flags", rsys(SYS_prctl, PR_SET_THP_DISABLE, 1, 4, 0, 0));
	resv("PR_SET_THP_DISABLE arg4", rsys(SYS_prctl, PR_SET_THP_DISABLE, 1, 0, 1, 0));
	resv("PR_SET_THP_DISABLE 0", rsys(SYS_prctl, PR_SET_THP_DISABLE, 0, 0, 0, 0));
	resv("PR_GET_THP_DISABLE", rsys(SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0));

	resv("PR_MCE_KILL_GET", rsys(SYS_prctl, PR_MCE_KILL_GET, 0, 0, 0, 0));
	resv("PR_MCE_KILL SET EARLY", rsys(SYS_prctl, PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0));
	resv("PR_MCE_KILL_GET", rsys(SYS_prctl, PR_MCE_KILL_GET, 0, 0, 0, 0));
	resv("PR_MCE_KILL SET LATE", rsys(SYS_prctl, PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0));
	resv("PR_MCE_KILL_GET", rsys(SYS_prctl, PR_MCE_KILL_GET, 0, 0, 0, 0));
	resv("PR_MCE_KILL SET 5", rsys(SYS_prctl, PR_MCE_KILL, PR_MCE_KILL_SET, 5, 0, 0));
	resv("PR_MCE_KILL CLEAR 1", rsys(SYS_prctl, PR_MCE_KILL, PR_MCE_KILL_CLEAR, 1, 0, 0));
	resv("PR_MCE_KILL CLEAR", rsys(SYS_prctl, PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0));
	resv("PR_MCE_KILL_GET", rsys(SYS_prctl, PR_MCE_KILL_GET, 0, 0, 0, 0));
	resv("PR_MCE_KILL 7", rsys(SYS_prctl, PR_MCE_KILL, 7, 0, 0, 0));
	resv("PR_MCE_KILL_GET arg", rsys(SYS_prctl, PR_MCE_KILL_GET, 1, 0, 0, 0));
}

static void other_arches(void)
{
	int v;
	resv("PR_GET_UNALIGN", rsys(SYS_prctl, PR_GET_UNALIGN, &v, 0, 0, 0));
	resv("PR_GET_FPEMU", rsys(SYS_prctl, PR_GET_FPEMU, &v, 0, 0, 0));
	resv("PR_GET_FPEXC", rsys(SYS_prctl, PR_GET_FPEXC, &v, 0, 0, 0));
	resv("PR_GET_ENDIAN", rsys(SYS_prctl, PR_GET_ENDIAN, &v, 0, 0, 0));
	resv("PR_GET_FP_MODE", rsys(SYS_prctl, PR_GET_FP_MODE, 0, 0, 0, 0));
	resv("option 0", rsys(SYS_prctl, 0, 0, 0, 0, 0));
	resv("option 9999", rsys(SYS_prctl, 9999, 0, 0, 0, 0));
	resv("option -1", rsys(SYS_prctl, -1, 0, 0, 0, 0));
}

int main(void)
{
	names();
	flags();
	slack_thp_mce();
	other_arches();
	/* Last: it cannot be undone. */
	resv("PR_SET_NO_NEW_PRIVS 1", rsys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	resv("PR_GET_NO_NEW_PRIVS", rsys(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	return 0;
}
