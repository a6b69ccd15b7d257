/* RLIMIT_FSIZE against Linux: writes are cut at the limit, a write at or
 * past it is EFBIG with SIGXFSZ (which kills by default), O_APPEND counts
 * from the end, truncate and fallocate may not grow a file past it but
 * may shrink one, and pipes know no limit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"

static volatile int xfsz;
static void on_xfsz(int sig) { (void)sig; xfsz++; }

static void limit(rlim_t n)
{
	struct rlimit r = { n, RLIM_INFINITY };
	if (setrlimit(RLIMIT_FSIZE, &r))
		puts("setrlimit failed");
}

static void signals(const char *label)
{
	printf("%s: SIGXFSZ %d time(s)\n", label, xfsz);
	xfsz = 0;
}

int main(void)
{
	static char buf[20000];
	char path[] = "/tmp/rlimit_fsize.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	signal(SIGXFSZ, on_xfsz);
	limit(10000);

	puts("-- write");
	resv("write 8000", rsys(SYS_write, fd, buf, 8000));
	resv("write 4000 (2000 fit)", rsys(SYS_write, fd, buf, 4000));
	signals("so far");
	resv("write 1 at the limit", rsys(SYS_write, fd, buf, 1));
	signals("after it");
	resv("write 0 at the limit", rsys(SYS_write, fd, buf, 0));
	resv("pwrite 100 at 9990", rsys(SYS_pwrite64, fd, buf, 100, 9990));
	resv("pwrite 1 at 20000", rsys(SYS_pwrite64, fd, buf, 1, 20000));
	signals("pwrite");
	struct iovec iov[3] = { { buf, 5000 }, { buf, 5000 }, { buf, 5000 } };
	resv("pwritev 3 x 5000 at 0", rsys(SYS_pwritev, fd, iov, 3, 0, 0));
	resv("pwritev 3 x 5000 at 10000", rsys(SYS_pwritev, fd, iov, 3, 10000, 0));
	signals("pwritev");

	puts("-- O_APPEND");
	int afd = open(path, O_WRONLY | O_APPEND);
	resv("append 1 to a file at the limit", rsys(SYS_write, afd, buf, 1));
	res("ftruncate to 9000", rsys(SYS_ftruncate, fd, 9000));
	resv("append 5000 (1000 fit)", rsys(SYS_write, afd, buf, 5000));
	signals("append");
	close(afd);

	puts("-- truncate and fallocate");
	res("ftruncate to 20000", rsys(SYS_ftruncate, fd, 20000));
	res("truncate to 10001", rsys(SYS_truncate, path, 10001));
	res("truncate to 10000", rsys(SYS_truncate, path, 10000));
	signals("growing");
	res("fallocate 0..20000", rsys(SYS_fallocate, fd, 0, 0, 20000));
	res("fallocate 0..20000, KEEP_SIZE", rsys(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 0, 20000));
	res("fallocate 0..5000", rsys(SYS_fallocate, fd, 0, 0, 5000));
	signals("fallocate");
	limit(RLIM_INFINITY);
	resv("no limit: pwrite 20000 at 0", rsys(SYS_pwrite64, fd, buf, 20000, 0));
	limit(10000);
	res("a file past the limit: ftruncate to 15000 (shrinks)", rsys(SYS_ftruncate, fd, 15000));
	res("ftruncate to 16000 (grows)", rsys(SYS_ftruncate, fd, 16000));
	signals("past the limit");

	puts("-- pipes");
	int p[2];
	if (pipe(p))
		return 1;
	resv("pipe write 15000", rsys(SYS_write, p[1], buf, 15000));
	signals("pipe");

	puts("-- default action");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGXFSZ, SIG_DFL);
		rsys(SYS_pwrite64, fd, buf, 1, 10000);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		printf("child killed by signal %d\n", WTERMSIG(status));
	else
		printf("child exited %d\n", WEXITSTATUS(status));
	unlink(path);
	return 0;
}
