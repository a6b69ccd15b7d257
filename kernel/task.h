/* Tasks: guest threads and the processes (thread groups) they belong to.
 * One kernel host-thread serves each guest thread; `current` is the guest
 * thread the calling kernel thread serves. */
#ifndef COCOON_TASK_H
#define COCOON_TASK_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include "kernel/kernel.h"
#include "arch/x86_64/regs.h"
#include "kernel/waitq.h"
#include "kernel/signal.h"
#include "kernel/proc_ext.h"

struct mm;
struct fdtable;
struct fs_struct;
struct platform_thread;
struct proc_cpu;
struct thread_cpu;

/* What rt_sigaction stores (kernel layout of struct k_sigaction). */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* A thread's sigaltstack settings, flags as last set (SS_AUTODISARM kept). */
struct altstack {
	gaddr_t sp;
	uint64_t size;
	uint32_t flags;
};

/* Process states, for wait and /proc. */
enum proc_state { PROC_ALIVE, PROC_ZOMBIE, PROC_REAPED };

/* A vfork parent waits until its child execs or exits. */
struct vfork_done {
	bool done;
	struct waitq wq;
};

struct process {
	int pid;                 /* virtual; the first guest is 1 */
	int pgid, sid;
	struct process *parent;  /* NULL for init; tasklist_lock */
	/* The thread of parent that is our parent (Linux's real_parent is a
	 * thread): the one that forked us, until it leaves (tasklist_lock).
	 * __WNOTHREAD waits and PR_SET_PDEATHSIG go by it. */
	int parent_tid;
	struct process *children, *sibling; /* tasklist_lock */
	int exit_signal;         /* sent to the parent at exit (SIGCHLD) */
	enum proc_state state;   /* tasklist_lock */
	bool did_exec;           /* setpgid by the parent fails after exec */
	bool child_subreaper;    /* PR_SET_CHILD_SUBREAPER; tasklist_lock */
	struct waitq child_wq;   /* wait4/waitid of this process sleep here */
	struct vfork_done *vfork; /* our vfork parent's, until exec or exit */
	struct mm *mm;
	/* The signal handlers, shared with CLONE_SIGHAND relatives; never
	 * NULL. The pointer changes only at exec, under lock. */
	struct sighand *sighand;
	struct rlimit rlimits[RLIM_NLIMITS];
	uint32_t uid, gid;       /* effective ids (what permission checks use) */
	uint32_t ruid, suid, fsuid, rgid, sgid, fsgid; /* real, saved, fs */
	/* The leader thread's name (/proc/<pid>/comm, stat, status):
	 * kept equal to the leader's t->comm while it lives, and kept once
	 * it has left (Linux's zombie leader keeps its comm). Each thread
	 * has its own (thread.comm). lock. */
	char comm[16];
	int dumpable;            /* PR_SET_DUMPABLE */
	struct proc_ext ext;     /* capabilities, groups, prctl, membarrier; lock */
	int exit_status;         /* wait status once exited */
	bool exited;
	/* Threads (process.lock, and tasklist_lock to add or remove): the
	 * live ones, leader first while it lives; `thread` is the one that
	 * stands for the process (the leader, or the first still running),
	 * NULL once all have left. */
	struct thread *threads;
	struct thread *thread;
	int nr_threads;
	struct thread *execing;  /* a thread in execve waiting for the others to go */
	struct waitq thread_exit_wq; /* woken as each thread leaves */
	struct sigpending shared_pending; /* process-directed signals; lock */
	uint64_t shared_claims;  /* the union of its threads' shared_claims */
	/* Job control (lock): stopped by stop_sig; what wait has yet to
	 * report (WUNTRACED, WCONTINUED). */
	bool stopped, report_stop, report_cont;
	int stop_sig;
	unsigned cont_seq;       /* SIGCONTs so far: one between a stop signal's
				  * dequeue and the stop cancels the stop */
	struct file *exe;        /* the program file (/proc/<pid>/exe); lock */
	bool exe_denies_write;   /* p holds exe's inode against writers (ETXTBSY) */
	struct timespec start_time; /* CLOCK_MONOTONIC of creation */
	struct proc_timers *timers; /* kernel/timers.h: made on first use; lock and timers_lock */
	pthread_mutex_t lock;
	struct proc_cpu *cpu;    /* kernel/cputime.h: CPU time; made on first use */
};

