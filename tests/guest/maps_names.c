/* Names of anonymous mappings, prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME):
 * [anon:NAME] in /proc/self/maps, [anon_shmem:NAME] for shared anonymous
 * memory; splits and merges as Linux's (a name splits a mapping, equal
 * names merge again, mprotect and munmap keep them, mremap moves them,
 * fork copies them, NULL clears); [heap], [stack] and [vdso] win over a
 * name; errors in Linux's order (the name's EINVAL/EFAULT before the
 * range's EINVAL; EBADF for a file mapping; ENOMEM for a hole, whose
 * neighbours are named all the same).
 *
 * A kernel built without CONFIG_ANON_VMA_NAME answers EINVAL to every
 * call (some hosts are): then only "nothing is named" is checked, and the
 * same lines are printed, so the runs still compare. Under cocoon (its
 * stub's line in the maps) the names must work. Each expected layout is
 * what Linux with names shows. */
#include "maps_util.h"
#include <sys/prctl.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#define PG 4096UL

static bool supported;

static long set_name(void *addr, unsigned long len, const char *name)
{
	return rsys(SYS_prctl, PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, name);
}

/* The layout of [base, base+len) is `want` (when names work). */
static void layout(const char *label, void *base, unsigned long len, const char *want)
{
	char got[4096];
	maps_range(got, sizeof got, (unsigned long)base, len);
	bool ok = !supported || !strcmp(got, want);
	expect(ok, "%s", label);
	if (!ok)
		printf("    got:  %s\n    want: %s\n", got, want);
}

/* The call returned want (when names work), else EINVAL. */
static void answer(const char *label, long r, long want)
{
	bool ok = supported ? r == want : r == -EINVAL;
	expect(ok, "%s: %s", label, rstr(want));
	if (!ok)
		printf("    got %s\n", rstr(r));
}

/* Read-write anonymous memory between two PROT_NONE pages, so that it
 * never merges with a neighbour (Linux merges adjacent anonymous
 * mappings with the same flags). */
