/* Reading another address space (/proc/<pid>/cmdline, environ, auxv):
 * Linux's access_remote_vm for reads. The caller keeps mm alive (it holds
 * the owning process's lock, under which the process cannot drop it). */
#include "mm/copy.h"
#include "mm/mm.h"

long mm_read_remote(struct mm *mm, gaddr_t addr, void *buf, size_t len)
{
	char *d = buf;
	size_t done = 0;
	pthread_rwlock_rdlock(&mm->lock);
	while (done < len) {
		size_t avail;
		if (addr + done < addr) /* wrapped around */
			break;
		const char *k = mm_translate(mm, addr + done, false, &avail);
		if (!k)
			break;
		size_t chunk = MIN(avail, len - done);
		size_t left = raw_copy(d + done, k, chunk);
		done += chunk - left;
		if (left)
			break; /* a page past the end of a mapped file */
	}
	pthread_rwlock_unlock(&mm->lock);
	return done;
}
