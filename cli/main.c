/* cocoon's command line. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kernel/kernel.h"
#include "kernel/fault.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/limits.h"
#include "kernel/ktime.h"
#include "kernel/vdso.h"
#include "fs/fs.h"
#include "fs/poll.h"
#include "kernel/tty.h"
#include "mm/memfile.h"
#include "net/socket.h"
#include "platform/platform.h"


extern char **environ;

static const char main_usage[] =
	"usage: cocoon [--help] COMMAND [ARGS]\n"
	"\n"
	"cocoon is a kernel in user space: it runs unmodified Linux programs and\n"
	"services all their system calls itself, without root and without a VM.\n"
	"\n"
	"commands:\n"
	"  run [OPTIONS] [--] PROGRAM [ARGS...]  run PROGRAM in a new sandbox\n"
	"  syscalls                              print the system-call table (Markdown)\n"
	"\n"
	"`cocoon run --help` describes the options of run.\n";

static const char run_usage[] =
	"usage: cocoon run [OPTIONS] [--] PROGRAM [ARGS...]\n"
	"\n"
	"Runs PROGRAM (a path inside the sandbox) with ARGS and the current\n"
	"environment. The exit status is the program's, or 128+N if it was\n"
	"killed by signal N.\n"
	"\n"
	"options:\n"
	"  --root DIR   host directory the guest sees as / (default /). The guest\n"
	"               may change anything under /: the changes live in memory\n"
	"               (an overlay) and the host directory is never written\n"
	"  --bind SRC:DST  the host directory (or file) SRC at DST in the\n"
	"               sandbox, read-write: changes there reach the host\n"
	"  --ro-bind SRC:DST  the same, read-only\n"
	"  --tmpfs DST  an empty in-memory file system at DST (one is at /tmp, and\n"
	"               /dev and /proc are the sandbox's own, by default)\n"
	"  --net=MODE   the guest's network: none (default: IPv4 and IPv6 sockets\n"
	"               reach only the sandbox's own loopback) or host (they are\n"
	"               host sockets: the host's interfaces, addresses, ports and\n"
	"               DNS servers, as cocoon itself could use them)\n"
	"  --debug      log unimplemented system calls and guest faults to stderr\n"
	"  --trace      log every system call, its arguments and result to stderr\n"
	"  --stats      at exit, print to stderr how many times each system call\n"
	"               trapped into cocoon (calls the vDSO serves never trap)\n"
	"               and the time its handler took, sleeping included\n"
	"  --time-offset=SECONDS  the guest's wall clock (CLOCK_REALTIME) is the\n"
	"               host's plus SECONDS (may be negative or fractional)\n"
	"  --time=@EPOCH  the guest's wall clock starts at EPOCH (seconds since\n"
	"               1970) and runs from there\n"
	"  --vdso=MODE  how the vDSO reads clocks: auto (default), rdtscp, lfence,\n"
	"               or syscall (every call traps; the kernel then uses the\n"
	"               host's clocks instead of the TSC)\n"
	"  --spin=MODE  how a trapped guest thread and its kernel thread hand\n"
	"               over: auto (default: while a thread traps often and a\n"
	"               CPU is idle, its kernel thread spins there for the traps)\n"
	"               or off (always sleep and wake on the guest's CPU)\n"
	"  -h, --help   show this help\n";

static _Noreturn void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "cocoon: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see cocoon --help)\n");
	exit(2);
}

/* SRC:DST for --bind and --ro-bind; exits on a bad value. */
static void bind_option(const char *opt, const char *arg, bool readonly)
{
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || !colon[1])
		usage_error(opt, arg);
	char *src = strndup(arg, colon - arg);
	int err = src ? fs_add_bind(src, colon + 1, readonly) : -ENOMEM;
	if (err == -EINVAL)
		usage_error(readonly ? "run: --ro-bind %s: DST must be an absolute path" :
			    "run: --bind %s: DST must be an absolute path", arg);
	if (err) {
		fprintf(stderr, "cocoon: %s %s: %s\n", readonly ? "--ro-bind" : "--bind", src ? src : arg,
			strerror(-err));
		exit(2);
	}
	free(src);
}

static int print_syscalls(void)
{
	static const char *support[] = { "no", "partial", "yes" };
	const struct personality *p = &personality_x86_64;
	printf("# System calls (%s)\n\n", p->name);
	printf("Generated from `arch/x86_64/syscalls.def` by `cocoon syscalls`; do not edit.\n\n");
	printf("| nr | name | implemented | note |\n|---:|---|---|---|\n");
	for (unsigned nr = 0; nr < p->nr_syscalls; nr++) {
		const struct syscall_entry *e = &p->table[nr];
		if (e->name)
			printf("| %u | %s | %s | %s |\n", nr, e->name, support[e->support], e->note);
	}
	return 0;
}

/* [-]SECONDS[.FRACTION] in nanoseconds; false if malformed or too large. */
static bool parse_seconds(const char *s, int64_t *ns)
{
	bool neg = *s == '-';
	s += neg || *s == '+';
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long sec = strtoull(s, &end, 10);
	if (errno || sec > (unsigned long long)INT64_MAX / 1000000000 - 1)
		return false;
	int64_t frac = 0, scale = 1000000000;
	if (*end == '.') {
		for (end++; *end >= '0' && *end <= '9' && scale > 1; end++) {
			scale /= 10;
			frac += scale * (*end - '0');
		}
	}
	if (*end)
		return false; /* junk, or more than nine decimals */
	*ns = (int64_t)sec * 1000000000 + frac;
	if (neg)
		*ns = -*ns;
	return true;
}


