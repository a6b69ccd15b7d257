/* Many clock reads through libc, which uses the vDSO for them: under
 * `cocoon run --trace` none of them may show up as a system call (the
 * runner counts). By itself, it prints only that it is done. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

int main(void)
{
	static const clockid_t ids[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
					 CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI };
	volatile long sink = 0;
	for (int i = 0; i < 100000; i++) {
		struct timespec t;
		struct timeval tv;
		clock_gettime(ids[i % 7], &t);
		gettimeofday(&tv, NULL);
		sink += t.tv_nsec + tv.tv_usec + time(NULL);
	}
	printf("done\n");
	return 0;
}
