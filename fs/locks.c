/* Advisory locks (see locks.h). Record locks of one owner never overlap
 * each other (setting a range splits or merges what the owner held, as in
 * Linux); POSIX and OFD locks conflict with each other, flocks only with
 * flocks. A POSIX waiter that would wait on an owner that (transitively)
 * waits on it gets EDEADLK, as Linux detects for POSIX locks. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include "fs/file.h"
#include "fs/locks.h"
#include "kernel/task.h"
#include "kernel/waitq.h"
#include "mm/uaccess.h"

#define OFFSET_MAX INT64_MAX

enum { K_POSIX, K_OFD, K_FLOCK };

struct lockrec {
	struct lockrec *next;
	int kind;
	void *owner;   /* fd table (POSIX) or open file (OFD, flock) */
	int pid;       /* F_GETLK's l_pid: the POSIX owner's process, else -1 */
	short type;    /* F_RDLCK or F_WRLCK */
	off_t start, end; /* inclusive */
};

struct locktab {
	pthread_mutex_t lock;
	struct lockrec *list;
	struct waitq wq;
};

/* Who waits for whom (POSIX owners), for deadlock detection. */
static pthread_mutex_t waiters_lock = PTHREAD_MUTEX_INITIALIZER;
static struct waiter {
	struct waiter *next;
	void *owner, *blocker;
} *waiters;

