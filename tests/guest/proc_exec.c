/* execve and execveat: argv and envp passed exactly (empty strings,
 * spaces, an empty argv), ids kept, close-on-exec fds closed and others
 * kept with their offsets, signal dispositions (handled -> default,
 * ignored kept), mask and pending signals kept; #! scripts with Linux's
 * argument rules (interpreter, one optional argument, script path, the
 * arguments), nested #! up to the limit (ELOOP past it); the errors:
 * ENOEXEC, EACCES, ENOENT, ENOTDIR, ENAMETOOLONG, E2BIG, EFAULT; execveat
 * with AT_EMPTY_PATH, a directory fd, AT_SYMLINK_NOFOLLOW.
 *
 * The binary re-runs itself (argv[0]) with a mode in argv[1]; scripts are
 * in tests/guest/data (see its README), run from that directory. */
#include "proc_util.h"
#include <limits.h>
#include <sys/stat.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

extern char **environ;

/* ---- modes run after exec ---------------------------------------------- */

static int mode_show(int argc, char **argv, char **envp)
{
	printf("argc %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] [%s]\n", i, argv[i]);
	for (char **e = envp; *e; e++)
		printf("env [%s]\n", *e);
	return 0;
}

/* argv[2], argv[3]: the pid and ppid before exec. */
static int mode_ids(int argc, char **argv)
{
	printf("pid unchanged by exec: %s\n", atol(argv[2]) == getpid() ? "yes" : "no");
	printf("ppid unchanged by exec: %s\n", atol(argv[3]) == getppid() ? "yes" : "no");
	return 0;
}

static int mode_fds(void)
{
	printf("fd 10 (O_CLOEXEC): %s\n", fcntl(10, F_GETFD) < 0 ? errname(errno) : "open");
	printf("fd 11 (plain): %s\n", fcntl(11, F_GETFD) < 0 ? errname(errno) : "open");
	printf("fd 11 F_GETFD: %d\n", fcntl(11, F_GETFD));
	printf("fd 12 (FD_CLOEXEC by fcntl): %s\n", fcntl(12, F_GETFD) < 0 ? errname(errno) : "open");
	printf("fd 13 (pipe2 O_CLOEXEC): %s\n", fcntl(13, F_GETFD) < 0 ? errname(errno) : "open");
	printf("fd 14 (dup of a close-on-exec fd): %s\n", fcntl(14, F_GETFD) < 0 ? errname(errno) : "open");
	printf("fd 15 (F_DUPFD_CLOEXEC): %s\n", fcntl(15, F_GETFD) < 0 ? errname(errno) : "open");
	printf("fd 11 offset: %ld\n", (long)lseek(11, 0, SEEK_CUR));
	char a[8] = { 0 }, b[8] = { 0 };
	read(11, a, 7);
	int fd = open("/etc/passwd", O_RDONLY);
	pread(fd, b, 7, 5);
	close(fd);
	printf("fd 11 reads on from the offset: %s\n", memcmp(a, b, 7) ? "no" : "yes");
	return 0;
}

static int mode_sig(void)
{
	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	printf("SIGUSR1 (ignored before exec): %s\n", sa.sa_handler == SIG_IGN ? "ignored" :
	       sa.sa_handler == SIG_DFL ? "default" : "handler");
	sigaction(SIGUSR2, NULL, &sa);
	printf("SIGUSR2 (handled before exec): %s\n", sa.sa_handler == SIG_IGN ? "ignored" :
	       sa.sa_handler == SIG_DFL ? "default" : "handler");
	sigset_t m, p;
	sigprocmask(SIG_BLOCK, NULL, &m);
	printf("SIGHUP still blocked: %s\n", sigismember(&m, SIGHUP) ? "yes" : "no");
	printf("SIGTERM not blocked: %s\n", !sigismember(&m, SIGTERM) ? "yes" : "no");
	sigpending(&p);
	printf("SIGHUP still pending: %s\n", sigismember(&p, SIGHUP) ? "yes" : "no");
	stack_t ss;
	sigaltstack(NULL, &ss);
	printf("alternate stack disabled: %s\n", ss.ss_flags & SS_DISABLE ? "yes" : "no");
	/* Leave without dying of the pending SIGHUP. */
	signal(SIGHUP, SIG_IGN);
	return 0;
}

/* ---- the test ------------------------------------------------------------ */

