/* Weak stand-ins for what the fs objects use from other parts, so the fs
 * unit tests link before (and after) those parts exist: a real definition
 * wins over these. Guest memory is an arena in this process: a guest
 * address is a host pointer, and only [arena, arena + arena_len) is
 * accessible, so tests can place buffers at its end to get EFAULT. */
#ifndef COCOON_FS_STANDINS_H
#define COCOON_FS_STANDINS_H
#include <string.h>
#include <sys/uio.h>
#include "kernel/task.h"
#include "mm/uaccess.h"

#define WEAK __attribute__((weak))
WEAK __thread struct thread *current;
WEAK struct cocoon_config cocoon_config;

static char arena[64 * 1024] __attribute__((aligned(4096)));
static size_t arena_len = sizeof(arena);
#define G(p) ((gaddr_t)(uintptr_t)(p))

/* True when the real mm is linked; then guest addresses are not host
 * pointers and tests that need guest memory must be skipped. */
extern size_t raw_copy(void *, const void *, size_t) WEAK;
static inline bool real_mm(void) { return raw_copy != NULL; }

WEAK size_t guest_accessible_len(gaddr_t addr, size_t want, bool write)
{
	gaddr_t lo = G(arena), hi = lo + arena_len;
	if (addr < lo || addr >= hi)
		return 0;
	return MIN(want, hi - addr);
}
WEAK int copy_from_guest(void *dst, gaddr_t src, size_t n)
{
	if (n && guest_accessible_len(src, n, false) < n)
		return -EFAULT;
	memcpy(dst, (void *)(uintptr_t)src, n);
	return 0;
}
WEAK int copy_to_guest(gaddr_t dst, const void *src, size_t n)
{
	if (n && guest_accessible_len(dst, n, true) < n)
		return -EFAULT;
	memcpy((void *)(uintptr_t)dst, src, n);
	return 0;
}
WEAK long strncpy_from_guest(char *dst, gaddr_t src, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (!guest_accessible_len(src + i, 1, false))
			return -EFAULT;
		if (!(dst[i] = *(char *)(uintptr_t)(src + i)))
			return i;
	}
	return -ENAMETOOLONG;
}
/* One iovec per page, to exercise the multi-iovec paths. */
WEAK int guest_iovecs(gaddr_t addr, size_t len, bool write, struct iovec *iov, int max,
		      size_t *covered)
{
	size_t acc = guest_accessible_len(addr, len, write), done = 0;
	int n = 0;
	while (done < acc && n < max) {
		size_t l = MIN(acc - done, PAGE_SIZE - ((addr + done) & (PAGE_SIZE - 1)));
		iov[n++] = (struct iovec){ (void *)(uintptr_t)(addr + done), l };
		done += l;
	}
	*covered = done;
	return n;
}
WEAK void guest_mem_lock(void) {}
WEAK void guest_mem_unlock(void) {}
#endif
