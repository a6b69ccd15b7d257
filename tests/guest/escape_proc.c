/* Security test, run only under cocoon:
 *   cocoon run --root ROOT -- /escape_proc.glibc-static CANARY VICTIM MODE
 * Tries to leave the sandbox through /proc's magic links, which jump to
 * objects rather than paths: they must land on the sandbox's own tree,
 * and their texts must never show a host path. ROOT is CANARY's sibling
 * (the runner's layout: DIR/root and DIR/canary).
 *   links:  /proc/self/root/.., /proc/self/cwd after chroot, fd/N of a
 *           directory opened before chdir and chroot, /proc/1/root and
 *           /proc/<parent>/cwd from a chrooted child, readlink texts
 *   files:  reopening stdio and other fds through /proc/self/fd with more
 *           access than they have, exe, maps, mounts, the victim's pid */
// ESCAPE-RUN: links
// ESCAPE-RUN: files
#include "util.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char buf[65536];
static char host_dir[4096]; /* DIR, the sandbox root's parent: must never show */

/* Print what an fd reads (the runner looks for the canary's secret). */
static void show_fd(const char *how, long fd)
{
	if (fd < 0) {
		printf("%s: %s\n", how, rstr(fd));
		return;
	}
	long n = rsys(SYS_read, fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("%s: read %ld\n", how, n);
	if (n > 0 && strstr(buf, "cocoon-canary-"))
		printf("ESCAPED: %s read the canary\n", how);
	rsys(SYS_close, fd);
}

static long proc_fd = AT_FDCWD; /* /proc, kept open across chroot */

/* path: absolute, or relative to /proc ("self/cwd"). */
static long open_at(const char *path, int flags)
{
	return rsys(SYS_openat, path[0] == '/' ? AT_FDCWD : proc_fd, path, flags);
}

static void show(const char *how, const char *path)
{
	show_fd(how, open_at(path, O_RDONLY));
}

/* A text the guest sees must not hold the host's directories. */
static void check_text(const char *what, const char *text)
{
	if (strstr(text, host_dir))
		printf("ESCAPED: %s shows the host path %s\n", what, host_dir);
}

static void show_link(const char *path)
{
	char t[4096];
	long n = rsys(SYS_readlinkat, path[0] == '/' ? AT_FDCWD : proc_fd, path, t, sizeof t - 1);
	t[n > 0 ? n : 0] = 0;
	printf("readlink %s: %s\n", path, n < 0 ? rstr(n) : t);
	check_text(path, t);
}

/* The canary by every relative trick from a directory path. */
static void try_from(const char *label, const char *dir, const char *canary)
{
	char p[8192];
	const char *ups[] = { "..", "../..", "../../..", "../../../../../../../..", "." };
	for (size_t k = 0; k < sizeof ups / sizeof *ups; k++) {
		snprintf(p, sizeof p, "%s/%s/canary", dir, ups[k]);
		char l[256];
		snprintf(l, sizeof l, "%s %s/canary", label, ups[k]);
		show(l, p);
		snprintf(p, sizeof p, "%s/%s%s", dir, ups[k], canary);
		snprintf(l, sizeof l, "%s %s+CANARY", label, ups[k]);
		show(l, p);
	}
	/* walk up one ".." at a time from the directory itself */
	long d = open_at(dir, O_RDONLY | O_DIRECTORY);
	if (d < 0) {
		printf("%s: open: %s\n", label, rstr(d));
		return;
	}
	for (int i = 0; i < 40; i++) {
		long up = rsys(SYS_openat, d, "..", O_RDONLY | O_DIRECTORY);
		if (up < 0)
			break;
		rsys(SYS_close, d);
		d = up;
	}
	char l[256];
	snprintf(l, sizeof l, "%s: canary from the top", label);
	show_fd(l, rsys(SYS_openat, d, canary + 1, O_RDONLY));
	snprintf(l, sizeof l, "%s: ../canary from the top", label);
	show_fd(l, rsys(SYS_openat, d, "../canary", O_RDONLY));
	rsys(SYS_close, d);
}

static void mode_links(const char *canary)
{
	proc_fd = rsys(SYS_open, "/proc", O_RDONLY | O_DIRECTORY);
	printf("open /proc: %s\n", rstr(proc_fd));
	show_link("self/root");
	show_link("self/cwd");
	show_link("self/exe");
	try_from("root", "self/root", canary);
	try_from("cwd", "self/cwd", canary);
	try_from("1/root", "1/root", canary);

	/* a directory fd kept across chdir and chroot */
	long top = rsys(SYS_open, "/", O_RDONLY | O_DIRECTORY);
	long sub = rsys(SYS_open, "/sub", O_RDONLY | O_DIRECTORY);
	rsys(SYS_mkdir, "/jail", 0755);
	rsys(SYS_mkdir, "/jail/in", 0755);
	printf("chdir /sub: %s\n", rstr(rsys(SYS_chdir, "/sub")));
	printf("chroot /jail: %s\n", rstr(rsys(SYS_chroot, "/jail")));
	/* cwd is now outside the new root: still inside the sandbox */
	show_link("self/cwd");
	show_link("self/root");
	try_from("jailed cwd", "self/cwd", canary);
	try_from("jailed root", "self/root", canary);
	char p[256];
	snprintf(p, sizeof p, "self/fd/%ld", top);
	show_link(p);
	try_from("kept / fd", p, canary);
	snprintf(p, sizeof p, "self/fd/%ld", sub);
	show_link(p);
	try_from("kept /sub fd", p, canary);
	printf("chdir /in: %s\n", rstr(rsys(SYS_chdir, "/in")));
	show_link("self/cwd");
	try_from("jailed cwd 2", "self/cwd", canary);

	/* a chrooted child looks at its parent and at init */
	long pid = rsys(SYS_getpid);
	long child = fork();
	if (child == 0) {
		rsys(SYS_mkdir, "/in/deeper", 0755);
		printf("child chroot: %s\n", rstr(rsys(SYS_chroot, "/in/deeper")));
		char d[64];
		snprintf(d, sizeof d, "%ld/cwd", pid);
		show_link(d);
		try_from("parent's cwd", d, canary);
		snprintf(d, sizeof d, "%ld/root", pid);
		try_from("parent's root", d, canary);
		show_link("1/root");
		try_from("init's root", "1/root", canary);
		snprintf(d, sizeof d, "%ld/fd/%ld", pid, top);
		try_from("parent's kept fd", d, canary);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(child, &st, 0);
	printf("child: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void scan_text(const char *what, const char *path)
{
	long fd = rsys(SYS_open, path, O_RDONLY);
	if (fd < 0) {
		printf("%s: %s\n", what, rstr(fd));
		return;
	}
	size_t got = 0;
	long n;
	while (got < sizeof buf - 1 && (n = rsys(SYS_read, fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	rsys(SYS_close, fd);
	printf("%s: %s\n", what, got ? "read" : "empty");
	check_text(what, buf);
	if (strstr(buf, "cocoon-canary-"))
		printf("ESCAPED: %s holds the canary\n", what);
}

static void mode_files(const char *canary, long victim)
{
	/* stdio is the runner's: /dev/null and two host files; reopening
	 * must not give more access than the fds have */
	for (int fd = 0; fd < 3; fd++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		show_link(p);
		show(p, p);
		long w = rsys(SYS_open, p, O_RDWR);
		printf("%s O_RDWR: %s\n", p, rstr(w));
		if (w >= 0)
			rsys(SYS_close, w);
	}
	show("/proc/self/fd/9 (the runner's fd 9 is the canary)", "/proc/self/fd/9");
	show("/dev/fd/9", "/dev/fd/9");
	/* an fd of the sandbox's own, reopened writable */
	long ro = rsys(SYS_open, "/abslink", O_RDONLY);
	printf("open abslink: %s\n", rstr(ro));
	rsys(SYS_symlink, "/proc/self/fd/0", "/sub/stdin-link");
	show("link to fd 0", "/sub/stdin-link");
	/* the program, mapped: maps shows it by its sandbox path */
	long me = rsys(SYS_open, "/proc/self/exe", O_RDONLY);
	void *m = me >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, me, 0) : MAP_FAILED;
	printf("map exe: %s\n", m == MAP_FAILED ? "failed" : "ok");
	scan_text("maps", "/proc/self/maps");
	scan_text("smaps", "/proc/self/smaps");
	scan_text("mounts", "/proc/self/mounts");
	scan_text("mountinfo", "/proc/self/mountinfo");
	scan_text("status", "/proc/self/status");
	scan_text("environ", "/proc/self/environ");
	scan_text("1/cmdline", "/proc/1/cmdline");
	char p[64];
	/* the victim is a host process: its pid names nothing here (or a
	 * guest process that happens to have the same number) */
	snprintf(p, sizeof p, "/proc/%ld/cmdline", victim);
	scan_text("victim cmdline", p);
	snprintf(p, sizeof p, "/proc/%ld/root", victim);
	try_from("victim root", p, canary);
	long kill = rsys(SYS_kill, victim, 0);
	printf("kill victim 0: %s\n", rstr(kill));
	/* every fd of the process, and of init */
	for (int pid = 0; pid < 2; pid++) {
		for (int fd = 0; fd < 16; fd++) {
			snprintf(p, sizeof p, pid ? "/proc/1/fd/%d" : "/proc/self/fd/%d", fd);
			char t[4096];
			long n = rsys(SYS_readlink, p, t, sizeof t - 1);
			t[n > 0 ? n : 0] = 0;
			check_text(p, t);
			snprintf(p, sizeof p, pid ? "/proc/1/fdinfo/%d" : "/proc/self/fdinfo/%d", fd);
			long f = rsys(SYS_open, p, O_RDONLY);
			if (f >= 0) {
				long r = rsys(SYS_read, f, t, sizeof t - 1);
				t[r > 0 ? r : 0] = 0;
				check_text(p, t);
				rsys(SYS_close, f);
			}
		}
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 4) {
		printf("usage: escape_proc CANARY VICTIM MODE\n");
		return 2;
	}
	const char *canary = argv[1], *mode = argv[3];
	snprintf(host_dir, sizeof host_dir, "%s", canary);
	char *slash = strrchr(host_dir, '/');
	if (slash)
		*slash = 0;
	if (!strcmp(mode, "links"))
		mode_links(canary);
	else if (!strcmp(mode, "files"))
		mode_files(canary, atol(argv[2]));
	else {
		printf("unknown mode %s\n", mode);
		return 2;
	}
	printf("contained\n");
	return 0;
}
