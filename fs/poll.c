/* Poll tables (fs/poll.h), the helpers every waiting call shares, and
 * poll/ppoll. */
#include <stdlib.h>
#include <string.h>
#include "fs/file.h"
#include "fs/poll.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "mm/uaccess.h"

#define POLL_CHUNK_ENTRIES 63

struct poll_chunk {
	struct poll_chunk *next;
	int n;
	struct poll_entry e[POLL_CHUNK_ENTRIES];
};

void poll_table_init(struct poll_table *pt, unsigned key, _Atomic uint32_t *word)
{
	pt->key = key;
	pt->queue = true;
	pt->always_arm = false;
	pt->word = word;
	pt->error = 0;
	pt->file = NULL;
	pt->n = 0;
	pt->more = NULL;
}

static void entry_drop(struct poll_entry *e)
{
	waitq_remove(&e->wait);
	e->unpin(e->obj);
	if (e->file)
		fput(e->file);
}

void poll_table_free(struct poll_table *pt)
{
	for (int i = 0; i < pt->n; i++)
		entry_drop(&pt->inline_entries[i]);
	pt->n = 0;
	while (pt->more) {
		struct poll_chunk *c = pt->more;
		for (int i = 0; i < c->n; i++)
			entry_drop(&c->e[i]);
		pt->more = c->next;
		free(c);
	}
}

static struct poll_entry *entry_new(struct poll_table *pt)
{
	if (pt->n < POLL_INLINE_ENTRIES)
		return &pt->inline_entries[pt->n++];
	struct poll_chunk *c = pt->more;
	if (!c || c->n == POLL_CHUNK_ENTRIES) {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->n = 0;
		c->next = pt->more;
		pt->more = c;
	}
	return &c->e[c->n++];
}

void poll_wait_pin(struct waitq *q, struct poll_table *pt, void (*unpin)(void *), void *obj,
		   const struct file *holds)
{
	struct poll_entry *e = pt && pt->queue ? entry_new(pt) : NULL;
	if (!e) {
		if (pt && pt->queue)
			pt->error = -ENOMEM;
		unpin(obj);
		return;
	}
	e->unpin = unpin;
	e->obj = obj;
	e->holds = holds;
	/* poll, select: the entry holds the polled file (unless its pin
	 * already does), as Linux's __pollwait takes get_file(filp). */
	e->file = pt->file && pt->file != holds ? file_get(pt->file) : NULL;
	waitq_add(q, &e->wait);
	/* An entry that bumps another word than the caller's (an epoll
	 * item's). A wake in between bumps the caller's word: harmless.
	 * TODO(waitq): a waitq_add taking the word would avoid the relock. */
	if (pt->word) {
		pthread_mutex_lock(&q->lock);
		e->wait.word = pt->word;
		e->wait.key = pt->key | POLLERR | POLLHUP;
		pthread_mutex_unlock(&q->lock);
	}
}

void poll_wait_obj(struct waitq *q, struct poll_table *pt, void (*unpin)(void *), void *obj)
{
	poll_wait_pin(q, pt, unpin, obj, NULL);
}

static void unpin_file(void *f)
{
	fput(f);
}

static int chunk_pins(const struct poll_entry *e, int n, const struct file *f)
{
	int pins = 0;
	for (int i = 0; i < n; i++)
		pins += e[i].holds == f;
	return pins;
}

int poll_table_pins(const struct poll_table *pt, const struct file *f)
{
	int pins = chunk_pins(pt->inline_entries, pt->n, f);
	for (struct poll_chunk *c = pt->more; c; c = c->next)
		pins += chunk_pins(c->e, c->n, f);
	return pins;
}

void poll_wait(struct file *f, struct waitq *q, struct poll_table *pt)
{
	if (pt && pt->queue)
		poll_wait_pin(q, pt, unpin_file, file_get(f), f);
}

