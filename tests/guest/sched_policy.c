/* Scheduling policies and nice values: sched_setscheduler/getscheduler,
 * setparam/getparam, setattr/getattr (sizes, flags, KEEP_*),
 * get_priority_max/min, rr_get_interval, getpriority/setpriority for
 * PRIO_PROCESS, PRIO_PGRP and PRIO_USER, with Linux's errors and, in a
 * child of another user, its permission rules: SCHED_FIFO/RR need
 * RLIMIT_RTPRIO, raising priority needs RLIMIT_NICE (EACCES), other
 * users' processes are EPERM, leaving SCHED_IDLE or dropping
 * SCHED_RESET_ON_FORK counts as raising. Real-time policies are never
 * actually set (a container may refuse them even to root). */
#include "proc_util.h"
#include <sched.h>
#include <sys/resource.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
	uint8_t more[64];
};

static long setsched(int pid, int policy, int prio)
{
	return rsys(SYS_sched_setscheduler, pid, policy, &prio);
}

static long set_nice(int which, int who, int nice)
{
	return rsys(SYS_setpriority, which, who, nice);
}

/* The raw getpriority: 20 - nice. */
static void show_prio(const char *label, int which, int who)
{
	long r = rsys(SYS_getpriority, which, who);
	if (r < 0)
		printf("%s: %s\n", label, errname((int)-r));
	else
		printf("%s: nice %ld\n", label, 20 - r);
}

static void show_attr(const char *label, int pid, unsigned size)
{
	struct attr a;
	memset(&a, 0xa5, sizeof(a));
	long r = rsys(SYS_sched_getattr, pid, &a, size, 0);
	if (r < 0) {
		printf("%s: %s\n", label, errname((int)-r));
		return;
	}
	printf("%s: size %u policy %u flags %#llx nice %d priority %u", label, a.size, a.policy,
	       (unsigned long long)a.flags, a.nice, a.priority);
	if (size > 56)
		printf(" past the struct: %#x %#x", a.more[0], a.more[size - 57]);
	printf("\n");
}

static void policies(void)
{
	int pols[] = { SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, 6, -1, 8, 100 };
	for (size_t i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
		char l[64];
		snprintf(l, sizeof(l), "priority range of %d", pols[i]);
		long lo = rsys(SYS_sched_get_priority_min, pols[i]), hi = rsys(SYS_sched_get_priority_max, pols[i]);
		if (lo < 0)
			printf("%s: %s\n", l, errname((int)-lo));
		else
			printf("%s: %ld..%ld\n", l, lo, hi);
	}
	resv("getscheduler(0)", rsys(SYS_sched_getscheduler, 0));
	resv("getscheduler(self)", rsys(SYS_sched_getscheduler, getpid()));
	resv("getscheduler(-1)", rsys(SYS_sched_getscheduler, -1));
	resv("getscheduler(no such pid)", rsys(SYS_sched_getscheduler, 4000000));
	int prio = 7;
	res("getparam(0)", rsys(SYS_sched_getparam, 0, &prio));
	printf("  priority %d\n", prio);
	res("getparam(NULL)", rsys(SYS_sched_getparam, 0, 0));
	res("getparam(-1)", rsys(SYS_sched_getparam, -1, &prio));
	res("getparam(bad)", rsys(SYS_sched_getparam, 0, 8));
	res("getparam(no such pid)", rsys(SYS_sched_getparam, 4000000, &prio));

	res("set(OTHER, 1)", setsched(0, SCHED_OTHER, 1));
	res("set(FIFO, 0)", setsched(0, SCHED_FIFO, 0));
	res("set(RR, 100)", setsched(0, SCHED_RR, 100));
	res("set(FIFO, -1)", setsched(0, SCHED_FIFO, -1));
	res("set(policy 99)", setsched(0, 99, 0));
	res("set(DEADLINE)", setsched(0, 6, 0));
	res("set(NULL param)", rsys(SYS_sched_setscheduler, 0, SCHED_OTHER, 0));
	res("set(bad param)", rsys(SYS_sched_setscheduler, 0, SCHED_OTHER, 8));
	res("set(pid -1)", setsched(-1, SCHED_OTHER, 0));
	res("set(no such pid)", setsched(4000000, SCHED_OTHER, 0));
	res("set(BATCH)", setsched(0, SCHED_BATCH, 0));
	resv("  getscheduler", rsys(SYS_sched_getscheduler, 0));
	res("set(IDLE)", setsched(0, SCHED_IDLE, 0));
	resv("  getscheduler", rsys(SYS_sched_getscheduler, 0));
	res("setparam(0)", rsys(SYS_sched_setparam, 0, &(int){ 0 }));
	res("setparam(5)", rsys(SYS_sched_setparam, 0, &(int){ 5 }));
	resv("  getscheduler", rsys(SYS_sched_getscheduler, 0));
	res("set(OTHER|RESET_ON_FORK)", setsched(0, SCHED_OTHER | SCHED_RESET_ON_FORK, 0));
	resv("  getscheduler", rsys(SYS_sched_getscheduler, 0));
	res("set(OTHER)", setsched(0, SCHED_OTHER, 0));
	resv("  getscheduler", rsys(SYS_sched_getscheduler, 0));

	struct timespec ts = { 99, 99 };
	res("rr_get_interval(0)", rsys(SYS_sched_rr_get_interval, 0, &ts));
	expect(ts.tv_sec == 0 && ts.tv_nsec < 1000000000, "SCHED_OTHER's interval is under a second");
	res("rr_get_interval(-1)", rsys(SYS_sched_rr_get_interval, -1, &ts));
	res("rr_get_interval(no such pid)", rsys(SYS_sched_rr_get_interval, 4000000, &ts));
	res("rr_get_interval(bad)", rsys(SYS_sched_rr_get_interval, 0, 8));
}

