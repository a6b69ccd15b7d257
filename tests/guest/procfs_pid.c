/* /proc/<pid>: self and thread-self, the directory's entries and modes,
 * stat, status, statm, cmdline, environ, comm, limits, exe/cwd/root, and
 * a child seen from its parent alive, rewriting its arguments, as a
 * zombie and once reaped. Only relations are printed (no pids, times,
 * addresses). */
#include "proc_util.h"
#include <stdbool.h>
#include <dirent.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

static char buf[65536];

/* The whole file, NUL-terminated; its length or -errno. */
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

static long slurpf(const char *fmt, long pid)
{
	char p[128];
	snprintf(p, sizeof p, fmt, pid);
	return slurp(p);
}

/* The value after "Key:\t" in status text, or NULL. */
static const char *status_value(const char *text, const char *key, char *out, size_t size)
{
	size_t k = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, k) && l[k] == ':') {
			const char *v = l + k + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			size_t n = strcspn(v, "\n");
			if (n >= size)
				n = size - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return out;
		}
	}
	return NULL;
}

/* stat's fields: comm is field 2 (in parentheses, may hold spaces). */
struct stat_fields {
	char comm[64];
	char state;
	unsigned long long f[53]; /* f[k] is field k (1-based), for k >= 4 */
	int count;
};

static int parse_stat(const char *text, struct stat_fields *s)
{
	memset(s, 0, sizeof(*s));
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	if (!open || !close || close < open)
		return -1;
	s->f[1] = atoll(text);
	size_t n = close - open - 1;
	if (n >= sizeof s->comm)
		n = sizeof s->comm - 1;
	memcpy(s->comm, open + 1, n);
	s->count = 2;
	const char *p = close + 1;
	if (sscanf(p, " %c", &s->state) != 1)
		return -1;
	s->count = 3;
	p += 2;
	while (*p && *p != '\n' && s->count < 52) {
		char *end;
		while (*p == ' ')
			p++;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p)
			break;
		s->f[++s->count] = v;
		p = end;
	}
	return 0;
}

static void expect_comm(const char *what, const char *comm)
{
	const char *base = strrchr(self_exe, '/');
	base = base ? base + 1 : self_exe;
	char want[16];
	snprintf(want, sizeof want, "%s", base);
	expect(!strcmp(comm, want), "%s is the program's name cut to 15 bytes", what);
}

static void self_links(void)
{
	char t[PATH_MAX], want[64];
	long n = rsys(SYS_readlink, "/proc/self", t, sizeof t - 1);
	t[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof want, "%d", getpid());
	expect(n > 0 && !strcmp(t, want), "/proc/self -> my pid");
	n = rsys(SYS_readlink, "/proc/thread-self", t, sizeof t - 1);
	t[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof want, "%d/task/%ld", getpid(), rsys(SYS_gettid));
	expect(n > 0 && !strcmp(t, want), "/proc/thread-self -> pid/task/tid");
	struct stat a, b;
	expect(stat("/proc/self", &a) == 0 && S_ISDIR(a.st_mode), "/proc/self is a directory");
	expect(lstat("/proc/self", &b) == 0 && S_ISLNK(b.st_mode), "lstat /proc/self: a symlink");

	char real[PATH_MAX];
	n = rsys(SYS_readlink, "/proc/self/exe", t, sizeof t - 1);
	t[n > 0 ? n : 0] = 0;
	expect(realpath(self_exe, real) && !strcmp(t, real), "exe -> the program's real path");
	n = rsys(SYS_readlink, "/proc/self/cwd", t, sizeof t - 1);
	t[n > 0 ? n : 0] = 0;
	expect(getcwd(real, sizeof real) && !strcmp(t, real), "cwd -> getcwd()");
	n = rsys(SYS_readlink, "/proc/self/root", t, sizeof t - 1);
	t[n > 0 ? n : 0] = 0;
	expect(!strcmp(t, "/"), "root -> /");
	struct stat se, sp;
	expect(stat("/proc/self/exe", &se) == 0 && stat(self_exe, &sp) == 0 && se.st_ino == sp.st_ino,
	       "stat through exe: the program");
	expect(stat("/proc/self/cwd", &se) == 0 && stat(".", &sp) == 0 && se.st_ino == sp.st_ino &&
	       se.st_dev == sp.st_dev, "cwd link is the cwd");
	long fd = rsys(SYS_open, "/proc/self/cwd/.", O_RDONLY | O_DIRECTORY);
	expect(fd >= 0, "open through the cwd link");
	rsys(SYS_close, fd);
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/stat", getpid());
	expect(slurp(p) > 0, "/proc/<my pid>/stat reads");
	res("/proc/0", rsys(SYS_open, "/proc/0", O_RDONLY));
	res("/proc/01", rsys(SYS_open, "/proc/01", O_RDONLY));
	res("/proc/self/nonexistent", rsys(SYS_open, "/proc/self/nonexistent", O_RDONLY));
}

