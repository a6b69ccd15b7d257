/* The guest's clocks.
 *
 * The sandbox has its own clock (kernel/ktime.c): the one the vDSO reads
 * from the [vvar] page, computed by the kernel from the same data with the
 * same formula, so the two never disagree. MONOTONIC and BOOTTIME start at
 * zero when the sandbox starts; REALTIME is the host's, shifted by
 * --time-offset or --time.
 *
 * Every time value the kernel hands to a guest is read through ktime_get
 * (kernel/sys_time.c), and every guest deadline the host sleeps on goes
 * through ktime_to_host. */
#ifndef COCOON_KTIME_H
#define COCOON_KTIME_H

#include <time.h>
#include "kernel/kernel.h"

#define NSEC_PER_SEC 1000000000L

struct vvar_page;

/* ---- the sandbox clock (kernel/ktime.c) ---- */

/* Before ktime_init: take every clock from the host's clocks, never from
 * the TSC (--vdso=syscall, and hosts without a usable TSC). */
void ktime_use_host_clocks(void);
/* Before ktime_init: REALTIME (and TAI) is the host's plus ns
 * (--time-offset), or starts at epoch_ns when the sandbox starts (--time). */
void ktime_set_realtime_offset(int64_t ns);
void ktime_set_realtime(int64_t epoch_ns);
/* Start the sandbox's clock (once; later calls return the first result):
 * 0, or -EINVAL if REALTIME would be before 1970 or after 2252. */
int ktime_init(void);
/* Until the TSC's calibration is done (the first ms after ktime_init)
 * the clocks are the host's and the vDSO's reads trap: call this before
 * the first guest runs. */
void ktime_wait_calibrated(void);
/* Whether the clocks are computed from the TSC. */
bool ktime_uses_tsc(void);
/* TSC ticks per microsecond as calibrated at start-up, 0 if the clocks
 * do not use the TSC. */
uint64_t ktime_tsc_per_us(void);
bool ktime_cpu_has_rdtscp(void);
/* From now on, also publish the clock in the guests' [vvar] page. */
void ktime_attach_vvar(struct vvar_page *page);
/* Nanoseconds on one of the clocks the vDSO computes (REALTIME,
 * MONOTONIC, MONOTONIC_RAW, the two COARSE ones, BOOTTIME, TAI). */
int64_t ktime_sandbox_ns(clockid_t clk);
/* That clock minus host clock `host`, now. */
int64_t ktime_host_offset_ns(clockid_t clk, clockid_t host);
/* Its resolution, as the vDSO's clock_getres reports it. */
uint32_t ktime_res_ns(clockid_t clk);

/* ---- guest clock ids (kernel/sys_time.c) ---- */

/* Guest clock ids are Linux's: the fixed ids 0..11 (not 10) and, negative,
 * the CPU-time clocks of a pid or tid (only the caller's own are found).
 * Both return 0 or -EINVAL, like Linux's clock_gettime/clock_getres. */
int ktime_get(clockid_t clk, struct timespec *ts);
int ktime_getres(clockid_t clk, struct timespec *ts);

/* Nanoseconds on a guest clock known to be valid (CLOCK_MONOTONIC etc.). */
int64_t ktime_get_ns(clockid_t clk);

/* The kernel tick rate (HZ) the guest sees: the host's. */
long ktime_hz(void);

/* For waiting on the host until guest clock clk reads *guest: the host clock
 * and absolute host time to pass to clock_nanosleep(TIMER_ABSTIME) (or a
 * futex/timerfd). The two clocks may drift apart by microseconds while
 * waiting: check the guest clock after waking. 0, or -EINVAL for clocks the
 * host cannot wait on (CPU clocks, invalid ids). */
int ktime_to_host(clockid_t clk, const struct timespec *guest, clockid_t *host_clk,
		  struct timespec *host);

#endif
