/* The futex and futex_waitv system calls (Linux's kernel/futex/
 * syscalls.c): arguments checked and decoded in Linux's order, timeouts
 * made absolute deadlines on the sandbox's clocks; the work is in
 * kernel/futex.c, futex_pi.c and futex_requeue.c. */
#include <limits.h>
#include <linux/futex.h>
#include "kernel/futex_impl.h"
#include "kernel/ktime.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define KTIME_SEC_MAX (INT64_MAX / NSEC_PER_SEC)

/* struct __kernel_timespec */
struct ktimespec {
	int64_t tv_sec, tv_nsec;
};

/* A guest timespec as nanoseconds: -EFAULT, -EINVAL (Linux's
 * timespec64_valid), else 0; huge values saturate like ktime_set. */
static int get_ns(gaddr_t utime, int64_t *ns)
{
	struct ktimespec ts;
	if (copy_from_guest(&ts, utime, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || (uint64_t)ts.tv_nsec >= (uint64_t)NSEC_PER_SEC)
		return -EINVAL;
	*ns = ts.tv_sec >= KTIME_SEC_MAX ? INT64_MAX : ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
	return 0;
}

static bool cmd_has_timeout(int cmd)
{
	return cmd == FUTEX_WAIT || cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 ||
	       cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAIT_REQUEUE_PI;
}

/* Linux's futex_init_timeout: FUTEX_WAIT's timeout is relative (on
 * CLOCK_MONOTONIC), the others' absolute: LOCK_PI's on CLOCK_REALTIME,
 * the rest's on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME says so. */
static int get_deadline(gaddr_t utime, int cmd, int op, struct futex_deadline *dl)
{
	int64_t ns;
	int err = get_ns(utime, &ns);
	if (err)
		return err;
	if (cmd == FUTEX_WAIT) {
		int64_t now = ktime_sandbox_ns(CLOCK_MONOTONIC);
		*dl = (struct futex_deadline){ CLOCK_MONOTONIC, ns > INT64_MAX - now ? INT64_MAX : now + ns };
	} else {
		bool rt = cmd == FUTEX_LOCK_PI || (op & FUTEX_CLOCK_REALTIME);
		*dl = (struct futex_deadline){ rt ? CLOCK_REALTIME : CLOCK_MONOTONIC, ns };
	}
	return 0;
}

/* A timed wait interrupted by a signal resumes, without a handler, to the
 * same deadline (Linux's futex_wait_restart). */
static long wait_restart(struct restart_block *rb);

static long wait_timed(gaddr_t uaddr, unsigned flags, uint32_t val, const struct futex_deadline *dl,
		       uint32_t bitset)
{
	long ret = futex_wait(uaddr, flags, val, dl, bitset);
	if (ret != -ERESTARTSYS || !dl)
		return ret;
	current->restart = (struct restart_block){ wait_restart, {
		(int64_t)uaddr, (int64_t)((uint64_t)bitset << 32 | val), dl->ns,
		(int64_t)((uint64_t)dl->clock << 8 | flags) } };
	return -ERESTART_RESTARTBLOCK;
}

static long wait_restart(struct restart_block *rb)
{
	struct futex_deadline dl = { (clockid_t)(rb->a[3] >> 8), rb->a[2] };
	uint64_t vb = (uint64_t)rb->a[1];
	return wait_timed((gaddr_t)rb->a[0], (unsigned)rb->a[3] & 0xff, (uint32_t)vb, &dl, (uint32_t)(vb >> 32));
}

long sys_futex(const struct sysargs *a)
{
	gaddr_t uaddr = a->a[0], utime = a->a[3], uaddr2 = a->a[4];
	int op = (int)a->a[1], cmd = op & FUTEX_CMD_MASK;
	uint32_t val = (uint32_t)a->a[2], val3 = (uint32_t)a->a[5];
	/* Operations without a timeout take a count from its argument. */
	int val2 = (int)(uint32_t)utime;
	struct futex_deadline deadline, *dl = NULL;
	if (utime && cmd_has_timeout(cmd)) {
		int err = get_deadline(utime, cmd, op, &deadline);
		if (err)
			return err;
		dl = &deadline;
	}
	unsigned flags = (op & FUTEX_PRIVATE_FLAG) ? 0 : FLAGS_SHARED;
	if (op & FUTEX_CLOCK_REALTIME) {
		flags |= FLAGS_CLOCKRT;
		if (cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2)
			return -ENOSYS;
	}
	switch (cmd) {
	case FUTEX_WAIT:
		val3 = FUTEX_BITSET_MATCH_ANY;
		/* fall through */
	case FUTEX_WAIT_BITSET:
		return wait_timed(uaddr, flags, val, dl, val3);
	case FUTEX_WAKE:
		val3 = FUTEX_BITSET_MATCH_ANY;
		/* fall through */
	case FUTEX_WAKE_BITSET:
		return futex_wake(uaddr, flags, (int)val, val3);
	case FUTEX_REQUEUE:
		return futex_requeue(uaddr, flags, uaddr2, (int)val, val2, NULL, false);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(uaddr, flags, uaddr2, (int)val, val2, &val3, false);
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, flags, uaddr2, (int)val, val2, val3);
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
		return futex_lock_pi(uaddr, flags, dl, false);
	case FUTEX_UNLOCK_PI:
		return futex_unlock_pi(uaddr, flags);
	case FUTEX_TRYLOCK_PI:
		return futex_lock_pi(uaddr, flags, NULL, true);
	case FUTEX_WAIT_REQUEUE_PI:
		return futex_wait_requeue_pi(uaddr, flags, val, dl, uaddr2);
	case FUTEX_CMP_REQUEUE_PI:
		return futex_requeue(uaddr, flags, uaddr2, (int)val, val2, &val3, true);
	}
	return -ENOSYS;
}