unsigned file_poll(struct file *f, struct poll_table *pt)
{
	return f->ops->poll ? f->ops->poll(f, pt) : DEFAULT_POLLMASK;
}

/* Files that may wait are the ones whose readiness changes; host regular
 * files, directories and memory devices have no poll in Linux (EPERM). */
bool file_can_poll(struct file *f)
{
	return f->ops->poll && (f->hostfd < 0 || f->may_block);
}

/* ---- timeouts and signal masks --------------------------------------- */

#define MAX_SLEEP_SEC (1LL << 32) /* longer is forever, and keeps ns math in range */

int poll_timeout_set(struct poll_timeout *t, int64_t sec, int64_t nsec)
{
	if (sec < 0 || nsec < 0 || nsec >= 1000000000LL)
		return -EINVAL;
	t->forever = false;
	t->zero = !sec && !nsec;
	if (!t->zero)
		t->end = deadline_after(&(struct timespec){ MIN(sec, MAX_SLEEP_SEC), nsec });
	return 0;
}

void poll_timeout_ms(struct poll_timeout *t, int ms)
{
	if (ms < 0) {
		t->forever = true;
		t->zero = false;
	} else {
		poll_timeout_set(t, ms / 1000, (int64_t)(ms % 1000) * 1000000);
	}
}

struct timespec poll_timeout_left(const struct poll_timeout *t)
{
	struct timespec now, left = { 0, 0 };
	if (t->forever || t->zero)
		return left;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ns = (t->end.tv_sec - now.tv_sec) * 1000000000LL + (t->end.tv_nsec - now.tv_nsec);
	if (ns > 0) {
		left.tv_sec = ns / 1000000000LL;
		left.tv_nsec = ns % 1000000000LL;
	}
	return left;
}

int poll_sleep(uint32_t snap, const struct poll_timeout *t)
{
	if (t->zero)
		return -ETIMEDOUT;
	return sleep_until(snap, t->forever ? NULL : &t->end);
}

#define UNBLOCKABLE_SIGS ((1ULL << (9 - 1)) | (1ULL << (19 - 1))) /* SIGKILL, SIGSTOP */

int poll_sigmask_set(gaddr_t umask, uint64_t size, uint64_t *saved, bool *set)
{
	uint64_t mask;
	*set = false;
	if (!umask)
		return 0;
	if (size != sizeof(mask))
		return -EINVAL;
	if (copy_from_guest(&mask, umask, sizeof(mask)))
		return -EFAULT;
	*saved = current->sigmask;
	sigmask_set(mask);
	*set = true;
	return 0;
}

void poll_sigmask_restore(uint64_t saved, bool set, long ret)
{
	if (!set)
		return;
	/* Interrupted: the handler runs with the temporary mask and the old
	 * one comes back on its sigreturn (Linux's restore_saved_sigmask). */
	if (ret == -EINTR || ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK)
		sigmask_restore_after_delivery(saved);
	else
		sigmask_set(saved);
}

/* ---- poll, ppoll -------------------------------------------------------- */

/* Linux's do_pollfd: POLLNVAL for a closed (or O_PATH) fd, nothing for a
 * negative one, and only the asked events plus POLLERR|POLLHUP. */
static unsigned poll_one(struct pollfd *p, struct poll_table *pt)
{
	unsigned mask = 0;
	if (p->fd >= 0) {
		struct file *f = fget(p->fd);
		mask = POLLNVAL;
		if (f) {
			unsigned filter = (uint16_t)p->events | POLLERR | POLLHUP;
			if (pt) {
				pt->key = filter;
				pt->file = f;
			}
			mask = file_poll(f, pt) & filter;
			if (pt)
				pt->file = NULL;
			fput(f);
		}
	}
	p->revents = mask;
	return mask;
}

