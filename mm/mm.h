/* A guest address space: its VMAs, heap, layout, and the host process
 * that maps it. All changes go through these functions, which keep the
 * kernel's VMA list and the host mappings (done by the stub's control
 * thread, batched until the next resume) in step. */
#ifndef COCOON_MM_H
#define COCOON_MM_H

#include <pthread.h>
#include "mm/vma.h"

struct platform_as; /* the platform's view of the host process */

/* Guest addresses live below the stub region. */
#define GUEST_TASK_SIZE 0x7fff00000000UL
#define GUEST_MIN_ADDR 0x10000UL /* vm.mmap_min_addr */

struct mm {
	pthread_rwlock_t lock; /* held for reading while copying */
	struct vma_list vmas;
	gaddr_t start_brk, brk;
	gaddr_t mmap_base;      /* top-down allocation starts below this */
	gaddr_t start_stack;    /* initial sp (for [stack]) */
	gaddr_t arg_start, arg_end, env_start, env_end;
	struct platform_as *as;
	int users;
	uint64_t hiwater_rss;   /* bytes; mm/rss.c (atomic) */
};

struct mm *mm_new(struct platform_as *as);
void mm_put(struct mm *mm);

/* mmap semantics of Linux for anonymous memory (flags as in mmap(2)).
 * Returns the address or -errno. */
long mm_mmap_anon(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags,
		  enum vma_kind kind);
/* Map the memory-file pages [off, off+len) (len a page multiple; the
 * caller's page references are handed over, also on failure) as one
 * MAP_SHARED mapping of f: SysV shm attachments. flags: MAP_FIXED or
 * none; the VMA takes a reference to f (vma_file_hold). The address or
 * -errno. */
long mm_mmap_pages(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags, struct file *f,
		   uint64_t off);
/* The last process using mm ended: run its mappings' vma_close hooks
 * now (the memory itself may be freed later, in the background). */
void mm_exit_close(struct mm *mm);
/* A private copy of a file's bytes (the file is not written back): the
 * pages the file covers get its contents, whole pages past its end stay
 * unbacked, so touching them raises SIGBUS like Linux. Takes a reference
 * to f. */
long mm_mmap_file(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags, struct file *f,
		  uint64_t file_off);
/* Give private file pages their file contents again (MADV_DONTNEED). */
void mm_reload_file_pages(struct vma *v, gaddr_t start, gaddr_t end);
/* A file shrank to size: shared mappings of its pages past the new end
 * (in every process) lose them, so touching them is SIGBUS. inode: the
 * file's inode. Takes tasklist_lock and mm locks: call without fs locks. */
void mm_file_shrunk(const void *inode, uint64_t size);
/* Whether addr lies in a VMA (a fault there is an access error). */
bool mm_is_mapped(struct mm *mm, gaddr_t addr);
/* Whether a fault at addr is an access past the end of a mapped file. */
bool mm_fault_is_bus(struct mm *mm, gaddr_t addr);
/* A fault on a shared file mapping's pages that were past the file's end
 * (when mapped, or since a truncate): if the file has grown over them,
 * they get the file's pages now and the access is retried (Linux faults
 * them in; SIGBUS is only for pages past the end at fault time). */
bool mm_fault_file_grew(struct mm *mm, gaddr_t addr);
long mm_munmap(struct mm *mm, gaddr_t addr, size_t len);
/* Resident bytes (mm/rss.c): of memory-file range [off, off + len), and
 * of an address space (its lock held). */
uint64_t memfile_resident(uint64_t off, uint64_t len);
/* Bytes of [off, off + len) of the host file fd in the host's page
 * cache, by cachestat(2) (Linux 6.5+; -1 without it). */
int64_t host_file_cached(int fd, uint64_t off, uint64_t len);
uint64_t mm_rss_locked(struct mm *mm);
/* The peak resident bytes, brought up to date now (lock held, or taken
 * for reading by the second). */
uint64_t mm_hiwater_update_locked(struct mm *mm);
uint64_t mm_hiwater_rss(struct mm *mm);
/* Before [start, end) loses its pages (munmap, MADV_DONTNEED; lock
 * held): the peak brought up to date if they are worth it (a range of
 * RSS_HIWATER_MIN or more holding resident pages). */
void mm_hiwater_before_drop_locked(struct mm *mm, gaddr_t start, gaddr_t end);
#define RSS_HIWATER_MIN (128UL << 10) /* malloc's smallest mmap'ed block */
long mm_mprotect(struct mm *mm, gaddr_t addr, size_t len, int prot);
/* Find a free range of len bytes top-down below mmap_base; 0 if none. */
gaddr_t mm_find_free(struct mm *mm, size_t len);