static void listing(void)
{
	const char *want[] = { "cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo",
			       "limits", "maps", "mounts", "root", "stat", "statm", "status", "task",
			       "cgroup", "oom_score_adj", "smaps", "mountinfo", "auxv", "loginuid" };
	DIR *d = opendir("/proc/self");
	int found[sizeof want / sizeof *want] = { 0 };
	struct dirent *e;
	while (d && (e = readdir(d)))
		for (size_t k = 0; k < sizeof want / sizeof *want; k++)
			if (!strcmp(e->d_name, want[k]))
				found[k] = 1;
	if (d)
		closedir(d);
	for (size_t k = 0; k < sizeof want / sizeof *want; k++)
		expect(found[k], "/proc/self lists %s", want[k]);

	d = opendir("/proc");
	int self = 0, me = 0;
	char pid[16];
	snprintf(pid, sizeof pid, "%d", getpid());
	while (d && (e = readdir(d))) {
		self |= !strcmp(e->d_name, "self") && e->d_type == DT_LNK;
		me |= !strcmp(e->d_name, pid) && e->d_type == DT_DIR;
	}
	if (d)
		closedir(d);
	expect(self && me, "/proc lists self (a link) and my pid (a directory)");

	d = opendir("/proc/self/task");
	int n = 0, tid = 0;
	snprintf(pid, sizeof pid, "%ld", rsys(SYS_gettid));
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			n++;
			tid |= !strcmp(e->d_name, pid);
		}
	if (d)
		closedir(d);
	expect(n == 1 && tid, "task/ lists my one thread");
	char p[128];
	snprintf(p, sizeof p, "/proc/self/task/%s/stat", pid);
	struct stat_fields s;
	expect(slurp(p) > 0 && !parse_stat(buf, &s) && s.f[1] == (unsigned long long)rsys(SYS_gettid), "task/<tid>/stat");

	struct { const char *path; mode_t mode; } modes[] = {
		{ "/proc/self/fd", S_IFDIR | 0500 }, { "/proc/self/fdinfo", S_IFDIR | 0555 },
		{ "/proc/self/environ", S_IFREG | 0400 }, { "/proc/self/auxv", S_IFREG | 0400 },
		{ "/proc/self/stat", S_IFREG | 0444 }, { "/proc/self/status", S_IFREG | 0444 },
		{ "/proc/self/maps", S_IFREG | 0444 }, { "/proc/self/comm", S_IFREG | 0644 },
		{ "/proc/self/oom_score_adj", S_IFREG | 0644 }, { "/proc/self/exe", S_IFLNK | 0777 },
		{ "/proc/self/cwd", S_IFLNK | 0777 }, { "/proc/self/task", S_IFDIR | 0555 },
		{ "/proc/self/", S_IFDIR | 0555 },
	};
	for (size_t k = 0; k < sizeof modes / sizeof *modes; k++) {
		struct stat st;
		int r = lstat(modes[k].path, &st);
		expect(r == 0 && st.st_mode == modes[k].mode, "%s mode %o", modes[k].path,
		       (unsigned)modes[k].mode);
		expect(r == 0 && st.st_uid == getuid() && st.st_gid == getgid(), "%s owned by me",
		       modes[k].path);
	}
}

