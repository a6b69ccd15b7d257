/* fork's copy of an address space, and copy-on-write.
 *
 * After fork both address spaces hold the same memory-file pages of every
 * private mapping (memfile_ref) and their VMAs are marked cow: the host
 * maps them read-only whatever the guest's protection says. A write then
 * faults into the kernel, which gives the faulting address space its own
 * copy of the pages around the fault (or just write access, if nobody
 * else holds them any more) and resumes the guest. MAP_SHARED mappings
 * simply stay shared. Kernel writes into guest memory break the sharing
 * the same way first (mm_cow_break), so they never reach the other side. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mm/mm.h"
#include "mm/memfile.h"
#include "mm/mlock.h"
#include "mm/vma_name.h"
#include "platform/platform.h"
#include "fs/file.h"

/* A write fault copies this much around the fault (aligned, within the
 * VMA): fewer traps for memory written in order, little copied in vain. */
#define COW_CHUNK (16 * PAGE_SIZE)
/* A VMA up to this size is checked whole: if nobody shares its pages any
 * more (the child exec'd or exited), one fault makes it all writable. */
#define COW_WHOLE_MAX (2UL << 20)

/* Private writable memory up to this size is copied at fork instead of
 * shared: a program's data and bss, its TLS, a small heap. The child
 * would write most of it at once, and every copy-on-write fault costs a
 * round trip to the host process's control thread. */
#define FORK_COPY_MAX (256UL << 10)

/* Whether the child gets its own copy of v at fork. */
static bool copy_at_fork(const struct vma *v)
{
	return (v->flags & MAP_PRIVATE) && (v->prot & PROT_WRITE) && v->kind != VMA_VVAR &&
	       v->off != NO_BACKING && v->end - v->start <= FORK_COPY_MAX;
}

/* Whether [off, off+len) of the memory file holds no page at all (never
 * touched): the child may then start from fresh zero pages instead of
 * sharing, which spares both sides copy-on-write (the unused part of a
 * stack, a large untouched heap). */
static bool never_touched(uint64_t off, size_t len)
{
	off_t data = lseek(memfile.fd, (off_t)off, SEEK_DATA);
	return (data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= off + len);
}

/* The parent's writable private memory that is not copy-on-write yet
 * (the host lets it be written): with prot, give it that protection in
 * the host. */
static int protect_private_writable(struct mm *parent, bool writable)
{
	int err = 0;
	for (size_t i = 0; i < parent->vmas.n && !err; i++) {
		struct vma *v = &parent->vmas.v[i];
		if ((v->flags & MAP_PRIVATE) && (v->prot & PROT_WRITE) && !v->cow && v->off != NO_BACKING &&
		    v->kind != VMA_VVAR)
			err = platform_as_protect(parent->as, v->start, v->end - v->start,
						  writable ? v->prot : v->prot & ~PROT_WRITE);
	}
	return err ? err : platform_as_flush(parent->as);
}

