/* CPU affinity: sched_getaffinity/sched_setaffinity round trips for the
 * caller and for another process, Linux's size rules and return value,
 * EINVAL for a mask without a usable CPU, ESRCH, EFAULT, EPERM for
 * another user's process, and getcpu/sched_getcpu inside the mask. */
#include "proc_util.h"
#include <sched.h>

#define WORDS 16

static int ncpus_in(const unsigned long *m, size_t words)
{
	int n = 0;
	for (size_t i = 0; i < words; i++)
		n += __builtin_popcountl(m[i]);
	return n;
}

static int first_cpu(const unsigned long *m)
{
	for (int i = 0; i < WORDS * 64; i++)
		if (m[i / 64] & (1UL << (i % 64)))
			return i;
	return -1;
}

static int last_cpu(const unsigned long *m)
{
	int last = -1;
	for (int i = 0; i < WORDS * 64; i++)
		if (m[i / 64] & (1UL << (i % 64)))
			last = i;
	return last;
}

static void errors(const unsigned long *all, long size)
{
	unsigned long m[WORDS];
	res("get(len 0)", rsys(SYS_sched_getaffinity, 0, 0, m));
	res("get(len 7)", rsys(SYS_sched_getaffinity, 0, 7, m));
	res("get(len size+4)", rsys(SYS_sched_getaffinity, 0, size + 4, m));
	res("get(bad pointer)", rsys(SYS_sched_getaffinity, 0, sizeof(m), 8));
	res("get(no such pid)", rsys(SYS_sched_getaffinity, 4000000, sizeof(m), m));
	res("get(pid -1)", rsys(SYS_sched_getaffinity, -1, sizeof(m), m));
	memset(m, 0, sizeof(m));
	res("set(empty)", rsys(SYS_sched_setaffinity, 0, sizeof(m), m));
	m[WORDS - 1] = 1UL << 63; /* CPU 1023: none here */
	res("set(only CPU 1023)", rsys(SYS_sched_setaffinity, 0, sizeof(m), m));
	res("set(len 0)", rsys(SYS_sched_setaffinity, 0, 0, m));
	res("set(bad pointer)", rsys(SYS_sched_setaffinity, 0, sizeof(m), 8));
	res("set(no such pid)", rsys(SYS_sched_setaffinity, 4000000, sizeof(m), all));
	res("set(pid -1)", rsys(SYS_sched_setaffinity, -1, sizeof(m), all));
	/* A short mask is zero-extended, a long one cut: both fine. */
	res("set(len 8, all)", rsys(SYS_sched_setaffinity, 0, 8, all));
	res("set(len 3, all)", rsys(SYS_sched_setaffinity, 0, 3, all));
	res("set(len 128, all)", rsys(SYS_sched_setaffinity, 0, sizeof(m), all));
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	unsigned long all[WORDS], m[WORDS];
	memset(all, 0, sizeof(all));
	long size = rsys(SYS_sched_getaffinity, 0, sizeof(all), all);
	expect(size > 0 && size % 8 == 0, "getaffinity returns the kernel's mask size");
	expect(rsys(SYS_sched_getaffinity, 0, 64, m) == (size < 64 ? size : 64), "and min(len, size) for a shorter buffer");
	int n = ncpus_in(all, WORDS);
	expect(n >= 1 && n == sysconf(_SC_NPROCESSORS_ONLN), "the mask has the online CPUs");
	int first = first_cpu(all), last = last_cpu(all);

	errors(all, size);

	/* Pin to the last CPU, then to the first: getcpu follows. */
	memset(m, 0, sizeof(m));
	m[last / 64] = 1UL << (last % 64);
	res("set(last CPU)", rsys(SYS_sched_setaffinity, 0, sizeof(m), m));
	memset(m, 0, sizeof(m));
	rsys(SYS_sched_getaffinity, 0, sizeof(m), m);
	expect(ncpus_in(m, WORDS) == 1 && first_cpu(m) == last, "get shows only the last CPU");
	sched_yield();
	expect(sched_getcpu() == last, "sched_getcpu is the last CPU");
	unsigned cpu = 99, node = 99;
	res("getcpu", rsys(SYS_getcpu, &cpu, &node, 0));
	expect((int)cpu == last && node == 0, "getcpu: the last CPU, node 0");
	res("getcpu(NULL, NULL)", rsys(SYS_getcpu, 0, 0, 0));
	res("getcpu(bad)", rsys(SYS_getcpu, 8, 0, 0));
	memset(m, 0, sizeof(m));
	m[first / 64] = 1UL << (first % 64);
	rsys(SYS_sched_setaffinity, 0, sizeof(m), m);
	sched_yield();
	expect(sched_getcpu() == first, "after moving: sched_getcpu is the first CPU");
	rsys(SYS_sched_setaffinity, 0, sizeof(all), all);
	memset(m, 0, sizeof(m));
	rsys(SYS_sched_getaffinity, 0, sizeof(m), m);
	expect(!memcmp(m, all, sizeof(m)), "all CPUs again");

	/* Another process: set and read from the parent; a child of another
	 * user may not change the parent's. */
	int p[2];
	if (pipe(p))
		return 1;
	pid_t child = xfork();
	if (child == 0) {
		char x;
		read(p[0], &x, 1);
		unsigned long mine[WORDS] = { 0 };
		rsys(SYS_sched_getaffinity, 0, sizeof(mine), mine);
		int ok = ncpus_in(mine, WORDS) == 1 && first_cpu(mine) == last;
		ok = ok && sched_getcpu() == last;
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(3);
		long r = rsys(SYS_sched_setaffinity, getppid(), sizeof(all), all);
		long g = rsys(SYS_sched_getaffinity, getppid(), sizeof(mine), mine);
		_exit(!ok ? 2 : r == -EPERM && g > 0 ? 0 : 1);
	}
	memset(m, 0, sizeof(m));
	m[last / 64] = 1UL << (last % 64);
	res("set(child, last CPU)", rsys(SYS_sched_setaffinity, child, sizeof(m), m));
	memset(m, 0, sizeof(m));
	rsys(SYS_sched_getaffinity, child, sizeof(m), m);
	expect(ncpus_in(m, WORDS) == 1 && first_cpu(m) == last, "the child's mask reads back");
	write(p[1], "x", 1);
	int st = reap(child);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "the child runs on its CPU, and may read but not set another user's mask (EPERM)");
	return expect_failures != 0;
}
