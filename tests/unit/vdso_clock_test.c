/* The sandbox clock (kernel/ktime.c) and the vDSO's clock functions run
 * here, next to the kernel's [vvar] page as a guest maps them: every
 * variant agrees with the kernel's clock (a vDSO read, a kernel read and
 * another vDSO read are in order), nothing goes backwards across the
 * kernel's refreshes, the clock keeps in step with the host's, getcpu
 * finds the CPU, and the sandbox offsets (--time-offset, --time,
 * --vdso=syscall) behave, each in a child of its own (the clock starts
 * once per process). */
#include "kernel/ktime.h"
#include "kernel/vdso.h"
#include "mm/memfile.h"
#include "mm/mm.h"
#include "tests/unit/check.h"
#include "vdso/vvar.h"

#include <cpuid.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*cgt_fn)(clockid_t, struct timespec *);
typedef int (*gtod_fn)(struct timeval *, void *);
typedef long (*time_fn)(long *);
typedef int (*cpu_fn)(unsigned *, unsigned *, void *);

struct fns {
	const char *name;
	cgt_fn cgt, res;
	gtod_fn gtod;
	time_fn time;
	cpu_fn cpu;
};

static uint64_t vvar_off;

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * NSEC_PER_SEC + t->tv_nsec;
}

static int64_t kt(clockid_t c)
{
	struct timespec t;
	return ktime_get(c, &t) ? -1 : ns_of(&t);
}

static int64_t vd(const struct fns *f, clockid_t c)
{
	struct timespec t;
	return f->cgt(c, &t) ? -1 : ns_of(&t);
}

/* The image patched for `c`, right after the [vvar] page, in this process. */
static bool load(struct fns *f, const char *name, const struct vdso_choice *c)
{
	size_t len;
	const void *img = vdso_image(&len);
	size_t plen = PAGE_ALIGN(len);
	unsigned char *p = mmap(NULL, PAGE_SIZE + plen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED ||
	    mmap(p, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, memfile.fd, (off_t)vvar_off) == MAP_FAILED)
		return false;
	unsigned char *text = p + PAGE_SIZE;
	memcpy(text, img, len);
	if (vdso_patch(text, len, c) || mprotect(text, plen, PROT_READ | PROT_EXEC))
		return false;
	f->name = name;
	f->cgt = (cgt_fn)(text + vdso_lookup(text, len, "__vdso_clock_gettime", true, NULL));
	f->res = (cgt_fn)(text + vdso_lookup(text, len, "__vdso_clock_getres", true, NULL));
	f->gtod = (gtod_fn)(text + vdso_lookup(text, len, "__vdso_gettimeofday", true, NULL));
	f->time = (time_fn)(text + vdso_lookup(text, len, "__vdso_time", true, NULL));
	f->cpu = (cpu_fn)(text + vdso_lookup(text, len, "__vdso_getcpu", true, NULL));
	return true;
}

static const clockid_t page_clocks[] = {
	CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
	CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI,
};

/* vDSO, kernel, vDSO, ... for `ms`: each read no earlier than the last. */
static void test_order(const struct fns *f, int ms)
{
	for (size_t i = 0; i < ARRAY_SIZE(page_clocks); i++) {
		clockid_t c = page_clocks[i];
		int64_t last = vd(f, c), end = kt(CLOCK_MONOTONIC) + ms * 1000000LL / (int)ARRAY_SIZE(page_clocks);
		long n = 0, bad = 0;
		while (kt(CLOCK_MONOTONIC) < end) {
			for (int k = 0; k < 64; k++, n++) {
				int64_t v = k & 1 ? kt(c) : vd(f, c);
				bad += v < last;
				last = v;
			}
		}
		CHECK(bad == 0 && last > 0, "%s: clock %d: %ld reads alternating vDSO and kernel, %ld out of order",
		      f->name, c, n, bad);
	}
}

