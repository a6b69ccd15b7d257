/* SysV shared memory (Linux's ipc/shm.c). A segment is a range of the
 * memory file; shmat maps those very pages MAP_SHARED (mm_mmap_pages),
 * as a file of its own per attachment, like Linux's shm file, so that
 * /proc/<pid>/maps shows "/SYSV<key> (deleted)". Attachments are counted
 * through the file's VMA hooks (a split or fork's copy is one more, as
 * in Linux), and the segment goes once removed and no longer attached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <linux/capability.h>
#include "ipc/ipc.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/mm.h"
#include "mm/memfile.h"
#include "mm/mlock.h"
#include "mm/uaccess.h"
#include "fs/file.h"
#include "fs/pseudofs.h"

#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif
#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#define SHM_DEST_FLAG 01000
#define SHM_LOCKED_FLAG 02000

struct shm_seg {
	struct ipc_perm_k perm; /* first: the table holds &perm */
	uint64_t segsz;
	uint64_t off;           /* memory-file range of PAGE_ALIGN(segsz) */
	int64_t atime, dtime, ctime;
	int cpid, lpid;
	unsigned long nattch;
	int refs;               /* the table's and each attachment file's */
	char name[24];          /* "/SYSV%08x (deleted)", the key at creation */
	/* The process that made it while that lives (Linux's shm_creator,
	 * a task there): shm_rmid_forced removes orphans nobody uses. */
	struct process *creator;
	uint32_t lock_uid;      /* SHM_LOCKED: the real uid charged for it */
};

static struct ipc_ids shm_ids = IPC_IDS_INIT;
static uint64_t shm_tot; /* pages of all segments */

/* Guest layouts (x86-64). */
struct shmid64_ds_guest {
	struct ipc64_perm_guest perm;
	uint64_t segsz;
	int64_t atime, dtime, ctime;
	int32_t cpid, lpid;
	uint64_t nattch, unused4, unused5;
};
_Static_assert(sizeof(struct shmid64_ds_guest) == 112, "shmid64_ds");

struct shminfo64_guest {
	uint64_t shmmax, shmmin, shmmni, shmseg, shmall, unused[4];
};

struct shm_info_guest {
	int32_t used_ids;
	int32_t pad;
	uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};

static struct shm_seg *seg_of(struct ipc_perm_k *p) { return (struct shm_seg *)p; }

/* Pages of s the memory file holds (touched ones): Linux's shm rss. */
static uint64_t resident_pages(const struct shm_seg *s)
{
	uint64_t end = s->off + PAGE_ALIGN(s->segsz), n = 0;
	for (off_t at = (off_t)s->off; (uint64_t)at < end;) {
		off_t data = lseek(memfile.fd, at, SEEK_DATA);
		if (data < 0 || (uint64_t)data >= end)
			break;
		off_t hole = lseek(memfile.fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > end)
			hole = (off_t)end;
		n += (uint64_t)(hole - data) / PAGE_SIZE;
		at = hole;
	}
	return n;
}

static void seg_put_locked(struct shm_seg *s)
{
	if (--s->refs == 0)
		free(s);
}

/* Linux's shm_destroy (shm_ids.lock held). */
static void shm_destroy(struct shm_seg *s)
{
	ipc_remove(&shm_ids, &s->perm);
	uint64_t len = PAGE_ALIGN(s->segsz);
	shm_tot -= len / PAGE_SIZE;
	memfile_free(s->off, len); /* attachments hold their own page references */
	seg_put_locked(s);
}

/* Linux's shm_may_destroy: unused, and removed or shm_rmid_forced. */
static bool may_destroy(const struct shm_seg *s)
{
	return s->nattch == 0 && (ipc_limit(shm_rmid_forced) || (s->perm.mode & SHM_DEST_FLAG));
}

/* ---- the attachment files ---------------------------------------------- */

static void shm_vma_open(struct file *f)
{
	struct shm_seg *s = f->priv;
	pthread_mutex_lock(&shm_ids.lock);
	s->atime = ipc_now();
	s->lpid = ipc_cur_pid();
	s->nattch++;
	pthread_mutex_unlock(&shm_ids.lock);
}

static void shm_vma_close(struct file *f)
{
	struct shm_seg *s = f->priv;
	pthread_mutex_lock(&shm_ids.lock);
	if (current)
		s->lpid = ipc_cur_pid();
	s->dtime = ipc_now();
	s->nattch--;
	if (may_destroy(s))
		shm_destroy(s);
	pthread_mutex_unlock(&shm_ids.lock);
}

