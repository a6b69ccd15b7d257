/* Memory locks (mlock, mlock2, munlock, mlockall, munlockall, mmap's
 * MAP_LOCKED and MCL_FUTURE): accepted and accounted like Linux, with
 * its RLIMIT_MEMLOCK and CAP_IPC_LOCK rules. A locked VMA carries
 * VMA_LOCKED in its flags (so it never merges with an unlocked one);
 * VmLck is the sum of locked VMAs. Nothing is paged out of the memory
 * file anyway, so the lock itself promises nothing more; pages are not
 * populated ahead (they appear on first touch, without a trap). */
#ifndef COCOON_MLOCK_H
#define COCOON_MLOCK_H

#include <sys/mman.h>
#include "mm/mm.h"

#define VMA_LOCKED MAP_LOCKED /* in vma.flags */

/* Bytes of locked mappings in mm (mm->lock held). */
uint64_t mm_locked_bytes(struct mm *mm);

/* mmap with MAP_LOCKED, or after mlockall(MCL_FUTURE): whether the new
 * mapping of len bytes may be locked (0, -EPERM, -EAGAIN as Linux's
 * do_mmap); *lock says whether it must be. mm->lock held. */
long mlock_mmap_check(struct mm *mm, int flags, uint64_t len, bool *lock);
/* Lock the new mapping [addr, addr+len) (mm->lock held for writing). */
void mlock_mmap_done(struct mm *mm, gaddr_t addr, uint64_t len);

#endif
