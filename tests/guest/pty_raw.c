/* Raw mode on a pty: cfmakeraw, VMIN/VTIME (MIN only, MIN with an
 * inter-byte timer, TIME alone, neither), O_NONBLOCK (EAGAIN on both
 * sides), ICRNL/INLCR/IGNCR, ISIG with NOFLSH keeping typed input,
 * epoll on the master and the slave, and packet mode. */
#include "pty_util.h"
#include <sys/epoll.h>
#include <time.h>

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void setcc(int s, int min, int time)
{
	struct termios t;
	tcgetattr(s, &t);
	t.c_cc[VMIN] = min;
	t.c_cc[VTIME] = time;
	tcsetattr(s, TCSANOW, &t);
}

int main(void)
{
	int m, s;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (open_pair(&m, &s, 0)) {
		printf("no pty\n");
		return 1;
	}
	struct termios t;
	tcgetattr(s, &t);
	cfmakeraw(&t);
	tcsetattr(s, TCSANOW, &t);
	char buf[64];
	struct timespec t0;

	put(m, "ab\r\003");
	usleep(20000);
	ssize_t n = read(s, buf, sizeof(buf));
	printf("raw read %zd: %s\n", n, n == 4 && !memcmp(buf, "ab\r\003", 4) ? "bytes as typed" : "?");
	printf("no echo [%s]\n", drain(m, 30));

	setcc(s, 3, 0); /* VMIN 3: wait for three bytes */
	if (fork() == 0) {
		usleep(50000);
		put(m, "x");
		usleep(50000);
		put(m, "yz");
		_exit(0);
	}
	n = read(s, buf, sizeof(buf));
	printf("VMIN 3 read %zd\n", n);
	wait(NULL);

	setcc(s, 10, 2); /* VMIN 10, VTIME 0.2 s after each byte */
	put(m, "12");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = read(s, buf, sizeof(buf));
	long ms = ms_since(&t0);
	printf("VMIN 10 VTIME 2 read %zd after the timer: %s\n", n, ms >= 150 && ms < 2000 ? "yes" : "no");

	setcc(s, 0, 2); /* VTIME alone: 0 after 0.2 s */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = read(s, buf, sizeof(buf));
	ms = ms_since(&t0);
	printf("VTIME 2 read %zd, waited: %s\n", n, ms >= 150 && ms < 2000 ? "yes" : "no");
	put(m, "q");
	usleep(20000);
	n = read(s, buf, sizeof(buf));
	printf("VTIME 2 with data read %zd\n", n);

	setcc(s, 0, 0); /* neither: what is there */
	n = read(s, buf, sizeof(buf));
	printf("VMIN 0 VTIME 0 read %zd\n", n);

	setcc(s, 1, 0);
	fcntl(s, F_SETFL, O_NONBLOCK);
	fcntl(m, F_SETFL, O_NONBLOCK);
	errno = 0;
	n = read(s, buf, sizeof(buf));
	printf("non-blocking slave read %zd %s\n", n, errname(errno));
	errno = 0;
	n = read(m, buf, sizeof(buf));
	printf("non-blocking master read %zd %s\n", n, errname(errno));
	fcntl(s, F_SETFL, 0);
	fcntl(m, F_SETFL, 0);

	/* Input translations. */
	tcgetattr(s, &t);
	t.c_iflag |= ICRNL;
	tcsetattr(s, TCSANOW, &t);
	put(m, "\r");
	usleep(20000);
	n = read(s, buf, 1);
	printf("ICRNL: %d\n", buf[0]);
	t.c_iflag = INLCR;
	tcsetattr(s, TCSANOW, &t);
	put(m, "\n");
	usleep(20000);
	n = read(s, buf, 1);
	printf("INLCR: %d\n", buf[0]);
	t.c_iflag = IGNCR;
	tcsetattr(s, TCSANOW, &t);
	put(m, "\rk");
	usleep(20000);
	n = read(s, buf, sizeof(buf));
	printf("IGNCR: %zd %c\n", n, buf[0]);

	/* ISIG with NOFLSH: ^C signals (ignored here), typed input stays. */
	t.c_iflag = 0;
	t.c_lflag |= ISIG | NOFLSH;
	tcsetattr(s, TCSANOW, &t);
	signal(SIGINT, SIG_IGN);
	setsid(); /* not a group leader: a session whose terminal this is */
	ioctl(s, TIOCSCTTY, 0);
	put(m, "keep\003");
	usleep(20000);
	n = read(s, buf, sizeof(buf));
	printf("NOFLSH: read %zd\n", n);
	t.c_lflag &= ~NOFLSH;
	tcsetattr(s, TCSANOW, &t);
	put(m, "lose\003");
	usleep(20000);
	int avail = -1;
	ioctl(s, FIONREAD, &avail);
	printf("without NOFLSH: %d left\n", avail);

	/* epoll on both ends. */
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
	epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev);
	ev.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	struct epoll_event out[4];
	printf("epoll idle: %d\n", epoll_wait(ep, out, 4, 50));
	if (fork() == 0) {
		usleep(50000);
		put(s, "to master");
		_exit(0);
	}
	n = epoll_wait(ep, out, 4, 2000);
	printf("epoll: %zd event(s), master: %s\n", n, n == 1 && out[0].data.u32 == 1 ? "yes" : "no");
	wait(NULL);
	drain(m, 20);
	put(m, "to slave");
	n = epoll_wait(ep, out, 4, 2000);
	printf("epoll: %zd event(s), slave: %s\n", n, n == 1 && out[0].data.u32 == 2 ? "yes" : "no");
	read(s, buf, sizeof(buf));

	/* Packet mode: a status byte first. */
	int one = 1, pk = -1;
	printf("TIOCPKT: %d\n", ioctl(m, TIOCPKT, &one));
	ioctl(m, TIOCGPKT, &pk);
	printf("TIOCGPKT: %d\n", pk);
	put(s, "pk");
	usleep(20000);
	n = read(m, buf, sizeof(buf));
	printf("packet read %zd: %d %.*s\n", n, buf[0], (int)(n - 1), buf + 1);
	tcflush(s, TCIFLUSH);
	usleep(20000);
	n = read(m, buf, sizeof(buf));
	printf("packet after flush %zd: %d\n", n, buf[0]);
	signal(SIGHUP, SIG_IGN); /* we lead the session the master's close hangs up */
	close(s);
	close(m);
	return expect_failures != 0;
}
