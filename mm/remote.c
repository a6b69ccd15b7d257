/* Another address space (/proc/<pid>/cmdline, environ, auxv;
 * process_vm_readv/writev): Linux's access_remote_vm. The caller keeps mm
 * alive. */
#include "mm/copy.h"
#include "mm/mm.h"

long mm_access_remote(struct mm *mm, gaddr_t addr, void *buf, size_t len, bool write)
{
	char *b = buf;
	size_t done = 0;
	pthread_rwlock_rdlock(&mm->lock);
	while (done < len) {
		size_t avail = 0;
		if (addr + done < addr) /* wrapped around */
			break;
		char *k = mm_translate(mm, addr + done, write, &avail);
		if (!k && avail == MM_NEEDS_COW) { /* shared since fork: its own copy first */
			pthread_rwlock_unlock(&mm->lock);
			int err = mm_cow_break(mm, addr + done, len - done);
			pthread_rwlock_rdlock(&mm->lock);
			if (err)
				break;
			continue;
		}
		if (!k)
			break;
		size_t chunk = MIN(avail, len - done);
		size_t left = write ? raw_copy(k, b + done, chunk) : raw_copy(b + done, k, chunk);
		done += chunk - left;
		if (left)
			break; /* a page past the end of a mapped file */
	}
	pthread_rwlock_unlock(&mm->lock);
	return done;
}

long mm_read_remote(struct mm *mm, gaddr_t addr, void *buf, size_t len)
{
	return mm_access_remote(mm, addr, buf, len, false);
}
