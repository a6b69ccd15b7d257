/* futex_waitv: its argument errors in Linux's order, EAGAIN with the
 * first value that differs, timeouts on both clocks, and the index of the
 * futex that was woken, private and shared. */
#include "futex_util.h"

static volatile uint32_t f[4];

static long waitv(struct futex_waitv_k *v, unsigned n, unsigned flags, struct timespec *ts, int clk)
{
	return rsys(SYS_futex_waitv, v, n, flags, ts, clk);
}

static void fill(struct futex_waitv_k *v, int n, uint32_t flags)
{
	for (int i = 0; i < n; i++)
		v[i] = (struct futex_waitv_k){ f[i], (uintptr_t)&f[i], flags, 0 };
}

static void errors(void)
{
	printf("-- errors\n");
	struct futex_waitv_k v[4], big[129];
	struct timespec past = { 0, 1 }, bad = { 0, 1000000000 };
	fill(v, 4, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	for (int i = 0; i < 129; i++)
		big[i] = v[0];
	res("flags 1", waitv(v, 4, 1, NULL, 0));
	res("nr 0", waitv(v, 0, 0, NULL, 0));
	res("nr 129", waitv(big, 129, 0, NULL, 0));
	res("NULL waiters", waitv(NULL, 1, 0, NULL, 0));
	res("clock BOOTTIME", waitv(v, 4, 0, &past, CLOCK_BOOTTIME));
	v[3].val = 1;
	res("clock BOOTTIME without a timeout (not looked at)", waitv(v, 4, 0, NULL, CLOCK_BOOTTIME));
	v[3].val = 0;
	res("timeout bad pointer", waitv(v, 4, 0, (struct timespec *)8, CLOCK_MONOTONIC));
	res("timeout nsec 1e9", waitv(v, 4, 0, &bad, CLOCK_MONOTONIC));
	res("waiters bad pointer", waitv((struct futex_waitv_k *)8, 1, 0, NULL, 0));
	char *page = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + PAGE, PAGE);
	memcpy(page + PAGE - 24, &v[0], 24);
	res("the second waiter unmapped", waitv((struct futex_waitv_k *)(page + PAGE - 24), 2, 0, NULL, 0));
	((struct futex_waitv_k *)(page + PAGE - 24))->flags = 0;
	res("the first invalid, the second unmapped", waitv((struct futex_waitv_k *)(page + PAGE - 24), 2, 0, NULL, 0));
	v[2].flags = FUTEX2_SIZE_U32 | 0x10;
	res("unknown flag in one", waitv(v, 4, 0, NULL, 0));
	v[2].flags = 0x01; /* 16 bits */
	res("size u16", waitv(v, 4, 0, NULL, 0));
	v[2].flags = 0x03;
	res("size u64", waitv(v, 4, 0, NULL, 0));
	v[2].flags = FUTEX2_SIZE_U32;
	v[2].reserved = 1;
	res("reserved set", waitv(v, 4, 0, NULL, 0));
	v[2].reserved = 0;
	v[2].val = 1ULL << 32;
	res("value above 32 bits", waitv(v, 4, 0, NULL, 0));
	fill(v, 4, FUTEX2_SIZE_U32);
	v[1].uaddr += 2;
	res("misaligned", waitv(v, 4, 0, NULL, 0));
	v[1].uaddr = 0;
	res("NULL futex", waitv(v, 4, 0, NULL, 0));
	v[1].uaddr = 0;
	v[1].flags |= FUTEX2_PRIVATE;
	res("NULL futex, private", waitv(v, 4, 0, NULL, 0));
	fill(v, 4, FUTEX2_SIZE_U32);
	v[2].val = 77;
	res("third value differs", waitv(v, 4, 0, NULL, 0));
	fill(v, 4, FUTEX2_SIZE_U32);
	res("deadline past, monotonic", waitv(v, 4, 0, &past, CLOCK_MONOTONIC));
	res("deadline past, realtime", waitv(v, 4, 0, &past, CLOCK_REALTIME));
	struct timespec soon = ns_ts(clock_ns(CLOCK_REALTIME) + 20000000);
	res("realtime +20 ms", waitv(v, 4, 0, &soon, CLOCK_REALTIME));
	soon = ns_ts(clock_ns(CLOCK_MONOTONIC) + 20000000);
	res("monotonic +20 ms", waitv(v, 1, 0, &soon, CLOCK_MONOTONIC));
}

struct req {
	int n;
	uint32_t flags;
};

static int waitv_fn(void *arg)
{
	struct req *r = arg;
	struct futex_waitv_k v[4];
	fill(v, r->n, r->flags);
	long ret = waitv(v, r->n, 0, NULL, 0);
	return ret < 0 ? 100 + (int)-ret : (int)ret;
}

static void woken(uint32_t flags, int which)
{
	int priv = flags & FUTEX2_PRIVATE;
	struct req r = { 4, FUTEX2_SIZE_U32 | flags };
	int pid = vm_child(waitv_fn, &r);
	for (int i = 0; i < 4; i++)
		await_waiters(&f[i], priv, 1);
	resv("waiters on each", nwaiters(&f[0], priv) + nwaiters(&f[1], priv) + nwaiters(&f[2], priv) +
				     nwaiters(&f[3], priv));
	resv("WAKE of the other kind", futex(&f[which], FUTEX_WAKE | (priv ? 0 : FUTEX_PRIVATE_FLAG), 1, 0, 0, 0));
	resv("WAKE one", futex(&f[which], FUTEX_WAKE | priv, 1, 0, 0, 0));
	printf("futex_waitv returned %d\n", reap(pid));
	resv("waiters left", nwaiters(&f[0], priv) + nwaiters(&f[1], priv) + nwaiters(&f[2], priv) +
				 nwaiters(&f[3], priv));
}

static void requeued(void)
{
	/* A futex_waitv waiter moved to another futex by CMP_REQUEUE is
	 * woken there, and reports the index it was waiting on. */
	struct req r = { 2, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE };
	int pid = vm_child(waitv_fn, &r);
	await_waiters(&f[1], FUTEX_PRIVATE_FLAG, 1);
	resv("CMP_REQUEUE of f[1] to f[3]", futex(&f[1], FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, &f[3], 0));
	resv("WAKE f[3]", futex(&f[3], FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	printf("futex_waitv returned %d\n", reap(pid));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	errors();
	printf("-- woken\n");
	woken(FUTEX2_PRIVATE, 2);
	woken(0, 3);
	woken(0, 0);
	requeued();
	return expect_failures != 0;
}
