/* epoll: interest lists over the poll machinery (fs/poll.h).
 *
 * An epoll_wait scans its items, calling each file's poll op; if nothing
 * is ready it queues itself on every item's file (one poll-table entry
 * each) and sleeps once. The scan starts where the last one stopped, so
 * level-triggered items that stay ready take turns when maxevents cuts a
 * round short, as Linux's ready list rotates.
 *
 * Edge-triggered items keep entries of their own on their file's queues
 * for as long as they exist: a wake bumps the item's word (seq), and an
 * item is reported only if it was woken since it was last reported (or
 * inserted, or modified), like Linux's ready-list callback.
 * TODO(waitq): with a callback in wait_entry, items could put themselves
 * on a ready list and waiters sleep on the epoll alone (O(ready)).
 *
 * Closing: Linux's epoll holds no reference on its files; fput calls
 * eventpoll_release on the last close. Files whose release op calls
 * eventpoll_release (pipes, eventfds, epolls, sockets) are held the same way.
 * Others (host files) are held by a reference until fput calls
 * eventpoll_release for every file (see the report of this branch); until
 * then an item whose file only epoll still holds is dropped at the next
 * epoll_ctl or epoll_wait on its set.
 *
 * Locking: ep_mutex (global) guards every interest list and the file
 * registry; ep->lock guards an epoll's scanning state and is taken after
 * ep_mutex, inner epolls after outer ones. Files are put only with
 * neither held. */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include "fs/file.h"
#include "fs/pipe.h"
#include "fs/poll.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define EP_MAX_NESTS 4
#define EP_MAX_EVENTS (INT32_MAX / sizeof(struct epoll_event))
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLLEXCLUSIVE_OK_BITS (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | \
				EPOLLET | EPOLLEXCLUSIVE)

struct eventpoll;

struct epitem {
	struct eventpoll *ep;
	struct file *file;
	int fd;
	uint32_t events;       /* asked for, with EPOLLERR|EPOLLHUP and flags */
	uint64_t data;
	bool held;             /* we hold a reference to file */
	bool pending;          /* edge-triggered: woken since last reported */
	bool et_queued;        /* et_pt is on the file's queues */
	uint32_t seen;         /* seq when last looked at */
	_Atomic uint32_t seq;  /* bumped by the file's wakes (edge-triggered) */
	struct epitem *fnext;  /* next item on the same file (registry) */
	struct poll_table et_pt;
};

struct eventpoll {
	pthread_mutex_t lock;
	struct waitq wq;       /* waiters and outer pollers: woken on changes */
	atomic_int refs;       /* the file and poll-table pins */
	struct file *file;
	struct epitem **v;
	unsigned n, cap, scan;
	unsigned nheld;
};

static pthread_mutex_t ep_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_int nwatched;            /* items anywhere: eventpoll_release's fast path */
static _Atomic uint32_t ep_gen;        /* any interest list changed: waiters requeue */

#define REG_BUCKETS 256
static struct epitem *registry[REG_BUCKETS];

static unsigned reg_hash(const struct file *f)
{
	return ((uintptr_t)f >> 4) * 2654435761u % REG_BUCKETS;
}

static const struct file_ops ep_ops;

bool file_is_epoll(const struct file *f)
{
	return f->ops == &ep_ops;
}

/* Files whose release op calls eventpoll_release (and whose poll pins
 * an object of their own, not the file): held without a reference, like
 * Linux, so that closing the last fd closes them even while an epoll
 * watches. All files, once fput calls it. */
static bool releases_itself(const struct file *f)
{
	return file_is_pipe(f) || file_is_eventfd(f) || file_is_epoll(f) || file_is_socket(f);
}

static struct eventpoll *ep_ref(struct eventpoll *ep)
{
	atomic_fetch_add(&ep->refs, 1);
	return ep;
}

static void ep_put(void *obj)
{
	struct eventpoll *ep = obj;
	if (atomic_fetch_sub(&ep->refs, 1) != 1)
		return;
	free(ep->v);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}

static void wake(struct waitq *q)
{
	if (waitq_active(q))
		waitq_wake_all(q);
}

/* ---- interest list (ep_mutex held) --------------------------------------- */

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
	for (struct epitem *it = registry[reg_hash(f)]; it; it = it->fnext)
		if (it->ep == ep && it->file == f && it->fd == fd)
			return it;
	return NULL;
}

