/* The host's load (see hostload.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "platform/hostload.h"

int host_running_tasks(void)
{
	char buf[128];
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* "0.00 0.01 0.05 RUNNING/TOTAL LASTPID" */
	const char *p = buf;
	for (int field = 0; field < 3 && p; field++)
		p = strchr(p, ' '), p = p ? p + 1 : NULL;
	return p ? atoi(p) : -1;
}
