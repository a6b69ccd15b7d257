/* Host file images (see hostmap.h). An image is keyed by the host file's
 * identity and version (device, inode, size, mtime, ctime), like the page
 * cache's: a file changed on the host gets a new image, and mappings of
 * the old one keep theirs. Images are never freed; past HOSTMAP_MAX_FILES
 * (each holds an fd) files are copied into the memory file instead. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "mm/hostmap.h"
#include "mm/mm.h"
#include "fs/fs.h"

#define HOSTMAP_MAX_FILES 256
#define HOSTMAP_FILE_MAX (1UL << 30)
#define HASH_SIZE 64

static struct {
	pthread_mutex_t lock;
	struct host_image *hash[HASH_SIZE];
	unsigned files;
	bool disabled;
} images = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool same_version(const struct host_image *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* A new image of the file open as hostfd (st its stat), or NULL. */
static struct host_image *image_new(int hostfd, const struct stat *st)
{
	/* An fd of our own, read-only whatever the guest opened: guests'
	 * control threads reopen it read-only through /proc. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", hostfd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat now;
	struct statvfs vfs;
	/* The same file still, and on a mount that lets guests execute it
	 * (the sandbox's own rules were checked by the caller). */
	if (fstat(fd, &now) < 0 || !same_version(&(struct host_image){ .dev = st->st_dev, .ino = st->st_ino,
		.size = st->st_size, .mtime = st->st_mtim, .ctime = st->st_ctim }, &now) ||
	    fstatvfs(fd, &vfs) < 0 || (vfs.f_flag & ST_NOEXEC)) {
		close(fd);
		return NULL;
	}
	size_t len = PAGE_ALIGN((size_t)st->st_size);
	void *base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	struct host_image *e = base == MAP_FAILED ? NULL : calloc(1, sizeof(*e));
	if (!e) {
		if (base != MAP_FAILED)
			munmap(base, len);
		close(fd);
		return NULL;
	}
	*e = (struct host_image){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
				  .mtime = st->st_mtim, .ctime = st->st_ctim, .fd = fd, .base = base, .len = len };
	return e;
}

static volatile int probe_opened;

/* Run in a child that shares our memory but is another process, as a
 * guest host-process is: whether it may open the path (raw calls only). */
static int probe_open(void *path)
{
	long fd = syscall(SYS_openat, AT_FDCWD, (const char *)path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		syscall(SYS_close, fd);
	probe_opened = fd >= 0;
	syscall(SYS_exit, 0);
	return 0;
}

/* Whether another process of ours may open fd through /proc/<pid>/fd:
 * the host's ptrace_may_access (same user, and we are dumpable) and any
 * security module decide, as they will for guests' control threads. */
static bool others_may_open(int fd)
{
	static char stack[16384] __attribute__((aligned(16)));
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
	probe_opened = 0;
	/* CLONE_VFORK: back here once it has exited. The platform's reaper
	 * reaps it (it reaps every child). */
	pid_t pid = clone(probe_open, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, path);
	return pid > 0 && probe_opened;
}

const struct host_image *host_image_get(struct file *f)
{
	int hostfd = file_host_fd(f);
	struct stat st;
	if (hostfd < 0 || file_host_stat(f, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > HOSTMAP_FILE_MAX)
		return NULL;
	unsigned h = (unsigned)(st.st_ino ^ (st.st_dev * 31)) % HASH_SIZE;
	pthread_mutex_lock(&images.lock);
	struct host_image *e = NULL;
	if (!images.disabled) {
		for (e = images.hash[h]; e && !same_version(e, &st); e = e->next)
			;
		if (!e && images.files < HOSTMAP_MAX_FILES && (e = image_new(hostfd, &st))) {
			if (images.files == 0 && !others_may_open(e->fd)) {
				klog("host files are copied: other processes may not open ours");
				images.disabled = true;
				munmap((void *)e->base, e->len);
				close(e->fd);
				free(e);
				pthread_mutex_unlock(&images.lock);
				return NULL;
			}
			e->next = images.hash[h];
			images.hash[h] = e;
			images.files++;
		}
	}
	pthread_mutex_unlock(&images.lock);
	return e;
}

uint64_t host_image_resident(const struct host_image *img, uint64_t off, uint64_t len)
{
	if (off >= img->len)
		return 0;
	len = MIN(len, img->len - off);
	int64_t cached = host_file_cached(img->fd, off, len); /* some 10 times faster than mincore */
	if (cached >= 0)
		return (uint64_t)cached;
	size_t pages = len / PAGE_SIZE;
	unsigned char vec[256];
	uint64_t n = 0;
	for (size_t done = 0; done < pages;) {
		size_t chunk = MIN(pages - done, sizeof(vec));
		if (mincore((void *)(img->base + off + done * PAGE_SIZE), chunk * PAGE_SIZE, vec) < 0)
			break;
		for (size_t i = 0; i < chunk; i++)
			n += vec[i] & 1;
		done += chunk;
	}
	return n * PAGE_SIZE;
}
