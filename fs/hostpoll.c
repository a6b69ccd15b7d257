/* Readiness of host fds. A host fd cannot sit on a kernel wait queue, so
 * one cocoon-wide poller thread owns a host epoll instance: a waiter that
 * queues on a host-backed file gets a watch (a wait queue tied to that
 * file) and the host fd is armed one-shot for the events it wants; when
 * the host reports them, the poller disarms the watch and wakes its
 * queue, and the waiters look again (re-arming if they still wait).
 *
 * A watch lives while poll-table entries are on its queue; each entry
 * holds a reference to the file, so the host fd stays open and the file
 * (the watch's key) cannot be freed and reused meanwhile.
 *
 * Locking: hp.lock is taken under file kinds' and epoll locks, and wakes
 * queues (waitq locks) while held. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "fs/file.h"
#include "fs/poll.h"

/* Events a host epoll can wait for; errors and hang-ups always come. */
#define HOST_EVENTS (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | \
		     EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)

struct hostwatch {
	struct hostwatch *next;
	struct file *file;      /* key; each user holds a reference */
	uint64_t id;            /* the host epoll's data: looked up, never a pointer */
	int users;              /* poll-table entries on q */
	bool registered;        /* added to the host epoll */
	uint32_t armed;         /* events armed now (0: disarmed) */
	struct waitq q;
};

static struct {
	pthread_mutex_t lock;
	pthread_once_t once;
	int epfd;
	uint64_t next_id;
	struct hostwatch *list;
} hp = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_ONCE_INIT, -1, 1, NULL };

static void *poller(void *unused)
{
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(hp.epfd, evs, 64, -1);
		if (n < 0)
			continue; /* EINTR */
		pthread_mutex_lock(&hp.lock);
		for (int i = 0; i < n; i++) {
			for (struct hostwatch *w = hp.list; w; w = w->next) {
				if (w->id != evs[i].data.u64)
					continue;
				w->armed = 0; /* one-shot: disarmed by the host too */
				waitq_wake_all(&w->q);
				break;
			}
		}
		pthread_mutex_unlock(&hp.lock);
	}
	return NULL;
}

static void start(void);

void hostpoll_init(void)
{
	pthread_once(&hp.once, start);
}

static void start(void)
{
	hp.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hp.epfd < 0) {
		klog("hostpoll: no host epoll (%m): waits on host fds only end by timeouts");
		return;
	}
	pthread_t t;
	pthread_attr_t attr;
	sigset_t all, old;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	/* The poller takes no host signals: they are the kernel threads'. */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, &attr, poller, NULL))
		klog("hostpoll: cannot start the poller thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/* A watch on f with one more user (hp.lock held); NULL if out of memory. */
static struct hostwatch *watch_get(struct file *f)
{
	struct hostwatch *w;
	for (w = hp.list; w; w = w->next)
		if (w->file == f)
			break;
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return NULL;
		w->file = f;
		w->id = hp.next_id++;
		waitq_init(&w->q);
		w->next = hp.list;
		hp.list = w;
	}
	w->users++;
	file_get(f);
	return w;
}

static void watch_put(void *obj)
{
	struct hostwatch *w = obj;
	struct file *f = w->file;
	pthread_mutex_lock(&hp.lock);
	if (--w->users == 0) {
		struct hostwatch **pp = &hp.list;
		while (*pp != w)
			pp = &(*pp)->next;
		*pp = w->next;
		if (w->registered)
			epoll_ctl(hp.epfd, EPOLL_CTL_DEL, f->hostfd, NULL);
		free(w);
	}
	pthread_mutex_unlock(&hp.lock);
	fput(f); /* after the host fd left the epoll */
}

/* Arm the host fd for the events in key (hp.lock held). */
static void watch_arm(struct hostwatch *w, unsigned key)
{
	uint32_t want = (key & HOST_EVENTS) | EPOLLERR | EPOLLHUP;
	if (hp.epfd < 0 || (w->armed && !(want & ~w->armed)))
		return;
	struct epoll_event ev = { .events = w->armed | want | EPOLLONESHOT, .data.u64 = w->id };
	int op = w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(hp.epfd, op, w->file->hostfd, &ev) == 0) {
		w->registered = true;
		w->armed = ev.events & ~EPOLLONESHOT;
	}
}

unsigned host_fd_poll(struct file *f, struct poll_table *pt)
{
	/* Regular files, directories and memory devices are always ready
	 * (they have no poll in Linux). */
	if (!f->may_block)
		return DEFAULT_POLLMASK;
	struct pollfd p = { f->hostfd, POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM |
			    POLLRDBAND | POLLWRNORM | POLLWRBAND, 0 };
	unsigned mask = poll(&p, 1, 0) == 1 ? (unsigned short)p.revents : 0;
	/* A waiter that will not sleep (it found this fd ready) needs no arming. */
	if (!pt || ((mask & pt->key) && !pt->always_arm))
		return mask;
	pthread_once(&hp.once, start);
	struct hostwatch *w = NULL;
	if (pt->queue) {
		pthread_mutex_lock(&hp.lock);
		w = watch_get(f);
		pthread_mutex_unlock(&hp.lock);
		if (!w) {
			pt->error = -ENOMEM;
			return mask;
		}
		int err = pt->error;
		poll_wait_pin(&w->q, pt, watch_put, w, f);
		if (pt->error != err)
			return mask; /* no entry: the watch may be gone */
	}
	pthread_mutex_lock(&hp.lock);
	if (!w)
		for (w = hp.list; w && w->file != f; w = w->next)
			;
	/* Armed after queueing and after the look above: the host reports
	 * readiness already there when a one-shot is (re)armed. */
	if (w)
		watch_arm(w, pt->key);
	pthread_mutex_unlock(&hp.lock);
	return mask;
}
