/* Anonymous mapping names (prctl PR_SET_VMA): Linux's kernel/sys.c
 * prctl_set_vma and mm/madvise.c madvise_set_anon_name, over cocoon's
 * VMA list. */
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include "kernel/task.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "mm/vma_name.h"

struct vma_name *vma_name_get(struct vma_name *n)
{
	if (n)
		__atomic_add_fetch(&n->refs, 1, __ATOMIC_RELAXED);
	return n;
}

void vma_name_put(struct vma_name *n)
{
	if (n && __atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(n);
}

bool vma_name_eq(const struct vma_name *a, const struct vma_name *b)
{
	return a == b || (a && b && !strcmp(a->str, b->str));
}

/* Printable ASCII but Linux's ANON_VMA_NAME_INVALID_CHARS. */
static bool valid_name_char(char c)
{
	return c > 0x1f && c < 0x7f && !strchr("\\`$[]", c);
}

/* The name at guest address uname, checked: Linux's strndup_user limit
 * (EINVAL when longer, EFAULT when unreadable) and characters. */
static long name_from_guest(gaddr_t uname, struct vma_name **out)
{
	char buf[VMA_NAME_MAX];
	long n = strncpy_from_guest(buf, uname, sizeof(buf));
	if (n == -ENAMETOOLONG)
		return -EINVAL;
	if (n < 0)
		return n;
	for (long i = 0; i < n; i++)
		if (!valid_name_char(buf[i]))
			return -EINVAL;
	struct vma_name *name = malloc(sizeof(*name) + (size_t)n + 1);
	if (!name)
		return -ENOMEM;
	name->refs = 1;
	memcpy(name->str, buf, (size_t)n + 1);
	*out = name;
	return 0;
}

/* Linux's madvise_walk_vmas with madvise_vma_anon_name. */
long vma_name_set_locked(struct mm *mm, gaddr_t start, gaddr_t end, struct vma_name *name)
{
	struct vma_list *l = &mm->vmas;
	long ret = 0;
	gaddr_t at = start;
	while (at < end) {
		size_t i = vma_index_after(l, at);
		if (i == l->n) {
			ret = -ENOMEM; /* nothing mapped from here on */
			break;
		}
		if (l->v[i].start > at) {
			ret = -ENOMEM; /* a hole: named around it all the same */
			at = l->v[i].start;
			if (at >= end)
				break;
		}
		/* Only anonymous memory (private or shared) has a name. */
		if (l->v[i].kind == VMA_FILE) {
			ret = -EBADF;
			break;
		}
		gaddr_t e = MIN(l->v[i].end, end);
		if (!vma_name_eq(l->v[i].anon_name, name)) {
			if (vma_split_at(l, at) || vma_split_at(l, e)) {
				ret = -EAGAIN; /* Linux's answer when out of memory here */
				break;
			}
			struct vma *v = vma_find(l, at);
			vma_name_put(v->anon_name);
			v->anon_name = vma_name_get(name);
		}
		at = e;
	}
	vma_merge_around(l, start, end);
	return ret;
}

long prctl_set_vma(uint64_t opt, gaddr_t addr, uint64_t size, gaddr_t uname)
{
	if (opt != PR_SET_VMA_ANON_NAME)
		return -EINVAL;
	struct vma_name *name = NULL;
	if (uname) {
		long err = name_from_guest(uname, &name);
		if (err)
			return err;
	}
	/* madvise_set_anon_name's range checks, after the name's. */
	long ret = 0;
	uint64_t len = PAGE_ALIGN(size);
	if ((addr & ~PAGE_MASK) || (size && !len) || addr + len < addr) {
		ret = -EINVAL;
	} else if (len) {
		struct mm *mm = current->proc->mm;
		pthread_rwlock_wrlock(&mm->lock);
		ret = vma_name_set_locked(mm, addr, addr + len, name);
		pthread_rwlock_unlock(&mm->lock);
	}
	vma_name_put(name);
	return ret;
}
