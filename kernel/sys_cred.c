/* User and group ids (getgroups/setgroups: kernel/sys_groups.c). */
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/task.h"

/* ---- user and group ids ----------------------------------------------
 *
 * Linux's rules (kernel/sys.c): without CAP_SETUID (user ids) or
 * CAP_SETGID (group ids) a process may only move among its real,
 * effective and saved ids. The fs id follows the effective one. Changes
 * of user ids move the capabilities (caps_fix_setxuid). */

struct ids {
	uint32_t *r, *e, *s, *fs;
	int cap;    /* what lets a process take any id */
	bool user;  /* user ids: capabilities follow */
};

static struct ids uids(struct process *p) { return (struct ids){ &p->ruid, &p->uid, &p->suid, &p->fsuid, CAP_SETUID, true }; }
static struct ids gids(struct process *p) { return (struct ids){ &p->rgid, &p->gid, &p->sgid, &p->fsgid, CAP_SETGID, false }; }

/* p->lock held; the ids as they were before a change. */
struct old_ids {
	uint32_t r, e, s;
};
static struct old_ids save(const struct ids *x) { return (struct old_ids){ *x->r, *x->e, *x->s }; }
static void fixup(struct process *p, const struct ids *x, struct old_ids o)
{
	if (x->user)
		caps_fix_setxuid(p, o.r, o.e, o.s);
}

static bool one_of(const struct ids *x, uint32_t v) { return v == *x->r || v == *x->e || v == *x->s; }

static long set_res(struct ids x, uint32_t r, uint32_t e, uint32_t s)
{
	struct process *p = current->proc;
	bool priv = capable(x.cap);
	if (!priv && ((r != (uint32_t)-1 && !one_of(&x, r)) || (e != (uint32_t)-1 && !one_of(&x, e)) ||
		      (s != (uint32_t)-1 && !one_of(&x, s))))
		return -EPERM;
	pthread_mutex_lock(&p->lock);
	struct old_ids o = save(&x);
	if (r != (uint32_t)-1)
		*x.r = r;
	if (e != (uint32_t)-1)
		*x.e = e;
	if (s != (uint32_t)-1)
		*x.s = s;
	*x.fs = *x.e;
	fixup(p, &x, o);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static long set_re(struct ids x, uint32_t r, uint32_t e)
{
	struct process *p = current->proc;
	bool priv = capable(x.cap);
	uint32_t old_r = *x.r;
	if (!priv && r != (uint32_t)-1 && r != *x.r && r != *x.e)
		return -EPERM;
	if (!priv && e != (uint32_t)-1 && !one_of(&x, e))
		return -EPERM;
	pthread_mutex_lock(&p->lock);
	struct old_ids o = save(&x);
	if (r != (uint32_t)-1)
		*x.r = r;
	if (e != (uint32_t)-1)
		*x.e = e;
	/* The saved id follows the effective one when the real one is set or
	 * the effective one moves away from the old real id. */
	if (r != (uint32_t)-1 || (e != (uint32_t)-1 && e != old_r))
		*x.s = *x.e;
	*x.fs = *x.e;
	fixup(p, &x, o);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static long set_one(struct ids x, uint32_t v)
{
	if (v == (uint32_t)-1)
		return -EINVAL;
	if (capable(x.cap))
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
	if (v != (uint32_t)-1 && (capable(x.cap) || one_of(&x, v) || v == *x.fs)) {
		pthread_mutex_lock(&p->lock);
		*x.fs = v;
		if (x.user)
			caps_fix_setfsuid(p, old);
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
