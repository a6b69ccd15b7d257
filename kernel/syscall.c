/* System-call dispatch through a personality's table. */
#include <stdatomic.h>
#include <time.h>
#include "kernel/ktime.h"
#include "kernel/syscall.h"
#include "kernel/task.h"

const char *syscall_name(const struct personality *pers, int nr)
{
	if (nr < 0 || (unsigned)nr >= pers->nr_syscalls || !pers->table[nr].name)
		return NULL;
	return pers->table[nr].name;
}

static void log_unimplemented(const struct personality *pers, int nr)
{
	/* One line per call number and run: enough to see what is missing. */
	static _Atomic uint64_t seen[1024 / 64];
	if (nr >= 0 && nr < 1024) {
		uint64_t bit = 1ULL << (nr % 64);
		if (atomic_fetch_or(&seen[nr / 64], bit) & bit)
			return;
	}
	const char *name = syscall_name(pers, nr);
	klog("unimplemented system call %s (%d, %s)", name ? name : "?", nr, pers->name);
}

/* --stats: traps by system call number (the last slot: unknown numbers),
 * and the time their handlers took, sleeping included (the hand-off's
 * cost is not in it: compare with the trap count). */
static _Atomic unsigned long syscall_counts[1025];
static _Atomic unsigned long syscall_ns[1025];

void syscall_stats_print(const struct personality *pers)
{
	unsigned long total = 0, total_ns = 0;
	for (unsigned nr = 0; nr < ARRAY_SIZE(syscall_counts); nr++) {
		total += syscall_counts[nr];
		total_ns += syscall_ns[nr];
	}
	klog("stats: %lu system-call traps, %lu us in their handlers", total, total_ns / 1000);
	for (unsigned nr = 0; nr < ARRAY_SIZE(syscall_counts); nr++) {
		unsigned long n = syscall_counts[nr];
		const char *name = nr < pers->nr_syscalls ? syscall_name(pers, (int)nr) : NULL;
		if (n)
			klog("stats:   %-20s %8lu %10lu us", name ? name : "(other)", n, syscall_ns[nr] / 1000);
	}
}

long syscall_dispatch(const struct personality *pers, const struct sysargs *args)
{
	int nr = args->nr;
	unsigned slot = nr >= 0 && nr < 1024 ? (unsigned)nr : 1024;
	int64_t t0 = 0;
	if (cocoon_config.stats) {
		syscall_counts[slot]++;
		t0 = ktime_sandbox_ns(CLOCK_MONOTONIC);
	}
	syscall_fn fn = nr >= 0 && (unsigned)nr < pers->nr_syscalls ? pers->table[nr].fn : NULL;
	if (!fn) {
		if (cocoon_config.debug)
			log_unimplemented(pers, nr);
		if (cocoon_config.trace)
			klog("[%d] %s(...) = -ENOSYS", current->tid, syscall_name(pers, nr) ?: "?");
		return -ENOSYS;
	}
	long ret = fn(args);
	if (cocoon_config.stats)
		syscall_ns[slot] += (unsigned long)(ktime_sandbox_ns(CLOCK_MONOTONIC) - t0);
	if (cocoon_config.trace)
		klog("[%d] %s(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx) = %ld", current->tid, pers->table[nr].name,
		     args->a[0], args->a[1], args->a[2], args->a[3], args->a[4], args->a[5], ret);
	return ret;
}