/* ---- futex_waitv ---------------------------------------------------------- */

/* struct futex_waitv, and the futex2 flags it takes. */
struct kwaitv {
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};
#define FUTEX2_SIZE_MASK 0x03
#define FUTEX2_SIZE_U32  0x02
#define FUTEX2_PRIVATE   FUTEX_PRIVATE_FLAG

long sys_futex_waitv(const struct sysargs *a)
{
	gaddr_t uwaitv = a->a[0], timeout = a->a[3];
	unsigned nr = (unsigned)a->a[1], flags = (unsigned)a->a[2];
	clockid_t clockid = (clockid_t)a->a[4];
	if (flags)
		return -EINVAL;
	if (!nr || nr > FUTEX_WAITV_MAX || !uwaitv)
		return -EINVAL;
	struct futex_deadline deadline, *dl = NULL;
	if (timeout) {
		if (clockid != CLOCK_REALTIME && clockid != CLOCK_MONOTONIC)
			return -EINVAL;
		int err = get_ns(timeout, &deadline.ns);
		if (err)
			return err;
		deadline.clock = clockid;
		dl = &deadline;
	}
	struct futex_q qs[FUTEX_WAITV_MAX];
	uint64_t uaddrs[FUTEX_WAITV_MAX];
	uint32_t vals[FUTEX_WAITV_MAX];
	unsigned fl[FUTEX_WAITV_MAX];
	for (unsigned i = 0; i < nr; i++) {
		struct kwaitv w;
		if (copy_from_guest(&w, uwaitv + i * sizeof(w), sizeof(w)))
			return -EFAULT;
		/* 32-bit futexes only; FUTEX2_NUMA and FUTEX2_MPOL are not
		 * supported (EINVAL, as before Linux 6.16). */
		if ((w.flags & ~(FUTEX2_SIZE_MASK | FUTEX2_PRIVATE)) || w.reserved)
			return -EINVAL;
		if ((w.flags & FUTEX2_SIZE_MASK) != FUTEX2_SIZE_U32 || w.val >> 32)
			return -EINVAL;
		futex_q_init(&qs[i]);
		uaddrs[i] = w.uaddr;
		vals[i] = (uint32_t)w.val;
		fl[i] = (w.flags & FUTEX2_PRIVATE) ? 0 : FLAGS_SHARED;
	}
	return futex_wait_multiple(qs, uaddrs, vals, fl, (int)nr, dl);
}
