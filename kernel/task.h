/* Tasks: guest threads and the processes (thread groups) they belong to.
 * One kernel host-thread serves each guest thread; `current` is the guest
 * thread the calling kernel thread serves. */
#ifndef COCOON_TASK_H
#define COCOON_TASK_H

#include <pthread.h>
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
	gaddr_t clear_child_tid;
	gaddr_t robust_list;
	bool exiting;            /* leave the run loop after this trap */
	struct platform_thread *plat;
};

extern __thread struct thread *current;

/* Set the whole thread group to exit with the given wait status. */
void process_exit(struct process *p, int wait_status);

#endif
