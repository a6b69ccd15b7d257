/* clock_settime and settimeofday's checks before any clock is set: only
 * CLOCK_REALTIME has a setter (EINVAL for the others), CPU clocks refuse
 * with EPERM after reading the value, a bad pointer is EFAULT and a bad
 * time EINVAL. Nothing here sets a clock: it runs natively as root too. */
#include "util.h"
#include <sys/time.h>
#include <time.h>

int main(void)
{
	struct timespec bad_ns = { 1, 1000000000 }, neg = { -1, 0 }, ok = { 0, 0 };
	res("CLOCK_MONOTONIC", rsys(SYS_clock_settime, CLOCK_MONOTONIC, &ok));
	res("CLOCK_BOOTTIME", rsys(SYS_clock_settime, CLOCK_BOOTTIME, &ok));
	res("CLOCK_MONOTONIC_RAW", rsys(SYS_clock_settime, CLOCK_MONOTONIC_RAW, &ok));
	res("clock 99", rsys(SYS_clock_settime, 99, &ok));
	res("CLOCK_PROCESS_CPUTIME_ID", rsys(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &ok));
	res("CLOCK_THREAD_CPUTIME_ID", rsys(SYS_clock_settime, CLOCK_THREAD_CPUTIME_ID, &ok));
	res("CLOCK_PROCESS_CPUTIME_ID, bad pointer", rsys(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, 8));
	/* MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED): a CPU clock by id. */
	res("our process's CPU clock by id", rsys(SYS_clock_settime, (~0L << 3) | 2, &ok));
	res("our process's CPU clock by id, bad pointer", rsys(SYS_clock_settime, (~0L << 3) | 2, 8));
	res("a CPU clock of nobody", rsys(SYS_clock_settime, (~4000000L << 3) | 2, &ok));
	res("CLOCK_REALTIME, bad pointer", rsys(SYS_clock_settime, CLOCK_REALTIME, 8));
	res("CLOCK_REALTIME, nanoseconds past a second", rsys(SYS_clock_settime, CLOCK_REALTIME, &bad_ns));
	res("CLOCK_REALTIME, negative seconds", rsys(SYS_clock_settime, CLOCK_REALTIME, &neg));
	struct timeval tv_bad = { 1, 1000000 };
	struct { int minuteswest, dsttime; } tz_bad = { 16 * 60, 0 };
	res("settimeofday, bad pointer", rsys(SYS_settimeofday, 8, 0));
	res("settimeofday, microseconds past a second", rsys(SYS_settimeofday, &tv_bad, 0));
	res("settimeofday, a zone 16 hours off", rsys(SYS_settimeofday, 0, &tz_bad));
	res("settimeofday, bad zone pointer", rsys(SYS_settimeofday, 0, 8));
	return 0;
}
