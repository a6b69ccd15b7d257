/* Pseudo-terminals, one process: posix_openpt/grantpt/unlockpt/ptsname,
 * the slave's node (major 136, mode, owner), the lock (EIO before
 * unlockpt), TIOCGPTN/TIOCGPTLCK/TIOCGPTPEER, isatty and ttyname, the
 * default termios and a round trip through the master, canonical input
 * with echo, ERASE/WERASE/KILL/EOF, ECHOCTL and ECHONL, output
 * processing (ONLCR, OCRNL, XTABS), FIONREAD on both sides, poll, and
 * the ends: slave closed (master reads EIO once drained, POLLHUP),
 * master closed (slave reads 0, writes EIO, the name goes). */
#include "pty_util.h"
#include <sys/sysmacros.h>

static void show_termios(const char *label, const struct termios *t)
{
	printf("%s: iflag %o oflag %o cflag %o lflag %o", label, t->c_iflag, t->c_oflag,
	       t->c_cflag, t->c_lflag);
	printf(" cc");
	for (int i = 0; i < 17; i++)
		printf(" %d", t->c_cc[i]);
	printf(" speed %d/%d\n", (int)cfgetispeed(t), (int)cfgetospeed(t));
}

static void line(int m, int s, const char *in, const char *label)
{
	put(m, in);
	char buf[256];
	struct pollfd p = { s, POLLIN, 0 };
	int ready = poll(&p, 1, 2000); /* every line here makes the slave readable */
	ssize_t n = ready == 1 ? read(s, buf, sizeof(buf) - 1) : -2;
	if (n >= 0)
		buf[n] = 0;
	/* Every line but a lone EOF echoes something. */
	printf("%s: read %zd [%s] echo [%s]\n", label, n, n > 0 ? buf : "",
	       strcmp(in, "\004") ? drain_expected(m) : drain(m, 50));
}