static long do_poll(gaddr_t ufds, unsigned nfds, struct poll_timeout *t)
{
	if (nfds > nofile_limit())
		return -EINVAL;
	struct pollfd *fds = malloc((size_t)MAX(nfds, 1) * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	if (copy_from_guest(fds, ufds, (size_t)nfds * sizeof(*fds))) {
		free(fds);
		return -EFAULT;
	}
	struct poll_table pt;
	poll_table_init(&pt, 0, NULL);
	bool timed_out = false;
	long count;
	for (;;) {
		uint32_t snap = sleep_prepare();
		struct poll_table *ptp = t->zero || timed_out ? NULL : &pt;
		count = 0;
		for (unsigned i = 0; i < nfds; i++) {
			if (poll_one(&fds[i], ptp)) {
				count++;
				pt.queue = false; /* no sleep ahead: stop queueing */
			}
		}
		pt.queue = false;
		if (count || t->zero || timed_out)
			break;
		if (pt.error) {
			count = pt.error;
			break;
		}
		int r = poll_sleep(snap, t);
		if (r == -ETIMEDOUT)
			timed_out = true; /* one last look, like Linux */
		else if (r) {
			count = -ERESTARTNOHAND; /* poll(2) makes it a restart block */
			break;
		}
	}
	poll_table_free(&pt);
	if (copy_to_guest(ufds, fds, (size_t)nfds * sizeof(*fds)))
		count = -EFAULT;
	free(fds);
	return count;
}

/* poll(2) interrupted: without a handler (a stop and SIGCONT, an
 * ignored signal) it resumes through restart_syscall with the same end
 * time, as Linux's do_restart_poll; with one, EINTR. ppoll and select
 * restart with the time left written back instead. */
static long poll_restart(struct restart_block *rb);

static long poll_restartable(gaddr_t ufds, unsigned nfds, struct poll_timeout *t)
{
	long r = do_poll(ufds, nfds, t);
	if (r != -ERESTARTNOHAND)
		return r;
	current->restart = (struct restart_block){
		poll_restart, { (int64_t)ufds, nfds, t->forever ? -1 : t->end.tv_sec, t->end.tv_nsec }
	};
	return -ERESTART_RESTARTBLOCK;
}

static long poll_restart(struct restart_block *rb)
{
	struct poll_timeout t = { .forever = rb->a[2] < 0 };
	if (!t.forever) {
		t.end = (struct timespec){ rb->a[2], rb->a[3] };
		struct timespec left = poll_timeout_left(&t);
		t.zero = !left.tv_sec && !left.tv_nsec; /* the end passed while stopped */
	}
	return poll_restartable((gaddr_t)rb->a[0], (unsigned)rb->a[1], &t);
}

long sys_poll(const struct sysargs *a)
{
	struct poll_timeout t;
	poll_timeout_ms(&t, (int)a->a[2]);
	return poll_restartable(a->a[0], (unsigned)a->a[1], &t);
}

struct ktimespec {
	int64_t tv_sec, tv_nsec;
};

long sys_ppoll(const struct sysargs *a)
{
	gaddr_t uts = a->a[2];
	struct poll_timeout t = { .forever = true };
	struct ktimespec ts;
	uint64_t saved;
	bool masked;
	if (uts) {
		if (copy_from_guest(&ts, uts, sizeof(ts)))
			return -EFAULT;
		if (poll_timeout_set(&t, ts.tv_sec, ts.tv_nsec))
			return -EINVAL;
	}
	long r = poll_sigmask_set(a->a[3], a->a[4], &saved, &masked);
	if (r)
		return r;
	r = do_poll(a->a[0], (unsigned)a->a[1], &t);
	poll_sigmask_restore(saved, masked, r);
	/* The time left goes back (not for a zero timeout); a failed copy
	 * is ignored, like Linux. */
	if (uts && !t.zero) {
		struct timespec left = poll_timeout_left(&t);
		ts = (struct ktimespec){ left.tv_sec, left.tv_nsec };
		copy_to_guest(uts, &ts, sizeof(ts));
	}
	return r;
}
