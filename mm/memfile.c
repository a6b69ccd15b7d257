/* The memory file and its offset allocator: a sorted array of free extents,
 * first fit, coalesced on free. Freed ranges are punched out of the file so
 * their pages go back to the host and read as zero when handed out again. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mm/memfile.h"

struct memfile memfile = { .fd = -1 };

struct extent {
	uint64_t off, len;
};

static struct {
	pthread_mutex_t lock;
	struct extent *v;
	size_t n, cap;
	size_t allocated;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

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

void memfile_zero(uint64_t off, size_t len)
{
	if (fallocate(memfile.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
		kpanic("memfile: punching [%#lx, +%#zx) failed: %d", (unsigned long)off, len, errno);
}

void memfile_free(uint64_t off, size_t len)
{
	if (len == 0)
		return;
	/* Give the pages back first: once in the pool the range may be
	 * handed out again and must read as zero. */
	memfile_zero(off, len);
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
