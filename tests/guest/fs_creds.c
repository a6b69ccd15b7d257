/* Which ids file-permission checks use, against Linux: the fs ids (which
 * setfsuid moves apart from the effective ones), the supplementary groups
 * the guest set (not the host's), access(2) with the real ids and
 * AT_EACCESS with the effective ones, and the DAC capabilities. Needs
 * root to change ids: as another user it says so and checks nothing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"

static char dir[] = "/tmp/fs_creds.XXXXXX";
static char secret[64], shared[64];

/* Run fn in a child (it changes its ids for good) and wait for it. */
static void in_child(const char *title, void (*fn)(void))
{
	printf("-- %s\n", title);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void try_open(const char *label, const char *path, int flags)
{
	long fd = rsys(SYS_openat, AT_FDCWD, path, flags);
	res(label, fd);
	if (fd >= 0)
		close((int)fd);
}

static void real_vs_effective(void)
{
	/* Real 65534, effective and saved root. */
	res("setresuid(65534, 0, 0)", rsys(SYS_setresuid, 65534, 0, 0));
	res("access R_OK (real ids)", rsys(SYS_access, secret, R_OK));
	res("faccessat2 R_OK, AT_EACCESS (effective ids)", rsys(SYS_faccessat2, AT_FDCWD, secret, R_OK, AT_EACCESS));
	res("faccessat R_OK (flags ignored: real ids)", rsys(SYS_faccessat, AT_FDCWD, secret, R_OK, AT_EACCESS));
	try_open("open for reading", secret, O_RDONLY);
	res("access F_OK", rsys(SYS_access, secret, F_OK));
}

static void fsuid_apart(void)
{
	/* Effective root, fs uid 65534: the DAC capabilities go with it. */
	setfsuid(65534);
	printf("fsuid now 65534: %s\n", setfsuid(-1) == 65534 ? "yes" : "no");
	try_open("open a 0600 root file for reading", secret, O_RDONLY);
	res("access R_OK (real ids: root)", rsys(SYS_access, secret, R_OK));
	res("faccessat2 AT_EACCESS (effective root)", rsys(SYS_faccessat2, AT_FDCWD, secret, R_OK, AT_EACCESS));
	setfsuid(0);
	try_open("fsuid back to 0: open for reading", secret, O_RDONLY);
}

static void supplementary(void)
{
	gid_t g = 1234;
	res("setgroups({1234})", rsys(SYS_setgroups, 1, &g));
	res("setresgid(5000, 5000, 5000)", rsys(SYS_setresgid, 5000, 5000, 5000));
	res("setresuid(4000, 4000, 4000)", rsys(SYS_setresuid, 4000, 4000, 4000));
	try_open("a 0040 file of group 1234, for reading", shared, O_RDONLY);
	try_open("the same for writing", shared, O_WRONLY);
	res("access R_OK", rsys(SYS_access, shared, R_OK));
	res("setgroups as non-root", rsys(SYS_setgroups, 0, NULL));
	try_open("a 0600 root file", secret, O_RDONLY);
}

static void no_dac_caps(void)
{
	/* Root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. */
	struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
	struct { uint32_t eff, prm, inh; } data[2] = { 0 };
	rsys(SYS_capget, &hdr, data);
	data[0].eff &= ~((1u << 1) | (1u << 2));
	res("capset without the DAC capabilities", rsys(SYS_capset, &hdr, data));
	try_open("a 0600 file of 4321 for reading", shared, O_RDONLY);
	res("access R_OK (real root: permitted set)", rsys(SYS_access, shared, R_OK));
	res("faccessat2 AT_EACCESS (effective set)", rsys(SYS_faccessat2, AT_FDCWD, shared, R_OK, AT_EACCESS));
}

int main(void)
{
	if (geteuid() != 0) {
		puts("not root: nothing to check");
		return 0;
	}
	if (!mkdtemp(dir))
		return 1;
	chmod(dir, 0755);
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	snprintf(shared, sizeof(shared), "%s/shared", dir);
	close(open(secret, O_CREAT | O_WRONLY, 0600));
	close(open(shared, O_CREAT | O_WRONLY, 0600));
	chmod(secret, 0600);
	chown(shared, 4321, 1234);
	chmod(shared, 0040);

	in_child("real and effective ids", real_vs_effective);
	in_child("fs ids apart from the effective ones", fsuid_apart);
	in_child("supplementary groups", supplementary);
	chmod(shared, 0600);
	in_child("root without the DAC capabilities", no_dac_caps);

	unlink(secret);
	unlink(shared);
	rmdir(dir);
	return 0;
}
