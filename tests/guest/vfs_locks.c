/* Record locks between processes: a child finds the parent's lock
 * (F_GETLK shows the parent's pid), fails F_SETLK, then waits in
 * F_SETLKW until the parent lets go; a POSIX deadlock between the two is
 * refused with EDEADLK (to one of them, whichever asks last); a child's
 * locks go when it exits. No pipes: the processes find each other's
 * progress through the locks themselves. */
#include "util.h"
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#endif

static long setlk(long fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return rsys(SYS_fcntl, fd, cmd, &fl);
}

/* Who holds byte `at` against a write lock: 0 (nobody) or a pid. */
static long holder(long fd, off_t at)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1 };
	if (rsys(SYS_fcntl, fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	rsys(SYS_nanosleep, &ts, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char path[64];
	strcpy(path, "/tmp/vfs_locks.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	rsys(SYS_write, fd, "0123456789", 10);

	/* 1. waiting for a lock */
	res("parent locks 0-4", setlk(fd, F_SETLK, F_WRLCK, 0, 5));
	pid_t pid = fork();
	if (pid == 0) {
		struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
		rsys(SYS_fcntl, fd, F_GETLK, &fl);
		printf("child: F_GETLK sees a %s lock at %lld len %lld, the parent's: %s\n",
		       fl.l_type == F_WRLCK ? "write" : "other", (long long)fl.l_start,
		       (long long)fl.l_len, fl.l_pid == getppid() ? "yes" : "no");
		res("child: F_SETLK on 2", setlk(fd, F_SETLK, F_RDLCK, 2, 1));
		res("child: F_SETLK on 7", setlk(fd, F_SETLK, F_WRLCK, 7, 1));
		res("child: F_SETLKW on 3", setlk(fd, F_SETLKW, F_RDLCK, 3, 1));
		printf("child: the parent had let go: %s\n", holder(fd, 0) == 0 ? "yes" : "no");
		_exit(0);
	}
	/* The child holds 7 once it is past its F_SETLK calls. */
	for (int i = 0; i < 500 && holder(fd, 7) != pid; i++)
		pause_ms(10);
	pause_ms(50); /* most likely asleep in F_SETLKW by now */
	long unlocked = setlk(fd, F_SETLK, F_UNLCK, 0, 5);
	int st;
	waitpid(pid, &st, 0);
	res("parent unlocked 0-4", unlocked);
	printf("child exited %d\n", WEXITSTATUS(st));
	printf("its lock on 7 went with it: %s\n", holder(fd, 7) == 0 ? "yes" : "no");

	/* 2. a deadlock: parent holds A (0) and wants B (1), the child the
	 * other way round. Whoever asks second gets EDEADLK. */
	setlk(fd, F_SETLK, F_WRLCK, 0, 1);
	pid = fork();
	if (pid == 0) {
		setlk(fd, F_SETLK, F_WRLCK, 1, 1);
		long r = setlk(fd, F_SETLKW, F_WRLCK, 0, 1);
		_exit(r == 0 ? 10 : r == -EDEADLK ? 20 : 30);
	}
	for (int i = 0; i < 500 && holder(fd, 1) != pid; i++)
		pause_ms(10);
	pause_ms(50);
	long r = setlk(fd, F_SETLKW, F_WRLCK, 1, 1);
	setlk(fd, F_SETLK, F_UNLCK, 0, 0);
	waitpid(pid, &st, 0);
	int c = WEXITSTATUS(st);
	printf("exactly one got EDEADLK, the other its lock: %s\n",
	       (r == -EDEADLK && c == 10) || (r == 0 && c == 20) ? "yes" : "no");

	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	r = rsys(SYS_fcntl, fd, F_OFD_GETLK, &fl);
	printf("at the end: %s %s\n", rstr(r), fl.l_type == F_UNLCK ? "unlocked" : "locked");
	rsys(SYS_close, fd);
	rsys(SYS_unlink, path);
	return 0;
}
