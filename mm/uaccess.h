/* Copying between the kernel and the current guest's memory.
 *
 * Every kernel access to guest memory goes through these functions. They
 * translate guest addresses through the current task's VMAs into the
 * kernel's own mapping of the memory file and copy with routines listed in
 * the exception table (mm/copy_x86_64.S), so a fault while copying returns
 * -EFAULT instead of crashing the kernel. Protections are checked like
 * Linux: reading needs a readable VMA, writing a writable one. */
#ifndef COCOON_UACCESS_H
#define COCOON_UACCESS_H

#include "kernel/kernel.h"

/* 0, or -EFAULT if any byte of [src, src+n) is not readable guest memory. */
int copy_from_guest(void *dst, gaddr_t src, size_t n);

/* A guest iovec (struct iovec of the guest: base and length). */
struct guest_seg {
	uint64_t base, len;
};
#define GUEST_IOV_MAX 1024 /* Linux's UIO_MAXIOV */
/* Linux's TASK_SIZE_MAX: the end of user addresses for access_ok and
 * arch_prctl (one page below 2^47). Guest memory itself ends below it,
 * at GUEST_TASK_SIZE (mm/mm.h), where the stub begins. */
#define TASK_SIZE_MAX 0x7ffffffff000UL
/* Linux's import_iovec: cnt (at most GUEST_IOV_MAX, else -EINVAL) guest
 * iovecs from uvec into seg, each length non-negative (-EINVAL) and
 * under the user address limit (-EFAULT), clamped so that the total
 * stays within MAX_RW_COUNT. The total, or -errno. */
long guest_import_iovecs(gaddr_t uvec, uint64_t cnt, struct guest_seg *seg);
/* 0, or -EFAULT if any byte of [dst, dst+n) is not writable guest memory. */
int copy_to_guest(gaddr_t dst, const void *src, size_t n);
/* Zero guest memory; 0 or -EFAULT. */
int clear_guest(gaddr_t dst, size_t n);
/* Copy a NUL-terminated string of at most size-1 bytes plus NUL.
 * Returns its length, -EFAULT, or -ENAMETOOLONG if it does not fit. */
long strncpy_from_guest(char *dst, gaddr_t src, size_t size);

/* Largest n <= want such that [addr, addr+n) is readable (write=false) or
 * writable (write=true) guest memory; 0 if the first byte is not. Used by
 * calls that transfer as much as they can (read into a buffer that ends
 * in an unmapped page returns a short count like Linux). */
size_t guest_accessible_len(gaddr_t addr, size_t want, bool write);

/* Zero-copy I/O: describe the guest buffer [addr, addr+len) as kernel
 * iovecs pointing into the memory file, so host read/write calls can move
 * data straight to or from guest memory. Fills at most max iovecs, stops at
 * the first byte without the needed access; returns the number of iovecs
 * and sets *covered to the bytes they span (0: first byte inaccessible,
 * the call should fail with EFAULT). The caller must hold guest_mem_lock()
 * from before this call until the I/O is finished. */
struct iovec;
int guest_iovecs(gaddr_t addr, size_t len, bool write, struct iovec *iov, int max,
		 size_t *covered);
void guest_mem_lock(void);   /* current mm, shared */
/* Before guest_iovecs(write=true) of a range: give the current process
 * its own copy of copy-on-write pages there, so the transfer cannot reach
 * another process's memory (guest_iovecs stops short at shared pages). */
void guest_prepare_write(gaddr_t addr, size_t len);
void guest_mem_unlock(void);

/* ---- futex words: atomic access to an aligned u32 of guest memory ----
 * The _locked forms are for callers that hold guest_mem_lock() and locks
 * of their own across the access (futex hash buckets): they return 0,
 * -EFAULT if the word is not readable (load) or not writable (the
 * others), or GUEST_WORD_COW when a write must first break copy-on-write
 * sharing: drop every lock, guest_unshare_word(addr), and start again.
 * op is FUTEX_WAKE_OP's: 0 set, 1 add, 2 or, 3 and-not, 4 xor; *old
 * gets the value before. */
#define GUEST_WORD_COW 1
int guest_load32_locked(gaddr_t addr, uint32_t *val);
int guest_cmpxchg32_locked(gaddr_t addr, uint32_t old, uint32_t newval, uint32_t *cur);
int guest_op32_locked(gaddr_t addr, int op, uint32_t oparg, uint32_t *old);
/* Give the current process its own copy of the page of a word it is
 * about to write, if that page is copy-on-write: 0 or -EFAULT. */
int guest_unshare_word(gaddr_t addr);
/* The same operations taking the lock themselves (copy-on-write broken
 * as needed): 0 or -EFAULT. */
int futex_load_guest(gaddr_t addr, uint32_t *val);
int futex_atomic_cmpxchg_guest(gaddr_t addr, uint32_t old, uint32_t newval, uint32_t *cur);
int futex_atomic_op_guest(gaddr_t addr, int op, uint32_t oparg, uint32_t *old);

#endif
