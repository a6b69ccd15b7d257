/* Memory system calls: argument checks in Linux's order, then mm/mm.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/mman.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "mm/memfile.h"
#include "mm/mlock.h"
#include "mm/vma_name.h"
#include "platform/platform.h"
#include "fs/file.h"

#define PROT_ALL (PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)

static struct mm *cur_mm(void) { return current->proc->mm; }

static long mmap_checked(gaddr_t addr, uint64_t len, int prot, int flags, int type, struct file *file,
			 uint64_t off);

long sys_mmap(const struct sysargs *a)
{
	gaddr_t addr = a->a[0];
	uint64_t len = a->a[1], off = a->a[5];
	int prot = (int)a->a[2], flags = (int)a->a[3];

	if (off & ~PAGE_MASK)
		return -EINVAL;
	int type = flags & MAP_TYPE;
	if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	struct file *file = NULL;
	if (!(flags & MAP_ANONYMOUS)) {
		file = fget((int)a->a[4]);
		if (!file)
			return -EBADF;
	}
	long ret = mmap_checked(addr, len, prot, flags, type, file, off);
	if (file)
		fput(file);
	return ret;
}

/* ---- RLIMIT_AS and RLIMIT_DATA ---- */

/* Linux's data mapping: private, writable, not a stack growing down. */
static bool is_data_mapping(int prot, int flags)
{
	return (prot & PROT_WRITE) && !(flags & MAP_SHARED) && !(flags & MAP_GROWSDOWN);
}

/* Bytes of VMAs within [start, end): all of them, and data mappings
 * (the stack is not, as /proc's VmData). Of the stack reservation from
 * `reserved`, only what lies above stack_lo (mm_stack_start) counts. */
static void vm_usage(struct mm *mm, gaddr_t start, gaddr_t end, gaddr_t stack_lo, gaddr_t reserved,
		     uint64_t *total, uint64_t *data)
{
	*total = *data = 0;
	for (size_t i = vma_index_after(&mm->vmas, start); i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		if (v->start >= end)
			break;
		gaddr_t lo = MAX(v->start, start), hi = MIN(v->end, end);
		if (stack_lo && v->kind == VMA_STACK && v->start >= reserved)
			lo = MAX(lo, stack_lo);
		if (hi <= lo)
			continue;
		uint64_t n = hi - lo;
		*total += n;
		if (is_data_mapping(v->prot, v->flags) && v->kind != VMA_STACK)
			*data += n;
	}
}

/* Linux's may_expand_vm: whether mm may grow by len bytes of a mapping
 * with prot and flags under RLIMIT_AS and (a data mapping) RLIMIT_DATA;
 * what [rstart, rend) holds now does not count (MAP_FIXED replaces it,
 * as mmap_region's second try). mm->lock held. */
static bool may_expand_vm(struct mm *mm, uint64_t len, int prot, int flags, gaddr_t rstart, gaddr_t rend)
{
	const struct rlimit *lim = current->proc->rlimits;
	rlim_t as = lim[RLIMIT_AS].rlim_cur, data = lim[RLIMIT_DATA].rlim_cur;
	bool data_map = is_data_mapping(prot, flags);
	if (as == RLIM_INFINITY && (data == RLIM_INFINITY || !data_map))
		return true;
	uint64_t total, dvm, rtotal = 0, rdata;
	gaddr_t reserved, stack_lo = mm_stack_start(mm, &reserved);
	vm_usage(mm, 0, GUEST_TASK_SIZE, stack_lo, reserved, &total, &dvm);
	if (rend > rstart)
		vm_usage(mm, rstart, rend, stack_lo, reserved, &rtotal, &rdata);
	uint64_t pages = (len - MIN(len, rtotal)) / PAGE_SIZE;
	if (as != RLIM_INFINITY && total / PAGE_SIZE + pages > as / PAGE_SIZE)
		return false;
	if (data_map && data != RLIM_INFINITY && dvm / PAGE_SIZE + pages > data / PAGE_SIZE) {
		/* Linux lets RLIMIT_DATA 0 mean "only the hard limit" (Valgrind). */
		rlim_t max = lim[RLIMIT_DATA].rlim_max;
		return data == 0 && (max == RLIM_INFINITY || dvm / PAGE_SIZE + pages <= max / PAGE_SIZE);
	}
	return true;
}