/* A table of signal handlers (Linux's sighand_struct). Every process has
 * one; clone(CLONE_SIGHAND) without CLONE_THREAD shares it by reference,
 * so a sigaction in one process is seen by the others, and exec gives
 * the execing process a copy of its own (Linux's unshare_sighand). The
 * entries are guarded by `lock`, a leaf taken under process.lock: a
 * reader holds p->lock (which pins p->sighand) or uses sigaction_get. */
struct sighand {
	int count;               /* processes using it; atomic */
	pthread_mutex_t lock;
	struct ksigaction action[64];
};
/* A new table, all SIG_DFL, one user: NULL if out of memory. */
struct sighand *sighand_new(void);
/* One user less; the last frees it. */
void sighand_put(struct sighand *sh);
/* The processes using p's handlers, p included (p->lock held). */
int sighand_users_locked(const struct process *p);
/* A copy of p's action for sig (1..64): with p->lock held, or without. */
struct ksigaction sigaction_get_locked(struct process *p, int sig);
struct ksigaction sigaction_get(struct process *p, int sig);
/* Set p's action for sig and return the old one (p->lock held). */
struct ksigaction sigaction_set_locked(struct process *p, int sig, const struct ksigaction *ka);

/* Guards the process tree, the pid table and process states. Taken
 * before any process's lock. */
extern pthread_mutex_t tasklist_lock;

/* Pids (kernel/pid.c). */
#define PID_MAX 32768
/* PR_GET_TIMERSLACK of the first thread (Linux's init_task: 50 us). */
#define DEFAULT_TIMER_SLACK_NS 50000
int pid_alloc(struct process *p);            /* tasklist_lock held; -EAGAIN */
void pid_free(int pid);                      /* tasklist_lock held */
struct process *pid_lookup(int pid);         /* tasklist_lock held; NULL */
/* Thread ids share the pid space: a thread that is not a leader holds its
 * own id (tasklist_lock held for all three). */
int tid_alloc(struct thread *t);             /* -EAGAIN */
void tid_set(int tid, struct thread *t);     /* the thread an id names (NULL: none) */
struct thread *tid_lookup(int tid);          /* a live thread, or NULL */
/* The process an id names: a process id, or any of its thread ids (kill
 * of a thread id signals its process, like Linux). */
struct process *pid_or_tid_lookup(int id);
/* Linux's ptrace_may_access with real credentials (READ or ATTACH, which
 * differ only in security modules): its own process; else the caller's
 * real ids equal to all of the target's, or CAP_SYS_PTRACE; and a
 * dumpable target, or CAP_SYS_PTRACE (kernel/sys_process_vm.c;
 * tasklist_lock held). */
bool may_inspect_locked(const struct process *me, const struct process *p);
/* Call fn for every live or zombie process (tasklist_lock held). */
void for_each_process(void (*fn)(struct process *p, void *ctx), void *ctx);

