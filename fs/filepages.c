/* Sparse page arrays of in-memory files (see filepages.h). Nodes have 64
 * slots; a leaf slot holds a memory-file offset + 1 (0: hole), so a small
 * file costs one 512-byte node. Runs of contiguous pages are freed with
 * one call, since freeing punches a hole in the memory file. */
#include <stdlib.h>
#include <string.h>
#include "fs/filepages.h"
#include "mm/memfile.h"

#define FP_SHIFT 6
#define FP_FAN (1 << FP_SHIFT)
#define FP_MAX_HEIGHT 6

struct fpnode {
	union {
		struct fpnode *child[FP_FAN];
		uint64_t page[FP_FAN];
	};
};

static uint64_t span(int height) /* pages covered by a node at this height */
{
	return 1ULL << (FP_SHIFT * height);
}

int64_t fp_lookup(const struct filepages *fp, uint64_t idx)
{
	if (!fp->height || idx >= span(fp->height))
		return -1;
	struct fpnode *n = fp->root;
	for (int h = fp->height; h > 1; h--) {
		n = n->child[(idx >> (FP_SHIFT * (h - 1))) & (FP_FAN - 1)];
		if (!n)
			return -1;
	}
	uint64_t v = n->page[idx & (FP_FAN - 1)];
	return v ? (int64_t)(v - 1) : -1;
}

/* The leaf slot of idx, creating nodes (NULL if out of memory). */
static uint64_t *slot(struct filepages *fp, uint64_t idx)
{
	while (!fp->height || idx >= span(fp->height)) {
		struct fpnode *top = calloc(1, sizeof(*top));
		if (!top)
			return NULL;
		top->child[0] = fp->root; /* NULL when empty: a bare leaf */
		fp->root = top;
		fp->height++;
	}
	struct fpnode *n = fp->root;
	for (int h = fp->height; h > 1; h--) {
		struct fpnode **c = &n->child[(idx >> (FP_SHIFT * (h - 1))) & (FP_FAN - 1)];
		if (!*c && !(*c = calloc(1, sizeof(**c))))
			return NULL;
		n = *c;
	}
	return &n->page[idx & (FP_FAN - 1)];
}

int64_t fp_get(struct filepages *fp, uint64_t idx, uint64_t hint)
{
	if (idx >= FP_MAX_PAGES)
		return -EFBIG;
	uint64_t *s = slot(fp, idx);
	if (!s)
		return -ENOMEM;
	if (*s)
		return (int64_t)(*s - 1);
	/* Allocate the run of holes from idx on (up to hint pages) at once. */
	uint64_t n = 1;
	while (n < hint && n < 256 && idx + n < FP_MAX_PAGES && fp_lookup(fp, idx + n) < 0)
		n++;
	int64_t off = memfile_alloc(n * PAGE_SIZE);
	if (off < 0 && n > 1) {
		n = 1;
		off = memfile_alloc(PAGE_SIZE);
	}
	if (off < 0)
		return -ENOMEM;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t *t = k ? slot(fp, idx + k) : s;
		if (!t) { /* out of memory for nodes: give the rest back */
			memfile_free(off + k * PAGE_SIZE, (n - k) * PAGE_SIZE);
			break;
		}
		*t = off + k * PAGE_SIZE + 1;
		fp->npages++;
	}
	return off;
}

struct run {
	uint64_t off, len;
};

static void run_add(struct run *r, uint64_t off)
{
	if (r->len && r->off + r->len == off) {
		r->len += PAGE_SIZE;
		return;
	}
	if (r->len)
		memfile_free(r->off, r->len);
	r->off = off;
	r->len = PAGE_SIZE;
}

/* Free [from, to) under n (covering base..); true if n is now empty. */
static bool punch(struct filepages *fp, struct fpnode *n, int h, uint64_t base,
		  uint64_t from, uint64_t to, struct run *r)
{
	bool empty = true;
	uint64_t sub = span(h - 1);
	for (int k = 0; k < FP_FAN; k++) {
		uint64_t lo = base + k * sub, hi = lo + sub;
		if (h == 1) {
			if (n->page[k] && lo >= from && lo < to) {
				run_add(r, n->page[k] - 1);
				n->page[k] = 0;
				fp->npages--;
			}
			empty &= !n->page[k];
			continue;
		}
		if (!n->child[k])
			continue;
		if (hi > from && lo < to && punch(fp, n->child[k], h - 1, lo, from, to, r)) {
			free(n->child[k]);
			n->child[k] = NULL;
		}
		empty &= !n->child[k];
	}
	return empty;
}

void fp_punch(struct filepages *fp, uint64_t from, uint64_t to)
{
	if (!fp->height || from >= to)
		return;
	struct run r = { 0, 0 };
	if (punch(fp, fp->root, fp->height, 0, from, to, &r)) {
		free(fp->root);
		fp->root = NULL;
		fp->height = 0;
	}
	if (r.len)
		memfile_free(r.off, r.len);
}

static uint64_t next_data(const struct fpnode *n, int h, uint64_t base, uint64_t idx)
{
	uint64_t sub = span(h - 1);
	for (int k = 0; k < FP_FAN; k++) {
		uint64_t lo = base + k * sub;
		if (lo + sub <= idx)
			continue;
		if (h == 1) {
			if (n->page[k])
				return lo;
		} else if (n->child[k]) {
			uint64_t r = next_data(n->child[k], h - 1, lo, idx);
			if (r != UINT64_MAX)
				return r;
		}
	}
	return UINT64_MAX;
}

uint64_t fp_next_data(const struct filepages *fp, uint64_t idx)
{
	return fp->height ? next_data(fp->root, fp->height, 0, idx) : UINT64_MAX;
}

uint64_t fp_next_hole(const struct filepages *fp, uint64_t idx)
{
	while (fp_lookup(fp, idx) >= 0)
		idx++;
	return idx;
}
