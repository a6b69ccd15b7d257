/* The [vvar] page: what cocoon's kernel publishes for the vDSO, and the one
 * formula both sides read a clock with, so that a clock read in the vDSO
 * and the same clock read by a system call are the same function of the
 * TSC and can never disagree.
 *
 * The page is mapped read-only into every guest, right before the vDSO
 * image (the image's linker script names it `vvar_page`). The kernel
 * writes the clock part under `seq`: odd while it writes; a reader retries
 * when it saw an odd value or the value changed around its reads.
 *
 * At TSC value `cycle_last` clock c read base[c].sec seconds and
 * base[c].snsec / 2^32 nanoseconds; each TSC cycle since adds mult / 2^32
 * ns (raw_mult for MONOTONIC_RAW). The coarse clocks are the fine ones
 * less the time since the last tick of CLOCK_MONOTONIC, so they step
 * together every tick_ns like Linux's.
 *
 * Compiled both freestanding into the vDSO and into the kernel. */
#ifndef COCOON_VDSO_VVAR_H
#define COCOON_VDSO_VVAR_H

#include <stdint.h>

/* Linux's fixed clock ids (uapi/linux/time.h). */
#define VCLOCK_REALTIME 0
#define VCLOCK_MONOTONIC 1
#define VCLOCK_MONOTONIC_RAW 4
#define VCLOCK_REALTIME_COARSE 5
#define VCLOCK_MONOTONIC_COARSE 6
#define VCLOCK_BOOTTIME 7
#define VCLOCK_TAI 11
#define VCLOCK_NR 12

/* The clocks computed from the page; any other id asks the kernel. */
#define VCLOCK_HRES_MASK ((1u << VCLOCK_REALTIME) | (1u << VCLOCK_MONOTONIC) | \
			  (1u << VCLOCK_BOOTTIME) | (1u << VCLOCK_TAI))
#define VCLOCK_RAW_MASK (1u << VCLOCK_MONOTONIC_RAW)
#define VCLOCK_COARSE_MASK ((1u << VCLOCK_REALTIME_COARSE) | (1u << VCLOCK_MONOTONIC_COARSE))
#define VCLOCK_PAGE_MASK (VCLOCK_HRES_MASK | VCLOCK_RAW_MASK | VCLOCK_COARSE_MASK)

#define VCLOCK_SHIFT 32

/* mode: whether clocks may be computed from the TSC at all. */
#define VVAR_MODE_NONE 0 /* every read goes to the kernel */
#define VVAR_MODE_TSC 1

#define VCLOCK_NSEC_PER_SEC 1000000000ULL

struct vvar_base {
	uint64_t sec;
	uint64_t snsec; /* below VCLOCK_NSEC_PER_SEC << VCLOCK_SHIFT */
};

struct vvar_clock {
	uint32_t seq;
	uint32_t mode;
	uint64_t cycle_last;
	uint64_t mult;        /* 2^-32 ns per cycle: the hres and coarse clocks */
	uint64_t raw_mult;    /* the same for MONOTONIC_RAW */
	uint64_t tick_ns;     /* the coarse clocks' step */
	uint32_t hres_res_ns; /* clock_getres of the hres and raw clocks */
	uint32_t coarse_res_ns;
	int32_t tz_minuteswest; /* gettimeofday's timezone (Linux's sys_tz) */
	int32_t tz_dsttime;
	struct vvar_base base[VCLOCK_NR]; /* used for the hres and raw ids */
};

/* The system-call map (see README.md): bit (0x80000000 >> (n & 31)) of
 * word n >> 5 is set when system call n is implemented; count is the
 * number of system-call numbers the map covers. Written once at start-up. */
#define VVAR_SYSCALL_MAP_WORDS 32

struct vvar_page {
	struct vvar_clock clock;
	uint32_t syscall_count;
	uint32_t syscall_map[VVAR_SYSCALL_MAP_WORDS];
};

_Static_assert(sizeof(struct vvar_page) <= 4096, "the [vvar] data fits its page");

/* TSC cycles since cycle_last. A TSC a few cycles behind it (another
 * CPU's) counts as cycle_last, so no clock ever steps back. */
static inline __attribute__((always_inline)) uint64_t
vvar_cycles(const volatile struct vvar_clock *vc, uint64_t now)
{
	uint64_t delta = now - vc->cycle_last;
	return delta & ~(uint64_t)((int64_t)delta >> 63);
}

/* Base b advanced by `cycles` at rate `mult`: *sec and the nanoseconds
 * past it (maybe a second or more: see vvar_norm). */
static inline __attribute__((always_inline)) uint64_t
vvar_ns(const volatile struct vvar_clock *vc, unsigned b, uint64_t mult, uint64_t cycles, uint64_t *sec)
{
	unsigned __int128 p = (unsigned __int128)cycles * mult + vc->base[b].snsec;
	*sec = vc->base[b].sec;
	return (uint64_t)(p >> VCLOCK_SHIFT);
}

/* Carry whole seconds: a few at most, since the kernel refreshes the
 * bases several times a second, so subtracting beats dividing. */
static inline __attribute__((always_inline)) void vvar_norm(uint64_t *sec, uint64_t *ns)
{
	while (__builtin_expect(*ns >= VCLOCK_NSEC_PER_SEC, 0)) {
		*ns -= VCLOCK_NSEC_PER_SEC;
		++*sec;
	}
}

/* Clock `clk` (an id of VCLOCK_PAGE_MASK) at TSC value `now`, from data
 * read under the sequence counter: *sec, and nanoseconds to normalise. */
static inline __attribute__((always_inline)) uint64_t
vvar_clock(const volatile struct vvar_clock *vc, unsigned clk, uint64_t now, uint64_t *sec)
{
	uint64_t cycles = vvar_cycles(vc, now);
	if (clk == VCLOCK_MONOTONIC_RAW)
		return vvar_ns(vc, clk, vc->raw_mult, cycles, sec);
	if (!((1u << clk) & VCLOCK_COARSE_MASK))
		return vvar_ns(vc, clk, vc->mult, cycles, sec);
	uint64_t msec, mns = vvar_ns(vc, VCLOCK_MONOTONIC, vc->mult, cycles, &msec);
	uint64_t since_tick = (msec * VCLOCK_NSEC_PER_SEC + mns) % vc->tick_ns;
	uint64_t ns = mns;
	*sec = msec;
	if (clk == VCLOCK_REALTIME_COARSE)
		ns = vvar_ns(vc, VCLOCK_REALTIME, vc->mult, cycles, sec);
	/* ns - since_tick, borrowing from the seconds. */
	while (ns < since_tick) {
		ns += VCLOCK_NSEC_PER_SEC;
		--*sec;
	}
	return ns - since_tick;
}

/* The same as nanoseconds since the clock's zero. */
static inline __attribute__((always_inline)) uint64_t
vvar_clock_ns(const volatile struct vvar_clock *vc, unsigned clk, uint64_t now)
{
	uint64_t sec, ns = vvar_clock(vc, clk, now, &sec);
	return sec * VCLOCK_NSEC_PER_SEC + ns;
}

#endif
