/* Shared images of host files for writable MAP_SHARED mappings, and
 * msync (see mmap_shared.h). An image is two sparse page trees of the
 * memory file: the pages the mappings share, and a clean copy of what
 * the host file held there, to find what the guest changed. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mm/mmap_shared.h"
#include "mm/mm.h"
#include "mm/memfile.h"
#include "fs/file.h"
#include "fs/filepages.h"
#include "fs/memfs.h"
#include "kernel/syscall.h"
#include "kernel/task.h"

struct image {
	dev_t dev;
	ino_t ino;
	int fd;                   /* the image's own host fd, read-write */
	struct filepages pages;   /* what the mappings map */
	struct filepages clean;   /* what the host file holds there */
	struct image *next;
};

static struct {
	pthread_mutex_t lock;
	struct image *list;
	atomic_int count;         /* images alive: 0 makes the hooks free */
} images = { .lock = PTHREAD_MUTEX_INITIALIZER };

bool shared_images_exist(void)
{
	return atomic_load_explicit(&images.count, memory_order_relaxed) != 0;
}

bool shared_image_file(const struct file *f)
{
	return f->hostfd >= 0 && S_ISREG(f->type) && (f->flags & O_ACCMODE) == O_RDWR &&
	       !(f->inode && memfs_is(f->inode));
}

/* f's image (NULL: none), images.lock held. */
static struct image *find(const struct file *f)
{
	struct stat st;
	if (f->hostfd < 0 || fstat(f->hostfd, &st) < 0)
		return NULL;
	for (struct image *im = images.list; im; im = im->next)
		if (im->dev == st.st_dev && im->ino == st.st_ino)
			return im;
	return NULL;
}

static struct image *find_or_make(const struct file *f)
{
	struct stat st;
	if (fstat(f->hostfd, &st) < 0)
		return NULL;
	for (struct image *im = images.list; im; im = im->next)
		if (im->dev == st.st_dev && im->ino == st.st_ino)
			return im;
	struct image *im = calloc(1, sizeof(*im));
	if (!im)
		return NULL;
	im->fd = fcntl(f->hostfd, F_DUPFD_CLOEXEC, 3);
	if (im->fd < 0) {
		free(im);
		return NULL;
	}
	im->dev = st.st_dev;
	im->ino = st.st_ino;
	im->next = images.list;
	images.list = im;
	atomic_fetch_add(&images.count, 1);
	return im;
}

/* Read page idx of the host file into the image and its clean copy (a
 * short read leaves zeros, like the tail of a file's last page). */
