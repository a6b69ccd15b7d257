/* futex REQUEUE, CMP_REQUEUE and WAKE_OP: counts of woken and moved
 * waiters, their errors, and every WAKE_OP operation and comparison with
 * the word it leaves. */
#include "futex_util.h"

static volatile uint32_t fa, fb;

struct waiter {
	volatile uint32_t *f;
	int op;
	uint32_t val;
};

static int wait_fn(void *arg)
{
	struct waiter *w = arg;
	return code(futex(w->f, w->op, w->val, 0, 0, FUTEX_BITSET_MATCH_ANY));
}

static void start(int *pids, int n, struct waiter *w)
{
	for (int i = 0; i < n; i++)
		pids[i] = vm_child(wait_fn, w);
	await_waiters(w->f, w->op & FUTEX_PRIVATE_FLAG, n);
}

static void reap_all(const char *what, int *pids, int n)
{
	int ok = 0;
	for (int i = 0; i < n; i++)
		ok += reap(pids[i]) == 0;
	printf("%s: %d of %d woken without error\n", what, ok, n);
}

static void requeues(int priv)
{
	printf("-- requeue%s\n", priv ? " (private)" : "");
	int pids[5];
	fa = 1;
	fb = 2;
	struct waiter w = { &fa, FUTEX_WAIT | priv, 1 };
	start(pids, 5, &w);
	resv("CMP_REQUEUE, value differs", futex(&fa, FUTEX_CMP_REQUEUE | priv, 1, 2, &fb, 9));
	resv("CMP_REQUEUE nr_wake -1", futex(&fa, FUTEX_CMP_REQUEUE | priv, (uint32_t)-1, 2, &fb, 1));
	resv("CMP_REQUEUE nr_requeue -1", futex(&fa, FUTEX_CMP_REQUEUE | priv, 1, (uint32_t)-1, &fb, 1));
	resv("CMP_REQUEUE uaddr2 misaligned", futex(&fa, FUTEX_CMP_REQUEUE | priv, 1, 2,
						    (uint32_t *)((char *)&fb + 2), 1));
	resv("CMP_REQUEUE uaddr misaligned", futex((uint32_t *)((char *)&fa + 1), FUTEX_CMP_REQUEUE | priv, 1, 2,
						   &fb, 1));
	resv("CMP_REQUEUE wake 1, move 2", futex(&fa, FUTEX_CMP_REQUEUE | priv, 1, 2, &fb, 1));
	resv("left on a", nwaiters(&fa, priv));
	resv("on b", nwaiters(&fb, priv));
	resv("REQUEUE wake 0, move 1", futex(&fa, FUTEX_REQUEUE | priv, 0, 1, &fb, 0));
	resv("REQUEUE wake 0, move 0", futex(&fa, FUTEX_REQUEUE | priv, 0, 0, &fb, 0));
	resv("left on a", nwaiters(&fa, priv));
	resv("on b", nwaiters(&fb, priv));
	resv("WAKE a", futex(&fa, FUTEX_WAKE | priv, INT_MAX, 0, 0, 0));
	resv("REQUEUE b to itself, wake 1", futex(&fb, FUTEX_REQUEUE | priv, 1, INT_MAX, &fb, 0));
	resv("WAKE b", futex(&fb, FUTEX_WAKE | priv, INT_MAX, 0, 0, 0));
	reap_all("requeued waiters", pids, 5);
}

/* One WAKE_OP: a waiter on each word, the operation; prints the result,
 * the word after it, and whether the second waiter was woken. */
static void wake_op(const char *name, uint32_t start_val, uint32_t op)
{
	int pa, pb;
	fa = 0;
	fb = start_val;
	struct waiter wa = { &fa, FUTEX_WAIT_PRIVATE, 0 }, wb = { &fb, FUTEX_WAIT_PRIVATE, start_val };
	start(&pa, 1, &wa);
	start(&pb, 1, &wb);
	long r = futex(&fa, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, 1, &fb, op);
	char rs[16];
	snprintf(rs, sizeof rs, "%ld", r);
	printf("%-24s -> %-6s word %#x, second waiter %s\n", name, r < 0 ? errname((int)-r) : rs, fb,
	       nwaiters(&fb, FUTEX_PRIVATE_FLAG) ? "waits" : "woken");
	futex(&fa, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0);
	fb = start_val + 12345; /* a waiter still on b must not sleep again */
	futex(&fb, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0);
	reap(pa);
	reap(pb);
}

