/* Supplementary groups: each process holds a sorted list, shared by
 * reference until setgroups makes a new one. The first guest starts
 * with the host process's groups (the invoking user's); setgroups needs
 * CAP_SETGID, like Linux. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "kernel/proc_ext.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define NGROUPS_MAX 65536

struct group_list *group_list_alloc(int n)
{
	struct group_list *g = malloc(sizeof(*g) + (size_t)n * sizeof(g->gid[0]));
	if (g) {
		g->refs = 1;
		g->n = n;
	}
	return g;
}

void groups_put(struct group_list *g)
{
	if (g && __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(g);
}

struct group_list *groups_ref(struct group_list *g)
{
	if (g)
		__atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
	return g;
}

struct group_list *groups_get(struct process *p)
{
	pthread_mutex_lock(&p->lock);
	struct group_list *g = groups_ref(p->ext.groups);
	pthread_mutex_unlock(&p->lock);
	return g;
}

static int cmp_gid(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/* The host process's groups, sorted; an empty list if they cannot be read. */
static struct group_list *read_host_groups(void)
{
	int n = getgroups(0, NULL);
	struct group_list *g = group_list_alloc(n > 0 ? n : 0);
	if (!g)
		return NULL;
	if (n > 0) {
		gid_t *host = malloc((size_t)n * sizeof(*host));
		n = host ? getgroups(n, host) : -1;
		for (int i = 0; i < n; i++)
			g->gid[i] = host[i];
		free(host);
		g->n = n > 0 ? n : 0;
		qsort(g->gid, (size_t)g->n, sizeof(g->gid[0]), cmp_gid);
	}
	return g;
}

static struct group_list *host_groups;
static pthread_once_t host_groups_once = PTHREAD_ONCE_INIT;
static void host_groups_load(void) { host_groups = read_host_groups(); }

/* Read once: every new process starts with a reference to the same list. */
struct group_list *groups_of_host(void)
{
	pthread_once(&host_groups_once, host_groups_load);
	return groups_ref(host_groups);
}

static bool in_groups(uint32_t gid, bool or_fsgid)
{
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	bool in = or_fsgid && gid == p->fsgid;
	struct group_list *g = p->ext.groups;
	for (int i = 0; !in && g && i < g->n; i++)
		in = g->gid[i] == gid;
	pthread_mutex_unlock(&p->lock);
	return in;
}

bool in_group_p(uint32_t gid)
{
	return in_groups(gid, true);
}

bool in_supplementary_groups(uint32_t gid)
{
	return in_groups(gid, false);
}

long sys_getgroups(const struct sysargs *a)
{
	int size = (int)a->a[0];
	if (size < 0)
		return -EINVAL;
	struct group_list *g = groups_get(current->proc);
	long n = g ? g->n : 0;
	if (size && n > size)
		n = -EINVAL;
	else if (size && n && copy_to_guest(a->a[1], g->gid, (size_t)n * sizeof(g->gid[0])))
		n = -EFAULT;
	groups_put(g);
	return n;
}

long sys_setgroups(const struct sysargs *a)
{
	int size = (int)a->a[0];
	if (!capable(CAP_SETGID))
		return -EPERM;
	if ((unsigned)size > NGROUPS_MAX)
		return -EINVAL;
	struct group_list *g = group_list_alloc(size);
	if (!g)
		return -ENOMEM;
	if (size && copy_from_guest(g->gid, a->a[1], (size_t)size * sizeof(g->gid[0]))) {
		groups_put(g);
		return -EFAULT;
	}
	qsort(g->gid, (size_t)size, sizeof(g->gid[0]), cmp_gid);
	struct process *p = current->proc;
	pthread_mutex_lock(&p->lock);
	struct group_list *old = p->ext.groups;
	p->ext.groups = g;
	pthread_mutex_unlock(&p->lock);
	groups_put(old);
	return 0;
}