static int load_page(struct image *im, uint64_t idx, int64_t page, int64_t clean)
{
	char *p = memfile_ptr((uint64_t)page);
	size_t got = 0;
	while (got < PAGE_SIZE) {
		ssize_t n = pread(im->fd, p + got, PAGE_SIZE - got, (off_t)(idx * PAGE_SIZE + got));
		if (n < 0)
			return -EIO;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	memset(p + got, 0, PAGE_SIZE - got);
	memcpy(memfile_ptr((uint64_t)clean), p, PAGE_SIZE);
	return 0;
}

int64_t shared_image_page(struct file *f, uint64_t idx)
{
	if (idx >= FP_MAX_PAGES)
		return -EFBIG;
	pthread_mutex_lock(&images.lock);
	struct image *im = find_or_make(f);
	int64_t off = im ? fp_lookup(&im->pages, idx) : -ENOMEM;
	if (im && off == -1) {
		off = fp_get(&im->pages, idx, 1);
		int64_t clean = off >= 0 ? fp_get(&im->clean, idx, 1) : off;
		int err = clean < 0 ? (int)clean : load_page(im, idx, off, clean);
		if (err) {
			fp_punch(&im->pages, idx, idx + 1);
			fp_punch(&im->clean, idx, idx + 1);
			off = err;
		}
	}
	if (off >= 0)
		memfile_ref((uint64_t)off, PAGE_SIZE);
	pthread_mutex_unlock(&images.lock);
	return off;
}

/* Write back what changed in page idx: the span from its first to its
 * last changed byte, within the file's size. images.lock held. */
static int sync_page(struct image *im, uint64_t idx, off_t size)
{
	int64_t page = fp_lookup(&im->pages, idx), clean = fp_lookup(&im->clean, idx);
	if (page < 0 || clean < 0)
		return 0;
	const unsigned char *p = memfile_ptr((uint64_t)page);
	unsigned char *c = memfile_ptr((uint64_t)clean);
	size_t lo = 0, hi = PAGE_SIZE;
	while (lo < hi && p[lo] == c[lo])
		lo++;
	while (hi > lo && p[hi - 1] == c[hi - 1])
		hi--;
	off_t at = (off_t)(idx * PAGE_SIZE);
	if (lo == hi || at + (off_t)lo >= size)
		return 0;
	hi = MIN(hi, (size_t)(size - at));
	for (size_t done = lo; done < hi;) {
		ssize_t n = pwrite(im->fd, p + done, hi - done, at + (off_t)done);
		if (n <= 0)
			return -EIO;
		done += (size_t)n;
	}
	memcpy(c + lo, p + lo, hi - lo);
	return 0;
}

/* The pages of [off, off+len) that the image holds, one at a time. */
#define FOR_EACH_PAGE(im, idx, off, len)                                                     \
	for (uint64_t idx = fp_next_data(&(im)->pages, (off) / PAGE_SIZE),                  \
		      idx##_end = (len) > UINT64_MAX - (off) ? UINT64_MAX                        \
								  : ((off) + (len) + PAGE_SIZE - 1) / PAGE_SIZE; \
	     idx < idx##_end; idx = fp_next_data(&(im)->pages, idx + 1))

static int sync_locked(struct image *im, uint64_t off, uint64_t len)
{
	struct stat st;
	if (fstat(im->fd, &st) < 0)
		return -EIO;
	int err = 0;
	FOR_EACH_PAGE(im, idx, off, len)
		if (sync_page(im, idx, st.st_size))
			err = -EIO;
	return err;
}

int shared_image_sync(struct file *f, uint64_t off, uint64_t len)
{
	if (!atomic_load(&images.count) || !len)
		return 0;
	pthread_mutex_lock(&images.lock);
	struct image *im = find(f);
	int err = im ? sync_locked(im, off, len) : 0;
	pthread_mutex_unlock(&images.lock);
	return err;
}

void shared_image_refresh(struct file *f, uint64_t off, uint64_t len)
{
	if (!atomic_load(&images.count) || !len)
		return;
	pthread_mutex_lock(&images.lock);
	struct image *im = find(f);
	if (im) {
		FOR_EACH_PAGE(im, idx, off, len) {
			/* Changes of the mappings elsewhere in the page go first. */
			struct stat st;
			if (fstat(im->fd, &st) == 0)
				sync_page(im, idx, st.st_size);
			load_page(im, idx, fp_lookup(&im->pages, idx), fp_lookup(&im->clean, idx));
		}
	}
	pthread_mutex_unlock(&images.lock);
}

void shared_image_unmapped(struct file *f, uint64_t off, uint64_t len)
{
	if (!atomic_load(&images.count))
		return;
	pthread_mutex_lock(&images.lock);
	struct image **pp = &images.list, *im;
	struct image *mine = find(f);
	while ((im = *pp) && im != mine)
		pp = &im->next;
	if (im) {
		if (sync_locked(im, off, len))
			klog("writing a shared mapping back to its host file failed");
		FOR_EACH_PAGE(im, idx, off, len) {
			int64_t page = fp_lookup(&im->pages, idx);
			if (!memfile_shared((uint64_t)page, PAGE_SIZE)) { /* only the image has it */
				fp_punch(&im->pages, idx, idx + 1);
				fp_punch(&im->clean, idx, idx + 1);
			}
		}
		if (!im->pages.npages) {
			*pp = im->next;
			fp_free_all(&im->clean);
			close(im->fd);
			free(im);
			atomic_fetch_sub(&images.count, 1);
		}
	}
	pthread_mutex_unlock(&images.lock);
}

/* ---- msync ------------------------------------------------------------ */

/* Linux's checks and walk (mm/msync.c): unmapped gaps are skipped but
 * make the call fail with ENOMEM at the end (at once for a plain
 * MS_ASYNC). Shared file mappings are written back for MS_SYNC and
 * MS_ASYNC both: the host file is outside the sandbox's page cache. */
long sys_msync(const struct sysargs *a)
{
	gaddr_t start = a->a[0];
	uint64_t len = a->a[1];
	int flags = (int)a->a[2];
	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if (start & ~PAGE_MASK)
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	len = (len + PAGE_SIZE - 1) & PAGE_MASK;
	gaddr_t end = start + len;
	if (end < start)
		return -ENOMEM;
	if (end == start)
		return 0;
	struct mm *mm = current->proc->mm;
	long err = 0, unmapped = 0;
	pthread_rwlock_rdlock(&mm->lock);
	for (size_t i = vma_index_after(&mm->vmas, start);; i++) {
		if (i >= mm->vmas.n) {
			err = -ENOMEM;
			break;
		}
		struct vma *v = &mm->vmas.v[i];
		if (start < v->start) {
			if (flags == MS_ASYNC) {
				err = -ENOMEM;
				break;
			}
			start = v->start;
			if (start >= end) {
				err = -ENOMEM;
				break;
			}
			unmapped = -ENOMEM;
		}
		gaddr_t stop = MIN(end, v->end);
		if ((flags & (MS_SYNC | MS_ASYNC)) && v->file && (v->flags & MAP_SHARED) &&
		    shared_image_file(v->file) &&
		    shared_image_sync(v->file, v->file_off + (start - v->start), stop - start))
			err = -EIO;
		start = v->end;
		if (err || start >= end)
			break;
	}
	pthread_rwlock_unlock(&mm->lock);
	return err ? err : unmapped;
}
