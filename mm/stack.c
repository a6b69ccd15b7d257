/* How much of the stack reservation Linux would have mapped by now: what
 * /proc shows as [stack] and RLIMIT_AS counts (see mm/mm.h). */
#include <unistd.h>
#include "mm/memfile.h"
#include "mm/mm.h"

/* Linux's stack VMA starts 128 KiB below the page of the argument
 * strings (setup_arg_pages) and grows down as the program touches pages
 * below it; cocoon's stack is one VMA of the whole limit from the start.
 * So [stack] is shown from the lower of that start and the lowest page
 * the program used: the memory file's lowest page below it holding
 * anything but zeros (a fork child's copy of the pages around its stack
 * pointer holds zeros where the parent never wrote). */
#define STACK_EXPAND (128UL << 10)

static bool page_is_zero(const void *p)
{
	const uint64_t *w = p;
	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i])
			return false;
	return true;
}

gaddr_t mm_stack_used_lo(const struct vma *v, gaddr_t floor)
{
	if (v->off == NO_BACKING || v->start >= floor)
		return v->end;
	uint64_t end = v->off + (MIN(v->end, floor) - v->start);
	for (uint64_t pos = v->off; pos < end;) {
		off_t d = lseek(memfile.fd, (off_t)pos, SEEK_DATA);
		if (d < 0 || (uint64_t)d >= end)
			break;
		uint64_t page = (uint64_t)d & PAGE_MASK;
		if (!page_is_zero(memfile_ptr(page)))
			return v->start + (page - v->off);
		pos = page + PAGE_SIZE;
	}
	return v->end;
}

gaddr_t mm_stack_floor(const struct mm *mm)
{
	return mm->arg_start > STACK_EXPAND + PAGE_SIZE ? (mm->arg_start & PAGE_MASK) - STACK_EXPAND : 0;
}

gaddr_t mm_stack_start(struct mm *mm, gaddr_t *reserved)
{
	gaddr_t floor = mm_stack_floor(mm), lo = GUEST_TASK_SIZE, start = 0;
	*reserved = 0;
	if (!floor)
		return 0;
	/* The run of stack pieces holding start_stack, as /proc merges it. */
	size_t i = vma_index_after(&mm->vmas, mm->start_stack);
	if (i >= mm->vmas.n || mm->vmas.v[i].start > mm->start_stack || mm->vmas.v[i].kind != VMA_STACK)
		return 0;
	while (i > 0 && mm->vmas.v[i - 1].kind == VMA_STACK && mm->vmas.v[i - 1].end == mm->vmas.v[i].start)
		i--;
	start = *reserved = mm->vmas.v[i].start;
	for (; i < mm->vmas.n && mm->vmas.v[i].kind == VMA_STACK && mm->vmas.v[i].start < floor; i++)
		lo = MIN(lo, mm_stack_used_lo(&mm->vmas.v[i], floor));
	return MAX(start, MIN(floor, lo));
}
