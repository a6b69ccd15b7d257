/* Controlling terminals and job control on a pty: setsid + TIOCSCTTY
 * (and its EPERM cases), the O_NOCTTY rule of a session leader's first
 * open, /dev/tty (ENXIO without a controlling terminal), TIOCGPGRP,
 * TIOCSPGRP (ENOTTY, EPERM, ESRCH, EINVAL; SIGTTOU from the background
 * unless blocked), TIOCGSID, a background read stopped by SIGTTIN (EIO
 * when SIGTTIN is ignored), a background write with TOSTOP stopped by
 * SIGTTOU, ^C/^Z/^\ typed on the master reaching the foreground group,
 * TIOCNOTTY, and the master's close hanging up the session (SIGHUP to
 * its leader, EIO/0 on the slave). */
#include <stdbool.h>
#include "pty_util.h"
#include <sys/sysmacros.h>

static int m, s;
static int to_parent[2], to_leader[2];

static void tell(int fd, char c) { write(fd, &c, 1); }
static char hear(int fd)
{
	char c = 0;
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	return c;
}

static const char *status(int st)
{
	static char b[64];
	if (WIFEXITED(st))
		snprintf(b, sizeof(b), "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(b, sizeof(b), "killed by %s", strsignal(WTERMSIG(st)));
	else if (WIFSTOPPED(st))
		snprintf(b, sizeof(b), "stopped by %s", strsignal(WSTOPSIG(st)));
	else
		snprintf(b, sizeof(b), "?");
	return b;
}

/* A child of the leader in a group of its own, which runs fn. */
static pid_t job(void (*fn)(void), bool foreground)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		fn();
		_exit(0);
	}
	setpgid(pid, pid);
	if (foreground)
		tcsetpgrp(s, pid);
	return pid;
}

static void bg_read(void)
{
	char c;
	errno = 0;
	ssize_t n = read(s, &c, 1);
	printf("background read returned %zd %s\n", n, errname(errno));
}

static void bg_read_ignored(void)
{
	signal(SIGTTIN, SIG_IGN);
	bg_read();
}

static void bg_write(void)
{
	ssize_t n = write(s, "x", 1);
	printf("background write returned %zd\n", n);
}

static void wait_forever(void)
{
	for (;;)
		pause();
}

static volatile sig_atomic_t got_hup, got_cont;
static void on_hup(int sig) { got_hup = 1; }
static void on_cont(int sig) { got_cont = 1; }

