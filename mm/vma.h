/* The kernel's list of a guest address space's mappings. */
#ifndef COCOON_VMA_H
#define COCOON_VMA_H

#include "kernel/kernel.h"

#define NO_BACKING UINT64_MAX
#define VMA_MAX 65000 /* below the host's default max_map_count (65530) */

struct file;
struct vma_name; /* mm/vma_name.h */
struct host_image; /* mm/hostmap.h */

/* VMA_VVAR: the sandbox's [vvar] pages (kernel/vdso.c), shared by every
 * guest: their backing belongs to the kernel (never freed with the VMA)
 * and they can never be made writable or executable. VMA_VDSO: a
 * process's copy of the vDSO, otherwise anonymous memory. */
enum vma_kind { VMA_ANON, VMA_STACK, VMA_HEAP, VMA_FILE, VMA_VVAR, VMA_VDSO };

struct vma {
	gaddr_t start, end;  /* page aligned, [start, end) */
	int prot;            /* PROT_READ|PROT_WRITE|PROT_EXEC */
	/* MAP_SHARED or MAP_PRIVATE, MAP_GROWSDOWN, MAP_NORESERVE; MAP_STACK:
	 * a thread stack (as Linux's VM_NOHUGEPAGE does, it keeps the
	 * mapping from merging with others) */
	int flags;
	enum vma_kind kind;
	uint64_t off;        /* memory-file offset of start, or NO_BACKING */
	uint64_t file_off;   /* for /proc/maps of file mappings */
	char *name;          /* file path for VMA_FILE (owned), else NULL */
	struct file *file;   /* VMA_FILE: the mapped file (a reference) */
	struct vma_name *anon_name; /* prctl PR_SET_VMA name (a reference), or NULL */
	/* Linux's VM_ACCOUNT: private memory that was writable at some time
	 * (never cleared, not for MAP_NORESERVE). Linux merges only VMAs
	 * with equal flags, so a RELRO part made read-only stays apart from
	 * the read-only segment before it. */
	bool accounted;
	/* Private pages that may be shared with another address space since
	 * a fork: mapped read-only in the host whatever prot says, so a
	 * write faults and copies (mm/cow.c). */
	bool cow;
	/* VMA_FILE mapped straight from a host file (mm/hostmap.h): off is
	 * NO_BACKING, the bytes are image's from file_off on, prot never has
	 * PROT_WRITE. */
	const struct host_image *image;
};

/* The protection the host mapping of v gets. */
static inline int vma_host_prot(const struct vma *v)
{
	return v->cow ? v->prot & ~0x2 /* PROT_WRITE */ : v->prot;
}

/* A sorted array of non-overlapping VMAs. */
struct vma_list {
	struct vma *v;
	size_t n, cap;
};

struct vma *vma_find(struct vma_list *l, gaddr_t addr); /* VMA containing addr */
size_t vma_index_after(struct vma_list *l, gaddr_t addr); /* first VMA with end > addr */
int vma_insert(struct vma_list *l, const struct vma *v); /* range must be free */
/* Cut [start, end) out of the list; for each removed piece call fn. */
int vma_remove_range(struct vma_list *l, gaddr_t start, gaddr_t end,
		     void (*fn)(const struct vma *piece, void *ctx), void *ctx);
/* Split so that start and end are VMA boundaries (if inside VMAs). */
int vma_split_at(struct vma_list *l, gaddr_t addr);
/* Merge neighbours that are contiguous in address and backing. */
void vma_merge_around(struct vma_list *l, gaddr_t start, gaddr_t end);
bool vma_range_free(struct vma_list *l, gaddr_t start, gaddr_t end);
void vma_list_free(struct vma_list *l);
/* A VMA's reference to its file: taken (and the file's vma_open hook
 * run) when a VMA comes to map it, dropped (vma_close) when it goes. */
void vma_file_hold(struct file *f);
void vma_file_drop(struct file *f);
/* The process is gone and the list will be freed later (in the
 * background): run the vma_close hooks now, so that what they count
 * (SysV shm attachments) is right when the exit is seen. */
void vma_list_close_files(struct vma_list *l);

#endif
