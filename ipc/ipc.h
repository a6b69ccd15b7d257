/* SysV IPC: the sandbox's one IPC namespace. Each kind (shm, sem, msg)
 * keeps its objects in an id table (struct ipc_ids) with Linux's id
 * scheme: id = seq * IPCMNI + index, the index allocated cyclically and
 * seq bumped whenever the index wraps, so a stale id is EINVAL.
 * Permissions are Linux's ipcperms against the caller's credentials.
 *
 * Locking: each table has one lock (ipc_ids.lock) guarding its objects.
 * It is taken under mm->lock (shm detach runs from VMA hooks), never the
 * other way round. */
#ifndef COCOON_IPC_H
#define COCOON_IPC_H

#include <pthread.h>
#include <sys/types.h>
#include "kernel/kernel.h"

#define IPCMNI_SHIFT 15
#define IPCMNI (1 << IPCMNI_SHIFT)
#define IPC_SEQ_MAX (0x7fffffff >> IPCMNI_SHIFT)

/* Linux's defaults (include/uapi/linux/{shm,sem,msg}.h). */
#define SHMMIN 1UL
#define SHMMNI 4096
#define SHMMAX (~0UL - (1UL << 24))
#define SHMALL (~0UL - (1UL << 24)) /* pages */
#define SEMMNI 32000
#define SEMMSL 32000
#define SEMMNS (SEMMNI * SEMMSL)
#define SEMOPM 500
#define SEMVMX 32767
#define SEMAEM SEMVMX
#define MSGMNI 32000
#define MSGMAX 8192
#define MSGMNB 16384

/* Guest layout of struct ipc64_perm (x86-64). */
struct ipc64_perm_guest {
	int32_t key;
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;
	uint16_t seq, pad2;
	uint64_t unused1, unused2;
};
_Static_assert(sizeof(struct ipc64_perm_guest) == 48, "ipc64_perm");

/* What every IPC object starts with. */
struct ipc_perm_k {
	int32_t key;
	int id;
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;   /* rwx bits, plus the kind's own flags (SHM_DEST...) */
	unsigned seq;
	bool deleted;    /* removed from its table: waiters see EIDRM */
};

struct ipc_ids {
	pthread_mutex_t lock;
	struct ipc_perm_k **slot; /* by index; NULL: free */
	int cap;                  /* slots allocated */
	int in_use;
	int max_idx;              /* highest index in use, -1 if none */
	int last_idx;             /* last index handed out */
	unsigned seq;
};

#define IPC_IDS_INIT { .lock = PTHREAD_MUTEX_INITIALIZER, .max_idx = -1, .last_idx = -1 }

/* The namespace's limits, Linux's ipc_namespace fields, which root sets
 * through /proc/sys/kernel (ipc/sysctl.c). Read without locks, one field
 * at a time (ipc_limit()), like Linux's READ_ONCE: a change applies to
 * what comes after it (a queue's msg_qbytes is msgmnb at its creation). */
enum { SEM_SEMMSL, SEM_SEMMNS, SEM_SEMOPM, SEM_SEMMNI };
struct ipc_ns_limits {
	unsigned long shm_ctlmax;  /* bytes per segment */
	unsigned long shm_ctlall;  /* pages of all segments */
	int shm_ctlmni;            /* segments */
	int shm_rmid_forced;       /* segments go with their last user */
	int msg_ctlmax;            /* bytes per message */
	int msg_ctlmnb;            /* a new queue's msg_qbytes */
	int msg_ctlmni;            /* queues */
	int sem_ctls[4];           /* SEM_SEMMSL...: "sem" */
};
extern struct ipc_ns_limits ipc_ns;
#define ipc_limit(field) __atomic_load_n(&ipc_ns.field, __ATOMIC_RELAXED)

