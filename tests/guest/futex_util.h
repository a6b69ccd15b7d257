/* Helpers for the futex tests (tests/guest/futex_*.c), on top of util.h.
 *
 * Concurrency without threads: a "vm child" is clone(CLONE_VM) without
 * CLONE_THREAD, a process sharing our memory, which runs only raw system
 * calls (it shares our TLS and errno) and reports through its exit code.
 *
 * Determinism: a waker must not act before its waiters sleep in the
 * kernel. nwaiters() counts the waiters queued on a futex without
 * disturbing them (FUTEX_REQUEUE of the futex onto itself), and
 * await_waiters() polls it; PI waiters are seen through FUTEX_WAITERS in
 * the word instead. */
#ifndef COCOON_GUEST_FUTEX_UTIL_H
#define COCOON_GUEST_FUTEX_UTIL_H

#include "util.h"
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* <linux/futex.h> is not among musl-gcc's headers. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_FD 2
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_OP_PRIVATE (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)
#define FUTEX_LOCK_PI_PRIVATE (FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP(op, oparg, cmp, cmparg) \
	((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))
#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_ANDN 3
#define FUTEX_OP_XOR 4
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_NE 1
#define FUTEX_OP_CMP_LT 2
#define FUTEX_OP_CMP_LE 3
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP_CMP_GE 5
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG

struct futex_waitv_k {
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

static long futex(volatile uint32_t *uaddr, int op, uint32_t val, long timeout_or_val2,
		  volatile uint32_t *uaddr2, uint32_t val3)
{
	return rsys(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

/* Waiters queued on a (non-PI) futex, counted without waking them. */
static long nwaiters(volatile uint32_t *f, int priv)
{
	return futex(f, FUTEX_REQUEUE | priv, 0, INT_MAX, f, 0);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	rsys(SYS_nanosleep, &ts, 0);
}

static void await_waiters(volatile uint32_t *f, int priv, long n)
{
	for (int i = 0; i < 20000 && nwaiters(f, priv) < n; i++)
		nap_ms(1);
}

/* Until the word has FUTEX_WAITERS (a PI waiter is queued). */
static void await_pi_waiter(volatile uint32_t *f)
{
	for (int i = 0; i < 20000 && !(*f & FUTEX_WAITERS); i++)
		nap_ms(1);
}

/* fn(arg) in a process sharing our memory; its pid. */
static int vm_child(int (*fn)(void *), void *arg)
{
	size_t size = 64 * 1024;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	return clone(fn, stack + size, CLONE_VM | SIGCHLD, arg);
}

/* The exit code of a child (or 200 + its signal). */
static int reap(int pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

/* A raw result as an exit code: 0 for success, errno otherwise. */
static int code(long r)
{
	return r < 0 ? (int)-r : 0;
}

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
	return (struct timespec){ ns / 1000000000LL, ns % 1000000000LL };
}

#endif
