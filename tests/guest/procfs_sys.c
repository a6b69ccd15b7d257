/* The files of /proc about the whole system and /proc/sys: their formats,
 * and that they agree with the system calls (uptime and btime with the
 * clocks, hostname with uname, the pids in loadavg). Values that differ
 * between the host and a sandbox are checked, not printed. */
#include "util.h"
#include <fcntl.h>
#include <stdbool.h>
#include <time.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>

static char buf[1 << 20];

static long slurp(const char *path)
{
	long fd = rsys(SYS_open, path, O_RDONLY);
	if (fd < 0)
		return fd;
	long got = 0, n;
	while (got < (long)sizeof buf - 1 && (n = rsys(SYS_read, fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	rsys(SYS_close, fd);
	return got;
}

static const char *line_starting(const char *prefix)
{
	size_t k = strlen(prefix);
	for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, prefix, k))
			return l;
	return NULL;
}

/* A file holding one number and a newline. */
static long long number(const char *path)
{
	long n = slurp(path);
	char *end;
	long long v = strtoll(buf, &end, 10);
	if (n <= 0 || end == buf || *end != '\n' || end[1])
		return -1;
	return v;
}

static void uuid_format(const char *what, char *out)
{
	long n = slurp(what);
	bool ok = n == 37 && buf[36] == '\n';
	for (int k = 0; ok && k < 36; k++)
		ok = (k == 8 || k == 13 || k == 18 || k == 23) ? buf[k] == '-' : !!strchr("0123456789abcdef", buf[k]);
	expect(ok, "%s: a uuid", what);
	memcpy(out, buf, 37);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct timespec mono, real;

	long n = slurp("/proc/uptime");
	double up = -1, idle = -1;
	int used = 0;
	expect(n > 0 && sscanf(buf, "%lf %lf%n", &up, &idle, &used) == 2 && buf[used] == '\n' &&
	       up >= 0 && idle >= 0, "uptime: two numbers");
	char *dot = strchr(buf, '.');
	expect(dot && dot[3] == ' ', "uptime: two decimals");
	clock_gettime(CLOCK_BOOTTIME, &mono);
	expect(up <= mono.tv_sec + mono.tv_nsec / 1e9 + 0.02 && up > mono.tv_sec - 1.0,
	       "uptime agrees with CLOCK_BOOTTIME");
	struct sysinfo si;
	sysinfo(&si);
	expect((long)si.uptime >= (long)up - 2 && (long)si.uptime <= (long)up + 2, "uptime agrees with sysinfo");

	n = slurp("/proc/loadavg");
	double l1, l5, l15;
	int running = 0, total = 0, last = 0;
	expect(n > 0 && sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total, &last) == 6,
	       "loadavg: Linux's format");
	expect(running >= 1 && running <= total && last >= 1, "loadavg: running <= total, a last pid");
	/* Unless the pid counter wrapped since we got ours (natively, on a
	 * busy host with a pid_max of 32768): then a new pid is below ours. */
	pid_t child = last >= getpid() ? 0 : fork();
	if (child == 0 && last < getpid())
		_exit(0);
	if (child > 0)
		waitpid(child, NULL, 0);
	expect(last >= getpid() || total > 1000 || (child > 0 && child < getpid()), "loadavg: last pid at least mine");

	n = slurp("/proc/stat");
	expect(n > 0 && !strncmp(buf, "cpu  ", 5), "stat: starts with the cpu line");
	const char *bt = line_starting("btime ");
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &mono);
	long long btime = bt ? atoll(bt + 6) : 0;
	expect(bt && llabs(btime - (real.tv_sec - mono.tv_sec)) <= 2, "stat: btime = now - uptime");
	const char *pr = line_starting("processes ");
	expect(pr && atoll(pr + 10) >= 1, "stat: processes");
	expect(line_starting("procs_running ") && line_starting("procs_blocked ") &&
	       line_starting("ctxt ") && line_starting("intr "), "stat: procs_running, procs_blocked, ctxt, intr");

	n = slurp("/proc/meminfo");
	expect(n > 0 && !strncmp(buf, "MemTotal:", 9) && line_starting("MemFree:") &&
	       line_starting("MemAvailable:"), "meminfo: MemTotal, MemFree, MemAvailable");
	n = slurp("/proc/cpuinfo");
	int cpus = 0;
	for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		cpus += !strncmp(l, "processor\t:", 11);
	expect(cpus == sysconf(_SC_NPROCESSORS_CONF), "cpuinfo: a processor entry per CPU");
	n = slurp("/proc/version");
	struct utsname u;
	uname(&u);
	expect(n > 0 && !strncmp(buf, "Linux version ", 14) && !strncmp(buf + 14, u.release, strlen(u.release)),
	       "version: Linux version <release>");
	n = slurp("/proc/cmdline");
	expect(n > 0 && buf[n - 1] == '\n', "cmdline: a line");
	n = slurp("/proc/filesystems");
	expect(n > 0 && strstr(buf, "nodev\tproc\n") && strstr(buf, "nodev\ttmpfs\n"), "filesystems: proc, tmpfs");
	n = slurp("/proc/swaps");
	expect(n > 0 && !strncmp(buf, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", 41), "swaps: the header");
	n = slurp("/proc/mounts");
	expect(n > 0 && strstr(buf, " /proc proc "), "mounts: /proc is proc");
	char t[64];
	long l = rsys(SYS_readlink, "/proc/mounts", t, sizeof t - 1);
	t[l > 0 ? l : 0] = 0;
	printf("/proc/mounts -> %s\n", t);
	n = slurp("/proc/self/mountinfo");
	bool mi = n > 0;
	int lines = 0;
	for (const char *m = buf; mi && *m; m = strchr(m, '\n') + 1) {
		int id, parent;
		unsigned maj, min;
		mi &= sscanf(m, "%d %d %u:%u ", &id, &parent, &maj, &min) == 4 && strstr(m, " - ") &&
		      strstr(m, " - ") < strchr(m, '\n');
		lines++;
	}
	expect(mi && lines > 0, "mountinfo: ids, device, and the separator on every line");
	expect(strstr(buf, " /proc ") && strstr(buf, " - proc proc "), "mountinfo: /proc");

	/* /proc/sys */
	n = slurp("/proc/sys/kernel/ostype");
	printf("ostype: %s", buf);
	n = slurp("/proc/sys/kernel/osrelease");
	expect(n > 0 && !strncmp(buf, u.release, strlen(u.release)) && buf[strlen(u.release)] == '\n',
	       "osrelease is uname's");
	n = slurp("/proc/sys/kernel/hostname");
	expect(n > 0 && !strncmp(buf, u.nodename, strlen(u.nodename)) && buf[strlen(u.nodename)] == '\n',
	       "hostname is uname's");
	n = slurp("/proc/sys/kernel/domainname");
	expect(n > 0 && !strncmp(buf, u.domainname, strlen(u.domainname)), "domainname is uname's");
	char a[40], b[40], c[40], d[40];
	uuid_format("/proc/sys/kernel/random/uuid", a);
	uuid_format("/proc/sys/kernel/random/uuid", b);
	expect(memcmp(a, b, 36) && a[14] == '4', "uuid: a new version-4 one each time");
	uuid_format("/proc/sys/kernel/random/boot_id", c);
	uuid_format("/proc/sys/kernel/random/boot_id", d);
	expect(!memcmp(c, d, 36), "boot_id: the same each time");
	expect(number("/proc/sys/kernel/pid_max") >= 32768, "pid_max");
	printf("ngroups_max: %lld\n", number("/proc/sys/kernel/ngroups_max"));
	printf("overflowuid: %lld\n", number("/proc/sys/kernel/overflowuid"));
	printf("overflowgid: %lld\n", number("/proc/sys/kernel/overflowgid"));
	long long cap = number("/proc/sys/kernel/cap_last_cap");
	expect(cap >= 36 && cap < 64, "cap_last_cap");
	long long oc = number("/proc/sys/vm/overcommit_memory");
	expect(oc >= 0 && oc <= 2, "overcommit_memory");
	expect(number("/proc/sys/vm/max_map_count") > 1000, "max_map_count");
	expect(number("/proc/sys/fs/file-max") > 0, "file-max");
	expect(number("/proc/sys/fs/nr_open") >= 1024, "nr_open");
	expect(number("/proc/sys/fs/pipe-max-size") >= 4096, "pipe-max-size");
	expect(number("/proc/sys/net/core/somaxconn") >= 128, "net.core.somaxconn");
	expect(number("/proc/sys/net/core/rmem_max") >= 4096, "net.core.rmem_max");
	expect(number("/proc/sys/net/core/wmem_max") >= 4096, "net.core.wmem_max");
	long long lo = -1, hi = -1;
	n = slurp("/proc/sys/net/ipv4/ip_local_port_range");
	expect(n > 0 && sscanf(buf, "%lld\t%lld", &lo, &hi) == 2 && lo > 0 && lo < hi && hi < 65536,
	       "net.ipv4.ip_local_port_range: two ports, low first");
	expect(number("/proc/sys/net/ipv4/ip_unprivileged_port_start") >= 0, "ip_unprivileged_port_start");
	res("write ostype", rsys(SYS_open, "/proc/sys/kernel/ostype", O_WRONLY));
	res("/proc/sys/nonexistent", rsys(SYS_open, "/proc/sys/kernel/nonexistent", O_RDONLY));
	return expect_failures ? 1 : 0;
}
