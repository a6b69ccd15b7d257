/* Process file descriptors (pidfd_open, CLONE_PIDFD, waitid P_PIDFD). */
#ifndef COCOON_PIDFD_H
#define COCOON_PIDFD_H

struct process;

/* Install a pidfd for p (close-on-exec) in the current process: the fd
 * or -errno. tasklist_lock not held. */
int pidfd_install(struct process *p);
/* The process a pidfd names: its pid, 0 if it is gone, or -EBADF (no
 * such fd, or not a pidfd). */
int pidfd_pid(int fd);
/* Some process became a zombie or vanished (kernel/task.c, tasklist_lock
 * held): wake the pollers of pidfds. */
void pidfd_notify_exit(void);

#endif
