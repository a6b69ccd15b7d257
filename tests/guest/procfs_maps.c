/* /proc/self/maps and smaps: every line parses with Linux's format (the
 * name from column 73), lines are sorted and disjoint, [stack] holds the
 * stack, [vdso] is AT_SYSINFO_EHDR with [vvar] below it, [heap] appears
 * with brk, and mappings made here show as Linux shows them: a file at a
 * fixed address with its offset, device, inode and path, a deleted file,
 * shared anonymous memory, splits by mprotect and holes by munmap. Then a
 * child's maps from its parent. Addresses are printed only relative to
 * the mappings made here. */
#include "proc_util.h"
#include <stdbool.h>
#include <limits.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

struct line {
	unsigned long start, end, off, ino;
	unsigned maj, min;
	char perms[5];
	const char *name; /* inside buf, up to the newline */
	int name_len;
};

static int nlines;
static struct line lines[8192];

/* Parse buf as maps; the number of lines that do not follow the format. */
static int parse_maps(void)
{
	int bad = 0;
	nlines = 0;
	for (char *l = buf; *l && nlines < 8192; ) {
		char *nl = strchr(l, '\n');
		if (!nl) {
			bad++;
			break;
		}
		struct line *x = &lines[nlines];
		int used = 0;
		if (sscanf(l, "%lx-%lx %4s %lx %x:%x %lu %n", &x->start, &x->end, x->perms, &x->off,
			   &x->maj, &x->min, &x->ino, &used) < 7) {
			bad++;
		} else {
			/* the header is "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ",
			 * then the name padded to column 73 */
			char head[128];
			int hl = snprintf(head, sizeof head, "%08lx-%08lx %s %08lx %02x:%02x %lu ",
					  x->start, x->end, x->perms, x->off, x->maj, x->min, x->ino);
			bool ok = !strncmp(l, head, hl);
			if (l + hl == nl) {
				x->name = NULL;
			} else {
				int col = hl < 73 ? 73 : hl + 1;
				for (int k = hl; k < col; k++)
					ok &= l[k] == ' ';
				ok &= l + col < nl && l[col] != ' ';
				x->name = l + col;
				x->name_len = nl - (l + col);
			}
			ok &= x->start < x->end && !(x->start & 4095) && !(x->end & 4095);
			ok &= strchr("r-", x->perms[0]) && strchr("w-", x->perms[1]) &&
			      strchr("x-", x->perms[2]) && strchr("ps", x->perms[3]);
			if (!ok) {
				printf("bad line: %.*s\n", (int)(nl - l), l);
				bad++;
			}
			nlines++;
		}
		l = nl + 1;
	}
	return bad;
}

static bool named(const struct line *x, const char *name)
{
	return x->name && (int)strlen(name) == x->name_len && !strncmp(x->name, name, x->name_len);
}

static const struct line *find_name(const char *name)
{
	for (int k = 0; k < nlines; k++)
		if (named(&lines[k], name))
			return &lines[k];
	return NULL;
}

static const struct line *find_addr(unsigned long a)
{
	for (int k = 0; k < nlines; k++)
		if (lines[k].start <= a && a < lines[k].end)
			return &lines[k];
	return NULL;
}

/* The lines covering [a, a+len), as "perms offset name" relative to a. */
static void show_range(const char *what, unsigned long a, unsigned long len, const char *dirname)
{
	printf("%s:\n", what);
	for (int k = 0; k < nlines; k++) {
		const struct line *x = &lines[k];
		if (x->end <= a || x->start >= a + len)
			continue;
		char name[4096] = "";
		if (x->name) {
			snprintf(name, sizeof name, "%.*s", x->name_len, x->name);
			size_t dl = dirname ? strlen(dirname) : 0;
			if (dl && !strncmp(name, dirname, dl)) {
				memmove(name + 3, name + dl, strlen(name + dl) + 1);
				memcpy(name, "DIR", 3);
			}
		}
		printf("  +%lx-+%lx %s %08lx %s%s\n", x->start - a, x->end - a, x->perms, x->off,
		       x->ino ? "dev:ino " : "0 ", name);
	}
}