static void stat_status(int argc, char **argv)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	umask(027);

	struct stat_fields s;
	long n = slurp("/proc/self/stat");
	expect(n > 0 && buf[n - 1] == '\n' && !parse_stat(buf, &s), "stat parses");
	expect(s.count == 52, "stat has 52 fields (%d)", s.count);
	expect(s.f[1] == (unsigned long long)getpid(), "stat: pid");
	expect_comm("stat: comm", s.comm);
	expect(s.state == 'R', "stat: state R");
	expect(s.f[4] == (unsigned long long)getppid(), "stat: ppid");
	expect(s.f[5] == (unsigned long long)getpgrp(), "stat: pgrp");
	expect(s.f[6] == (unsigned long long)getsid(0), "stat: session");
	expect(s.f[20] == 1, "stat: one thread");
	expect(s.f[21] == 0, "stat: itrealvalue 0");
	expect(s.f[38] == SIGCHLD, "stat: exit signal SIGCHLD");
	expect((long long)s.f[19] == getpriority(PRIO_PROCESS, 0), "stat: nice");
	expect(s.f[18] == 20 + s.f[19], "stat: priority 20 + nice");
	expect((s.f[32] & (1 << (SIGUSR1 - 1))) != 0, "stat: blocked has SIGUSR1");
	expect((s.f[33] & (1 << (SIGUSR2 - 1))) != 0, "stat: ignored has SIGUSR2");
	/* the argument and environment area */
	unsigned long long as = s.f[48], ae = s.f[49], es = s.f[50], ee = s.f[51];
	expect(as < ae && ae <= es && es < ee, "stat: arg_start < arg_end <= env_start < env_end");
	expect((unsigned long long)(uintptr_t)argv[0] == as, "stat: argv[0] is at arg_start");
	expect((uintptr_t)argv[argc - 1] + strlen(argv[argc - 1]) + 1 == ae,
	       "stat: the last argument ends at arg_end");
	expect(s.f[52] == 0, "stat: exit code 0");
	struct rlimit rl;
	getrlimit(RLIMIT_RSS, &rl);
	expect(s.f[25] == (unsigned long long)rl.rlim_cur, "stat: rsslim");
	long up = slurp("/proc/uptime");
	double uptime = up > 0 ? atof(buf) : 0;
	expect(s.f[22] <= (unsigned long long)(uptime * 100) + 1, "stat: start time <= uptime");

	n = slurp("/proc/self/status");
	char v[256], w[256];
	expect(n > 0, "status reads");
	const char *keys[] = { "Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid",
			       "Uid", "Gid", "FDSize", "Groups", "VmPeak", "VmSize", "VmLck", "VmHWM",
			       "VmRSS", "VmData", "VmStk", "VmExe", "VmLib", "VmSwap", "Threads",
			       "SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh",
			       "CapPrm", "CapEff", "CapBnd", "NoNewPrivs", "Seccomp",
			       "Cpus_allowed", "Cpus_allowed_list", "voluntary_ctxt_switches",
			       "nonvoluntary_ctxt_switches" };
	const char *at = buf;
	bool order = true;
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		char key[64];
		snprintf(key, sizeof key, "\n%s:\t", keys[k]);
		const char *hit = k ? strstr(at, key) : (strncmp(buf, "Name:\t", 6) ? NULL : buf);
		if (!hit) {
			printf("NO: status: %s missing or out of order\n", keys[k]);
			order = false;
			continue;
		}
		at = hit + 1;
	}
	expect(order, "status: the fields in Linux's order");
	expect(status_value(buf, "Name", v, sizeof v) != NULL, "status: Name");
	expect_comm("status: Name", v);
	expect(status_value(buf, "Umask", v, sizeof v) && !strcmp(v, "0027"), "status: Umask 0027");
	expect(status_value(buf, "State", v, sizeof v) && !strcmp(v, "R (running)"), "status: State");
	snprintf(w, sizeof w, "%d", getpid());
	expect(status_value(buf, "Tgid", v, sizeof v) && !strcmp(v, w), "status: Tgid");
	expect(status_value(buf, "Pid", v, sizeof v) && !strcmp(v, w), "status: Pid");
	snprintf(w, sizeof w, "%d", getppid());
	expect(status_value(buf, "PPid", v, sizeof v) && !strcmp(v, w), "status: PPid");
	snprintf(w, sizeof w, "%u\t%u\t%u\t%u", getuid(), geteuid(), getuid(), geteuid());
	expect(status_value(buf, "Uid", v, sizeof v) && !strcmp(v, w), "status: Uid");
	snprintf(w, sizeof w, "%u\t%u\t%u\t%u", getgid(), getegid(), getgid(), getegid());
	expect(status_value(buf, "Gid", v, sizeof v) && !strcmp(v, w), "status: Gid");
	expect(status_value(buf, "Threads", v, sizeof v) && !strcmp(v, "1"), "status: Threads 1");
	expect(status_value(buf, "SigBlk", v, sizeof v) && strlen(v) == 16 &&
	       (strtoull(v, NULL, 16) & (1ULL << (SIGUSR1 - 1))), "status: SigBlk has SIGUSR1");
	expect(status_value(buf, "SigIgn", v, sizeof v) && strlen(v) == 16 &&
	       (strtoull(v, NULL, 16) & (1ULL << (SIGUSR2 - 1))) &&
	       (strtoull(v, NULL, 16) & (1ULL << (SIGHUP - 1))), "status: SigIgn has SIGUSR2, SIGHUP");
	expect(status_value(buf, "SigPnd", v, sizeof v) && !strcmp(v, "0000000000000000"),
	       "status: nothing pending");
	const char *vm = strstr(buf, "\nVmSize:\t");
	expect(vm && vm[9 + 8] == ' ' && !strncmp(vm + 9 + 8, " kB\n", 4) && vm[9] == ' ',
	       "status: VmSize is %%8lu kB");
	expect(status_value(buf, "Seccomp", v, sizeof v) && !strcmp(v, "0"), "status: Seccomp 0");
	unsigned long vmsize = strtoul(status_value(buf, "VmSize", v, sizeof v), NULL, 10);
	unsigned long vmrss = strtoul(status_value(buf, "VmRSS", v, sizeof v), NULL, 10);
	expect(vmrss > 0 && vmrss <= vmsize, "status: 0 < VmRSS <= VmSize");

	n = slurp("/proc/self/statm");
	unsigned long m[7];
	int got = sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &m[6]);
	expect(got == 7 && buf[n - 1] == '\n', "statm: 7 numbers");
	expect(m[0] * 4 == vmsize, "statm: size is VmSize in pages");
	expect(m[1] <= m[0] && m[4] == 0 && m[6] == 0, "statm: resident <= size, lib and dt 0");
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* status's context switches are the task's own: three sleeps add at
 * least three voluntary ones, seen in /proc/self/status and in the
 * thread's task directory. */