static void reg_unlink(struct epitem *it)
{
	struct epitem **pp = &registry[reg_hash(it->file)];
	while (*pp != it)
		pp = &(*pp)->fnext;
	*pp = it->fnext;
	atomic_fetch_sub(&nwatched, 1);
}

/* Take it off its epoll; the caller frees it with item_free once no
 * lock is held. */
static void ep_unlink(struct epitem *it)
{
	struct eventpoll *ep = it->ep;
	reg_unlink(it);
	pthread_mutex_lock(&ep->lock);
	for (unsigned i = 0; i < ep->n; i++) {
		if (ep->v[i] == it) {
			ep->v[i] = ep->v[--ep->n];
			break;
		}
	}
	if (it->held)
		ep->nheld--;
	pthread_mutex_unlock(&ep->lock);
	atomic_fetch_add(&ep_gen, 1);
}

static void item_free(struct epitem *it)
{
	poll_table_free(&it->et_pt);
	if (it->held)
		fput(it->file);
	free(it);
}

/* (Re)queue an edge-triggered item's own entries. ep_mutex held. */
static void et_arm(struct epitem *it)
{
	bool et = it->events & EPOLLET;
	if (et && !it->et_queued) {
		poll_table_init(&it->et_pt, it->events, &it->seq);
		it->et_pt.always_arm = true;
		file_poll(it->file, &it->et_pt);
		it->et_pt.queue = false;
		it->et_queued = true;
	}
}

static int ep_insert(struct eventpoll *ep, struct epoll_event *ev, struct file *f, int fd)
{
	struct epitem *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	pthread_mutex_lock(&ep->lock);
	if (ep->n == ep->cap) {
		unsigned cap = ep->cap ? 2 * ep->cap : 8;
		struct epitem **v = realloc(ep->v, cap * sizeof(*v));
		if (!v) {
			pthread_mutex_unlock(&ep->lock);
			free(it);
			return -ENOMEM;
		}
		ep->v = v;
		ep->cap = cap;
	}
	pthread_mutex_unlock(&ep->lock);
	it->ep = ep;
	it->file = f;
	it->fd = fd;
	it->events = ev->events;
	it->data = ev->data.u64;
	it->pending = true;
	poll_table_init(&it->et_pt, 0, &it->seq);
	if (!releases_itself(f)) {
		it->held = true;
		file_get(f);
	}
	et_arm(it);
	unsigned h = reg_hash(f);
	it->fnext = registry[h];
	registry[h] = it;
	atomic_fetch_add(&nwatched, 1);
	pthread_mutex_lock(&ep->lock);
	ep->v[ep->n++] = it;
	if (it->held)
		ep->nheld++;
	pthread_mutex_unlock(&ep->lock);
	atomic_fetch_add(&ep_gen, 1);
	wake(&ep->wq);
	return 0;
}

static void ep_modify(struct epitem *it, struct epoll_event *ev)
{
	struct eventpoll *ep = it->ep;
	bool was_et = it->et_queued;
	pthread_mutex_lock(&ep->lock);
	it->events = ev->events;
	it->data = ev->data.u64;
	it->pending = true; /* looked at again, as Linux re-polls on MOD */
	it->seen = atomic_load(&it->seq);
	pthread_mutex_unlock(&ep->lock);
	/* Requeued even when it stays edge-triggered: the entries carry the
	 * events they wake for. */
	if (was_et) {
		poll_table_free(&it->et_pt);
		it->et_queued = false;
	}
	et_arm(it);
	atomic_fetch_add(&ep_gen, 1);
	wake(&ep->wq);
}

/* References of f that epoll items hold (ep_mutex held). */
static int held_refs(const struct file *f)
{
	int n = 0;
	for (struct epitem *it = registry[reg_hash(f)]; it; it = it->fnext)
		if (it->file == f)
			n += it->held + poll_table_pins(&it->et_pt, f);
	return n;
}

/* Drop the items of ep whose file only epoll items still hold: closed
 * everywhere else (see the top of this file). */
static void ep_reap(struct eventpoll *ep)
{
	struct epitem *dead = NULL;
	pthread_mutex_lock(&ep_mutex);
	for (unsigned i = 0; i < ep->n; i++) {
		struct file *f = ep->v[i]->file;
		if (!ep->v[i]->held || atomic_load(&f->refs) > held_refs(f))
			continue;
		/* every item of that file, in every epoll */
		for (struct epitem *it = registry[reg_hash(f)], *next; it; it = next) {
			next = it->fnext;
			if (it->file != f)
				continue;
			ep_unlink(it);
			it->fnext = dead;
			dead = it;
		}
		i = (unsigned)-1; /* the list changed: start over */
	}
	pthread_mutex_unlock(&ep_mutex);
	while (dead) {
		struct epitem *next = dead->fnext;
		item_free(dead);
		dead = next;
	}
}

