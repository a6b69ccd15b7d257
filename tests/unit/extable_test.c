/* The exception table: fixups on SIGBUS and SIGSEGV in the raw copy
 * routines, the table lookup, and the Oops report for other faults. */
#include "kernel/fault.h"
#include "mm/copy.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

/* Run fn in a child with stderr captured; its exit status and output. */
static int run_child(void (*fn)(void), char *out, size_t size)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		fn();
		_exit(0);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t r;
	while (len + 1 < size && (r = read(p[0], out + len, size - 1 - len)) > 0)
		len += r;
	out[len] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

__attribute__((no_sanitize("undefined"))) static void null_deref(void)
{
	fault_init();
	volatile int *volatile p = NULL;
	printf("%d\n", *p);
}

static volatile int depth;
static int recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	depth++;
	return depth > 0 ? recurse(n + 1) + pad[0] : 0;
}

static void overflow(void)
{
	fault_init();
	recurse(0);
}

static void sent_signal(void)
{
	fault_init();
	raise(SIGSEGV); /* sent, not a fault: no fixup even if RIP matched */
}

static void hook_write(void)
{
	write(2, "HOOK\n", 5);
}

static void explicit_oops(void)
{
	fault_init();
	oops_hook = hook_write;
	oops("test message");
}

__attribute__((no_sanitize("undefined"))) static void hook_fault(void)
{
	volatile int *volatile p = NULL;
	*p = 1;
}

static void fault_in_hook(void)
{
	oops_hook = hook_fault;
	null_deref();
}

static void *thread_fault(void *arg)
{
	fault_thread_init();
	char buf[16];
	return (void *)raw_copy(buf, arg, sizeof(buf));
}

