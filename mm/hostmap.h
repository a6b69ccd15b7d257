/* Host files mapped straight into guests. A read-only private mapping of
 * a host file (program text, read-only data, whole libraries as ld.so
 * first maps them) needs no copy in the memory file: the guest's host
 * process maps the very file, read-only, from the host's page cache, and
 * the kernel reads the same pages through a mapping of its own. Such a
 * VMA has no memory-file backing (off is NO_BACKING) and names its image
 * instead; it is copied into the memory file only if it is ever to be
 * written (mprotect, ptrace pokes). */
#ifndef COCOON_HOSTMAP_H
#define COCOON_HOSTMAP_H

#include <sys/types.h>
#include <time.h>
#include "kernel/kernel.h"

struct file;

struct host_image {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int fd;            /* the kernel's read-only fd (guests' control threads reopen it) */
	const char *base;  /* the kernel's read-only mapping of the whole file */
	size_t len;        /* page aligned */
	struct host_image *next;
};

/* The image of f, or NULL if f is not a host regular file that can be
 * mapped this way (then the caller copies it into the memory file).
 * Images live as long as the kernel. */
const struct host_image *host_image_get(struct file *f);

/* Bytes of [off, off+len) of the file in the host's page cache (RSS). */
uint64_t host_image_resident(const struct host_image *img, uint64_t off, uint64_t len);

#endif