static void own_maps(void)
{
	long n = slurp("/proc/self/maps");
	int bad = parse_maps();
	expect(n > 0 && bad == 0 && nlines > 5, "every line parses with Linux's format");
	bool sorted = true;
	for (int k = 1; k < nlines; k++)
		sorted &= lines[k - 1].end <= lines[k].start;
	expect(sorted, "lines sorted and disjoint");
	int local;
	const struct line *st = find_name("[stack]");
	expect(st && st->start <= (unsigned long)&local && (unsigned long)&local < st->end,
	       "[stack] holds a local variable");
	expect(st && !strcmp(st->perms, "rw-p") && st->off == 0 && st->ino == 0, "[stack] rw-p 0 0");
	const struct line *vd = find_name("[vdso]"), *vv = find_name("[vvar]");
	expect(vd && vd->start == getauxval(AT_SYSINFO_EHDR), "[vdso] at AT_SYSINFO_EHDR");
	expect(vd && !strcmp(vd->perms, "r-xp"), "[vdso] r-xp");
	expect(vv && vd && vv->end <= vd->start && !strcmp(vv->perms, "r--p"), "[vvar] r--p below [vdso]");
	const struct line *last = &lines[nlines - 1];
	expect(named(last, "[vsyscall]") || !find_name("[vsyscall]"), "[vsyscall] is the last line if any");

	/* brk: a heap appears */
	unsigned long cur = rsys(SYS_brk, 0);
	unsigned long top = rsys(SYS_brk, cur + 8 * 4096);
	slurp("/proc/self/maps");
	parse_maps();
	const struct line *h = find_name("[heap]");
	expect(top > cur && h && h->start <= cur && top <= h->end, "[heap] covers the brk area");
	expect(h && !strcmp(h->perms, "rw-p"), "[heap] rw-p");

	/* a file mapped at a fixed address, from its second page: the
	 * program itself (a host file: files made in the sandbox's tmpfs
	 * cannot be mapped yet) */
	char dir[PATH_MAX], path[PATH_MAX];
	if (!realpath(self_exe, path))
		return;
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = 0;
	int fd = open(path, O_RDONLY);
	struct stat fs;
	fstat(fd, &fs);
	expect(fs.st_size > 5 * 4096, "the program is long enough");
	char *area = mmap(NULL, 16 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long a = (unsigned long)area;
	char *m1 = mmap(area + 4096, 2 * 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 4096);
	char *m2 = mmap(area + 4 * 4096, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 3 * 4096);
	char *m3 = mmap(area + 6 * 4096, 3 * 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	mprotect(m3 + 4096, 4096, PROT_READ);
	char *m4 = mmap(area + 10 * 4096, 3 * 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	munmap(m4 + 4096, 4096);
	char *m5 = mmap(area + 14 * 4096, 4096, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	expect(m1 != MAP_FAILED && m2 != MAP_FAILED && m3 != MAP_FAILED && m4 != MAP_FAILED &&
	       m5 != MAP_FAILED, "mappings made");
	if (m1 == MAP_FAILED || m2 == MAP_FAILED || m3 == MAP_FAILED || m5 == MAP_FAILED)
		return;
	static char page[4096], page3[4096];
	expect(pread(fd, page, 4096, 4096) == 4096 && !memcmp(m1, page, 4096) &&
	       pread(fd, page3, 4096, 3 * 4096) == 4096 && !memcmp(m2, page3, 4096),
	       "file pages as mapped");
	m3[0] = 1;
	m5[0] = 1;
	slurp("/proc/self/maps");
	expect(parse_maps() == 0, "still parses");
	show_range("the area", a, 16 * 4096, dir);
	const struct line *f1 = find_addr((unsigned long)m1);
	expect(f1 && f1->maj == major(fs.st_dev) && f1->min == minor(fs.st_dev) && f1->ino == fs.st_ino,
	       "file mapping: the file's device and inode");
	close(fd);

	/* smaps: the same lines, each followed by its fields */
	n = slurp("/proc/self/smaps");
	int maps_lines = 0, sizes_ok = 0, flags = 0, rss_ok = 0;
	unsigned long start = 0, end = 0, size = 0;
	for (char *l = buf; *l; ) {
		char *nl = strchr(l, '\n');
		if (!nl)
			break;
		unsigned long s, e;
		char perms[8];
		if (sscanf(l, "%lx-%lx %7s", &s, &e, perms) == 3 && strchr(l, ':') && l[8] != ':') {
			maps_lines++;
			start = s;
			end = e;
		} else if (!strncmp(l, "Size:", 5)) {
			size = strtoul(l + 5, NULL, 10);
			sizes_ok += size == (end - start) / 1024 && strlen(l) > 0 && l[23] != ' ';
		} else if (!strncmp(l, "Rss:", 4)) {
			rss_ok += strtoul(l + 4, NULL, 10) <= size;
		} else if (!strncmp(l, "VmFlags:", 8)) {
			flags++;
		}
		l = nl + 1;
	}
	expect(n > 0 && maps_lines > 5 && sizes_ok == maps_lines && flags == maps_lines &&
	       rss_ok == maps_lines, "smaps: every mapping has Size (its length), Rss <= Size, VmFlags");
	const char *want[] = { "Size:", "KernelPageSize:", "MMUPageSize:", "Rss:", "Pss:", "Shared_Clean:",
			       "Shared_Dirty:", "Private_Clean:", "Private_Dirty:", "Referenced:",
			       "Anonymous:", "AnonHugePages:", "Swap:", "SwapPss:", "Locked:", "VmFlags:" };
	const char *at = strchr(buf, '\n');
	bool order = at != NULL;
	for (size_t k = 0; at && k < sizeof want / sizeof *want; k++) {
		char key[32];
		snprintf(key, sizeof key, "\n%s", want[k]);
		const char *hit = strstr(at, key);
		order &= hit != NULL;
		if (hit)
			at = hit + 1;
	}
	expect(order, "smaps: the fields in Linux's order");
	char *stack_flags = strstr(buf, "[stack]");
	stack_flags = stack_flags ? strstr(stack_flags, "VmFlags:") : NULL;
	expect(stack_flags && !strncmp(stack_flags, "VmFlags: rd wr mr mw me gd ac", 29),
	       "smaps: [stack] VmFlags rd wr mr mw me gd ac");
	munmap(area, 16 * 4096);
}

static void child_maps(void)
{
	int p[2];
	if (pipe(p))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	long n = slurp(path);
	expect(n > 0 && parse_maps() == 0 && find_name("[stack]") && find_name("[vdso]"),
	       "a child's maps: parses, has [stack] and [vdso]");
	if (write(p[1], "x", 1) != 1)
		return;
	close(p[1]);
	int st;
	waitpid(pid, &st, 0);
	n = slurp(path);
	res("a reaped child's maps", n < 0 ? n : 0);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	own_maps();
	child_maps();
	return expect_failures ? 1 : 0;
}
