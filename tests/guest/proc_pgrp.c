/* Process groups and sessions: getpgid/getpgrp/getsid agree; children
 * inherit them; setpgid by the child itself and by the parent, into an
 * existing group of the session, a group that outlives its leader; the
 * errors (EPERM for a session leader, for another session, for a group
 * that does not exist; EACCES for a child that has exec'd; ESRCH for a
 * process that is not a child; EINVAL for a negative pgid); setsid (new
 * session and group, EPERM for a group leader); getsid/getpgid of other
 * processes and ESRCH; kill(-pgid) reaching the whole group.
 * Only relations are printed: the test's own group and session depend on
 * how it was started. The binary re-runs itself (argv[0]) for EACCES. */
#include "proc_util.h"

/* A child that blocks until its pipe is written or closed; it runs fn
 * first (if any) and exits with fn's result. */
struct kid { pid_t pid; int go; int done; };
/* The parent's ends of the pipes of live kids: a later kid closes them,
 * so that closing them in the parent gives EOF. */
static int kid_fds[64], nkid_fds;
static void forget_fd(int fd)
{
	for (int i = 0; i < nkid_fds; i++)
		if (kid_fds[i] == fd)
			kid_fds[i] = kid_fds[--nkid_fds];
	close(fd);
}
static struct kid start(int (*fn)(void))
{
	int p[2], d[2];
	pipe(p);
	pipe(d);
	pid_t pid = xfork();
	if (pid == 0) {
		for (int i = 0; i < nkid_fds; i++)
			close(kid_fds[i]);
		close(p[1]);
		close(d[0]);
		signal(SIGPIPE, SIG_IGN);   /* the parent may not wait for "done" */
		int r = fn ? fn() : 0;
		write(d[1], "r", 1);   /* fn is done */
		char c;
		read(p[0], &c, 1);
		_exit(r);
	}
	close(p[0]);
	close(d[1]);
	kid_fds[nkid_fds++] = p[1];
	kid_fds[nkid_fds++] = d[0];
	return (struct kid){ pid, p[1], d[0] };
}
static void ready(struct kid k) { char c; read(k.done, &c, 1); }
static int finish(struct kid k)
{
	forget_fd(k.go);
	forget_fd(k.done);
	int st = reap(k.pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

static pid_t parent_pid;

static int own_group(void) { return setpgid(0, 0) == 0 && getpgrp() == getpid() ? 1 : 0; }
static int inherit_check(void)
{
	int bits = 0;
	if (getpgrp() == getpgid(parent_pid)) bits |= 1;
	if (getsid(0) == getsid(parent_pid)) bits |= 2;
	return bits;
}
static int leader_setsid(void)
{
	if (setpgid(0, 0) < 0)
		return 100;
	return setsid() < 0 ? errno : 0;
}
static int new_session(void)
{
	pid_t s = setsid();
	int bits = 0;
	if (s == getpid()) bits |= 1;
	if (getsid(0) == getpid()) bits |= 2;
	if (getpgrp() == getpid()) bits |= 4;
	if (getpgid(0) == getpid()) bits |= 8;
	if (setpgid(0, 0) < 0 && errno == EPERM) bits |= 16;   /* a session leader */
	if (setsid() < 0 && errno == EPERM) bits |= 32;         /* already leads */
	if (getsid(parent_pid) != getpid()) bits |= 64;         /* another session is visible */
	return bits;
}

static void basics(void)
{
	printf("-- own ids\n");
	expect(getpgrp() == getpgid(0), "getpgrp() == getpgid(0)");
	expect(getpgid(getpid()) == getpgid(0), "getpgid(getpid()) == getpgid(0)");
	expect(getsid(getpid()) == getsid(0), "getsid(getpid()) == getsid(0)");
	res("getpgid(-1)", rsys(SYS_getpgid, -1));
	res("getsid(-1)", rsys(SYS_getsid, -1));
	res("setpgid(0, -1)", rsys(SYS_setpgid, 0, -1));
	res("setpgid(-1, 0)", rsys(SYS_setpgid, -1, 0));

	struct kid k = start(inherit_check);
	int r = finish(k);
	expect(r & 1, "a child inherits the process group");
	expect(r & 2, "a child inherits the session");
}

static void groups(void)
{
	printf("-- setpgid\n");
	struct kid a = start(own_group);
	ready(a);
	expect(getpgid(a.pid) == a.pid, "the child made its own group (seen by the parent)");
	expect(getsid(a.pid) == getsid(0), "still in the parent's session");
	/* Another child joins a's group; the parent moves it. */
	struct kid b = start(NULL);
	res("setpgid(b, a's group) by the parent", rsys(SYS_setpgid, b.pid, a.pid));
	expect(getpgid(b.pid) == a.pid, "b is in a's group");
	res("setpgid(b, b) by the parent", rsys(SYS_setpgid, b.pid, b.pid));
	res("setpgid(b, a's group) again", rsys(SYS_setpgid, b.pid, a.pid));
	res("setpgid(b, a group that does not exist)", rsys(SYS_setpgid, b.pid, b.pid + 100000));
	res("setpgid(b, 0): b leads again", rsys(SYS_setpgid, b.pid, 0));
	expect(getpgid(b.pid) == b.pid, "b's group is its pid");
	res("setpgid(b, a's group)", rsys(SYS_setpgid, b.pid, a.pid));
	/* a exits; its group lives on in b and can still be joined. */
	printf("a: exit %d\n", finish(a));
	expect(getpgid(b.pid) == a.pid, "the group outlives its leader");
	struct kid c = start(NULL);
	res("setpgid(c, the leaderless group)", rsys(SYS_setpgid, c.pid, a.pid));
	/* The whole group gets kill(-pgid). */
	res("kill(-group, SIGTERM)", rsys(SYS_kill, -a.pid, SIGTERM));
	int sb = reap(b.pid), sc = reap(c.pid);
	printf("b: %s, c: %s\n", status_str(sb), status_str(sc));
	forget_fd(b.go); forget_fd(b.done); forget_fd(c.go); forget_fd(c.done);
	res("kill(-group, 0) after they died", rsys(SYS_kill, -a.pid, 0));
	res("getpgid(reaped child)", rsys(SYS_getpgid, a.pid));
	res("getsid(reaped child)", rsys(SYS_getsid, a.pid));
	res("setpgid(reaped child, 0)", rsys(SYS_setpgid, a.pid, 0));

	/* A grandchild is not ours to move. */
	int p[2], r[2];
	pipe(p);
	pipe(r);
	pid_t m = xfork();
	if (m == 0) {
		close(r[0]);
		pid_t g = xfork();
		if (g == 0) {
			char ch;
			close(p[1]);
			close(r[1]);
			read(p[0], &ch, 1);
			_exit(0);
		}
		close(p[0]);
		close(p[1]);
		write(r[1], &g, sizeof g);
		close(r[1]);
		reap(g);
		_exit(0);
	}
	close(p[0]);
	close(r[1]);
	pid_t g = 0;
	read(r[0], &g, sizeof g);
	close(r[0]);
	res("setpgid(grandchild, 0)", rsys(SYS_setpgid, g, 0));
	expect(getpgid(g) == getpgrp(), "getpgid of a grandchild works (same group)");
	close(p[1]);
	reap(m);
}

static void sessions(void)
{
	printf("-- setsid\n");
	struct kid a = start(leader_setsid);
	printf("setsid in a group leader: %s\n", errname(finish(a)));
	a = start(new_session);
	ready(a);
	expect(getsid(a.pid) == a.pid, "the parent sees the child's new session");
	expect(getpgid(a.pid) == a.pid, "and its new group");
	expect(getsid(0) != a.pid, "the parent's session is unchanged");
	res("setpgid(child in another session, its own pid)", rsys(SYS_setpgid, a.pid, a.pid));
	res("setpgid(child in another session, our group)", rsys(SYS_setpgid, a.pid, getpgrp()));
	int bits = finish(a);
	expect(bits & 1, "setsid returns the new session id, the pid");
	expect(bits & 2, "getsid(0) == pid");
	expect(bits & 4, "getpgrp() == pid");
	expect(bits & 8, "getpgid(0) == pid");
	expect(bits & 16, "setpgid(0, 0) in a session leader: EPERM");
	expect(bits & 32, "setsid again: EPERM");
	expect(bits & 64, "getsid(parent) shows the other session");

	/* A child moving into a group of another session. */
	struct kid s = start(new_session);
	ready(s);
	struct kid b = start(NULL);
	res("setpgid(b, a group in another session)", rsys(SYS_setpgid, b.pid, s.pid));
	finish(s);
	finish(b);
}

static void after_exec(void)
{
	printf("-- a child that has exec'd\n");
	int p[2], e[2];
	pipe(p);
	pipe2(e, O_CLOEXEC);
	pid_t pid = xfork();
	if (pid == 0) {
		dup2(p[0], 3);
		close(p[1]);
		close(e[0]);
		execl(self_exe, self_exe, "wait3", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	close(e[1]);
	char c;
	read(e[0], &c, 1);   /* EOF: the exec happened (the write end was close-on-exec) */
	close(e[0]);
	res("setpgid(exec'd child, 0)", rsys(SYS_setpgid, pid, 0));
	res("setpgid(exec'd child, our group)", rsys(SYS_setpgid, pid, getpgrp()));
	close(p[1]);
	printf("the exec'd child: %s\n", status_str(reap(pid)));
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "wait3")) {
		char c;
		/* Its own setpgid still works after exec. */
		return setpgid(0, 0) == 0 && read(3, &c, 1) == 0 ? 3 : 4;
	}
	parent_pid = getpid();
	basics();
	groups();
	sessions();
	after_exec();
	return expect_failures ? 1 : 0;
}
