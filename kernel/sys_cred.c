/* Supplementary groups. The guest runs with the invoking user's
 * credentials; its group list is a copy of the host process's, which the
 * guest can read but, without privileges, not change. */
#include <grp.h>
#include <unistd.h>
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define NGROUPS_MAX 65536

long sys_getgroups(const struct sysargs *a)
{
	int size = (int)a->a[0];
	if (size < 0)
		return -EINVAL;
	gid_t groups[256];
	int n = getgroups(256, groups);
	if (n < 0)
		return -errno;
	if (size == 0)
		return n;
	if (size < n)
		return -EINVAL;
	int err = copy_to_guest(a->a[1], groups, (size_t)n * sizeof(gid_t));
	return err ? err : n;
}

long sys_setgroups(const struct sysargs *a)
{
	if (a->a[0] > NGROUPS_MAX)
		return -EINVAL;
	return -EPERM; /* the sandbox grants no CAP_SETGID */
}

/* ---- user and group ids ----------------------------------------------
 *
 * Linux's rules (kernel/sys.c) with "privileged" meaning effective uid 0
 * for user ids and effective uid 0 for group ids too (CAP_SETUID and
 * CAP_SETGID of the sandbox's root): an unprivileged process may only
 * move among its real, effective and saved ids. The fs id follows the
 * effective one. */

struct ids {
	uint32_t *r, *e, *s, *fs;
};

static struct ids uids(struct process *p) { return (struct ids){ &p->ruid, &p->uid, &p->suid, &p->fsuid }; }
static struct ids gids(struct process *p) { return (struct ids){ &p->rgid, &p->gid, &p->sgid, &p->fsgid }; }

static bool one_of(const struct ids *x, uint32_t v) { return v == *x->r || v == *x->e || v == *x->s; }

static long set_res(struct ids x, uint32_t r, uint32_t e, uint32_t s)
{
	struct process *p = current->proc;
	bool priv = p->uid == 0;
	if (!priv && ((r != (uint32_t)-1 && !one_of(&x, r)) || (e != (uint32_t)-1 && !one_of(&x, e)) ||
		      (s != (uint32_t)-1 && !one_of(&x, s))))
		return -EPERM;
	pthread_mutex_lock(&p->lock);
	if (r != (uint32_t)-1)
		*x.r = r;
	if (e != (uint32_t)-1)
		*x.e = e;
	if (s != (uint32_t)-1)
		*x.s = s;
	*x.fs = *x.e;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static long set_re(struct ids x, uint32_t r, uint32_t e)
{
	struct process *p = current->proc;
	bool priv = p->uid == 0;
	uint32_t old_r = *x.r;
	if (!priv && r != (uint32_t)-1 && r != *x.r && r != *x.e)
		return -EPERM;
	if (!priv && e != (uint32_t)-1 && !one_of(&x, e))
		return -EPERM;
	pthread_mutex_lock(&p->lock);
	if (r != (uint32_t)-1)
		*x.r = r;
	if (e != (uint32_t)-1)
		*x.e = e;
	/* The saved id follows the effective one when the real one is set or
	 * the effective one moves away from the old real id. */
	if (r != (uint32_t)-1 || (e != (uint32_t)-1 && e != old_r))
		*x.s = *x.e;
	*x.fs = *x.e;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static long set_one(struct ids x, uint32_t v)
{
	struct process *p = current->proc;
	if (v == (uint32_t)-1)
		return -EINVAL;
	if (p->uid == 0)
		return set_res(x, v, v, v);
	if (v != *x.r && v != *x.s)
		return -EPERM;
	return set_res(x, (uint32_t)-1, v, (uint32_t)-1);
}

/* setfsuid/setfsgid return the old id and never fail visibly. */
static long set_fs(struct ids x, uint32_t v)
{
	struct process *p = current->proc;
	uint32_t old = *x.fs;
	if (v != (uint32_t)-1 && (p->uid == 0 || one_of(&x, v) || v == *x.fs)) {
		pthread_mutex_lock(&p->lock);
		*x.fs = v;
		pthread_mutex_unlock(&p->lock);
	}
	return old;
}

long sys_setuid(const struct sysargs *a) { return set_one(uids(current->proc), (uint32_t)a->a[0]); }
long sys_setgid(const struct sysargs *a) { return set_one(gids(current->proc), (uint32_t)a->a[0]); }
long sys_setreuid(const struct sysargs *a) { return set_re(uids(current->proc), (uint32_t)a->a[0], (uint32_t)a->a[1]); }
long sys_setregid(const struct sysargs *a) { return set_re(gids(current->proc), (uint32_t)a->a[0], (uint32_t)a->a[1]); }
long sys_setresuid(const struct sysargs *a)
{
	return set_res(uids(current->proc), (uint32_t)a->a[0], (uint32_t)a->a[1], (uint32_t)a->a[2]);
}
long sys_setresgid(const struct sysargs *a)
{
	return set_res(gids(current->proc), (uint32_t)a->a[0], (uint32_t)a->a[1], (uint32_t)a->a[2]);
}
long sys_setfsuid(const struct sysargs *a) { return set_fs(uids(current->proc), (uint32_t)a->a[0]); }
long sys_setfsgid(const struct sysargs *a) { return set_fs(gids(current->proc), (uint32_t)a->a[0]); }