static void wake_ops(void)
{
	printf("-- wake_op\n");
	wake_op("set 5, eq 5", 5, FUTEX_OP(FUTEX_OP_SET, 9, FUTEX_OP_CMP_EQ, 5));
	wake_op("set 5, eq 4", 5, FUTEX_OP(FUTEX_OP_SET, 9, FUTEX_OP_CMP_EQ, 4));
	wake_op("add 3, ne 5", 5, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_NE, 5));
	wake_op("add -1, ne 4", 5, FUTEX_OP(FUTEX_OP_ADD, -1, FUTEX_OP_CMP_NE, 4));
	wake_op("or 0x30, lt 6", 5, FUTEX_OP(FUTEX_OP_OR, 0x30, FUTEX_OP_CMP_LT, 6));
	wake_op("or, lt -1 (signed)", 0xfffffff0, FUTEX_OP(FUTEX_OP_OR, 1, FUTEX_OP_CMP_LT, -1));
	wake_op("andn 1, le 5", 5, FUTEX_OP(FUTEX_OP_ANDN, 1, FUTEX_OP_CMP_LE, 5));
	wake_op("andn 4, le 4", 5, FUTEX_OP(FUTEX_OP_ANDN, 4, FUTEX_OP_CMP_LE, 4));
	wake_op("xor 0xff, gt 4", 5, FUTEX_OP(FUTEX_OP_XOR, 0xff, FUTEX_OP_CMP_GT, 4));
	wake_op("xor, gt 5", 5, FUTEX_OP(FUTEX_OP_XOR, 0xff, FUTEX_OP_CMP_GT, 5));
	wake_op("set, ge 5", 5, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_GE, 5));
	wake_op("set, ge 6", 5, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_GE, 6));
	wake_op("set 1<<4 (shift)", 5, FUTEX_OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, FUTEX_OP_CMP_EQ, 5));
	wake_op("or 1<<31 (shift)", 5, FUTEX_OP(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 31, FUTEX_OP_CMP_NE, 5));
	wake_op("add 1<<(33&31) (shift)", 5, FUTEX_OP(FUTEX_OP_ADD | FUTEX_OP_OPARG_SHIFT, 33, FUTEX_OP_CMP_EQ, 5));
	wake_op("shift by -1", 5, FUTEX_OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, -1, FUTEX_OP_CMP_EQ, 5));
	wake_op("cmparg -2048", 0xfffff800, FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, -2048));
	wake_op("op 5 (none)", 5, FUTEX_OP(5, 1, FUTEX_OP_CMP_EQ, 5));
	wake_op("op 7 (none)", 5, FUTEX_OP(7, 1, FUTEX_OP_CMP_EQ, 5));
	wake_op("cmp 6 (none)", 5, FUTEX_OP(FUTEX_OP_SET, 1, 6, 5));
	wake_op("cmp 15 (none)", 5, FUTEX_OP(FUTEX_OP_ADD, 1, 15, 5));

	/* Errors and counts without waiters. */
	fa = fb = 0;
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	resv("WAKE_OP to a read-only page", futex(&fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)ro,
						   FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0)));
	resv("WAKE_OP to NULL", futex(&fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, NULL, FUTEX_OP(FUTEX_OP_SET, 1, 0, 0)));
	resv("WAKE_OP to NULL, bad op", futex(&fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, NULL, FUTEX_OP(6, 1, 0, 0)));
	resv("WAKE_OP shared to NULL", futex(&fa, FUTEX_WAKE_OP, 1, 1, NULL, FUTEX_OP(FUTEX_OP_SET, 1, 0, 0)));
	resv("WAKE_OP misaligned uaddr2", futex(&fa, FUTEX_WAKE_OP, 1, 1, (uint32_t *)((char *)&fb + 1),
						 FUTEX_OP(FUTEX_OP_SET, 1, 0, 0)));
	resv("WAKE_OP with nobody", futex(&fa, FUTEX_WAKE_OP, 1, 1, &fb, FUTEX_OP(FUTEX_OP_ADD, 7, 0, 0)));
	printf("word after it: %u\n", fb);
	resv("WAKE_OP same word", futex(&fa, FUTEX_WAKE_OP, 1, 1, &fa, FUTEX_OP(FUTEX_OP_ADD, 1, 0, 0)));
	printf("word after it: %u\n", fa);
	/* Copy-on-write memory after a fork is written in our copy only. */
	uint32_t *cow = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*cow = 40;
	int pid = fork();
	if (pid == 0) {
		nap_ms(50);
		_exit(*cow == 40 ? 0 : 1);
	}
	resv("WAKE_OP on a copy-on-write page", futex(&fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, cow,
						       FUTEX_OP(FUTEX_OP_ADD, 2, FUTEX_OP_CMP_EQ, 40)));
	printf("our word: %u; child saw its own: %s\n", *cow, reap(pid) == 0 ? "yes" : "no");
	munmap(ro, PAGE);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	requeues(0);
	requeues(FUTEX_PRIVATE_FLAG);
	wake_ops();
	return expect_failures != 0;
}