void eventpoll_release(struct file *f)
{
	struct epitem *dead = NULL;
	if (!atomic_load(&nwatched))
		return;
	pthread_mutex_lock(&ep_mutex);
	for (struct epitem *it = registry[reg_hash(f)], *next; it; it = next) {
		next = it->fnext;
		if (it->file != f)
			continue;
		ep_unlink(it);
		it->fnext = dead;
		dead = it;
	}
	pthread_mutex_unlock(&ep_mutex);
	while (dead) {
		struct epitem *next = dead->fnext;
		item_free(dead);
		dead = next;
	}
}

/* ---- nesting (Linux's ep_loop_check) ------------------------------------ */

/* Depth of the epolls reachable from ep; past EP_MAX_NESTS if target
 * is among them (a loop) or they go too deep. ep_mutex held. */
static int depth_down(struct eventpoll *ep, struct eventpoll *target, int depth)
{
	int result = 0;
	for (unsigned i = 0; i < ep->n && result <= EP_MAX_NESTS; i++) {
		struct file *f = ep->v[i]->file;
		if (!file_is_epoll(f))
			continue;
		struct eventpoll *sub = f->priv;
		if (sub == target || depth > EP_MAX_NESTS)
			result = EP_MAX_NESTS + 1;
		else
			result = MAX(result, depth_down(sub, target, depth + 1) + 1);
	}
	return result;
}

/* How many epolls deep ep is watched from above. */
static int depth_up(struct eventpoll *ep, int depth)
{
	int result = 0;
	if (depth > EP_MAX_NESTS)
		return depth;
	for (struct epitem *it = registry[reg_hash(ep->file)]; it; it = it->fnext)
		if (it->file == ep->file)
			result = MAX(result, depth_up(it->ep, depth + 1) + 1);
	return result;
}

static bool loop_check(struct eventpoll *ep, struct eventpoll *to)
{
	int down = depth_down(to, ep, 0);
	if (down > EP_MAX_NESTS)
		return false;
	return down + 1 + depth_up(ep, 0) <= EP_MAX_NESTS;
}

/* ---- scanning -------------------------------------------------------- */

/* Whether an item may be reported now; consumes an edge if asked. */
static unsigned item_events(struct epitem *it, struct poll_table *pt, bool consume)
{
	if (!(it->events & ~EP_PRIVATE_BITS))
		return 0; /* a one-shot that fired */
	bool et = it->events & EPOLLET;
	if (et) {
		uint32_t s = atomic_load(&it->seq);
		if (s != it->seen) {
			it->seen = s;
			it->pending = true;
		}
	}
	if (et && !it->pending && !pt)
		return 0;
	if (pt)
		pt->key = it->events;
	unsigned rev = file_poll(it->file, pt) & it->events & ~EP_PRIVATE_BITS;
	if (et) {
		if (!it->pending)
			return 0;
		if (consume)
			it->pending = false;
	}
	return rev;
}

/* Ready events into out (at most max), ep->lock held. pt: also queue
 * the caller on every item's file. */
static int ep_collect(struct eventpoll *ep, struct epoll_event *out, int max, struct poll_table *pt)
{
	int n = 0;
	unsigned count = ep->n, last = 0;
	for (unsigned k = 0; k < count && (n < max || pt); k++) {
		unsigned i = (ep->scan + k) % count;
		struct epitem *it = ep->v[i];
		if (n >= max) { /* only queueing from here */
			pt->key = it->events;
			file_poll(it->file, pt);
			continue;
		}
		unsigned rev = item_events(it, pt, true);
		if (!rev)
			continue;
		out[n].events = rev;
		out[n].data.u64 = it->data;
		n++;
		last = i;
		if (it->events & EPOLLONESHOT)
			it->events &= EP_PRIVATE_BITS;
	}
	if (n)
		ep->scan = (last + 1) % count;
	return n;
}

