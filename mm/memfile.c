/* The memory file and its offset allocator: a sorted array of free extents,
 * first fit, coalesced on free. Freed ranges are punched out of the file so
 * their pages go back to the host and read as zero when handed out again;
 * except a few recently freed small ones, kept whole for allocations that
 * overwrite them (memfile_alloc_dirty). */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mm/memfile.h"

struct memfile memfile = { .fd = -1 };

/* Sharing: each page's owners beyond the first (0 for a page with one
 * owner, as every freshly allocated page has). A sparse array, one word
 * per page of the file, touched only where pages were ever shared. */
static _Atomic uint32_t *extra_refs;
static atomic_long shared_pages; /* pages with extra_refs > 0: 0 = fast paths */

struct extent {
	uint64_t off, len;
};

static struct {
	pthread_mutex_t lock;
	struct extent *v;
	size_t n, cap;
	size_t allocated;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Recently freed ranges that kept their pages, oldest first (pool.lock).
 * Fork copies the same few sizes again and again (data, heap, stack,
 * the stub's per-process and per-thread pages): exact sizes are reused
 * first. Neighbours are joined, and a larger range gives its head: an
 * exec's copy of a data segment comes back in pieces. */
#define DIRTY_MAX_LEN (1UL << 20)
#define DIRTY_BYTES (16UL << 20)
#define DIRTY_SLOTS 64
static struct {
	struct extent v[DIRTY_SLOTS];
	size_t n, bytes;
} dirty;

int memfile_init(void)
{
	int fd = memfd_create("cocoon-memory", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)MEMFILE_SIZE) < 0) {
		close(fd);
		return -errno;
	}
	void *base = mmap(NULL, MEMFILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (base == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	void *refs = mmap(NULL, (MEMFILE_SIZE / PAGE_SIZE) * sizeof(*extra_refs), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (refs == MAP_FAILED) {
		munmap(base, MEMFILE_SIZE);
		close(fd);
		return -errno;
	}
	extra_refs = refs;
	memfile.fd = fd;
	memfile.base = base;
	memfile.size = MEMFILE_SIZE;
	pool.cap = 64;
	pool.v = malloc(pool.cap * sizeof(*pool.v));
	if (!pool.v)
		return -ENOMEM;
	pool.v[0] = (struct extent){ 0, MEMFILE_SIZE };
	pool.n = 1;
	return 0;
}

int64_t memfile_alloc(size_t len)
{
	if (len == 0 || !PAGE_ALIGNED(len))
		return -EINVAL;
	pthread_mutex_lock(&pool.lock);
	for (size_t i = 0; i < pool.n; i++) {
		struct extent *e = &pool.v[i];
		if (e->len < len)
			continue;
		uint64_t off = e->off;
		e->off += len;
		e->len -= len;
		if (e->len == 0) {
			memmove(e, e + 1, (pool.n - i - 1) * sizeof(*e));
			pool.n--;
		}
		pool.allocated += len;
		pthread_mutex_unlock(&pool.lock);
		return (int64_t)off;
	}
	pthread_mutex_unlock(&pool.lock);
	return -ENOMEM;
}

int64_t memfile_alloc_dirty(size_t len)
{
	pthread_mutex_lock(&pool.lock);
	/* The newest range of exactly this size, else the head of the
	 * smallest larger one (an exec's copy of a data segment comes back
	 * in the pieces mprotect split it into, joined again by keep_dirty,
	 * and the next exec of the program wants it whole). */
	size_t pick = dirty.n;
	for (size_t i = dirty.n; i-- > 0;) {
		if (dirty.v[i].len == len) {
			pick = i;
			break;
		}
		if (dirty.v[i].len > len && (pick == dirty.n || dirty.v[i].len < dirty.v[pick].len))
			pick = i;
	}
	if (pick < dirty.n) {
		uint64_t off = dirty.v[pick].off;
		if (dirty.v[pick].len == len) {
			memmove(&dirty.v[pick], &dirty.v[pick + 1], (dirty.n - pick - 1) * sizeof(dirty.v[0]));
			dirty.n--;
		} else {
			dirty.v[pick].off += len;
			dirty.v[pick].len -= len;
		}
		dirty.bytes -= len;
		pool.allocated += len;
		pthread_mutex_unlock(&pool.lock);
		return (int64_t)off;
	}
	pthread_mutex_unlock(&pool.lock);
	return memfile_alloc(len);
}

void memfile_zero(uint64_t off, size_t len)
{
	if (fallocate(memfile.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
		kpanic("memfile: punching [%#lx, +%#zx) failed: %d", (unsigned long)off, len, errno);
}

void memfile_ref(uint64_t off, size_t len)
{
	for (uint64_t p = off / PAGE_SIZE; p < (off + len) / PAGE_SIZE; p++)
		if (atomic_fetch_add(&extra_refs[p], 1) == 0)
			atomic_fetch_add(&shared_pages, 1);
}

bool memfile_shared(uint64_t off, size_t len)
{
	if (atomic_load(&shared_pages) == 0)
		return false;
	for (uint64_t p = off / PAGE_SIZE; p < (off + len) / PAGE_SIZE; p++)
		if (atomic_load(&extra_refs[p]))
			return true;
	return false;
}

/* Drop one owner of page p: whether it was the last. */
static bool page_unref(uint64_t p)
{
	uint32_t x = atomic_load(&extra_refs[p]);
	while (x > 0) {
		if (atomic_compare_exchange_weak(&extra_refs[p], &x, x - 1)) {
			if (x == 1)
				atomic_fetch_sub(&shared_pages, 1);
			return false;
		}
	}
	return true;
}

static void free_range(uint64_t off, size_t len);

void memfile_free(uint64_t off, size_t len)
{
	if (len == 0)
		return;
	if (atomic_load(&shared_pages) == 0) {
		free_range(off, len);
		return;
	}
	/* Free the runs of pages whose last owner this was. */
	uint64_t first = off / PAGE_SIZE, end = (off + len) / PAGE_SIZE, run = first;
	for (uint64_t p = first; p < end; p++) {
		if (!page_unref(p)) {
			if (run < p)
				free_range(run * PAGE_SIZE, (p - run) * PAGE_SIZE);
			run = p + 1;
		}
	}
	if (run < end)
		free_range(run * PAGE_SIZE, (end - run) * PAGE_SIZE);
}

static void pool_insert(uint64_t off, size_t len);

/* Keep [off, +len) with its pages for memfile_alloc_dirty, making room
 * by giving the oldest kept ranges back. */
static void keep_dirty(uint64_t off, size_t len)
{
	struct extent out[DIRTY_SLOTS];
	size_t nout = 0;
	pthread_mutex_lock(&pool.lock);
	for (size_t i = 0; i < dirty.n; i++)
		if (dirty.v[i].off < off + len && off < dirty.v[i].off + dirty.v[i].len)
			kpanic("memfile: double free of [%#lx, +%#zx)", (unsigned long)off, len);
	pool.allocated -= len;
	/* Join kept neighbours (the pieces of one allocation, freed one by
	 * one), up to DIRTY_MAX_LEN, so that they serve its size again. */
	for (size_t i = 0; i < dirty.n;) {
		struct extent e = dirty.v[i];
		if ((e.off + e.len == off || off + len == e.off) && e.len + len <= DIRTY_MAX_LEN) {
			off = MIN(off, e.off);
			len += e.len;
			dirty.bytes -= e.len;
			memmove(&dirty.v[i], &dirty.v[i + 1], (--dirty.n - i) * sizeof(dirty.v[0]));
			continue;
		}
		i++;
	}
	while (dirty.n && (dirty.n == DIRTY_SLOTS || dirty.bytes + len > DIRTY_BYTES)) {
		out[nout++] = dirty.v[0];
		dirty.bytes -= dirty.v[0].len;
		pool.allocated += dirty.v[0].len; /* pool_insert takes it off again */
		memmove(&dirty.v[0], &dirty.v[1], (--dirty.n) * sizeof(dirty.v[0]));
	}
	dirty.v[dirty.n++] = (struct extent){ off, len };
	dirty.bytes += len;
	pthread_mutex_unlock(&pool.lock);
	for (size_t i = 0; i < nout; i++) {
		memfile_zero(out[i].off, out[i].len);
		pool_insert(out[i].off, out[i].len);
	}
}

static void free_range(uint64_t off, size_t len)
{
	if (len <= DIRTY_MAX_LEN) {
		keep_dirty(off, len);
		return;
	}
	/* Give the pages back first: once in the pool the range may be
	 * handed out again and must read as zero. */
	memfile_zero(off, len);
	pool_insert(off, len);
}

static void pool_insert(uint64_t off, size_t len)
{
	pthread_mutex_lock(&pool.lock);
	size_t lo = 0, hi = pool.n; /* first extent with off > the freed one */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (pool.v[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((lo > 0 && pool.v[lo - 1].off + pool.v[lo - 1].len > off) ||
	    (lo < pool.n && off + len > pool.v[lo].off))
		kpanic("memfile: double free of [%#lx, +%#zx)", (unsigned long)off, len);
	bool join_prev = lo > 0 && pool.v[lo - 1].off + pool.v[lo - 1].len == off;
	bool join_next = lo < pool.n && off + len == pool.v[lo].off;
	if (join_prev && join_next) {
		pool.v[lo - 1].len += len + pool.v[lo].len;
		memmove(&pool.v[lo], &pool.v[lo + 1], (pool.n - lo - 1) * sizeof(*pool.v));
		pool.n--;
	} else if (join_prev) {
		pool.v[lo - 1].len += len;
	} else if (join_next) {
		pool.v[lo].off = off;
		pool.v[lo].len += len;
	} else {
		if (pool.n == pool.cap) {
			struct extent *v = realloc(pool.v, 2 * pool.cap * sizeof(*v));
			if (!v)
				kpanic("memfile: out of memory for the free list");
			pool.v = v;
			pool.cap *= 2;
		}
		memmove(&pool.v[lo + 1], &pool.v[lo], (pool.n - lo) * sizeof(*pool.v));
		pool.v[lo] = (struct extent){ off, len };
		pool.n++;
	}
	pool.allocated -= len;
	pthread_mutex_unlock(&pool.lock);
}

size_t memfile_allocated(void)
{
	pthread_mutex_lock(&pool.lock);
	size_t n = pool.allocated;
	pthread_mutex_unlock(&pool.lock);
	return n;
}
