/* Who may read /proc/<pid>/maps and smaps of another process: Linux's
 * PTRACE_MODE_READ_FSCREDS, checked at open (EACCES): the reader's fs
 * uid and gid equal to all of the target's uids and gids and the target
 * dumpable, or the reader privileged; always its own; a zombie's are
 * empty to anyone. A file opened while allowed stays readable. As root,
 * children take other ids to try each case; otherwise only the
 * dumpable case is tried. */
#include "maps_util.h"
#include <grp.h>
#include <sys/prctl.h>

static int to_target[2], from_target[2];

/* The target: takes the ids asked, says so, then obeys one-letter
 * commands: 'd' non-dumpable, 'q' quit. */
static pid_t start_target(uid_t uid, gid_t gid, bool change)
{
	if (pipe(to_target) || pipe(from_target))
		return -1;
	pid_t pid = xfork();
	if (pid == 0) {
		close(to_target[1]);
		close(from_target[0]);
		if (change && (setresgid(gid, gid, gid) || setresuid(uid, uid, uid)))
			_exit(2);
		/* Changing ids makes Linux's processes non-dumpable: back. */
		prctl(PR_SET_DUMPABLE, 1);
		char c = 'r';
		if (write(from_target[1], &c, 1) != 1)
			_exit(3);
		while (read(to_target[0], &c, 1) == 1) {
			if (c == 'd')
				prctl(PR_SET_DUMPABLE, 0);
			if (c == 'q')
				_exit(0);
			if (write(from_target[1], &c, 1) != 1)
				_exit(3);
		}
		_exit(0);
	}
	close(to_target[0]);
	close(from_target[1]);
	char c;
	if (read(from_target[0], &c, 1) != 1)
		return -1;
	return pid;
}

static void command(char c)
{
	if (write(to_target[1], &c, 1) != 1 || (c != 'q' && read(from_target[0], &c, 1) != 1))
		expect(0, "the target answers");
}

/* Open /proc/<pid>/<file> as uid/gid (in a child when they change):
 * "ok" with the lines parsed, or the error. */
static void try_open(const char *label, pid_t pid, const char *file, bool change, uid_t uid, gid_t gid)
{
	int p[2];
	if (pipe(p))
		return;
	pid_t r = xfork();
	if (r == 0) {
		close(p[0]);
		if (change && (setresgid(gid, gid, gid) || setresuid(uid, uid, uid)))
			_exit(2);
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
		long n = maps_read(path);
		char out[64];
		snprintf(out, sizeof out, "%s%s", rstr(n), n > 0 && maps_parse() > 3 ? ", lines" : n == 0 ? ", empty" : "");
		if (write(p[1], out, strlen(out) + 1) < 0)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	char out[64] = "";
	if (read(p[0], out, sizeof out) <= 0)
		snprintf(out, sizeof out, "(no answer)");
	close(p[0]);
	reap(r);
	printf("%s: %s %s\n", label, file, out);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	bool root = geteuid() == 0;
	printf("as root: %s\n", root ? "yes" : "no");
	uid_t me = getuid();
	gid_t mg = getgid();
	uid_t u = root ? 1000 : me;
	gid_t g = root ? 1000 : mg;

	pid_t t = start_target(u, g, root);
	expect(t > 0, "target started");
	if (t <= 0)
		return 1;
	const char *files[] = { "maps", "smaps" };
	for (int i = 0; i < 2; i++) {
		try_open("same ids", t, files[i], root, u, g);
		if (root) {
			try_open("another uid", t, files[i], true, u + 1, g);
			try_open("another gid", t, files[i], true, u, g + 1);
			try_open("root", t, files[i], false, 0, 0);
		}
		try_open("status (no check)", t, "status", root, u + 1, g);
	}
	/* Opened while allowed: readable after the target stops being
	 * dumpable; opening again is refused. */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", t);
	int early = -1;
	if (!root)
		early = open(path, O_RDONLY);
	command('d');
	try_open("not dumpable, same ids", t, "maps", root, u, g);
	if (root)
		try_open("not dumpable, root", t, "maps", false, 0, 0);
	if (early >= 0) {
		char b[256];
		expect(read(early, b, sizeof b) > 0, "a maps file opened before stays readable");
		close(early);
	}
	/* Its own maps, not dumpable: always. */
	pid_t self = xfork();
	if (self == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		_exit(maps_read("/proc/self/maps") > 0 ? 0 : 1);
	}
	expect(reap(self) == 0, "a non-dumpable process reads its own maps");
	command('q');
	/* A zombie (not yet reaped): empty to everyone. */
	siginfo_t si;
	waitid(P_PID, t, &si, WEXITED | WNOWAIT);
	try_open("a zombie", t, "maps", root, u + 1, g);
	try_open("a zombie", t, "smaps", false, 0, 0);
	reap(t);
	return expect_failures ? 1 : 0;
}
