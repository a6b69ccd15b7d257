/* Guest address spaces: the kernel's VMA list is the truth; every change
 * is mirrored into the host process through the platform's batched orders.
 * Anonymous memory is backed by memory-file ranges allocated at map time
 * (the host faults pages in on first touch, without a trap); PROT_NONE
 * reservations get no backing until they become accessible. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mm/mm.h"
#include "mm/memfile.h"
#include "mm/pagecache.h"
#include "mm/hostmap.h"
#include "mm/copy.h"
#include "mm/mmap_shared.h"
#include "platform/platform.h"
#include "fs/file.h"
#include "kernel/task.h"

struct mm *mm_new(struct platform_as *as)
{
	struct mm *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return NULL;
	pthread_rwlock_init(&mm->lock, NULL);
	mm->as = as;
	mm->users = 1;
	mm->mmap_base = GUEST_TASK_SIZE;
	return mm;
}

/* A piece of a shared image of a host file (mm/mmap_shared.h). */
static bool maps_shared_image(const struct vma *v)
{
	return v->kind == VMA_FILE && (v->flags & MAP_SHARED) && v->off != NO_BACKING && v->file &&
	       shared_image_file(v->file);
}

static void free_backing(const struct vma *v, void *ctx)
{
	if (v->off != NO_BACKING && v->kind != VMA_VVAR)
		memfile_free(v->off, v->end - v->start);
}

void mm_put(struct mm *mm)
{
	if (!mm || __atomic_sub_fetch(&mm->users, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	platform_as_destroy(mm->as);
	for (size_t i = 0; i < mm->vmas.n; i++)
		free_backing(&mm->vmas.v[i], NULL);
	for (size_t i = 0; i < mm->vmas.n; i++) /* their changes reach the host */
		if (maps_shared_image(&mm->vmas.v[i]))
			shared_image_unmapped(mm->vmas.v[i].file, mm->vmas.v[i].file_off,
					      mm->vmas.v[i].end - mm->vmas.v[i].start);
	vma_list_free(&mm->vmas);
	pthread_rwlock_destroy(&mm->lock);
	free(mm);
}

gaddr_t mm_find_free(struct mm *mm, size_t len)
{
	/* Top-down below mmap_base, like Linux's default layout. */
	gaddr_t top = mm->mmap_base;
	size_t i = vma_index_after(&mm->vmas, top);
	if (i < mm->vmas.n && mm->vmas.v[i].start < top) /* straddles mmap_base */
		top = mm->vmas.v[i].start;
	for (;;) {
		gaddr_t floor = i > 0 ? mm->vmas.v[i - 1].end : GUEST_MIN_ADDR;
		if (top > floor && top - floor >= len)
			return top - len;
		if (i == 0)
			return 0;
		i--;
		top = MIN(top, mm->vmas.v[i].start);
	}
}

/* Map a VMA in the host (nothing for one without backing). */
int mm_host_map(struct mm *mm, const struct vma *v)
{
	if (v->image)
		return platform_as_map_file(mm->as, v->start, v->end - v->start, v->prot & ~PROT_WRITE,
					    v->image->fd, v->file_off);
	if (v->off == NO_BACKING)
		return 0;
	return platform_as_map(mm->as, v->start, v->end - v->start, vma_host_prot(v), v->off);
}

/* Backing of removed VMAs, freed only once the host has unmapped it;
 * pieces of shared images keep their file (a reference) to be written
 * back then. */
struct backing_list {
	struct { uint64_t off, len, file_off; struct file *image; } *v;
	size_t n, cap;
	bool oom;
};

static void free_backing_list(struct backing_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		memfile_free(l->v[i].off, l->v[i].len);
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].image) {
			shared_image_unmapped(l->v[i].image, l->v[i].file_off, l->v[i].len);
			fput(l->v[i].image);
		}
	}
	free(l->v);
}

