/* Resident set of an address space and its high-water mark (Linux's
 * hiwater_rss, what getrusage's ru_maxrss reports). Resident means held
 * by the memory file under a mapping, as /proc/<pid>/status's VmRSS
 * counts it. Memory only becomes resident when the guest touches it
 * (faults the host resolves, unseen here), so like Linux the mark is
 * brought up to date lazily: before memory is given back (a large
 * munmap or MADV_DONTNEED, exec, exit) and whenever it is read. */
#include <errno.h>
#include <unistd.h>
#include "mm/mm.h"
#include "mm/memfile.h"
#include "mm/vma.h"

uint64_t memfile_resident(uint64_t off, uint64_t len)
{
	if (off == NO_BACKING)
		return 0;
	uint64_t n = 0;
	off_t pos = (off_t)off, end = (off_t)(off + len);
	while (pos < end) {
		off_t d = lseek(memfile.fd, pos, SEEK_DATA);
		if (d < 0 || d >= end)
			break;
		off_t h = lseek(memfile.fd, d, SEEK_HOLE);
		if (h < 0 || h > end)
			h = end;
		n += h - d;
		pos = h;
	}
	return n;
}

uint64_t mm_rss_locked(struct mm *mm)
{
	uint64_t n = 0;
	for (size_t k = 0; k < mm->vmas.n; k++) {
		const struct vma *v = &mm->vmas.v[k];
		n += memfile_resident(v->off, v->end - v->start);
	}
	return n;
}

uint64_t mm_hiwater_update_locked(struct mm *mm)
{
	uint64_t rss = mm_rss_locked(mm);
	uint64_t old = __atomic_load_n(&mm->hiwater_rss, __ATOMIC_RELAXED);
	while (old < rss && !__atomic_compare_exchange_n(&mm->hiwater_rss, &old, rss, false,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return old > rss ? old : rss;
}

uint64_t mm_hiwater_rss(struct mm *mm)
{
	pthread_rwlock_rdlock(&mm->lock);
	uint64_t hw = mm_hiwater_update_locked(mm);
	pthread_rwlock_unlock(&mm->lock);
	return hw;
}
