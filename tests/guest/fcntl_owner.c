/* fcntl's owner, signal, lease and dnotify commands as far as they are
 * stored and read back: F_SETOWN/F_GETOWN (a pid, a process group as a
 * negative number, checks that it exists), F_SETOWN_EX/F_GETOWN_EX,
 * F_SETSIG/F_GETSIG, F_GETLEASE (none held), F_SETLEASE(F_UNLCK),
 * F_NOTIFY (directories only). */
#include "util.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>

#ifndef F_SETOWN_EX
#define F_SETOWN_EX 15
#define F_GETOWN_EX 16
#endif
#ifndef F_SETSIG
#define F_SETSIG 10
#define F_GETSIG 11
#endif
#ifndef F_SETLEASE
#define F_SETLEASE 1024
#define F_GETLEASE 1025
#define F_NOTIFY 1026
#endif
#ifndef DN_CREATE
#define DN_CREATE 0x4
#define DN_MULTISHOT 0x80000000
#endif

struct owner_ex { int type; int pid; };

int main(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	long me = getpid(), pg = getpgrp();
	resv("F_GETOWN, never set", rsys(SYS_fcntl, sv[0], F_GETOWN));
	res("F_SETOWN our pid", rsys(SYS_fcntl, sv[0], F_SETOWN, me));
	printf("F_GETOWN is our pid: %s\n", rsys(SYS_fcntl, sv[0], F_GETOWN) == me ? "yes" : "no");
	res("F_SETOWN our group (negative)", rsys(SYS_fcntl, sv[0], F_SETOWN, -pg));
	printf("F_GETOWN is minus our group: %s\n", rsys(SYS_fcntl, sv[0], F_GETOWN) == -pg ? "yes" : "no");
	res("F_SETOWN a pid nobody has", rsys(SYS_fcntl, sv[0], F_SETOWN, 4000000));
	res("F_SETOWN INT_MIN", rsys(SYS_fcntl, sv[0], F_SETOWN, INT_MIN));
	res("F_SETOWN 0", rsys(SYS_fcntl, sv[0], F_SETOWN, 0));
	resv("F_GETOWN after 0", rsys(SYS_fcntl, sv[0], F_GETOWN));

	struct owner_ex ex = { 0, (int)syscall(SYS_gettid) }, got = { -1, -1 };
	res("F_SETOWN_EX our thread", rsys(SYS_fcntl, sv[1], F_SETOWN_EX, &ex));
	res("F_GETOWN_EX", rsys(SYS_fcntl, sv[1], F_GETOWN_EX, &got));
	printf("F_GETOWN_EX type %d, our thread: %s\n", got.type, got.pid == ex.pid ? "yes" : "no");
	ex.type = 7;
	res("F_SETOWN_EX bad type", rsys(SYS_fcntl, sv[1], F_SETOWN_EX, &ex));
	ex = (struct owner_ex){ 1, -5 };
	res("F_SETOWN_EX negative pid", rsys(SYS_fcntl, sv[1], F_SETOWN_EX, &ex));
	res("F_SETOWN_EX bad pointer", rsys(SYS_fcntl, sv[1], F_SETOWN_EX, 8));

	resv("F_GETSIG, never set", rsys(SYS_fcntl, sv[0], F_GETSIG));
	res("F_SETSIG SIGRTMIN+1", rsys(SYS_fcntl, sv[0], F_SETSIG, 35));
	resv("F_GETSIG", rsys(SYS_fcntl, sv[0], F_GETSIG));
	res("F_SETSIG 65", rsys(SYS_fcntl, sv[0], F_SETSIG, 65));

	int fd = open("/tmp/fcntl_owner.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	resv("F_GETLEASE", rsys(SYS_fcntl, fd, F_GETLEASE));
	res("F_SETLEASE F_UNLCK", rsys(SYS_fcntl, fd, F_SETLEASE, F_UNLCK));
	res("F_SETLEASE 99", rsys(SYS_fcntl, fd, F_SETLEASE, 99));
	res("F_NOTIFY on a file", rsys(SYS_fcntl, fd, F_NOTIFY, DN_CREATE));
	int d = open("/tmp", O_RDONLY | O_DIRECTORY);
	res("F_NOTIFY on a directory", rsys(SYS_fcntl, d, F_NOTIFY, DN_CREATE | DN_MULTISHOT));
	res("F_NOTIFY 0 (off)", rsys(SYS_fcntl, d, F_NOTIFY, 0));
	close(d);
	close(fd);
	unlink("/tmp/fcntl_owner.txt");
	return 0;
}