static long mmap_checked(gaddr_t addr, uint64_t len, int prot, int flags, int type, struct file *file,
			 uint64_t off)
{
	if (len == 0)
		return -EINVAL;
	if (prot & ~(PROT_ALL | PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	uint64_t plen = PAGE_ALIGN(len);
	if (plen == 0 || plen > GUEST_TASK_SIZE)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & ~PAGE_MASK)
			return -EINVAL;
		if (addr < GUEST_MIN_ADDR)
			return -EPERM;
		if (addr + plen > GUEST_TASK_SIZE)
			return -ENOMEM;
	} else {
		addr &= PAGE_MASK;
	}
	if (file) {
		if (off + plen < off)
			return -EOVERFLOW;
		int acc = file->flags & O_ACCMODE;
		if (acc == O_WRONLY)
			return -EACCES;
		if (type != MAP_PRIVATE && (prot & PROT_WRITE) && acc != O_RDWR)
			return -EACCES;
		if (file->ops->mmap_anonymous)
			file = NULL;
		else if (!S_ISREG(file->type))
			return -ENODEV;
	}
	int mflags = (type == MAP_PRIVATE ? MAP_PRIVATE : MAP_SHARED) |
		     (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_GROWSDOWN | MAP_NORESERVE));
	prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	bool lock;
	long ret = mlock_mmap_check(mm, flags, plen, &lock);
	bool fixed = flags & MAP_FIXED;
	if (!ret && !may_expand_vm(mm, plen, prot, mflags, fixed ? addr : 0, fixed ? addr + plen : 0))
		ret = -ENOMEM;
	if (!ret)
		ret = file ? mm_mmap_file(mm, addr, plen, prot, mflags, file, off)
			   : mm_mmap_anon(mm, addr, plen, prot, mflags | (flags & MAP_STACK),
					  (flags & MAP_GROWSDOWN) ? VMA_STACK : VMA_ANON);
	if (lock && !IS_ERR_VALUE(ret))
		mlock_mmap_done(mm, (gaddr_t)ret, plen);
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

