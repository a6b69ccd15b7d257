/* Memory locks: see mm/mlock.h. Linux's mm/mlock.c rules: a range must be
 * covered by mappings without holes (ENOMEM, the part before the hole
 * stays changed), the lock limit counts pages already locked in the
 * range only when it would be exceeded, CAP_IPC_LOCK lifts it, and a
 * zero limit without the capability refuses any lock (EPERM). */
#include <linux/mman.h>
#include <sys/resource.h>
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/mlock.h"

#define MLOCK_ONFAULT_ 1 /* mlock2's MLOCK_ONFAULT */

static struct mm *cur_mm(void) { return current->proc->mm; }

static uint64_t memlock_limit(void)
{
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	uint64_t lim = p->rlimits[RLIMIT_MEMLOCK].rlim_cur;
	pthread_mutex_unlock(&p->lock);
	return lim;
}

/* Linux's can_do_mlock. */
static bool may_lock(void)
{
	return memlock_limit() != 0 || capable(CAP_IPC_LOCK);
}

/* The [vvar] page is a special mapping: never locked, like Linux's
 * VM_PFNMAP ones. */
static bool lockable(const struct vma *v)
{
	return v->kind != VMA_VVAR;
}

uint64_t mm_locked_bytes(struct mm *mm)
{
	uint64_t n = 0;
	for (size_t i = 0; i < mm->vmas.n; i++)
		if (mm->vmas.v[i].flags & VMA_LOCKED)
			n += mm->vmas.v[i].end - mm->vmas.v[i].start;
	return n;
}

static uint64_t total_bytes(struct mm *mm)
{
	uint64_t n = 0;
	for (size_t i = 0; i < mm->vmas.n; i++)
		n += mm->vmas.v[i].end - mm->vmas.v[i].start;
	return n;
}

/* Locked bytes inside [start, end). */
static uint64_t locked_in(struct mm *mm, gaddr_t start, gaddr_t end)
{
	uint64_t n = 0;
	for (size_t i = vma_index_after(&mm->vmas, start); i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		if (v->start >= end)
			break;
		if (v->flags & VMA_LOCKED)
			n += MIN(v->end, end) - MAX(v->start, start);
	}
	return n;
}

/* Linux's apply_vma_lock_flags: [start, end) page aligned. */
static long apply_lock(struct mm *mm, gaddr_t start, gaddr_t end, bool lock)
{
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	struct vma *first = vma_find(&mm->vmas, start);
	if (!first)
		return -ENOMEM;
	if (vma_split_at(&mm->vmas, start) || vma_split_at(&mm->vmas, end))
		return -ENOMEM;
	gaddr_t at = start;
	long err = 0;
	for (size_t i = vma_index_after(&mm->vmas, start); i < mm->vmas.n; i++) {
		struct vma *v = &mm->vmas.v[i];
		if (v->start >= end)
			break;
		if (v->start != at) {
			err = -ENOMEM; /* a hole */
			break;
		}
		if (lock && lockable(v))
			v->flags |= VMA_LOCKED;
		else if (!lock)
			v->flags &= ~VMA_LOCKED;
		at = v->end;
	}
	if (!err && at < end)
		err = -ENOMEM;
	vma_merge_around(&mm->vmas, start, end);
	return err;
}

/* Linux populates a locked range (not for MLOCK_ONFAULT) and reports a
 * page it cannot fault in as ENOMEM, the lock staying: PROT_NONE. */