int main(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	expect(m >= 0, "posix_openpt");
	struct stat st;
	expect(fstat(m, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 &&
	       minor(st.st_rdev) == 2, "the master is ptmx (5:2)");
	int lock = -1;
	expect(ioctl(m, TIOCGPTLCK, &lock) == 0 && lock == 1, "a new pty is locked");
	char *name = ptsname(m);
	unsigned ptn = 99;
	expect(ioctl(m, TIOCGPTN, &ptn) == 0, "TIOCGPTN");
	char want[32];
	snprintf(want, sizeof(want), "/dev/pts/%u", ptn);
	expect(name && !strcmp(name, want), "ptsname is /dev/pts/N");
	lres("open locked slave", open(name, O_RDWR | O_NOCTTY));
	lres("TIOCGPTPEER locked", ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
	lres("grantpt", grantpt(m));
	lres("unlockpt", unlockpt(m));
	expect(ioctl(m, TIOCGPTLCK, &lock) == 0 && lock == 0, "unlocked");
	int s = open(name, O_RDWR | O_NOCTTY);
	expect(s >= 0, "slave opens");
	expect(stat(name, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 + ptn / 256 &&
	       minor(st.st_rdev) == ptn % 256, "slave node is 136:N");
	expect(st.st_uid == geteuid(), "slave owned by its creator");
	struct stat fst;
	expect(fstat(s, &fst) == 0 && fst.st_ino == st.st_ino && fst.st_dev == st.st_dev &&
	       fst.st_rdev == st.st_rdev, "fstat of the slave is its node");
	printf("slave mode %o\n", st.st_mode & 07777);
	struct stat dst;
	expect(stat("/dev/pts", &dst) == 0 && S_ISDIR(dst.st_mode), "/dev/pts is a directory");
	expect(isatty(m) && isatty(s), "both ends are ttys");
	char tn[64];
	expect(ttyname_r(s, tn, sizeof(tn)) == 0 && !strcmp(tn, name), "ttyname of the slave");
	int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	expect(peer >= 0 && fstat(peer, &fst) == 0 && fst.st_rdev == st.st_rdev, "TIOCGPTPEER opens the slave");
	expect(ttyname_r(peer, tn, sizeof(tn)) == 0 && !strcmp(tn, name), "ttyname of the peer");
	close(peer);
	lres("TIOCGPTN on the slave", ioctl(s, TIOCGPTN, &ptn));

	struct termios t, t2;
	memset(&t, 0, sizeof(t));
	memset(&t2, 0, sizeof(t2));
	expect(tcgetattr(s, &t) == 0, "tcgetattr slave");
	show_termios("default", &t);
	expect(tcgetattr(m, &t2) == 0 && !memcmp(&t, &t2, sizeof(t)), "the master shows the slave's termios");
	t.c_cc[VERASE] = 010;
	cfsetospeed(&t, B9600);
	expect(tcsetattr(m, TCSANOW, &t) == 0, "tcsetattr through the master");
	expect(tcgetattr(s, &t2) == 0 && t2.c_cc[VERASE] == 010 && cfgetospeed(&t2) == B9600,
	       "the slave sees it");
	t.c_cc[VERASE] = 0177;
	tcsetattr(s, TCSANOW, &t);
	struct winsize ws = { 24, 80, 0, 0 }, ws2;
	expect(ioctl(m, TIOCSWINSZ, &ws) == 0 && ioctl(s, TIOCGWINSZ, &ws2) == 0 &&
	       ws2.ws_row == 24 && ws2.ws_col == 80, "window size set on the master, seen on the slave");

	/* Canonical input and echo. */
	line(m, s, "hello\n", "line");
	line(m, s, "abc\177d\r", "erase, CR");
	line(m, s, "one two\027three\n", "werase");
	line(m, s, "junk\025ok\n", "kill");
	line(m, s, "x\001y\n", "ctrl echo");
	line(m, s, "tab\there\177\177\177\177x\n", "erase tab");
	line(m, s, "\004", "eof");
	line(m, s, "part\004", "eof ends a line");
	line(m, s, "\026\003lit\n", "lnext");
	put(m, "two\nlines\n");
	struct pollfd ps = { s, POLLIN, 0 };
	poll(&ps, 1, 500);
	usleep(20000); /* Linux hands the input over asynchronously */
	int n = -1;
	int r = ioctl(s, FIONREAD, &n);
	expect(r == 0 && n == 10, "FIONREAD of the slave: %d", n);
	drain(m, 20);
	char buf[64];
	printf("first read %zd\n", read(s, buf, sizeof(buf)));
	printf("second read %zd\n", read(s, buf, sizeof(buf)));
	put(m, "pending");
	usleep(20000);
	r = ioctl(s, FIONREAD, &n);
	expect(r == 0 && n == 0, "an unfinished line is not there yet: %d", n);
	tcflush(s, TCIFLUSH);
	drain(m, 20);

	/* Echo variants. */
	tcgetattr(s, &t);
	t.c_lflag &= ~(ECHO | ECHOCTL);
	t.c_lflag |= ECHONL;
	tcsetattr(s, TCSANOW, &t);
	line(m, s, "quiet\n", "echonl");
	t.c_lflag |= ECHO;
	t.c_lflag &= ~(ECHOE | ECHOK | ECHONL);
	tcsetattr(s, TCSANOW, &t);
	line(m, s, "ab\177c\025d\n", "no echoe/echok");
	t.c_lflag |= ECHOE | ECHOK | ECHOCTL | ECHOKE;
	tcsetattr(s, TCSANOW, &t);

	/* Output processing. */
	put(s, "out\n");
	printf("onlcr [%s]\n", drain_expected(m));
	t.c_oflag |= OCRNL | XTABS;
	tcsetattr(s, TCSANOW, &t);
	put(s, "a\tb\rc\n");
	printf("ocrnl xtabs [%s]\n", drain_expected(m));
	t.c_oflag &= ~OPOST;
	tcsetattr(s, TCSANOW, &t);
	put(s, "raw\n");
	printf("no opost [%s]\n", drain_expected(m));
	t.c_oflag |= OPOST;
	t.c_oflag &= ~(OCRNL | XTABS);
	tcsetattr(s, TCSANOW, &t);
	put(s, "12345");
	/* Until the five bytes are there (2 s at most): Linux hands them
	 * over asynchronously, late on a busy machine. */
	for (int i = 0; i < 200 && (ioctl(m, FIONREAD, &n) != 0 || n < 5); i++)
		usleep(10000);
	r = ioctl(m, FIONREAD, &n);
	expect(r == 0 && n == 5, "FIONREAD of the master: %d", n);
	drain(m, 20);

	/* poll */
	struct pollfd pf[2] = { { m, POLLIN | POLLOUT, 0 }, { s, POLLIN | POLLOUT, 0 } };
	poll(pf, 2, 0);
	printf("poll idle: master %x slave %x\n", pf[0].revents, pf[1].revents);
	put(m, "x\n");
	put(s, "y");
	/* Each side's data arrives on its own: poll until both have it (or
	 * 2 s), not just the first. */
	for (int i = 0; i < 200; i++) {
		poll(pf, 2, 0); /* (POLLOUT is always there: no waiting in poll) */
		if ((pf[0].revents & POLLIN) && (pf[1].revents & POLLIN))
			break;
		usleep(10000);
	}
	printf("poll data: master %x slave %x\n", pf[0].revents, pf[1].revents);
	drain(m, 20);
	read(s, buf, sizeof(buf));

	/* The slave closes: the master drains, then EIO. */
	put(s, "last");
	close(s);
	n = read(m, buf, sizeof(buf));
	printf("after slave close: %d\n", n);
	errno = 0;
	n = read(m, buf, sizeof(buf));
	printf("then: %d %s\n", n, errname(errno));
	pf[0] = (struct pollfd){ m, POLLIN, 0 };
	poll(pf, 1, 0);
	printf("poll master: %x\n", pf[0].revents);
	lres("master write without slave", write(m, "z", 1));
	drain(m, 50); /* Linux echoes it or not, depending on the slave's past */
	s = open(name, O_RDWR | O_NOCTTY);
	expect(s >= 0, "the slave opens again");
	pf[0] = (struct pollfd){ m, POLLIN, 0 };
	/* Whether the held input's echo is still to come depends on when
	 * Linux's flush work ran (during the drain above, or once the slave
	 * is open): only the hang-up is checked. */
	poll(pf, 1, 0);
	printf("poll master again: hangup %d\n", !!(pf[0].revents & POLLHUP));

	/* The master closes: the slave is hung up. */
	close(m);
	errno = 0;
	n = read(s, buf, sizeof(buf));
	printf("slave read after hangup: %d %s\n", n, errname(errno));
	lres("slave write after hangup", write(s, "a", 1));
	lres("slave tcgetattr after hangup", tcgetattr(s, &t));
	pf[0] = (struct pollfd){ s, POLLIN | POLLOUT, 0 };
	poll(pf, 1, 0);
	printf("poll slave: %x\n", pf[0].revents);
	lres("the name is gone", stat(name, &st));
	lres("reopen", open(name, O_RDWR | O_NOCTTY));
	close(s);
	return expect_failures != 0;
}