static void test_calls(const struct fns *f)
{
	struct timespec t, r;
	CHECK(f->cgt(CLOCK_PROCESS_CPUTIME_ID, &t) == 0, "%s: CPU clocks by system call", f->name);
	CHECK_EQ(f->cgt(10, &t), -EINVAL, "%s: clock 10 EINVAL", f->name);
	CHECK_EQ(f->cgt(12, &t), -EINVAL, "%s: clock 12 EINVAL", f->name);
	for (size_t i = 0; i < ARRAY_SIZE(page_clocks); i++) {
		ktime_getres(page_clocks[i], &r);
		CHECK(f->res(page_clocks[i], &t) == 0 && t.tv_sec == 0 && t.tv_nsec == r.tv_nsec &&
		      f->res(page_clocks[i], NULL) == 0, "%s: getres %d = %ld ns", f->name, page_clocks[i], r.tv_nsec);
	}
	struct timeval tv;
	int64_t a = kt(CLOCK_REALTIME);
	int g = f->gtod(&tv, NULL);
	int64_t b = kt(CLOCK_REALTIME);
	int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	CHECK(g == 0 && a / 1000 <= us && us <= b / 1000, "%s: gettimeofday between two kernel reads", f->name);
	struct { int32_t w, d; } tz = { 1, 1 };
	CHECK(f->gtod(NULL, &tz) == 0 && tz.w == 0 && tz.d == 0, "%s: gettimeofday timezone UTC", f->name);
	long s0 = kt(CLOCK_REALTIME_COARSE) / NSEC_PER_SEC, w = 0, s = f->time(&w);
	long s1 = kt(CLOCK_REALTIME_COARSE) / NSEC_PER_SEC;
	CHECK(s == w && s0 <= s && s <= s1, "%s: time() is the coarse second", f->name);
}

static bool has_rdpid(void)
{
	unsigned a, b, c, d;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 22));
}

static void test_getcpu(const struct fns *f)
{
	cpu_set_t old, one;
	sched_getaffinity(0, sizeof old, &old);
	for (int cpu = 0; cpu < 2 && cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &old))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		sched_setaffinity(0, sizeof one, &one);
		unsigned c = 99, n = 99;
		int r = f->cpu(&c, &n, NULL);
		CHECK(r == 0 && c == (unsigned)cpu && (int)n == 0, "%s: getcpu on CPU %d: %u node %u", f->name, cpu,
		      c, n);
	}
	sched_setaffinity(0, sizeof old, &old);
}

/* The published clock follows the host's: after a second and a half of
 * refreshes, MONOTONIC - host MONOTONIC has moved by less than 100 us. */
static void test_tracking(void)
{
	int64_t a = ktime_host_offset_ns(CLOCK_MONOTONIC, CLOCK_MONOTONIC);
	int64_t ra = ktime_host_offset_ns(CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_RAW);
	usleep(1500000);
	int64_t b = ktime_host_offset_ns(CLOCK_MONOTONIC, CLOCK_MONOTONIC);
	int64_t rb = ktime_host_offset_ns(CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_RAW);
	CHECK(llabs(b - a) < 100000 && llabs(rb - ra) < 100000,
	      "in step with the host: MONOTONIC moved %lld ns, MONOTONIC_RAW %lld ns in 1.5 s",
	      (long long)(b - a), (long long)(rb - ra));
	CHECK(kt(CLOCK_MONOTONIC) < 30LL * NSEC_PER_SEC && kt(CLOCK_BOOTTIME) - kt(CLOCK_MONOTONIC) < 1000000,
	      "MONOTONIC and BOOTTIME started at zero");
}

/* ---- sandboxes with other settings, one child each ---------------------- */

static int64_t host(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return ns_of(&t);
}

static int child_offset(void)
{
	ktime_set_realtime_offset(-86400LL * NSEC_PER_SEC + 500000000);
	if (ktime_init())
		return 1;
	int64_t d = kt(CLOCK_REALTIME) - host(CLOCK_REALTIME) + 86400LL * NSEC_PER_SEC - 500000000;
	int64_t tai = (kt(CLOCK_TAI) - kt(CLOCK_REALTIME)) - (host(CLOCK_TAI) - host(CLOCK_REALTIME));
	return llabs(d) < 5000000 && llabs(tai) < 5000000 ? 0 : 2;
}

static int child_epoch(void)
{
	ktime_set_realtime(1000000000LL * NSEC_PER_SEC);
	if (ktime_init())
		return 1;
	int64_t r = kt(CLOCK_REALTIME) - 1000000000LL * NSEC_PER_SEC, m = kt(CLOCK_MONOTONIC);
	return r >= 0 && r < NSEC_PER_SEC && llabs(r - m) < 5000000 ? 0 : 2;
}

