/* raw_futex_op32 (mm/copy_x86_64.S): FUTEX_WAKE_OP's operations, the
 * value before, and -EFAULT through the exception table on SIGSEGV and
 * SIGBUS. */
#include "kernel/fault.h"
#include "mm/copy.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096

int main(void)
{
	fault_init();
	static const struct { int op; uint32_t start, arg, want; const char *name; } cases[] = {
		{ 0, 5, 9, 9, "set" },
		{ 1, 5, 3, 8, "add" },
		{ 1, 0xffffffff, 2, 1, "add wraps" },
		{ 2, 5, 0x30, 0x35, "or" },
		{ 3, 7, 2, 5, "and-not" },
		{ 4, 5, 0xff, 0xfa, "xor" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = cases[i].start, old = 0;
		CHECK(raw_futex_op32(&v, cases[i].op, cases[i].arg, &old) == 0 && v == cases[i].want &&
		      old == cases[i].start, "raw_futex_op32 %s", cases[i].name);
	}

	uint32_t old = 0;
	char *g = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mprotect(g + PG, PG, PROT_READ) == 0, "read-only page");
	for (int op = 0; op <= 4; op++)
		CHECK_EQ(raw_futex_op32((uint32_t *)(g + PG), op, 1, &old), -EFAULT, "op %d on a read-only page", op);
	CHECK(mprotect(g + PG, PG, PROT_NONE) == 0, "PROT_NONE page");
	CHECK_EQ(raw_futex_op32((uint32_t *)(g + PG), 2, 1, &old), -EFAULT, "or on PROT_NONE");
	CHECK_EQ(raw_futex_op32((uint32_t *)(g + PG), 1, 1, &old), -EFAULT, "add on PROT_NONE");

	int fd = memfd_create("futex", 0);
	CHECK(fd >= 0 && ftruncate(fd, 2 * PG) == 0, "memfd");
	char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED && ftruncate(fd, PG) == 0, "mapped, truncated to 1 page");
	CHECK_EQ(raw_futex_op32((uint32_t *)(m + PG), 0, 1, &old), -EFAULT, "set on a truncated page (SIGBUS)");
	CHECK_EQ(raw_futex_op32((uint32_t *)(m + PG), 4, 1, &old), -EFAULT, "xor on a truncated page (SIGBUS)");
	uint32_t cur = 3;
	CHECK_EQ(raw_cmpxchg32((uint32_t *)(m + PG), &cur, 1), -EFAULT, "cmpxchg on a truncated page (SIGBUS)");
	CHECK_DONE();
}
