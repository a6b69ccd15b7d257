/* Resident set of an address space and its high-water mark (Linux's
 * hiwater_rss, what getrusage's ru_maxrss reports). Resident means held
 * by the memory file under a mapping, as /proc/<pid>/status's VmRSS
 * counts it. Memory only becomes resident when the guest touches it
 * (faults the host resolves, unseen here), so like Linux the mark is
 * brought up to date lazily: before memory is given back (a large
 * munmap or MADV_DONTNEED, exec, exit) and whenever it is read.
 *
 * Counting is the cost (every process exit pays it): SEEK_DATA and
 * SEEK_HOLE take some 70 ns a page, cachestat(2) some 10. But cachestat
 * also counts pages a guest's fallocate(2) allocated in a file of its
 * own (not up to date, holes to SEEK_DATA), so shared file mappings are
 * counted the slow way. */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "mm/mm.h"
#include "mm/memfile.h"
#include "mm/hostmap.h"
#include "mm/vma.h"

#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif

/* cachestat(2)'s structs (Linux 6.5+, include/uapi/linux/mman.h). */
struct host_cachestat_range {
	uint64_t off, len;
};
struct host_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static bool no_cachestat;

int64_t host_file_cached(int fd, uint64_t off, uint64_t len)
{
	if (__atomic_load_n(&no_cachestat, __ATOMIC_RELAXED))
		return -1;
	struct host_cachestat_range r = { off, len };
	struct host_cachestat cs;
	if (syscall(SYS_cachestat, fd, &r, &cs, 0) == 0)
		return (int64_t)(cs.nr_cache * PAGE_SIZE);
	if (errno == ENOSYS || errno == EPERM)
		__atomic_store_n(&no_cachestat, true, __ATOMIC_RELAXED);
	return -1;
}

/* The memory file's pages in [off, off + len) by cachestat: about 10 ns
 * a page, some seven times faster than SEEK_DATA/SEEK_HOLE. -1 if the
 * host has no cachestat. */
static int64_t cachestat_resident(uint64_t off, uint64_t len)
{
	return host_file_cached(memfile.fd, off, len);
}

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

/* A file's own pages, which its fallocate may have allocated unwritten. */
static bool may_hold_fallocated(const struct vma *v)
{
	return v->kind == VMA_FILE && (v->flags & MAP_SHARED);
}

/* Resident bytes of v's part [start, end). */
static uint64_t vma_resident(const struct vma *v, gaddr_t start, gaddr_t end)
{
	start = MAX(start, v->start);
	end = MIN(end, v->end);
	if (v->image && start < end)
		return host_image_resident(v->image, v->file_off + (start - v->start), end - start);
	if (v->off == NO_BACKING || start >= end)
		return 0;
	uint64_t off = v->off + (start - v->start), len = end - start;
	int64_t fast = may_hold_fallocated(v) ? -1 : cachestat_resident(off, len);
	return fast >= 0 ? (uint64_t)fast : memfile_resident(off, len);
}

/* Whether b's backing continues a's, so that one count covers both. */
static bool backing_continues(const struct vma *a, const struct vma *b)
{
	uint64_t len = a->end - a->start;
	if (a->end != b->start || may_hold_fallocated(a) != may_hold_fallocated(b))
		return false;
	if (a->image || b->image)
		return a->image == b->image && b->file_off == a->file_off + len;
	return a->off != NO_BACKING && b->off == a->off + len;
}

uint64_t mm_rss_locked(struct mm *mm)
{
	/* Each count is a host call: neighbours whose backing runs on (a
	 * library's text and rodata in one host image, a data copy that
	 * mprotect split) are counted together, the same sum with about
	 * half the calls (exit, exec and getrusage count). */
	uint64_t n = 0;
	for (size_t k = 0; k < mm->vmas.n;) {
		struct vma run = mm->vmas.v[k++];
		while (k < mm->vmas.n && backing_continues(&run, &mm->vmas.v[k]))
			run.end = mm->vmas.v[k++].end;
		n += vma_resident(&run, 0, GUEST_TASK_SIZE);
	}
	return n;
}

void mm_hiwater_before_drop_locked(struct mm *mm, gaddr_t start, gaddr_t end)
{
	if (end - start < RSS_HIWATER_MIN)
		return;
	/* glibc drops the unused part of an exiting thread's stack: mostly
	 * never touched, and then not worth a count of the whole memory. */
	uint64_t dropping = 0;
	for (size_t k = 0; k < mm->vmas.n && !dropping; k++) {
		const struct vma *v = &mm->vmas.v[k];
		if (v->end > start && v->start < end)
			dropping = vma_resident(v, start, end);
	}
	if (dropping)
		mm_hiwater_update_locked(mm);
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