static char out[65536];

/* Run path with argv/envp in a child; print its status and output, with
 * the data directory's path replaced by "DATA". */
static void run_show(const char *label, const char *path, char *const argv[], char *const envp[])
{
	int st = run_capture(path, argv, envp, out, sizeof out);
	replace_all(out, sizeof out, data_path(""), "DATA/");
	printf("%s: %s\n", label, st == -1 ? "no status" : status_str(st));
	print_indented(out);
}

static void argv_envp(void)
{
	printf("-- argv and envp\n");
	char *argv[] = { "custom-argv0", "one", "two words", "", "tab\there", "-x", NULL };
	char *envp[] = { "A=1", "EMPTY=", "SPACES=a b  c", "NOEQUALS", "A=2", NULL };
	run_show("exact argv and envp", self_exe, (char *[]){ "x", "show", "one", "two words", "", "tab\there", NULL }, envp);
	argv[1] = "show";
	run_show("argv[0] is what the caller chose", self_exe, argv, (char *[]){ NULL });
	/* An empty argv: Linux (since 5.18) passes argc 1 with argv[0] = "". */
	char *noargs[] = { NULL };
	int st = run_capture(self_exe, noargs, (char *[]){ "COCOON_EXEC_MODE=show", NULL }, out, sizeof out);
	printf("empty argv: %s\n", status_str(st));
	print_indented(out);
}

static void ids(void)
{
	printf("-- ids across exec\n");
	int p[2];
	pipe(p);
	pid_t pid = xfork();
	if (pid == 0) {
		char a[32], b[32];
		snprintf(a, sizeof a, "%d", (int)getpid());
		snprintf(b, sizeof b, "%d", (int)getppid());
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execve(self_exe, (char *[]){ "x", "ids", a, b, NULL }, environ);
		_exit(127);
	}
	close(p[1]);
	ssize_t n = read_all(p[0], out, sizeof out - 1);
	out[n > 0 ? n : 0] = 0;
	close(p[0]);
	int st = reap(pid);
	printf("ids child: %s\n", status_str(st));
	print_indented(out);
}

static void fds(void)
{
	printf("-- fds across exec\n");
	pid_t pid = xfork();
	if (pid == 0) {
		int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		dup2(fd, 10);
		fcntl(10, F_SETFD, FD_CLOEXEC);   /* dup2 cleared it */
		int plain = open("/etc/passwd", O_RDONLY);
		char skip[5];
		read(plain, skip, 5);
		dup2(plain, 11);
		dup2(plain, 12);
		fcntl(12, F_SETFD, FD_CLOEXEC);
		int pp[2];
		pipe2(pp, O_CLOEXEC);
		dup2(pp[0], 13);
		fcntl(13, F_SETFD, FD_CLOEXEC);
		int d = dup(fd);   /* dup: close-on-exec is not copied */
		dup2(d, 14);
		int dc = fcntl(plain, F_DUPFD_CLOEXEC, 15);
		if (dc != 15)
			printf("F_DUPFD_CLOEXEC gave another fd\n");
		close(fd);
		close(plain);
		close(d);
		close(pp[0]);
		close(pp[1]);
		execve(self_exe, (char *[]){ "x", "fds", NULL }, environ);
		_exit(127);
	}
	int st = reap(pid);
	printf("fds child: %s\n", status_str(st));
}

static void on_usr2(int s) { }

static void signals(void)
{
	printf("-- signal state across exec\n");
	pid_t pid = xfork();
	if (pid == 0) {
		signal(SIGUSR1, SIG_IGN);
		signal(SIGUSR2, on_usr2);
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGHUP);
		sigprocmask(SIG_BLOCK, &m, NULL);
		raise(SIGHUP);
		static char alt[65536];
		stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
		sigaltstack(&ss, NULL);
		execve(self_exe, (char *[]){ "x", "sig", NULL }, environ);
		_exit(127);
	}
	int st = reap(pid);
	printf("sig child: %s\n", status_str(st));
}

static void exit_codes(void)
{
	printf("-- exec'd programs' exit codes\n");
	run_show("/bin/true", "/bin/true", (char *[]){ "true", NULL }, NULL);
	run_show("/bin/false", "/bin/false", (char *[]){ "false", NULL }, NULL);
	run_show("self, exit 42", self_exe, (char *[]){ "x", "exit42", NULL }, NULL);
}

