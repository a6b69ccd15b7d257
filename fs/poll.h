/* Readiness: how a file reports it and how a waiter sleeps on it.
 *
 * A file's poll op (fs/file.h) returns its readiness now (POLLIN, POLLOUT,
 * POLLHUP... Linux's values, shared by poll and epoll) and, given a poll
 * table, queues the table's owner on the file's wait queues through
 * poll_wait(). The waiter (poll, select, epoll_wait) then re-checks and
 * sleeps once on its wake word (kernel/waitq.h); anything that changes a
 * file's readiness wakes the file's queues.
 *
 * A table entry keeps alive what its queue lives in: poll_wait pins the
 * file, poll_wait_obj an object the file kind refcounts itself (a pipe, an
 * eventfd). poll and select also hold the file they polled (pt->file) in
 * every entry made for it until the call returns, as Linux's __pollwait
 * does (get_file): a pipe end or socket closed by another thread while
 * they wait stays open until then. epoll's tables (its items', and
 * epoll_wait's) have none: Linux's epoll holds no file while it waits.
 *
 * Lock order: epoll's global mutex -> ep->lock (outer before inner nesting)
 * -> file kinds' own locks (pipe, eventfd, hostpoll) -> waitq.lock. The
 * guest memory lock is never held while an ep lock is taken.
 */
#ifndef COCOON_FS_POLL_H
#define COCOON_FS_POLL_H

#include <poll.h>
#include <stdatomic.h>
#include <time.h>
#include "kernel/waitq.h"

struct file;

/* What a file without a poll op reports (Linux's DEFAULT_POLLMASK). */
#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

struct poll_entry {
	struct wait_entry wait;
	void (*unpin)(void *obj);
	void *obj;
	const struct file *holds; /* the file obj's pin holds a reference to, if any */
	struct file *file;        /* poll, select: the polled file, held for the call */
};

#define POLL_INLINE_ENTRIES 8
struct poll_chunk;

struct poll_table {
	unsigned key;          /* the events wanted (POLLERR|POLLHUP always) */
	bool queue;            /* add entries; false: only re-check/re-arm */
	bool always_arm;       /* epoll: may sleep although the file is ready */
	_Atomic uint32_t *word; /* word the entries bump; NULL: the poller's own */
	int error;             /* -ENOMEM if an entry could not be made */
	struct file *file;     /* poll, select: the file being polled, which each
				* entry made for it holds (NULL: none, epoll) */
	int n;                 /* entries used in the current chunk */
	struct poll_chunk *more;
	struct poll_entry inline_entries[POLL_INLINE_ENTRIES];
};

/* word NULL: the calling thread's wake word (poll, select, epoll_wait). */
void poll_table_init(struct poll_table *pt, unsigned key, _Atomic uint32_t *word);
/* Take every entry off its queue and drop the pins. */
void poll_table_free(struct poll_table *pt);

/* For poll ops: queue pt's owner on q, pinning f until the entry goes. */
void poll_wait(struct file *f, struct waitq *q, struct poll_table *pt);
/* Same, pinning obj instead: the caller took a reference that unpin(obj)
 * drops (also at once if no entry is made). */
void poll_wait_obj(struct waitq *q, struct poll_table *pt, void (*unpin)(void *), void *obj);
/* The same, where holding obj holds a reference to file f (hostpoll). */
void poll_wait_pin(struct waitq *q, struct poll_table *pt, void (*unpin)(void *), void *obj,
		   const struct file *holds);

/* The readiness of f for the events in pt's key (or all, pt NULL). */
unsigned file_poll(struct file *f, struct poll_table *pt);
/* Whether epoll accepts f (Linux's file_can_poll). */
bool file_can_poll(struct file *f);

/* ---- shared by the waiting calls (fs/poll.c) ---- */

/* A timeout: none (wait forever), zero (poll once) or a host
 * CLOCK_MONOTONIC deadline. */
struct poll_timeout {
	bool forever, zero;
	struct timespec end;
};
/* From seconds and nanoseconds: 0, or -EINVAL if not a valid timespec. */
int poll_timeout_set(struct poll_timeout *t, int64_t sec, int64_t nsec);
void poll_timeout_ms(struct poll_timeout *t, int ms); /* negative: forever */
/* Time left (zero once passed). */
struct timespec poll_timeout_left(const struct poll_timeout *t);

/* The sigmask argument of ppoll, pselect6, epoll_pwait(2): set it for the
 * duration of the call. umask 0: nothing. 0, -EINVAL or -EFAULT. */
int poll_sigmask_set(gaddr_t umask, uint64_t size, uint64_t *saved, bool *set);
/* Put the old mask back; a signal the temporary mask let through and that
 * ended the wait is acted on first, as Linux delivers it before restoring. */
void poll_sigmask_restore(uint64_t saved, bool set, long ret);

/* Wait until any file the table queued on is woken, the deadline passes
 * or a signal comes: 0 (re-check), -ETIMEDOUT or -EINTR. */
int poll_sleep(uint32_t snap, const struct poll_timeout *t);

/* Anonymous-inode files (eventfd, epoll) share one inode, like Linux's
 * anon_inodefs: their fstat (fs/eventfd.c). */
struct statx;
int anon_inode_statx(struct statx *x);
bool file_is_eventfd(const struct file *f);
/* Whether f is a socket (net/socket.c), whose release calls eventpoll_release. */
bool file_is_socket(const struct file *f);
bool file_is_epoll(const struct file *f);
/* How many references to f the entries of pt hold (epoll's count of the
 * references it holds itself). */
int poll_table_pins(const struct poll_table *pt, const struct file *f);

/* ---- host fds (fs/hostpoll.c) ---- */

/* The poll op of host-backed files: a zero-timeout host poll, and with
 * pt, the host fd is armed in the cocoon-wide host poller, which wakes a
 * queue tied to the file when the host fd becomes ready. */
unsigned host_fd_poll(struct file *f, struct poll_table *pt);
/* Start the host poller now (at start-up: its epoll fd is then there from
 * the beginning, not created by the first guest that polls). */
void hostpoll_init(void);

/* ---- epoll (fs/epoll.c) ---- */

/* Take f out of every epoll set: called when f's last reference goes
 * (the release op of pipes, eventfds and epolls; fput should call it for
 * every file, see fs/epoll.c). Cheap when no epoll set watches anything. */
void eventpoll_release(struct file *f);

#endif