static void attrs(void)
{
	show_attr("getattr(48)", 0, 48);
	show_attr("getattr(56)", 0, 56);
	show_attr("getattr(100)", 0, 100);
	show_attr("getattr(47)", 0, 47);
	show_attr("getattr(4097)", 0, 4097);
	struct attr a;
	res("getattr(flags 1)", rsys(SYS_sched_getattr, 0, &a, 56, 1));
	res("getattr(NULL)", rsys(SYS_sched_getattr, 0, 0, 56, 0));
	res("getattr(pid -1)", rsys(SYS_sched_getattr, -1, &a, 56, 0));
	res("getattr(no such pid)", rsys(SYS_sched_getattr, 4000000, &a, 56, 0));
	res("getattr(bad)", rsys(SYS_sched_getattr, 0, 8, 56, 0));

	memset(&a, 0, sizeof(a));
	a.policy = SCHED_BATCH;
	a.nice = 3;
	res("setattr(size 0 = 48, BATCH nice 3)", rsys(SYS_sched_setattr, 0, &a, 0));
	show_attr("  getattr", 0, 56);
	show_prio("  getpriority", PRIO_PROCESS, 0);
	a.size = 40;
	res("setattr(size 40)", rsys(SYS_sched_setattr, 0, &a, 0));
	expect(a.size >= 56, "E2BIG writes the kernel's size back");
	a.size = 64;
	a.more[0] = 0; /* bytes past the kernel's struct must be zero */
	memset(a.more, 0, sizeof(a.more));
	res("setattr(size 64, zero tail)", rsys(SYS_sched_setattr, 0, &a, 0));
	a.size = 120;
	a.more[50] = 1;
	res("setattr(size 120, tail not zero)", rsys(SYS_sched_setattr, 0, &a, 0));
	memset(a.more, 0, sizeof(a.more));
	a.size = 56;
	res("setattr(flags arg 1)", rsys(SYS_sched_setattr, 0, &a, 1));
	res("setattr(NULL)", rsys(SYS_sched_setattr, 0, 0, 0));
	res("setattr(pid -1)", rsys(SYS_sched_setattr, -1, &a, 0));
	res("setattr(bad)", rsys(SYS_sched_setattr, 0, 8, 0));
	a.policy = 99;
	res("setattr(policy 99)", rsys(SYS_sched_setattr, 0, &a, 0));
	a.policy = 0x80000000u;
	res("setattr(policy < 0)", rsys(SYS_sched_setattr, 0, &a, 0));
	a.policy = SCHED_OTHER;
	a.flags = 0x80;
	res("setattr(unknown flag)", rsys(SYS_sched_setattr, 0, &a, 0));
	a.flags = 0x10000000; /* SCHED_FLAG_SUGOV */
	res("setattr(SUGOV)", rsys(SYS_sched_setattr, 0, &a, 0));
	a.flags = 0;
	a.priority = 1;
	res("setattr(OTHER, priority 1)", rsys(SYS_sched_setattr, 0, &a, 0));
	a.priority = 0;
	a.nice = 50; /* clamped to 19 */
	res("setattr(OTHER, nice 50)", rsys(SYS_sched_setattr, 0, &a, 0));
	show_prio("  getpriority", PRIO_PROCESS, 0);
	a.nice = 4;
	a.flags = 0x10; /* KEEP_PARAMS: the nice value stays */
	res("setattr(KEEP_PARAMS)", rsys(SYS_sched_setattr, 0, &a, 0));
	show_prio("  getpriority", PRIO_PROCESS, 0);
	a.flags = 0x08; /* KEEP_POLICY */
	a.policy = SCHED_BATCH;
	res("setattr(KEEP_POLICY, nice 4)", rsys(SYS_sched_setattr, 0, &a, 0));
	show_attr("  getattr", 0, 56);
	a.flags = 0;
	a.policy = SCHED_OTHER;
	a.nice = 0;
	res("setattr(OTHER, nice 0)", rsys(SYS_sched_setattr, 0, &a, 0));
}

