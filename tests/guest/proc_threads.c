/* Threads in /proc: each thread has its own name (PR_SET_NAME, the
 * task directories' comm), /proc/<pid>/ shows the leader's; a new thread,
 * a fork and an exec take theirs as Linux does. /proc/<pid>/task/<tid>/
 * status and stat show that thread's state, signal masks and pending
 * set, nice value, no_new_privs, CPU mask and exit signal; /proc/<tid>/
 * of a thread that is not the leader can be looked up (not listed).
 * A leader that exited before its threads is a zombie: Z, no exe, cwd,
 * fds or memory; its live threads' task directories keep theirs.
 * Only relations are printed. */
#include "proc_util.h"
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

static char buf[16384];
static char exe_comm[16]; /* the name exec gives: argv[0]'s base, 15 bytes */

/* The whole file, NUL-terminated; its length or -errno. */
static long slurp(const char *path)
{
	long fd = rsys(SYS_open, path, O_RDONLY);
	if (fd < 0) {
		snprintf(buf, sizeof buf, "%s\n", errname((int)-fd));
		return fd;
	}
	long got = 0, n;
	while (got < (long)sizeof buf - 1 && (n = rsys(SYS_read, fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	rsys(SYS_close, fd);
	return got;
}

static long slurpf(const char *fmt, long a, long b)
{
	char p[128];
	snprintf(p, sizeof p, fmt, a, b);
	return slurp(p);
}

static long writef(const char *fmt, long a, long b, const char *text)
{
	char p[128];
	snprintf(p, sizeof p, fmt, a, b);
	long fd = rsys(SYS_open, p, O_WRONLY);
	if (fd < 0)
		return fd;
	long r = rsys(SYS_write, fd, text, strlen(text));
	rsys(SYS_close, fd);
	return r;
}

/* Results live in a ring of buffers: a few may be printed at once. */
static char *ring(void)
{
	static char bufs[8][256];
	static int next;
	return bufs[next++ % 8];
}

/* The value after "Key:\t" in buf (status text), or "missing". */
static const char *status_value(const char *key)
{
	char *out = ring();
	const size_t outsz = 256;
	size_t k = strlen(key);
	for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, k) && l[k] == ':') {
			const char *v = l + k + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			size_t n = strcspn(v, "\n");
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return out;
		}
	}
	return "missing";
}

/* Fields of stat text in buf: the name (between the parentheses) and
 * field n (1 = the id, 3 = state) as a string. */
static const char *stat_comm(void)
{
	static char out[32];
	const char *a = strchr(buf, '('), *b = strrchr(buf, ')');
	if (!a || !b || b - a - 1 >= (long)sizeof out)
		return "?";
	memcpy(out, a + 1, b - a - 1);
	out[b - a - 1] = 0;
	return out;
}

