/* Names of anonymous mappings, set with prctl(PR_SET_VMA,
 * PR_SET_VMA_ANON_NAME) and shown in /proc/<pid>/maps as [anon:NAME] (or
 * [anon_shmem:NAME] for shared anonymous memory), like Linux's
 * anon_vma_name. A name is immutable and counted: VMAs split from one
 * another, and a forked child's VMAs, hold the same one. */
#ifndef COCOON_VMA_NAME_H
#define COCOON_VMA_NAME_H

#include "kernel/kernel.h"

struct mm;

#ifndef PR_SET_VMA /* older headers */
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

/* Linux's ANON_VMA_NAME_MAX_LEN: the name with its NUL. */
#define VMA_NAME_MAX 80

struct vma_name {
	int refs;
	char str[];
};

/* Another reference to n (NULL stays NULL). */
struct vma_name *vma_name_get(struct vma_name *n);
void vma_name_put(struct vma_name *n);
/* Equal names (Linux's anon_vma_name_eq): both none, or the same text. */
bool vma_name_eq(const struct vma_name *a, const struct vma_name *b);

/* Give the anonymous mappings in [start, end) (page aligned) the name
 * n (a reference of their own; NULL: none), mm->lock held for writing:
 * 0, -ENOMEM if there was a hole, -EBADF at a file mapping (the ones
 * before it named), -EAGAIN if out of VMAs. */
long vma_name_set_locked(struct mm *mm, gaddr_t start, gaddr_t end, struct vma_name *n);

/* prctl(PR_SET_VMA, opt, addr, size, uname) for the current process:
 * Linux's checks and errors (EINVAL for a bad name or range, EFAULT,
 * EBADF for a file mapping, ENOMEM for a hole, whose neighbours are
 * named all the same). */
long prctl_set_vma(uint64_t opt, gaddr_t addr, uint64_t size, gaddr_t uname);

#endif