static void nice_values(void)
{
	show_prio("getpriority(PROCESS, 0)", PRIO_PROCESS, 0);
	show_prio("getpriority(PROCESS, self)", PRIO_PROCESS, getpid());
	show_prio("getpriority(which 3)", 3, 0);
	show_prio("getpriority(which -1)", -1, 0);
	show_prio("getpriority(no such pid)", PRIO_PROCESS, 4000000);
	show_prio("getpriority(USER, no such user)", PRIO_USER, 54321);
	res("setpriority(which 3)", set_nice(3, 0, 0));
	res("setpriority(no such pid)", set_nice(PRIO_PROCESS, 4000000, 0));
	res("setpriority(USER, no such user)", set_nice(PRIO_USER, 54321, 0));
	res("setpriority(PROCESS, 0, 5)", set_nice(PRIO_PROCESS, 0, 5));
	show_prio("  getpriority", PRIO_PROCESS, 0);
	res("setpriority(PROCESS, 0, 100)", set_nice(PRIO_PROCESS, 0, 100));
	show_prio("  getpriority (clamped)", PRIO_PROCESS, 0);
	res("setpriority(PROCESS, 0, -100) as root", set_nice(PRIO_PROCESS, 0, -100));
	show_prio("  getpriority (clamped)", PRIO_PROCESS, 0);
	res("setpriority(PROCESS, 0, 0)", set_nice(PRIO_PROCESS, 0, 0));

	/* A process group of its own. */
	pid_t child = xfork();
	if (child == 0) {
		setpgid(0, 0);
		int ok = set_nice(PRIO_PGRP, 0, 6) == 0 && rsys(SYS_getpriority, PRIO_PGRP, 0) == 14 &&
			 rsys(SYS_getpriority, PRIO_PROCESS, 0) == 14 &&
			 set_nice(PRIO_PGRP, getpid(), 7) == 0 && rsys(SYS_getpriority, PRIO_PROCESS, 0) == 13 &&
			 set_nice(PRIO_PGRP, 4000000, 7) == -ESRCH;
		_exit(ok ? 0 : 1);
	}
	expect(reap(child) == 0, "PRIO_PGRP sets and gets the nice values of a process group");
}

/* In a child running as another user, with RLIMIT_NICE 0 and RLIMIT_RTPRIO 0. */
static void unprivileged(void)
{
	pid_t parent = getpid();
	pid_t child = xfork();
	if (child == 0) {
		struct rlimit zero = { 0, 0 };
		setrlimit(RLIMIT_NICE, &zero); /* lowering needs no privilege */
		setrlimit(RLIMIT_RTPRIO, &zero);
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(3);
		res("unpriv: set(FIFO, 1)", setsched(0, SCHED_FIFO, 1));
		res("unpriv: set(RR, 1)", setsched(0, SCHED_RR, 1));
		res("unpriv: set(FIFO, 0)", setsched(0, SCHED_FIFO, 0));
		res("unpriv: set(parent, OTHER)", setsched(parent, SCHED_OTHER, 0));
		res("unpriv: set(BATCH)", setsched(0, SCHED_BATCH, 0));
		res("unpriv: set(OTHER)", setsched(0, SCHED_OTHER, 0));
		res("unpriv: setpriority(0, 10)", set_nice(PRIO_PROCESS, 0, 10));
		res("unpriv: setpriority(0, 12)", set_nice(PRIO_PROCESS, 0, 12));
		res("unpriv: setpriority(0, 11) raising", set_nice(PRIO_PROCESS, 0, 11));
		res("unpriv: setpriority(0, 12) same", set_nice(PRIO_PROCESS, 0, 12));
		show_prio("unpriv: getpriority", PRIO_PROCESS, 0);
		res("unpriv: setpriority(parent, 0)", set_nice(PRIO_PROCESS, parent, 0));
		show_prio("unpriv: getpriority(parent)", PRIO_PROCESS, parent);
		struct attr a = { .size = 56, .policy = SCHED_OTHER, .nice = -10 };
		res("unpriv: setattr(nice -10)", rsys(SYS_sched_setattr, 0, &a, 0));
		a.nice = 13;
		res("unpriv: setattr(nice 13)", rsys(SYS_sched_setattr, 0, &a, 0));
		show_prio("unpriv: getpriority", PRIO_PROCESS, 0);
		res("unpriv: set(IDLE)", setsched(0, SCHED_IDLE, 0));
		res("unpriv: set(OTHER) from IDLE", setsched(0, SCHED_OTHER, 0));
		res("unpriv: set(IDLE|RESET_ON_FORK)", setsched(0, SCHED_IDLE | SCHED_RESET_ON_FORK, 0));
		res("unpriv: set(IDLE) dropping RESET_ON_FORK", setsched(0, SCHED_IDLE, 0));
		res("unpriv: setpriority(0, 4) raising", set_nice(PRIO_PROCESS, 0, 4));
		_exit(0);
	}
	reap(child);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	policies();
	attrs();
	nice_values();
	unprivileged();
	return expect_failures != 0;
}
