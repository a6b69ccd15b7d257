/* How busy the host is, as far as other programs go: our own counts
 * (which CPUs run guests) cannot see other sandboxes or programs, whose
 * CPU a spinner of ours would take. */
#ifndef COCOON_PLATFORM_HOSTLOAD_H
#define COCOON_PLATFORM_HOSTLOAD_H

/* The host's runnable tasks right now, the caller included (the fourth
 * field of /proc/loadavg); -1 if it cannot be read. Some 5 µs: for
 * decisions taken now and then, not per trap. */
int host_running_tasks(void);

#endif