struct mm *mm_fork(struct mm *parent, struct platform_as *as, gaddr_t sp, bool others_run)
{
	struct mm *mm = mm_new(as);
	if (!mm)
		return NULL;
	pthread_rwlock_wrlock(&parent->lock);
	/* The stack around sp is copied too: the child writes it first. */
	gaddr_t sp_lo = (sp & ~(COW_CHUNK - 1)) - COW_CHUNK, sp_hi = sp_lo + 2 * COW_CHUNK;
	struct vma *sv = vma_find(&parent->vmas, sp);
	if (sv && sv->kind == VMA_STACK) {
		gaddr_t end = sv->end; /* a split may move the array */
		if (!vma_split_at(&parent->vmas, MAX(sv->start, sp_lo)))
			vma_split_at(&parent->vmas, MIN(end, sp_hi));
	}
	size_t n = parent->vmas.n;
	mm->vmas.v = malloc(MAX(n, 1) * sizeof(struct vma));
	if (!mm->vmas.v) {
		pthread_rwlock_unlock(&parent->lock);
		mm_put(mm);
		return NULL;
	}
	mm->vmas.cap = MAX(n, 1);
	mm->start_brk = parent->start_brk;
	mm->brk = parent->brk;
	mm->mmap_base = parent->mmap_base;
	mm->start_stack = parent->start_stack;
	mm->arg_start = parent->arg_start;
	mm->arg_end = parent->arg_end;
	mm->env_start = parent->env_start;
	mm->env_end = parent->env_end;
	/* Other threads stop writing here now (their writes fault and wait
	 * for mm->lock); what is copied below is then one instant's. */
	int err = others_run ? protect_private_writable(parent, false) : 0;
	for (size_t i = 0; i < n; i++) {
		struct vma *v = &parent->vmas.v[i];
		struct vma c = *v;
		c.flags &= ~VMA_LOCKED; /* memory locks are not inherited */
		c.name = v->name ? strdup(v->name) : NULL;
		c.anon_name = vma_name_get(v->anon_name);
		if (c.file)
			vma_file_hold(c.file);
		bool at_sp = v->kind == VMA_STACK && v->start >= sp_lo && v->end <= sp_hi;
		if ((copy_at_fork(v) || (at_sp && v->off != NO_BACKING && (v->prot & PROT_WRITE))) &&
		    !memfile_shared(v->off, v->end - v->start)) {
			size_t len = v->end - v->start;
			int64_t copy = memfile_alloc_dirty(len);
			if (copy >= 0) {
				memcpy(memfile_ptr((uint64_t)copy), memfile_ptr(v->off), len);
				c.off = (uint64_t)copy;
				c.cow = false;
				mm->vmas.v[mm->vmas.n++] = c;
				if (!err)
					err = mm_host_map(mm, &c);
				continue;
			}
		}
		if ((v->flags & MAP_PRIVATE) && v->off != NO_BACKING && v->kind != VMA_VVAR && !v->file &&
		    never_touched(v->off, v->end - v->start)) {
			int64_t fresh = memfile_alloc(v->end - v->start);
			if (fresh >= 0) {
				c.off = (uint64_t)fresh;
				c.cow = false;
				mm->vmas.v[mm->vmas.n++] = c;
				if (!err)
					err = mm_host_map(mm, &c);
				continue;
			}
		}
		if (v->off != NO_BACKING && v->kind != VMA_VVAR) {
			size_t len = v->end - v->start;
			memfile_ref(v->off, len);
			if (v->flags & MAP_PRIVATE) {
				if (!v->cow && (v->prot & PROT_WRITE))
					err = err ? err : platform_as_protect(parent->as, v->start, len,
									      v->prot & ~PROT_WRITE);
				v->cow = c.cow = true;
			}
		}
		mm->vmas.v[mm->vmas.n++] = c;
		if (!err)
			err = mm_host_map(mm, &c);
	}
	/* From here on the parent's writes fault: the child's copy is taken.
	 * What the child got a copy of is writable again (not copy-on-write).
	 * The child's orders go with its thread's. */
	int perr = others_run ? protect_private_writable(parent, true) : platform_as_flush(parent->as);
	pthread_rwlock_unlock(&parent->lock);
	if (err || perr) {
		mm->as = NULL; /* the caller owns as */
		mm_put(mm);
		return NULL;
	}
	return mm;
}

/* Give the VMA v (all of it) its own pages: a copy if any page is still
 * shared, else just write access. Caller holds mm->lock for writing. */
static int unshare_vma(struct mm *mm, struct vma *v, bool copy_pages)
{
	size_t len = v->end - v->start;
	if (!memfile_shared(v->off, len)) {
		v->cow = false;
		return platform_as_protect(mm->as, v->start, len, v->prot);
	}
	int64_t copy = copy_pages ? memfile_alloc_dirty(len) : memfile_alloc(len);
	if (copy < 0)
		return (int)copy;
	if (copy_pages)
		memcpy(memfile_ptr((uint64_t)copy), memfile_ptr(v->off), len);
	uint64_t old = v->off;
	v->off = (uint64_t)copy;
	v->cow = false;
	int err = mm_host_map(mm, v);
	/* Our reference to the old pages goes only once the host maps the
	 * copy in their place. */
	if (!err)
		err = platform_as_flush(mm->as);
	memfile_free(old, len);
	return err;
}