long sys_munmap(const struct sysargs *a)
{
	gaddr_t addr = a->a[0];
	uint64_t len = PAGE_ALIGN(a->a[1]);
	if ((addr & ~PAGE_MASK) || a->a[1] == 0 || len == 0 || addr + len > GUEST_TASK_SIZE ||
	    addr + len < addr)
		return -EINVAL;
	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	mm_hiwater_before_drop_locked(mm, addr, addr + len); /* the peak before it goes */
	long ret = mm_munmap(mm, addr, len);
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

long sys_mprotect(const struct sysargs *a)
{
	gaddr_t addr = a->a[0];
	int prot = (int)a->a[2];
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	if (prot & ~(PROT_ALL | PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if ((prot & PROT_GROWSDOWN) && (prot & PROT_GROWSUP))
		return -EINVAL;
	if (a->a[1] == 0)
		return 0;
	uint64_t len = PAGE_ALIGN(a->a[1]);
	if (len == 0 || addr + len < addr)
		return -ENOMEM;
	if (addr + len > GUEST_TASK_SIZE)
		return -ENOMEM;
	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	long ret = mm_mprotect(mm, addr, len, prot & (PROT_READ | PROT_WRITE | PROT_EXEC));
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

long sys_brk(const struct sysargs *a)
{
	struct mm *mm = cur_mm();
	gaddr_t want = a->a[0];
	pthread_rwlock_wrlock(&mm->lock);
	gaddr_t cur = mm->brk;
	/* Any failure leaves brk where it was, and the call returns it. */
	if (want >= mm->start_brk && want < GUEST_TASK_SIZE) {
		gaddr_t newtop = PAGE_ALIGN(want), oldtop = PAGE_ALIGN(cur);
		if (newtop < oldtop) {
			if (mm_munmap(mm, newtop, oldtop - newtop) == 0)
				mm->brk = want;
		} else if (newtop == oldtop) {
			mm->brk = want;
		} else if (vma_range_free(&mm->vmas, oldtop, newtop) &&
			   may_expand_vm(mm, newtop - oldtop, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0, 0)) {
			bool lock;
			long r = mlock_mmap_check(mm, 0, newtop - oldtop, &lock);
			if (r == 0)
				r = mm_mmap_anon(mm, oldtop, newtop - oldtop, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_FIXED, VMA_HEAP);
			if (r >= 0)
				mm->brk = want;
			if (r >= 0 && lock)
				mlock_mmap_done(mm, oldtop, newtop - oldtop);
		}
	}
	long ret = (long)mm->brk;
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

/* Move [old, old+len) to new, keeping its backing: the pages are not
 * copied, the same memory-file ranges are mapped at the new place. */
static long move_range(struct mm *mm, gaddr_t old, size_t len, gaddr_t new)
{
	if (vma_split_at(&mm->vmas, old) || vma_split_at(&mm->vmas, old + len))
		return -ENOMEM;
	size_t i = vma_index_after(&mm->vmas, old), n = 0;
	while (i + n < mm->vmas.n && mm->vmas.v[i + n].start < old + len)
		n++;
	struct vma *pieces = malloc(n * sizeof(*pieces));
	if (!pieces)
		return -ENOMEM;
	/* The pieces take over the file references and names: clear them in
	 * the list so removing it does not drop them. */
	for (size_t j = 0; j < n; j++) {
		pieces[j] = mm->vmas.v[i + j];
		mm->vmas.v[i + j].file = NULL;
		mm->vmas.v[i + j].name = NULL;
		mm->vmas.v[i + j].anon_name = NULL;
	}
	vma_remove_range(&mm->vmas, old, old + len, NULL, NULL);
	platform_as_unmap(mm->as, old, len);
	long ret = (long)new;
	for (size_t j = 0; j < n; j++) {
		struct vma *v = &pieces[j];
		v->start = new + (v->start - old);
		v->end = new + (v->end - old);
		if (vma_insert(&mm->vmas, v)) {
			/* Cannot happen (the target was unmapped); never leak
			 * backing into nowhere: give it back once unmapped. */
			kdebug("mremap: lost a piece while moving");
			ret = -ENOMEM;
			continue;
		}
		mm_host_map(mm, v);
	}
	vma_merge_around(&mm->vmas, new, new + len);
	free(pieces);
	return ret;
}

/* End of the run of adjacent pieces that Linux would see as v's VMA. */
static gaddr_t logical_vma_end(struct mm *mm, struct vma *v)
{
	if (!v)
		return 0;
	struct vma *last = &mm->vmas.v[mm->vmas.n - 1];
	while (v < last && v[1].start == v->end && v[1].prot == v->prot && v[1].flags == v->flags &&
	       v[1].kind == v->kind)
		v++;
	return v->end;
}

long sys_mremap(const struct sysargs *a)
{
	gaddr_t old = a->a[0], new_addr = a->a[4];
	uint64_t old_len = PAGE_ALIGN(a->a[1]), new_len = PAGE_ALIGN(a->a[2]);
	int flags = (int)a->a[3];

	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (flags & MREMAP_DONTUNMAP)
		return -EINVAL; /* not supported yet (Linux: only private anon) */
	if (old & ~PAGE_MASK)
		return -EINVAL;
	if (!new_len || (a->a[2] && !new_len) || (a->a[1] && !old_len))
		return -EINVAL;
	if (old_len == 0)
		return -EINVAL; /* duplicating a shared mapping: not supported */
	if (old + old_len > GUEST_TASK_SIZE || old + old_len < old)
		return -EFAULT;
	if (flags & MREMAP_FIXED) {
		/* Written so nothing wraps: new_addr + new_len could. */
		if ((new_addr & ~PAGE_MASK) || new_len > GUEST_TASK_SIZE || new_addr < GUEST_MIN_ADDR ||
		    new_addr > GUEST_TASK_SIZE - new_len)
			return -EINVAL;
		if (new_addr < old + old_len && old < new_addr + new_len)
			return -EINVAL;
	}

	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	long ret;
	struct vma_name *name = NULL; /* the mapping's, for a grown part */
	/* Must lie within one VMA as Linux sees it: ours can be several
	 * pieces with the same attributes (their backing need not be
	 * contiguous, so they do not merge). */
	struct vma *v = vma_find(&mm->vmas, old);
	gaddr_t run_end = logical_vma_end(mm, v);
	if (!v || run_end < old + old_len) {
		ret = -EFAULT;
		goto out;
	}
	struct vma orig = *v;
	orig.end = run_end;
	name = vma_name_get(orig.anon_name);
	if (orig.kind == VMA_VVAR && new_len > old_len) {
		ret = -EFAULT; /* Linux: a VM_PFNMAP mapping cannot grow */
		goto out;
	}
	if (flags & MREMAP_FIXED) {
		mm_munmap(mm, new_addr, new_len);
		if (old_len > new_len) {
			mm_munmap(mm, old + new_len, old_len - new_len);
			old_len = new_len;
		}
		if (new_len > old_len && !may_expand_vm(mm, new_len - old_len, orig.prot, orig.flags, 0, 0)) {
			ret = -ENOMEM; /* Linux's vma_to_resize */
			goto out;
		}
		ret = move_range(mm, old, old_len, new_addr);
		if (ret >= 0 && new_len > old_len &&
		    mm_mmap_anon(mm, new_addr + old_len, new_len - old_len, orig.prot,
				 orig.flags | MAP_FIXED, orig.kind) < 0)
			ret = -ENOMEM;
		goto out;
	}
	if (new_len <= old_len) {
		if (new_len < old_len)
			mm_munmap(mm, old + new_len, old_len - new_len);
		ret = (long)old;
		goto out;
	}
	if (!may_expand_vm(mm, new_len - old_len, orig.prot, orig.flags, 0, 0)) {
		ret = -ENOMEM; /* Linux's vma_to_resize */
		goto out;
	}
	/* Grow: in place if the following range is free, else move. */
	if (old + old_len == orig.end && old + new_len <= GUEST_TASK_SIZE &&
	    vma_range_free(&mm->vmas, old + old_len, old + new_len)) {
		ret = mm_mmap_anon(mm, old + old_len, new_len - old_len, orig.prot, orig.flags | MAP_FIXED,
				   orig.kind);
		ret = ret < 0 ? ret : (long)old;
		goto out;
	}
	if (!(flags & MREMAP_MAYMOVE)) {
		ret = -ENOMEM;
		goto out;
	}
	gaddr_t dest = mm_find_free(mm, new_len);
	if (!dest) {
		ret = -ENOMEM;
		goto out;
	}
	ret = move_range(mm, old, old_len, dest);
	if (ret >= 0 && mm_mmap_anon(mm, dest + old_len, new_len - old_len, orig.prot, orig.flags | MAP_FIXED,
				     orig.kind) < 0)
		ret = -ENOMEM;
out:
	if (ret >= 0 && name && new_len > old_len) /* grown: the same mapping, the same name */
		vma_name_set_locked(mm, (gaddr_t)ret + old_len, (gaddr_t)ret + new_len, name);
	vma_name_put(name);
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

/* ---- mincore ---- */


/* Residency of up to `pages` pages from addr, all in the VMA holding
 * addr (Linux's do_mincore): the pages filled in, or -ENOMEM if addr is
 * not mapped. Memory-file pages are resident once allocated (the host's
 * mincore on the kernel's view of the shmem file); unbacked memory
 * (PROT_NONE, a file's tail) is not. Host-file images read 1 like Linux
 * reports for a file the caller neither owns nor may write: their page
 * cache is the host's, whose state the guest must not learn. mm->lock
 * held. */
static long mincore_vma(struct mm *mm, gaddr_t addr, uint64_t pages, unsigned char *vec)
{
	struct vma *v = vma_find(&mm->vmas, addr);
	if (!v)
		return -ENOMEM;
	uint64_t n = MIN(pages, (v->end - addr) / PAGE_SIZE);
	if (v->image) {
		memset(vec, 1, n);
	} else if (v->off == NO_BACKING) {
		memset(vec, 0, n);
	} else if (mincore(memfile_ptr(v->off + (addr - v->start)), n * PAGE_SIZE, vec) < 0) {
		memset(vec, 1, n); /* the kernel's own mapping: cannot fail */
	} else {
		for (uint64_t i = 0; i < n; i++)
			vec[i] &= 1;
	}
	return (long)n;
}

long sys_mincore(const struct sysargs *a)
{
	gaddr_t start = a->a[0], uvec = a->a[2];
	uint64_t len = a->a[1];
	if (start & (PAGE_SIZE - 1))
		return -EINVAL;
	if (len > TASK_SIZE_MAX || start > TASK_SIZE_MAX - len)
		return -ENOMEM;
	uint64_t pages = len / PAGE_SIZE + ((len & (PAGE_SIZE - 1)) != 0);
	if (pages > TASK_SIZE_MAX || uvec > TASK_SIZE_MAX - pages)
		return -EFAULT;
	struct mm *mm = cur_mm();
	unsigned char vec[PAGE_SIZE];
	/* A page of the vector at a time, as Linux: what an earlier round
	 * wrote stays written when a later one fails. */
	while (pages) {
		pthread_rwlock_rdlock(&mm->lock);
		long n = mincore_vma(mm, start, MIN(pages, sizeof(vec)), vec);
		pthread_rwlock_unlock(&mm->lock);
		if (n < 0)
			return n;
		if (copy_to_guest(uvec, vec, (size_t)n))
			return -EFAULT;
		pages -= (uint64_t)n;
		uvec += (uint64_t)n;
		start += (uint64_t)n * PAGE_SIZE;
	}
	return 0;
}

long sys_madvise(const struct sysargs *a)
{
	gaddr_t start = a->a[0];
	uint64_t len = a->a[1];
	int advice = (int)a->a[2];

	switch (advice) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
	case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK:
	case MADV_DOFORK: case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK:
	case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT:
		break;
	default:
		return -EINVAL;
	}
	if (start & ~PAGE_MASK)
		return -EINVAL;
	uint64_t plen = PAGE_ALIGN(len);
	if (len && !plen)
		return -EINVAL;
	gaddr_t end = start + plen;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;

	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	long ret = 0;
	if (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE)
		mm_hiwater_before_drop_locked(mm, start, end); /* the peak before pages go */
	/* Pages shared copy-on-write are replaced, never zeroed in place. */
	if (advice == MADV_DONTNEED && (ret = mm_cow_drop_locked(mm, start, end))) {
		pthread_rwlock_unlock(&mm->lock);
		return ret;
	}
	gaddr_t at = start;
	for (size_t i = vma_index_after(&mm->vmas, start); at < end; i++) {
		if (i >= mm->vmas.n || mm->vmas.v[i].start >= end) {
			ret = -ENOMEM; /* a hole in the range */
			break;
		}
		struct vma *v = &mm->vmas.v[i];
		if (v->start > at)
			ret = -ENOMEM;
		gaddr_t s = MAX(v->start, start), e = MIN(v->end, end);
		/* DONTNEED on private memory drops the pages: they read as
		 * zero afterwards. Punching the hole does exactly that. */
		if (advice == MADV_DONTNEED && (v->flags & MAP_PRIVATE) && v->off != NO_BACKING &&
		    v->kind != VMA_VVAR) {
			memfile_zero(v->off + (s - v->start), e - s);
			if (v->kind == VMA_FILE && v->file) /* private file pages show the file again */
				mm_reload_file_pages(v, s, e);
		}
		at = e;
	}
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}