static void collect_backing(const struct vma *v, void *ctx)
{
	struct backing_list *l = ctx;
	if (v->off == NO_BACKING || v->kind == VMA_VVAR)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *nv = realloc(l->v, cap * sizeof(*l->v));
		if (!nv) {
			l->oom = true; /* leak rather than free too early */
			return;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].off = v->off;
	l->v[l->n].len = v->end - v->start;
	l->v[l->n].file_off = v->file_off;
	l->v[l->n].image = maps_shared_image(v) ? file_get(v->file) : NULL;
	l->n++;
}

/* Remove [start, end) from the kernel's view and queue its unmapping in
 * the host's; its backing goes to `freed`, to be returned to the memory
 * file only after the host process has unmapped it (or is dead): the
 * guest must never keep a mapping of memory that is handed out again. */
static int remove_range(struct mm *mm, gaddr_t start, gaddr_t end, struct backing_list *freed)
{
	if (vma_range_free(&mm->vmas, start, end))
		return 0;
	int err = vma_remove_range(&mm->vmas, start, end, collect_backing, freed);
	return err ? err : platform_as_unmap(mm->as, start, end - start);
}

/* Send what is queued and return `freed` once the host is done with it.
 * With nothing to give back (a host file image, which ld.so maps each
 * library over) in the caller's own address space, the orders wait for
 * the next flush, at the latest before the calling thread resumes, like
 * mprotect's: a round trip less for each of ld.so's MAP_FIXED mappings.
 * Another process's (a shrunk shared file) are sent now: its threads may
 * be running. */
static void release_after_flush(struct mm *mm, struct backing_list *freed)
{
	bool own = current && current->proc->mm == mm;
	if (!freed->n && !freed->oom && own)
		return;
	platform_as_flush(mm->as); /* 0, or the process is dead */
	if (freed->oom)
		klog("out of memory: some guest memory is not returned");
	free_backing_list(freed);
	*freed = (struct backing_list){ 0 };
}

/* Unmap [start, end) in the kernel's view and the host's. */
static int unmap_range(struct mm *mm, gaddr_t start, gaddr_t end)
{
	struct backing_list freed = { 0 };
	int err = remove_range(mm, start, end, &freed);
	release_after_flush(mm, &freed);
	return err;
}

/* Choose where [addr, addr+len) goes per mmap's flags; removes what
 * MAP_FIXED replaces, its backing into `replaced` (the caller returns it
 * with release_after_flush once the new mapping is queued: the host's
 * unmap and map then go in one batch). The address or -errno. */
static long place(struct mm *mm, gaddr_t addr, size_t len, int flags, struct backing_list *replaced)
{
	if (len == 0 || !PAGE_ALIGNED(len) || len > GUEST_TASK_SIZE)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr > GUEST_TASK_SIZE - len)
			return -ENOMEM;
		if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) &&
		    !vma_range_free(&mm->vmas, addr, addr + len))
			return -EEXIST;
		if (flags & MAP_FIXED) {
			int err = remove_range(mm, addr, addr + len, replaced);
			if (err)
				return err;
		}
		return (long)addr;
	}
	if (!addr || addr < GUEST_MIN_ADDR || addr > GUEST_TASK_SIZE - len ||
	    !vma_range_free(&mm->vmas, addr, addr + len))
		addr = mm_find_free(mm, len);
	return addr ? (long)addr : -ENOMEM;
}

/* Insert a VMA and map it in the host. */
static long install(struct mm *mm, struct vma *v)
{
	if (vma_insert(&mm->vmas, v)) {
		free_backing(v, NULL);
		return -ENOMEM;
	}
	int err = mm_host_map(mm, v);
	if (err)
		return err;
	vma_merge_around(&mm->vmas, v->start, v->end);
	return (long)v->start;
}

/* Linux's accountable_mapping: private, writable, not MAP_NORESERVE. */
static bool accountable(int prot, int flags)
{
	return (prot & PROT_WRITE) && !(flags & (MAP_SHARED | MAP_NORESERVE));
}