static long switches(const char *path, const char *key)
{
	char v[64];
	if (slurp(path) <= 0 || !status_value(buf, key, v, sizeof v))
		return -1;
	return strtol(v, NULL, 10);
}

static void context_switches(void)
{
	char task[64];
	snprintf(task, sizeof task, "/proc/self/task/%d/status", (int)getpid());
	long before = switches("/proc/self/status", "voluntary_ctxt_switches");
	long before_task = switches(task, "voluntary_ctxt_switches");
	for (int i = 0; i < 3; i++)
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	long after = switches("/proc/self/status", "voluntary_ctxt_switches");
	long after_task = switches(task, "voluntary_ctxt_switches");
	long invol = switches("/proc/self/status", "nonvoluntary_ctxt_switches");
	expect(before >= 0 && after >= before + 3, "status: three sleeps are voluntary switches");
	expect(before_task >= 0 && after_task >= before_task + 3, "task status: the same");
	expect(invol >= 0, "status: nonvoluntary_ctxt_switches is a count");
}

static void cmdline_environ(int argc, char **argv, char **envp)
{
	long n = slurp("/proc/self/cmdline");
	char want[8192];
	size_t w = 0;
	for (int k = 0; k < argc; k++) {
		size_t l = strlen(argv[k]) + 1;
		memcpy(want + w, argv[k], l);
		w += l;
	}
	expect(n == (long)w && !memcmp(buf, want, w), "cmdline is argv with NULs");
	n = slurp("/proc/self/environ");
	w = 0;
	for (char **e = envp; *e && w < sizeof want - 4096; e++) {
		size_t l = strlen(*e) + 1;
		memcpy(want + w, *e, l);
		w += l;
	}
	expect(n == (long)w && !memcmp(buf, want, w), "environ is the initial environment");
	n = slurp("/proc/self/auxv");
	expect(n > 0 && n % 16 == 0, "auxv: pairs of 8-byte words");
	const unsigned long *a = (const unsigned long *)buf;
	bool pagesz = false, null_last = n >= 16 && a[n / 8 - 2] == 0;
	for (long k = 0; k + 1 < n / 8; k += 2)
		pagesz |= a[k] == 6 /* AT_PAGESZ */ && a[k + 1] == 4096;
	expect(pagesz && null_last, "auxv: AT_PAGESZ 4096, ends with AT_NULL");
}

