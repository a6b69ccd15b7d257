/* ioprio_get and ioprio_set (ionice uses them): the default (none), set
 * and read back per thread, inherited over fork, a process group's best
 * (a thread without one counts as best-effort at the level of its nice
 * value), and the argument errors. */
#include "util.h"
#include <sys/resource.h>
#include <sys/wait.h>

#define WHO_PROCESS 1
#define WHO_PGRP 2
#define VALUE(c, l) (((c) << 13) | (l))

static void show(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, errname((int)-r));
	else
		printf("%s: class %ld level %ld\n", what, r >> 13, r & 7);
}

int main(void)
{
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		setsid(); /* a process group of its own */
		setpriority(PRIO_PROCESS, 0, 10);
		show("default", rsys(SYS_ioprio_get, WHO_PROCESS, 0));
		show("pgrp default", rsys(SYS_ioprio_get, WHO_PGRP, 0));
		show("set be 5", rsys(SYS_ioprio_set, WHO_PROCESS, 0, VALUE(2, 5)));
		show("get", rsys(SYS_ioprio_get, WHO_PROCESS, getpid()));
		show("pgrp", rsys(SYS_ioprio_get, WHO_PGRP, getpgrp()));
		show("set idle", rsys(SYS_ioprio_set, WHO_PGRP, 0, VALUE(3, 0)));
		show("get", rsys(SYS_ioprio_get, WHO_PROCESS, 0));
		fflush(stdout);
		pid_t g = fork();
		if (g == 0) {
			show("inherited", rsys(SYS_ioprio_get, WHO_PROCESS, 0));
			exit(0);
		}
		waitpid(g, NULL, 0);
		show("set none 1", rsys(SYS_ioprio_set, WHO_PROCESS, 0, VALUE(0, 1)));
		show("set class 4", rsys(SYS_ioprio_set, WHO_PROCESS, 0, VALUE(4, 0)));
		show("set bad which", rsys(SYS_ioprio_set, 9, 0, VALUE(2, 0)));
		show("get bad which", rsys(SYS_ioprio_get, 0, 0));
		show("get no pid", rsys(SYS_ioprio_get, WHO_PROCESS, 999999));
		show("set no pid", rsys(SYS_ioprio_set, WHO_PROCESS, 999999, VALUE(2, 0)));
		show("set none", rsys(SYS_ioprio_set, WHO_PROCESS, 0, 0));
		show("get", rsys(SYS_ioprio_get, WHO_PROCESS, 0));
		exit(0);
	}
	waitpid(child, NULL, 0);
	return 0;
}