static long mmap_anon(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags, enum vma_kind kind,
		      struct backing_list *replaced)
{
	long at = place(mm, addr, len, flags, replaced);
	if (at < 0)
		return at;
	struct vma v = {
		.start = (gaddr_t)at, .end = (gaddr_t)at + len, .prot = prot,
		.flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN | MAP_NORESERVE | MAP_STACK), .kind = kind,
		.off = NO_BACKING, .accounted = accountable(prot, flags),
	};
	if (prot != PROT_NONE) {
		int64_t off = memfile_alloc(len);
		if (off < 0)
			return -ENOMEM;
		v.off = (uint64_t)off;
	}
	return install(mm, &v);
}

static long mmap_pages(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags, struct file *f,
		       uint64_t off, struct backing_list *replaced)
{
	long at = place(mm, addr, len, flags & MAP_FIXED, replaced);
	if (at < 0) {
		memfile_free(off, len);
		return at;
	}
	struct vma v = {
		.start = (gaddr_t)at, .end = (gaddr_t)at + len, .prot = prot, .flags = MAP_SHARED,
		.kind = VMA_FILE, .off = off, .file = f,
	};
	vma_file_hold(f);
	if (vma_insert(&mm->vmas, &v)) {
		memfile_free(off, len);
		vma_file_drop(f);
		return -ENOMEM;
	}
	int err = mm_host_map(mm, &v);
	return err ? err : at;
}

void mm_exit_close(struct mm *mm)
{
	pthread_rwlock_wrlock(&mm->lock);
	vma_list_close_files(&mm->vmas);
	pthread_rwlock_unlock(&mm->lock);
}

/* Bytes of f readable from pos (its size then): 0 past the end. */
static uint64_t file_bytes_from(struct file *f, uint64_t pos)
{
	int64_t size = file_size(f);
	if (size < 0 || (uint64_t)size <= pos)
		return 0;
	return (uint64_t)size - pos;
}

/* MAP_SHARED of a file that keeps its bytes in memory-file pages (tmpfs,
 * memfds, the overlay's files): the mapping is those very pages, so
 * writes through it and write(2) see each other, as in Linux; of a host
 * file opened read-write, the pages of its shared image (mmap_shared.h).
 * One VMA per run of contiguous pages. -ENODEV if the file keeps no
 * pages. */