static const char *stat_field(int n)
{
	char *out = ring();
	const char *p = strrchr(buf, ')');
	if (n == 1) {
		snprintf(out, 32, "%ld", strtol(buf, NULL, 10));
		return out;
	}
	if (!p)
		return "?";
	p += 2; /* field 3 */
	for (int k = 3; k < n && p; k++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return "?";
	size_t len = strcspn(p, " \n");
	if (len >= 32)
		len = 31;
	memcpy(out, p, len);
	out[len] = 0;
	return out;
}

static long stat_num(int n) { return strtol(stat_field(n), NULL, 10); }

static const char *yes(bool b) { return b ? "yes" : "no"; }

static void get_name(char *out)
{
	memset(out, 0, 16);
	prctl(PR_GET_NAME, out);
}

static long gettid_(void) { return rsys(SYS_gettid); }

/* ---- A: names ------------------------------------------------------------ */

static long t1_tid;
static char t1_inherited[16], t2_inherited[16];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int step; /* main and t1 take turns: main waits for odd steps */

static void wait_step(int s)
{
	pthread_mutex_lock(&mu);
	while (step < s)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void set_step(int s)
{
	pthread_mutex_lock(&mu);
	step = s;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void *t2_main(void *arg)
{
	(void)arg;
	get_name(t2_inherited);
	return NULL;
}

static void *t1_main(void *arg)
{
	(void)arg;
	t1_tid = gettid_();
	get_name(t1_inherited);
	prctl(PR_SET_NAME, "worker1");
	set_step(1);
	wait_step(2);
	/* main renamed us through our task directory */
	char n[16];
	get_name(n);
	printf("thread's PR_GET_NAME after main wrote its task comm: %s\n", n);
	/* /proc/self/ is the process: its comm is the leader's */
	slurp("/proc/self/comm");
	printf("thread reads /proc/self/comm: %s", buf);
	slurp("/proc/thread-self/comm");
	printf("thread reads /proc/thread-self/comm: %s", buf);
	/* writing /proc/self/comm renames the leader, not us */
	printf("thread writes /proc/self/comm: %ld\n", writef("/proc/self/comm", 0, 0, "newlead"));
	get_name(n);
	printf("thread's own name after that: %s\n", n);
	pthread_t t2;
	pthread_create(&t2, NULL, t2_main, NULL);
	pthread_join(t2, NULL);
	printf("new thread inherits its creator's name: %s\n", yes(!strcmp(t2_inherited, n)));
	/* fork copies the forking thread's name */
	pid_t c = fork();
	if (c == 0) {
		char cn[16];
		get_name(cn);
		slurp("/proc/self/comm");
		printf("forked child: PR_GET_NAME %s, /proc/self/comm %s", cn, buf);
		slurp("/proc/self/stat");
		printf("forked child: stat name %s\n", stat_comm());
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	set_step(3);
	return NULL;
}

static void names(void)
{
	prctl(PR_SET_NAME, "leadername");
	pthread_t t1;
	pthread_create(&t1, NULL, t1_main, NULL);
	wait_step(1);
	printf("new thread inherits its creator's name: %s\n", yes(!strcmp(t1_inherited, "leadername")));
	char n[16];
	get_name(n);
	printf("main's PR_GET_NAME after the thread renamed itself: %s\n", n);
	long pid = getpid();
	slurp("/proc/self/comm");
	printf("/proc/self/comm: %s", buf);
	slurpf("/proc/%ld/task/%ld/comm", pid, pid);
	printf("leader's task comm: %s", buf);
	slurpf("/proc/%ld/task/%ld/comm", pid, t1_tid);
	printf("thread's task comm: %s", buf);
	slurp("/proc/self/stat");
	printf("/proc/self/stat name: %s\n", stat_comm());
	slurpf("/proc/%ld/task/%ld/stat", pid, t1_tid);
	printf("thread's task stat name: %s\n", stat_comm());
	slurp("/proc/self/status");
	printf("/proc/self/status Name: %s\n", status_value("Name"));
	slurpf("/proc/%ld/task/%ld/status", pid, t1_tid);
	printf("thread's task status Name: %s\n", status_value("Name"));
	slurpf("/proc/%ld/comm", t1_tid, 0);
	printf("/proc/<tid>/comm: %s", buf);
	slurpf("/proc/%ld/status", t1_tid, 0);
	printf("/proc/<tid>/status Name: %s\n", status_value("Name"));
	/* rename the thread through its task directory */
	printf("write thread's task comm: %ld\n", writef("/proc/%ld/task/%ld/comm", pid, t1_tid, "renamed"));
	get_name(n);
	printf("main's name after that: %s\n", n);
	set_step(2);
	wait_step(3);
	get_name(n);
	printf("main's PR_GET_NAME after the thread wrote /proc/self/comm: %s\n", n);
	slurp("/proc/self/comm");
	printf("/proc/self/comm: %s", buf);
	pthread_join(t1, NULL);
}

/* exec from a thread that is not the leader: the name is the program's */
static void *exec_thread(void *arg)
{
	prctl(PR_SET_NAME, "execer");
	char *argv[] = { (char *)arg, "execd", NULL };
	execv((char *)arg, argv);
	_exit(99);
}

static void exec_names(void)
{
	pid_t c = fork();
	if (c == 0) {
		prctl(PR_SET_NAME, "preexec");
		pthread_t t;
		pthread_create(&t, NULL, exec_thread, (void *)self_exe);
		pthread_join(t, NULL);
		_exit(98);
	}
	int st;
	waitpid(c, &st, 0);
	printf("exec from a thread: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int execd(void)
{
	char n[16];
	get_name(n);
	slurp("/proc/self/comm");
	printf("after exec: PR_GET_NAME is the program's name: %s, comm too: %s\n",
	       yes(!strcmp(n, exe_comm)), yes(!strncmp(buf, exe_comm, strlen(exe_comm)) &&
					   buf[strlen(exe_comm)] == '\n'));
	slurp("/proc/self/status");
	printf("after exec: Threads %s\n", status_value("Threads"));
	return 7;
}

/* ---- B: each thread's own state ------------------------------------------------ */

static long t3_tid;
static int t3_cpu = -1;
static volatile int t3_ready;

static void *t3_main(void *arg)
{
	(void)arg;
	t3_tid = gettid_();
	prctl(PR_SET_NAME, "sleeper");
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	setpriority(PRIO_PROCESS, 0, 5);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	cpu_set_t cs;
	CPU_ZERO(&cs);
	if (sched_getaffinity(0, sizeof cs, &cs) == 0) {
		for (int k = 0; k < CPU_SETSIZE; k++)
			if (CPU_ISSET(k, &cs)) {
				t3_cpu = k;
				break;
			}
		CPU_ZERO(&cs);
		CPU_SET(t3_cpu, &cs);
		sched_setaffinity(0, sizeof cs, &cs);
	}
	/* the thread reading its own task stat is running */
	char p[64];
	snprintf(p, sizeof p, "/proc/self/task/%ld/stat", t3_tid);
	slurp(p);
	printf("thread reads its own task stat: state %s\n", stat_field(3));
	t3_ready = 1;
	for (;;)
		pause();
	return NULL;
}

/* A CPU list as Linux's %*pbl prints it. */
static void cpu_list(const cpu_set_t *cs, char *out, size_t size)
{
	size_t n = 0;
	out[0] = 0;
	for (int b = 0; b < CPU_SETSIZE; b++) {
		if (!CPU_ISSET(b, cs))
			continue;
		int e = b;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, cs))
			e++;
		n += snprintf(out + n, size - n, e > b ? "%s%d-%d" : "%s%d", n ? "," : "", b, e);
		b = e;
	}
}

static long leader_stat_state_tid; /* a thread that reads /proc/<pid>/stat */
static char leader_state_seen[8];

static void *reader_main(void *arg)
{
	(void)arg;
	usleep(50000); /* main is in pthread_join meanwhile */
	slurp("/proc/self/stat");
	snprintf(leader_state_seen, sizeof leader_state_seen, "%s", stat_field(3));
	return NULL;
}

static void per_thread(void)
{
	long pid = getpid();
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGUSR2);
	sigprocmask(SIG_BLOCK, &s, NULL); /* the thread inherits these */
	pthread_t t;
	pthread_create(&t, NULL, t3_main, NULL);
	while (!t3_ready)
		usleep(1000);
	usleep(50000); /* let it reach pause() */
	rsys(SYS_tgkill, pid, pid, SIGINT); /* pending on main only */
	kill(pid, SIGUSR2);                 /* pending on the process */

	slurpf("/proc/%ld/task/%ld/status", pid, t3_tid);
	printf("thread status: State %s\n", status_value("State"));
	printf("thread status: SigPnd %s\n", status_value("SigPnd"));
	printf("thread status: ShdPnd %s\n", status_value("ShdPnd"));
	printf("thread status: SigBlk %s\n", status_value("SigBlk"));
	printf("thread status: NoNewPrivs %s\n", status_value("NoNewPrivs"));
	printf("thread status: Pid is the tid: %s\n", yes(atol(status_value("Pid")) == t3_tid));
	printf("thread status: Tgid is the pid: %s\n", yes(atol(status_value("Tgid")) == pid));
	char want[64];
	snprintf(want, sizeof want, "%d", t3_cpu);
	printf("thread status: Cpus_allowed_list is its one CPU: %s\n",
	       yes(!strcmp(status_value("Cpus_allowed_list"), want)));
	{
		char hex[256], *o = hex;
		for (const char *c = status_value("Cpus_allowed"); *c && o < hex + sizeof hex - 1; c++)
			if (*c != ',')
				*o++ = *c;
		*o = 0;
		size_t len = strlen(hex);
		const char *tail = len > 16 ? hex + len - 16 : hex;
		bool zeros = true;
		for (const char *c = hex; c < tail; c++)
			zeros &= *c == '0';
		printf("thread status: Cpus_allowed is its one CPU: %s\n",
		       yes(zeros && t3_cpu < 64 && strtoull(tail, NULL, 16) == 1ULL << t3_cpu));
	}

	slurpf("/proc/%ld/task/%ld/stat", pid, t3_tid);
	printf("thread stat: state %s priority %s nice %s exit_signal %s\n", stat_field(3),
	       stat_field(18), stat_field(19), stat_field(38));
	printf("thread stat: pending %s blocked %s\n", stat_field(31), stat_field(32));
	printf("thread stat: pid field is the tid: %s\n", yes(stat_num(1) == t3_tid));

	slurp("/proc/self/status");
	printf("main status: State %s\n", status_value("State"));
	printf("main status: SigPnd %s\n", status_value("SigPnd"));
	printf("main status: ShdPnd %s\n", status_value("ShdPnd"));
	printf("main status: SigBlk %s\n", status_value("SigBlk"));
	printf("main status: NoNewPrivs %s\n", status_value("NoNewPrivs"));
	const char *list = status_value("Cpus_allowed_list");
	char mine[256];
	cpu_set_t cs;
	CPU_ZERO(&cs);
	sched_getaffinity(0, sizeof cs, &cs);
	cpu_list(&cs, mine, sizeof mine);
	printf("main status: Cpus_allowed_list is its mask: %s\n", yes(!strcmp(list, mine)));
	slurpf("/proc/%ld/task/%ld/status", pid, pid);
	printf("leader's task status: SigPnd %s SigBlk %s\n", status_value("SigPnd"), status_value("SigBlk"));
	slurp("/proc/self/stat");
	printf("main stat: state %s nice %s exit_signal %s\n", stat_field(3), stat_field(19), stat_field(38));

	/* /proc/<pid>/stat read by another thread while the leader sleeps */
	pthread_t r;
	pthread_create(&r, NULL, reader_main, NULL);
	pthread_join(r, NULL);
	printf("leader sleeping in pthread_join, seen by another thread: state %s\n", leader_state_seen);

	/* /proc/<tid>/ of a thread that is not the leader */
	char p[64];
	struct stat sb;
	snprintf(p, sizeof p, "/proc/%ld", t3_tid);
	printf("stat /proc/<tid>: %s\n", stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) ? "directory" : errname(errno));
	bool listed = false;
	DIR *d = opendir("/proc");
	for (struct dirent *e; d && (e = readdir(d));)
		listed |= atol(e->d_name) == t3_tid;
	if (d)
		closedir(d);
	printf("/proc lists the tid: %s\n", yes(listed));
	slurpf("/proc/%ld/status", t3_tid, 0);
	printf("/proc/<tid>/status: Name %s, Pid is the tid: %s, Tgid is the pid: %s, State %s, SigBlk %s\n",
	       status_value("Name"), yes(atol(status_value("Pid")) == t3_tid),
	       yes(atol(status_value("Tgid")) == pid), status_value("State"), status_value("SigBlk"));
	slurpf("/proc/%ld/stat", t3_tid, 0);
	printf("/proc/<tid>/stat: pid field is the tid: %s, name %s, nice %s, exit_signal %s\n",
	       yes(stat_num(1) == t3_tid), stat_comm(), stat_field(19), stat_field(38));
	slurpf("/proc/%ld/task/%ld/comm", t3_tid, t3_tid);
	printf("/proc/<tid>/task/<tid>/comm: %s", buf);
	printf("/proc/<tid> of no thread: %s\n", slurpf("/proc/%ld/status", 999999, 0) < 0 ? "ENOENT" : "found");
}

/* ---- C: a leader that exits first ---------------------------------------------- */

static void *orphan_main(void *arg)
{
	(void)arg;
	char state[8] = "?";
	for (int k = 0; k < 400; k++) { /* until the leader is gone, 2 s at most */
		slurp("/proc/self/stat");
		snprintf(state, sizeof state, "%s", stat_field(3));
		if (!strcmp(state, "Z"))
			break;
		usleep(5000);
	}
	printf("leader after pthread_exit: state %s\n", state);
	slurp("/proc/self/status");
	printf("leader after pthread_exit: status State %s, FDSize %s, VmSize %s\n", status_value("State"),
	       status_value("FDSize"), status_value("VmSize"));
	char l[256];
	long r = readlink("/proc/self/exe", l, sizeof l);
	printf("readlink /proc/self/exe: %s\n", r < 0 ? errname(errno) : "ok");
	r = readlink("/proc/self/cwd", l, sizeof l);
	printf("readlink /proc/self/cwd: %s\n", r < 0 ? errname(errno) : "ok");
	char p[64];
	snprintf(p, sizeof p, "/proc/self/task/%ld/exe", gettid_());
	r = readlink(p, l, sizeof l);
	printf("readlink of the live thread's task exe: %s\n", r < 0 ? errname(errno) : "ok");
	exit(5);
}

static void leader_exits(void)
{
	pid_t c = fork();
	if (c == 0) {
		pthread_t t;
		pthread_create(&t, NULL, orphan_main, NULL);
		pthread_exit(NULL);
	}
	int st;
	waitpid(c, &st, 0);
	printf("process whose leader exited first: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	const char *base = strrchr(argv[0], '/');
	snprintf(exe_comm, sizeof exe_comm, "%s", base ? base + 1 : argv[0]);
	if (argc > 1 && !strcmp(argv[1], "execd"))
		return execd();
	names();
	exec_names();
	leader_exits();
	per_thread();
	return 0;
}