static bool needs_cow(const struct vma *v)
{
	return v->cow && (v->prot & PROT_WRITE) && v->off != NO_BACKING;
}

/* Unshare [start, end) of the VMAs there (page aligned). */
static int unshare_range(struct mm *mm, gaddr_t start, gaddr_t end, bool copy_pages)
{
	int err = 0;
	gaddr_t at = start;
	while (at < end && !err) {
		size_t i = vma_index_after(&mm->vmas, at);
		if (i >= mm->vmas.n || mm->vmas.v[i].start >= end)
			break;
		struct vma *v = &mm->vmas.v[i];
		gaddr_t s = MAX(v->start, at), e = MIN(v->end, end);
		at = e;
		if (!needs_cow(v))
			continue;
		if ((err = vma_split_at(&mm->vmas, s)) || (err = vma_split_at(&mm->vmas, e)))
			break;
		err = unshare_vma(mm, vma_find(&mm->vmas, s), copy_pages);
	}
	vma_merge_around(&mm->vmas, start, end);
	return err;
}

/* After a fork the child soon execs or exits, and the parent's pages are
 * its own again; the parent would then fault once per mapping to find
 * out. On a fault, give back write access to every small mapping nobody
 * shares any more, in the same batch of orders. */
static void reclaim_unshared(struct mm *mm)
{
	for (size_t i = 0; i < mm->vmas.n; i++) {
		struct vma *v = &mm->vmas.v[i];
		size_t len = v->end - v->start;
		if (needs_cow(v) && len <= COW_WHOLE_MAX && !memfile_shared(v->off, len)) {
			v->cow = false;
			platform_as_protect(mm->as, v->start, len, v->prot);
		}
	}
	vma_merge_around(&mm->vmas, 0, GUEST_TASK_SIZE);
}

bool mm_cow_fault(struct mm *mm, gaddr_t addr)
{
	pthread_rwlock_wrlock(&mm->lock);
	struct vma *v = vma_find(&mm->vmas, addr);
	bool ours = v && needs_cow(v);
	int err = 0;
	if (ours) {
		size_t len = v->end - v->start;
		if (len <= COW_WHOLE_MAX && !memfile_shared(v->off, len)) {
			v->cow = false;
			err = platform_as_protect(mm->as, v->start, len, v->prot);
			vma_merge_around(&mm->vmas, v->start, v->end);
		} else {
			gaddr_t s = MAX(v->start, addr & ~(COW_CHUNK - 1));
			gaddr_t e = MIN(v->end, (addr & ~(COW_CHUNK - 1)) + COW_CHUNK);
			err = unshare_range(mm, s, e, true);
		}
		if (err)
			klog("copy-on-write at %#lx failed (%s)", (unsigned long)addr, strerror(-err));
		else
			reclaim_unshared(mm);
	}
	pthread_rwlock_unlock(&mm->lock);
	return ours && !err;
}

bool mm_fault_stale(struct mm *mm, gaddr_t addr, uint64_t err)
{
	enum { PF_WRITE = 2, PF_INSTR = 16 };
	pthread_rwlock_rdlock(&mm->lock);
	struct vma *v = vma_find(&mm->vmas, addr);
	int need = (err & PF_WRITE) ? PROT_WRITE : (err & PF_INSTR) ? PROT_EXEC : PROT_READ;
	bool stale = v && (v->prot & need) && !((err & PF_WRITE) && needs_cow(v)) &&
		     !(v->kind == VMA_FILE && v->off == NO_BACKING && !v->image);
	pthread_rwlock_unlock(&mm->lock);
	return stale;
}

int mm_cow_break(struct mm *mm, gaddr_t addr, size_t len)
{
	if (addr + len < addr)
		return -EFAULT;
	pthread_rwlock_wrlock(&mm->lock);
	int err = unshare_range(mm, addr & PAGE_MASK, PAGE_ALIGN(addr + len), true);
	if (!err)
		err = platform_as_flush(mm->as);
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

int mm_cow_drop_locked(struct mm *mm, gaddr_t start, gaddr_t end)
{
	return unshare_range(mm, start, end, false);
}