struct thread {
	int tid;
	/* Given with a tid of its own (not a leader's), unique for the
	 * sandbox's life: a pidfd naming this thread tells it from a later
	 * one with the same tid. tasklist_lock. */
	uint64_t serial;
	struct process *proc;
	struct guest_regs regs;  /* guest registers while trapped */
	uint64_t fs_base;
	bool fs_base_dirty;      /* the platform must load fs_base on resume */
	uint64_t sigmask;
	struct altstack altstack;
	/* The thread's name (PR_SET_NAME, /proc/.../task/<tid>/comm):
	 * inherited at clone and fork, set at exec. proc->lock; see
	 * thread_set_comm_locked. */
	char comm[16];
	int nice;
	int pdeath_signal;       /* PR_SET_PDEATHSIG (stored) */
	bool no_new_privs;
	/* PR_SET_TIMERSLACK (stored); the default is the creator's slack
	 * (Linux's default_timer_slack_ns). proc->lock. */
	uint64_t timer_slack_ns, default_slack_ns;
	struct sigpending pending; /* thread-directed signals; proc->lock */
	uint64_t saved_sigmask;  /* restored after delivery (sigsuspend...) */
	uint64_t real_blocked;   /* rt_sigtimedwait: the mask before it unblocked its set */
	uint64_t shared_claims;  /* process-directed signals named at it (kernel/signal.c); atomic, written under proc->lock */
	bool restore_sigmask;
	struct restart_block restart;
	_Atomic bool in_guest;   /* running guest code: a signal must kick it */
	gaddr_t clear_child_tid;
	gaddr_t set_child_tid;   /* CLONE_CHILD_SETTID: written at start */
	gaddr_t robust_list;
	/* Shared by reference with the threads and processes made with
	 * CLONE_FILES / CLONE_FS (Linux's task files and fs). Changed only
	 * by the thread itself, under proc->lock; others read them under it. */
	struct fdtable *files;
	struct fs_struct *fs;    /* root, cwd, umask */
	/* SysV semaphore undo list (ipc/sem.c), shared with CLONE_SYSVSEM;
	 * NULL until the first SEM_UNDO. Only the thread itself uses it. */
	struct sem_undo_list *sysvsem;
	bool exiting;            /* leave the run loop after this trap */
	int exit_code;           /* exit(2)'s wait status, if the process ends with this thread */
	bool leaving;            /* past its serve loop: no longer listed in /proc (proc->lock) */
	struct thread *next_thread; /* in proc->threads */
	_Atomic uint32_t wake_word; /* kernel/waitq.h: bumped to end a sleep */
	struct platform_thread *plat;
	struct thread_cpu *cpu;  /* kernel/cputime.h: CPU time and scheduling; proc->lock */
	/* getrusage counts the thread makes itself (atomic, relaxed): sleeps
	 * on a wait queue, page faults the kernel resolved (copy-on-write). */
	uint64_t nvcsw, kernel_minflt;
};

extern __thread struct thread *current;

/* Start the first guest process from a program on the host (cocoon run):
 * returns its wait status when it is gone, or -errno if it could not be
 * started (the errno execve would give). */
int run_init_process(const char *path, char *const argv[], char *const envp[]);

/* Set the whole thread group to exit with the given wait status
 * (exit code << 8, or the terminating signal): its threads leave their
 * serve loops at the next trap or wake-up. */
void process_exit(struct process *p, int wait_status);
struct process *process_alloc(void); /* defaults of a new process */
/* Make f (a reference the caller gives) p's program, held against
 * writers while p runs it (ETXTBSY); returns the old one, given back,
 * for the caller to put. */
struct file *process_set_exe(struct process *p, struct file *f);
void process_free(struct process *p);
/* Link a new process under parent and count it (tasklist_lock held). */
void process_attach(struct process *p, struct process *parent);
/* Take a reaped or dead process out of the tree and free its pid
 * (tasklist_lock held); the caller frees it. */
void process_unlink(struct process *p);
/* The last thread of a process has left its serve loop: end the process
 * (free its memory and files, become a zombie, tell the parent). */
void process_end(struct thread *t);
/* Add t (its tid taken now unless set) to p's threads; 0, -EAGAIN, or
 * -ERESTARTNOINTR if p is exiting or exec-ing (the caller dies). */
int thread_add(struct process *p, struct thread *t);
/* Take back a thread that was added but never started. */
void thread_discard(struct thread *t);
/* A leaving thread's futex duties (kernel/futex.c): its robust list and
 * its CLONE_CHILD_CLEARTID word, cleared and woken. */
void futex_thread_exit(struct thread *t);
/* Stop every other thread of the current process and wait until they are
 * gone (execve); 0, or -EINTR if the caller is killed meanwhile. */
int process_single_thread(void);
/* Wake t if it sleeps, kick it if it runs guest code. */
void thread_notify(struct thread *t);
/* Rename thread t (name: 16 bytes, NUL-terminated); the leader's name
 * is the process's too (p->comm). t->proc->lock held. */
void thread_set_comm_locked(struct thread *t, const char name[16]);
/* Drop t's fd table and fs state (exit; a no-op the second time). */
void thread_exit_files(struct thread *t);
/* Start a new kernel thread serving t (fork, clone). */
int thread_start(struct thread *t);
/* Release a vfork parent waiting on p (exec, exit). */
void vfork_release(struct process *p);
#endif
