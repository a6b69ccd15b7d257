/* The vDSO as tools see it: the [vdso] mapping dumped to a file and read
 * by binutils' `readelf -aW` (run as a child): it reads without warnings
 * or errors, shows the LINUX_2.6 version definition, every clock and
 * getcpu name versioned @@LINUX_2.6 (the plain names weak, the __vdso_
 * ones global, as Linux's), a PT_GNU_EH_FRAME segment and an
 * .eh_frame_hdr section. Without readelf it says so (same both runs). */
#include "maps_util.h"
#include <sys/wait.h>

static char out[1 << 18], err[1 << 14];

/* Run argv with stdout and stderr into out and err: the exit status, or
 * -1 if it could not run. */
static int run(char *const argv[])
{
	int po[2], pe[2];
	if (pipe(po) || pipe(pe))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	size_t no = 0, ne = 0;
	bool open_o = true, open_e = true;
	while (open_o || open_e) {
		/* stderr is small: read it after stdout ends, unless full */
		if (open_o) {
			ssize_t n = read(po[0], out + no, sizeof out - 1 - no);
			if (n <= 0)
				open_o = false;
			else
				no += (size_t)n;
			if (no == sizeof out - 1)
				open_o = false;
		} else {
			ssize_t n = read(pe[0], err + ne, sizeof err - 1 - ne);
			if (n <= 0 || ne + (size_t)n == sizeof err - 1)
				open_e = false;
			if (n > 0)
				ne += (size_t)n;
		}
	}
	out[no] = 0;
	err[ne] = 0;
	close(po[0]);
	close(pe[0]);
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The readelf line of symbol `name`@@LINUX_2.6: its type and binding. */
static void symbol(const char *name)
{
	char want[64];
	snprintf(want, sizeof want, " %s@@LINUX_2.6\n", name);
	for (char *l = out; (l = strstr(l, want)); l++) {
		char *bol = l;
		while (bol > out && bol[-1] != '\n')
			bol--;
		char num[16], value[32], type[16], bind[16], vis[16], ndx[16];
		unsigned long size;
		if (sscanf(bol, "%15s %31s %lu %15s %15s %15s %15s", num, value, &size, type, bind, vis, ndx) == 7) {
			printf("%s@@LINUX_2.6: %s %s %s, in section %s\n", name, type, bind, vis,
			       strcmp(ndx, "UND") && strcmp(ndx, "ABS") ? "of the image" : ndx);
			return;
		}
	}
	printf("%s@@LINUX_2.6: absent\n", name);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	const char *readelf = access("/usr/bin/readelf", X_OK) == 0 ? "/usr/bin/readelf" : NULL;
	if (!readelf) {
		printf("readelf: not installed, nothing to check\n");
		return 0;
	}
	maps_read("/proc/self/maps");
	maps_parse();
	const struct mline *v = maps_named("[vdso]");
	if (!v) {
		printf("no [vdso]\n");
		return 1;
	}
	char path[] = "/tmp/vdso_readelf.XXXXXX";
	int fd = mkstemp(path);
	size_t len = v->end - v->start;
	expect(fd >= 0 && write(fd, (void *)v->start, len) == (ssize_t)len, "the [vdso] mapping dumped");
	close(fd);
	char *args[] = { (char *)readelf, "-aW", path, NULL };
	int st = run(args);
	unlink(path);
	printf("readelf -aW: exit %d, %s on stderr\n", st, err[0] ? "something" : "nothing");
	if (err[0])
		printf("  stderr: %.200s\n", err);
	expect(strstr(out, "Type:                              DYN (Shared object file)") != NULL,
	       "a shared object");
	expect(strstr(out, "Name: LINUX_2.6") != NULL, "version definition LINUX_2.6");
	static const char *names[] = { "clock_gettime", "__vdso_clock_gettime", "gettimeofday",
				       "__vdso_gettimeofday", "time", "__vdso_time", "clock_getres",
				       "__vdso_clock_getres", "getcpu", "__vdso_getcpu" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		symbol(names[i]);
	char *ph = strstr(out, "\n  GNU_EH_FRAME ");
	expect(ph != NULL, "a GNU_EH_FRAME program header");
	expect(strstr(out, "] .eh_frame_hdr ") != NULL && strstr(out, "] .eh_frame ") != NULL,
	       ".eh_frame_hdr and .eh_frame sections");
	expect(strstr(out, "There are no relocations in this file.") != NULL, "no relocations");
	return expect_failures ? 1 : 0;
}
