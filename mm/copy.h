/* Raw copy routines between kernel pointers that may fault (pages of the
 * memory file). Every instruction in them that may fault is listed in the
 * exception table, so a fault resumes at a fixup instead of killing the
 * kernel. mm/uaccess.c builds the guest-address API on top of these. */
#ifndef COCOON_COPY_H
#define COCOON_COPY_H

#include <stddef.h>
#include <stdint.h>

/* Return the number of bytes NOT copied/cleared (0 on success); exact:
 * every byte before the first faulting one is copied/cleared. A fault is a
 * SIGSEGV or SIGBUS (e.g. a truncated memfd page) raised by the CPU; the
 * handlers of kernel/fault.c (fault_init) must be installed. */
size_t raw_copy(void *dst, const void *src, size_t n);
size_t raw_clear(void *dst, size_t n);
/* Copy bytes until and including a NUL, at most n. Returns the bytes
 * copied (the NUL included if found; n if none was found), or -1 on a
 * fault. */
long raw_strncpy(char *dst, const char *src, size_t n);
/* Atomic compare-and-exchange on a u32 that may fault: 0 and *old updated
 * with the value found, or -EFAULT (futexes). */
int raw_cmpxchg32(uint32_t *p, uint32_t *old, uint32_t newval);
/* Atomic load of a u32 that may fault: 0 or -EFAULT. */
int raw_load32(const uint32_t *p, uint32_t *out);
/* FUTEX_WAKE_OP's operations on a u32 that may fault: *p = *p op oparg
 * atomically (op 0 set, 1 add, 2 or, 3 and-not, 4 xor; others are the
 * caller's to refuse). 0 with *old = the value before, or -EFAULT. */
int raw_futex_op32(uint32_t *p, int op, uint32_t oparg, uint32_t *old);

#endif