static long map_file_pages(struct mm *mm, gaddr_t at, size_t len, int prot, struct file *f, uint64_t file_off)
{
	size_t n = len / PAGE_SIZE;
	int64_t *pages = malloc(MAX(n, 1) * sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	long err = 0;
	size_t got = 0;
	for (; got < n; got++) {
		uint64_t idx = file_off / PAGE_SIZE + got;
		int64_t off = shared_image_file(f) ? shared_image_page(f, idx) : file_page_get(f, idx, true);
		if (off < 0) {
			err = off;
			break;
		}
		pages[got] = off;
	}
	for (size_t i = 0; !err && i < n;) {
		size_t j = i + 1;
		while (j < n && pages[j] == pages[i] + (int64_t)((j - i) * PAGE_SIZE))
			j++;
		struct vma v = {
			.start = at + i * PAGE_SIZE, .end = at + j * PAGE_SIZE, .prot = prot,
			.flags = MAP_SHARED, .kind = VMA_FILE, .off = (uint64_t)pages[i],
			.file_off = file_off + i * PAGE_SIZE, .file = file_get(f),
			.name = f->path ? strdup(f->path) : NULL,
		};
		long r = install(mm, &v); /* install frees the backing on failure */
		for (size_t k = i; k < j; k++)
			pages[k] = -1;
		if (r < 0)
			err = r;
		i = j;
	}
	for (size_t k = 0; k < got; k++) /* references not handed to a VMA */
		if (pages[k] >= 0)
			memfile_free((uint64_t)pages[k], PAGE_SIZE);
	free(pages);
	return err;
}

void mm_reload_file_pages(struct vma *v, gaddr_t start, gaddr_t end)
{
	if (!v->file || v->off == NO_BACKING)
		return;
	uint64_t pos = v->file_off + (start - v->start);
	uint64_t n = MIN(end - start, file_bytes_from(v->file, pos));
	if (n && kernel_pread(v->file, memfile_ptr(v->off + (start - v->start)), n, (off_t)pos) < 0)
		kdebug("re-reading a mapped file failed");
}

/* Writable private file mappings up to this size are copied at mmap
 * time: a program writes its data and GOT right away, and a copy now is
 * cheaper than copy-on-write faults later. */
#define FILE_COPY_MAX (1UL << 20)

/* A memory-file copy of [file_off, file_off+len) of a host file image
 * (len a page multiple): its offset, or -ENOMEM. A file the host
 * truncated meanwhile reads as zeros past its end, as does the rest of
 * its last page. */
static int64_t copy_of_image(const struct host_image *img, uint64_t file_off, size_t len)
{
	int64_t copy = memfile_alloc_dirty(len);
	if (copy < 0)
		return -ENOMEM;
	size_t have = file_off < img->len ? MIN(len, img->len - file_off) : 0, done = 0;
	/* Written into the file rather than through our mapping of it: the
	 * host then takes a new page without zeroing it first and without a
	 * page fault per page. A page the host truncated ends the write
	 * short (EFAULT). */
	while (done < have) {
		ssize_t n = pwrite(memfile.fd, img->base + file_off + done, have - done, (off_t)((uint64_t)copy + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done < len)
		memset(memfile_ptr((uint64_t)copy + done), 0, len - done);
	return copy;
}

/* Whole pages past the end of the file: no backing, SIGBUS on touch. */
static long mm_mmap_file_tail(struct mm *mm, gaddr_t at, uint64_t backed, size_t len, int prot, int flags,
			      struct file *f, uint64_t file_off)
{
	struct vma tail = {
		.start = at + backed, .end = at + len, .prot = prot,
		.flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_NORESERVE), .kind = VMA_FILE,
		.off = NO_BACKING, .file_off = file_off + backed, .file = file_get(f),
		.accounted = accountable(prot, flags),
		.name = f->path ? strdup(f->path) : NULL,
	};
	long r = install(mm, &tail);
	return r < 0 ? r : (long)at;
}

static long mmap_file(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags, struct file *f,
		      uint64_t file_off, struct backing_list *replaced)
{
	long at = place(mm, addr, len, flags, replaced);
	if (at < 0)
		return at;
	uint64_t backed = MIN(len, PAGE_ALIGN(file_bytes_from(f, file_off)));
	if (flags & MAP_SHARED) {
		/* A read-only view of a file without pages of its own (a host
		 * file, an overlay file not copied up) needs no copy-up. */
		long r = 0;
		if (backed && !(prot & PROT_WRITE) && !shared_image_file(f)) {
			int64_t probe = file_page_get(f, file_off / PAGE_SIZE, false);
			if (probe >= 0)
				memfile_free((uint64_t)probe, PAGE_SIZE);
			r = probe == -ENODEV ? -ENODEV : 0;
		}
		if (backed && !r)
			r = map_file_pages(mm, (gaddr_t)at, backed, prot, f, file_off);
		if (r == -ENODEV && (prot & PROT_WRITE)) {
			kdebug("writable shared mappings of host files are not supported");
			return r;
		}
		if (r < 0 && r != -ENODEV)
			return r;
		if (r == 0) {
			if (backed < len) /* past the end: SIGBUS on touch */
				return mm_mmap_file_tail(mm, (gaddr_t)at, backed, len, prot, flags, f, file_off);
			return at;
		}
		/* a host file read-only: the page cache, as for private ones */
	}
	struct vma v = {
		.start = (gaddr_t)at, .end = (gaddr_t)at + backed, .prot = prot,
		.flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_NORESERVE), .kind = VMA_FILE,
		.off = NO_BACKING, .file_off = file_off, .file = f,
		.accounted = accountable(prot, flags),
	};
	const struct host_image *img = backed && (flags & MAP_PRIVATE) ? host_image_get(f) : NULL;
	if (img && (file_off >= img->len || backed > img->len - file_off))
		img = NULL;
	if (img) {
		/* Read-only: the host file itself. To be written: a copy of
		 * just these bytes, not a page-cache image of the whole file. */
		if (!(prot & PROT_WRITE)) {
			v.image = img;
		} else {
			int64_t copy = copy_of_image(img, file_off, backed);
			if (copy < 0)
				return -ENOMEM;
			v.off = (uint64_t)copy;
		}
		v.name = f->path ? strdup(f->path) : NULL;
		file_get(f);
		long r = install(mm, &v);
		if (r < 0)
			return r;
	} else if (backed) {
		/* Pages of the shared image, copied on write; a private copy
		 * of the bytes if the file cannot be cached. */
		int64_t off = pagecache_map(f, file_off, backed);
		if (off >= 0 && (prot & PROT_WRITE) && (flags & MAP_PRIVATE) && backed <= FILE_COPY_MAX) {
			/* Written at once (data, GOT): copied now, not faulted. */
			int64_t copy = memfile_alloc_dirty(backed);
			if (copy >= 0)
				memcpy(memfile_ptr((uint64_t)copy), memfile_ptr((uint64_t)off), backed);
			memfile_free((uint64_t)off, backed);
			if (copy < 0)
				return -ENOMEM;
			v.off = (uint64_t)copy;
		} else if (off >= 0) {
			v.off = (uint64_t)off;
			v.cow = true;
		} else {
			if ((off = memfile_alloc(backed)) < 0)
				return -ENOMEM;
			v.off = (uint64_t)off;
			mm_reload_file_pages(&v, v.start, v.end);
		}
		v.name = f->path ? strdup(f->path) : NULL;
		file_get(f);
		long r = install(mm, &v);
		if (r < 0)
			return r;
	}
	return backed < len ? mm_mmap_file_tail(mm, (gaddr_t)at, backed, len, prot, flags, f, file_off) : at;
}

long mm_mmap_anon(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags, enum vma_kind kind)
{
	struct backing_list replaced = { 0 };
	long r = mmap_anon(mm, addr, len, prot, flags, kind, &replaced);
	release_after_flush(mm, &replaced);
	return r;
}

long mm_mmap_pages(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags, struct file *f,
		   uint64_t off)
{
	struct backing_list replaced = { 0 };
	long r = mmap_pages(mm, addr, len, prot, flags, f, off, &replaced);
	release_after_flush(mm, &replaced);
	return r;
}

long mm_mmap_file(struct mm *mm, gaddr_t addr, size_t len, int prot, int flags, struct file *f,
		  uint64_t file_off)
{
	struct backing_list replaced = { 0 };
	long r = mmap_file(mm, addr, len, prot, flags, f, file_off, &replaced);
	release_after_flush(mm, &replaced);
	return r;
}

bool mm_is_mapped(struct mm *mm, gaddr_t addr)
{
	pthread_rwlock_rdlock(&mm->lock);
	bool mapped = vma_find(&mm->vmas, addr) != NULL;
	pthread_rwlock_unlock(&mm->lock);
	return mapped;
}

bool mm_fault_file_grew(struct mm *mm, gaddr_t addr)
{
	gaddr_t page = addr & ~(gaddr_t)(PAGE_SIZE - 1);
	bool backed = false;
	pthread_rwlock_wrlock(&mm->lock);
	struct vma *v = vma_find(&mm->vmas, page);
	if (v && v->kind == VMA_FILE && v->off == NO_BACKING && !v->image && v->file && (v->flags & MAP_SHARED) &&
	    v->prot != PROT_NONE) {
		struct file *f = file_get(v->file);
		int prot = v->prot;
		uint64_t file_off = v->file_off + (page - v->start);
		size_t len = MIN(v->end - page, PAGE_ALIGN(file_bytes_from(f, file_off)));
		struct backing_list freed = { 0 };
		/* The pages the file has now, from the faulting one to the
		 * mapping's end or the file's: its own pages from here on. */
		if (len && remove_range(mm, page, page + len, &freed) == 0 &&
		    map_file_pages(mm, page, len, prot, f, file_off) == 0)
			backed = true;
		platform_as_flush(mm->as);
		free_backing_list(&freed);
		fput(f);
	}
	pthread_rwlock_unlock(&mm->lock);
	return backed;
}

bool mm_fault_is_bus(struct mm *mm, gaddr_t addr)
{
	pthread_rwlock_rdlock(&mm->lock);
	struct vma *v = vma_find(&mm->vmas, addr);
	bool bus = v && v->kind == VMA_FILE && v->off == NO_BACKING && !v->image && v->prot != PROT_NONE;
	pthread_rwlock_unlock(&mm->lock);
	return bus;
}

long mm_munmap(struct mm *mm, gaddr_t addr, size_t len)
{
	return unmap_range(mm, addr, addr + len);
}

/* Linux's VMA "without an anon_vma" (mprotect then drops VM_ACCOUNT):
 * private anonymous memory never written. Approximated by the memory
 * file holding no page of v (untouched; pages fallocated by a guest
 * are holes to SEEK_DATA); Linux looks at the whole VMA v was split
 * from. */
static bool never_written(const struct vma *v)
{
	if (v->flags & MAP_SHARED)
		return false;
	if (v->off == NO_BACKING)
		return true;
	off_t data = lseek(memfile.fd, (off_t)v->off, SEEK_DATA);
	return (data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= v->off + (v->end - v->start));
}

long mm_mprotect(struct mm *mm, gaddr_t start, size_t len, int prot)
{
	gaddr_t end = start + len;
	int err = vma_split_at(&mm->vmas, start);
	if (!err)
		err = vma_split_at(&mm->vmas, end);
	if (err)
		return err;
	/* Like Linux, VMAs before a hole keep their new protection and the
	 * call fails with ENOMEM at the hole. */
	gaddr_t at = start;
	long ret = 0;
	for (size_t i = vma_index_after(&mm->vmas, start); at < end; i++) {
		if (i >= mm->vmas.n || mm->vmas.v[i].start != at) {
			ret = -ENOMEM;
			break;
		}
		struct vma *v = &mm->vmas.v[i];
		if (v->kind == VMA_VVAR && (prot & (PROT_WRITE | PROT_EXEC))) {
			ret = -EACCES; /* Linux: the [vvar] mapping has only VM_MAYREAD */
			break;
		}
		if ((prot & PROT_WRITE) && v->kind == VMA_FILE && (v->flags & MAP_SHARED) && v->file &&
		    (v->file->flags & O_ACCMODE) == O_RDONLY) {
			ret = -EACCES; /* no VM_MAYWRITE: a shared mapping of a read-only file (SHM_RDONLY) */
			break;
		}
		if (v->prot != prot) {
			v->prot = prot;
			if (accountable(prot, v->flags))
				v->accounted = true;
			else if (!(prot & PROT_WRITE) && v->kind != VMA_FILE && v->accounted && never_written(v))
				v->accounted = false;
			if (v->off == NO_BACKING && prot != PROT_NONE && v->kind != VMA_FILE) {
				int64_t off = memfile_alloc(v->end - v->start);
				if (off < 0) {
					ret = -ENOMEM;
					break;
				}
				v->off = (uint64_t)off;
				err = mm_host_map(mm, v);
			} else if (v->image && (prot & PROT_WRITE)) {
				err = mm_image_to_memfile(mm, v);
			} else if (v->off != NO_BACKING || v->image) {
				err = platform_as_protect(mm->as, v->start, v->end - v->start, vma_host_prot(v));
			}
			if (err) {
				ret = err;
				break;
			}
		}
		at = v->end;
	}
	vma_merge_around(&mm->vmas, start, end);
	return ret;
}

int mm_image_to_memfile(struct mm *mm, struct vma *v)
{
	int64_t copy = copy_of_image(v->image, v->file_off, v->end - v->start);
	if (copy < 0)
		return -ENOMEM;
	v->image = NULL;
	v->off = (uint64_t)copy;
	return mm_host_map(mm, v);
}

void *mm_translate(struct mm *mm, gaddr_t addr, bool write, size_t *avail)
{
	struct vma *v = vma_find(&mm->vmas, addr);
	if (v && v->image) {
		if (write || !(v->prot & (PROT_READ | PROT_EXEC)))
			return NULL;
		if (avail)
			*avail = v->end - addr;
		return (void *)(v->image->base + v->file_off + (addr - v->start));
	}
	if (!v || v->off == NO_BACKING)
		return NULL;
	if (write && v->cow && (v->prot & PROT_WRITE)) {
		/* Shared pages: the caller must break the sharing first. */
		if (avail)
			*avail = MM_NEEDS_COW;
		return NULL;
	}
	/* x86 pages are readable whenever they are accessible at all. */
	if (write ? !(v->prot & PROT_WRITE) : !(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		return NULL;
	if (avail)
		*avail = v->end - addr;
	return memfile_ptr(v->off + (addr - v->start));
}

int mm_poke(struct mm *mm, gaddr_t addr, const void *src, size_t n)
{
	const char *s = src;
	while (n) {
		struct vma *v = vma_find(&mm->vmas, addr);
		if (v && v->image && mm_image_to_memfile(mm, v))
			return -ENOMEM;
		if (!v || v->off == NO_BACKING)
			return -EFAULT;
		size_t chunk = MIN(n, v->end - addr);
		if (raw_copy(memfile_ptr(v->off + (addr - v->start)), s, chunk))
			return -EFAULT;
		addr += chunk;
		s += chunk;
		n -= chunk;
	}
	return 0;
}

/* Pieces of one address space's shared mappings of inode that lie at or
 * past file offset `from`: unmapped in the host, their pages dropped, so
 * touching them is SIGBUS, as after a truncate on Linux. */
static void shrink_mm(struct mm *mm, const void *inode, uint64_t from)
{
	pthread_rwlock_wrlock(&mm->lock);
	struct backing_list freed = { 0 };
	for (size_t i = 0; i < mm->vmas.n; i++) {
		struct vma *v = &mm->vmas.v[i];
		if (v->kind != VMA_FILE || !(v->flags & MAP_SHARED) || v->off == NO_BACKING || !v->file ||
		    v->file->inode != inode || v->file_off + (v->end - v->start) <= from)
			continue;
		gaddr_t cut = v->start + (from > v->file_off ? from - v->file_off : 0);
		if (cut > v->start) {
			if (vma_split_at(&mm->vmas, cut))
				continue;
			continue; /* the piece past the cut comes next in the list */
		}
		collect_backing(v, &freed);
		v->off = NO_BACKING;
		platform_as_unmap(mm->as, v->start, v->end - v->start);
	}
	platform_as_flush(mm->as);
	free_backing_list(&freed);
	pthread_rwlock_unlock(&mm->lock);
}

void mm_file_shrunk(const void *inode, uint64_t size)
{
	uint64_t from = PAGE_ALIGN(size);
	/* Every address space that may map it, held while we work. */
	struct mm **mms = NULL;
	size_t n = 0, cap = 0;
	pthread_mutex_lock(&tasklist_lock);
	for (int pid = 1; pid < PID_MAX; pid++) {
		struct process *p = pid_lookup(pid);
		if (!p)
			continue;
		pthread_mutex_lock(&p->lock);
		struct mm *mm = p->mm;
		bool seen = false;
		for (size_t k = 0; mm && k < n; k++)
			seen |= mms[k] == mm;
		if (mm && !seen && (n < cap || (mms = realloc(mms, (cap = cap ? 2 * cap : 16) * sizeof(*mms))))) {
			__atomic_add_fetch(&mm->users, 1, __ATOMIC_ACQ_REL);
			mms[n++] = mm;
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
	for (size_t k = 0; k < n; k++) {
		shrink_mm(mms[k], inode, from);
		mm_put(mms[k]);
	}
	free(mms);
}
