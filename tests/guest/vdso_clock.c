/* The vDSO's clocks against the system calls: the same answers (values,
 * errors) for every clock id, a vDSO read, a system-call read and another
 * vDSO read always in order, nothing backwards over two million reads
 * mixing libc's clock_gettime (the vDSO) with raw system calls, and libc's
 * clock_gettime cheap enough that it cannot be trapping. */
#include "util.h"
#include <elf.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

typedef int (*cgt_fn)(clockid_t, struct timespec *);

/* A LINUX_2.6 function of the vDSO, through DT_HASH (unversioned lookup
 * is enough: each name exists once). */
static void *vdso_sym(const char *name)
{
	const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	if (!base)
		return NULL;
	const Elf64_Ehdr *eh = (const void *)base;
	const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff);
	const Elf64_Dyn *d = NULL;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			d = (const void *)(base + ph[i].p_vaddr);
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const uint32_t *hash = NULL;
	for (; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB) sym = (const void *)(base + d->d_un.d_ptr);
		if (d->d_tag == DT_STRTAB) str = (const void *)(base + d->d_un.d_ptr);
		if (d->d_tag == DT_HASH) hash = (const void *)(base + d->d_un.d_ptr);
	}
	if (!sym || !str || !hash)
		return NULL;
	for (uint32_t i = 1; i < hash[1]; i++)
		if (!strcmp(str + sym[i].st_name, name) && sym[i].st_shndx != SHN_UNDEF)
			return (void *)(base + sym[i].st_value);
	return NULL;
}

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static cgt_fn vcgt;

static int64_t v_ns(clockid_t c)
{
	struct timespec t;
	return vcgt(c, &t) ? -1 : ns(&t);
}

static int64_t s_ns(clockid_t c)
{
	struct timespec t;
	return rsys(SYS_clock_gettime, c, &t) ? -1 : ns(&t);
}

static const clockid_t ordered[] = {
	CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
	CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI,
};

int main(void)
{
	vcgt = (cgt_fn)vdso_sym("__vdso_clock_gettime");
	cgt_fn vres = (cgt_fn)vdso_sym("__vdso_clock_getres");
	int (*vgtod)(struct timeval *, void *) = (int (*)(struct timeval *, void *))vdso_sym("__vdso_gettimeofday");
	long (*vtime)(long *) = (long (*)(long *))vdso_sym("__vdso_time");
	int (*vcpu)(unsigned *, unsigned *, void *) = (int (*)(unsigned *, unsigned *, void *))vdso_sym("__vdso_getcpu");
	printf("vdso functions: %s\n", vcgt && vres && vgtod && vtime && vcpu ? "all found" : "missing");
	if (!vcgt || !vres || !vgtod || !vtime || !vcpu)
		return 1;

	/* The same answer from both for every id. */
	static const clockid_t ids[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 100, -1, -8, -3, 0x7fffffff };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		struct timespec a, b, ra = { 7, 7 }, rb = { 7, 7 };
		int va = vcgt(ids[i], &a);
		long sb = rsys(SYS_clock_gettime, ids[i], &b);
		int vr = vres(ids[i], &ra);
		long sr = rsys(SYS_clock_getres, ids[i], &rb);
		printf("clock %d: gettime vdso %s syscall %s; getres vdso %s syscall %s, %s\n", ids[i],
		       rstr(va), rstr(sb), rstr(vr), rstr(sr),
		       vr == sr && ra.tv_sec == rb.tv_sec && ra.tv_nsec == rb.tv_nsec ? "same" : "DIFFERENT");
	}

	/* vDSO <= system call <= vDSO, close together. */
	for (size_t i = 0; i < sizeof ordered / sizeof ordered[0]; i++) {
		clockid_t c = ordered[i];
		int ok = 1;
		for (int k = 0; k < 200 && ok; k++) {
			int64_t a = v_ns(c), b = s_ns(c), d = v_ns(c);
			ok = a <= b && b <= d && d - a < 200000000;
		}
		expect(ok, "clock %d: vdso, syscall, vdso in order", c);
	}
	struct timeval tv;
	int64_t a = v_ns(CLOCK_REALTIME);
	int g = vgtod(&tv, NULL);
	int64_t b = v_ns(CLOCK_REALTIME);
	int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	expect(g == 0 && a / 1000 <= us && us <= b / 1000, "gettimeofday between two realtime reads");
	long t0 = vtime(NULL), t1 = rsys(SYS_time, 0), t2 = vtime(NULL), rt = v_ns(CLOCK_REALTIME) / 1000000000;
	expect(t0 <= t1 && t1 <= t2 && t2 <= rt, "time: vdso, syscall, vdso in order, not ahead of realtime");
	unsigned cpu = ~0u, node = ~0u;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	expect(vcpu(&cpu, &node, NULL) == 0 && cpu < (unsigned)(ncpu > 0 ? ncpu : 4096), "getcpu: a CPU number");

	/* Two million reads, libc's clock_gettime with a raw system call
	 * every thousandth: never backwards. */
	int64_t last = 0, back = 0;
	for (long i = 0; i < 2000000; i++) {
		struct timespec t;
		if (i % 1000 == 999)
			rsys(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
		else
			clock_gettime(CLOCK_MONOTONIC, &t);
		back += ns(&t) < last;
		last = ns(&t);
	}
	expect(back == 0, "2000000 MONOTONIC reads (vdso and syscall mixed): none backwards");

	/* That libc's clock_gettime does not trap is checked by the runner
	 * (vdso_notrap under --trace), not by timing it here. */
	return expect_failures != 0;
}