static void *map_anon(unsigned long len, int flags)
{
	char *res = mmap(NULL, len + 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return res;
	return mmap(res + PG, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static void splits_and_merges(void)
{
	char *p = map_anon(8 * PG, MAP_PRIVATE);
	answer("name 8 pages", set_name(p, 8 * PG, "first"), 0);
	layout("one line, named", p, 8 * PG, "+0-+8000 rw-p 00000000 [anon:first]");
	answer("name 2 pages inside", set_name(p + 2 * PG, 2 * PG, "mid"), 0);
	layout("three lines", p, 8 * PG,
	       "+0-+2000 rw-p 00000000 [anon:first]; +2000-+4000 rw-p 00000000 [anon:mid]; "
	       "+4000-+8000 rw-p 00000000 [anon:first]");
	answer("the same name again", set_name(p + 2 * PG, 2 * PG, "first"), 0);
	layout("merged back into one line", p, 8 * PG, "+0-+8000 rw-p 00000000 [anon:first]");
	mprotect(p + PG, PG, PROT_READ);
	layout("mprotect splits, the name stays", p, 8 * PG,
	       "+0-+1000 rw-p 00000000 [anon:first]; +1000-+2000 r--p 00000000 [anon:first]; "
	       "+2000-+8000 rw-p 00000000 [anon:first]");
	mprotect(p + PG, PG, PROT_READ | PROT_WRITE);
	layout("mprotect back: merged", p, 8 * PG, "+0-+8000 rw-p 00000000 [anon:first]");
	munmap(p + 3 * PG, PG);
	layout("munmap leaves two named pieces", p, 8 * PG,
	       "+0-+3000 rw-p 00000000 [anon:first]; +4000-+8000 rw-p 00000000 [anon:first]");
	answer("naming over a hole", set_name(p, 8 * PG, "two"), -ENOMEM);
	layout("both sides of the hole named", p, 8 * PG,
	       "+0-+3000 rw-p 00000000 [anon:two]; +4000-+8000 rw-p 00000000 [anon:two]");
	answer("naming only the hole", set_name(p + 3 * PG, PG, "x"), -ENOMEM);
	answer("NULL over the hole", set_name(p, 8 * PG, NULL), -ENOMEM);
	layout("NULL clears", p, 8 * PG, "+0-+3000 rw-p 00000000; +4000-+8000 rw-p 00000000");
	answer("a length that is not whole pages", set_name(p + 4 * PG, PG + 1, "odd"), 0);
	layout("rounded up to pages", p + 4 * PG, 4 * PG,
	       "+0-+2000 rw-p 00000000 [anon:odd]; +2000-+4000 rw-p 00000000");
	munmap(p, 8 * PG);

	/* Names set by two calls are equal by their text. */
	char *q = map_anon(4 * PG, MAP_PRIVATE);
	set_name(q, 2 * PG, "same");
	set_name(q + 2 * PG, 2 * PG, "same");
	layout("equal names set apart merge", q, 4 * PG, "+0-+4000 rw-p 00000000 [anon:same]");
	/* The longest name, and every allowed character class. */
	char longest[80];
	memset(longest, 'n', 79);
	longest[79] = 0;
	answer("a name of 79 characters", set_name(q, PG, longest), 0);
	answer("spaces, colons, punctuation", set_name(q + PG, PG, "a b:c/d.e-f_g(h){i}<j>~!@#%^&*+=|;'\",?"), 0);
	char want[600];
	snprintf(want, sizeof want,
		 "+0-+1000 rw-p 00000000 [anon:%s]; +1000-+2000 rw-p 00000000 "
		 "[anon:a b:c/d.e-f_g(h){i}<j>~!@#%%^&*+=|;'\",?]; +2000-+4000 rw-p 00000000 [anon:same]",
		 longest);
	layout("shown whole", q, 4 * PG, want);

	/* mremap moves a name with its pages. */
	char *dest = mmap(NULL, 6 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *r = mremap(q, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dest + PG);
	if (r != MAP_FAILED) {
		layout("mremap moves the names", r, 4 * PG, want);
		munmap(dest, 6 * PG);
	} else {
		expect(0, "mremap");
	}
	/* Grown by mremap (moved: a guard page follows): one named line. */
	char *g = map_anon(2 * PG, MAP_PRIVATE);
	set_name(g, 2 * PG, "grow");
	char *big = mremap(g, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
	if (big != MAP_FAILED) {
		layout("mremap grows the name too", big, 4 * PG, "+0-+4000 rw-p 00000000 [anon:grow]");
		munmap(big, 4 * PG);
	} else {
		expect(0, "mremap to grow");
	}
}

static void errors(void)
{
	char *p = map_anon(2 * PG, MAP_PRIVATE);
	static const char *bad[] = { "a$b", "[x", "x]", "back\\slash", "`", "tab\t", "del\x7f", "nl\n",
				     "\x1f", "caf\xc3\xa9" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char label[64];
		snprintf(label, sizeof label, "bad character in name %zu", i);
		answer(label, set_name(p, PG, bad[i]), -EINVAL);
	}
	char toolong[81];
	memset(toolong, 'n', 80);
	toolong[80] = 0;
	answer("a name of 80 characters", set_name(p, PG, toolong), -EINVAL);
	answer("an empty name", set_name(p, PG, ""), 0);
	layout("an empty name shows as [anon:]", p, PG, "+0-+1000 rw-p 00000000 [anon:]");
	answer("unaligned address", set_name(p + 1, PG, "x"), -EINVAL);
	answer("length 0", set_name(p, 0, "x"), 0);
	answer("length 0 at an unaligned address", set_name(p + 1, 0, "x"), -EINVAL);
	answer("a length that wraps when rounded", set_name(p, -1UL, "x"), -EINVAL);
	answer("a range that wraps", set_name(p, -(unsigned long)p + PG, "x"), -EINVAL);
	answer("an unreadable name", set_name(p, PG, (const char *)8), -EFAULT);
	answer("an unreadable name, unaligned address", set_name(p + 1, PG, (const char *)8), -EFAULT);
	answer("a bad name, unaligned address", set_name(p + 1, PG, "a$"), -EINVAL);
	/* A name running into an unmapped page before its NUL. */
	char *edge = map_anon(2 * PG, MAP_PRIVATE);
	munmap(edge + PG, PG);
	memset(edge + PG - 10, 'e', 10);
	answer("a name that runs into an unmapped page", set_name(p, PG, edge + PG - 10), -EFAULT);
	answer("a name beyond 80 bytes that runs into an unmapped page",
	       set_name(p, PG, memset(edge, 'e', PG) + PG - 100), -EINVAL);
	answer("another option", rsys(SYS_prctl, PR_SET_VMA, 1, p, PG, "x"), -EINVAL);
	answer("an unmapped range", set_name((void *)(0x7ff000000000UL), PG, "x"), -ENOMEM);

	/* A file mapping cannot be named; anonymous memory before it is. */
	int fd = open(self_exe, O_RDONLY);
	char *area = map_anon(4 * PG, MAP_PRIVATE);
	char *f = mmap(area + 2 * PG, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	close(fd);
	if (f == MAP_FAILED) {
		expect(0, "file mapped");
		return;
	}
	answer("a file mapping", set_name(f, PG, "x"), -EBADF);
	answer("anonymous memory then a file", set_name(area, 4 * PG, "before"), -EBADF);
	char got[1024];
	maps_range(got, sizeof got, (unsigned long)area, 2 * PG);
	expect(!supported || !strcmp(got, "+0-+2000 rw-p 00000000 [anon:before]"),
	       "the anonymous part is named");
	munmap(area, 4 * PG);
	munmap(p, 2 * PG);
	munmap(edge, PG);
}

static void shared(void)
{
	char *p = map_anon(4 * PG, MAP_SHARED);
	answer("shared anonymous memory", set_name(p + PG, 2 * PG, "shm"), 0);
	layout("[anon_shmem:NAME] with the shmem offsets", p, 4 * PG,
	       "+0-+1000 rw-s 00000000 /dev/zero (deleted); +1000-+3000 rw-s 00001000 [anon_shmem:shm]; "
	       "+3000-+4000 rw-s 00003000 /dev/zero (deleted)");
	munmap(p, 4 * PG);
}

static void specials(void)
{
	/* [heap]: the brk area keeps its name. */
	unsigned long cur = rsys(SYS_brk, 0);
	cur = (cur + PG - 1) & ~(PG - 1);
	unsigned long top = rsys(SYS_brk, cur + 4 * PG);
	if (top >= cur + 4 * PG) {
		answer("name part of the heap", set_name((void *)cur, 2 * PG, "h"), 0);
		maps_read("/proc/self/maps");
		maps_parse();
		const struct mline *a = maps_at(cur), *b = maps_at(cur + 3 * PG);
		expect(a && b && !strcmp(a->name, "[heap]") && !strcmp(b->name, "[heap]"),
		       "[heap] is still [heap], named or not");
	}
	/* [stack]: the part holding the initial stack pointer. */
	int local;
	unsigned long sp_page = (unsigned long)&local & ~(PG - 1);
	unsigned long below = sp_page - 3 * PG;
	answer("name a page of the stack below sp", set_name((void *)below, PG, "stk"), 0);
	maps_read("/proc/self/maps");
	maps_parse();
	const struct mline *s = maps_at(below), *t = maps_named("[stack]");
	expect(s && (!supported || !strcmp(s->name, "[anon:stk]")),
	       "a named piece below [stack] is [anon:stk]");
	expect(t && (!supported || t->start > below), "[stack] starts above it");
	set_name((void *)below, PG, NULL);
	/* [vdso]: named, still [vdso]. */
	const struct mline *v = maps_named("[vdso]");
	if (v) {
		unsigned long vs = v->start, ve = v->end;
		answer("name the vdso", set_name((void *)vs, ve - vs, "v"), 0);
		maps_read("/proc/self/maps");
		maps_parse();
		v = maps_at(vs);
		expect(v && !strcmp(v->name, "[vdso]") && v->end == ve, "[vdso] is still [vdso]");
	}
}

static void forked(void)
{
	char *p = map_anon(3 * PG, MAP_PRIVATE);
	set_name(p + PG, PG, "inherited");
	char want[256];
	maps_range(want, sizeof want, (unsigned long)p, 3 * PG);
	pid_t pid = xfork();
	if (pid == 0) {
		char got[256];
		maps_range(got, sizeof got, (unsigned long)p, 3 * PG);
		_exit(strcmp(got, want) != 0);
	}
	expect(reap(pid) == 0, "a child sees the same names");
	layout("they were the names", p, 3 * PG,
	       "+0-+1000 rw-p 00000000; +1000-+2000 rw-p 00000000 [anon:inherited]; +2000-+3000 rw-p 00000000");
	munmap(p, 3 * PG);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	char *probe = map_anon(PG, MAP_PRIVATE);
	supported = set_name(probe, PG, "probe") == 0;
	munmap(probe, PG);
	maps_read("/proc/self/maps");
	maps_parse();
	expect(supported || !maps_named("[cocoon-stub]"), "names work (always under cocoon)");
	splits_and_merges();
	errors();
	shared();
	specials();
	forked();
	return expect_failures ? 1 : 0;
}
