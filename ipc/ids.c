/* The IPC id tables and permission checks (Linux's ipc/util.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <linux/capability.h>
#include "ipc/ipc.h"
#include "kernel/task.h"
#include "kernel/ktime.h"

struct ipc_perm_k *ipc_find_key(struct ipc_ids *ids, int32_t key)
{
	for (int i = 0; i <= ids->max_idx; i++)
		if (ids->slot[i] && ids->slot[i]->key == key)
			return ids->slot[i];
	return NULL;
}

struct ipc_perm_k *ipc_find_index(struct ipc_ids *ids, int idx)
{
	if (idx < 0 || idx > ids->max_idx)
		return NULL;
	return ids->slot[idx];
}

struct ipc_perm_k *ipc_find_id(struct ipc_ids *ids, int id)
{
	if (id < 0)
		return NULL;
	struct ipc_perm_k *p = ipc_find_index(ids, id & (IPCMNI - 1));
	if (!p || (unsigned)id >> IPCMNI_SHIFT != p->seq)
		return NULL;
	return p;
}

/* Linux's ipc_idr_alloc: cyclic over a window of max(in_use * 3/2, 64)
 * indices (at most IPCMNI), from the one after the last handed out; so
 * a freed index is not reused at once, and a table that only grows
 * never wraps. */
#define IPC_MIN_CYCLE 64
static int alloc_index(struct ipc_ids *ids)
{
	int window = MIN(MAX(ids->in_use * 3 / 2, IPC_MIN_CYCLE), IPCMNI);
	int start = ids->last_idx + 1 < window ? ids->last_idx + 1 : 0;
	for (int n = 0; n < window; n++) {
		int idx = (start + n) % window;
		if (idx >= ids->cap) {
			int cap = ids->cap ? ids->cap : 16;
			while (cap <= idx)
				cap *= 2;
			cap = MIN(cap, IPCMNI);
			struct ipc_perm_k **s = realloc(ids->slot, (size_t)cap * sizeof(*s));
			if (!s)
				return -ENOMEM;
			memset(s + ids->cap, 0, (size_t)(cap - ids->cap) * sizeof(*s));
			ids->slot = s;
			ids->cap = cap;
		}
		if (!ids->slot[idx])
			return idx;
	}
	return -ENOSPC;
}

int ipc_add(struct ipc_ids *ids, struct ipc_perm_k *p, int32_t key, int flags, int limit)
{
	if (ids->in_use >= MIN(limit, IPCMNI))
		return -ENOSPC;
	int idx = alloc_index(ids);
	if (idx < 0)
		return idx;
	if (idx <= ids->last_idx && ++ids->seq >= IPC_SEQ_MAX)
		ids->seq = 0;
	ids->last_idx = idx;
	struct process *cur = current->proc;
	p->key = key;
	p->seq = ids->seq;
	p->id = (int)((p->seq << IPCMNI_SHIFT) + (unsigned)idx);
	p->uid = p->cuid = cur->uid;
	p->gid = p->cgid = cur->gid;
	p->mode = (uint32_t)flags & 0777;
	p->deleted = false;
	ids->slot[idx] = p;
	ids->in_use++;
	ids->max_idx = MAX(ids->max_idx, idx);
	return 0;
}

void ipc_remove(struct ipc_ids *ids, struct ipc_perm_k *p)
{
	int idx = p->id & (IPCMNI - 1);
	if (idx < ids->cap && ids->slot[idx] == p) {
		ids->slot[idx] = NULL;
		ids->in_use--;
		while (ids->max_idx >= 0 && !ids->slot[ids->max_idx])
			ids->max_idx--;
	}
	p->deleted = true;
}

static bool in_group_cur(uint32_t gid)
{
	return gid == current->proc->fsgid || in_group_p(gid);
}

int ipc_perms(const struct ipc_perm_k *p, int flag)
{
	int requested = (flag >> 6) | (flag >> 3) | flag;
	int granted = (int)p->mode;
	uint32_t euid = current->proc->uid;
	if (euid == p->cuid || euid == p->uid)
		granted >>= 6;
	else if (in_group_cur(p->cgid) || in_group_cur(p->gid))
		granted >>= 3;
	if ((requested & ~granted & 07) && !capable(CAP_IPC_OWNER))
		return -EACCES;
	return 0;
}

int ipc_owner_check(const struct ipc_perm_k *p)
{
	uint32_t euid = current->proc->uid;
	if (euid == p->cuid || euid == p->uid || capable(CAP_SYS_ADMIN))
		return 0;
	return -EPERM;
}

int ipc_set_perm(struct ipc_perm_k *p, const struct ipc64_perm_guest *in)
{
	if (in->uid == (uint32_t)-1 || in->gid == (uint32_t)-1)
		return -EINVAL;
	p->uid = in->uid;
	p->gid = in->gid;
	p->mode = (p->mode & ~0777u) | (in->mode & 0777);
	return 0;
}

void ipc_fill_perm(const struct ipc_perm_k *p, struct ipc64_perm_guest *out)
{
	*out = (struct ipc64_perm_guest){
		.key = p->key, .uid = p->uid, .gid = p->gid, .cuid = p->cuid, .cgid = p->cgid,
		.mode = p->mode, .seq = (uint16_t)p->seq,
	};
}

long ipc_get(struct ipc_ids *ids, int32_t key, int flags, const struct ipc_get_ops *ops, void *arg)
{
	pthread_mutex_lock(&ids->lock);
	long ret;
	struct ipc_perm_k *p = key == IPC_PRIVATE ? NULL : ipc_find_key(ids, key);
	if (key == IPC_PRIVATE || !p) {
		if (key != IPC_PRIVATE && !(flags & IPC_CREAT))
			ret = -ENOENT;
		else
			ret = ops->create(ids, key, flags, arg);
	} else if ((flags & IPC_CREAT) && (flags & IPC_EXCL)) {
		ret = -EEXIST;
	} else {
		ret = ops->check ? ops->check(p, arg) : 0;
		if (!ret)
			ret = ipc_perms(p, flags);
		if (!ret)
			ret = p->id;
	}
	pthread_mutex_unlock(&ids->lock);
	return ret;
}

int ipc_cur_pid(void)
{
	return current ? current->proc->pid : 0;
}

int64_t ipc_now(void)
{
	return ktime_get_ns(CLOCK_REALTIME) / 1000000000;
}