static void shm_file_release(struct file *f)
{
	pthread_mutex_lock(&shm_ids.lock);
	seg_put_locked(f->priv);
	pthread_mutex_unlock(&shm_ids.lock);
}

/* Device 0:1 and the id as inode, as Linux's shm files show in maps. */
static int shm_file_statx(struct file *f, int flags, unsigned mask, struct statx *stx)
{
	struct shm_seg *s = f->priv;
	*stx = (struct statx){
		.stx_mask = STATX_BASIC_STATS, .stx_mode = S_IFREG | (s->perm.mode & 0777), .stx_nlink = 0,
		.stx_ino = (uint64_t)s->perm.id, .stx_size = s->segsz, .stx_blksize = PAGE_SIZE,
		.stx_dev_major = 0, .stx_dev_minor = 1,
	};
	return 0;
}

static const struct file_ops shm_file_ops = {
	.statx = shm_file_statx,
	.release = shm_file_release,
	.vma_open = shm_vma_open,
	.vma_close = shm_vma_close,
};

static bool is_shm_vma(const struct vma *v)
{
	return v->file && v->file->ops == &shm_file_ops;
}

/* ---- shmget ------------------------------------------------------------ */

static int shm_create(struct ipc_ids *ids, int32_t key, int flags, void *arg)
{
	uint64_t size = *(uint64_t *)arg;
	if (size < SHMMIN || size > ipc_limit(shm_ctlmax))
		return -EINVAL;
	uint64_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	if (pages * PAGE_SIZE < size)
		return -ENOSPC;
	if (shm_tot + pages < shm_tot || shm_tot + pages > ipc_limit(shm_ctlall))
		return -ENOSPC;
	int limit = ipc_limit(shm_ctlmni);
	if (ids->in_use >= MIN(limit, IPCMNI)) /* before the allocation: ipc_add would say it after */
		return -ENOSPC;
	if (pages * PAGE_SIZE > MEMFILE_SIZE)
		return -ENOMEM;
	struct shm_seg *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int64_t off = memfile_alloc(pages * PAGE_SIZE);
	if (off < 0) {
		free(s);
		return -ENOMEM;
	}
	int err = ipc_add(ids, &s->perm, key, flags, limit);
	if (err) {
		memfile_free((uint64_t)off, pages * PAGE_SIZE);
		free(s);
		return err;
	}
	s->segsz = size;
	s->off = (uint64_t)off;
	s->cpid = ipc_cur_pid();
	s->ctime = ipc_now();
	s->refs = 1;
	s->creator = current->proc;
	snprintf(s->name, sizeof(s->name), "/SYSV%08x (deleted)", (uint32_t)key);
	shm_tot += pages;
	return s->perm.id;
}

static int shm_check(struct ipc_perm_k *p, void *arg)
{
	return seg_of(p)->segsz < *(uint64_t *)arg ? -EINVAL : 0;
}

static const struct ipc_get_ops shm_get_ops = { .create = shm_create, .check = shm_check };

long sys_shmget(const struct sysargs *a)
{
	uint64_t size = a->a[1];
	return ipc_get(&shm_ids, (int32_t)a->a[0], (int)a->a[2], &shm_get_ops, &size);
}

/* ---- shmat and shmdt ---------------------------------------------------- */

