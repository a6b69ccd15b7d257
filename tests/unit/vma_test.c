/* VMA list and address-space operations, without a host process. */
#include <string.h>
#include <sys/mman.h>
#include "tests/unit/check.h"
#include "mm/mm.h"
#include "mm/memfile.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

static struct process proc;
static struct thread thr;

int main(void)
{
	CHECK_EQ(memfile_init(), 0, "memfile_init");
	struct mm *mm = mm_new(NULL);
	proc.mm = mm;
	thr.proc = &proc;
	current = &thr;
	mm->mmap_base = 0x7f0000000000UL;

	long a = mm_mmap_anon(mm, 0, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_ANON);
	CHECK(a > 0 && PAGE_ALIGNED((unsigned long)a), "anonymous mapping placed at %#lx", a);
	CHECK_EQ(a + 16 * PAGE_SIZE, 0x7f0000000000UL, "top-down below mmap_base");
	CHECK_EQ(mm->vmas.n, 1, "one VMA");

	/* Punch a hole: split into two. */
	CHECK_EQ(mm_munmap(mm, a + 4 * PAGE_SIZE, 2 * PAGE_SIZE), 0, "munmap middle");
	CHECK_EQ(mm->vmas.n, 2, "split into two VMAs");
	CHECK_EQ(mm->vmas.v[0].end, a + 4 * PAGE_SIZE, "low part ends at the hole");
	CHECK_EQ(mm->vmas.v[1].start, a + 6 * PAGE_SIZE, "high part starts after the hole");
	CHECK_EQ(mm->vmas.v[1].off, mm->vmas.v[0].off + 6 * PAGE_SIZE, "backing offset follows the split");

	/* mprotect a piece, then back: merges again. */
	CHECK_EQ(mm_mprotect(mm, a + 8 * PAGE_SIZE, PAGE_SIZE, PROT_READ), 0, "mprotect one page");
	CHECK_EQ(mm->vmas.n, 4, "protection split: 4 VMAs");
	CHECK_EQ(mm_mprotect(mm, a + 8 * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE), 0, "mprotect back");
	CHECK_EQ(mm->vmas.n, 2, "merged back to 2 VMAs");

	/* mprotect across the hole: ENOMEM, first part changed (Linux). */
	CHECK_EQ(mm_mprotect(mm, a, 8 * PAGE_SIZE, PROT_READ), -ENOMEM, "mprotect over a hole: ENOMEM");
	CHECK_EQ(mm->vmas.v[0].prot, PROT_READ, "part before the hole changed");

	/* Translation honours protections. */
	size_t avail;
	CHECK(mm_translate(mm, a, false, &avail) != NULL, "readable page translates for read");
	CHECK(mm_translate(mm, a, true, &avail) == NULL, "read-only page refuses write");
	CHECK(mm_translate(mm, a + 5 * PAGE_SIZE, false, &avail) == NULL, "hole does not translate");

	/* copy_to_guest / copy_from_guest across VMAs and EFAULT at holes. */
	char buf[64] = "hello, guest", out[64];
	gaddr_t hi = a + 6 * PAGE_SIZE;
	CHECK_EQ(copy_to_guest(hi + 10, buf, sizeof(buf)), 0, "copy_to_guest");
	CHECK_EQ(copy_from_guest(out, hi + 10, sizeof(out)), 0, "copy_from_guest");
	CHECK(memcmp(buf, out, sizeof(buf)) == 0, "round trip");
	CHECK_EQ(copy_to_guest(a, buf, 8), -EFAULT, "write to read-only: EFAULT");
	CHECK_EQ(copy_from_guest(out, a + 4 * PAGE_SIZE - 8, 16), -EFAULT, "read across hole: EFAULT");
	CHECK_EQ(strncpy_from_guest(out, hi + 10, sizeof(out)), 12, "strncpy_from_guest length");
	CHECK_EQ(strncpy_from_guest(out, hi + 10, 5), -ENAMETOOLONG, "strncpy_from_guest too long");
	CHECK_EQ(guest_accessible_len(hi, 100 * PAGE_SIZE, true), 10 * PAGE_SIZE, "accessible length stops at the end");

	/* FIXED_NOREPLACE over an existing mapping. */
	CHECK_EQ(mm_mmap_anon(mm, a, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, VMA_ANON), -EEXIST,
		 "MAP_FIXED_NOREPLACE over a mapping: EEXIST");
	/* MAP_FIXED replaces and fresh memory reads zero. */
	CHECK_EQ(mm_mmap_anon(mm, hi, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, VMA_ANON),
		 (long)hi, "MAP_FIXED replaces");
	CHECK_EQ(copy_from_guest(out, hi + 10, 8), 0, "read replaced page");
	CHECK(out[0] == 0, "replaced page reads zero");

	/* PROT_NONE reservations take no memory until made accessible. */
	size_t before = memfile_allocated();
	long r = mm_mmap_anon(mm, 0, 1UL << 30, PROT_NONE, MAP_PRIVATE, VMA_ANON);
	CHECK(r > 0, "1 GiB PROT_NONE reservation");
	CHECK_EQ(memfile_allocated(), before, "reservation allocates no backing");
	CHECK_EQ(mm_mprotect(mm, (gaddr_t)r, PAGE_SIZE, PROT_READ | PROT_WRITE), 0, "commit one page");
	CHECK_EQ(memfile_allocated(), before + PAGE_SIZE, "committing allocates just that page");

	/* Unmapping everything returns all memory. */
	mm_put(mm);
	CHECK_EQ(memfile_allocated(), 0, "all memory returned after mm_put");
	CHECK_DONE();
}
