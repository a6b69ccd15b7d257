/* Process file descriptors (pidfd_open, CLONE_PIDFD, waitid P_PIDFD). */
#ifndef COCOON_PIDFD_H
#define COCOON_PIDFD_H

#include <stdbool.h>

struct process;
struct thread;

/* Install a pidfd for p (close-on-exec) in the current process: the fd
 * or -errno. tasklist_lock not held. */
int pidfd_install(struct process *p);
/* The same, a PIDFD_THREAD pidfd for t, a new thread that is not its
 * process's leader and has not started yet (clone's CLONE_PIDFD). */
int pidfd_install_thread(struct thread *t);
/* The id a pidfd names (a pid, or a thread's tid): 0 if it is gone, or
 * -EBADF (no such fd, or not a pidfd); *nonblock gets its O_NONBLOCK. */
int pidfd_pid(int fd, bool *nonblock);
/* Some process became a zombie or vanished, or a thread left or gave
 * up its tid (kernel/task.c, tasklist_lock held): wake the pollers of
 * pidfds. */
void pidfd_notify_exit(void);

#endif
