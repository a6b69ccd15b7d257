/* statfs/fstatfs and extended attributes: the figures a guest sees for
 * host file systems, and the errors of the xattr calls. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "util.h"

int main(void)
{
	struct statfs a, b;
	puts("-- statfs");
	res("statfs /", rsys(SYS_statfs, "/", &a));
	int fd = open("/etc", O_RDONLY | O_DIRECTORY);
	res("fstatfs /etc", rsys(SYS_fstatfs, fd, &b));
	expect(a.f_type == b.f_type && a.f_bsize == b.f_bsize, "statfs and fstatfs agree on / and /etc");
	expect(a.f_namelen == 255, "name length 255");
	res("statfs missing", rsys(SYS_statfs, "/no/such/dir", &a));
	res("statfs NULL buffer", rsys(SYS_statfs, "/", NULL));
	res("statfs NULL path", rsys(SYS_statfs, NULL, &a));
	res("fstatfs bad fd", rsys(SYS_fstatfs, 999, &a));
	int opath = open("/etc/passwd", O_PATH);
	res("fstatfs O_PATH fd", rsys(SYS_fstatfs, opath, &b));

	puts("-- xattr");
	char buf[256];
	res("getxattr absent attribute", rsys(SYS_getxattr, "/etc/passwd", "user.cocoon-test", buf, sizeof(buf)));
	res("lgetxattr absent attribute", rsys(SYS_lgetxattr, "/etc/passwd", "user.cocoon-test", buf, sizeof(buf)));
	res("fgetxattr absent attribute", rsys(SYS_fgetxattr, fd, "user.cocoon-test", buf, sizeof(buf)));
	res("getxattr missing file", rsys(SYS_getxattr, "/no/such", "user.x", buf, sizeof(buf)));
	res("getxattr empty name", rsys(SYS_getxattr, "/etc/passwd", "", buf, sizeof(buf)));
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memcpy(longname, "user.", 5);
	res("getxattr name too long", rsys(SYS_getxattr, "/etc/passwd", longname, buf, sizeof(buf)));
	res("getxattr NULL name", rsys(SYS_getxattr, "/etc/passwd", NULL, buf, sizeof(buf)));
	res("fgetxattr bad fd", rsys(SYS_fgetxattr, 999, "user.x", buf, sizeof(buf)));
	resv("listxattr /etc/passwd", rsys(SYS_listxattr, "/etc/passwd", buf, sizeof(buf)));
	res("listxattr missing file", rsys(SYS_listxattr, "/no/such", buf, sizeof(buf)));
	res("setxattr bad flags", rsys(SYS_setxattr, "/etc/passwd", "user.x", "v", 1, 99));

	puts("-- fstatfs of files no mount holds");
	int pipefd[2];
	if (pipe(pipefd))
		return 1;
	int kinds[4] = { pipefd[0], (int)rsys(SYS_socket, AF_UNIX, SOCK_STREAM, 0), (int)rsys(SYS_eventfd2, 0, 0),
			 (int)rsys(SYS_pidfd_open, getpid(), 0) };
	const char *names[4] = { "pipe", "socket", "eventfd", "pidfd" };
	for (int k = 0; k < 4; k++) {
		struct statfs st;
		memset(&st, 0x55, sizeof(st));
		long r = rsys(SYS_fstatfs, kinds[k], &st);
		if (r) {
			res(names[k], r);
			continue;
		}
		printf("%s: type %#lx bsize %ld frsize %ld namelen %ld flags %#lx blocks %ld files %ld\n", names[k],
		       (long)st.f_type, (long)st.f_bsize, (long)st.f_frsize, (long)st.f_namelen, (long)st.f_flags,
		       (long)st.f_blocks, (long)st.f_files);
	}
	return expect_failures ? 1 : 0;
}
