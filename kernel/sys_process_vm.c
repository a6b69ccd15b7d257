/* process_vm_readv and process_vm_writev: copying between the caller's
 * memory and another process's (Linux's mm/process_vm_access.c), with
 * ptrace's attach permission. Data goes through a kernel buffer, so the
 * two address spaces' locks are never held together. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <linux/capability.h>
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/mm.h"
#include "mm/uaccess.h"

#define BOUNCE_SIZE (64 * 1024)

/* The other process's iovecs (Linux's iovec_from_user: no access_ok, the
 * other address space decides): 0 or -errno. */
static long import_remote(gaddr_t uvec, uint64_t cnt, struct guest_seg *seg)
{
	if (cnt > GUEST_IOV_MAX)
		return -EINVAL;
	if (cnt && copy_from_guest(seg, uvec, cnt * sizeof(*seg)))
		return -EFAULT;
	for (uint64_t i = 0; i < cnt; i++)
		if ((int64_t)seg[i].len < 0)
			return -EINVAL;
	return 0;
}

bool may_inspect_locked(const struct process *me, const struct process *p)
{
	if (me == p)
		return true;
	bool same_ids = me->ruid == p->ruid && me->ruid == p->uid && me->ruid == p->suid &&
			me->rgid == p->rgid && me->rgid == p->gid && me->rgid == p->sgid;
	if (!same_ids && !capable(CAP_SYS_PTRACE))
		return false;
	return p->dumpable == 1 || capable(CAP_SYS_PTRACE);
}

/* The address space of the process (or thread) id names, held (mm_put
 * when done), or NULL with *err set: ESRCH, EPERM. */
static struct mm *attach_mm(int id, long *err)
{
	struct process *me = current->proc;
	struct mm *mm = NULL;
	*err = -ESRCH;
	pthread_mutex_lock(&tasklist_lock);
	struct process *p = id > 0 ? pid_or_tid_lookup(id) : NULL;
	if (p && p->state == PROC_ALIVE) {
		pthread_mutex_lock(&p->lock);
		if (p->mm && !may_inspect_locked(me, p))
			*err = -EPERM; /* mm_access's EACCES, which process_vm_rw makes EPERM */
		else if (p->mm && !p->exited) {
			mm = p->mm;
			__atomic_add_fetch(&mm->users, 1, __ATOMIC_ACQ_REL); /* Linux's mmget */
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&tasklist_lock);
	return mm;
}

/* Move up to n bytes between the caller's [local, +n) and mm's
 * [remote, +n) through buf: the bytes moved; *fault set if it stopped
 * short at a byte either side cannot reach. */
static size_t move_chunk(struct mm *mm, gaddr_t remote, gaddr_t local, size_t n, bool write, char *buf,
			 bool *fault)
{
	size_t got;
	if (write) {
		size_t have = guest_accessible_len(local, n, false);
		if (have && copy_from_guest(buf, local, have))
			have = 0;
		got = have ? (size_t)mm_access_remote(mm, remote, buf, have, true) : 0;
		*fault = got < n;
		return got;
	}
	size_t have = (size_t)mm_access_remote(mm, remote, buf, n, false);
	got = guest_accessible_len(local, have, true);
	if (got && copy_to_guest(local, buf, got))
		got = 0;
	*fault = got < n;
	return got;
}

static long process_vm_rw(const struct sysargs *a, bool write)
{
	int id = (int)a->a[0];
	gaddr_t ulocal = a->a[1], uremote = a->a[3];
	uint64_t nlocal = a->a[2], nremote = a->a[4];
	if (a->a[5])
		return -EINVAL;
	struct guest_seg *local = malloc(2 * GUEST_IOV_MAX * sizeof(*local));
	char *buf = malloc(BOUNCE_SIZE);
	long ret = local && buf ? 0 : -ENOMEM;
	struct guest_seg *remote = local + GUEST_IOV_MAX;
	long total = ret ? ret : guest_import_iovecs(ulocal, nlocal, local);
	if (total <= 0) {
		ret = total;
		goto out;
	}
	if ((ret = import_remote(uremote, nremote, remote)))
		goto out;
	bool any = false;
	for (uint64_t i = 0; i < nremote; i++)
		any |= remote[i].len > 0;
	if (!any)
		goto out; /* Linux: no page to pin, 0 */
	struct mm *mm = attach_mm(id, &ret);
	if (!mm)
		goto out;
	/* The local segments are consumed in order across the remote ones. */
	uint64_t li = 0, loff = 0;
	size_t moved = 0;
	bool fault = false;
	for (uint64_t ri = 0; ri < nremote && li < nlocal && !fault; ri++) {
		uint64_t raddr = remote[ri].base, rlen = remote[ri].len;
		while (rlen && li < nlocal && !fault) {
			if (loff == local[li].len) {
				li++;
				loff = 0;
				continue;
			}
			size_t n = MIN(MIN(rlen, local[li].len - loff), BOUNCE_SIZE);
			size_t got = move_chunk(mm, raddr, local[li].base + loff, n, write, buf, &fault);
			moved += got;
			raddr += got;
			rlen -= got;
			loff += got;
		}
	}
	mm_put(mm);
	/* Any bytes moved are the result; else the error that stopped it. */
	ret = moved ? (long)moved : fault ? -EFAULT : 0;
out:
	free(local);
	free(buf);
	return ret;
}

long sys_process_vm_readv(const struct sysargs *a)
{
	return process_vm_rw(a, false);
}

long sys_process_vm_writev(const struct sysargs *a)
{
	return process_vm_rw(a, true);
}