static void comm_limits(void)
{
	char v[64];
	long fd = rsys(SYS_open, "/proc/self/comm", O_WRONLY);
	expect(fd >= 0, "open comm for writing");
	resv("write comm", rsys(SYS_write, fd, "renamed-by-proc-comm", 20));
	rsys(SYS_close, fd);
	slurp("/proc/self/comm");
	printf("comm: [%s]\n", buf);
	prctl(PR_GET_NAME, v);
	printf("PR_GET_NAME: [%s]\n", v);
	fd = rsys(SYS_open, "/proc/self/comm", O_WRONLY);
	resv("write with newline", rsys(SYS_write, fd, "nl\n", 3));
	rsys(SYS_close, fd);
	slurp("/proc/self/comm");
	printf("comm: [%s]\n", buf);
	prctl(PR_SET_NAME, "back");
	slurp("/proc/self/comm");
	printf("comm after PR_SET_NAME: [%s]\n", buf);

	long n = slurp("/proc/self/limits");
	expect(n > 0 && !strncmp(buf, "Limit                     Soft Limit           Hard Limit           Units     \n", 79),
	       "limits: Linux's header");
	struct rlimit r;
	getrlimit(RLIMIT_NOFILE, &r);
	char want[128];
	snprintf(want, sizeof want, "Max open files            %-20lu %-20lu files     \n",
		 (unsigned long)r.rlim_cur, (unsigned long)r.rlim_max);
	expect(strstr(buf, want) != NULL, "limits: Max open files as getrlimit says");
	getrlimit(RLIMIT_CPU, &r);
	if (r.rlim_cur == RLIM_INFINITY)
		expect(strstr(buf, "Max cpu time              unlimited            ") != NULL,
		       "limits: unlimited cpu time");
	int lines = 0;
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	expect(lines == 17, "limits: 17 lines");
	expect(strstr(buf, "Max nice priority         0                    0                    \n") ||
	       strstr(buf, "Max nice priority         "), "limits: no unit for nice");

	n = slurp("/proc/self/cgroup");
	expect(n > 0 && (strstr(buf, "0::/") != NULL), "cgroup has the v2 line");
	n = slurp("/proc/self/oom_score_adj");
	expect(n > 0 && buf[n - 1] == '\n', "oom_score_adj reads");
	char cur[32];
	snprintf(cur, sizeof cur, "%.30s", buf);
	fd = rsys(SYS_open, "/proc/self/oom_score_adj", O_WRONLY);
	resv("oom_score_adj: write 2000", rsys(SYS_write, fd, "2000", 4));
	resv("oom_score_adj: write junk", rsys(SYS_write, fd, "x1", 2));
	rsys(SYS_close, fd);
	fd = rsys(SYS_open, "/proc/self/oom_score_adj", O_WRONLY);
	long r2 = rsys(SYS_write, fd, cur, strlen(cur));
	expect(r2 == (long)strlen(cur), "oom_score_adj: write back its value");
	rsys(SYS_close, fd);
}