/* The host grows a process's fd table by doubling it, and in a process
 * with more than one thread each growth waits for an RCU grace period
 * (Linux's expand_fdtable: synchronize_rcu), 10-20 ms on these VMs,
 * while every other thread opening a file waits for the growth. Grown
 * now, before there are threads, it costs nothing: the first few hundred
 * files the guests open never wait. */
#define PRESIZED_FDS 16384
static void presize_fd_table(rlim_t limit)
{
	int want = limit && limit < PRESIZED_FDS ? (int)limit : PRESIZED_FDS;
	int fd = open("/", O_PATH | O_CLOEXEC);
	if (fd < 0)
		return;
	int top = fcntl(fd, F_DUPFD_CLOEXEC, want - 1);
	if (top >= 0)
		close(top);
	close(fd);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "bind", required_argument, NULL, 'b' },
		{ "ro-bind", required_argument, NULL, 'B' },
		{ "tmpfs", required_argument, NULL, 'm' },
		{ "debug", no_argument, NULL, 'd' },
		{ "trace", no_argument, NULL, 't' },
		{ "stats", no_argument, NULL, 'S' },
		{ "time-offset", required_argument, NULL, 'o' },
		{ "time", required_argument, NULL, 'T' },
		{ "vdso", required_argument, NULL, 'v' },
		{ "net", required_argument, NULL, 'n' },
		{ "spin", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	int64_t ns;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': cocoon_config.root = optarg; break;
		case 'b': bind_option("run: --bind wants SRC:DST, not '%s'", optarg, false); break;
		case 'B': bind_option("run: --ro-bind wants SRC:DST, not '%s'", optarg, true); break;
		case 'm':
			if (fs_add_tmpfs(optarg))
				usage_error("run: --tmpfs wants an absolute path, not '%s'", optarg);
			break;
		case 'd': cocoon_config.debug = true; break;
		case 't': cocoon_config.trace = true; break;
		case 'S': cocoon_config.stats = true; break;
		case 'o':
			if (!parse_seconds(optarg, &ns))
				usage_error("run: --time-offset wants seconds, not '%s'", optarg);
			ktime_set_realtime_offset(ns);
			break;
		case 'T':
			if (optarg[0] != '@' || optarg[1] == '-' || !parse_seconds(optarg + 1, &ns))
				usage_error("run: --time wants @SECONDS since 1970, not '%s'", optarg);
			ktime_set_realtime(ns);
			break;
		case 'v':
			if (vdso_set_mode(optarg))
				usage_error("run: --vdso wants auto, rdtscp, lfence or syscall, not '%s'", optarg);
			break;
		case 's':
			if (strcmp(optarg, "auto") && strcmp(optarg, "off"))
				usage_error("run: --spin wants auto or off, not '%s'", optarg);
			platform_allow_spin(!strcmp(optarg, "auto"));
			break;
		case 'n':
			if (net_set_mode(optarg))
				usage_error("run: --net wants none or host, not '%s'", optarg);
			break;
		case 'h': fputs(run_usage, stdout); return 0;
		default:
			if (optopt)
				usage_error("run: unknown option '-%c'", (char[]){ (char)optopt, 0 });
			usage_error("run: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("run: missing PROGRAM%s", "");
	const char *prog = argv[optind];

	fault_init();
	/* A write to a closed pipe is the guest's SIGPIPE, not ours. */
	signal(SIGPIPE, SIG_IGN);
	tty_init(); /* before any thread: the terminal signals are the guests' */
	/* Every file a guest opens is a host fd of ours: allow as many as
	 * the host lets us (guests get their own RLIMIT_NOFILE). */
	rlimits_snapshot_host();
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	presize_fd_table(getrlimit(RLIMIT_NOFILE, &nofile) == 0 ? nofile.rlim_cur : 0);
	/* The clock first: the platform's spin budgets use its TSC rate. */
	if (ktime_init()) {
		fprintf(stderr, "cocoon: --time, --time-offset: the guest's wall clock would be out of range "
				"(before 1970 or after 2252)\n");
		return 2;
	}
	int err = memfile_init();
	if (!err)
		err = platform_init();
	if (err) {
		fprintf(stderr, "cocoon: cannot set up the sandbox: %s\n", strerror(-err));
		return 2;
	}
	err = vdso_init();
	if (err) {
		fprintf(stderr, "cocoon: cannot set up the vDSO: %s\n",
			err == -EINVAL ? "this CPU cannot read the clock that way (--vdso)" : strerror(-err));
		return 2;
	}
	err = fs_init(cocoon_config.root);
	if (err) {
		fprintf(stderr, "cocoon: %s: %s\n", fs_init_failure(), strerror(-err));
		return 2;
	}
	hostpoll_init();
	tty_start();
	/* Start-up so far overlapped the clock's calibration; the guest's
	 * first clock reads must already find the TSC in its vDSO. */
	ktime_wait_calibrated();
	int status = run_init_process(prog, argv + optind, environ);
	tty_restore();
	if (cocoon_config.stats)
		syscall_stats_print(&personality_x86_64);
	if (status < 0) {
		fprintf(stderr, "cocoon: %s: %s\n", prog, strerror(-status));
		return 2;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage_error("missing COMMAND%s", "");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "syscalls"))
		return print_syscalls();
	if (cmd[0] == '-')
		usage_error("unknown option '%s'", cmd);
	usage_error("unknown command '%s'", cmd);
}