int main(void)
{
	fault_init();

	/* The table: sorted, complete, and nothing else is found. */
	const struct extable_abs *t;
	size_t n = extable_sorted(&t);
	CHECK(n >= 9, "exception table has %zu entries", n);
	int sorted = 1, found = 1;
	for (size_t i = 0; i < n; i++) {
		if (i && t[i - 1].insn >= t[i].insn)
			sorted = 0;
		if (extable_search(t[i].insn) != t[i].fixup)
			found = 0;
	}
	CHECK(sorted, "table sorted by insn, no duplicates");
	CHECK(found, "extable_search finds every entry");
	CHECK(t[0].insn >= (uintptr_t)raw_copy, "entries point into the copy routines");
	int miss = 0;
	for (uintptr_t a = t[0].insn - 64; a < t[n - 1].insn + 64; a++) {
		int in = 0;
		for (size_t i = 0; i < n; i++)
			in |= t[i].insn == a;
		if (!in && extable_search(a))
			miss++;
	}
	CHECK_EQ(miss, 0, "extable_search returns 0 for other addresses");
	CHECK_EQ(extable_search(0), 0, "extable_search(0)");

	/* Successful copies: sizes and alignments. */
	static char src[3 * PG], dst[3 * PG];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (char)(i * 7 + 3);
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 8, 15, 16, 63, 64, 65, 4095, 4096, 8191 };
	int copy_ok = 1, clear_ok = 1;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int so = 0; so < 8; so++)
			for (int d = 0; d < 8; d += 3) {
				memset(dst, 0x55, sizeof(dst));
				if (raw_copy(dst + d, src + so, sizes[s]) != 0 ||
				    memcmp(dst + d, src + so, sizes[s]) != 0 ||
				    dst[d + sizes[s]] != 0x55 || (d && dst[d - 1] != 0x55))
					copy_ok = 0;
				if (raw_clear(dst + d, sizes[s]) != 0 ||
				    dst[d + sizes[s]] != 0x55 ||
				    (sizes[s] && (dst[d] || dst[d + sizes[s] - 1])))
					clear_ok = 0;
			}
	CHECK(copy_ok, "raw_copy copies every size and alignment");
	CHECK(clear_ok, "raw_clear clears every size and alignment");

	char s[16];
	CHECK_EQ(raw_strncpy(s, "hello", sizeof(s)), 6, "raw_strncpy counts the NUL");
	CHECK(strcmp(s, "hello") == 0, "raw_strncpy copies");
	CHECK_EQ(raw_strncpy(s, "hello", 3), 3, "raw_strncpy without NUL returns n");
	CHECK_EQ(raw_strncpy(s, "hello", 0), 0, "raw_strncpy with n = 0");
	uint32_t v = 5, old = 5, out = 0;
	CHECK(raw_cmpxchg32(&v, &old, 9) == 0 && v == 9 && old == 5, "raw_cmpxchg32 swaps");
	CHECK(raw_cmpxchg32(&v, &old, 1) == 0 && v == 9 && old == 9, "raw_cmpxchg32 mismatch");
	CHECK(raw_load32(&v, &out) == 0 && out == 9, "raw_load32 loads");

	/* SIGBUS: a 2-page mapping of a 1-page memfd. */
	int fd = memfd_create("extable", 0);
	CHECK(fd >= 0 && ftruncate(fd, 2 * PG) == 0, "memfd");
	char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED && ftruncate(fd, PG) == 0, "mapped, truncated to 1 page");
	memset(m, 'x', PG);
	CHECK_EQ(raw_copy(dst, m + PG, 100), 100, "raw_copy from the truncated page (SIGBUS)");
	CHECK_EQ(raw_copy(m + PG + 8, src, 100), 100, "raw_copy to the truncated page");
	int exact = 1;
	for (size_t k = 1; k < 400; k += 13) {
		memset(dst, 0, 400);
		if (raw_copy(dst, m + PG - k, 400) != 400 - k || memchr(dst, 0, k))
			exact = 0;
	}
	CHECK(exact, "partial raw_copy copies the valid bytes, returns the rest");
	CHECK_EQ(raw_copy(dst, m + PG - 123, 400), 400 - 123, "partial raw_copy: exact remainder");
	CHECK_EQ(raw_copy(m + PG - 5, src, 4096), 4096 - 5, "partial raw_copy to: exact remainder");
	CHECK_EQ(raw_clear(m + PG - 77, 1000), 1000 - 77, "partial raw_clear: exact remainder");
	CHECK(m[PG - 77] == 0 && m[PG - 1] == 0 && m[PG - 78] == 'x', "raw_clear cleared the valid part");
	CHECK_EQ(raw_load32((uint32_t *)(m + PG), &out), -EFAULT, "raw_load32 on SIGBUS");

	/* SIGSEGV: a PROT_NONE page and an unmapped one. */
	char *g = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mprotect(g + PG, PG, PROT_NONE) == 0, "PROT_NONE page");
	memcpy(g + PG - 3, "ab", 3);
	CHECK_EQ(raw_copy(dst, g + PG, 10), 10, "raw_copy from PROT_NONE");
	CHECK_EQ(raw_copy(dst, g + PG - 50, 100), 50, "partial raw_copy from PROT_NONE");
	CHECK_EQ(raw_clear(g + PG, 10), 10, "raw_clear on PROT_NONE");
	CHECK_EQ(raw_strncpy(s, g + PG, sizeof(s)), -1, "raw_strncpy from PROT_NONE");
	memcpy(g + PG - 3, "abc", 3);
	CHECK_EQ(raw_strncpy(s, g + PG - 3, sizeof(s)), -1, "raw_strncpy runs into PROT_NONE");
	CHECK_EQ(raw_strncpy(s, g + PG - 3, 3), 3, "raw_strncpy stops before PROT_NONE");
	CHECK_EQ(raw_strncpy(g + PG - 2, "xyz", 4), -1, "raw_strncpy to PROT_NONE");
	old = 0;
	CHECK_EQ(raw_cmpxchg32((uint32_t *)(g + PG), &old, 1), -EFAULT, "raw_cmpxchg32 on PROT_NONE");
	CHECK_EQ(raw_load32((uint32_t *)(g + PG), &out), -EFAULT, "raw_load32 on PROT_NONE");
	CHECK(munmap(g + PG, PG) == 0, "munmap");
	CHECK_EQ(raw_copy(g + PG - 1, src, 2), 1, "raw_copy to an unmapped page");
	CHECK_EQ(raw_load32((uint32_t *)(g + PG), &out), -EFAULT, "raw_load32 on unmapped");
	CHECK_EQ(raw_cmpxchg32((uint32_t *)(g + PG), &old, 1), -EFAULT, "raw_cmpxchg32 on unmapped");
	CHECK_EQ(raw_load32((uint32_t *)0x8000000000000000ull, &out), -EFAULT,
		 "raw_load32 on a non-canonical address (#GP)");
	CHECK_EQ(raw_copy(dst, NULL, 8), 8, "raw_copy from NULL");

	pthread_t th;
	void *ret;
	pthread_create(&th, NULL, thread_fault, g + PG);
	pthread_join(th, &ret);
	CHECK_EQ((size_t)ret, 16, "fixup in another thread");

	/* Kernel bugs: Oops report, exit status 70. */
	static char buf[65536];
	CHECK_EQ(run_child(null_deref, buf, sizeof(buf)), 70, "NULL dereference exits 70");
	CHECK(strstr(buf, "cocoon: Oops: SIGSEGV (code 1) at address 0x0, in thread"),
	      "Oops header");
	CHECK(strstr(buf, "RIP: ") && strstr(buf, "Backtrace:"), "registers and backtrace");
	CHECK_EQ(run_child(overflow, buf, sizeof(buf)), 70, "stack overflow exits 70");
	CHECK(strstr(buf, "Oops") && strstr(buf, "stack overflow?"), "stack overflow Oops");
	CHECK_EQ(run_child(sent_signal, buf, sizeof(buf)), 70, "raise(SIGSEGV) exits 70");
	CHECK(strstr(buf, "Oops: SIGSEGV") && strstr(buf, "sent by pid"), "sent signal Oops");
	CHECK_EQ(run_child(explicit_oops, buf, sizeof(buf)), 70, "oops() exits 70");
	CHECK(strstr(buf, "cocoon: Oops: test message, in thread") && strstr(buf, "HOOK\n"),
	      "oops() report, oops_hook called");
	CHECK_EQ(run_child(fault_in_hook, buf, sizeof(buf)), 70, "fault in oops_hook exits 70");
	CHECK(strstr(buf, "fault during the Oops report"), "nested fault reported");
	if (check_failures)
		fputs(buf, stdout);
	CHECK_DONE();
}
