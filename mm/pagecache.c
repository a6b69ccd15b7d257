/* The page cache (see pagecache.h). An entry is a whole-file image keyed
 * by the host file's identity and version (device, inode, size, mtime,
 * ctime): a file changed on the host gets a new image, while mappings of
 * the old one keep their pages through their references. Images are read
 * once, outside the cache lock (a 33 MB cc1 takes ~20 ms, which held up
 * every other guest's file mapping): an entry being filled is marked
 * `loading`, and whoever wants that file waits for it. Entries are never
 * evicted; past PAGECACHE_MAX new files are simply not cached. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mm/pagecache.h"
#include "mm/memfile.h"
#include "fs/fs.h"

#define PAGECACHE_FILE_MAX (64UL << 20)  /* larger files are copied */
#define PAGECACHE_MAX (1UL << 30)
#define HASH_SIZE 256

struct pc_entry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	uint64_t off;  /* memory-file offset of the image */
	size_t len;    /* page aligned */
	bool loading;  /* being filled (by the thread that made it) */
	struct pc_entry *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t loaded; /* an entry stopped loading */
	struct pc_entry *hash[HASH_SIZE];
	size_t bytes;          /* with the entries being loaded */
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER, .loaded = PTHREAD_COND_INITIALIZER };

/* An fd of the memory file with a file position of its own (the
 * memfile's fd shares one with every guest host-process): sendfile writes
 * at the position. Opened once, used under fill_lock; -1 if it cannot be.
 * A fill that finds it in use opens an fd of its own. */
static int fill_fd = -2;
static pthread_mutex_t fill_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_memfile(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfile.fd);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Copy the file's first size bytes to the memory file at off, in the
 * host kernel (sendfile), which saves a copy through user space and the
 * faults of the kernel's mapping: about a third faster than pread for
 * cc1's 33 MB; pread if sendfile is not possible. False if the file
 * changed under us or cannot be read. */
static bool fill(int fd, uint64_t off, size_t size)
{
	bool shared = pthread_mutex_trylock(&fill_lock) == 0;
	if (shared && fill_fd == -2)
		fill_fd = open_memfile();
	int out = shared ? fill_fd : open_memfile();
	size_t done = 0;
	if (out >= 0 && lseek(out, (off_t)off, SEEK_SET) == (off_t)off) {
		off_t in = 0;
		while (done < size) {
			ssize_t n = sendfile(out, fd, &in, size - done);
			if (n <= 0)
				break;
			done += (size_t)n;
		}
	}
	if (shared)
		pthread_mutex_unlock(&fill_lock);
	else if (out >= 0)
		close(out);
	if (done == size)
		return true;
	/* pread continues where sendfile stopped (a file that shrank ends
	 * there too) */
	char *dst = memfile_ptr(off);
	while (done < size) {
		ssize_t n = pread(fd, dst + done, size - done, (off_t)done);
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static bool same_version(const struct pc_entry *e, const struct stat *st)
{
	return e->size == st->st_size && e->mtime.tv_sec == st->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == st->st_mtim.tv_nsec && e->ctime.tv_sec == st->st_ctim.tv_sec &&
	       e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* A new entry for the file, loading and in the hash chain pp (cache
 * lock held): NULL if it is not to be cached. */
static struct pc_entry *load_begin(struct pc_entry **pp, const struct stat *st)
{
	size_t len = PAGE_ALIGN((size_t)st->st_size);
	if (len == 0 || len > PAGECACHE_FILE_MAX || cache.bytes + len > PAGECACHE_MAX)
		return NULL;
	struct pc_entry *e = calloc(1, sizeof(*e));
	int64_t off = memfile_alloc(len);
	if (!e || off < 0) {
		free(e);
		if (off >= 0)
			memfile_free((uint64_t)off, len);
		return NULL;
	}
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime = st->st_mtim;
	e->ctime = st->st_ctim;
	e->off = (uint64_t)off;
	e->len = len;
	e->loading = true;
	e->next = *pp;
	*pp = e;
	cache.bytes += len;
	return e;
}

/* Read the file into e's image with the cache lock dropped meanwhile:
 * e, or NULL if it could not be read (then it is gone). */
static struct pc_entry *load_fill(struct pc_entry *e, unsigned h, int fd, size_t size)
{
	pthread_mutex_unlock(&cache.lock);
	bool ok = fill(fd, e->off, size);
	pthread_mutex_lock(&cache.lock);
	e->loading = false;
	pthread_cond_broadcast(&cache.loaded);
	if (ok)
		return e;
	for (struct pc_entry **pp = &cache.hash[h]; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	memfile_free(e->off, e->len);
	cache.bytes -= e->len;
	free(e);
	return NULL;
}

int64_t pagecache_map(struct file *f, uint64_t file_off, size_t len)
{
	int fd = file_host_fd(f);
	struct stat st;
	if (fd < 0 || file_host_stat(f, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	unsigned h = (unsigned)(st.st_ino ^ (st.st_dev * 31)) % HASH_SIZE;
	pthread_mutex_lock(&cache.lock);
	struct pc_entry **pp, *e;
	for (;;) {
		for (pp = &cache.hash[h]; (e = *pp); pp = &e->next)
			if (e->dev == st.st_dev && e->ino == st.st_ino)
				break;
		if (!e || !e->loading)
			break;
		pthread_cond_wait(&cache.loaded, &cache.lock); /* another thread fills it */
	}
	if (e && !same_version(e, &st)) { /* stale: drop the cache's reference */
		*pp = e->next;
		memfile_free(e->off, e->len);
		cache.bytes -= e->len;
		free(e);
		e = NULL;
	}
	if (!e && (e = load_begin(&cache.hash[h], &st)))
		e = load_fill(e, h, fd, (size_t)st.st_size);
	int64_t ret = -1;
	if (e && file_off < e->len && len <= e->len - file_off) {
		memfile_ref(e->off + file_off, len);
		ret = (int64_t)(e->off + file_off);
	}
	pthread_mutex_unlock(&cache.lock);
	return ret;
}

size_t pagecache_bytes(void)
{
	pthread_mutex_lock(&cache.lock);
	size_t n = cache.bytes;
	pthread_mutex_unlock(&cache.lock);
	return n;
}
