/* What a shared futex is keyed by (Linux's get_futex_key for a futex
 * without FUTEX_PRIVATE_FLAG): a word in MAP_SHARED memory is the same
 * futex for every process that maps it, wherever it maps it, so it is
 * keyed by its place in the memory file; a word in private memory belongs
 * to its address space. */
#include <sys/mman.h>
#include "mm/mm.h"
#include "mm/hostmap.h"
#include "mm/memfile.h"

int mm_futex_backing(struct mm *mm, gaddr_t addr, bool write, uint64_t *off)
{
	int ret = -EFAULT;
	pthread_rwlock_rdlock(&mm->lock);
	struct vma *v = vma_find(&mm->vmas, addr);
	/* Linux's get_user_pages fails on PROT_NONE, on special mappings
	 * ([vvar]) and on pages that are gone (truncated shared files). */
	if (v && v->image && (v->prot & (PROT_READ | PROT_EXEC)) && !write) {
		/* A host file's page: keyed by the kernel's mapping of it,
		 * which lies far above any memory-file offset. */
		*off = (uint64_t)(uintptr_t)(v->image->base + v->file_off + (addr - v->start));
		ret = *off >= MEMFILE_SIZE ? 1 : -EFAULT;
		goto out;
	}
	if (!v || v->off == NO_BACKING || v->kind == VMA_VVAR ||
	    !(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) || (write && !(v->prot & PROT_WRITE)))
		goto out;
	if (v->flags & MAP_SHARED) {
		*off = v->off + (addr - v->start);
		ret = 1;
	} else if (v->prot & PROT_WRITE) {
		ret = 0; /* an anonymous page after copy-on-write: the mm's */
	} else if (v->kind == VMA_FILE) {
		/* A read-only private file page is the page cache's: keyed
		 * like a shared one (Linux: the inode and page index). */
		*off = v->off + (addr - v->start);
		ret = 1;
	}
	/* A read-only anonymous page never changes: Linux refuses it. */
out:
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}
