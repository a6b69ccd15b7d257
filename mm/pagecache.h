/* The page cache: images of host files in the memory file, shared by
 * every mapping of the same file in the sandbox, so ld.so, libc.so and
 * friends are read once per sandbox, not once per process. */
#ifndef COCOON_PAGECACHE_H
#define COCOON_PAGECACHE_H

#include "kernel/kernel.h"

struct file;

/* The memory-file offset where f's bytes [file_off, file_off+len) are
 * (page aligned; the image reads as zero past the end of the file), with
 * one more reference to those pages that the caller owns (memfile_free
 * drops it). -1 if f cannot be cached (not a host file, too large, out of
 * cache room): the caller copies instead. */
int64_t pagecache_map(struct file *f, uint64_t file_off, size_t len);

/* Bytes held by cached images (tests, /proc/meminfo). */
size_t pagecache_bytes(void);

#endif
