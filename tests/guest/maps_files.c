/* /proc/self/maps and smaps for what programs map: the program's and its
 * libraries' segments line by line (the RELRO part that ld.so or libc
 * made read-only is a line of its own, as Linux never merges it with the
 * read-only segment before it: it was writable), with their smaps
 * VmFlags; files unlinked (" (deleted)") and renamed while mapped, a
 * memfd; and VmFlags for each kind of anonymous mapping. Lines are
 * printed relative to the first line of their file, with device and
 * inode left out. */
#include "maps_util.h"
#include <sys/syscall.h>

#define PG 4096UL

static void smaps_line(char *out, size_t size, const struct mline *x, unsigned long base)
{
	char d[400], flags[200];
	maps_describe(d, sizeof d, x, base);
	smaps_field(x, "VmFlags:", flags, sizeof flags);
	snprintf(out, size, "%s [%s]", d, flags);
}

/* The lines of the file whose path ends in /name, from its first line to
 * its last, and the anonymous line right after (a program's bss). */
static void file_lines(const char *name)
{
	maps_read("/proc/self/smaps");
	maps_parse();
	size_t nl = strlen(name);
	int first = -1, last = -1;
	for (int k = 0; k < nmlines; k++) {
		size_t l = strlen(mlines[k].name);
		if (l > nl && mlines[k].name[l - nl - 1] == '/' && !strcmp(mlines[k].name + l - nl, name)) {
			if (first < 0)
				first = k;
			last = k;
		}
	}
	if (first < 0) {
		printf("%s: not mapped\n", name);
		return;
	}
	if (last + 1 < nmlines && mlines[last + 1].start == mlines[last].end && !mlines[last + 1].name[0])
		last++;
	printf("%s:\n", name);
	for (int k = first; k <= last; k++) {
		char line[800];
		smaps_line(line, sizeof line, &mlines[k], mlines[first].start);
		/* the path is the same in both runs, but long: its base name */
		char *slash = strrchr(line, '/');
		char *name_at = strstr(line, " /");
		if (slash && name_at)
			memmove(name_at + 1, slash + 1, strlen(slash + 1) + 1);
		printf("  %s\n", line);
	}
}

/* The lines over [base, base+len) with VmFlags, from smaps. */
static void show_smaps(const char *label, void *base, unsigned long len, const char *dir)
{
	maps_read("/proc/self/smaps");
	maps_parse();
	printf("%s:\n", label);
	for (int k = 0; k < nmlines; k++) {
		const struct mline *x = &mlines[k];
		if (x->end <= (unsigned long)base || x->start >= (unsigned long)base + len)
			continue;
		char line[800];
		smaps_line(line, sizeof line, x, (unsigned long)base);
		if (dir) {
			char *at = strstr(line, dir);
			if (at) {
				memcpy(at, "DIR", 3);
				memmove(at + 3, at + strlen(dir), strlen(at + strlen(dir)) + 1);
			}
		}
		printf("  %s\n", line);
	}
}

