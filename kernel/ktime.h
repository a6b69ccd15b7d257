/* The guest's clocks.
 *
 * Every time value the kernel hands to a guest is read through ktime_get,
 * and every guest deadline the host sleeps on goes through ktime_to_host,
 * so a sandbox clock offset (or the virtual clock the vDSO will share) is
 * applied in one place: clock_offset_ns() in kernel/sys_time.c. For now the
 * guest sees the host's clocks unchanged. */
#ifndef COCOON_KTIME_H
#define COCOON_KTIME_H

#include <time.h>
#include "kernel/kernel.h"

#define NSEC_PER_SEC 1000000000L

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
 * futex/timerfd). 0, or -EINVAL for clocks the host cannot wait on (CPU
 * clocks, invalid ids). */
int ktime_to_host(clockid_t clk, const struct timespec *guest, clockid_t *host_clk,
		  struct timespec *host);

#endif
