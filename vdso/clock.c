/* The vDSO's clocks: clock_gettime, gettimeofday, time and clock_getres
 * computed from the [vvar] page without trapping, in three variants:
 *   tscp    rdtscp (waits for earlier loads, so the TSC is read after seq)
 *   lfence  lfence; rdtsc (the same ordering on CPUs without rdtscp)
 *   sys     the system call only (hosts without a usable TSC, --vdso=syscall)
 * CPU-time clocks and unknown ids always make the system call. */
#include "vdso/vdso.h"

enum { VIA_SYSCALL, VIA_LFENCE, VIA_RDTSCP };

static inline __attribute__((always_inline)) uint64_t read_tsc(int via)
{
	uint32_t lo, hi, aux;
	if (via == VIA_RDTSCP)
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	else
		__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* A clock's value, or ns == NO_TIME: the kernel says not to use the TSC. */
struct vt {
	uint64_t sec, ns;
};
#define NO_TIME UINT64_MAX

/* Clock clk (in VCLOCK_PAGE_MASK; in VCLOCK_HRES_MASK if `hres`). */
static inline __attribute__((always_inline)) struct vt read_clock(unsigned clk, int via, int hres)
{
	const volatile struct vvar_clock *vc = &vvar_page.clock;
	struct vt t;
	for (;;) {
		uint32_t seq = vc->seq;
		if (__builtin_expect(seq & 1, 0)) {
			__asm__ volatile("pause");
			continue;
		}
		vdso_barrier();
		if (__builtin_expect(vc->mode != VVAR_MODE_TSC, 0))
			return (struct vt){ 0, NO_TIME };
		uint64_t now = read_tsc(via);
		t.ns = hres ? vvar_ns(vc, clk, vc->mult, vvar_cycles(vc, now), &t.sec) : vvar_clock(vc, clk, now, &t.sec);
		vdso_barrier();
		if (__builtin_expect(vc->seq == seq, 1))
			break;
	}
	vvar_norm(&t.sec, &t.ns);
	return t;
}

/* The coarse and raw clocks, kept out of the common path. */
static __attribute__((noinline)) struct vt read_other(unsigned clk, int via)
{
	return read_clock(clk, via, 0);
}

static inline __attribute__((always_inline)) int do_clock_gettime(int clk, struct vdso_timespec *ts, int via)
{
	struct vt t = { 0, NO_TIME };
	if (via != VIA_SYSCALL && (unsigned)clk < VCLOCK_NR) {
		if ((VCLOCK_HRES_MASK >> clk) & 1)
			t = read_clock((unsigned)clk, via, 1);
		else if ((VCLOCK_PAGE_MASK >> clk) & 1)
			t = read_other((unsigned)clk, via);
	}
	if (t.ns == NO_TIME)
		return (int)vdso_syscall3(NR_clock_gettime, clk, (long)ts, 0);
	ts->tv_sec = (int64_t)t.sec;
	ts->tv_nsec = (int64_t)t.ns;
	return 0;
}

static inline __attribute__((always_inline)) int do_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz,
								 int via)
{
	if (via == VIA_SYSCALL)
		return (int)vdso_syscall3(NR_gettimeofday, (long)tv, (long)tz, 0);
	if (tv) {
		struct vt t = read_clock(VCLOCK_REALTIME, via, 1);
		if (t.ns == NO_TIME)
			return (int)vdso_syscall3(NR_gettimeofday, (long)tv, (long)tz, 0);
		tv->tv_sec = (int64_t)t.sec;
		tv->tv_usec = (int64_t)(t.ns / 1000);
	}
	if (tz) {
		tz->tz_minuteswest = vvar_page.clock.tz_minuteswest;
		tz->tz_dsttime = vvar_page.clock.tz_dsttime;
	}
	return 0;
}

/* Linux's time() is the coarse clock's second (the last tick's). The
 * coarse clock is less than a tick behind the fine one: the same second
 * unless within a tick of its start, so the fine clock (no division)
 * answers but then. */
static inline __attribute__((always_inline)) int64_t do_time(int64_t *t, int via)
{
	struct vt v = { 0, NO_TIME };
	if (via != VIA_SYSCALL) {
		v = read_clock(VCLOCK_REALTIME, via, 1);
		if (v.ns != NO_TIME && v.ns < vvar_page.clock.tick_ns)
			v = read_other(VCLOCK_REALTIME_COARSE, via);
	}
	if (v.ns == NO_TIME)
		return vdso_syscall3(NR_time, (long)t, 0, 0);
	int64_t s = (int64_t)v.sec;
	if (t)
		*t = s;
	return s;
}

static inline __attribute__((always_inline)) int on_page(int clk)
{
	return (unsigned)clk < VCLOCK_NR && ((VCLOCK_PAGE_MASK >> clk) & 1);
}

static inline __attribute__((always_inline)) int do_clock_getres(int clk, struct vdso_timespec *res, int via)
{
	if (via == VIA_SYSCALL || !on_page(clk))
		return (int)vdso_syscall3(NR_clock_getres, clk, (long)res, 0);
	uint32_t ns = ((1u << clk) & VCLOCK_COARSE_MASK) ? vvar_page.clock.coarse_res_ns
							  : vvar_page.clock.hres_res_ns;
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = ns;
	}
	return 0;
}

#define VARIANTS(suffix, via)                                                                 \
	int vdso_impl_clock_gettime_##suffix(int clk, struct vdso_timespec *ts)              \
	{                                                                                     \
		return do_clock_gettime(clk, ts, via);                                        \
	}                                                                                     \
	int vdso_impl_gettimeofday_##suffix(struct vdso_timeval *tv, struct vdso_timezone *tz) \
	{                                                                                     \
		return do_gettimeofday(tv, tz, via);                                          \
	}                                                                                     \
	int64_t vdso_impl_time_##suffix(int64_t *t)                                           \
	{                                                                                     \
		return do_time(t, via);                                                       \
	}                                                                                     \
	int vdso_impl_clock_getres_##suffix(int clk, struct vdso_timespec *res)              \
	{                                                                                     \
		return do_clock_getres(clk, res, via);                                        \
	}

VARIANTS(sys, VIA_SYSCALL)
VARIANTS(lfence, VIA_LFENCE)
VARIANTS(tscp, VIA_RDTSCP)

VDSO_EXPORT(clock_gettime, vdso_impl_clock_gettime_sys);
VDSO_EXPORT(gettimeofday, vdso_impl_gettimeofday_sys);
VDSO_EXPORT(time, vdso_impl_time_sys);
VDSO_EXPORT(clock_getres, vdso_impl_clock_getres_sys);