static struct locktab *table(struct inode *i, bool create)
{
	struct locktab *t = __atomic_load_n((struct locktab **)&i->locks, __ATOMIC_ACQUIRE);
	if (t || !create)
		return t;
	struct locktab *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	pthread_mutex_init(&n->lock, NULL);
	waitq_init(&n->wq);
	struct locktab *expected = NULL;
	if (!__atomic_compare_exchange_n((struct locktab **)&i->locks, &expected, n, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		free(n);
		return expected;
	}
	return n;
}

void locks_free_inode(struct inode *i)
{
	struct locktab *t = i->locks;
	if (!t)
		return;
	while (t->list) {
		struct lockrec *r = t->list;
		t->list = r->next;
		free(r);
	}
	free(t);
}

static bool record(int kind)
{
	return kind != K_FLOCK;
}

static bool conflicts(const struct lockrec *a, const struct lockrec *b)
{
	if (record(a->kind) != record(b->kind))
		return false;
	if (a->owner == b->owner && (a->kind == K_POSIX) == (b->kind == K_POSIX))
		return false;
	if (a->type != F_WRLCK && b->type != F_WRLCK)
		return false;
	return a->start <= b->end && b->start <= a->end;
}

static struct lockrec *first_conflict(struct locktab *t, const struct lockrec *want)
{
	for (struct lockrec *r = t->list; r; r = r->next)
		if (conflicts(r, want))
			return r;
	return NULL;
}

static bool same_owner(const struct lockrec *r, int kind, void *owner)
{
	return r->owner == owner && r->kind == kind;
}

/* Take [start, end] out of owner's locks of this kind (splitting).
 * Returns -ENOMEM only if a split needed memory. */
static int cut(struct locktab *t, int kind, void *owner, off_t start, off_t end)
{
	for (struct lockrec **pp = &t->list; *pp;) {
		struct lockrec *r = *pp;
		if (!same_owner(r, kind, owner) || r->end < start || r->start > end) {
			pp = &r->next;
			continue;
		}
		if (r->start < start && r->end > end) { /* split in two */
			struct lockrec *tail = malloc(sizeof(*tail));
			if (!tail)
				return -ENOMEM;
			*tail = *r;
			tail->start = end + 1;
			r->end = start - 1;
			tail->next = r->next;
			r->next = tail;
			return 0;
		}
		if (r->start < start) {
			r->end = start - 1;
			pp = &r->next;
		} else if (r->end > end) {
			r->start = end + 1;
			pp = &r->next;
		} else {
			*pp = r->next;
			free(r);
		}
	}
	return 0;
}

/* Install want for its owner (after cut), merging with adjacent or
 * overlapping locks of the same type. */
static int install(struct locktab *t, const struct lockrec *want)
{
	int err = cut(t, want->kind, want->owner, want->start, want->end);
	if (err)
		return err;
	struct lockrec *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *want;
	for (struct lockrec **pp = &t->list; *pp;) {
		struct lockrec *r = *pp;
		bool touch = same_owner(r, n->kind, n->owner) && r->type == n->type &&
			(r->end == OFFSET_MAX || r->end + 1 >= n->start) &&
			(n->end == OFFSET_MAX || n->end + 1 >= r->start);
		if (touch) {
			n->start = MIN(n->start, r->start);
			n->end = MAX(n->end, r->end);
			*pp = r->next;
			free(r);
		} else {
			pp = &r->next;
		}
	}
	n->next = t->list;
	t->list = n;
	return 0;
}

static bool would_deadlock(void *owner, void *blocker)
{
	pthread_mutex_lock(&waiters_lock);
	bool dead = false;
	for (int hops = 0; blocker && hops < 1000 && !dead; hops++) {
		if (blocker == owner) {
			dead = true;
			break;
		}
		void *next = NULL;
		for (struct waiter *w = waiters; w; w = w->next)
			if (w->owner == blocker)
				next = w->blocker;
		blocker = next;
	}
	pthread_mutex_unlock(&waiters_lock);
	return dead;
}

static void set_waiting(struct waiter *w, bool on)
{
	pthread_mutex_lock(&waiters_lock);
	if (on) {
		w->next = waiters;
		waiters = w;
	} else {
		for (struct waiter **pp = &waiters; *pp; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				break;
			}
	}
	pthread_mutex_unlock(&waiters_lock);
}

/* Set (or, for F_UNLCK, clear) a lock, waiting if asked to. */
static int set_lock(struct inode *i, struct lockrec *want, bool wait)
{
	struct locktab *t = table(i, want->type != F_UNLCK);
	if (!t)
		return want->type == F_UNLCK ? 0 : -ENOLCK;
	int err = 0;
	struct wait_entry e;
	struct waiter w = { .owner = want->owner };
	bool queued = false;
	pthread_mutex_lock(&t->lock);
	for (;;) {
		if (want->type == F_UNLCK) {
			err = cut(t, want->kind, want->owner, want->start, want->end);
			break;
		}
		struct lockrec *c = first_conflict(t, want);
		if (!c) {
			err = install(t, want);
			break;
		}
		if (!wait) {
			err = want->kind == K_FLOCK ? -EWOULDBLOCK : -EAGAIN;
			break;
		}
		if (want->kind == K_POSIX && c->kind == K_POSIX && would_deadlock(want->owner, c->owner)) {
			err = -EDEADLK;
			break;
		}
		if (!queued) {
			waitq_add(&t->wq, &e);
			queued = true;
		}
		w.blocker = c->owner;
		set_waiting(&w, true);
		uint32_t snap = sleep_prepare();
		pthread_mutex_unlock(&t->lock);
		err = sleep_until(snap, NULL);
		set_waiting(&w, false);
		pthread_mutex_lock(&t->lock);
		if (err == -EINTR) {
			err = -ERESTARTSYS;
			break;
		}
		err = 0;
	}
	pthread_mutex_unlock(&t->lock);
	if (queued)
		waitq_remove(&e);
	if (!err || want->type == F_UNLCK)
		waitq_wake_all(&t->wq);
	return err;
}

/* Remove every lock of (kind, owner) on i. */
static void remove_owner(struct inode *i, int kind, void *owner)
{
	struct locktab *t = table(i, false);
	if (!t)
		return;
	bool any = false;
	pthread_mutex_lock(&t->lock);
	for (struct lockrec **pp = &t->list; *pp;) {
		struct lockrec *r = *pp;
		if (same_owner(r, kind, owner)) {
			*pp = r->next;
			free(r);
			any = true;
		} else {
			pp = &r->next;
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (any)
		waitq_wake_all(&t->wq);
}

void locks_remove_file(struct file *f)
{
	remove_owner(f->inode, K_OFD, f);
	remove_owner(f->inode, K_FLOCK, f);
}

void locks_remove_posix(struct file *f, struct fdtable *owner)
{
	if (f && f->inode)
		remove_owner(f->inode, K_POSIX, owner);
}

/* ---- fcntl and flock ---------------------------------------------------------- */

static off_t file_pos(struct file *f)
{
	return f->ops->llseek ? f->ops->llseek(f, 0, SEEK_CUR) : 0;
}

/* Linux's flock_to_posix_lock(): the range [start, end], or -errno. */
static int range(struct file *f, const struct flock *fl, off_t *start, off_t *end)
{
	off_t base;
	switch (fl->l_whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = file_pos(f); break;
	case SEEK_END: base = file_size(f); break;
	default: return -EINVAL;
	}
	if (base < 0)
		return -EINVAL;
	if (fl->l_start > OFFSET_MAX - base)
		return -EOVERFLOW;
	off_t s = base + fl->l_start;
	if (s < 0)
		return -EINVAL;
	off_t e;
	if (fl->l_len > 0) {
		if (fl->l_len - 1 > OFFSET_MAX - s)
			return -EOVERFLOW;
		e = s + fl->l_len - 1;
	} else if (fl->l_len < 0) {
		e = s - 1;
		s += fl->l_len;
		if (s < 0)
			return -EINVAL;
	} else {
		e = OFFSET_MAX;
	}
	*start = s;
	*end = e;
	return 0;
}

long locks_fcntl(struct file *f, struct fdtable *owner, unsigned cmd, gaddr_t arg)
{
	struct flock fl;
	bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	if (copy_from_guest(&fl, arg, sizeof(fl)))
		return -EFAULT;
	if (!f->inode)
		return -EINVAL;
	if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
		return -EINVAL;
	if (ofd && fl.l_pid != 0)
		return -EINVAL;
	struct lockrec want = {
		.kind = ofd ? K_OFD : K_POSIX,
		.owner = ofd ? (void *)f : (void *)owner,
		.pid = ofd ? -1 : (current ? current->proc->pid : 1),
		.type = fl.l_type,
	};
	int err = range(f, &fl, &want.start, &want.end);
	if (err)
		return err;
	if (get) {
		if (fl.l_type == F_UNLCK)
			return -EINVAL;
		struct locktab *t = table(f->inode, false);
		fl.l_type = F_UNLCK;
		if (t) {
			pthread_mutex_lock(&t->lock);
			struct lockrec *c = first_conflict(t, &want);
			if (c) {
				fl.l_type = c->type;
				fl.l_whence = SEEK_SET;
				fl.l_start = c->start;
				fl.l_len = c->end == OFFSET_MAX ? 0 : c->end - c->start + 1;
				fl.l_pid = c->pid;
			}
			pthread_mutex_unlock(&t->lock);
		}
		return copy_to_guest(arg, &fl, sizeof(fl));
	}
	int acc = f->flags & O_ACCMODE;
	if ((fl.l_type == F_RDLCK && acc != O_RDONLY && acc != O_RDWR) ||
	    (fl.l_type == F_WRLCK && acc != O_WRONLY && acc != O_RDWR))
		return -EBADF;
	return set_lock(f->inode, &want, cmd == F_SETLKW || cmd == F_OFD_SETLKW);
}

long locks_flock(struct file *f, unsigned op)
{
	if (op & 32) /* LOCK_MAND: gone from Linux, which accepts and ignores it */
		return 0;
	bool nb = op & LOCK_NB;
	op &= ~LOCK_NB;
	short type;
	switch (op) {
	case LOCK_SH: type = F_RDLCK; break;
	case LOCK_EX: type = F_WRLCK; break;
	case LOCK_UN: type = F_UNLCK; break;
	default: return -EINVAL;
	}
	if (!f->inode)
		return -EINVAL;
	if (type != F_UNLCK && (f->flags & O_ACCMODE) == 3)
		return -EBADF;
	struct lockrec want = { .kind = K_FLOCK, .owner = f, .pid = -1, .type = type,
				.start = 0, .end = OFFSET_MAX };
	/* A conversion drops the old lock first (Linux's flock_lock_inode). */
	if (type != F_UNLCK) {
		struct lockrec un = want;
		un.type = F_UNLCK;
		struct locktab *t = table(f->inode, false);
		bool had = false, same = false;
		if (t) {
			pthread_mutex_lock(&t->lock);
			for (struct lockrec *r = t->list; r; r = r->next)
				if (same_owner(r, K_FLOCK, f)) {
					had = true;
					same = r->type == type;
				}
			pthread_mutex_unlock(&t->lock);
		}
		if (same)
			return 0;
		if (had)
			set_lock(f->inode, &un, false);
	}
	return set_lock(f->inode, &want, !nb);
}