static void scripts(void)
{
	printf("-- #! scripts\n");
	if (chdir(data_path("")) < 0) {
		printf("chdir to the data directory: %s\n", errname(errno));
		return;
	}
	run_show("#!/usr/bin/printf [%s]\\n", "./nest0", (char *[]){ "ignored-argv0", "a", "b c", NULL }, NULL);
	run_show("blanks around the interpreter, argument with a space", "./opt_spaces",
		 (char *[]){ "ignored", "a", NULL }, NULL);
	run_show("#!/bin/echo without an argument", "./noarg", (char *[]){ "ignored", "a", "b", NULL }, NULL);
	run_show("#!/bin/sh script", "./sh_script", (char *[]){ "ignored", "x", "y z", NULL }, NULL);
	run_show("script by absolute path", data_path("noarg"), (char *[]){ "ignored", NULL }, NULL);
	run_show("nested: 5 scripts deep", "./nest4", (char *[]){ "ignored", "a", NULL }, NULL);
	run_show("nested: 6 scripts deep", "./nest5", (char *[]){ "ignored", "a", NULL }, NULL);
	run_show("argv[0] of the script does not matter, the path does", "nest0",
		 (char *[]){ "./other", NULL }, NULL);
	chdir("/");
}

static void errors(void)
{
	printf("-- execve errors\n");
	char *av[] = { "x", NULL };
	struct { const char *label, *path; } cases[] = {
		{ "garbage text", "garbage" },
		{ "empty file", "empty" },
		{ "bad ELF header", "bad_elf" },
		{ "not executable (mode 644)", "not_executable" },
		{ "#! with a missing interpreter", "missing_interp" },
		{ "#! with nothing after it", "empty_interp" },
		{ "#! with an interpreter longer than the buffer", "long_interp" },
		{ "#! naming a directory", "dir_interp" },
		{ "#! naming a non-executable file", "noexec_interp" },
		{ "#!/bin/sh with CRLF", "crlf" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		errno = 0;
		execve(data_path(cases[i].path), av, environ);
		printf("%s: %s\n", cases[i].label, errname(errno));
	}
	struct { const char *label, *path; } paths[] = {
		{ "a directory", "/etc" },
		{ "a missing file", "/nonexistent/program" },
		{ "a file as a directory", "/etc/passwd/x" },
		{ "the empty path", "" },
		{ "a trailing slash on a program", "/bin/true/" },
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		errno = 0;
		execve(paths[i].path, av, environ);
		printf("%s: %s\n", paths[i].label, errname(errno));
	}
	char *longpath = malloc(5000);
	memset(longpath, 'a', 4999);
	longpath[0] = '/';
	longpath[4999] = 0;
	res("a path longer than PATH_MAX", rsys(SYS_execve, longpath, av, environ));
	free(longpath);
	res("path NULL", rsys(SYS_execve, 0, av, environ));
	res("argv a bad pointer", rsys(SYS_execve, "/bin/true", 8, environ));
	res("envp a bad pointer", rsys(SYS_execve, "/bin/true", av, 8));
	char *badarg[] = { "x", (char *)8, NULL };
	res("an argv string at a bad address", rsys(SYS_execve, "/bin/true", badarg, environ));

	/* One string longer than MAX_ARG_STRLEN (32 pages). */
	size_t big = 33 * PAGE;
	char *s = malloc(big + 1);
	memset(s, 'z', big);
	s[big] = 0;
	char *bigargv[] = { "x", s, NULL }, *bigenv[] = { s, NULL };
	res("one argument longer than 128 KiB", rsys(SYS_execve, "/bin/true", bigargv, environ));
	res("one environment string longer than 128 KiB", rsys(SYS_execve, "/bin/true", av, bigenv));
	free(s);
	/* In total more than a quarter of the 8 MiB stack limit. */
	enum { N = 40 };
	char *many[N + 2];
	char *chunk = malloc(100000);
	memset(chunk, 'y', 99999);
	chunk[99999] = 0;
	many[0] = "x";
	for (int i = 1; i <= N; i++)
		many[i] = chunk;
	many[N + 1] = NULL;
	res("4 MB of arguments", rsys(SYS_execve, "/bin/true", many, environ));
	free(chunk);
	printf("the process is intact after failed execs: yes\n");
}

struct at_args { int dirfd; const char *path; char *const *argv; int flags; int open_self; };
static void do_execveat(void *ctx)
{
	struct at_args *a = ctx;
	int fd = a->dirfd;
	if (a->open_self)
		fd = open(self_exe, a->open_self == 1 ? O_RDONLY : O_PATH | O_CLOEXEC);
	char *env[] = { "E=1", NULL };
	long r = rsys(SYS_execveat, fd, a->path, a->argv, env, a->flags);
	errno = (int)-r;
}
static void show_at(const char *label, struct at_args a)
{
	int st = capture(do_execveat, &a, out, sizeof out);
	replace_all(out, sizeof out, data_path(""), "DATA/");
	printf("%s: %s\n", label, st == -1 ? "no status" : status_str(st));
	print_indented(out);
}

static void execveat_cases(void)
{
	printf("-- execveat\n");
	char *av[] = { "x", "show", "via-execveat", NULL };
	char *exit42[] = { "x", "exit42", NULL };
	show_at("AT_EMPTY_PATH on an O_RDONLY fd", (struct at_args){ -1, "", av, AT_EMPTY_PATH, 1 });
	show_at("AT_EMPTY_PATH on an O_PATH|O_CLOEXEC fd (ELF)",
		(struct at_args){ -1, "", exit42, AT_EMPTY_PATH, 2 });

	char dir[4096];
	snprintf(dir, sizeof dir, "%s", self_exe);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (slash)
		*slash = 0;
	int d = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
	show_at("a directory fd and a relative name", (struct at_args){ d, base, exit42, 0, 0 });
	close(d);
	show_at("an absolute path ignores the dirfd", (struct at_args){ 999, self_exe, exit42, 0, 0 });

	/* A script through an fd: the interpreter gets /dev/fd/N. */
	int sfd = open(data_path("nest0"), O_RDONLY);
	dup2(sfd, 20);
	close(sfd);
	show_at("a script by fd (AT_EMPTY_PATH)",
		(struct at_args){ 20, "", (char *[]){ "x", "arg", NULL }, AT_EMPTY_PATH, 0 });
	fcntl(20, F_SETFD, FD_CLOEXEC);
	res("a script by a close-on-exec fd", rsys(SYS_execveat, 20, "", av, environ, AT_EMPTY_PATH));
	close(20);

	int dd = open(data_path(""), O_RDONLY | O_DIRECTORY);
	show_at("a symlink, followed", (struct at_args){ dd, "echo_link",
		(char *[]){ "echo", "through", "the", "link", NULL }, 0, 0 });
	res("AT_SYMLINK_NOFOLLOW on a symlink", rsys(SYS_execveat, dd, "echo_link", av, environ, AT_SYMLINK_NOFOLLOW));
	res("an empty path without AT_EMPTY_PATH", rsys(SYS_execveat, dd, "", av, environ, 0));
	res("AT_EMPTY_PATH on a directory fd", rsys(SYS_execveat, dd, "", av, environ, AT_EMPTY_PATH));
	res("unknown flags", rsys(SYS_execveat, dd, "echo_link", av, environ, 0x2));
	res("a bad dirfd with a relative path", rsys(SYS_execveat, 999, "echo_link", av, environ, 0));
	int f = open("/etc/passwd", O_RDONLY);
	res("a relative path on a file fd", rsys(SYS_execveat, f, "x", av, environ, 0));
	close(f);
	close(dd);
}

int main(int argc, char **argv, char **envp)
{
	proc_init(argc, argv);
	const char *m = getenv("COCOON_EXEC_MODE");
	if (m && !strcmp(m, "show"))
		return mode_show(argc, argv, envp);
	if (argc > 1) {
		if (!strcmp(argv[1], "show"))
			return mode_show(argc, argv, envp);
		if (!strcmp(argv[1], "ids") && argc > 3)
			return mode_ids(argc, argv);
		if (!strcmp(argv[1], "fds"))
			return mode_fds();
		if (!strcmp(argv[1], "sig"))
			return mode_sig();
		if (!strcmp(argv[1], "exit42"))
			return 42;
		printf("unknown mode %s\n", argv[1]);
		return 2;
	}
	argv_envp();
	ids();
	fds();
	signals();
	exit_codes();
	scripts();
	errors();
	execveat_cases();
	return expect_failures ? 1 : 0;
}