long sys_shmat(const struct sysargs *a)
{
	int shmid = (int)a->a[0], shmflg = (int)a->a[2];
	gaddr_t addr = a->a[1];
	int flags = 0;
	if (shmid < 0)
		return -EINVAL;
	if (addr) {
		if (addr & (PAGE_SIZE - 1)) { /* SHMLBA is a page on x86 */
			if (!(shmflg & SHM_RND))
				return -EINVAL;
			addr &= PAGE_MASK;
			if (!addr && (shmflg & SHM_REMAP))
				return -EINVAL;
		}
		flags = MAP_FIXED;
	} else if (shmflg & SHM_REMAP) {
		return -EINVAL;
	}
	int prot = PROT_READ | PROT_WRITE, acc = 0666, fflags = O_RDWR;
	if (shmflg & SHM_RDONLY) {
		prot = PROT_READ;
		acc = 0444;
		fflags = O_RDONLY;
	}
	if (shmflg & SHM_EXEC) {
		prot |= PROT_EXEC;
		acc |= 0111;
	}

	pthread_mutex_lock(&shm_ids.lock);
	struct ipc_perm_k *p = ipc_find_id(&shm_ids, shmid);
	long err = p ? ipc_perms(p, acc) : -EINVAL;
	if (err) {
		pthread_mutex_unlock(&shm_ids.lock);
		return err;
	}
	struct shm_seg *s = seg_of(p);
	s->nattch++; /* keeps it while we map, as Linux does */
	s->refs++;   /* the file's */
	pthread_mutex_unlock(&shm_ids.lock);

	uint64_t len = PAGE_ALIGN(s->segsz);
	struct file *f = file_new(&shm_file_ops, fflags, S_IFREG, s);
	long ret = -ENOMEM;
	if (f && !(f->path = strdup(s->name))) {
		fput(f); /* drops the segment's reference */
		f = NULL;
	} else if (!f) {
		pthread_mutex_lock(&shm_ids.lock);
		seg_put_locked(s);
		pthread_mutex_unlock(&shm_ids.lock);
	}
	if (f) {
		struct mm *mm = current->proc->mm;
		pthread_rwlock_wrlock(&mm->lock);
		ret = 0;
		if (addr && !(shmflg & SHM_REMAP) &&
		    (addr + len < addr || !vma_range_free(&mm->vmas, addr, MIN(addr + len, GUEST_TASK_SIZE))))
			ret = -EINVAL;
		else if (addr && (len > GUEST_TASK_SIZE || addr > GUEST_TASK_SIZE - len))
			ret = -ENOMEM;
		else if (addr && addr < GUEST_MIN_ADDR)
			ret = -EPERM;
		bool lock = false;
		if (!ret)
			ret = mlock_mmap_check(mm, 0, len, &lock); /* mlockall(MCL_FUTURE) */
		if (!ret) {
			memfile_ref(s->off, len);
			ret = mm_mmap_pages(mm, addr, len, prot, flags, f, s->off);
			if (lock && !IS_ERR_VALUE(ret))
				mlock_mmap_done(mm, (gaddr_t)ret, len);
		}
		pthread_rwlock_unlock(&mm->lock);
	}
	pthread_mutex_lock(&shm_ids.lock);
	s->nattch--;
	if (may_destroy(s))
		shm_destroy(s);
	pthread_mutex_unlock(&shm_ids.lock);
	if (f)
		fput(f); /* the mapping holds its own reference */
	return ret;
}

long sys_shmdt(const struct sysargs *a)
{
	gaddr_t addr = a->a[0];
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	struct mm *mm = current->proc->mm;
	pthread_rwlock_wrlock(&mm->lock);
	long ret = -EINVAL;
	/* Like Linux: the first attachment piece that starts where its
	 * segment would start if attached at addr, then the pieces of that
	 * same attachment up to the segment's size from addr. */
	struct file *att = NULL;
	uint64_t size = 0;
	for (size_t i = vma_index_after(&mm->vmas, addr); i < mm->vmas.n; i++) {
		struct vma *v = &mm->vmas.v[i];
		if (is_shm_vma(v) && v->start - addr == v->file_off) {
			att = file_get(v->file);
			size = PAGE_ALIGN(((struct shm_seg *)att->priv)->segsz);
			gaddr_t start = v->start, end = v->end;
			mm_munmap(mm, start, end - start);
			ret = 0;
			break;
		}
	}
	while (att) {
		bool found = false;
		for (size_t i = vma_index_after(&mm->vmas, addr); i < mm->vmas.n; i++) {
			struct vma *v = &mm->vmas.v[i];
			if (v->end - addr > size)
				break;
			if (v->file == att && v->start - addr == v->file_off) {
				found = mm_munmap(mm, v->start, v->end - v->start) == 0;
				break;
			}
		}
		if (!found)
			break;
	}
	pthread_rwlock_unlock(&mm->lock);
	if (att)
		fput(att);
	return ret;
}

/* ---- shmctl ------------------------------------------------------------- */

static void fill_stat(const struct shm_seg *s, struct shmid64_ds_guest *out)
{
	*out = (struct shmid64_ds_guest){
		.segsz = s->segsz, .atime = s->atime, .dtime = s->dtime, .ctime = s->ctime,
		.cpid = s->cpid, .lpid = s->lpid, .nattch = s->nattch,
	};
	ipc_fill_perm(&s->perm, &out->perm);
}