/* Under ids->lock: */
/* The object with this key, or NULL. */
struct ipc_perm_k *ipc_find_key(struct ipc_ids *ids, int32_t key);
/* The object an id names: it, or NULL (EINVAL for the caller). */
struct ipc_perm_k *ipc_find_id(struct ipc_ids *ids, int id);
/* The object at an index (the *_STAT commands), or NULL. */
struct ipc_perm_k *ipc_find_index(struct ipc_ids *ids, int idx);
/* Enter a new object if fewer than limit (the kind's *mni, at most
 * IPCMNI) are in use: sets its id, seq, owner and creator (the caller's
 * effective ids), mode (flags & 0777) and key. 0 or -ENOSPC / -ENOMEM. */
int ipc_add(struct ipc_ids *ids, struct ipc_perm_k *p, int32_t key, int flags, int limit);
/* Take it out of its table (deleted = true). */
void ipc_remove(struct ipc_ids *ids, struct ipc_perm_k *p);
/* Make its key IPC_PRIVATE: no ipc_find_key finds it any more. */
static inline void ipc_set_key_private(struct ipc_perm_k *p) { p->key = 0; }

/* Linux's ipcperms: 0 if the caller may access p as flag's rwx bits ask
 * (S_IRUGO-style, any of the three triplets), -EACCES if not. */
int ipc_perms(const struct ipc_perm_k *p, int flag);
/* IPC_SET and IPC_RMID: the caller owns or created p, or has
 * CAP_SYS_ADMIN; 0 or -EPERM. */
int ipc_owner_check(const struct ipc_perm_k *p);
/* IPC_SET of the perm part: uid, gid and the rwx bits of mode; -EINVAL
 * for an invalid uid or gid. */
int ipc_set_perm(struct ipc_perm_k *p, const struct ipc64_perm_guest *in);
/* The guest's view of p. */
void ipc_fill_perm(const struct ipc_perm_k *p, struct ipc64_perm_guest *out);

/* Linux's ipcget: the lookup-or-create of shmget/semget/msgget.
 * create: makes the new object (ids->lock held), enters it with
 * ipc_add, and returns its id or -errno. check: an existing object's
 * own checks (shm size, sem count), 0 or -errno (may be NULL). */
struct ipc_get_ops {
	int (*create)(struct ipc_ids *ids, int32_t key, int flags, void *arg);
	int (*check)(struct ipc_perm_k *p, void *arg);
};
long ipc_get(struct ipc_ids *ids, int32_t key, int flags, const struct ipc_get_ops *ops, void *arg);

/* The caller's pid and the sandbox's wall-clock seconds. */
int ipc_cur_pid(void);
int64_t ipc_now(void);

/* /proc/sysvipc/{shm,sem,msg}: Linux's header and a line per object. */
struct seqbuf;
void shm_proc_show(struct seqbuf *s);
void sem_proc_show(struct seqbuf *s);
void msg_proc_show(struct seqbuf *s);

/* Semaphore undo lists (ipc/sem.c), one per thread or shared
 * (t->sysvsem). clone: t gets a share of the current thread's list
 * (made now if it has none) if share (CLONE_SYSVSEM), else none; 0 or
 * -ENOMEM. exit: t (leaving, or unsharing CLONE_SYSVSEM) drops its
 * share; the last one applies the adjustments. */
struct thread;
int sem_copy_undo(struct thread *t, bool share);
void sem_exit(struct thread *t);

/* Process exit, once its memory is gone (ipc/shm.c): the segments it
 * made are orphans; with shm_rmid_forced those nobody uses go. */
struct process;
void shm_exit(struct process *p);
/* Writing shm_rmid_forced 1: orphans nobody uses go (ipc/shm.c). */
void shm_destroy_orphaned(void);

/* /proc/sys/kernel's IPC entries (ipc/sysctl.c): the kernel directory's
 * generated children. */
struct pseudo_ctx;
struct pseudo_node;
struct pseudo_lister;
int ipc_sysctl_lookup(const struct pseudo_ctx *c, const char *name, const struct pseudo_node **node,
		      struct pseudo_ctx *child);
int ipc_sysctl_list(const struct pseudo_ctx *c, struct pseudo_lister *l);

#endif
