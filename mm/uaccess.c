/* Guest-address copies: translate through the current VMAs into the
 * kernel's mapping of the memory file, then copy with the fault-safe raw
 * routines. The mm lock is held shared so no range is unmapped (and its
 * memory reused) while we copy. */
#include <limits.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include "mm/uaccess.h"
#include "mm/copy.h"
#include "mm/mm.h"
#include "kernel/task.h"

static struct mm *cur_mm(void) { return current->proc->mm; }

void guest_mem_lock(void) { pthread_rwlock_rdlock(&cur_mm()->lock); }
void guest_mem_unlock(void) { pthread_rwlock_unlock(&cur_mm()->lock); }

/* Apply fn to each contiguous kernel chunk of [addr, addr+n). */
static int each_chunk(gaddr_t addr, size_t n, bool write,
		      int (*fn)(void *kptr, size_t len, void *ctx), void *ctx)
{
	if (addr + n < addr)
		return -EFAULT;
	struct mm *mm = cur_mm();
	int ret = 0;
	pthread_rwlock_rdlock(&mm->lock);
	while (n) {
		size_t avail = 0;
		void *k = mm_translate(mm, addr, write, &avail);
		if (!k && avail == MM_NEEDS_COW) {
			pthread_rwlock_unlock(&mm->lock);
			ret = mm_cow_break(mm, addr, n);
			pthread_rwlock_rdlock(&mm->lock);
			if (ret) {
				ret = -EFAULT;
				break;
			}
			continue;
		}
		if (!k) {
			ret = -EFAULT;
			break;
		}
		size_t chunk = MIN(n, avail);
		ret = fn(k, chunk, ctx);
		if (ret)
			break;
		addr += chunk;
		n -= chunk;
	}
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

static int copy_in(void *k, size_t len, void *ctx)
{
	char **dst = ctx;
	if (raw_copy(*dst, k, len))
		return -EFAULT;
	*dst += len;
	return 0;
}

static int copy_out(void *k, size_t len, void *ctx)
{
	const char **src = ctx;
	if (raw_copy(k, *src, len))
		return -EFAULT;
	*src += len;
	return 0;
}

static int clear(void *k, size_t len, void *ctx)
{
	return raw_clear(k, len) ? -EFAULT : 0;
}

int copy_from_guest(void *dst, gaddr_t src, size_t n)
{
	char *d = dst;
	return each_chunk(src, n, false, copy_in, &d);
}

int copy_to_guest(gaddr_t dst, const void *src, size_t n)
{
	const char *s = src;
	return each_chunk(dst, n, true, copy_out, &s);
}

int clear_guest(gaddr_t dst, size_t n)
{
	return each_chunk(dst, n, true, clear, NULL);
}

long strncpy_from_guest(char *dst, gaddr_t src, size_t size)
{
	struct mm *mm = cur_mm();
	size_t done = 0;
	long ret = -ENAMETOOLONG;
	pthread_rwlock_rdlock(&mm->lock);
	while (done < size) {
		size_t avail;
		const char *k = mm_translate(mm, src + done, false, &avail);
		if (!k) {
			ret = -EFAULT;
			break;
		}
		size_t chunk = MIN(avail, size - done);
		long got = raw_strncpy(dst + done, k, chunk);
		if (got < 0) {
			ret = -EFAULT;
			break;
		}
		if (got > 0 && dst[done + (size_t)got - 1] == '\0') {
			ret = (long)(done + (size_t)got - 1);
			break;
		}
		done += (size_t)got;
	}
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

#define MAX_RW_COUNT (INT_MAX & ~(PAGE_SIZE - 1))

long guest_import_iovecs(gaddr_t uvec, uint64_t cnt, struct guest_seg *seg)
{
	if (cnt > GUEST_IOV_MAX)
		return -EINVAL;
	if (cnt && copy_from_guest(seg, uvec, cnt * sizeof(*seg)))
		return -EFAULT;
	uint64_t total = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		if ((int64_t)seg[i].len < 0)
			return -EINVAL;
		if (seg[i].len > TASK_SIZE_MAX || seg[i].base > TASK_SIZE_MAX - seg[i].len)
			return -EFAULT;
		seg[i].len = MIN(seg[i].len, MAX_RW_COUNT - total);
		total += seg[i].len;
	}
	return (long)total;
}

void guest_prepare_write(gaddr_t addr, size_t len)
{
	struct mm *mm = cur_mm();
	bool cow = false;
	pthread_rwlock_rdlock(&mm->lock);
	for (size_t i = vma_index_after(&mm->vmas, addr); i < mm->vmas.n; i++) {
		struct vma *v = &mm->vmas.v[i];
		if (v->start >= addr + len)
			break;
		if (v->cow && (v->prot & PROT_WRITE))
			cow = true;
	}
	pthread_rwlock_unlock(&mm->lock);
	if (cow)
		mm_cow_break(mm, addr, len); /* failing: the write stops short */
}

size_t guest_accessible_len(gaddr_t addr, size_t want, bool write)
{
	struct mm *mm = cur_mm();
	size_t have = 0;
	if (write)
		guest_prepare_write(addr, want);
	pthread_rwlock_rdlock(&mm->lock);
	while (have < want) {
		size_t avail;
		if (!mm_translate(mm, addr + have, write, &avail))
			break;
		have += avail;
	}
	pthread_rwlock_unlock(&mm->lock);
	return MIN(have, want);
}

int guest_iovecs(gaddr_t addr, size_t len, bool write, struct iovec *iov, int max, size_t *covered)
{
	struct mm *mm = cur_mm();
	int n = 0;
	size_t done = 0;
	while (done < len && n < max) {
		size_t avail;
		void *k = mm_translate(mm, addr + done, write, &avail);
		if (!k)
			break;
		size_t chunk = MIN(avail, len - done);
		iov[n].iov_base = k;
		iov[n].iov_len = chunk;
		n++;
		done += chunk;
	}
	*covered = done;
	return n;
}

/* ---- futex words ---- */

/* Kernel pointer to the aligned u32 at addr (mm lock held): NULL with
 * *err -EFAULT or GUEST_WORD_COW. */
static uint32_t *word_ptr(gaddr_t addr, bool write, int *err)
{
	size_t avail = 0;
	uint32_t *k = (addr & 3) ? NULL : mm_translate(cur_mm(), addr, write, &avail);
	if (!k || avail < sizeof(*k)) {
		*err = !k && avail == MM_NEEDS_COW ? GUEST_WORD_COW : -EFAULT;
		return NULL;
	}
	return k;
}

int guest_load32_locked(gaddr_t addr, uint32_t *val)
{
	int err;
	uint32_t *k = word_ptr(addr, false, &err);
	return k ? raw_load32(k, val) : err;
}

int guest_cmpxchg32_locked(gaddr_t addr, uint32_t old, uint32_t newval, uint32_t *cur)
{
	int err;
	uint32_t *k = word_ptr(addr, true, &err);
	if (!k)
		return err;
	err = raw_cmpxchg32(k, &old, newval);
	*cur = old;
	return err;
}

int guest_op32_locked(gaddr_t addr, int op, uint32_t oparg, uint32_t *old)
{
	int err;
	uint32_t *k = word_ptr(addr, true, &err);
	return k ? raw_futex_op32(k, op, oparg, old) : err;
}

int guest_unshare_word(gaddr_t addr)
{
	return mm_cow_break(cur_mm(), addr & PAGE_MASK, PAGE_SIZE) ? -EFAULT : 0;
}

int futex_load_guest(gaddr_t addr, uint32_t *val)
{
	guest_mem_lock();
	int err = guest_load32_locked(addr, val);
	guest_mem_unlock();
	return err;
}

int futex_atomic_cmpxchg_guest(gaddr_t addr, uint32_t old, uint32_t newval, uint32_t *cur)
{
	for (;;) {
		guest_mem_lock();
		int err = guest_cmpxchg32_locked(addr, old, newval, cur);
		guest_mem_unlock();
		if (err != GUEST_WORD_COW)
			return err;
		if (guest_unshare_word(addr))
			return -EFAULT;
	}
}

int futex_atomic_op_guest(gaddr_t addr, int op, uint32_t oparg, uint32_t *old)
{
	for (;;) {
		guest_mem_lock();
		int err = guest_op32_locked(addr, op, oparg, old);
		guest_mem_unlock();
		if (err != GUEST_WORD_COW)
			return err;
		if (guest_unshare_word(addr))
			return -EFAULT;
	}
}