static long shm_stat(int cmd, int id, gaddr_t buf)
{
	struct shmid64_ds_guest out;
	pthread_mutex_lock(&shm_ids.lock);
	struct ipc_perm_k *p = cmd == IPC_STAT ? ipc_find_id(&shm_ids, id) : ipc_find_index(&shm_ids, id);
	long ret = p ? 0 : -EINVAL;
	if (!ret && cmd != SHM_STAT_ANY)
		ret = ipc_perms(p, 0444);
	if (!ret) {
		fill_stat(seg_of(p), &out);
		ret = cmd == IPC_STAT ? 0 : p->id;
	}
	pthread_mutex_unlock(&shm_ids.lock);
	if (ret >= 0 && copy_to_guest(buf, &out, sizeof(out)))
		return -EFAULT;
	return ret;
}

static long shm_info(int cmd, gaddr_t buf)
{
	pthread_mutex_lock(&shm_ids.lock);
	long ret = MAX(shm_ids.max_idx, 0);
	struct shm_info_guest si = { .used_ids = shm_ids.in_use, .shm_tot = shm_tot };
	for (int i = 0; cmd == SHM_INFO && i <= shm_ids.max_idx; i++)
		if (shm_ids.slot[i])
			si.shm_rss += resident_pages(seg_of(shm_ids.slot[i]));
	pthread_mutex_unlock(&shm_ids.lock);
	if (cmd == IPC_INFO) {
		int mni = ipc_limit(shm_ctlmni);
		struct shminfo64_guest in = {
			.shmmax = ipc_limit(shm_ctlmax), .shmmin = SHMMIN, .shmmni = (uint64_t)mni,
			.shmseg = (uint64_t)mni, .shmall = ipc_limit(shm_ctlall),
		};
		return copy_to_guest(buf, &in, sizeof(in)) ? -EFAULT : ret;
	}
	return copy_to_guest(buf, &si, sizeof(si)) ? -EFAULT : ret;
}

/* Pages of the segments SHM_LOCK charged to uid (lock held): Linux's
 * per-user count (ucounts' RLIMIT_MEMLOCK), which a segment leaves when
 * unlocked or destroyed. */
static uint64_t shm_locked_pages(uint32_t uid)
{
	uint64_t n = 0;
	for (int i = 0; i <= shm_ids.max_idx; i++) {
		struct shm_seg *s = shm_ids.slot[i] ? seg_of(shm_ids.slot[i]) : NULL;
		if (s && (s->perm.mode & SHM_LOCKED_FLAG) && s->lock_uid == uid)
			n += PAGE_ALIGN(s->segsz) / PAGE_SIZE;
	}
	return n;
}

/* SHM_LOCK and SHM_UNLOCK (Linux's shmctl_do_lock, lock held): without
 * CAP_IPC_LOCK only the owner or creator, and SHM_LOCK only with some
 * RLIMIT_MEMLOCK (EPERM). A lock charges the segment's pages to the
 * caller's real uid, past its RLIMIT_MEMLOCK ENOMEM unless it has
 * CAP_IPC_LOCK in the initial namespace (Linux's user_shm_lock); locking
 * twice charges once. The pages themselves are the memory file's, which
 * the sandbox cannot pin. */
static long shm_lock(int cmd, struct shm_seg *s)
{
	struct process *cur = current->proc;
	rlim_t limit = cur->rlimits[RLIMIT_MEMLOCK].rlim_cur;
	if (!capable(CAP_IPC_LOCK)) {
		if (cur->uid != s->perm.uid && cur->uid != s->perm.cuid)
			return -EPERM;
		if (cmd == SHM_LOCK && !limit)
			return -EPERM;
	}
	if (cmd == SHM_UNLOCK) {
		s->perm.mode &= ~(uint32_t)SHM_LOCKED_FLAG;
		return 0;
	}
	if (s->perm.mode & SHM_LOCKED_FLAG)
		return 0;
	uint64_t limit_pages = limit == RLIM_INFINITY ? UINT64_MAX : limit / PAGE_SIZE;
	uint64_t pages = PAGE_ALIGN(s->segsz) / PAGE_SIZE;
	if (shm_locked_pages(cur->ruid) + pages > limit_pages && !capable_init_ns(CAP_IPC_LOCK))
		return -ENOMEM;
	s->perm.mode |= SHM_LOCKED_FLAG;
	s->lock_uid = cur->ruid;
	return 0;
}

