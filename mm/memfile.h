/* The memory file: one memfd per sandbox from which all guest memory is
 * allocated. The kernel maps it whole; guest host-processes map pieces of
 * it. Allocation hands out page-aligned offset ranges; freeing punches a
 * hole so the pages go back to the host (and read as zero when reused). */
#ifndef COCOON_MEMFILE_H
#define COCOON_MEMFILE_H

#include "kernel/kernel.h"

#define MEMFILE_SIZE (256UL << 30) /* offset space, sparse */

struct memfile {
	int fd;
	char *base; /* kernel mapping of the whole file */
	size_t size;
};
extern struct memfile memfile;

int memfile_init(void);
/* Allocate len bytes (page multiple); returns the offset or -ENOMEM. */
int64_t memfile_alloc(size_t len);
/* The same for a caller that overwrites every byte before anyone sees
 * them (a copy): the range may come from the recently freed ones, whose
 * pages are still there, which saves the host's page faults and zeroing
 * (and the TLB flushes of punching them out). */
int64_t memfile_alloc_dirty(size_t len);
/* Drop one reference to each page of [off, off+len) (any sub-range of
 * earlier allocations); pages nobody else holds go back to the pool. */
void memfile_free(uint64_t off, size_t len);
/* Take another reference to each page of [off, off+len): address spaces
 * sharing pages after fork (copy-on-write, MAP_SHARED), the page cache. */
void memfile_ref(uint64_t off, size_t len);
/* Whether any page of [off, off+len) has more than one owner. */
bool memfile_shared(uint64_t off, size_t len);
/* Drop the pages of an allocated range; it reads as zero afterwards. */
void memfile_zero(uint64_t off, size_t len);
static inline void *memfile_ptr(uint64_t off) { return memfile.base + off; }
/* Bytes currently handed out, for tests and /proc. */
size_t memfile_allocated(void);

#endif