/* The poll op of an epoll file: readable when an item would be reported. */
static unsigned ep_file_poll(struct file *f, struct poll_table *pt)
{
	struct eventpoll *ep = f->priv;
	bool ready = false;
	if (pt && pt->queue)
		poll_wait_obj(&ep->wq, pt, ep_put, ep_ref(ep));
	unsigned key = pt ? pt->key : 0;
	pthread_mutex_lock(&ep->lock);
	for (unsigned i = 0; i < ep->n; i++) {
		if (ready && !(pt && pt->queue))
			break;
		if (item_events(ep->v[i], pt, false))
			ready = true;
	}
	pthread_mutex_unlock(&ep->lock);
	if (pt)
		pt->key = key;
	return ready ? POLLIN | POLLRDNORM : 0;
}

static int ep_statx(struct file *f, int flags, unsigned mask, struct statx *x)
{
	return anon_inode_statx(x);
}

static off_t noop_llseek(struct file *f, off_t off, int whence)
{
	return 0; /* Linux's noop_llseek: the position stays 0 */
}

static void ep_release(struct file *f)
{
	struct eventpoll *ep = f->priv;
	struct epitem *dead = NULL;
	eventpoll_release(f);
	pthread_mutex_lock(&ep_mutex);
	while (ep->n) {
		struct epitem *it = ep->v[0];
		ep_unlink(it);
		it->fnext = dead;
		dead = it;
	}
	pthread_mutex_unlock(&ep_mutex);
	while (dead) {
		struct epitem *next = dead->fnext;
		item_free(dead);
		dead = next;
	}
	ep_put(ep);
}

static const struct file_ops ep_ops = {
	.llseek = noop_llseek,
	.poll = ep_file_poll,
	.statx = ep_statx,
	.release = ep_release,
	.anon_name = "[eventpoll]",
};

/* ---- system calls -------------------------------------------------------- */

