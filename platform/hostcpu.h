/* The host's CPU-time figures of a guest thread's host thread
 * (platform/cputime.c), for the trap platform: which host thread it is
 * (found from /proc/<pid>/task, in the order the control thread cloned
 * them), its counters read from /proc, and the part used by earlier
 * guest threads of a reused (parked) host thread taken off.
 *
 * Lock order: hostcpu_lock (platform/cputime.c), then plat.lock. */
#ifndef COCOON_PLATFORM_HOSTCPU_H
#define COCOON_PLATFORM_HOSTCPU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "platform/platform.h" /* struct thread_usage */

struct hostcpu;

/* A new host thread's (NULL if out of memory: its figures read 0); it
 * is the seq-th its process's control thread clones (from 1). */
struct hostcpu *hostcpu_new(void);
void hostcpu_set_clone_seq(struct hostcpu *c, uint32_t seq);
void hostcpu_free(struct hostcpu *c);
/* The host thread goes to a new guest thread: what it used so far is not
 * the new one's. The counters are read at the next hostcpu_rebase_due
 * (the thread is idle until it resumes). */
void hostcpu_handout(struct hostcpu *c);
bool hostcpu_rebase_due(const struct hostcpu *c);

/* Every host thread of one host process, for finding thread ids. */
struct hostcpu_family {
	pid_t pid;               /* the host process (its control thread) */
	struct hostcpu **v;      /* its guest threads' hostcpus */
	size_t n;
};

/* With hostcpu_lock held (hostcpu_lock/unlock): read c's counters;
 * family (NULL: c's thread id is known) lets it find the thread id. The
 * caller keeps the process from being reaped while files are opened
 * (plat.lock held, checked alive), see trap_platform.c. */
void hostcpu_lock(void);
void hostcpu_unlock(void);
/* Whether c's /proc files are still to be opened (hostcpu_open). */
bool hostcpu_needs_open(const struct hostcpu *c);
bool hostcpu_needs_family(const struct hostcpu *c);
/* Open c's /proc files (finding its thread id among the family's if it
 * is not known): 0 or -errno. Called with the process known alive and
 * unreapable. */
int hostcpu_open(struct hostcpu *c, const struct hostcpu_family *f);
/* User and system ns and page faults since the last handout: 0, or
 * -errno with the last figures read (the thread is gone). */
int hostcpu_read(struct hostcpu *c, struct thread_usage *u);
/* Involuntary context switches since the last handout (the status
 * file, read only when asked: 0, or -errno with the last figure read). */
int hostcpu_read_nivcsw(struct hostcpu *c, int64_t *n);
/* Read the counters now as the zero of the next figures. */
void hostcpu_rebase(struct hostcpu *c);

#endif
