/* Resource limits of guest processes (struct process's rlimits). */
#ifndef COCOON_LIMITS_H
#define COCOON_LIMITS_H

#include <sys/resource.h>

struct process;

/* Fill r[0..RLIM_NLIMITS) with the limits a sandbox's first process starts
 * with: the host's limits of the cocoon process. Children copy their
 * parent's array. */
/* Record the host limits cocoon started with (before it changes its own). */
void rlimits_snapshot_host(void);
void rlimits_init_default(struct rlimit *r);

/* Soft limit of resource res (RLIMIT_*) of process p, read under p->lock;
 * for kernel code that enforces limits (RLIMIT_NOFILE, RLIMIT_STACK...). */
rlim_t rlimit_cur(struct process *p, unsigned res);

#endif
