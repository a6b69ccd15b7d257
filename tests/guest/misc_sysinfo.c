/* sysinfo: uptime from the clock, process count and memory figures
 * sensible; getrandom's flags. */
#include "util.h"
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>

int main(void)
{
	struct sysinfo si;
	res("sysinfo", rsys(SYS_sysinfo, &si));
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	long up = ts.tv_sec + (ts.tv_nsec ? 1 : 0);
	printf("uptime matches CLOCK_BOOTTIME: %s\n", si.uptime >= up - 1 && si.uptime <= up + 1 ? "yes" : "no");
	printf("procs >= 1: %s\n", si.procs >= 1 ? "yes" : "no");
	printf("mem_unit >= 1: %s\n", si.mem_unit >= 1 ? "yes" : "no");
	printf("freeram <= totalram: %s\n", si.freeram <= si.totalram && si.totalram > 0 ? "yes" : "no");
	printf("freeswap <= totalswap: %s\n", si.freeswap <= si.totalswap ? "yes" : "no");
	unsigned short before = si.procs;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	struct sysinfo si2;
	rsys(SYS_sysinfo, &si2);
	printf("a child counts: %s\n", si2.procs >= before + 1 || si2.procs > 30 ? "yes" : "no");
	kill(pid, 9);
	waitpid(pid, NULL, 0);
	res("sysinfo bad pointer", rsys(SYS_sysinfo, 8));

	char buf[64];
	resv("getrandom 16", rsys(SYS_getrandom, buf, 16, 0));
	resv("getrandom NONBLOCK", rsys(SYS_getrandom, buf, 16, 1));
	resv("getrandom RANDOM", rsys(SYS_getrandom, buf, 16, 2));
	resv("getrandom INSECURE", rsys(SYS_getrandom, buf, 16, 4));
	resv("getrandom RANDOM|INSECURE", rsys(SYS_getrandom, buf, 16, 6));
	resv("getrandom unknown bit", rsys(SYS_getrandom, buf, 16, 8));
	resv("getrandom 0 bytes", rsys(SYS_getrandom, buf, 0, 0));
	resv("getrandom bad pointer", rsys(SYS_getrandom, 8, 16, 0));
	return 0;
}
