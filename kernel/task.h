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

struct mm;
struct fdtable;
struct fs_struct;
struct platform_thread;

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

struct process {
	int pid;                 /* virtual; the first guest is 1 */
	int ppid;
	struct mm *mm;
	struct fdtable *files;
	struct fs_struct *fs;
	struct ksigaction sigactions[64];
	struct rlimit rlimits[RLIM_NLIMITS];
	uint32_t uid, gid;
	mode_t umask;
	char comm[16];
	int dumpable;            /* PR_SET_DUMPABLE */
	int exit_status;         /* wait status once exited */
	bool exited;
	pthread_mutex_t lock;
	pthread_cond_t exited_cond;
};

struct thread {
	int tid;
	struct process *proc;
	struct guest_regs regs;  /* guest registers while trapped */
	uint64_t fs_base;
	bool fs_base_dirty;      /* the platform must load fs_base on resume */
	uint64_t sigmask;
	struct altstack altstack;
	int nice;
	int pdeath_signal;       /* PR_SET_PDEATHSIG (stored) */
	bool no_new_privs;
	uint64_t pending;        /* signals sent to this thread, not yet acted on */
	gaddr_t clear_child_tid;
	gaddr_t robust_list;
	bool exiting;            /* leave the run loop after this trap */
	_Atomic uint32_t wake_word; /* kernel/waitq.h: bumped to end a sleep */
	struct platform_thread *plat;
};

extern __thread struct thread *current;

/* Start the first guest process from a program on the host (cocoon run):
 * returns its wait status when it is gone, or -errno if it could not be
 * started (the errno execve would give). */
int run_init_process(const char *path, char *const argv[], char *const envp[]);

/* Set the whole thread group to exit with the given wait status
 * (exit code << 8, or the terminating signal). */
void process_exit(struct process *p, int wait_status);
/* Act on pending signals the thread no longer blocks (kernel/signal.c). */
void signal_act_on_pending(void);
/* Whether the current thread has something to act on that must end an
 * interruptible sleep: a signal it does not block, or its exit. */
bool signal_pending(void);
/* Send sig to the current thread (SIGPIPE, SIGXFSZ: thread-directed). */
void signal_raise(int sig);
/* Whether the default action of sig is to ignore it (CHLD, URG, WINCH, CONT). */
bool signal_default_ignored(int sig);
/* The default action of a signal kills the process: do it. */
void process_kill(struct process *p, int signo);

#endif