static void leader(void)
{
	close(m);
	lres("TIOCSCTTY before setsid", ioctl(s, TIOCSCTTY, 0));
	pid_t sid = setsid();
	expect(sid == getpid(), "setsid");
	lres("open /dev/tty without a terminal", open("/dev/tty", O_RDWR));
	int pg = -1;
	lres("TIOCGPGRP of no one's terminal", ioctl(s, TIOCGPGRP, &pg));
	lres("TIOCSCTTY", ioctl(s, TIOCSCTTY, 0));
	lres("TIOCSCTTY again", ioctl(s, TIOCSCTTY, 0));
	expect(tcgetsid(s) == getpid(), "tcgetsid is our session");
	expect(tcgetpgrp(s) == getpgrp(), "we are the foreground group");
	int tty = open("/dev/tty", O_RDWR);
	expect(tty >= 0, "/dev/tty opens");
	struct stat a;
	expect(fstat(tty, &a) == 0 && a.st_rdev == makedev(5, 0), "/dev/tty is 5:0");
	expect(tcgetsid(tty) == getpid() && tcgetpgrp(tty) == getpgrp(), "/dev/tty is the slave");
	close(tty);
	lres("TIOCSPGRP -1", tcsetpgrp(s, -1));
	lres("TIOCSPGRP of no group", tcsetpgrp(s, 32000));
	lres("TIOCSPGRP of another session's group", tcsetpgrp(s, getppid()));

	/* A background reader stops with SIGTTIN; in the foreground it reads. */
	int st;
	pid_t j = job(bg_read, false);
	waitpid(j, &st, WUNTRACED);
	printf("background reader: %s\n", status(st));
	tcsetpgrp(s, j);
	kill(j, SIGCONT);
	tell(to_parent[1], 'L'); /* parent: type a line */
	waitpid(j, &st, 0);
	printf("foreground reader: %s\n", status(st));
	/* Back to us from the background: SIGTTOU, unless blocked. */
	sigset_t ttou, old;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	lres("tcsetpgrp from the background, SIGTTOU blocked", tcsetpgrp(s, getpgrp()));
	sigprocmask(SIG_SETMASK, &old, NULL);

	j = job(bg_read_ignored, false);
	waitpid(j, &st, WUNTRACED);
	printf("background reader ignoring SIGTTIN: %s\n", status(st));

	struct termios t;
	tcgetattr(s, &t);
	t.c_lflag |= TOSTOP;
	tcsetattr(s, TCSANOW, &t);
	j = job(bg_write, false);
	waitpid(j, &st, WUNTRACED);
	printf("background writer with TOSTOP: %s\n", status(st));
	kill(j, SIGKILL);
	waitpid(j, &st, 0);
	t.c_lflag &= ~TOSTOP;
	tcsetattr(s, TCSANOW, &t);
	j = job(bg_write, false);
	waitpid(j, &st, WUNTRACED);
	printf("background writer without TOSTOP: %s\n", status(st));

	/* Characters typed on the master signal the foreground group. */
	const char keys[] = { 'C', 'Z', 'Q' };
	for (int k = 0; k < 3; k++) {
		j = job(wait_forever, true);
		tell(to_parent[1], keys[k]);
		waitpid(j, &st, WUNTRACED);
		printf("^%c: %s\n", keys[k], status(st));
		if (WIFSTOPPED(st)) {
			kill(j, SIGKILL);
			waitpid(j, &st, 0);
		}
		sigprocmask(SIG_BLOCK, &ttou, &old);
		tcsetpgrp(s, getpgrp());
		sigprocmask(SIG_SETMASK, &old, NULL);
	}

	/* TIOCNOTTY by the leader: its foreground group hears SIGHUP and
	 * SIGCONT, the session has no terminal any more. */
	signal(SIGHUP, on_hup);
	signal(SIGCONT, on_cont);
	lres("TIOCNOTTY", ioctl(s, TIOCNOTTY));
	printf("SIGHUP %d SIGCONT %d\n", got_hup, got_cont);
	lres("open /dev/tty after TIOCNOTTY", open("/dev/tty", O_RDWR));
	lres("TIOCGPGRP after TIOCNOTTY", ioctl(s, TIOCGPGRP, &pg));
	/* Opening the slave without O_NOCTTY makes it ours again. */
	char name[64];
	ttyname_r(s, name, sizeof(name));
	int s2 = open(name, O_RDWR);
	expect(tcgetsid(s2) == getpid(), "the first open of a leader makes it the controlling terminal");
	close(s2);

	/* The master goes: SIGHUP for us, the leader. */
	got_hup = got_cont = 0;
	tell(to_parent[1], 'H');
	while (!got_hup)
		pause();
	printf("hangup: SIGHUP %d\n", got_hup);
	char c;
	errno = 0;
	ssize_t n = read(s, &c, 1);
	printf("slave read after hangup %zd %s\n", n, errname(errno));
	lres("slave write after hangup", write(s, "x", 1));
	lres("open /dev/tty after hangup", open("/dev/tty", O_RDWR));
	tell(to_parent[1], 'E');
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (open_pair(&m, &s, 0)) {
		printf("no pty\n");
		return 1;
	}
	pipe(to_parent);
	pipe(to_leader);
	int pg;
	lres("TIOCGPGRP of not our terminal", ioctl(s, TIOCGPGRP, &pg));
	lres("TIOCGSID of not our terminal", ioctl(s, TIOCGSID, &pg));
	lres("TIOCSPGRP of not our terminal", tcsetpgrp(s, getpgrp()));
	lres("TIOCNOTTY of not our terminal", ioctl(s, TIOCNOTTY));
	pid_t l = fork();
	if (l == 0) {
		leader();
		_exit(expect_failures != 0);
	}
	for (;;) {
		char c = hear(to_parent[0]);
		if (c == 'L') {
			put(m, "a line\n");
		} else if (c == 'C' || c == 'Z' || c == 'Q') {
			usleep(50000); /* the job is in the foreground */
			put(m, c == 'C' ? "\003" : c == 'Z' ? "\032" : "\034");
		} else if (c == 'H') {
			int sid = -1;
			ioctl(m, TIOCGSID, &sid);
			expect(sid == l, "TIOCGSID through the master");
			drain(m, 50);
			close(m);
		} else {
			break;
		}
	}
	int st;
	waitpid(l, &st, 0);
	printf("leader: %s\n", status(st));
	return expect_failures != 0 || !WIFEXITED(st) || WEXITSTATUS(st);
}