static long do_epoll_create(int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct eventpoll *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	pthread_mutex_init(&ep->lock, NULL);
	waitq_init(&ep->wq);
	atomic_init(&ep->refs, 1);
	struct file *f = file_new(&ep_ops, O_RDWR, 0, ep);
	if (!f) {
		free(ep);
		return -ENOMEM;
	}
	ep->file = f;
	int fd = fd_install(f, 0, flags & EPOLL_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

long sys_epoll_create(const struct sysargs *a)
{
	if ((int)a->a[0] <= 0)
		return -EINVAL;
	return do_epoll_create(0);
}

long sys_epoll_create1(const struct sysargs *a) { return do_epoll_create((int)a->a[0]); }

long sys_epoll_ctl(const struct sysargs *a)
{
	int epfd = a->a[0], op = a->a[1], fd = a->a[2];
	struct epoll_event ev = { 0 };
	bool has_event = op != EPOLL_CTL_DEL;
	if (has_event && copy_from_guest(&ev, a->a[3], sizeof(ev)))
		return -EFAULT;
	struct file *f = fget(epfd);
	if (!f)
		return -EBADF;
	struct file *tf = fget(fd);
	long r;
	if (!tf) {
		fput(f);
		return -EBADF;
	}
	struct epitem *dead = NULL;
	if (!file_can_poll(tf)) {
		r = -EPERM;
		goto out;
	}
	/* EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; there is no suspend here. */
	ev.events &= ~EPOLLWAKEUP;
	r = -EINVAL;
	if (f == tf || !file_is_epoll(f))
		goto out;
	if (has_event && (ev.events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			goto out;
		if (op == EPOLL_CTL_ADD && (file_is_epoll(tf) || (ev.events & ~EPOLLEXCLUSIVE_OK_BITS)))
			goto out;
	}
	struct eventpoll *ep = f->priv;
	if (ep->nheld)
		ep_reap(ep);
	pthread_mutex_lock(&ep_mutex);
	if (op == EPOLL_CTL_ADD && file_is_epoll(tf) && !loop_check(ep, tf->priv)) {
		r = -ELOOP;
	} else {
		struct epitem *it = ep_find(ep, tf, fd);
		r = -EINVAL;
		switch (op) {
		case EPOLL_CTL_ADD:
			ev.events |= EPOLLERR | EPOLLHUP;
			r = it ? -EEXIST : ep_insert(ep, &ev, tf, fd);
			break;
		case EPOLL_CTL_DEL:
			r = -ENOENT;
			if (it) {
				ep_unlink(it);
				dead = it;
				r = 0;
			}
			break;
		case EPOLL_CTL_MOD:
			r = -ENOENT;
			if (it) {
				r = -EINVAL;
				if (!(it->events & EPOLLEXCLUSIVE)) {
					ev.events |= EPOLLERR | EPOLLHUP;
					ep_modify(it, &ev);
					r = 0;
				}
			}
			break;
		}
	}
	pthread_mutex_unlock(&ep_mutex);
out:
	if (dead)
		item_free(dead);
	fput(tf);
	fput(f);
	return r;
}

static long do_epoll_wait(int epfd, gaddr_t uevents, int maxevents, struct poll_timeout *t)
{
	struct file *f = fget(epfd);
	if (!f)
		return -EBADF;
	long r = 0;
	if (maxevents <= 0 || (uint64_t)maxevents > EP_MAX_EVENTS)
		r = -EINVAL;
	else if (uevents > TASK_SIZE_MAX - (uint64_t)maxevents * sizeof(struct epoll_event))
		r = -EFAULT;
	else if (!file_is_epoll(f))
		r = -EINVAL;
	if (r) {
		fput(f);
		return r;
	}
	struct eventpoll *ep = f->priv;
	if (ep->nheld)
		ep_reap(ep);
	struct epoll_event *buf = NULL;
	int bufcap = 0;
	struct poll_table pt;
	poll_table_init(&pt, 0, NULL);
	pt.always_arm = true;
	bool queued = false, timed_out = false;
	uint32_t gen = 0;
	for (int pass = 0;; pass++) {
		uint32_t snap = sleep_prepare();
		bool can_sleep = !t->zero && !timed_out;
		/* Look once without queueing; then queue on every file (again
		 * if any interest list changed meanwhile) and look again. */
		bool queue = can_sleep && pass > 0 && (!queued || atomic_load(&ep_gen) != gen);
		if (queue && queued) {
			poll_table_free(&pt);
			poll_table_init(&pt, 0, NULL);
			pt.always_arm = true;
			queued = false;
		}
		pthread_mutex_lock(&ep->lock);
		int cap = MIN((unsigned)maxevents, MAX(ep->n, 1u));
		if (cap > bufcap) {
			struct epoll_event *nb = realloc(buf, cap * sizeof(*buf));
			if (!nb) {
				pthread_mutex_unlock(&ep->lock);
				r = -ENOMEM;
				break;
			}
			buf = nb;
			bufcap = cap;
		}
		if (queue) {
			gen = atomic_load(&ep_gen);
			pt.queue = true;
			poll_wait_obj(&ep->wq, &pt, ep_put, ep_ref(ep));
		}
		/* After queueing, the table still goes along: host fds re-arm. */
		r = ep_collect(ep, buf, cap, queue || queued ? &pt : NULL);
		pthread_mutex_unlock(&ep->lock);
		pt.queue = false;
		queued |= queue;
		if (r || !can_sleep)
			break;
		if (!queued)
			continue;
		if (pt.error) {
			r = pt.error;
			break;
		}
		int s = poll_sleep(snap, t);
		if (s == -ETIMEDOUT)
			timed_out = true; /* one last look */
		else if (s) {
			r = -EINTR; /* epoll_wait is never restarted */
			break;
		}
	}
	poll_table_free(&pt);
	if (r > 0 && copy_to_guest(uevents, buf, r * sizeof(*buf)))
		r = -EFAULT;
	free(buf);
	fput(f);
	return r;
}

long sys_epoll_wait(const struct sysargs *a)
{
	struct poll_timeout t;
	poll_timeout_ms(&t, (int)a->a[3]);
	return do_epoll_wait(a->a[0], a->a[1], a->a[2], &t);
}

static long do_epoll_pwait(const struct sysargs *a, struct poll_timeout *t)
{
	uint64_t saved;
	bool masked;
	long r = poll_sigmask_set(a->a[4], a->a[5], &saved, &masked);
	if (r)
		return r;
	r = do_epoll_wait(a->a[0], a->a[1], a->a[2], t);
	poll_sigmask_restore(saved, masked, r);
	return r;
}

long sys_epoll_pwait(const struct sysargs *a)
{
	struct poll_timeout t;
	poll_timeout_ms(&t, (int)a->a[3]);
	return do_epoll_pwait(a, &t);
}

long sys_epoll_pwait2(const struct sysargs *a)
{
	struct poll_timeout t = { .forever = true };
	struct { int64_t sec, nsec; } ts;
	if (a->a[3]) {
		if (copy_from_guest(&ts, a->a[3], sizeof(ts)))
			return -EFAULT;
		if (poll_timeout_set(&t, ts.sec, ts.nsec))
			return -EINVAL;
	}
	return do_epoll_pwait(a, &t);
}
