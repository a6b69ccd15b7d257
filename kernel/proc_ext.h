/* Per-process state of the everyday calls: capabilities, supplementary
 * groups, prctl settings and membarrier registrations. It lives in
 * struct process (`p->ext`, under p->lock) and follows it through four
 * hooks: process_alloc (proc_ext_init), fork (proc_ext_fork), execve
 * (proc_ext_exec) and process_free (proc_ext_free).
 *
 * Capabilities: the sandbox is like a user namespace owned by the
 * invoking user. A guest whose uid is 0 holds every capability Linux
 * knows (cap_last_cap of the host) in that namespace, as root in a user
 * namespace does; any other uid holds none. They follow Linux's rules
 * for set*id (cap_task_fix_setuid), execve without file capabilities
 * (cap_bprm_creds_from_file), capset (only dropping, inheritable within
 * permitted and bounding) and the prctl bounding-set, ambient and
 * securebits calls. They never give anything outside the sandbox: the
 * host process stays unprivileged whatever the guest holds.
 *
 * Lock order: p->lock is a leaf here; the group list is immutable and
 * shared by reference count. */
#ifndef COCOON_PROC_EXT_H
#define COCOON_PROC_EXT_H

#include <stdint.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include "kernel/kernel.h"

struct process;

struct caps {
	uint64_t eff, prm, inh, bnd, amb;
	uint32_t securebits;
};

/* A supplementary group list, sorted (as setgroups leaves it). Never
 * changed once made: setgroups makes a new one. */
struct group_list {
	int refs;
	int n;
	uint32_t gid[];
};

/* membarrier registrations (Linux's MEMBARRIER_STATE_*_READY). */
enum {
	MB_PRIVATE_READY = 1, MB_GLOBAL_READY = 2, MB_SYNC_CORE_READY = 4, MB_RSEQ_READY = 8,
};

struct proc_ext {
	struct caps caps;
	struct group_list *groups;
	int thp_disable;          /* PR_SET_THP_DISABLE (stored) */
	int mce_kill;             /* PR_MCE_KILL: -1 default, else PR_MCE_KILL_EARLY/LATE */
	unsigned membarrier;      /* MB_* registrations (atomic) */
	bool mlock_future;        /* mlockall(MCL_FUTURE): new mappings are locked */
};

/* The hooks. init: a new process whose uids are set (the first guest's
 * groups are the host process's). fork: the child's copy (parent->lock
 * held). exec: what execve changes (p->lock held). free: at the end. */
void proc_ext_init(struct process *p);
void proc_ext_fork(struct process *child, struct process *parent);
void proc_ext_exec(struct process *p);
void proc_ext_free(struct process *p);

/* Does the calling guest hold capability cap in its effective set?
 * (Lock-free: may be called with the process's lock held.) */
bool capable(int cap);
/* Linux's capable() where it means the initial user namespace, over the
 * namespace the object lives in (msgctl's msg_qbytes, SHM_LOCK's
 * RLIMIT_MEMLOCK): the sandbox being a user namespace below it, the
 * guest must hold cap and cocoon itself must hold it on the host. */
bool capable_init_ns(int cap);
/* Every capability this kernel knows (bits 0..cap_last_cap). */
uint64_t cap_full_set(void);
/* cap is a capability number this kernel knows (Linux's cap_valid). */
bool cap_known(unsigned long cap);
/* After a change of uids (p->lock held), Linux's cap_task_fix_setuid:
 * setxuid for setuid, setreuid, setresuid (the ids before the change);
 * setfsuid for setfsuid. */
void caps_fix_setxuid(struct process *p, uint32_t old_r, uint32_t old_e, uint32_t old_s);
void caps_fix_setfsuid(struct process *p, uint32_t old_fs);

/* The group list of p with a reference (p->lock taken inside). */
struct group_list *groups_get(struct process *p);
struct group_list *groups_ref(struct group_list *g);
void groups_put(struct group_list *g);
struct group_list *group_list_alloc(int n);
/* The host process's groups, sorted (the first guest's). */
struct group_list *groups_of_host(void);
/* Whether gid is the current guest's fs gid or one of its supplementary
 * groups. */
bool in_group_p(uint32_t gid);
/* gid is one of the caller's supplementary groups. */
bool in_supplementary_groups(uint32_t gid);

#endif