static void *guarded(unsigned long len)
{
	char *res = mmap(NULL, len + 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return res == MAP_FAILED ? res : res + PG;
}

static void images(void)
{
	const char *me = strrchr(self_exe, '/');
	file_lines(me ? me + 1 : self_exe);
	file_lines("libc.so.6");
	file_lines("ld-linux-x86-64.so.2");
}

static void files(void)
{
	char dir[] = "/tmp/maps_files.XXXXXX";
	if (!mkdtemp(dir)) {
		expect(0, "mkdtemp");
		return;
	}
	char path[128], moved[128];
	snprintf(path, sizeof path, "%s/data", dir);
	snprintf(moved, sizeof moved, "%s/moved", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	static char page[PG];
	for (int i = 0; i < 3; i++) {
		memset(page, 'a' + i, PG);
		if (write(fd, page, PG) != (ssize_t)PG)
			expect(0, "write");
	}
	char *area = guarded(8 * PG);
	char *sh = mmap(area, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, PG);
	char *pr = mmap(area + 3 * PG, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	char *ro = mmap(area + 6 * PG, PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 2 * PG);
	expect(sh != MAP_FAILED && pr != MAP_FAILED && ro != MAP_FAILED, "a tmpfs file mapped three ways");
	if (sh == MAP_FAILED || pr == MAP_FAILED || ro == MAP_FAILED)
		return;
	expect(sh[0] == 'b' && pr[PG] == 'b' && ro[0] == 'c', "its bytes");
	show_smaps("mapped", area, 8 * PG, dir);
	rename(path, moved);
	show_smaps("renamed", area, 8 * PG, dir);
	unlink(moved);
	show_smaps("unlinked", area, 8 * PG, dir);
	close(fd);
	rmdir(dir);
	munmap(area - PG, 10 * PG);

	long mfd = rsys(SYS_memfd_create, "maps-test", 0);
	if (mfd >= 0 && ftruncate((int)mfd, 2 * PG) == 0) {
		char *m = mmap(guarded(2 * PG), 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, (int)mfd, 0);
		if (m != MAP_FAILED) {
			show_smaps("a memfd", m, 2 * PG, NULL);
			munmap(m - PG, 4 * PG);
		}
		close((int)mfd);
	}
}

static void anon_kinds(void)
{
	struct {
		const char *what;
		int prot, flags;
	} kinds[] = {
		{ "private rw", PROT_READ | PROT_WRITE, MAP_PRIVATE },
		{ "private r", PROT_READ, MAP_PRIVATE },
		{ "private none", PROT_NONE, MAP_PRIVATE },
		{ "private rwx", PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE },
		{ "private rw noreserve", PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE },
		{ "private rw growsdown", PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_GROWSDOWN },
		{ "shared rw", PROT_READ | PROT_WRITE, MAP_SHARED },
		{ "shared r", PROT_READ, MAP_SHARED },
	};
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		char *g = guarded(2 * PG);
		char *p = mmap(g, 2 * PG, kinds[i].prot, kinds[i].flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED) {
			printf("%s: %s\n", kinds[i].what, errname(errno));
			continue;
		}
		show_smaps(kinds[i].what, p, 2 * PG, NULL);
		munmap(g - PG, 4 * PG);
	}
	/* Made writable later: accounted from then on, even made read-only
	 * again, so it does not merge with memory that never was. */
	char *g = guarded(3 * PG);
	mmap(g, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	mprotect(g + PG, PG, PROT_READ | PROT_WRITE);
	show_smaps("private r, the middle page made rw", g, 3 * PG, NULL);
	mprotect(g + PG, PG, PROT_READ);
	show_smaps("and read-only again", g, 3 * PG, NULL);
	munmap(g - PG, 5 * PG);
	/* A PROT_NONE reservation partly made rw, then none again. */
	g = guarded(3 * PG);
	mmap(g, 3 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	mprotect(g, 2 * PG, PROT_READ | PROT_WRITE);
	mprotect(g + PG, PG, PROT_NONE);
	show_smaps("a reservation: rw, none that was rw, none", g, 3 * PG, NULL);
	munmap(g - PG, 5 * PG);
}

static void specials(void)
{
	maps_read("/proc/self/smaps");
	maps_parse();
	const char *names[] = { "[stack]", "[vvar]", "[vvar_vclock]", "[vdso]", "[vsyscall]" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const struct mline *x = maps_named(names[i]);
		char flags[200] = "";
		if (x)
			smaps_field(x, "VmFlags:", flags, sizeof flags);
		if (!strcmp(names[i], "[stack]"))
			printf("%s: %s %08lx [%s]\n", names[i], x ? x->perms : "-", x ? x->off : 0, flags);
		else
			printf("%s: %s%lx %s %08lx [%s]\n", names[i], x ? "size " : "absent", x ? x->end - x->start : 0,
			       x ? x->perms : "", x ? x->off : 0, flags);
	}
	const struct mline *vv = maps_named("[vvar]"), *vc = maps_named("[vvar_vclock]"),
			   *vd = maps_named("[vdso]");
	expect(vv && vd && (vc ? vv->end == vc->start && vc->end == vd->start : vv->end == vd->start),
	       "[vvar], [vvar_vclock] if any, [vdso]: adjacent, in that order");
}

/* [stack]: 128 KiB below the argument strings' page at first (Linux's
 * setup_arg_pages), growing down over pages the program uses. */
__attribute__((noinline)) static void deep(int depth_kb)
{
	volatile char big[64 << 10];
	for (size_t i = 0; i < sizeof big; i += 512)
		big[i] = 1;
	maps_read("/proc/self/maps");
	maps_parse();
	const struct mline *st = maps_named("[stack]");
	if (depth_kb > 64) {
		deep(depth_kb - 64);
		return;
	}
	expect(st && st->start <= (unsigned long)&big[0], "[stack] grew over a page written deep below");
}

static void stack(char **argv)
{
	maps_read("/proc/self/maps");
	maps_parse();
	const struct mline *st = maps_named("[stack]");
	unsigned long strings = (unsigned long)argv[0] & ~(PG - 1);
	expect(st && st->end > strings && st->start <= strings - 128 * 1024 &&
	       st->start >= strings - 256 * 1024, "[stack] starts about 128 KiB below the argument strings");
	deep(512);
}

/* smaps_rollup: one line spanning the process's mappings (not the gate
 * area), then Linux's fields in order. */
static void rollup(void)
{
	maps_read("/proc/self/maps");
	maps_parse();
	unsigned long lo = nmlines ? mlines[0].start : 0, hi = 0;
	for (int k = 0; k < nmlines; k++)
		if (strcmp(mlines[k].name, "[vsyscall]") && strcmp(mlines[k].name, "[cocoon-stub]"))
			hi = mlines[k].end;
	long n = maps_read("/proc/self/smaps_rollup");
	maps_parse();
	expect(n > 0 && nmlines == 1 && !strcmp(mlines[0].name, "[rollup]") && !strcmp(mlines[0].perms, "---p") &&
	       mlines[0].start == lo && mlines[0].end == hi && mlines[0].off == 0 && mlines[0].ino == 0,
	       "smaps_rollup: one [rollup] line from the first mapping to the last");
	const char *keys[] = { "Rss:", "Pss:", "Pss_Dirty:", "Pss_Anon:", "Pss_File:", "Pss_Shmem:",
			       "Shared_Clean:", "Shared_Dirty:", "Private_Clean:", "Private_Dirty:",
			       "Referenced:", "Anonymous:", "KSM:", "LazyFree:", "AnonHugePages:",
			       "ShmemPmdMapped:", "FilePmdMapped:", "Shared_Hugetlb:", "Private_Hugetlb:",
			       "Swap:", "SwapPss:", "Locked:" };
	const char *l = strchr(maps_buf, '\n');
	bool ok = l != NULL;
	for (size_t i = 0; ok && i < sizeof keys / sizeof *keys; i++) {
		l++;
		unsigned long v;
		char unit[4];
		ok = !strncmp(l, keys[i], strlen(keys[i])) && sscanf(l + strlen(keys[i]), "%lu %3s", &v, unit) == 2 &&
		     !strcmp(unit, "kB") && l[24] == ' ' && l[25] == 'k';
		l = strchr(l, '\n');
		ok &= l != NULL;
	}
	expect(ok && l && l[1] == 0, "smaps_rollup: the fields in Linux's order, values in column 17-24");
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	images();
	files();
	anon_kinds();
	specials();
	stack(argv);
	rollup();
	return expect_failures ? 1 : 0;
}