static bool populate_fails(struct mm *mm, gaddr_t start, gaddr_t end)
{
	for (size_t i = vma_index_after(&mm->vmas, start); i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		if (v->start >= end)
			break;
		if (!(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
			return true;
	}
	return false;
}

static long do_mlock(gaddr_t start, uint64_t len, bool onfault)
{
	if (!may_lock())
		return -EPERM;
	len = PAGE_ALIGN(len + (start & ~PAGE_MASK));
	start &= PAGE_MASK;
	uint64_t limit = memlock_limit() / PAGE_SIZE;
	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	uint64_t locked = len / PAGE_SIZE + mm_locked_bytes(mm) / PAGE_SIZE;
	bool cap = capable(CAP_IPC_LOCK);
	/* Pages already locked in the range are not counted twice. */
	if (locked > limit && !cap)
		locked -= locked_in(mm, start, start + len) / PAGE_SIZE;
	long err = locked <= limit || cap ? apply_lock(mm, start, start + len, true) : -ENOMEM;
	if (!err && !onfault && populate_fails(mm, start, start + len))
		err = -ENOMEM;
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

long sys_mlock(const struct sysargs *a)
{
	return do_mlock(a->a[0], a->a[1], false);
}

long sys_mlock2(const struct sysargs *a)
{
	if ((int)a->a[2] & ~MLOCK_ONFAULT_)
		return -EINVAL;
	return do_mlock(a->a[0], a->a[1], (int)a->a[2] & MLOCK_ONFAULT_);
}

long sys_munlock(const struct sysargs *a)
{
	gaddr_t start = a->a[0];
	uint64_t len = PAGE_ALIGN(a->a[1] + (start & ~PAGE_MASK));
	start &= PAGE_MASK;
	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	long err = apply_lock(mm, start, start + len, false);
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

/* Linux's apply_mlockall_flags: MCL_FUTURE is remembered; MCL_CURRENT
 * (or munlockall, flags 0) changes every mapping. */
static void apply_all(struct mm *mm, int flags)
{
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	p->ext.mlock_future = flags & MCL_FUTURE;
	pthread_mutex_unlock(&p->lock);
	if ((flags & MCL_FUTURE) && !(flags & MCL_CURRENT))
		return;
	for (size_t i = 0; i < mm->vmas.n; i++) {
		struct vma *v = &mm->vmas.v[i];
		if (flags && lockable(v))
			v->flags |= VMA_LOCKED;
		else
			v->flags &= ~VMA_LOCKED;
	}
	if (mm->vmas.n)
		vma_merge_around(&mm->vmas, mm->vmas.v[0].start, mm->vmas.v[mm->vmas.n - 1].end);
}

long sys_mlockall(const struct sysargs *a)
{
	int flags = (int)a->a[0];
	if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
		return -EINVAL;
	if (!may_lock())
		return -EPERM;
	uint64_t limit = memlock_limit() / PAGE_SIZE;
	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	long err = -ENOMEM;
	if (!(flags & MCL_CURRENT) || total_bytes(mm) / PAGE_SIZE <= limit || capable(CAP_IPC_LOCK)) {
		apply_all(mm, flags);
		err = 0;
	}
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

long sys_munlockall(const struct sysargs *a)
{
	struct mm *mm = cur_mm();
	pthread_rwlock_wrlock(&mm->lock);
	apply_all(mm, 0);
	pthread_rwlock_unlock(&mm->lock);
	return 0;
}

/* Linux's do_mmap checks: MAP_LOCKED needs can_do_mlock (EPERM); a
 * mapping to be locked must fit under the limit (mlock_future_ok:
 * EAGAIN). */
long mlock_mmap_check(struct mm *mm, int flags, uint64_t len, bool *lock)
{
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	bool future = p->ext.mlock_future;
	pthread_mutex_unlock(&p->lock);
	*lock = future || (flags & MAP_LOCKED);
	if ((flags & MAP_LOCKED) && !may_lock())
		return -EPERM;
	if (*lock && !capable(CAP_IPC_LOCK) &&
	    mm_locked_bytes(mm) / PAGE_SIZE + len / PAGE_SIZE > memlock_limit() / PAGE_SIZE)
		return -EAGAIN;
	return 0;
}

void mlock_mmap_done(struct mm *mm, gaddr_t addr, uint64_t len)
{
	apply_lock(mm, addr, addr + len, true);
}
