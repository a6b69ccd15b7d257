/* The pages of an in-memory file: a sparse radix tree from page index to
 * a page of the memory file (mm/memfile.h), so that the same pages can
 * later be mapped straight into guests. A missing page is a hole (reads
 * as zero). Not locked: the owner (the inode's lock) serializes. */
#ifndef COCOON_FS_FILEPAGES_H
#define COCOON_FS_FILEPAGES_H

#include "kernel/kernel.h"

#define FP_MAX_PAGES (1ULL << 36) /* 256 TiB: more is EFBIG */

struct fpnode;
struct filepages {
	struct fpnode *root;
	int height;       /* 0: empty; each level indexes 6 bits */
	uint64_t npages;  /* pages held (st_blocks) */
};

/* The memory-file offset of page idx, or -1 for a hole. */
int64_t fp_lookup(const struct filepages *fp, uint64_t idx);
/* The page at idx, allocated (zeroed) if it is a hole: its offset or
 * -ENOMEM / -EFBIG. hint: how many pages after idx the caller will want
 * too (allocated together, so they are contiguous). */
int64_t fp_get(struct filepages *fp, uint64_t idx, uint64_t hint);
/* Free every page with index in [from, to). */
void fp_punch(struct filepages *fp, uint64_t from, uint64_t to);
/* The first index >= idx holding a page (data) or not (hole); for data,
 * UINT64_MAX if none. */
uint64_t fp_next_data(const struct filepages *fp, uint64_t idx);
uint64_t fp_next_hole(const struct filepages *fp, uint64_t idx);
static inline void fp_free_all(struct filepages *fp) { fp_punch(fp, 0, FP_MAX_PAGES); }

#endif
