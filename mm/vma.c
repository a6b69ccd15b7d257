/* VMA lists: a sorted array of non-overlapping [start, end) ranges.
 * Binary search finds; splitting and merging keep the memory-file offset
 * consistent (offset of any address = off + (addr - start)). */
#include <stdlib.h>
#include <string.h>
#include "mm/vma.h"
#include "mm/vma_name.h"
#include "fs/file.h"

size_t vma_index_after(struct vma_list *l, gaddr_t addr)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (l->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct vma *vma_find(struct vma_list *l, gaddr_t addr)
{
	size_t i = vma_index_after(l, addr);
	return i < l->n && l->v[i].start <= addr ? &l->v[i] : NULL;
}

bool vma_range_free(struct vma_list *l, gaddr_t start, gaddr_t end)
{
	size_t i = vma_index_after(l, start);
	return i == l->n || l->v[i].start >= end;
}

static int grow(struct vma_list *l)
{
	/* Like vm.max_map_count: the host has the same limit on the guest
	 * process, and the kernel's own memory and time stay bounded. */
	if (l->n >= VMA_MAX)
		return -ENOMEM;
	if (l->n < l->cap)
		return 0;
	size_t cap = l->cap ? 2 * l->cap : 32;
	struct vma *v = realloc(l->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

int vma_insert(struct vma_list *l, const struct vma *v)
{
	if (v->start >= v->end || !vma_range_free(l, v->start, v->end))
		return -EINVAL;
	if (grow(l))
		return -ENOMEM;
	size_t i = vma_index_after(l, v->start);
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*v));
	l->v[i] = *v;
	l->n++;
	return 0;
}

static uint64_t off_at(const struct vma *v, gaddr_t addr)
{
	return v->off == NO_BACKING ? NO_BACKING : v->off + (addr - v->start);
}

int vma_split_at(struct vma_list *l, gaddr_t addr)
{
	struct vma *v = vma_find(l, addr);
	if (!v || v->start == addr)
		return 0;
	if (grow(l))
		return -ENOMEM;
	v = vma_find(l, addr); /* grow may have moved the array */
	size_t i = (size_t)(v - l->v);
	struct vma hi = *v;
	hi.start = addr;
	hi.off = off_at(v, addr);
	hi.file_off = v->file_off + (addr - v->start);
	hi.name = v->name ? strdup(v->name) : NULL;
	hi.anon_name = vma_name_get(v->anon_name);
	if (v->file)
		vma_file_hold(v->file);
	v->end = addr;
	memmove(&l->v[i + 2], &l->v[i + 1], (l->n - i - 1) * sizeof(*v));
	l->v[i + 1] = hi;
	l->n++;
	return 0;
}

int vma_remove_range(struct vma_list *l, gaddr_t start, gaddr_t end,
		     void (*fn)(const struct vma *piece, void *ctx), void *ctx)
{
	int err = vma_split_at(l, start);
	if (!err)
		err = vma_split_at(l, end);
	if (err)
		return err;
	size_t i = vma_index_after(l, start), j = i;
	while (j < l->n && l->v[j].start < end) {
		if (fn)
			fn(&l->v[j], ctx);
		free(l->v[j].name);
		vma_name_put(l->v[j].anon_name);
		if (l->v[j].file)
			vma_file_drop(l->v[j].file);
		j++;
	}
	memmove(&l->v[i], &l->v[j], (l->n - j) * sizeof(*l->v));
	l->n -= j - i;
	return 0;
}

static bool mergeable(const struct vma *a, const struct vma *b)
{
	if (a->end != b->start || a->prot != b->prot || a->flags != b->flags || a->kind != b->kind ||
	    a->cow != b->cow || a->accounted != b->accounted || !vma_name_eq(a->anon_name, b->anon_name))
		return false;
	if (a->name || b->name || a->file || b->file || a->kind == VMA_VVAR)
		return false; /* [vvar] and [vvar_vclock] stay apart, like Linux's special mappings */
	if (a->off == NO_BACKING || b->off == NO_BACKING)
		return a->off == b->off;
	return a->off + (a->end - a->start) == b->off;
}

void vma_merge_around(struct vma_list *l, gaddr_t start, gaddr_t end)
{
	size_t i = vma_index_after(l, start);
	if (i > 0)
		i--;
	while (i + 1 < l->n && l->v[i].start <= end) {
		if (mergeable(&l->v[i], &l->v[i + 1])) {
			l->v[i].end = l->v[i + 1].end;
			vma_name_put(l->v[i + 1].anon_name);
			memmove(&l->v[i + 1], &l->v[i + 2], (l->n - i - 2) * sizeof(*l->v));
			l->n--;
		} else {
			i++;
		}
	}
}

void vma_list_free(struct vma_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		vma_name_put(l->v[i].anon_name);
		if (l->v[i].file)
			vma_file_drop(l->v[i].file);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void vma_file_hold(struct file *f)
{
	file_get(f);
	if (f->ops->vma_open)
		f->ops->vma_open(f);
}

void vma_file_drop(struct file *f)
{
	if (f->ops->vma_close)
		f->ops->vma_close(f);
	fput(f);
}

void vma_list_close_files(struct vma_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct file *f = l->v[i].file;
		if (f && f->ops->vma_close) {
			vma_file_drop(f);
			l->v[i].file = NULL;
		}
	}
}