/* ---- a child seen from its parent ------------------------------------------------ */

static int child_main(int argc, char **argv)
{
	/* argv: self "child" in out-fd mode */
	int in = atoi(argv[2]), out = atoi(argv[3]);
	char c;
	if (!strcmp(argv[4], "rewrite")) {
		/* overwrite one argument in place */
		argv[5][0] = 'Z';
	}
	if (write(out, "r", 1) != 1)
		return 1;
	if (read(in, &c, 1) != 1)
		return 1;
	if (!strcmp(argv[4], "rewrite")) {
		/* setproctitle: run over the end of the arguments */
		size_t len = argv[argc - 1] + strlen(argv[argc - 1]) - argv[0];
		memset(argv[0], 'x', len + 1);
	}
	if (write(out, "r", 1) != 1)
		return 1;
	if (read(in, &c, 1) != 1)
		return 1;
	return 7;
}

static void print_nuls(const char *label, long n)
{
	printf("%s (%ld): [", label, n);
	for (long k = 0; k < n; k++)
		putchar(buf[k] ? buf[k] : '|');
	printf("]\n");
}

static void child_seen(void)
{
	int to[2], from[2];
	if (pipe(to) || pipe(from))
		return;
	char in[16], out[16];
	snprintf(in, sizeof in, "%d", to[0]);
	snprintf(out, sizeof out, "%d", from[1]);
	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = { (char *)self_exe, "child", in, out, "rewrite", "alpha", "two words", "", "last", NULL };
		char *env[] = { "PROCFS_A=1", "PROCFS_B=two words", "EMPTY=", NULL };
		execve(self_exe, args, env);
		_exit(99);
	}
	close(to[0]);
	close(from[1]);
	char c;
	if (read(from[0], &c, 1) != 1)
		return;
	long n = slurpf("/proc/%ld/cmdline", pid);
	print_nuls("child cmdline", n);
	n = slurpf("/proc/%ld/environ", pid);
	print_nuls("child environ", n);
	slurpf("/proc/%ld/comm", pid);
	expect_comm("child comm", strtok(buf, "\n"));
	struct stat_fields s;
	slurpf("/proc/%ld/stat", pid);
	expect(!parse_stat(buf, &s) && s.f[1] == (unsigned long long)pid &&
	       s.f[4] == (unsigned long long)getpid(), "child stat: pid, ppid");
	for (int k = 0; k < 2000 && s.state != 'S'; k++) {
		usleep(1000);
		slurpf("/proc/%ld/stat", pid);
		parse_stat(buf, &s);
	}
	expect(s.state == 'S', "child stat: sleeping in read (%c)", s.state);
	struct stat_fields me;
	slurp("/proc/self/stat");
	parse_stat(buf, &me);
	expect(s.f[22] >= me.f[22], "child started after me");
	char p[64], t[PATH_MAX], real[PATH_MAX];
	snprintf(p, sizeof p, "/proc/%d/exe", pid);
	long l = rsys(SYS_readlink, p, t, sizeof t - 1);
	t[l > 0 ? l : 0] = 0;
	expect(realpath(self_exe, real) && !strcmp(t, real), "child exe");
	snprintf(p, sizeof p, "/proc/%d/fd", pid);
	DIR *d = opendir(p);
	int fds = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		fds += e->d_name[0] != '.';
	if (d)
		closedir(d);
	expect(fds >= 5, "child fd/ lists its fds");
	snprintf(p, sizeof p, "/proc/%d/fd/%s", pid, in);
	l = rsys(SYS_readlink, p, t, sizeof t - 1);
	t[l > 0 ? l : 0] = 0;
	struct stat ps;
	fstat(to[1], &ps);
	char want[64];
	snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)ps.st_ino);
	expect(!strcmp(t, want), "child's pipe fd: pipe:[ino] of ours");
	snprintf(p, sizeof p, "/proc/%d/comm", pid);
	long cf = rsys(SYS_open, p, O_WRONLY);
	resv("write another process's comm", cf < 0 ? cf : rsys(SYS_write, cf, "x", 1));
	if (cf >= 0)
		rsys(SYS_close, cf);

	/* setproctitle over the end of the arguments */
	if (write(to[1], "g", 1) != 1 || read(from[0], &c, 1) != 1)
		return;
	n = slurpf("/proc/%ld/cmdline", pid);
	print_nuls("cmdline after setproctitle", n);

	/* keep a directory fd across its end */
	snprintf(p, sizeof p, "/proc/%d", pid);
	long dir = rsys(SYS_open, p, O_RDONLY | O_DIRECTORY);
	if (write(to[1], "g", 1) != 1)
		return;
	/* a zombie until waited for */
	for (int k = 0; k < 2000; k++) {
		slurpf("/proc/%ld/stat", pid);
		if (!parse_stat(buf, &s) && s.state == 'Z')
			break;
		usleep(1000);
	}
	expect(s.state == 'Z', "zombie: stat state Z");
	expect(s.f[52] == (7 << 8), "zombie: exit code in stat");
	slurpf("/proc/%ld/status", pid);
	char v[64];
	expect(status_value(buf, "State", v, sizeof v) && !strcmp(v, "Z (zombie)"), "zombie: status");
	expect(!status_value(buf, "VmSize", v, sizeof v), "zombie: no Vm lines");
	n = slurpf("/proc/%ld/cmdline", pid);
	resv("zombie cmdline", n);
	n = slurpf("/proc/%ld/environ", pid);
	resv("zombie environ", n);
	n = slurpf("/proc/%ld/statm", pid);
	printf("zombie statm: %s", n > 0 ? buf : "?\n");
	snprintf(p, sizeof p, "/proc/%d/exe", pid);
	res("zombie exe", rsys(SYS_readlink, p, t, sizeof t));
	snprintf(p, sizeof p, "/proc/%d/cwd", pid);
	res("zombie cwd", rsys(SYS_readlink, p, t, sizeof t));
	n = slurpf("/proc/%ld/maps", pid);
	resv("zombie maps", n);
	int st;
	waitpid(pid, &st, 0);
	printf("child exit: %d\n", WEXITSTATUS(st));
	snprintf(p, sizeof p, "/proc/%d/stat", pid);
	res("reaped: stat", rsys(SYS_open, p, O_RDONLY));
	res("reaped: openat(dir, stat)", rsys(SYS_openat, dir, "stat", O_RDONLY));
	rsys(SYS_close, dir);
	close(to[1]);
	close(from[0]);
}

int main(int argc, char **argv, char **envp)
{
	proc_init(argc, argv);
	if (argc > 4 && !strcmp(argv[1], "child"))
		return child_main(argc, argv);
	self_links();
	listing();
	stat_status(argc, argv);
	context_switches();
	cmdline_environ(argc, argv, envp);
	comm_limits();
	child_seen();
	return expect_failures ? 1 : 0;
}