/* IPC_SET, IPC_RMID, SHM_LOCK, SHM_UNLOCK: the owner's commands. */
static long shm_down(int cmd, int id, const struct shmid64_ds_guest *in)
{
	pthread_mutex_lock(&shm_ids.lock);
	struct ipc_perm_k *p = ipc_find_id(&shm_ids, id);
	long ret = p ? 0 : -EINVAL;
	struct shm_seg *s = p ? seg_of(p) : NULL;
	if (!ret && (cmd == SHM_LOCK || cmd == SHM_UNLOCK)) {
		ret = shm_lock(cmd, s);
	} else if (!ret) {
		ret = ipc_owner_check(p);
		if (!ret && cmd == IPC_SET) {
			ret = ipc_set_perm(p, &in->perm);
			if (!ret)
				s->ctime = ipc_now();
		} else if (!ret) { /* IPC_RMID */
			if (s->nattch) {
				p->mode |= SHM_DEST_FLAG;
				ipc_set_key_private(p);
			} else {
				shm_destroy(s);
			}
		}
	}
	pthread_mutex_unlock(&shm_ids.lock);
	return ret;
}

long sys_shmctl(const struct sysargs *a)
{
	int id = (int)a->a[0], cmd = (int)a->a[1];
	gaddr_t buf = a->a[2];
	if (cmd < 0 || id < 0)
		return -EINVAL;
	switch (cmd) {
	case IPC_INFO:
	case SHM_INFO:
		return shm_info(cmd, buf);
	case IPC_STAT:
	case SHM_STAT:
	case SHM_STAT_ANY:
		return shm_stat(cmd, id, buf);
	case IPC_SET: {
		struct shmid64_ds_guest in;
		if (copy_from_guest(&in, buf, sizeof(in)))
			return -EFAULT;
		return shm_down(cmd, id, &in);
	}
	case IPC_RMID:
	case SHM_LOCK:
	case SHM_UNLOCK:
		return shm_down(cmd, id, NULL);
	default:
		return -EINVAL;
	}
}

/* ---- shm_rmid_forced: orphans -------------------------------------------- */

/* Linux's exit_shm: p's segments are orphans now; with shm_rmid_forced
 * those nobody uses go. */
void shm_exit(struct process *p)
{
	pthread_mutex_lock(&shm_ids.lock);
	for (int i = 0; i <= shm_ids.max_idx; i++) {
		struct shm_seg *s = shm_ids.slot[i] ? seg_of(shm_ids.slot[i]) : NULL;
		if (!s || s->creator != p)
			continue;
		s->creator = NULL;
		if (ipc_limit(shm_rmid_forced) && may_destroy(s))
			shm_destroy(s);
	}
	pthread_mutex_unlock(&shm_ids.lock);
}

void shm_destroy_orphaned(void)
{
	pthread_mutex_lock(&shm_ids.lock);
	for (int i = 0; i <= shm_ids.max_idx; i++) {
		struct shm_seg *s = shm_ids.slot[i] ? seg_of(shm_ids.slot[i]) : NULL;
		if (s && !s->creator && may_destroy(s))
			shm_destroy(s);
	}
	pthread_mutex_unlock(&shm_ids.lock);
}

void shm_proc_show(struct seqbuf *sb)
{
	seq_printf(sb, "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid"
		       "      atime      dtime      ctime                   rss                  swap\n");
	pthread_mutex_lock(&shm_ids.lock);
	for (int i = 0; i <= shm_ids.max_idx; i++) {
		struct ipc_perm_k *p = shm_ids.slot[i];
		if (!p)
			continue;
		struct shm_seg *s = seg_of(p);
		seq_printf(sb, "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu %21lu %21lu\n",
			   p->key, p->id, p->mode, (unsigned long)s->segsz, s->cpid, s->lpid, s->nattch, p->uid,
			   p->gid, p->cuid, p->cgid, (unsigned long long)s->atime, (unsigned long long)s->dtime,
			   (unsigned long long)s->ctime, (unsigned long)(resident_pages(s) * PAGE_SIZE), 0UL);
	}
	pthread_mutex_unlock(&shm_ids.lock);
}
