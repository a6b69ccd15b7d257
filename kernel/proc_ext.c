/* The life of struct proc_ext (kernel/proc_ext.h): what a new process
 * starts with, what fork copies and what execve changes. */
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include "kernel/proc_ext.h"
#include "kernel/task.h"


void proc_ext_init(struct process *p)
{
	struct proc_ext *x = &p->ext;
	memset(x, 0, sizeof(*x));
	/* Root of the sandbox's namespace holds every capability, like
	 * init in a user namespace; anyone else none. */
	uint64_t full = cap_full_set();
	x->caps.bnd = full;
	if (p->uid == 0 || p->ruid == 0)
		x->caps.prm = full;
	if (p->uid == 0)
		x->caps.eff = full;
	x->groups = groups_of_host();
	x->mce_kill = -1;
}

/* Linux's copy_process and dup_mm: credentials and prctl settings are
 * inherited; membarrier registrations belong to the mm, which fork
 * copies with them. */
void proc_ext_fork(struct process *child, struct process *parent)
{
	struct proc_ext *x = &child->ext;
	groups_put(x->groups);
	*x = parent->ext;
	groups_ref(x->groups);
	x->mlock_future = false; /* memory locks are not inherited */
}

/* Linux's cap_bprm_creds_from_file for a program without file
 * capabilities and without set-id bits: root (real or effective) gets
 * the bounding set and its inheritable one, effective only for an
 * effective root; the ambient set carries over. KEEP_CAPS goes; so do
 * the membarrier registrations and MCL_FUTURE (a new mm). */
void proc_ext_exec(struct process *p)
{
	struct caps *c = &p->ext.caps;
	bool root = !(c->securebits & SECBIT_NOROOT);
	uint64_t prm = 0;
	if (root && (p->uid == 0 || p->ruid == 0))
		prm = c->bnd | c->inh;
	c->prm = prm | c->amb;
	c->eff = root && p->uid == 0 ? c->prm : c->amb;
	c->securebits &= ~SECBIT_KEEP_CAPS;
	p->ext.membarrier = 0;
	p->ext.mlock_future = false;
}

void proc_ext_free(struct process *p)
{
	groups_put(p->ext.groups);
	p->ext.groups = NULL;
}