/* Write into guest memory ignoring protections (ELF loading, stack set-up).
 * 0 or -EFAULT if not mapped. */
int mm_poke(struct mm *mm, gaddr_t addr, const void *src, size_t n);

/* Kernel pointer for guest address with the given access; NULL if none.
 * *avail gets the bytes contiguous from there within one VMA. Caller holds
 * mm->lock. A write to copy-on-write pages gives NULL with *avail set to
 * MM_NEEDS_COW: break the sharing (mm_cow_break, without the lock) and
 * try again. */
#define MM_NEEDS_COW ((size_t)-1)
void *mm_translate(struct mm *mm, gaddr_t addr, bool write, size_t *avail);

/* Give v, a VMA mapped from a host file (v->image), a copy of its bytes
 * in the memory file instead, mapped in the host: it is to be written.
 * mm->lock held for writing. 0 or -errno. */
int mm_image_to_memfile(struct mm *mm, struct vma *v);

/* Map a VMA in the host (nothing for one without backing). */
int mm_host_map(struct mm *mm, const struct vma *v);

/* ---- fork and copy-on-write (mm/cow.c) ---- */
/* A copy of parent for a child process mapped by as: private pages are
 * shared copy-on-write (both sides lose write access in the host until
 * they write), except small writable mappings and the stack around sp,
 * which the child gets copies of; MAP_SHARED pages stay shared. Takes
 * parent->lock. The child's mapping orders are queued, not flushed. NULL
 * if out of memory. */
/* others_run: other threads may write the parent's memory meanwhile;
 * its writable pages are then write-protected in the host first, so the
 * child's copy is one instant's, as Linux's fork gives. */
struct mm *mm_fork(struct mm *parent, struct platform_as *as, gaddr_t sp, bool others_run);
/* A write fault at addr: true if it was copy-on-write and is resolved
 * (the guest retries the access), false if it is the guest's fault. */
bool mm_cow_fault(struct mm *mm, gaddr_t addr);
/* A fault (x86 page-fault error code err) that the mapping as it is now
 * allows: another thread changed it between the fault and its handling
 * (unshared the copy-on-write range, mprotect). Retry the access. */
bool mm_fault_stale(struct mm *mm, gaddr_t addr, uint64_t err);
/* Make [addr, addr+len) privately owned where it is copy-on-write (for
 * kernel writes into guest memory). Takes mm->lock. */
/* Before MADV_DONTNEED of [start, end) (page aligned, mm->lock held for
 * writing): shared private pages there are replaced by fresh ones
 * instead of copies. 0 or -errno. */
int mm_cow_drop_locked(struct mm *mm, gaddr_t start, gaddr_t end);
int mm_cow_break(struct mm *mm, gaddr_t addr, size_t len); /* 0 or -errno */

/* ---- the stack's extent (mm/stack.c) ---- */
/* Linux's initial stack VMA start (128 KiB below the argument strings),
 * 0 if unknown. */
gaddr_t mm_stack_floor(const struct mm *mm);
/* The lowest page of stack piece v below floor that the program used
 * (holds anything but zeros), else v->end. */
gaddr_t mm_stack_used_lo(const struct vma *v, gaddr_t floor);
/* Where Linux's stack VMA would start by now (cocoon reserves the whole
 * limit at once): the lower of the floor and the lowest page used; 0 if
 * there is no initial stack. *reserved: where cocoon's reservation
 * starts. mm->lock held. */
gaddr_t mm_stack_start(struct mm *mm, gaddr_t *reserved);

/* ---- another address space (mm/remote.c) ---- */
/* Copy [addr, addr+len) of mm into buf (write: from buf into it), up to
 * the first byte that is not readable (writable), like Linux's
 * access_remote_vm without FOLL_FORCE: the bytes copied. Copy-on-write
 * pages written get their own copy. Takes mm->lock for reading; the
 * caller keeps mm alive. */
long mm_access_remote(struct mm *mm, gaddr_t addr, void *buf, size_t len, bool write);
long mm_read_remote(struct mm *mm, gaddr_t addr, void *buf, size_t len);

/* ---- futex keys (mm/futex_key.c) ---- */
/* What a shared futex at addr (aligned) is keyed by: 1 with *off its
 * memory-file offset (MAP_SHARED memory, or a read-only private file
 * mapping: the page cache's page, the same in every process mapping the
 * file), 0 for private memory (the address space is the key), or -EFAULT
 * if it is not mapped with the access (write: writable), like Linux's
 * get_futex_key. Takes mm->lock. */
int mm_futex_backing(struct mm *mm, gaddr_t addr, bool write, uint64_t *off);

#endif