static int child_before_1970(void)
{
	ktime_set_realtime_offset(-host(CLOCK_REALTIME) - 3600LL * NSEC_PER_SEC);
	return ktime_init() == -EINVAL ? 0 : 2;
}

/* --vdso=syscall: no TSC anywhere; the kernel's clock is the host's. */
static int child_syscall(void)
{
	if (vdso_set_mode("syscall") || memfile_init() || vdso_init())
		return 1;
	struct vdso_choice c = vdso_chosen();
	if (ktime_uses_tsc() || c.clock != VDSO_CLOCK_SYSCALL || c.cpu != VDSO_CPU_SYSCALL)
		return 2;
	int64_t last = 0;
	for (int i = 0; i < 100000; i++) {
		int64_t v = kt(CLOCK_MONOTONIC);
		if (v < last)
			return 3;
		last = v;
	}
	int64_t off = ktime_host_offset_ns(CLOCK_MONOTONIC, CLOCK_MONOTONIC);
	usleep(300000);
	return llabs(ktime_host_offset_ns(CLOCK_MONOTONIC, CLOCK_MONOTONIC) - off) < 100000 ? 0 : 4;
}

static void in_child(const char *what, int (*fn)(void))
{
	pid_t p = fork();
	if (p == 0)
		_exit(fn());
	int st = -1;
	waitpid(p, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s (child status %#x)", what, st);
}

int main(void)
{
	CHECK_EQ(vdso_set_mode("bogus"), -EINVAL, "--vdso=bogus refused");
	in_child("--time-offset shifts REALTIME and TAI", child_offset);
	in_child("--time=@1000000000 starts REALTIME there", child_epoch);
	in_child("a wall clock before 1970 is refused", child_before_1970);
	in_child("--vdso=syscall: host clocks, system-call variants", child_syscall);

	if (memfile_init() || vdso_init()) {
		CHECK(0, "memfile_init and vdso_init");
		CHECK_DONE();
	}
	struct mm *mm = mm_new(NULL);
	mm->mmap_base = 0x7f0000000000UL;
	long text = vdso_map(mm);
	struct vma *vv = text > 0 ? vma_find(&mm->vmas, (gaddr_t)text - PAGE_SIZE) : NULL;
	CHECK(vv != NULL, "vdso_map");
	if (!vv)
		CHECK_DONE();
	vvar_off = vv->off + ((gaddr_t)text - PAGE_SIZE - vv->start); /* the clock's page */

	bool tsc = ktime_uses_tsc();
	CHECK(1, "TSC usable here: %s; chosen clock variant %d, getcpu variant %d", tsc ? "yes" : "no",
	      vdso_chosen().clock, vdso_chosen().cpu);
	enum vdso_cpu_via cpu_via = vdso_chosen().cpu;
	struct fns f;
	if (tsc && ktime_cpu_has_rdtscp() && load(&f, "rdtscp", &(struct vdso_choice){ VDSO_CLOCK_RDTSCP, cpu_via })) {
		test_calls(&f);
		test_order(&f, 700);
	}
	if (tsc && load(&f, "lfence", &(struct vdso_choice){ VDSO_CLOCK_LFENCE, VDSO_CPU_LSL })) {
		test_calls(&f);
		test_order(&f, 300);
		test_getcpu(&f);
	}
	if (has_rdpid() && load(&f, "rdpid", &(struct vdso_choice){ VDSO_CLOCK_LFENCE, VDSO_CPU_RDPID }))
		test_getcpu(&f);
	/* In this process the system-call variant reaches the host, not
	 * cocoon: it only has to answer. */
	if (load(&f, "syscall", &(struct vdso_choice){ VDSO_CLOCK_SYSCALL, VDSO_CPU_SYSCALL })) {
		struct timespec t;
		CHECK(f.cgt(CLOCK_MONOTONIC, &t) == 0 && f.res(CLOCK_MONOTONIC, &t) == 0, "syscall: answers");
		test_getcpu(&f);
	}
	if (tsc)
		test_tracking();
	mm_put(mm);
	CHECK_DONE();
}
