/* /proc's parts (fs/procfs*.c) as they see each other.
 *
 * Per-process nodes carry in their context (struct pseudo_ctx):
 *   id[CTX_PID]    the pid (the thread group's),
 *   id[CTX_START]  the process's identity: its start time in ns, so that a
 *                  directory kept open across the process's end never
 *                  shows the next process given the same pid (ESRCH/ENOENT
 *                  like Linux),
 *   id[CTX_SUB]    0 in /proc/<pid>/, the tid in /proc/<pid>/task/<tid>/
 *                  and below (whose fd table and fs state its files show),
 *                  or the tid | CTX_SUB_TGID in /proc/<tid>/ of a thread
 *                  that is not the leader (Linux's proc_pid_lookup finds
 *                  any task by its id: the directory is /proc/<pid>/'s,
 *                  whole-process figures included, about that thread),
 *   id[CTX_FD]     the fd in fd/<N> and fdinfo/<N>.
 *
 * Processes are freed by whoever reaps them under tasklist_lock, so a
 * struct process is touched only under that lock. Order: tasklist_lock,
 * process.lock, then mm.lock (read) or an fd table's or fs_struct's lock.
 * Never anything of the VFS (dput, fput, iput may take vfs_lock) while
 * tasklist_lock is held: references taken under it are dropped after. */
#ifndef COCOON_FS_PROCFS_INTERNAL_H
#define COCOON_FS_PROCFS_INTERNAL_H

#include <sys/resource.h>
#include "fs/file.h"
#include "fs/pseudofs.h"

struct process;
struct mm;

enum { CTX_PID, CTX_START, CTX_SUB, CTX_FD };
#define CTX_SUB_TGID (1LL << 32)

/* The thread c names (0: the process, shown by its leader). */
static inline int ctx_sub_tid(const struct pseudo_ctx *c)
{
	return (int)(c->id[CTX_SUB] & 0xffffffff);
}
/* Whether c's files show the whole process (/proc/<id>/), not one
 * thread's figures (/proc/<pid>/task/<tid>/). */
static inline bool ctx_whole(const struct pseudo_ctx *c)
{
	return !c->id[CTX_SUB] || (c->id[CTX_SUB] & CTX_SUB_TGID);
}

/* ---- processes (fs/procfs.c) */
int64_t proc_identity(const struct process *p);
/* The process c names (tasklist_lock held), or NULL if it is gone. */
struct process *proc_get_locked(const struct pseudo_ctx *c);
/* The thread c's files show (its fd table, fs state, name, state, mask,
 * memory): the one a /proc/<pid>/task/<tid>/ or /proc/<tid>/ directory
 * names, else p's leader, as Linux shows the task of the directory
 * (p->lock held; NULL once it has left: a leader that exited before the
 * other threads is a zombie with no files, fs or memory). */
struct thread *proc_thread_locked(const struct pseudo_ctx *c, struct process *p);
/* Linux's ptrace_may_access(PTRACE_MODE_READ_FSCREDS) for the caller
 * (tasklist_lock held): root, or the caller's fs ids are all of the
 * target's ids, and it is dumpable. */
bool proc_may_access_locked(struct process *p);
/* Whether the process c names still exists (a cached /proc/<pid> is
 * looked up again once it is gone: the pid may name another one). */
bool proc_valid(const struct pseudo_ctx *c);
/* The directory /proc/<pid> of process p, for lookups (/proc/self). */
struct pseudo_ctx proc_ctx_of(const struct process *p);
/* Owner of per-process nodes: the process's uid/gid (root if it is not
 * dumpable, like Linux). */
void proc_owner(const struct pseudo_ctx *c, uid_t *uid, gid_t *gid);
/* Run fn on the process and its mm (NULL for a zombie) with the process
 * locked; then, if fn returned 0 and there is an mm, mm_fn on the mm with
 * a reference to it and no lock held: fn must not take mm.lock, which
 * comes before process.lock (mmap checks rlimits under it). With check,
 * only if the caller may access the process (EACCES). Returns the last
 * callback's result, or -ESRCH if the process is gone. Neither callback
 * may sleep or touch the VFS. */
int proc_with_mm(const struct pseudo_ctx *c, bool check,
		 int (*fn)(struct process *p, struct mm *mm, void *arg),
		 int (*mm_fn)(struct mm *mm, void *arg), void *arg);
/* The procfs mount (for paths to nodes without a name). */
struct mount *proc_mount(void);
struct super *proc_super(void);

/* ---- the per-process nodes (fs/procfs_pid.c) */
extern const struct pseudo_node proc_pid_dir;  /* /proc/<pid> */

/* ---- fds and magic links (fs/procfs_fd.c) */
/* The directories fd/ and fdinfo/: list() and lookup(). */
int proc_fd_list(const struct pseudo_ctx *c, struct pseudo_lister *l);
int proc_fd_lookup(const struct pseudo_ctx *c, const char *name, const struct pseudo_node **node,
		   struct pseudo_ctx *child);
int proc_fdinfo_list(const struct pseudo_ctx *c, struct pseudo_lister *l);
int proc_fdinfo_lookup(const struct pseudo_ctx *c, const char *name,
		       const struct pseudo_node **node, struct pseudo_ctx *child);
int proc_exe_readlink(const struct pseudo_ctx *c, char *buf, size_t size);
int proc_exe_jump(const struct pseudo_ctx *c, struct path *out);
int proc_cwd_readlink(const struct pseudo_ctx *c, char *buf, size_t size);
int proc_cwd_jump(const struct pseudo_ctx *c, struct path *out);
int proc_root_readlink(const struct pseudo_ctx *c, char *buf, size_t size);
int proc_root_jump(const struct pseudo_ctx *c, struct path *out);
/* What readlink of /proc/<pid>/fd/N shows for f (maps names mapped
 * files the same way): its length or -errno. */
int proc_file_text(struct file *f, char *buf, size_t size);
/* The number of fd slots of thread th's table (status's FDSize; 0 for
 * none), its process locked. */
struct thread;
int proc_fdsize_locked(struct thread *th);

/* ---- memory maps (fs/procfs_maps.c) */
int proc_show_maps(const struct pseudo_ctx *c, struct seqbuf *s);
int proc_show_smaps(const struct pseudo_ctx *c, struct seqbuf *s);
int proc_show_smaps_rollup(const struct pseudo_ctx *c, struct seqbuf *s);
/* Sizes for status and statm, in bytes (what Linux counts in pages). */
struct proc_vmstat {
	uint64_t total, data, stack, exec, text, lib, locked;
	uint64_t rss_anon, rss_file, rss_shmem;
	uint64_t start_code, end_code, start_data, end_data;
};
int proc_vmstat(const struct pseudo_ctx *c, struct proc_vmstat *st);

#endif
