/* Security test, run only under cocoon:
 *   cocoon run --root ROOT -- /escape_root.glibc-static CANARY VICTIM MODE
 * Tries to leave the sandbox root by path tricks and print the canary's
 * content (the runner checks that it never shows up). ROOT holds this
 * binary and links made by the runner:
 *   abslink -> CANARY          (absolute: must resolve inside ROOT)
 *   rellink -> ../canary       (relative, climbing out of ROOT)
 *   uplink  -> ../../../../../../../..
 *   rootlink -> /
 *   sub/    (a directory)
 * "/etc/passwd" does not exist inside ROOT either. */
// ESCAPE-RUN: paths
#include "util.h"
#include <fcntl.h>

static char buf[4096];
static int leaks;

static void try_fd(const char *how, long fd)
{
	if (fd < 0) {
		printf("%s: %s\n", how, rstr(fd));
		return;
	}
	long n = rsys(SYS_read, fd, buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = 0;
		printf("%s: read %ld bytes: [%s]\n", how, n, buf);
		leaks++;
	} else {
		printf("%s: opened, read %s\n", how, rstr(n));
	}
	rsys(SYS_close, fd);
}

static void try_open(const char *label, const char *path)
{
	try_fd(label, rsys(SYS_open, path, O_RDONLY));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2) {
		printf("usage: escape_root CANARY ...\n");
		return 2;
	}
	const char *canary = argv[1];
	const char *base = strrchr(canary, '/') ? strrchr(canary, '/') + 1 : canary;
	char p[8192];

	try_open("canary by absolute path", canary);
	snprintf(p, sizeof p, "/../../../../../../..%s", canary);
	try_open("/../../..canary", p);
	snprintf(p, sizeof p, "../../../../../../../../../../..%s", canary);
	try_open("relative ../..canary from /", p);
	snprintf(p, sizeof p, "/uplink%s", canary);
	try_open("via uplink", p);
	snprintf(p, sizeof p, "/rootlink%s", canary);
	try_open("via rootlink", p);
	snprintf(p, sizeof p, "/rootlink/../../..%s", canary);
	try_open("via rootlink/..", p);
	try_open("abslink", "/abslink");
	try_open("rellink", "/rellink");
	snprintf(p, sizeof p, "/sub/../../%s", base);
	try_open("sub/../../canary-name", p);
	try_open("/etc/passwd", "/etc/passwd");
	try_open("/uplink/etc/passwd", "/uplink/etc/passwd");

	/* Walk up with chdir and openat. */
	for (int i = 0; i < 30; i++)
		rsys(SYS_chdir, "..");
	rsys(SYS_getcwd, p, sizeof p);
	printf("cwd after 30 x chdir(..): %s\n", p);
	try_open("canary relative to that cwd", canary + 1);
	long d = rsys(SYS_open, "/sub", O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 30; i++) {
		long up = rsys(SYS_openat, d, "..", O_RDONLY | O_DIRECTORY);
		if (up < 0)
			break;
		rsys(SYS_close, d);
		d = up;
	}
	try_fd("openat(.. x 30, canary)", rsys(SYS_openat, d, canary + 1, O_RDONLY));
	try_fd("openat(.. x 30, etc/passwd)", rsys(SYS_openat, d, "etc/passwd", O_RDONLY));
	rsys(SYS_fchdir, d);
	try_open("etc/passwd after fchdir", "etc/passwd");

	/* The directory listing of / must be the sandbox root's (/proc, /dev
	 * and /tmp are the sandbox's own mount points). */
	long fd = rsys(SYS_open, "/", O_RDONLY | O_DIRECTORY);
	long n = rsys(SYS_getdents64, fd, buf, sizeof buf);
	int entries = 0, etc = 0;
	for (long off = 0; off < n;) {
		struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(buf + off);
		entries++;
		if (!strcmp(e->name, "etc") || !strcmp(e->name, "usr") || !strcmp(e->name, "bin"))
			etc++;
		off += e->reclen;
	}
	printf("root listing: %d entries, host dirs seen: %d\n", entries, etc);
	if (etc)
		leaks++;
	if (leaks) {
		printf("ESCAPED (%d)\n", leaks);
		return 1;
	}
	printf("contained\n");
	return 0;
}
