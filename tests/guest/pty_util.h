/* Helpers of the pty tests: a pair opened the POSIX way, and reads of
 * whatever a side has, printed with control characters visible. */
#ifndef COCOON_PTY_UTIL_H
#define COCOON_PTY_UTIL_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "util.h"

/* A master and its unlocked slave (O_NOCTTY unless ctty). */
static int open_pair(int *master, int *slave, int ctty)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m))
		return -1;
	char *name = ptsname(m);
	int s = name ? open(name, O_RDWR | (ctty ? 0 : O_NOCTTY)) : -1;
	if (s < 0)
		return -1;
	*master = m;
	*slave = s;
	return 0;
}

/* Everything fd has, escaped into out: waits up to first_ms for the
 * first bytes, then takes more until ms milliseconds of quiet. (Linux
 * moves the data between a pty's ends in a work item, which a busy
 * machine can run late: where data is sure to come, wait long for it.) */
static const char *drain_first(int fd, int first_ms, int ms)
{
	static char out[4096];
	size_t o = 0;
	struct pollfd p = { fd, POLLIN, 0 };
	char buf[512];
	for (int wait = first_ms; poll(&p, 1, wait) == 1 && (p.revents & POLLIN); wait = ms) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && o < sizeof(out) - 8; i++) {
			unsigned char c = buf[i];
			if (c == '\r')
				o += sprintf(out + o, "\\r");
			else if (c == '\n')
				o += sprintf(out + o, "\\n");
			else if (c == '\b')
				o += sprintf(out + o, "\\b");
			else if (c < 32 || c >= 127)
				o += sprintf(out + o, "\\x%02x", c);
			else
				out[o++] = c;
		}
	}
	out[o] = 0;
	return out;
}

/* Everything fd has within ms milliseconds of quiet. */
static const char *drain(int fd, int ms) { return drain_first(fd, ms, ms); }

/* Data that is sure to come: up to 2 s for the first bytes. */
static const char *drain_expected(int fd) { return drain_first(fd, 2000, 50); }

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		printf("short write\n");
}

#endif
