/* Helpers of the /proc/<pid>/maps tests (tests/guest/maps_*.c), on top of
 * proc_util.h: read a maps file whole, parse its lines, and describe the
 * lines over a range relative to its start, so what is printed is the
 * same in every run ("+1000-+3000 rw-p 00001000 [anon:x]": no absolute
 * addresses, devices or inodes). */
#ifndef COCOON_GUEST_MAPS_UTIL_H
#define COCOON_GUEST_MAPS_UTIL_H

#include "proc_util.h"
#include <stdbool.h>
#include <sys/mman.h>

static char maps_buf[1 << 20];

/* The whole file into maps_buf: its length or -errno. */
static long maps_read(const char *path)
{
	long fd = rsys(SYS_open, path, O_RDONLY);
	if (fd < 0)
		return fd;
	long got = 0, n;
	while (got < (long)sizeof maps_buf - 1 &&
	       (n = rsys(SYS_read, fd, maps_buf + got, sizeof maps_buf - 1 - got)) > 0)
		got += n;
	maps_buf[got] = 0;
	rsys(SYS_close, fd);
	return got;
}

struct mline {
	unsigned long start, end, off, ino;
	unsigned maj, min;
	char perms[5];
	char name[320];
	const char *smaps; /* smaps: its fields, up to the next line (inside maps_buf) */
};

static struct mline mlines[4096];
static int nmlines;

/* Parse maps_buf as maps (or smaps: the field lines are skipped and
 * remembered). The number of lines parsed. */
static int maps_parse(void)
{
	nmlines = 0;
	for (char *l = maps_buf; *l && nmlines < 4096;) {
		char *nl = strchr(l, '\n');
		if (!nl)
			break;
		struct mline *x = &mlines[nmlines];
		int used = 0;
		if (sscanf(l, "%lx-%lx %4s %lx %x:%x %lu %n", &x->start, &x->end, x->perms, &x->off, &x->maj,
			   &x->min, &x->ino, &used) >= 7 && used > 0 && l[8] != ':') {
			/* the blank before %n may have run past an empty name */
			const char *name = l + used > nl ? nl : l + used;
			snprintf(x->name, sizeof x->name, "%.*s", (int)(nl - name), name);
			x->smaps = nl + 1;
			nmlines++;
		}
		l = nl + 1;
	}
	return nmlines;
}

static const struct mline *maps_at(unsigned long a)
{
	for (int k = 0; k < nmlines; k++)
		if (mlines[k].start <= a && a < mlines[k].end)
			return &mlines[k];
	return NULL;
}

static const struct mline *maps_named(const char *name)
{
	for (int k = 0; k < nmlines; k++)
		if (!strcmp(mlines[k].name, name))
			return &mlines[k];
	return NULL;
}

/* One line relative to base: "+S-+E perms offset name". */
static void maps_describe(char *out, size_t size, const struct mline *x, unsigned long base)
{
	snprintf(out, size, "%s%lx-+%lx %s %08lx %s", x->start < base ? "-" : "+",
		 x->start < base ? base - x->start : x->start - base, x->end - base, x->perms, x->off,
		 x->name);
	size_t n = strlen(out);
	while (n && out[n - 1] == ' ')
		out[--n] = 0;
}

/* The lines over [base, base+len) of /proc/self/maps, described relative
 * to base and joined with "; " into out. */
static void maps_range(char *out, size_t size, unsigned long base, unsigned long len)
{
	maps_read("/proc/self/maps");
	maps_parse();
	out[0] = 0;
	for (int k = 0; k < nmlines; k++) {
		if (mlines[k].end <= base || mlines[k].start >= base + len)
			continue;
		char one[400];
		maps_describe(one, sizeof one, &mlines[k], base);
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s%s", n ? "; " : "", one);
	}
}

/* The value of smaps field `key` ("VmFlags:") of line x, without the
 * key and the leading blanks, into out. */
static void smaps_field(const struct mline *x, const char *key, char *out, size_t size)
{
	out[0] = 0;
	size_t kl = strlen(key);
	for (const char *l = x->smaps; l && *l;) {
		const char *nl = strchr(l, '\n');
		if (!nl)
			break;
		unsigned long a, b;
		if (sscanf(l, "%lx-%lx ", &a, &b) == 2 && l[8] != ':')
			break; /* the next mapping */
		if (!strncmp(l, key, kl)) {
			const char *v = l + kl;
			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)(nl - v), v);
			size_t n = strlen(out);
			while (n && out[n - 1] == ' ')
				out[--n] = 0;
			return;
		}
		l = nl + 1;
	}
}

#endif
